-- Lines that wait for stock, and the releases an order's lines go to the warehouse in. An
-- order on a channel that ships what is available goes on with the lines in stock while the
-- rest wait (`waiting` of them); each group of waiting lines that stock fills after the
-- first release goes as a part of its own (`parts` counts them). The backorder sweep reads
-- the waiting orders through the partial index.

ALTER TABLE orders ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN parts INTEGER NOT NULL DEFAULT 1;
UPDATE orders SET waiting = 1 WHERE state = 'backordered';
CREATE INDEX orders_waiting ON orders (created_at, id) WHERE waiting > 0;
