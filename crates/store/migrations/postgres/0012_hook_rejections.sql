-- Webhook deliveries refused for their signature, kept for an operator to inspect (the
-- newest thousand per connector).
CREATE TABLE hook_rejections (
    id           BIGSERIAL PRIMARY KEY,
    connector    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    headers      JSONB NOT NULL,
    body         TEXT NOT NULL,
    body_bytes   BIGINT NOT NULL
);
CREATE INDEX hook_rejections_by_connector ON hook_rejections (connector, id);
