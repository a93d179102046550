-- No e-mail lost to a crash. A claimed delivery has a lease its worker keeps renewing; the
-- moment before SMTP's final dot is recorded (handed_at). A lease that runs out means the
-- worker is gone: without handed_at the message cannot be at the server and is sent again;
-- with it, the server may have it, and it becomes `unknown` for a person to decide
-- (`crier retry RUN --unknown`).
ALTER TABLE deliveries ADD COLUMN claimed_by text;
ALTER TABLE deliveries ADD COLUMN lease_until timestamptz;
ALTER TABLE deliveries ADD COLUMN handed_at timestamptz;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'bounced', 'unknown'));
-- Before this migration a `sending` row with an error already meant "outcome unknown".
UPDATE deliveries SET status = 'unknown' WHERE status = 'sending' AND last_error IS NOT NULL;
CREATE INDEX deliveries_lease_idx ON deliveries (lease_until) WHERE status = 'sending';

-- The worker processes of the deployment and when each was last alive.
CREATE TABLE workers (
  id            text        PRIMARY KEY,
  host          text        NOT NULL,
  pid           integer     NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  stopped_at    timestamptz
);
