/*
 * Every query Crier runs against its own ledger, one named constant each. The pool's
 * search_path is the ledger schema, so table names are unqualified.
 */

/**
 * Creates a run unless the (schedule, occurrence) exists. No row back means it exists; read it
 * with RUN_BY_OCCURRENCE in a new statement: one that races this insert committed after this
 * statement's snapshot, so a SELECT inside the same statement would not see it.
 */
export const INSERT_RUN = `
  INSERT INTO runs (schedule_id, run_key, occurrence, job, timezone, origin, status, variant, meta)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (schedule_id, run_key) DO NOTHING
  RETURNING *`;

export const RUN_BY_ID = `SELECT * FROM runs WHERE id = $1`;

export const RUN_BY_KEY = `SELECT * FROM runs WHERE schedule_id = $1 AND run_key = $2`;

/** Runs still to fan out (a crash or a lost queue job leaves them here; the tick retries). */
export const DUE_RUNS = `SELECT id FROM runs WHERE status = 'due' ORDER BY occurrence, id`;

/** Stores the run's data once: the first fan-out wins, so every recipient sees the same figures. */
export const SET_RUN_SNAPSHOT = `
  UPDATE runs SET data = $2, period_start = $3, period_end = $4, updated_at = now()
   WHERE id = $1 AND data IS NULL`;

export const SET_RUN_STATUS = `
  UPDATE runs SET status = $2, error = $3, updated_at = now() WHERE id = $1 AND status = ANY($4::text[])`;

/** A run is done once none of its deliveries is pending or sending (unknown and failed ones are its problems). */
export const COMPLETE_RUN_IF_SETTLED = `
  UPDATE runs SET status = 'done', updated_at = now()
   WHERE id = $1 AND status = 'fanned-out'
     AND NOT EXISTS (SELECT 1 FROM deliveries WHERE run_id = $1 AND status IN ('pending', 'sending'))`;

/** One row per recipient; an existing (run, email) is left as it is. Arrays are parallel. */
export const INSERT_DELIVERIES = `
  INSERT INTO deliveries (run_id, email, name, locale, status, reason, user_id, scope, variant)
  SELECT $1, e, n, l, s, r, u, sc, v
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[]) AS t(e, n, l, s, r, u, sc, v)
  ON CONFLICT (run_id, email) DO NOTHING`;

export const DELIVERIES_OF_RUN = `SELECT * FROM deliveries WHERE run_id = $1 ORDER BY id`;

export const DELIVERY_RUN = `SELECT run_id, status FROM deliveries WHERE id = $1`;

/** The pending deliveries of a run, in pages of $3 after id $2 (what a fan-out queues). */
export const PENDING_OF_RUN = `
  SELECT id, run_id FROM deliveries WHERE run_id = $1 AND status = 'pending' AND id > $2 ORDER BY id LIMIT $3`;

/** Deliveries of a run still being worked: pending, or sending under a live lease. */
export const IN_FLIGHT = `
  SELECT count(*)::int AS n FROM deliveries WHERE run_id = $1 AND status IN ('pending', 'sending')`;

/** The send's outcome is unknown (handed over, no answer): never resent without a person. */
export const MARK_UNKNOWN = `
  UPDATE deliveries SET status = 'unknown', last_error = $2, claimed_by = NULL, lease_until = NULL, updated_at = now()
   WHERE id = $1 AND status = 'sending' AND claimed_by = $3`;

/** Recorded just before SMTP's final dot: from here a crash leaves the outcome unknown. */
export const MARK_HANDED = `
  UPDATE deliveries SET handed_at = now(), updated_at = now() WHERE id = $1 AND status = 'sending' AND claimed_by = $2
  RETURNING id`;

export const REGISTER_WORKER = `
  INSERT INTO workers (id, host, pid) VALUES ($1, $2, $3)
  ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL`;

