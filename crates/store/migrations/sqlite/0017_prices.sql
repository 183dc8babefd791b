-- Each SKU's price on each channel, as the owner of pricing set it, with what was last
-- pushed to the channel and what the channel last acknowledged.
CREATE TABLE prices (
    channel          TEXT NOT NULL,
    sku              TEXT NOT NULL,
    currency         TEXT NOT NULL,
    amount           TEXT NOT NULL,
    source           TEXT NOT NULL,
    set_at           BIGINT NOT NULL,
    pushed_currency  TEXT,
    pushed_amount    TEXT,
    pushed_at        BIGINT,
    acked_currency   TEXT,
    acked_amount     TEXT,
    acked_at         BIGINT,
    refused          TEXT,
    PRIMARY KEY (channel, sku)
);
