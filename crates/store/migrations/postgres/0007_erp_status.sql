-- The ERP's own status for each order's sales order, as it last told us (in its answer to
-- the posting, or pushed later), next to the canonical state it maps to.

ALTER TABLE orders ADD COLUMN erp_status TEXT;
