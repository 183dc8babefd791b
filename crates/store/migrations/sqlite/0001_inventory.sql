-- Inventory: item master, stock buckets, reservations, expected receipts, event log.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE items (
    sku          TEXT PRIMARY KEY,
    description  TEXT,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE stock (
    sku                       TEXT NOT NULL,
    location                  TEXT NOT NULL,
    on_hand                   INTEGER NOT NULL,
    picking                   INTEGER NOT NULL,
    transfer_out              INTEGER NOT NULL,
    inspection                INTEGER NOT NULL,
    reserved                  INTEGER NOT NULL,
    on_hand_snapshot_at       INTEGER,
    picking_snapshot_at       INTEGER,
    transfer_out_snapshot_at  INTEGER,
    inspection_snapshot_at    INTEGER,
    updated_at                INTEGER NOT NULL,
    PRIMARY KEY (sku, location)
) WITHOUT ROWID;

CREATE TABLE channel_reserved (
    sku      TEXT NOT NULL,
    channel  TEXT NOT NULL,
    qty      INTEGER NOT NULL,
    PRIMARY KEY (sku, channel)
) WITHOUT ROWID;

CREATE TABLE expected_receipts (
    sku       TEXT NOT NULL,
    location  TEXT NOT NULL,
    po_ref    TEXT NOT NULL,
    qty       INTEGER NOT NULL,
    eta       INTEGER NOT NULL,
    PRIMARY KEY (sku, location, po_ref)
) WITHOUT ROWID;

CREATE TABLE reservations (
    id           TEXT PRIMARY KEY,
    sku          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    order_ref    TEXT NOT NULL,
    qty          INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    status       TEXT NOT NULL,
    allocations  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX reservations_due ON reservations (expires_at)
    WHERE status = 'active' AND expires_at IS NOT NULL;
CREATE INDEX reservations_by_order ON reservations (order_ref) WHERE status = 'active';

CREATE TABLE source_events (
    source           TEXT NOT NULL,
    source_event_id  TEXT NOT NULL,
    occurred_at      INTEGER NOT NULL,
    recorded_at      INTEGER NOT NULL,
    PRIMARY KEY (source, source_event_id)
) WITHOUT ROWID;

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    type         TEXT NOT NULL,
    sku          TEXT,
    recorded_at  INTEGER NOT NULL,
    data         TEXT NOT NULL
);
-- No index on type: readers page forward by seq and filter, and an index entry per event
-- costs the writer a fifth of its throughput.
