-- E-mail that comes back: department heads' answers to a project call, auto-replies and
-- delivery status notifications. Every message is stored raw before anything else is done
-- with it, and processed once: dedupe_key is its Message-ID, else a hash of its bytes.
CREATE TABLE inbound_messages (
  id            bigserial   PRIMARY KEY,
  dedupe_key    text        NOT NULL UNIQUE,
  -- smtp: the built-in receiver; imap: a polled mailbox; file: `crier inbound`
  channel       text        NOT NULL CHECK (channel IN ('smtp', 'imap', 'file')),
  raw           bytea       NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  from_address  text,
  subject       text,
  -- null until processed. answer: a verified answer; unverified: matched a head, sent by
  -- someone else; unmatched: no token nor thread; auto-reply; bounce; error: could not be read
  kind          text CHECK (kind IN ('answer', 'unverified', 'unmatched', 'auto-reply', 'bounce', 'error')),
  processed_at  timestamptz,
  -- What it answers: the round (schedule, occurrence of the call) and the head it was sent to.
  schedule_id   text,
  occurrence    timestamptz,
  head_email    text,
  delivery_id   bigint REFERENCES deliveries (id) ON DELETE SET NULL,
  -- When the head answered (the Date header when it is plausible, else the receipt), and whether after the deadline.
  answered_at   timestamptz,
  late          boolean NOT NULL DEFAULT false,
  -- The answer as written (quotes and signature removed), and its items [{title, description}].
  text          text,
  items         jsonb,
  error         text
);
CREATE INDEX inbound_messages_round_idx ON inbound_messages (schedule_id, occurrence);
CREATE INDEX inbound_messages_unprocessed_idx ON inbound_messages (id) WHERE processed_at IS NULL;

-- A delivery status notification for a sent message: the address does not take mail.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'bounced'));
CREATE INDEX deliveries_message_id_idx ON deliveries (message_id) WHERE message_id IS NOT NULL;

-- An acknowledgement of an answer is a run of the project-call schedule, made by the reply.
ALTER TABLE runs DROP CONSTRAINT runs_origin_check;
ALTER TABLE runs ADD CONSTRAINT runs_origin_check CHECK (origin IN ('schedule', 'catch-up', 'manual', 'reply'));
