//! crossdock's storage: the [`Store`] trait and its two backends, SQLite (embedded, the
//! default) and PostgreSQL (several instances), chosen by the URL scheme.
//!
//! Writes arrive as batches of [`Command`]s. A backend holds still every SKU the batch
//! touches, runs the domain's [`Ledger`](crossdock_domain::ledger::Ledger) over the batch, and
//! writes the result with its events in one transaction.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;

use crossdock_domain::ledger::{Command, Outcome, Reservation};
use crossdock_domain::{Estate, ReservationId, Sku, SkuState, Timestamp};
use serde::Serialize;

/// Runs a method on whichever backend an [`AnyStore`] holds.
macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e.await,
            AnyStore::Postgres($s) => $e.await,
        }
    };
}

mod batch;
pub mod bindings;
pub mod inbound;
pub mod jobs;
pub mod keys;
mod migrations;
mod needs;
pub mod postgres;
pub mod prices;
mod records;
pub mod routing;
mod rows;
pub mod sqlite;
pub mod subscriptions;
pub mod trace;

pub use bindings::{BindingQuery, StoredBinding};
pub use inbound::{ParkedJob, Rejection};
pub use jobs::{
    Exception, ExceptionAction, ExceptionFilter, Job, JobFilter, JobFinish, LeaseRequest, Waiting,
};
pub use keys::{KeyStore, StoredKey};
pub use postgres::PgStore;
pub use prices::{PricePush, PriceQuery, PriceSeen, PushOutcome, StoredPrice};
pub use records::{Invoice, Return, ReturnedUnits, Shipment, StoredOrder, Transition, Units};
pub use routing::ErpAssignments;
pub use sqlite::SqliteStore;
pub use subscriptions::{
    Attempt, AttemptOutcome, AttemptQuery, DueDelivery, Followed, Subscription, SubscriptionStore,
};
pub use trace::{JobAttempt, Trace, TraceStore};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend we have.
    #[error("unsupported store URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    /// Another process is writing the same SQLite file.
    #[error("{0}")]
    Locked(String),
    /// The SQLite writer thread is gone.
    #[error("the store's writer has stopped")]
    WriterStopped,
    /// The store could not be set up as asked.
    #[error("{0}")]
    Setup(String),
    /// A stored row could not be read back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database's applied migrations are not the binary's.
    #[error("{0}")]
    MigrationDrift(String),
    /// A migration failed.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// Its version.
        version: i64,
        /// Its name.
        name: &'static str,
        /// Why.
        source: Box<StoreError>,
    },
}

impl From<crossdock_domain::ids::IdError> for StoreError {
    fn from(e: crossdock_domain::ids::IdError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A batch of commands to commit together.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The commands, applied in order.
    pub commands: Vec<Command>,
    /// The estate the rules come from.
    pub estate: Arc<Estate>,
    /// The time the batch is applied at.
    pub now: Timestamp,
}

/// What a committed batch did.
#[derive(Debug, Clone)]
pub struct Committed {
    /// One outcome per command, in order.
    pub outcomes: Vec<Outcome>,
    /// The state after the batch of every SKU it touched (shared: a merged commit hands the
    /// same states to each of its callers).
    pub states: Vec<Arc<SkuState>>,
    /// Sequence numbers of the events appended, `first..=last`; `None` if none were.
    pub seqs: Option<(i64, i64)>,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    /// Position in the log; gap-free per store.
    pub seq: i64,
    /// Dotted type, e.g. `availability.changed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it was recorded.
    pub occurred_at: Timestamp,
    /// The SKU it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The payload.
    pub data: serde_json::Value,
}

/// A read of the event log filtered by type looks at most this many events past `after`,
/// so a rare type costs the same as a common one: the caller goes on from
/// `after + TYPED_SCAN` (or the last event) when fewer than it asked for came back.
pub const TYPED_SCAN: i64 = 20_000;

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only in this state.
    pub state: Option<String>,
    /// Only from this channel.
    pub channel: Option<String>,
    /// Only taken in at or after this time.
    pub since: Option<Timestamp>,
    /// Only with this order id in its channel (the natural key's second half).
    pub external_id: Option<String>,
    /// Only orders past this one in the list's order (a page's last id: the cursor to the
    /// next page).
    pub after: Option<String>,
    /// Only orders with lines waiting for stock.
    pub waiting: bool,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    /// At most this many.
    pub limit: i64,
}

