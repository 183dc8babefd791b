//! Migrations: an applied migration that was edited is refused at open; one applied before
//! checksums were kept has its checksum recorded; data migrations do what they say.

#[allow(dead_code)]
mod harness;

use crossdock_domain::{ErrorCode, ExceptionStatus};
use crossdock_store::{ExceptionFilter, Store};

/// Opening a database whose applied migration 2 has another checksum than this build's is
/// refused, naming the file; one whose migrations were applied before checksums were kept
/// opens and has them recorded.
#[tokio::test]
async fn sqlite_a_tampered_migration_is_refused_at_open() {
    async fn reopen(path: &std::path::Path) -> crossdock_store::Result<()> {
        let free = crossdock_store::sqlite::released(path, std::time::Duration::from_secs(5));
        assert!(free.await, "the file stayed locked");
        crossdock_store::SqliteStore::open(path).await.map(drop)
    }
    let path = std::env::temp_dir().join(format!("crossdock-drift-{}.db", ulid::Ulid::new()));
    reopen(&path).await.unwrap();
    let tamper = |sql: &str| {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(sql).unwrap();
    };
    tamper("UPDATE crossdock_migrations SET checksum = NULL");
    reopen(&path).await.unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let unrecorded: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM crossdock_migrations WHERE checksum IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unrecorded, 0, "recorded on the next start");
    drop(c);
    tamper("UPDATE crossdock_migrations SET checksum = 'edited' WHERE version = 2");
    let err = reopen(&path).await.expect_err("refused").to_string();
    assert!(err.contains("migrations/sqlite/0002_orders.sql"), "{err}");
    crossdock_store::sqlite::remove_files(&path);
}

#[tokio::test]
async fn postgres_a_tampered_migration_is_refused_at_open() {
    let Some(h) = harness::postgres(1).await else {
        return;
    };
    let crossdock_store::AnyStore::Postgres(pg) = &h.store else {
        unreachable!()
    };
    sqlx::query("UPDATE crossdock_migrations SET checksum = 'edited' WHERE version = 2")
        .execute(pg.pool())
        .await
        .unwrap();
    let err = h.reopen().await.err().expect("refused").to_string();
    assert!(err.contains("migrations/postgres/0002_orders.sql"), "{err}");
}

/// Exceptions of the storefront and of crossdock's own runners, opened while codes were built
/// from the system's name: each exception row and the codes they are read back as.
const LEGACY: &str = "INSERT INTO exceptions (id, code, system, order_id, job_id, status,
        first_error, last_error, attempts, remediation, created_at, updated_at) VALUES
    ('exc_a', 'STOREFRONT_UNAVAILABLE', 'storefront', NULL, 'job_a', 'open', 'e', 'e', 3, 'r', 1, 1),
    ('exc_b', 'SAGA_UNAVAILABLE', 'saga', NULL, 'job_b', 'open', 'e', 'e', 3, 'r', 2, 2),
    ('exc_c', 'ERP_UNAVAILABLE', 'erp', NULL, 'job_c', 'resolved', 'e', 'e', 3, 'r', 3, 3);
    DELETE FROM crossdock_migrations WHERE version = 10";

async fn codes(store: &impl Store) -> Vec<(String, ErrorCode, ExceptionStatus)> {
    let filter = ExceptionFilter {
        limit: 10,
        ..Default::default()
    };
    let mut all: Vec<_> = (store.exceptions(filter).await.unwrap().into_iter())
        .map(|e| (e.id.to_string(), e.code, e.status))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn rewritten() -> Vec<(String, ErrorCode, ExceptionStatus)> {
    vec![
        (
            "exc_a".into(),
            ErrorCode::ChannelUnavailable,
            ExceptionStatus::Open,
        ),
        (
            "exc_b".into(),
            ErrorCode::StoreUnavailable,
            ExceptionStatus::Open,
        ),
        (
            "exc_c".into(),
            ErrorCode::ErpUnavailable,
            ExceptionStatus::Resolved,
        ),
    ]
}

/// Migration 10 gives exceptions opened under the old names the codes of the vocabulary.
#[tokio::test]
async fn sqlite_legacy_exception_codes_are_rewritten() {
    let path = std::env::temp_dir().join(format!("crossdock-legacy-{}.db", ulid::Ulid::new()));
    drop(crossdock_store::SqliteStore::open(&path).await.unwrap());
    let free = crossdock_store::sqlite::released(&path, std::time::Duration::from_secs(5));
    assert!(free.await, "the file stayed locked");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(LEGACY)
        .unwrap();
    let store = crossdock_store::SqliteStore::open(&path).await.unwrap();
    assert_eq!(codes(&store).await, rewritten());
    drop(store);
    crossdock_store::sqlite::remove_files(&path);
}

#[tokio::test]
async fn postgres_legacy_exception_codes_are_rewritten() {
    let Some(h) = harness::postgres(1).await else {
        return;
    };
    let crossdock_store::AnyStore::Postgres(pg) = &h.store else {
        unreachable!()
    };
    sqlx::raw_sql(LEGACY).execute(pg.pool()).await.unwrap();
    let store = h.reopen().await.unwrap();
    assert_eq!(codes(&store).await, rewritten());
}