/** A worker is alive: its own row, and the leases of the deliveries it holds ($2 seconds). */
export const HEARTBEAT = `
  WITH w AS (UPDATE workers SET heartbeat_at = now() WHERE id = $1)
  UPDATE deliveries SET lease_until = now() + make_interval(secs => $2) WHERE claimed_by = $1 AND status = 'sending'`;

export const STOP_WORKER = `UPDATE workers SET stopped_at = now() WHERE id = $1`;

/**
 * Deliveries whose worker is gone (lease run out), or that a stopping worker $1 lets go:
 * never handed over → pending again (safe: the server cannot have it); handed over → unknown.
 */
export const RELEASE_DELIVERIES = `
  UPDATE deliveries
     SET status = CASE WHEN handed_at IS NULL THEN 'pending' ELSE 'unknown' END,
         last_error = CASE WHEN handed_at IS NULL
           THEN 'its worker stopped before handing the message to the SMTP server; sent again'
           ELSE 'its worker stopped after handing the message to the SMTP server and before its answer: it may or may not have arrived; crier retry RUN --unknown sends it again' END,
         claimed_by = NULL, lease_until = NULL, updated_at = now()
   WHERE status = 'sending'
     AND (claimed_by = $1 OR lease_until < now() OR (lease_until IS NULL AND claimed_at < now() - interval '10 minutes'))
  RETURNING id, run_id, status`;

/** In the same statement as what it re-queues (a CTE `again`): a crash cannot leave pending rows on a done run. */
const REOPEN_IF_ANY = `UPDATE runs SET status = 'fanned-out', updated_at = now() WHERE id = $1 AND status = 'done' AND EXISTS (SELECT 1 FROM again)`;

/** A person decides to send unknown deliveries of run $1 again. */
export const RETRY_UNKNOWN = `
  WITH again AS (
    UPDATE deliveries SET status = 'pending', attempts = 0, last_error = 'sent again on request (its outcome was unknown)', handed_at = NULL, updated_at = now()
     WHERE run_id = $1 AND status = 'unknown'
    RETURNING id
  ), reopened AS (${REOPEN_IF_ANY})
  SELECT id FROM again`;


/** Completes every fanned-out run none of whose deliveries is open (the tick's sweep). */
export const COMPLETE_SETTLED_RUNS = `
  UPDATE runs r SET status = 'done', updated_at = now()
   WHERE r.status = 'fanned-out'
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = r.id AND d.status IN ('pending', 'sending'))`;

/**
 * Deliveries to (re)queue: pending ones of runs whose fan-out finished, due now (a retry waiting
 * for its backoff is not), a page at a time after id $1.
 */
export const PENDING_DELIVERIES = `
  SELECT d.id, d.run_id FROM deliveries d JOIN runs r ON r.id = d.run_id
   WHERE d.status = 'pending' AND r.status = 'fanned-out' AND (d.retry_at IS NULL OR d.retry_at <= now()) AND d.id > $1
   ORDER BY d.id LIMIT $2`;

/**
 * Claims deliveries ($1, ids; one or a page of one run's) for sending, in one statement: no row
 * back for one means another worker has it, it is settled, its retry is not due yet, or its run
 * is paused (mail.pauseAt: it waits for `crier resume`). The previous attempt's error is
 * cleared: on a `sending` row an error means "outcome unknown".
 */
export const CLAIM_DELIVERIES = `
  UPDATE deliveries SET status = 'sending', attempts = attempts + 1, claimed_at = now(), last_error = NULL, updated_at = now(),
         claimed_by = $2, lease_until = now() + make_interval(secs => $3), handed_at = NULL, retry_at = NULL
   WHERE id = ANY($1::bigint[]) AND status = 'pending' AND (retry_at IS NULL OR retry_at <= now())
     AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = deliveries.run_id AND r.status = 'paused')
  RETURNING id, run_id, email, name, locale, user_id, scope, variant, attempts`;