/// The condition a list of orders adds for [`OrderFilter::waiting`]: written out, so the
/// planner can use the partial index of waiting orders.
pub(crate) fn waiting_clause(f: &OrderFilter) -> &'static str {
    if f.waiting { "AND waiting > 0" } else { "" }
}

/// Storage for the inventory ledger. Both backends pass the same conformance suite.
pub trait Store: Send + Sync + 'static {
    /// Applies a batch atomically: all of its writes and events, or nothing.
    fn commit(&self, batch: Batch) -> impl Future<Output = Result<Committed>> + Send;

    /// Current state of the given SKUs, or of every SKU in the item master when `None`.
    fn load_states(
        &self,
        skus: Option<Vec<Sku>>,
    ) -> impl Future<Output = Result<Vec<SkuState>>> + Send;

    /// Events after `after`, oldest first, at most `limit`, optionally of the given types
    /// (then among the next [`TYPED_SCAN`] events only).
    fn events_after(
        &self,
        after: i64,
        limit: i64,
        types: Option<Vec<String>>,
    ) -> impl Future<Output = Result<Vec<EventRecord>>> + Send;

    /// The sequence number of the last event appended (0 when the log is empty).
    fn last_seq(&self) -> impl Future<Output = Result<i64>> + Send;

    /// A reservation by id.
    fn reservation(&self, id: &str) -> impl Future<Output = Result<Option<Reservation>>> + Send;

    /// An order with its history.
    fn order(&self, id: &str) -> impl Future<Output = Result<Option<StoredOrder>>> + Send;

    /// Orders matching `filter`, newest first, without history.
    fn orders(&self, filter: OrderFilter) -> impl Future<Output = Result<Vec<StoredOrder>>> + Send;

    /// Leases due jobs (and jobs whose lease lapsed) to a worker; each job goes to one worker.
    fn lease_jobs(&self, req: LeaseRequest) -> impl Future<Output = Result<Vec<Job>>> + Send;

    /// Ends a leased job. False when the lease was lost (it lapsed and another worker took
    /// the job over): then nothing changes.
    fn finish_job(
        &self,
        id: &str,
        owner: &str,
        finish: JobFinish,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Exceptions matching `filter`, newest first.
    fn exceptions(
        &self,
        filter: ExceptionFilter,
    ) -> impl Future<Output = Result<Vec<Exception>>> + Send;

    /// One exception.
    fn exception(&self, id: &str) -> impl Future<Output = Result<Option<Exception>>> + Send;

    /// Retries or resolves an exception; `None` when there is no such exception. A retry
    /// with `payload` replaces the job's payload first (edit and retry).
    fn act_on_exception(
        &self,
        id: &str,
        action: ExceptionAction,
        payload: Option<serde_json::Value>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Exception>>> + Send;

    /// Jobs matching `filter`.
    fn jobs(&self, filter: JobFilter) -> impl Future<Output = Result<Vec<Job>>> + Send;

    /// Forgets `Idempotency-Key`s recorded before `before`; returns how many. Orders keep
    /// their natural key forever.
    fn purge_idempotency_keys(&self, before: Timestamp)
    -> impl Future<Output = Result<u64>> + Send;

    /// How many jobs wait for `system` (ready, due or not).
    fn backlog(&self, system: &str) -> impl Future<Output = Result<i64>> + Send;

    /// Waiting jobs (ready or leased) by system and kind, with the oldest due as of `now`.
    fn waiting_jobs(&self, now: Timestamp) -> impl Future<Output = Result<Vec<Waiting>>> + Send;

    /// Makes every job waiting for `system` (sitting out a backoff) due now, oldest first (each
    /// as of when it was written); returns how many. For when the system is back: its backlog
    /// goes out at once, in the order it came, within the system's rate.
    fn hasten_jobs(&self, system: &str, now: Timestamp)
    -> impl Future<Output = Result<u64>> + Send;

    /// The last credit status recorded for `account`, with when it was checked.
    fn credit_status(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Option<(String, Timestamp)>>> + Send;

    /// Records the credit status the ERP gave for `account` at `at`.
    fn record_credit_status(
        &self,
        account: &str,
        status: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Ids of active reservations whose time ran out by `now`, oldest first.
    fn due_reservations(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<ReservationId>>> + Send;

    /// Keeps an inbound payload that could not be taken in as a failed job, opening (or
    /// reopening) its exception. The same payload parked again is the same job.
    fn park_job(&self, job: ParkedJob, now: Timestamp) -> impl Future<Output = Result<()>> + Send;

    /// Keeps a webhook delivery refused for its signature (the newest
    /// [`inbound::REJECTIONS_KEPT`] per connector).
    fn record_rejection(&self, rejection: Rejection) -> impl Future<Output = Result<()>> + Send;

    /// How far `connector` has followed the event log (`None`: not begun).
    fn cursor(&self, connector: &str) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// Records that `connector` has followed the event log to `seq` (a cursor never moves
    /// back).
    fn set_cursor(
        &self,
        connector: &str,
        seq: i64,
        now: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Rejections, newest first, of one connector or all, at most `limit`.
    fn rejections(
        &self,
        connector: Option<String>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Rejection>>> + Send;

    /// Sets bindings (the last of one key in the list wins), all or none; how many changed.
    fn put_bindings(
        &self,
        bindings: Vec<crossdock_domain::Binding>,
        now: Timestamp,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Bindings by `query`, oldest first.
    fn bindings(
        &self,
        query: BindingQuery,
    ) -> impl Future<Output = Result<Vec<StoredBinding>>> + Send;

    /// The system's ids that `connector` binds to these keys of ours, by our key (a key
    /// nobody bound is left out).
    fn bound(
        &self,
        connector: &str,
        kind: crossdock_domain::BindingKind,
        ours: Vec<String>,
    ) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>>> + Send;

    /// Prices by `query`, by channel then SKU.
    fn prices(&self, query: PriceQuery) -> impl Future<Output = Result<Vec<StoredPrice>>> + Send;

    /// Records prices pushed to `channel` at `at`, with what the channel said of each.
    fn record_price_pushes(
        &self,
        channel: &str,
        pushes: Vec<PricePush>,
        at: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Either backend, chosen at run time from the URL.
#[derive(Clone)]
pub enum AnyStore {
    /// The embedded store.
    Sqlite(SqliteStore),
    /// The scale-out store.
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens the store at `url` (`sqlite://PATH` or `postgres://…`) and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(AnyStore::Sqlite(SqliteStore::open(path).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(AnyStore::Postgres(PgStore::connect(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    /// The backend's name, for logs and reports.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// Copies SQLite's WAL back into the database and truncates it, for a clean stop (nothing
    /// to do on PostgreSQL).
    pub async fn checkpoint(&self) -> Result<()> {
        match self {
            AnyStore::Sqlite(s) => {
                let c = s.checkpoint().await?;
                if c.busy {
                    tracing::warn!("the WAL could not be truncated: a reader held on");
                }
                Ok(())
            }
            AnyStore::Postgres(_) => Ok(()),
        }
    }

    /// How many batches may be committed at once with profit.
    pub fn writers(&self) -> usize {
        match self {
            // One writer thread, which merges whatever is queued: keeping a few batches in
            // flight means it never waits for the next.
            AnyStore::Sqlite(_) => 4,
            AnyStore::Postgres(s) => s.writers(),
        }
    }
}

impl Store for AnyStore {
    async fn commit(&self, batch: Batch) -> Result<Committed> {
        delegate!(self, s => s.commit(batch))
    }
    async fn load_states(&self, skus: Option<Vec<Sku>>) -> Result<Vec<SkuState>> {
        delegate!(self, s => s.load_states(skus))
    }
    async fn events_after(
        &self,
        after: i64,
        limit: i64,
        types: Option<Vec<String>>,
    ) -> Result<Vec<EventRecord>> {
        delegate!(self, s => s.events_after(after, limit, types))
    }
    async fn last_seq(&self) -> Result<i64> {
        delegate!(self, s => s.last_seq())
    }
    async fn reservation(&self, id: &str) -> Result<Option<Reservation>> {
        delegate!(self, s => s.reservation(id))
    }
    async fn due_reservations(&self, now: Timestamp, limit: i64) -> Result<Vec<ReservationId>> {
        delegate!(self, s => s.due_reservations(now, limit))
    }
    async fn order(&self, id: &str) -> Result<Option<StoredOrder>> {
        delegate!(self, s => s.order(id))
    }
    async fn lease_jobs(&self, req: LeaseRequest) -> Result<Vec<Job>> {
        delegate!(self, s => s.lease_jobs(req))
    }
    async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        finish: JobFinish,
        now: Timestamp,
    ) -> Result<bool> {
        delegate!(self, s => s.finish_job(id, owner, finish, now))
    }
    async fn exceptions(&self, filter: ExceptionFilter) -> Result<Vec<Exception>> {
        delegate!(self, s => s.exceptions(filter))
    }
    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64> {
        delegate!(self, s => s.purge_idempotency_keys(before))
    }
    async fn hasten_jobs(&self, system: &str, now: Timestamp) -> Result<u64> {
        delegate!(self, s => s.hasten_jobs(system, now))
    }

    async fn backlog(&self, system: &str) -> Result<i64> {
        delegate!(self, s => s.backlog(system))
    }
    async fn waiting_jobs(&self, now: Timestamp) -> Result<Vec<Waiting>> {
        delegate!(self, s => s.waiting_jobs(now))
    }
    async fn credit_status(&self, account: &str) -> Result<Option<(String, Timestamp)>> {
        delegate!(self, s => s.credit_status(account))
    }
    async fn record_credit_status(&self, account: &str, status: &str, at: Timestamp) -> Result<()> {
        delegate!(self, s => s.record_credit_status(account, status, at))
    }
    async fn exception(&self, id: &str) -> Result<Option<Exception>> {
        delegate!(self, s => s.exception(id))
    }
    async fn act_on_exception(
        &self,
        id: &str,
        action: ExceptionAction,
        payload: Option<serde_json::Value>,
        now: Timestamp,
    ) -> Result<Option<Exception>> {
        delegate!(self, s => s.act_on_exception(id, action, payload, now))
    }
    async fn jobs(&self, filter: JobFilter) -> Result<Vec<Job>> {
        delegate!(self, s => s.jobs(filter))
    }
    async fn orders(&self, filter: OrderFilter) -> Result<Vec<StoredOrder>> {
        delegate!(self, s => s.orders(filter))
    }
    async fn park_job(&self, job: ParkedJob, now: Timestamp) -> Result<()> {
        delegate!(self, s => s.park_job(job, now))
    }
    async fn record_rejection(&self, rejection: Rejection) -> Result<()> {
        delegate!(self, s => s.record_rejection(rejection))
    }
    async fn rejections(&self, connector: Option<String>, limit: i64) -> Result<Vec<Rejection>> {
        delegate!(self, s => s.rejections(connector, limit))
    }
    async fn cursor(&self, connector: &str) -> Result<Option<i64>> {
        delegate!(self, s => s.cursor(connector))
    }
    async fn put_bindings(
        &self,
        bindings: Vec<crossdock_domain::Binding>,
        now: Timestamp,
    ) -> Result<u64> {
        delegate!(self, s => s.put_bindings(bindings, now))
    }
    async fn bindings(&self, query: BindingQuery) -> Result<Vec<StoredBinding>> {
        delegate!(self, s => s.bindings(query))
    }
    async fn bound(
        &self,
        connector: &str,
        kind: crossdock_domain::BindingKind,
        ours: Vec<String>,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        delegate!(self, s => s.bound(connector, kind, ours))
    }
    async fn prices(&self, query: PriceQuery) -> Result<Vec<StoredPrice>> {
        delegate!(self, s => s.prices(query))
    }
    async fn record_price_pushes(
        &self,
        channel: &str,
        pushes: Vec<PricePush>,
        at: Timestamp,
    ) -> Result<()> {
        delegate!(self, s => s.record_price_pushes(channel, pushes, at))
    }
    async fn set_cursor(&self, connector: &str, seq: i64, now: Timestamp) -> Result<()> {
        delegate!(self, s => s.set_cursor(connector, seq, now))
    }
}
