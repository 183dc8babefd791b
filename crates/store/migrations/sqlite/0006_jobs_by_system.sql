-- Due jobs found per system, so that one system's backlog (a warehouse that is down with
-- thousands of releases waiting) never slows the leasing of another system's jobs.

CREATE INDEX jobs_ready_by_system ON jobs (system, run_at) WHERE state = 'ready';
CREATE INDEX jobs_leased_by_system ON jobs (system, lease_until) WHERE state = 'leased';
