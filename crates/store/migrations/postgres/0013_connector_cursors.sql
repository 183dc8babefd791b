-- How far each connector that follows the event log (a shop's stock publisher) has taken it.
CREATE TABLE connector_cursors (
    connector   TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
