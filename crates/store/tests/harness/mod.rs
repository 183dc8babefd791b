//! Opens each backend for the conformance suite: SQLite on a fresh file, PostgreSQL in a
//! fresh schema (address from `CROSSDOCK_TEST_PG_URL`).

use std::path::PathBuf;
use std::sync::Arc;

use crossdock_domain::ledger::{Command, EventChange, Outcome, ReserveRequest, StockEvent};
use crossdock_domain::stock::StockChange;
use crossdock_domain::*;
use crossdock_store::{AnyStore, Batch, PgStore, SqliteStore, Store};

/// A store under test and how to clean up after it.
pub struct Harness {
    pub store: AnyStore,
    pub estate: Arc<Estate>,
    cleanup: Cleanup,
    /// More stores on the same data, standing for other instances (PostgreSQL only).
    pub others: Vec<AnyStore>,
}

enum Cleanup {
    File(PathBuf),
    Schema(String, String),
}

impl Drop for Harness {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => crossdock_store::sqlite::remove_files(path),
            Cleanup::Schema(url, schema) => {
                let (url, schema) = (url.clone(), schema.clone());
                // Best effort, on a runtime of its own: the test's runtime may be gone.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        use sqlx::{ConnectOptions, Executor};
                        let opts: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
                        if let Ok(mut c) = opts.connect().await {
                            let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                            let _ = c.execute(sqlx::AssertSqlSafe(sql)).await;
                        }
                    })
                })
                .join();
            }
        }
    }
}

/// The example estate (see `crossdock_domain::estate::fixtures::example`).
pub fn estate() -> Arc<Estate> {
    Arc::new(crossdock_domain::estate::fixtures::example())
}

pub async fn sqlite() -> Harness {
    let path = std::env::temp_dir().join(format!("crossdock-test-{}.db", ulid::Ulid::new()));
    let store = AnyStore::Sqlite(SqliteStore::open(&path).await.unwrap());
    Harness {
        store,
        estate: estate(),
        cleanup: Cleanup::File(path),
        others: Vec::new(),
    }
}

/// PostgreSQL in a fresh schema, with `instances` stores (pools) on it; `None` (with a
/// printed reason) when no server is configured, a failure under `CI=true`.
pub async fn postgres(instances: usize) -> Option<Harness> {
    let Ok(url) = std::env::var("CROSSDOCK_TEST_PG_URL") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CROSSDOCK_TEST_PG_URL is not set; CI must run the PostgreSQL suite");
        }
        eprintln!("skipping PostgreSQL test: set CROSSDOCK_TEST_PG_URL to run it");
        return None;
    };
    let schema = format!("t_{}", ulid::Ulid::new().to_string().to_lowercase());
    let mut stores = Vec::new();
    for _ in 0..instances.max(1) {
        let s = PgStore::connect_in_schema(&url, &schema, 4).await.unwrap();
        stores.push(AnyStore::Postgres(s));
    }
    let store = stores.remove(0);
    Some(Harness {
        store,
        estate: estate(),
        cleanup: Cleanup::Schema(url, schema),
        others: stores,
    })
}

impl Harness {
    /// Opens the same data again, as a restart would.
    #[allow(dead_code)]
    pub async fn reopen(&self) -> crossdock_store::Result<AnyStore> {
        match &self.cleanup {
            Cleanup::Schema(url, schema) => Ok(AnyStore::Postgres(
                PgStore::connect_in_schema(url, schema, 1).await?,
            )),
            Cleanup::File(path) => Ok(AnyStore::Sqlite(SqliteStore::open(path).await?)),
        }
    }
}

pub fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

pub fn loc(s: &str) -> LocationCode {
    LocationCode::parse(s).unwrap()
}

impl Harness {
    /// Commits `commands` as one batch at time `now`.
    pub async fn run(&self, now: i64, commands: Vec<Command>) -> Vec<Outcome> {
        run_on(&self.store, &self.estate, now, commands).await
    }

    /// Adds `skus` to the item master.
    pub async fn items(&self, skus: &[&str]) {
        let cmds = skus
            .iter()
            .map(|s| Command::UpsertItem {
                sku: sku(s),
                description: None,
            })
            .collect();
        self.run(0, cmds).await;
    }

    /// Commits `n` commands at once, each in its own batch, spread over every instance;
    /// returns their outcomes in order.
    pub async fn race(&self, n: usize, command: impl Fn(usize) -> Command) -> Vec<Outcome> {
        let stores: Vec<AnyStore> = std::iter::once(self.store.clone())
            .chain(self.others.iter().cloned())
            .collect();
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let store = stores[i % stores.len()].clone();
                let (estate, cmd) = (self.estate.clone(), command(i));
                tokio::spawn(async move { run_on(&store, &estate, 2, vec![cmd]).await.pop() })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap().unwrap());
        }
        outcomes
    }

    /// The state of one SKU.
    pub async fn state(&self, s: &str) -> SkuState {
        self.store
            .load_states(Some(vec![sku(s)]))
            .await
            .unwrap()
            .pop()
            .expect("sku exists")
    }
}

pub async fn run_on(
    store: &AnyStore,
    estate: &Arc<Estate>,
    now: i64,
    commands: Vec<Command>,
) -> Vec<Outcome> {
    store
        .commit(Batch {
            commands,
            estate: estate.clone(),
            now: Timestamp(now),
        })
        .await
        .unwrap()
        .outcomes
}

pub fn event(id: &str, at: i64, s: &str, location: &str, change: StockChange) -> Command {
    Command::Stock(StockEvent {
        source: "wms".into(),
        source_event_id: id.into(),
        occurred_at: Timestamp(at),
        sku: sku(s),
        location: loc(location),
        change: EventChange::Stock {
            change,
            kind: "test".into(),
            po_ref: None,
            order_ref: None,
        },
    })
}

/// A reservation `res_{id}` of `qty` units of `s` for `channel`.
pub fn reserve(id: &str, s: &str, qty: i64, channel: &str) -> Command {
    Command::Reserve(ReserveRequest {
        id: ReservationId::with_unique(id),
        sku: sku(s),
        qty,
        channel: ChannelCode::parse(channel).unwrap(),
        order_ref: format!("order-{id}"),
        location: None,
        ship_region: None,
        expires_at: None,
    })
}
