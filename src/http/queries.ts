/*
 * The queries of the web endpoint (/metrics, /readyz and the dashboard) against Crier's own
 * ledger (unqualified table names: the pool's search_path is the ledger schema), one named
 * constant each, beside those of src/ledger/queries.ts that it reuses through the Ledger.
 */

/** The ledger answers. */
export const LEDGER_ANSWERS = `SELECT 1 AS ok`;

/** Runs by schedule, job kind and status, for /metrics. */
export const RUN_COUNTS = `
  SELECT schedule_id, job, status, count(*)::int AS n FROM runs GROUP BY schedule_id, job, status`;

/** Deliveries by their run's schedule and job kind, and their status, for /metrics. */
export const DELIVERY_COUNTS = `
  SELECT r.schedule_id, r.job, d.status, count(*)::int AS n
    FROM deliveries d JOIN runs r ON r.id = d.run_id
   GROUP BY r.schedule_id, r.job, d.status`;

/** Inbound messages (replies, auto-replies, bounces) by kind; not yet processed ones have none. */
export const INBOUND_COUNTS = `
  SELECT coalesce(kind, 'unprocessed') AS kind, count(*)::int AS n FROM inbound_messages GROUP BY 1`;

/**
 * A page of run $1's deliveries, after id $3, of status $2 (null: any), $4 at most: what the
 * dashboard lists under a run (a run may have 100,000).
 */
export const DELIVERIES_PAGE = `
  SELECT id, run_id, email, name, locale, status, reason, attempts, message_id, last_error, smtp_reply, sent_at, updated_at
    FROM deliveries
   WHERE run_id = $1 AND ($2::text IS NULL OR status = $2) AND id > $3
   ORDER BY id LIMIT $4`;

/** Run $1's deliveries that need a person: failed, bounced, or outcome unknown (with the SMTP reply). */
export const RUN_PROBLEMS = `
  SELECT id, run_id, email, name, locale, status, reason, attempts, message_id, last_error, smtp_reply, sent_at, updated_at
    FROM deliveries
   WHERE run_id = $1 AND status IN ('failed', 'unknown', 'bounced')
   ORDER BY id LIMIT $2`;

/** One delivery of run $1, by id $2 (everything its e-mail is composed from). */
export const DELIVERY_OF_RUN = `SELECT * FROM deliveries WHERE run_id = $1 AND id = $2`;