/**
 * Sent, by the worker that holds it; or a late answer for one whose lease ran out after the
 * hand-over (unknown until now: the server's answer settles it). In the same round trip the run
 * is done when nothing else of it is open. This statement cannot see a send committing beside
 * it, so at a run's tail (nothing pending, others sending) it answers `settle_again`: the caller
 * settles once more after its commit (COMPLETE_RUN_IF_SETTLED), and of the last sends finishing
 * at once, the one settling last sees them all. (The tick's sweep settles any run left over.)
 */
export const MARK_SENT = `
  WITH sent AS (
    UPDATE deliveries SET status = 'sent', message_id = $2, sent_at = now(), last_error = NULL, claimed_by = NULL, lease_until = NULL, updated_at = now()
     WHERE id = $1 AND ((status = 'sending' AND claimed_by = $3) OR status = 'unknown')
    RETURNING run_id),
  open AS (
    SELECT EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = (SELECT run_id FROM sent) AND d.status = 'pending') AS pending,
           EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = (SELECT run_id FROM sent) AND d.status = 'sending' AND d.id <> $1) AS sending),
  done AS (
    UPDATE runs SET status = 'done', updated_at = now()
     WHERE id = (SELECT run_id FROM sent) AND status = 'fanned-out' AND NOT (SELECT pending OR sending FROM open)
    RETURNING id)
  SELECT (SELECT NOT pending AND sending FROM open) AS settle_again, EXISTS (SELECT 1 FROM done) AS done`;

/**
 * Back to pending after a temporary failure (MARK_RETRY), or failed (MARK_FAILED), by the
 * worker that holds it: a worker whose lease ran out (it stalled) must not change a row another
 * worker may hold now. The error and the SMTP server's reply ($4) are kept for `crier status`.
 */
export const MARK_RETRY = `
  UPDATE deliveries SET status = 'pending', last_error = $2, smtp_reply = $4, claimed_by = NULL, lease_until = NULL, updated_at = now(),
         retry_at = now() + make_interval(secs => $5)
   WHERE id = $1 AND status = 'sending' AND claimed_by = $3`;

export const MARK_FAILED = `
  UPDATE deliveries SET status = 'failed', last_error = $2, smtp_reply = $4, claimed_by = NULL, lease_until = NULL, updated_at = now()
   WHERE id = $1 AND status = 'sending' AND claimed_by = $3`;

export const DELIVERY_COUNTS_OF_RUN = `
  SELECT status, count(*)::int AS n FROM deliveries WHERE run_id = $1 GROUP BY status`;

/**
 * How far each schedule ($1) has been checked: one read for all of a deployment's schedules
 * (the tick of a deployment of many tenants makes one per tenant; a write would wait for the
 * disk each time).
 */
export const SCHEDULE_STATES = `SELECT schedule_id, watched_since, checked_until FROM schedule_state WHERE schedule_id = ANY($1::text[])`;

/** Schedules seen for the first time ($1), each watched from its $2 on; the rest are left as they are. */
export const INIT_SCHEDULE_STATES = `
  INSERT INTO schedule_state (schedule_id, watched_since, checked_until)
  SELECT schedule_id, since, since FROM unnest($1::text[], $2::timestamptz[]) AS w (schedule_id, since)
  ON CONFLICT (schedule_id) DO NOTHING`;

/**
 * Moves each schedule's ($1) checked mark forward to $2, only forward (two ticks at once never
 * move it back). Committed without waiting for the disk (synchronous_commit off, this statement
 * only): a mark lost to a crash of Postgres makes the next tick check those minutes again, which
 * records nothing twice (a run is unique per schedule and key); waiting for the flush every
 * minute for every tenant was most of a deployment of many's tick.
 */
export const ADVANCE_SCHEDULE_STATES = `
  UPDATE schedule_state s SET checked_until = GREATEST(s.checked_until, a.until)
    FROM unnest($1::text[], $2::timestamptz[]) AS a (schedule_id, until),
         (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed
   WHERE s.schedule_id = a.schedule_id`;

