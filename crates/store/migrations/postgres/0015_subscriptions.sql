-- Webhook subscriptions: events of the types asked for, pushed to a URL and signed with the
-- subscription's secret (the Standard Webhooks scheme). `cursor` is how far the event log
-- has been followed for it.
CREATE TABLE subscriptions (
    id               TEXT PRIMARY KEY,
    url              TEXT NOT NULL,
    event_types      TEXT NOT NULL,
    secret           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    cursor           BIGINT NOT NULL,
    disabled_at      BIGINT,
    disabled_reason  TEXT
);

-- One event due to one subscription: pending until it is delivered or given up on.
CREATE TABLE deliveries (
    subscription_id  TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_at          BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, seq)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_state ON deliveries (subscription_id, state);

-- Every try at a delivery, with what the endpoint answered.
CREATE TABLE delivery_attempts (
    id               BIGSERIAL PRIMARY KEY,
    subscription_id  TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    attempt          INTEGER NOT NULL,
    at               BIGINT NOT NULL,
    status           INTEGER,
    error            TEXT,
    duration_ms      BIGINT NOT NULL,
    outcome          TEXT NOT NULL,
    next_at          BIGINT
);
CREATE INDEX delivery_attempts_by_subscription ON delivery_attempts (subscription_id, id);
CREATE INDEX delivery_attempts_by_time ON delivery_attempts (at);
