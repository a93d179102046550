-- The ledger: Postgres is the source of truth for what is due and what was sent; Redis only
-- carries the work. The unique keys are the exactly-once guarantees.

-- One row per schedule occurrence, however many ticks, workers or restarts see it.
CREATE TABLE runs (
  id            bigserial PRIMARY KEY,
  schedule_id   text        NOT NULL,
  occurrence    timestamptz NOT NULL,
  job           text        NOT NULL,
  timezone      text        NOT NULL,
  -- schedule: found due by a tick; catch-up: found late, within catchUp; manual: `crier run`
  origin        text        NOT NULL CHECK (origin IN ('schedule', 'catch-up', 'manual')),
  -- due: to fan out; fanned-out: deliveries created; done: every delivery settled;
  -- missed: found later than catchUp allows, not sent; failed: could not be prepared
  status        text        NOT NULL CHECK (status IN ('due', 'fanned-out', 'done', 'missed', 'failed')),
  period_start  timestamptz,
  period_end    timestamptz,
  -- The platform data every recipient's e-mail is rendered from, read once per run.
  data          jsonb,
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (schedule_id, occurrence)
);
CREATE INDEX runs_status_idx ON runs (status) WHERE status IN ('due', 'fanned-out');

-- One row per recipient of a run: claimed (pending → sending) before the send, sent after.
CREATE TABLE deliveries (
  id          bigserial PRIMARY KEY,
  run_id      bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  email       text        NOT NULL CHECK (email = lower(email)),
  name        text        NOT NULL,
  locale      text        NOT NULL,
  -- pending: to send (again, after a temporary failure); sending: claimed, outcome unknown
  -- until marked (a crash here is reported, never resent); sent; failed; skipped (reason says why)
  status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
  reason      text,
  attempts    integer     NOT NULL DEFAULT 0,
  message_id  text,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  claimed_at  timestamptz,
  sent_at     timestamptz,
  UNIQUE (run_id, email)
);
CREATE INDEX deliveries_open_idx ON deliveries (status) WHERE status IN ('pending', 'sending');

-- How far each schedule has been checked for due occurrences: what lets a restarted worker
-- find what it missed, and tell "late but within catchUp" from "missed".
CREATE TABLE schedule_state (
  schedule_id    text        PRIMARY KEY,
  watched_since  timestamptz NOT NULL,
  checked_until  timestamptz NOT NULL
);