export const RECENT_RUNS = `
  SELECT r.id, r.schedule_id, r.run_key, r.variant, r.occurrence, r.job, r.origin, r.status, r.error, r.created_at,
         count(d.id) FILTER (WHERE d.status = 'sent')::int    AS sent,
         count(d.id) FILTER (WHERE d.status = 'skipped')::int AS skipped,
         count(d.id) FILTER (WHERE d.status = 'failed')::int  AS failed,
         count(d.id) FILTER (WHERE d.status = 'pending')::int AS pending,
         count(d.id) FILTER (WHERE d.status = 'sending')::int AS sending,
         count(d.id) FILTER (WHERE d.status = 'unknown')::int AS unknown
    FROM runs r LEFT JOIN deliveries d ON d.run_id = r.id
   GROUP BY r.id
   ORDER BY r.occurrence DESC, r.id DESC
   LIMIT $1`;

export const DELIVERY_TOTALS = `SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`;

/** Runs waiting for `crier resume`, however old. */
export const PAUSED_RUNS = `SELECT id, schedule_id, occurrence, error, updated_at FROM runs WHERE status = 'paused' ORDER BY updated_at`;

/** Deliveries that need a person's attention: failed, bounced, or outcome unknown. */
export const PROBLEM_DELIVERIES = `
  SELECT d.id, d.run_id, r.schedule_id, r.occurrence, d.email, d.status, d.attempts, d.last_error, d.smtp_reply, d.updated_at
    FROM deliveries d JOIN runs r ON r.id = d.run_id
   WHERE d.status IN ('failed', 'unknown', 'bounced')
   ORDER BY d.updated_at DESC LIMIT 50`;

/** Skipped deliveries of recent runs, with why: what `crier status` shows under "skipped". */
export const SKIPPED_DELIVERIES = `
  SELECT d.run_id, r.schedule_id, d.email, d.reason
    FROM deliveries d JOIN runs r ON r.id = d.run_id
   WHERE d.status = 'skipped' AND d.run_id = ANY($1::bigint[])
   ORDER BY d.run_id DESC, d.email`;

/** Is a run of schedule $1 whose key starts with $2 recorded and still to be fanned out? */
export const DUE_RUN_WITH_KEY_PREFIX = `
  SELECT EXISTS (SELECT 1 FROM runs WHERE schedule_id = $1 AND starts_with(run_key, $2) AND status = 'due') AS due`;

/** Has schedule $1 sent (fanned out) a run whose key starts with $2? */
export const SENT_RUN_WITH_KEY_PREFIX = `
  SELECT EXISTS (
    SELECT 1 FROM runs
     WHERE schedule_id = $1 AND starts_with(run_key, $2) AND status IN ('fanned-out', 'done', 'paused')
  ) AS sent`;

/** A suppression `s` that stops e-mail of schedule `schedule` (job kind `job`) to `s.email`. */
const STOPS = (schedule: string, job: string) => `(s.scope = 'all' OR (s.scope = 'schedule' AND s.target = ${schedule}) OR (s.scope = 'job' AND s.target = ${job}))`;

/** The address of delivery `d` of run `r` is suppressed for that run's schedule. */
const DELIVERY_SUPPRESSED = `EXISTS (SELECT 1 FROM suppressions s WHERE s.email = d.email AND ${STOPS('r.schedule_id', 'r.job')})`;

/** Suppresses an address (scope all | schedule | job); an existing suppression is kept as it is. */
export const INSERT_SUPPRESSION = `
  INSERT INTO suppressions (email, scope, target, reason, detail, delivery_id)
  VALUES (lower($1), $2, $3, $4, $5, $6)
  ON CONFLICT (email, scope, target) DO NOTHING
  RETURNING id`;

