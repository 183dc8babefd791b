-- Fulfilment: shipments reported by the warehouse, invoices from the ERP, and payloads on
-- jobs (what a job needs beyond its order; operators may edit it before a retry).

ALTER TABLE jobs ADD COLUMN payload TEXT;

CREATE TABLE shipments (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL,
    source           TEXT NOT NULL,
    source_event_id  TEXT NOT NULL,
    location         TEXT NOT NULL,
    carrier          TEXT NOT NULL,
    tracking_number  TEXT NOT NULL,
    capture_micros   INTEGER NOT NULL,
    shipped_at       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (source, source_event_id)
);
CREATE INDEX shipments_by_order ON shipments (order_id);

CREATE TABLE shipment_lines (
    shipment_id  TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    sku          TEXT NOT NULL,
    qty          INTEGER NOT NULL,
    PRIMARY KEY (shipment_id, sku)
) WITHOUT ROWID;
CREATE INDEX shipment_lines_by_order ON shipment_lines (order_id);

CREATE TABLE invoices (
    invoice_id    TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL,
    amount        TEXT NOT NULL,
    currency      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX invoices_by_order ON invoices (order_id);
