-- The ERP each order's jobs go to, where several ERPs keep the books of different business
-- units: chosen when the order's first ERP job is routed, and kept, so an order stays with
-- the ERP it was posted to when a unit moves to another.
CREATE TABLE erp_assignments (
    order_id     TEXT PRIMARY KEY,
    system       TEXT NOT NULL,
    assigned_at  BIGINT NOT NULL
);
