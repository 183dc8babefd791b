//! Append-only schema migrations, embedded in the binary. Never edit one that has landed: add
//! the next version.

/// One migration.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// SQLite's migrations, in order.
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "inventory",
        sql: include_str!("../migrations/sqlite/0001_inventory.sql"),
    },
    Migration {
        version: 2,
        name: "orders",
        sql: include_str!("../migrations/sqlite/0002_orders.sql"),
    },
    Migration {
        version: 3,
        name: "fulfilment",
        sql: include_str!("../migrations/sqlite/0003_fulfilment.sql"),
    },
    Migration {
        version: 4,
        name: "returns",
        sql: include_str!("../migrations/sqlite/0004_returns.sql"),
    },
    Migration {
        version: 5,
        name: "credit",
        sql: include_str!("../migrations/sqlite/0005_credit.sql"),
    },
    Migration {
        version: 6,
        name: "jobs_by_system",
        sql: include_str!("../migrations/sqlite/0006_jobs_by_system.sql"),
    },
    Migration {
        version: 7,
        name: "erp_status",
        sql: include_str!("../migrations/sqlite/0007_erp_status.sql"),
    },
    Migration {
        version: 8,
        name: "reservations_by_order",
        sql: include_str!("../migrations/sqlite/0008_reservations_by_order.sql"),
    },
    Migration {
        version: 9,
        name: "waiting_lines",
        sql: include_str!("../migrations/sqlite/0009_waiting_lines.sql"),
    },
];

/// PostgreSQL's migrations, in order.
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "inventory",
        sql: include_str!("../migrations/postgres/0001_inventory.sql"),
    },
    Migration {
        version: 2,
        name: "orders",
        sql: include_str!("../migrations/postgres/0002_orders.sql"),
    },
    Migration {
        version: 3,
        name: "fulfilment",
        sql: include_str!("../migrations/postgres/0003_fulfilment.sql"),
    },
    Migration {
        version: 4,
        name: "returns",
        sql: include_str!("../migrations/postgres/0004_returns.sql"),
    },
    Migration {
        version: 5,
        name: "credit",
        sql: include_str!("../migrations/postgres/0005_credit.sql"),
    },
    Migration {
        version: 6,
        name: "jobs_by_system",
        sql: include_str!("../migrations/postgres/0006_jobs_by_system.sql"),
    },
    Migration {
        version: 7,
        name: "erp_status",
        sql: include_str!("../migrations/postgres/0007_erp_status.sql"),
    },
    Migration {
        version: 8,
        name: "reservations_by_order",
        sql: include_str!("../migrations/postgres/0008_reservations_by_order.sql"),
    },
    Migration {
        version: 9,
        name: "waiting_lines",
        sql: include_str!("../migrations/postgres/0009_waiting_lines.sql"),
    },
];

/// Creates the table that records applied migrations.
pub(crate) const LEDGER_TABLE: &str = "CREATE TABLE IF NOT EXISTS crossdock_migrations (
    version     BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  BIGINT NOT NULL
)";
