//! The embedded store: one SQLite file in WAL mode.
//!
//! SQLite has one writer, so one thread owns the write connection and commits each batch in
//! one `BEGIN IMMEDIATE` transaction (the engine groups many requests into a batch). Being the
//! only writer, that thread keeps the SKU states it has committed in memory and reads a SKU
//! from disk only the first time a batch touches it; a lock file keeps a second process from
//! writing the same database. Reads use a small pool of read-only connections on the blocking
//! thread pool.

mod jobs;
mod keys;
mod orders;
mod sql;
mod subscriptions;
mod trace;
mod wal;
mod writer;

pub use wal::{Checkpoint, wal_size};

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossdock_domain::ledger::Reservation;
use crossdock_domain::{ReservationId, Sku, SkuState, Timestamp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use crate::batch::{self, WriteSet};
use crate::migrations::{self, Applied, LEDGER_TABLE, SQLITE};
use crate::needs::Needs;
use crate::{Batch, Committed, EventRecord, Result, Store, StoreError};
use writer::{JobOp, JobReply, Msg, write_loop};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store. Cloning shares the same writer and readers.
#[derive(Clone)]
pub struct SqliteStore {
    writer: mpsc::Sender<Msg>,
    readers: Arc<Readers>,
}

/// Holds `PATH.lock` for as long as the writer runs, so only one process writes the file.
fn lock_file(path: &Path) -> Result<File> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = File::create(&lock_path).map_err(|e| {
        StoreError::Locked(format!(
            "cannot create {}: {e}",
            Path::new(&lock_path).display()
        ))
    })?;
    file.try_lock().map_err(|_| {
        StoreError::Locked(format!(
            "{} is in use by another crossdock process; SQLite has one writer. \
             Stop the other process, or use PostgreSQL to run several instances.",
            path.display()
        ))
    })?;
    Ok(file)
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.idle.lock().expect("reader pool poisoned").pop();
        let conn = match conn {
            Some(c) => c,
            None => open_reader(&self.path)?,
        };
        let out = f(&conn);
        self.idle.lock().expect("reader pool poisoned").push(conn);
        out
    }
}

/// Deletes a database file with its WAL, shared-memory and lock files (for tests, the demo
/// and benchmarks that start from nothing). Missing files are fine.
pub fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Waits (at most `timeout`) until no store holds the database at `path`, and says whether
/// none does. A store let go releases the file once its writer thread has finished its last
/// commit and its checkpoint, a moment after the last handle is dropped.
pub async fn released(path: &Path, timeout: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match lock_file(path) {
            Ok(_) => return true,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await
            }
            Err(_) => return false,
        }
    }
}

fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Prepared statements kept per connection: more than the write path uses, so none is
/// parsed again per batch.
const STATEMENT_CACHE: usize = 128;

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Applies pending migrations in one transaction each.
/// Creates (or brings up to date) crossdock's schema on `conn`: for tools that write the same
/// tables directly, such as the benchmark's baseline.
pub fn create_schema(conn: &mut Connection) -> Result<()> {
    migrate(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(LEDGER_TABLE)?;
    let has_checksums: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('crossdock_migrations')
            WHERE name = 'checksum')",
        [],
        |r| r.get(0),
    )?;
    if !has_checksums {
        conn.execute_batch("ALTER TABLE crossdock_migrations ADD COLUMN checksum TEXT")?;
    }
    let applied = conn
        .prepare("SELECT version, name, checksum FROM crossdock_migrations ORDER BY version")?
        .query_map([], |r| {
            Ok(Applied {
                version: r.get(0)?,
                name: r.get(1)?,
                checksum: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let unrecorded = migrations::check("sqlite", SQLITE, &applied)?;
    for (version, checksum) in &unrecorded {
        conn.execute(
            "UPDATE crossdock_migrations SET checksum = ?2 WHERE version = ?1",
            params![version, checksum],
        )?;
    }
    migrations::recorded(unrecorded.len());
    for m in migrations::pending(SQLITE, &applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let fail = |e: rusqlite::Error| StoreError::Migration {
            version: m.version,
            name: m.name(),
            source: Box::new(e.into()),
        };
        tx.execute_batch(m.sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO crossdock_migrations (version, name, applied_at, checksum)
             VALUES (?1, ?2, ?3, ?4)",
            params![m.version, m.name(), now_millis(), m.checksum()],
        )?;
        tx.commit()?;
        tracing::info!(
            version = m.version,
            name = m.name(),
            "applied sqlite migration"
        );
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies migrations and starts the
    /// writer thread.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_wal_target(path, wal::WAL_TARGET).await
    }

    /// Like [`SqliteStore::open`], with the WAL made to start over past `wal_target` bytes
    /// (see the `wal` module) instead of the default 64 MiB.
    pub async fn open_with_wal_target(path: impl AsRef<Path>, wal_target: u64) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let lock = lock_file(&path)?;
        let (conn, next_seq) = tokio::task::spawn_blocking({
            let path = path.clone();
            move || -> Result<(Connection, i64)> {
                let mut conn = Connection::open(&path)?;
                conn.busy_timeout(BUSY_TIMEOUT)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "FULL")?;
                // Checkpoints run on their own thread, not inside the writer's commits; a WAL
                // that starts over is cut back to the target size.
                conn.pragma_update(None, "wal_autocheckpoint", 0)?;
                conn.pragma_update(None, "journal_size_limit", wal_target as i64)?;
                // A page cache large enough for the hot part of the stock tables.
                conn.pragma_update(None, "cache_size", -65_536)?;
                conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                migrate(&mut conn)?;
                let last: i64 =
                    conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
                Ok((conn, last + 1))
            }
        })
        .await
        .expect("opening the store panicked")?;
        let (tx, rx) = mpsc::channel::<Msg>();
        std::thread::Builder::new()
            .name("crossdock-sqlite-writer".into())
            .spawn({
                let path = path.clone();
                move || {
                    let commits = Arc::new(AtomicU64::new(0));
                    let checkpointer = wal::Checkpointer::spawn(&path, commits.clone());
                    let guard = wal::WalGuard::new(&path, wal_target);
                    write_loop(conn, next_seq, rx, &commits, guard);
                    // Stops the checkpointer, which truncates the WAL.
                    drop(checkpointer);
                    drop(lock);
                }
            })
            .map_err(|e| StoreError::Setup(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            writer: tx,
            readers: Arc::new(Readers {
                path,
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Copies the WAL back into the database and truncates it, between commits: for a clean
    /// stop, or the end of a run that leaves the file behind.
    pub async fn checkpoint(&self) -> Result<Checkpoint> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(Msg::Checkpoint(tx))
            .map_err(|_| StoreError::WriterStopped)?;
        rx.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// The WAL's size on disk now, in bytes.
    pub fn wal_bytes(&self) -> u64 {
        wal::wal_size(&self.readers.path)
    }

    async fn jobs_op(&self, op: JobOp) -> Result<JobReply> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(Msg::Jobs(op, tx))
            .map_err(|_| StoreError::WriterStopped)?;
        rx.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Runs `f` on the writer's transaction, merged with the other job writes waiting (its
    /// own savepoint: a failure undoes only its writes), and answers with what it returns
    /// once that transaction is committed.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let call: writer::Call = Box::new(move |c| Ok(Box::new(f(c)?)));
        match self.jobs_op(JobOp::Call(call)).await? {
            JobReply::Any(answer) => Ok(*answer
                .downcast::<T>()
                .expect("a call answers with its own type")),
            _ => unreachable!("a call answers with its value"),
        }
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with(f))
            .await
            .expect("a store read panicked")
    }
}

impl Store for SqliteStore {
    async fn commit(&self, batch: Batch) -> Result<Committed> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(Msg::Commit(batch, tx))
            .map_err(|_| StoreError::WriterStopped)?;
        rx.await.map_err(|_| StoreError::WriterStopped)?
    }

    async fn lease_jobs(&self, req: crate::LeaseRequest) -> Result<Vec<crate::Job>> {
        match self.jobs_op(JobOp::Lease(req)).await? {
            JobReply::Leased(jobs) => Ok(jobs),
            _ => unreachable!("a lease answers with jobs"),
        }
    }

    async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        finish: crate::JobFinish,
        now: Timestamp,
    ) -> Result<bool> {
        let op = JobOp::Finish(id.to_string(), owner.to_string(), finish, now);
        match self.jobs_op(op).await? {
            JobReply::Finished(done) => Ok(done),
            _ => unreachable!("a finish answers with a flag"),
        }
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64> {
        match self.jobs_op(JobOp::PurgeKeys(before)).await? {
            JobReply::Purged(n) => Ok(n),
            _ => unreachable!("a purge answers with a count"),
        }
    }

    async fn backlog(&self, system: &str) -> Result<i64> {
        let system = system.to_string();
        self.read(move |c| {
            Ok(c.prepare_cached(crate::jobs::BACKLOG)?
                .query_row(rusqlite::named_params! {"$1": system}, |r| r.get(0))?)
        })
        .await
    }

    async fn waiting_jobs(&self, now: Timestamp) -> Result<Vec<crate::Waiting>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(crate::jobs::WAITING)?;
            let rows = stmt.query_map(rusqlite::named_params! {"$1": now.0}, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            let rows: Vec<crate::jobs::WaitingRow> = rows.collect::<rusqlite::Result<_>>()?;
            rows.into_iter().map(crate::jobs::waiting).collect()
        })
        .await
    }

    async fn hasten_jobs(&self, system: &str, now: Timestamp) -> Result<u64> {
        match self.jobs_op(JobOp::Hasten(system.to_string(), now)).await? {
            JobReply::Purged(n) => Ok(n),
            _ => unreachable!("hastening answers with a count"),
        }
    }

    async fn exceptions(&self, filter: crate::ExceptionFilter) -> Result<Vec<crate::Exception>> {
        self.read(move |c| jobs::exceptions(c, &filter)).await
    }

    async fn credit_status(&self, account: &str) -> Result<Option<(String, Timestamp)>> {
        let account = account.to_string();
        self.read(move |c| {
            Ok(
                c.prepare_cached(
                    "SELECT status, checked_at FROM credit_status WHERE account = ?1",
                )?
                .query_row([account], |r| Ok((r.get(0)?, Timestamp(r.get(1)?))))
                .optional()?,
            )
        })
        .await
    }

    async fn record_credit_status(&self, account: &str, status: &str, at: Timestamp) -> Result<()> {
        let op = JobOp::RecordCredit(account.to_string(), status.to_string(), at);
        self.jobs_op(op).await.map(drop)
    }

    async fn park_job(&self, job: crate::ParkedJob, now: Timestamp) -> Result<()> {
        self.jobs_op(JobOp::Park(Box::new(job), now))
            .await
            .map(drop)
    }

    async fn record_rejection(&self, rejection: crate::Rejection) -> Result<()> {
        self.jobs_op(JobOp::Reject(Box::new(rejection)))
            .await
            .map(drop)
    }

    async fn rejections(
        &self,
        connector: Option<String>,
        limit: i64,
    ) -> Result<Vec<crate::Rejection>> {
        self.read(move |c| jobs::rejections(c, connector.as_deref(), limit))
            .await
    }

    async fn cursor(&self, connector: &str) -> Result<Option<i64>> {
        let connector = connector.to_string();
        self.read(move |c| {
            Ok(c.prepare_cached(crate::inbound::CURSOR)?
                .query_row(rusqlite::named_params! {"$1": connector}, |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn set_cursor(&self, connector: &str, seq: i64, now: Timestamp) -> Result<()> {
        self.jobs_op(JobOp::SetCursor(connector.to_string(), seq, now))
            .await
            .map(drop)
    }

    async fn put_bindings(
        &self,
        bindings: Vec<crossdock_domain::Binding>,
        now: Timestamp,
    ) -> Result<u64> {
        let bindings = crate::bindings::in_key_order(bindings);
        self.write(move |tx| {
            let mut put = tx.prepare_cached(crate::bindings::PUT_BINDING)?;
            let mut changed = 0;
            for b in &bindings {
                changed += put.execute(rusqlite::named_params! {
                    "$1": b.connector, "$2": b.kind.as_str(), "$3": b.ours, "$4": b.theirs,
                    "$5": now.0,
                })? as u64;
            }
            Ok(changed)
        })
        .await
    }

    async fn bindings(&self, q: crate::BindingQuery) -> Result<Vec<crate::StoredBinding>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(crate::bindings::LIST_BINDINGS)?;
            let rows = stmt.query_map(
                rusqlite::named_params! {
                    "$1": q.connector, "$2": q.kind.map(|k| k.as_str()), "$3": q.ours,
                    "$4": q.theirs, "$5": q.after, "$6": q.limit,
                },
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )?;
            let rows: Vec<crate::bindings::Row> = rows.collect::<rusqlite::Result<_>>()?;
            Ok(rows
                .into_iter()
                .filter_map(crate::bindings::from_row)
                .collect())
        })
        .await
    }

    async fn prices(&self, q: crate::PriceQuery) -> Result<Vec<crate::StoredPrice>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(crate::prices::LIST_PRICES)?;
            let (after_channel, after_sku) = q.after.unzip();
            let rows = stmt.query_map(
                rusqlite::named_params! {
                    "$1": q.channel, "$2": q.sku, "$3": q.pending, "$4": after_channel,
                    "$5": after_sku, "$6": q.limit,
                },
                |r| {
                    Ok((
                        (
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ),
                        (r.get(6)?, r.get(7)?, r.get(8)?),
                        (r.get(9)?, r.get(10)?, r.get(11)?),
                        r.get(12)?,
                    ))
                },
            )?;
            let rows: Vec<crate::prices::Row> = rows.collect::<rusqlite::Result<_>>()?;
            Ok(rows.into_iter().map(crate::prices::from_row).collect())
        })
        .await
    }

    async fn record_price_pushes(
        &self,
        channel: &str,
        pushes: Vec<crate::PricePush>,
        at: Timestamp,
    ) -> Result<()> {
        let channel = channel.to_string();
        self.write(move |tx| {
            let mut record = tx.prepare_cached(crate::prices::RECORD_PUSH)?;
            for p in &pushes {
                let (acked, refused) = p.outcome.parts();
                record.execute(rusqlite::named_params! {
                    "$1": channel, "$2": p.sku, "$3": p.currency, "$4": p.amount, "$5": at.0,
                    "$6": acked, "$7": refused,
                })?;
            }
            Ok(())
        })
        .await
    }

    async fn bound(
        &self,
        connector: &str,
        kind: crossdock_domain::BindingKind,
        ours: Vec<String>,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let connector = connector.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(crate::bindings::BOUND)?;
            let mut found = std::collections::BTreeMap::new();
            for key in ours {
                let theirs: Option<String> = stmt
                    .query_row(
                        rusqlite::named_params! {"$1": connector, "$2": kind.as_str(), "$3": key},
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(theirs) = theirs {
                    found.insert(key, theirs);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn exception(&self, id: &str) -> Result<Option<crate::Exception>> {
        let id = id.to_string();
        self.read(move |c| jobs::exception_by_id(c, &id)).await
    }

    async fn act_on_exception(
        &self,
        id: &str,
        action: crate::ExceptionAction,
        payload: Option<serde_json::Value>,
        now: Timestamp,
    ) -> Result<Option<crate::Exception>> {
        match self
            .jobs_op(JobOp::Act(id.to_string(), action, payload, now))
            .await?
        {
            JobReply::Acted(e) => Ok(e.map(|e| *e)),
            _ => unreachable!("an action answers with the exception"),
        }
    }

    async fn jobs(&self, filter: crate::JobFilter) -> Result<Vec<crate::Job>> {
        self.read(move |c| jobs::list(c, &filter)).await
    }

    async fn load_states(&self, skus: Option<Vec<Sku>>) -> Result<Vec<SkuState>> {
        self.read(move |c| match skus {
            Some(skus) => sql::load_states(c, &skus),
            None => sql::load_all_states(c),
        })
        .await
    }

    async fn events_after(
        &self,
        after: i64,
        limit: i64,
        types: Option<Vec<String>>,
    ) -> Result<Vec<EventRecord>> {
        self.read(move |c| sql::events_after(c, after, limit, types.as_deref()))
            .await
    }

    async fn last_seq(&self) -> Result<i64> {
        self.read(
            |c| Ok(c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?),
        )
        .await
    }

    async fn reservation(&self, id: &str) -> Result<Option<Reservation>> {
        let ids = vec![id.to_string()];
        self.read(move |c| Ok(sql::reservations_by_id(c, &ids)?.pop()))
            .await
    }

    async fn order(&self, id: &str) -> Result<Option<crate::StoredOrder>> {
        let id = id.to_string();
        self.read(move |c| orders::order(c, &id)).await
    }

    async fn orders(&self, filter: crate::OrderFilter) -> Result<Vec<crate::StoredOrder>> {
        self.read(move |c| orders::orders(c, &filter)).await
    }

    async fn due_reservations(&self, now: Timestamp, limit: i64) -> Result<Vec<ReservationId>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id FROM reservations WHERE status = 'active' AND expires_at IS NOT NULL
                 AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
            )?;
            let ids = stmt
                .query_map(params![now.0, limit], |r| {
                    orders::id(r, 0, ReservationId::parse)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ids)
        })
        .await
    }
}
