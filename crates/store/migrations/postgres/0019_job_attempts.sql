-- Following one business transaction: each job names the correlation id of the transaction
-- that queued it (the request's, or the one its queuing job carried), and every try of a job
-- is kept with its outcome and how long it took, so a transaction's outbound calls can be
-- shown in order.
ALTER TABLE jobs ADD COLUMN correlation_id TEXT;

CREATE TABLE job_attempts (
    job_id          TEXT NOT NULL,
    attempt         BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    system          TEXT NOT NULL,
    order_id        TEXT,
    correlation_id  TEXT,
    started_at      BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    -- done, retry, failed or held
    outcome         TEXT NOT NULL,
    -- The last HTTP status the system answered during the try, when it answered.
    http_status     BIGINT,
    error           TEXT,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX job_attempts_by_correlation ON job_attempts (correlation_id);
CREATE INDEX job_attempts_by_time ON job_attempts (started_at);
CREATE INDEX orders_by_correlation ON orders (correlation_id);
