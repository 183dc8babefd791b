//! The inventory service: takes stock events, reservations and releases, commits them in
//! groups (one transaction for everything waiting), and answers availability from memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossdock_domain::ats::{ChannelAvailability, channel_availability};
use crossdock_domain::ledger::{Command, Outcome, Reservation};
use crossdock_domain::{Estate, OrderId, ReservationId, Sku, SkuState, Timestamp};
use crossdock_store::{
    AnyStore, Batch, EventRecord, Job, JobFilter, OrderFilter, Store, StoredOrder, TraceStore,
};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::config::InventoryConfig;
use crate::projection::Projection;
use crate::shutdown::Shutdown;

/// Requests waiting to be committed before callers are pushed back.
const QUEUE_DEPTH: usize = 65_536;

/// Why the inventory service could not do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The SKU is not in the item master.
    #[error("SKU `{0}` is not in the item master")]
    SkuUnknown(String),
    /// The channel is not configured.
    #[error("channel `{0}` is not configured")]
    ChannelUnknown(String),
    /// The store failed; nothing from the batch was written.
    #[error("the store could not commit: {0}")]
    StoreUnavailable(String),
    /// The service is stopping.
    #[error("crossdock is shutting down")]
    ShuttingDown,
}

impl From<crossdock_store::StoreError> for EngineError {
    fn from(e: crossdock_store::StoreError) -> Self {
        EngineError::StoreUnavailable(e.to_string())
    }
}

struct Request {
    commands: Vec<Command>,
    reply: oneshot::Sender<Result<Vec<Outcome>, EngineError>>,
}

/// What the service shares between its handle and its tasks.
struct Core {
    estate: Arc<Estate>,
    store: AnyStore,
    projection: Projection,
    batches: AtomicU64,
    commands: AtomicU64,
}

/// Counters, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Transactions committed.
    pub batches: u64,
    /// Commands committed in them.
    pub commands: u64,
}

/// Handle to the inventory service. Cheap to clone.
#[derive(Clone)]
pub struct Inventory {
    core: Arc<Core>,
    queue: mpsc::Sender<Request>,
    config: InventoryConfig,
}

/// The current time.
pub fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    )
}

