-- Delivery a mail server trusts. Addresses that must not be written to any more: an
-- unsubscribe (from one schedule, or every schedule of a job kind) and a hard bounce (the
-- address does not exist: every e-mail), each kept until a person removes it
-- (`crier suppressions remove ADDRESS`).
CREATE TABLE suppressions (
  id           bigserial   PRIMARY KEY,
  email        text        NOT NULL CHECK (email = lower(email)),
  -- all: every e-mail; schedule: one schedule (target = its id); job: a job kind (target = its name)
  scope        text        NOT NULL CHECK (scope IN ('all', 'schedule', 'job')),
  target       text        NOT NULL DEFAULT '',
  -- unsubscribed: the recipient asked; hard-bounce: a 5xx at RCPT or DATA; bounced: a DSN came back
  reason       text        NOT NULL CHECK (reason IN ('unsubscribed', 'hard-bounce', 'bounced')),
  -- The server's reply, or how the unsubscribe came (one-click POST, the page).
  detail       text,
  delivery_id  bigint      REFERENCES deliveries (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (email, scope, target)
);

-- A run whose permanent failures pass mail.pauseAt pauses itself until `crier resume RUN`.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('due', 'fanned-out', 'done', 'missed', 'failed', 'paused'));
-- Failures before a resume do not pause it again; the superadmin is told once per pause.
ALTER TABLE runs ADD COLUMN resumed_at timestamptz;
ALTER TABLE runs ADD COLUMN alerted_at timestamptz;

-- The SMTP server's own words on the last failure (e.g. "550 5.1.1 <x@y>: no such user").
ALTER TABLE deliveries ADD COLUMN smtp_reply text;
