-- SQLite keeps an order's first answer as the text it was given already (see the PostgreSQL
-- migration of the same number); nothing to change.
SELECT 1;
