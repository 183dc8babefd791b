-- Orders: taken in once (natural key and Idempotency-Key), their transitions, and the outbox
-- of jobs written in the same transaction. Times are milliseconds since the Unix epoch.

CREATE TABLE orders (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    state           TEXT NOT NULL,
    business_unit   TEXT,
    customer_id     TEXT NOT NULL,
    body            TEXT NOT NULL,
    lines           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    erp_order_id    TEXT,
    request_hash    TEXT NOT NULL,
    response        TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX orders_by_state ON orders (state, created_at);
CREATE INDEX orders_by_created ON orders (created_at);

CREATE TABLE order_history (
    order_id        TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    at              INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    system       TEXT NOT NULL,
    order_id     TEXT,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'ready';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'leased';
CREATE INDEX jobs_by_system ON jobs (system, state);

-- Failures that need a person: one per job, reopened if the job fails again after a retry.
CREATE TABLE exceptions (
    id           TEXT PRIMARY KEY,
    code         TEXT NOT NULL,
    system       TEXT NOT NULL,
    order_id     TEXT,
    job_id       TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL,
    first_error  TEXT NOT NULL,
    last_error   TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    remediation  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX exceptions_by_status ON exceptions (status, created_at);
