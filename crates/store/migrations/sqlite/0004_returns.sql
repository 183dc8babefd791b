-- Returns: authorisations (RMAs) opened within the channel's return window, their lines,
-- and how many units of each have come back.

CREATE TABLE returns (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL,
    reason      TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX returns_by_order ON returns (order_id);

CREATE TABLE return_lines (
    rma_id    TEXT NOT NULL,
    order_id  TEXT NOT NULL,
    sku       TEXT NOT NULL,
    qty       INTEGER NOT NULL,
    received  INTEGER NOT NULL,
    PRIMARY KEY (rma_id, sku)
) WITHOUT ROWID;
CREATE INDEX return_lines_by_order ON return_lines (order_id);