/** Is this exact unsubscribe recorded? (Not a bounce: the page offers to undo only what it did.) */
export const HAS_UNSUBSCRIBE = `
  SELECT 1 FROM suppressions WHERE email = lower($1) AND scope = $2 AND target = $3 AND reason = 'unsubscribed'`;

export const SUPPRESSION_COUNT = `SELECT count(*)::int AS n FROM suppressions`;

/** Every suppression, newest first: what `crier suppressions` lists. */
export const SUPPRESSIONS = `
  SELECT email, scope, target, reason, detail, delivery_id, created_at FROM suppressions ORDER BY created_at DESC, id DESC`;

/** What stops e-mail of schedule $2 (job kind $3) to each of the addresses $1. */
export const SUPPRESSIONS_FOR = `
  SELECT s.email, s.scope, s.target, s.reason, s.detail, s.created_at FROM suppressions s
   WHERE s.email = ANY($1::text[]) AND ${STOPS('$2', '$3')}
   ORDER BY (s.scope = 'all') DESC, s.created_at`;

/** A person lifts every suppression of an address (or only those of scope $2 and target $3). */
export const DELETE_SUPPRESSIONS = `
  DELETE FROM suppressions
   WHERE email = lower($1) AND ($2::text IS NULL OR (scope = $2 AND target = $3 AND reason = 'unsubscribed'))
  RETURNING email, scope, target, reason`;

/**
 * Claimed deliveries ($1, ids) that were not handed over go back to pending without counting an
 * attempt: sending is paused (the SMTP server refused Crier's login or TLS), their run paused,
 * or their worker stops before their turn. They wait; they are not burned.
 */
export const MARK_HELD = `
  UPDATE deliveries SET status = 'pending', attempts = greatest(attempts - 1, 0), last_error = $2, smtp_reply = $4, claimed_by = NULL, lease_until = NULL, updated_at = now()
   WHERE id = ANY($1::bigint[]) AND status = 'sending' AND claimed_by = $3 AND handed_at IS NULL`;

/**
 * Pauses run $1 when, among its deliveries settled since it was last resumed, at least $3
 * were tried and the share that failed permanently (5xx) reaches $2, while some still wait (pending,
 * or claimed by a page and not handed over yet)
 * (a run with nothing left to send just ends, its failures listed). A row back: this call paused it.
 */
export const PAUSE_RUN_IF_FAILING = `
  WITH tried AS (
    SELECT count(*) FILTER (WHERE d.status IN ('sent', 'failed', 'bounced', 'unknown'))::int AS tried,
           count(*) FILTER (WHERE d.status = 'failed' AND d.smtp_reply ~ '^5')::int AS permanent
      FROM deliveries d JOIN runs r ON r.id = d.run_id
     WHERE d.run_id = $1 AND d.updated_at > coalesce(r.resumed_at, '-infinity')
  )
  UPDATE runs SET status = 'paused', error = format('paused: %s of %s sends failed permanently (mail.pauseAt %s%%); crier resume %s continues it', tried.permanent, tried.tried, round($2::float8 * 100), id), updated_at = now()
    FROM tried
   WHERE id = $1 AND status = 'fanned-out' AND tried.tried >= $3::int AND tried.permanent >= $2::float8 * tried.tried
     AND EXISTS (SELECT 1 FROM deliveries WHERE run_id = $1 AND (status = 'pending' OR (status = 'sending' AND handed_at IS NULL)))
  RETURNING id, schedule_id, error, tried.tried, tried.permanent`;

/** The superadmin is told of a pause once: a row back means this call is the one to tell. */
export const MARK_RUN_ALERTED = `
  UPDATE runs SET alerted_at = now() WHERE id = $1 AND status = 'paused' AND alerted_at IS NULL RETURNING id`;

