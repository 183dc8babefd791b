//! The stores the engine's tests run on: SQLite on a fresh file, and PostgreSQL in a fresh
//! schema when `CROSSDOCK_TEST_PG_URL` is set (required under `CI=true`).

use crossdock_domain::Sku;
use crossdock_domain::ledger::Command;
use crossdock_engine::{Config, Inventory, Shutdown};
use crossdock_store::{AnyStore, PgStore, SqliteStore};

/// Each backend, fresh; the SQLite file's path to remove after.
pub async fn stores(name: &str) -> Vec<(AnyStore, Option<std::path::PathBuf>)> {
    let path = std::env::temp_dir().join(format!("crossdock-{name}-{}.db", ulid::Ulid::new()));
    let mut out = vec![(
        AnyStore::Sqlite(SqliteStore::open(&path).await.unwrap()),
        Some(path),
    )];
    match std::env::var("CROSSDOCK_TEST_PG_URL") {
        Ok(url) => {
            let schema = format!("{name}_{}", ulid::Ulid::new().to_string().to_lowercase());
            let pg = PgStore::connect_in_schema(&url, &schema, 8).await.unwrap();
            out.push((AnyStore::Postgres(pg), None));
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CROSSDOCK_TEST_PG_URL is not set; CI must run the PostgreSQL suite")
        }
        Err(_) => eprintln!("skipping PostgreSQL: set CROSSDOCK_TEST_PG_URL to run it"),
    }
    out
}

/// The inventory service on `store` for `config`, with `skus` in its item master.
pub async fn start(config: &Config, store: AnyStore, skus: &[&str]) -> (Inventory, Shutdown) {
    let shutdown = Shutdown::new();
    let inventory = Inventory::start(
        config.estate().unwrap(),
        config.inventory.clone(),
        store,
        shutdown.clone(),
    )
    .await
    .unwrap();
    let items = skus
        .iter()
        .map(|sku| Command::UpsertItem {
            sku: Sku::parse(*sku).unwrap(),
            description: None,
        })
        .collect();
    inventory.submit(items).await.unwrap();
    (inventory, shutdown)
}
