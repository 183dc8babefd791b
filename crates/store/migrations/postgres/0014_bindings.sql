-- Our keys beside each outside system's ids, per connector: items, customers, locations and
-- orders.
CREATE TABLE bindings (
    id          BIGSERIAL PRIMARY KEY,
    connector   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    ours        TEXT NOT NULL,
    theirs      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (connector, kind, ours)
);
CREATE INDEX bindings_by_theirs ON bindings (connector, kind, theirs);
