-- Every send asks whether anything of its run is still pending or sending, to settle the run:
-- answered by a probe of this index, not by reading a 100,000-row run's open rows one by one.
CREATE INDEX deliveries_open_by_run_idx ON deliveries (run_id, status) WHERE status IN ('pending', 'sending');
