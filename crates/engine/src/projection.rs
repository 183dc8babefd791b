//! The in-memory availability projection: every SKU's state, updated after each commit, so
//! ATS is answered without touching the store.
//!
//! Commits from this instance hand their states over directly, in sequence order. When the
//! sequence shows a gap that this instance will not fill (another instance committed in
//! between), the projection reads the events it missed and reloads the SKUs they touched. The
//! store stays the truth.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crossdock_domain::{Sku, SkuState};
use crossdock_store::{AnyStore, Committed, Result, Store};
use tokio::sync::{Mutex, Notify};

const CATCH_UP_PAGE: i64 = 5_000;
/// How long a commit waits for the one before it before reading the gap from the store.
const TURN_WAIT: Duration = Duration::from_secs(1);

/// SKU states in memory.
pub struct Projection {
    states: RwLock<HashMap<Sku, Arc<SkuState>>>,
    /// Sequence of the last event reflected; held while updating so updates apply in order.
    applied: Mutex<i64>,
    /// Woken whenever `applied` moves.
    turn: Notify,
    /// True when this instance is the store's only writer (SQLite): every gap in the
    /// sequence is one of its own commits still on its way, so it is waited for.
    only_writer: bool,
}

impl Projection {
    /// Loads every SKU from the store.
    pub async fn load(store: &AnyStore) -> Result<Self> {
        let last = store.last_seq().await?;
        let states = store.load_states(None).await?;
        let map = states
            .into_iter()
            .map(|s| (s.sku.clone(), Arc::new(s)))
            .collect();
        Ok(Self {
            states: RwLock::new(map),
            applied: Mutex::new(last),
            turn: Notify::new(),
            only_writer: matches!(store, AnyStore::Sqlite(_)),
        })
    }

    /// The state of `sku`, if the item master has it.
    pub fn get(&self, sku: &str) -> Option<Arc<SkuState>> {
        self.states
            .read()
            .expect("projection poisoned")
            .get(sku)
            .cloned()
    }

    /// How many SKUs are held.
    pub fn len(&self) -> usize {
        self.states.read().expect("projection poisoned").len()
    }

    /// True when no SKU is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every SKU held, sorted.
    pub fn skus(&self) -> Vec<Sku> {
        let mut v: Vec<Sku> = self
            .states
            .read()
            .expect("projection poisoned")
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// Sequence of the last event reflected.
    pub async fn applied_seq(&self) -> i64 {
        *self.applied.lock().await
    }

    fn put(&self, states: impl IntoIterator<Item = Arc<SkuState>>) {
        let mut map = self.states.write().expect("projection poisoned");
        for s in states {
            map.insert(s.sku.clone(), s);
        }
    }

    /// Reflects a commit of this instance.
    pub async fn apply(&self, store: &AnyStore, committed: &Committed) -> Result<()> {
        let Some((first, last)) = committed.seqs else {
            return Ok(());
        };
        let deadline = tokio::time::Instant::now() + TURN_WAIT;
        loop {
            let turn = self.turn.notified();
            tokio::pin!(turn);
            turn.as_mut().enable();
            {
                let mut applied = self.applied.lock().await;
                if last <= *applied {
                    return Ok(());
                }
                if first == *applied + 1 {
                    self.put(committed.states.iter().cloned());
                    *applied = last;
                    self.turn.notify_waiters();
                    return Ok(());
                }
                if !self.only_writer || tokio::time::Instant::now() >= deadline {
                    let result = self.catch_up_locked(store, &mut applied).await;
                    self.turn.notify_waiters();
                    return result;
                }
            }
            let _ = tokio::time::timeout_at(deadline, turn).await;
        }
    }

    /// Reflects whatever other instances committed since the last update.
    pub async fn catch_up(&self, store: &AnyStore) -> Result<()> {
        let mut applied = self.applied.lock().await;
        let result = self.catch_up_locked(store, &mut applied).await;
        self.turn.notify_waiters();
        result
    }

    async fn catch_up_locked(&self, store: &AnyStore, applied: &mut i64) -> Result<()> {
        loop {
            let events = store.events_after(*applied, CATCH_UP_PAGE, None).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(());
            };
            let skus: BTreeSet<Sku> = events
                .iter()
                .filter_map(|e| e.sku.as_deref().and_then(|s| Sku::parse(s).ok()))
                .collect();
            if !skus.is_empty() {
                let states = store.load_states(Some(skus.into_iter().collect())).await?;
                self.put(states.into_iter().map(Arc::new));
            }
            *applied = last;
            if (events.len() as i64) < CATCH_UP_PAGE {
                return Ok(());
            }
        }
    }
}
