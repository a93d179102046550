-- Replies to a review round: every one kept with the message it came from, what Crier read in
-- it and what became of it. The first verified, readable decision before the deadline is the
-- one that applies (effective); at most one per review, which the index holds even if two
-- replies are processed at once.
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_kind_check;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_kind_check CHECK (kind IN ('answer', 'unverified', 'unmatched', 'auto-reply', 'bounce', 'error', 'review'));

CREATE TABLE review_decisions (
  id           bigserial   PRIMARY KEY,
  review_id    bigint      NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
  inbound_id   bigint      NOT NULL UNIQUE REFERENCES inbound_messages (id) ON DELETE CASCADE,
  from_address text,
  -- The sender is one of the review's reviewers.
  verified     boolean     NOT NULL,
  -- send (approve, leave out, add a note) or hold; null when the reply could not be read.
  action       text        CHECK (action IN ('send', 'hold')),
  leave_out    integer[]   NOT NULL DEFAULT '{}',
  note         text,
  reason       text,
  -- Why it could not be read (none, numbers, range, both, reason, note).
  problem      text,
  -- taken: it applies; already: another decision had been taken; late: after the deadline;
  -- unclear: asked to rephrase; unverified: not from a reviewer.
  outcome      text        NOT NULL CHECK (outcome IN ('taken', 'already', 'late', 'unclear', 'unverified')),
  effective    boolean     NOT NULL DEFAULT false,
  received_at  timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX review_decisions_effective_idx ON review_decisions (review_id) WHERE effective;
CREATE INDEX review_decisions_review_idx ON review_decisions (review_id);
