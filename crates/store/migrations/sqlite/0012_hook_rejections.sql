-- Webhook deliveries refused for their signature, kept for an operator to inspect (the
-- newest thousand per connector).
CREATE TABLE hook_rejections (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    connector    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    headers      TEXT NOT NULL,
    body         TEXT NOT NULL,
    body_bytes   INTEGER NOT NULL
);
CREATE INDEX hook_rejections_by_connector ON hook_rejections (connector, id);
