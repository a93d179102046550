-- When a delivery that failed for a while (SMTP 4xx, a connection refused) may be tried again:
-- the ledger, not a queued job's timer, keeps the backoff, so a page of deliveries queued again
-- (the tick's sweep, a Redis rebuilt from the ledger) never claims one before its time.
ALTER TABLE deliveries ADD COLUMN retry_at timestamptz;