/// The first `bytes` bytes of `input`'s SHA-256, in lowercase hex: for ids and hashes that
/// must come out the same for the same input.
pub(crate) fn sha256_hex(input: &[u8], bytes: usize) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(input);
    digest
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Inventory {
    /// Loads the projection and starts the committer, the reservation expiry and
    /// idempotency-key sweepers and (for PostgreSQL) the refresher that picks up other
    /// instances' commits.
    pub async fn start(
        estate: Estate,
        config: InventoryConfig,
        store: AnyStore,
        shutdown: Shutdown,
    ) -> Result<Self, EngineError> {
        let projection = Projection::load(&store).await?;
        let core = Arc::new(Core {
            estate: Arc::new(estate),
            store,
            projection,
            batches: AtomicU64::new(0),
            commands: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(commit_loop(core.clone(), rx, config.max_batch));
        let inventory = Self {
            core,
            queue: tx,
            config,
        };
        tokio::spawn(expire_loop(inventory.clone(), shutdown.clone()));
        tokio::spawn(forget_keys_loop(inventory.clone(), shutdown.clone()));
        if matches!(inventory.core.store, AnyStore::Postgres(_)) {
            tokio::spawn(refresh_loop(inventory.clone(), shutdown));
        }
        Ok(inventory)
    }

    /// The estate the rules run on.
    pub fn estate(&self) -> &Estate {
        &self.core.estate
    }

    /// The store.
    pub fn store(&self) -> &AnyStore {
        &self.core.store
    }

    /// The in-memory projection.
    pub fn projection(&self) -> &Projection {
        &self.core.projection
    }

    /// The settings.
    pub fn config(&self) -> &InventoryConfig {
        &self.config
    }

    /// Counters since start.
    pub fn stats(&self) -> Stats {
        Stats {
            batches: self.core.batches.load(Ordering::Relaxed),
            commands: self.core.commands.load(Ordering::Relaxed),
        }
    }

    /// Commits `commands` (with whatever else is waiting) and returns one outcome each.
    pub async fn submit(&self, commands: Vec<Command>) -> Result<Vec<Outcome>, EngineError> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Request { commands, reply })
            .await
            .map_err(|_| EngineError::ShuttingDown)?;
        rx.await.map_err(|_| EngineError::ShuttingDown)?
    }

    /// Commits one command.
    pub async fn submit_one(&self, command: Command) -> Result<Outcome, EngineError> {
        let mut out = self.submit(vec![command]).await?;
        Ok(out.pop().expect("one outcome per command"))
    }

    /// When a reservation asked for with `ttl_seconds` lapses: `None` asks for the default
    /// (an unpaid cart), `Some(0)` for never.
    pub fn expiry(&self, now: Timestamp, ttl_seconds: Option<u64>) -> Option<Timestamp> {
        match ttl_seconds.unwrap_or(self.config.default_ttl_seconds) {
            0 => None,
            secs => Some(now.plus_secs(secs.min(i64::MAX as u64) as i64)),
        }
    }

    /// A fresh reservation id.
    pub fn new_reservation_id() -> ReservationId {
        ReservationId::with_unique(&ulid::Ulid::new().to_string().to_lowercase())
    }

    /// The SKU's state as the projection has it.
    pub fn state(&self, sku: &str) -> Result<Arc<SkuState>, EngineError> {
        self.core
            .projection
            .get(sku)
            .ok_or_else(|| EngineError::SkuUnknown(sku.to_string()))
    }

    /// What `channel` may promise for `sku` now.
    pub fn availability(
        &self,
        sku: &str,
        channel: &str,
    ) -> Result<ChannelAvailability, EngineError> {
        let channel = self
            .core
            .estate
            .channel(channel)
            .ok_or_else(|| EngineError::ChannelUnknown(channel.to_string()))?;
        let state = self.state(sku)?;
        Ok(channel_availability(
            &self.core.estate,
            &state,
            channel,
            now(),
        ))
    }

    /// A reservation, from the store.
    pub async fn reservation(&self, id: &str) -> Result<Option<Reservation>, EngineError> {
        self.core
            .store
            .reservation(id)
            .await
            .map_err(EngineError::from)
    }

    /// Events after `after`, from the store.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
        types: Option<Vec<String>>,
    ) -> Result<Vec<EventRecord>, EngineError> {
        self.core
            .store
            .events_after(after, limit, types)
            .await
            .map_err(EngineError::from)
    }

    /// An order with its history, from the store.
    pub async fn order(&self, id: &str) -> Result<Option<StoredOrder>, EngineError> {
        self.core.store.order(id).await.map_err(EngineError::from)
    }

    /// Orders matching `filter`, from the store.
    pub async fn orders(&self, filter: OrderFilter) -> Result<Vec<StoredOrder>, EngineError> {
        self.core
            .store
            .orders(filter)
            .await
            .map_err(EngineError::from)
    }

    /// Outbox jobs matching `filter`, from the store.
    pub async fn jobs(&self, filter: JobFilter) -> Result<Vec<Job>, EngineError> {
        Ok(self.core.store.jobs(filter).await?)
    }

    /// A fresh correlation id, for requests that bring none.
    pub fn new_correlation_id() -> String {
        format!("corr_{}", ulid::Ulid::new().to_string().to_lowercase())
    }

    /// A fresh order id. Ids taken in one process increase, even within a millisecond, so
    /// orders sort by id in the order they came (backorders are served oldest first).
    pub fn new_order_id() -> OrderId {
        static IDS: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
        let id = {
            let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
            ids.get_or_insert_with(ulid::Generator::new)
                .generate()
                .unwrap_or_else(|_| ulid::Ulid::new())
        };
        OrderId::with_unique(&id.to_string().to_lowercase())
    }

    /// A fresh return (RMA) id.
    pub fn new_rma_id() -> String {
        format!("rma_{}", ulid::Ulid::new().to_string().to_lowercase())
    }

    /// A fresh shipment id.
    pub fn new_shipment_id() -> String {
        format!("shp_{}", ulid::Ulid::new().to_string().to_lowercase())
    }

    /// Whether the store answers.
    pub async fn ready(&self) -> Result<(), EngineError> {
        self.core
            .store
            .last_seq()
            .await
            .map(|_| ())
            .map_err(EngineError::from)
    }

    /// SKUs in the item master.
    pub fn skus(&self) -> Vec<Sku> {
        self.core.projection.skus()
    }
}

/// Takes everything waiting (up to `max_batch` commands) as one batch, as soon as a writer
/// is free. While a batch commits, the next one gathers.
async fn commit_loop(core: Arc<Core>, mut rx: mpsc::Receiver<Request>, max_batch: usize) {
    let writers = Arc::new(Semaphore::new(core.store.writers()));
    loop {
        let Ok(permit) = writers.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut size = first.commands.len();
        let mut group = vec![first];
        while size < max_batch {
            match rx.try_recv() {
                Ok(r) => {
                    size += r.commands.len();
                    group.push(r);
                }
                Err(_) => break,
            }
        }
        let core = core.clone();
        tokio::spawn(async move {
            commit_group(&core, group).await;
            drop(permit);
        });
    }
}