/** `crier resume RUN`: a paused run continues; failures before now no longer count towards a pause. */
export const RESUME_RUN = `
  UPDATE runs SET status = 'fanned-out', error = NULL, resumed_at = now(), alerted_at = NULL, updated_at = now()
   WHERE id = $1 AND status = 'paused'
  RETURNING id`;

/**
 * `crier retry RUN`: its failed deliveries go back to pending, except addresses now suppressed
 * (those stay failed: a person lifts the suppression first).
 */
export const RETRY_FAILED = `
  WITH again AS (
    UPDATE deliveries d SET status = 'pending', attempts = 0, last_error = 'sent again on request (it had failed)', handed_at = NULL, updated_at = now()
      FROM runs r
     WHERE d.run_id = $1 AND r.id = d.run_id AND d.status = 'failed' AND NOT ${DELIVERY_SUPPRESSED}
    RETURNING d.id
  ), reopened AS (${REOPEN_IF_ANY})
  SELECT id FROM again`;

/** Failed deliveries of run $1 that stay failed because their address is suppressed. */
export const SUPPRESSED_FAILED = `
  SELECT d.email FROM deliveries d JOIN runs r ON r.id = d.run_id
   WHERE d.run_id = $1 AND d.status = 'failed' AND ${DELIVERY_SUPPRESSED}`;

/**
 * Records a review round once it is fanned out: its reviewers are the run's deliveries that
 * were not skipped. A round fanned out again (a retry) keeps its first record.
 */
export const INSERT_REVIEW = `
  INSERT INTO reviews (schedule_id, send_key, occurrence, run_id, deadline, default_decision, reviewers, items)
  SELECT r.schedule_id, $2, r.occurrence, r.id, $3, $4,
         coalesce((SELECT jsonb_agg(jsonb_build_object('email', d.email, 'name', d.name, 'locale', d.locale) ORDER BY d.id)
                     FROM deliveries d WHERE d.run_id = r.id AND d.status <> 'skipped'), '[]'::jsonb),
         $5
    FROM runs r WHERE r.id = $1
  ON CONFLICT (schedule_id, send_key) DO NOTHING`;

/** The review of one send of a schedule, by the send's run key. */
export const REVIEW_OF_SEND = `SELECT * FROM reviews WHERE schedule_id = $1 AND send_key = $2`;

/** The review a round's run recorded, locked: replies to one review are decided one at a time. */
export const REVIEW_OF_RUN_FOR_UPDATE = `SELECT * FROM reviews WHERE run_id = $1 FOR UPDATE`;

/** The decision that applies to a review, if one was taken, with who took it. */
export const EFFECTIVE_DECISION = `SELECT * FROM review_decisions WHERE review_id = $1 AND effective`;

/** Keeps a reply to a review with what was read in it and what became of it. */
export const INSERT_REVIEW_DECISION = `
  INSERT INTO review_decisions (review_id, inbound_id, from_address, verified, action, leave_out, note, reason, problem, outcome, effective, received_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  RETURNING id`;

/** The review round's snapshot: the send carries it, with the decision applied. */
export const RUN_DATA = `SELECT data FROM runs WHERE id = $1`;

/** A held send made due again on a person's request, marked so its fan-out sends it anyway. */
export const FORCE_HELD_RUN = `
  UPDATE runs SET status = 'due', error = NULL, meta = meta || '{"force": true}'::jsonb, updated_at = now()
   WHERE id = $1 AND status = 'held'
  RETURNING id`;

/** The latest review round that went out, of the schedules $1. */
export const LATEST_REVIEW = `SELECT * FROM reviews WHERE schedule_id = ANY($1::text[]) ORDER BY occurrence DESC, id DESC LIMIT 1`;

/** Every reply to a review, with the message it came from, in the order they arrived. */
export const REVIEW_DECISIONS = `
  SELECT d.*, m.subject, m.text
    FROM review_decisions d JOIN inbound_messages m ON m.id = d.inbound_id
   WHERE d.review_id = $1
   ORDER BY d.received_at, d.id`;
