/*
 * Every query on inbound mail, one named constant each, against Crier's own tables
 * (migrations/003_inbound_messages.sql), run on the ledger's connection.
 */

/** Stores a received message once: nothing when its dedupe key is known already. */
export const INSERT_MESSAGE = `
  INSERT INTO inbound_messages (dedupe_key, channel, raw, received_at, from_address, subject)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id`;

export const MESSAGE_BY_KEY = `SELECT id, kind, processed_at FROM inbound_messages WHERE dedupe_key = $1`;

export const MESSAGE_BY_ID = `SELECT id, kind, processed_at FROM inbound_messages WHERE id = $1`;

export const MESSAGE_RAW = `SELECT id, raw, received_at FROM inbound_messages WHERE id = $1`;

/** Messages stored but not processed (a crash between the two, or a reader that failed). */
export const UNPROCESSED = `SELECT id FROM inbound_messages WHERE processed_at IS NULL ORDER BY id`;

/** What processing found; once only. */
export const RECORD_RESULT = `
  UPDATE inbound_messages
     SET kind = $2, processed_at = now(), schedule_id = $3, occurrence = $4, head_email = $5, delivery_id = $6,
         answered_at = $7, late = $8, text = $9, items = $10, error = $11
   WHERE id = $1 AND processed_at IS NULL
  RETURNING id`;

/** A sent delivery with its run: what a reply token or a thread header points at. */
const DELIVERY_WITH_RUN = `
  SELECT d.id, d.email, d.name, d.locale, d.message_id, d.status, r.id AS run_id, r.schedule_id, r.occurrence, r.variant, r.job, r.timezone
    FROM deliveries d JOIN runs r ON r.id = d.run_id`;

export const DELIVERY_BY_ID = `${DELIVERY_WITH_RUN} WHERE d.id = $1`;

/** The deliveries whose Message-ID is among $1 (In-Reply-To and References, nearest first): what a bounce reports on. */
export const DELIVERIES_BY_MESSAGE_ID = `${DELIVERY_WITH_RUN} WHERE d.message_id = ANY($1::text[]) ORDER BY array_position($1::text[], d.message_id)`;

/** The same, among the sends a reply can answer: a project call and its reminders, a review round. */
export const CALL_DELIVERIES_BY_MESSAGE_ID = `${DELIVERY_WITH_RUN}
   WHERE d.message_id = ANY($1::text[]) AND ((r.job = 'project-call' AND (r.variant = 'call' OR r.variant LIKE 'reminder-%')) OR r.variant = 'review')
   ORDER BY array_position($1::text[], d.message_id)`;

/** Claims a stored message for processing: nothing when another processor has it or it is done. */
export const CLAIM_MESSAGE = `SELECT id FROM inbound_messages WHERE id = $1 AND processed_at IS NULL FOR UPDATE SKIP LOCKED`;


/**
 * A failed delivery status notification: the delivery bounced, even when it was settled as sent
 * (or its outcome was unknown: a report proves the server had it). Once: a bounced one stays as it is.
 */
export const MARK_BOUNCED = `
  UPDATE deliveries SET status = 'bounced', last_error = $2, claimed_by = NULL, lease_until = NULL, updated_at = now()
   WHERE id = $1 AND status IN ('sent', 'sending', 'unknown')`;

/** The call of a round: the project-call run of variant 'call' for (schedule, occurrence). */
export const CALL_RUN = `SELECT id, meta, occurrence, job, timezone, status FROM runs WHERE schedule_id = $1 AND occurrence = $2 AND variant = 'call'`;

/** The latest round that went out, of the schedules $1 (null: any). */
export const LATEST_ROUND = `
  SELECT schedule_id, occurrence FROM runs
   WHERE variant = 'call' AND status IN ('fanned-out', 'done', 'paused') AND ($1::text[] IS NULL OR schedule_id = ANY($1::text[]))
   ORDER BY occurrence DESC, id DESC LIMIT 1`;

/** Who a round's call went to. */
export const ROUND_HEADS = `
  SELECT d.id, d.email, d.name, d.locale, d.scope, d.message_id, d.status
    FROM deliveries d JOIN runs r ON r.id = d.run_id
   WHERE r.schedule_id = $1 AND r.occurrence = $2 AND r.variant = 'call' AND d.status <> 'skipped'
   ORDER BY d.email`;

/** Every processed message matched to a round, oldest first. */
export const ROUND_MESSAGES = `
  SELECT id, kind, head_email, from_address, subject, answered_at, received_at, late, text, items
    FROM inbound_messages
   WHERE schedule_id = $1 AND occurrence = $2 AND processed_at IS NOT NULL
   ORDER BY answered_at NULLS LAST, id`;

/** Replies matched to nothing, received in [$1, $2). */
export const UNMATCHED_BETWEEN = `
  SELECT id, from_address, subject, received_at FROM inbound_messages
   WHERE kind = 'unmatched' AND received_at >= $1 AND received_at < $2
   ORDER BY received_at, id`;

/** One processed answer, for its acknowledgement. */
export const ANSWER_BY_ID = `
  SELECT id, kind, head_email, from_address, answered_at, late, text, items, schedule_id, occurrence FROM inbound_messages WHERE id = $1`;

/** Late answers (verified) received in [$1, $2), of any round: for the steering agenda. */
export const LATE_ANSWERS_BETWEEN = `
  SELECT id, schedule_id, occurrence, head_email, from_address, answered_at, text, items FROM inbound_messages
   WHERE kind = 'answer' AND late AND received_at >= $1 AND received_at < $2
   ORDER BY answered_at, id`;
