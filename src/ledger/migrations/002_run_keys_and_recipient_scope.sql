-- A run is one planned send of a schedule, not always one trigger occurrence: a steering
-- meeting has an invitation and an agenda, and a moved meeting a new invitation. Runs are now
-- unique per (schedule, run_key); for a plain schedule the key is the occurrence in UTC.
ALTER TABLE runs ADD COLUMN run_key text;
UPDATE runs SET run_key = to_char(occurrence AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
ALTER TABLE runs ALTER COLUMN run_key SET NOT NULL;
ALTER TABLE runs DROP CONSTRAINT runs_schedule_id_occurrence_key;
ALTER TABLE runs ADD CONSTRAINT runs_schedule_id_run_key_key UNIQUE (schedule_id, run_key);
-- What kind of send this run is (default, invitation, agenda, cancellation …) and its details.
ALTER TABLE runs ADD COLUMN variant text NOT NULL DEFAULT 'default';
ALTER TABLE runs ADD COLUMN meta jsonb NOT NULL DEFAULT '{}';

-- Who a recipient is on the platform (when they have an account) and what part of it their
-- e-mail covers: {"folders": [...], "projects": [...]}; {} is the whole platform.
ALTER TABLE deliveries ADD COLUMN user_id text;
ALTER TABLE deliveries ADD COLUMN scope jsonb NOT NULL DEFAULT '{}';
-- Which variant of the e-mail (e.g. the IT department's copy of a launch check-in).
ALTER TABLE deliveries ADD COLUMN variant text NOT NULL DEFAULT 'default';
