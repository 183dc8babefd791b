-- The last credit status the ERP gave for each customer account, to fall back on when the
-- ERP does not answer a credit check in time.

CREATE TABLE credit_status (
    account     TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    checked_at  INTEGER NOT NULL
);