async fn commit_group(core: &Core, group: Vec<Request>) {
    let lens: Vec<usize> = group.iter().map(|r| r.commands.len()).collect();
    let (commands, replies): (Vec<Vec<Command>>, Vec<_>) =
        group.into_iter().map(|r| (r.commands, r.reply)).unzip();
    let commands: Vec<Command> = commands.into_iter().flatten().collect();
    // Kept only when a failure would need them: to retry each request on its own.
    let spare = (replies.len() > 1).then(|| commands.clone());
    match commit(core, commands).await {
        Ok(outcomes) => {
            let mut outcomes = outcomes.into_iter();
            for (reply, n) in replies.into_iter().zip(lens) {
                let _ = reply.send(Ok(outcomes.by_ref().take(n).collect()));
            }
        }
        Err(e) if spare.is_some() => {
            // One request may have poisoned the batch: commit each on its own.
            tracing::warn!(error = %e, requests = replies.len(), "batch failed; retrying one by one");
            let mut commands = spare.into_iter().flatten();
            for (reply, n) in replies.into_iter().zip(lens) {
                let own: Vec<Command> = commands.by_ref().take(n).collect();
                let _ = reply.send(commit(core, own).await);
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

async fn commit(core: &Core, commands: Vec<Command>) -> Result<Vec<Outcome>, EngineError> {
    let n = commands.len() as u64;
    let batch = Batch {
        commands,
        estate: core.estate.clone(),
        now: now(),
    };
    let committed = core.store.commit(batch).await.map_err(|e| {
        tracing::warn!(error = %e, "store commit failed");
        EngineError::StoreUnavailable(e.to_string())
    })?;
    core.batches.fetch_add(1, Ordering::Relaxed);
    core.commands.fetch_add(n, Ordering::Relaxed);
    if let Err(e) = core.projection.apply(&core.store, &committed).await {
        // Committed but not yet reflected: the refresher or the next commit catches up.
        tracing::warn!(error = %e, "projection update failed");
    }
    Ok(committed.outcomes)
}

/// Releases reservations whose time ran out.
async fn expire_loop(inventory: Inventory, shutdown: Shutdown) {
    let every = Duration::from_millis(inventory.config.expiry_sweep_ms.max(10));
    loop {
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let due = match inventory.core.store.due_reservations(now(), 1_000).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for expired reservations");
                continue;
            }
        };
        if due.is_empty() {
            continue;
        }
        let count = due.len();
        let releases = due
            .into_iter()
            .map(|id| Command::Release { id, expired: true })
            .collect();
        match inventory.submit(releases).await {
            Ok(_) => tracing::info!(count, "expired reservations released"),
            Err(e) => tracing::warn!(error = %e, "cannot release expired reservations"),
        }
    }
}

/// How long every try of a job is kept for its transaction's trace: a week.
pub const TRIES_KEPT_MS: i64 = 7 * 24 * 3_600_000;

/// Forgets idempotency keys older than their time to live, and tries of jobs older than
/// [`TRIES_KEPT_MS`], once a minute.
async fn forget_keys_loop(inventory: Inventory, shutdown: Shutdown) {
    let ttl_ms = inventory
        .config
        .idempotency_key_ttl_hours
        .saturating_mul(3_600_000)
        .min(i64::MAX as u64) as i64;
    loop {
        let before = Timestamp(now().0.saturating_sub(ttl_ms));
        match inventory.core.store.purge_idempotency_keys(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "forgot expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "cannot forget expired idempotency keys"),
        }
        let before = Timestamp(now().0.saturating_sub(TRIES_KEPT_MS));
        match inventory.core.store.purge_attempts(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "forgot the tries of jobs a week old"),
            Err(e) => tracing::warn!(error = %e, "cannot forget old tries of jobs"),
        }
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}

/// Picks up commits made by other instances sharing the store.
async fn refresh_loop(inventory: Inventory, shutdown: Shutdown) {
    let every = Duration::from_millis(inventory.config.refresh_ms.max(10));
    loop {
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = inventory
            .core
            .projection
            .catch_up(&inventory.core.store)
            .await
        {
            tracing::warn!(error = %e, "cannot refresh availability from the store");
        }
    }
}
