-- Inventory: item master, stock buckets, reservations, expected receipts, event log.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE items (
    sku          TEXT PRIMARY KEY,
    description  TEXT,
    created_at   BIGINT NOT NULL
);

CREATE TABLE stock (
    sku                       TEXT NOT NULL,
    location                  TEXT NOT NULL,
    on_hand                   BIGINT NOT NULL,
    picking                   BIGINT NOT NULL,
    transfer_out              BIGINT NOT NULL,
    inspection                BIGINT NOT NULL,
    reserved                  BIGINT NOT NULL,
    on_hand_snapshot_at       BIGINT,
    picking_snapshot_at       BIGINT,
    transfer_out_snapshot_at  BIGINT,
    inspection_snapshot_at    BIGINT,
    updated_at                BIGINT NOT NULL,
    PRIMARY KEY (sku, location)
);

CREATE TABLE channel_reserved (
    sku      TEXT NOT NULL,
    channel  TEXT NOT NULL,
    qty      BIGINT NOT NULL,
    PRIMARY KEY (sku, channel)
);

CREATE TABLE expected_receipts (
    sku       TEXT NOT NULL,
    location  TEXT NOT NULL,
    po_ref    TEXT NOT NULL,
    qty       BIGINT NOT NULL,
    eta       BIGINT NOT NULL,
    PRIMARY KEY (sku, location, po_ref)
);

CREATE TABLE reservations (
    id           TEXT PRIMARY KEY,
    sku          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    order_ref    TEXT NOT NULL,
    qty          BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    status       TEXT NOT NULL,
    allocations  TEXT NOT NULL
);
CREATE INDEX reservations_due ON reservations (expires_at)
    WHERE status = 'active' AND expires_at IS NOT NULL;
CREATE INDEX reservations_by_order ON reservations (order_ref) WHERE status = 'active';

CREATE TABLE source_events (
    source           TEXT NOT NULL,
    source_event_id  TEXT NOT NULL,
    occurred_at      BIGINT NOT NULL,
    recorded_at      BIGINT NOT NULL,
    PRIMARY KEY (source, source_event_id)
);

-- The log's sequence is gap-free: it is taken from this one row, locked until commit, so
-- events become visible in sequence order and a reader never skips one committed later.
CREATE TABLE event_seq (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    last  BIGINT NOT NULL
);
INSERT INTO event_seq (id, last) VALUES (1, 0);

CREATE TABLE events (
    seq          BIGINT PRIMARY KEY,
    type         TEXT NOT NULL,
    sku          TEXT,
    recorded_at  BIGINT NOT NULL,
    data         JSONB NOT NULL
);
CREATE INDEX events_by_type ON events (type, seq);
