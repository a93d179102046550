-- A review round before a schedule's send (config `review:`): the reviewers get the draft and
-- decide by replying. One row per reviewed send, written when the round is fanned out, so the
-- send can find what was asked of whom, by when, and what applies without a decision.
CREATE TABLE reviews (
  id                bigserial   PRIMARY KEY,
  schedule_id       text        NOT NULL,
  -- The run key of the reviewed send (the run itself exists only once it is due).
  send_key          text        NOT NULL,
  occurrence        timestamptz NOT NULL,
  -- The review round's own run: its deliveries are the drafts sent, their ids the reply tokens.
  run_id            bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  deadline          timestamptz NOT NULL,
  default_decision  text        NOT NULL CHECK (default_decision IN ('send', 'hold')),
  -- [{email, name, locale}]: who was asked (a reviewer skipped, e.g. suppressed, was not).
  reviewers         jsonb       NOT NULL,
  -- [{id, title}] in the numbering the reviewers saw.
  items             jsonb       NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (schedule_id, send_key)
);
