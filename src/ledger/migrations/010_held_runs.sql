-- held: a reviewed send the review decided to hold (or whose default was hold): not sent, kept
-- with why; `crier run SCHEDULE --at OCCURRENCE --force` makes it due again, to send anyway.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('due', 'fanned-out', 'done', 'missed', 'failed', 'paused', 'held'));
