//! What storefronts are told as the event log moves: a publisher follows the log's events of
//! one type for its connector's channel (`availability.changed` for stock, `price.changed`
//! for prices) and hands each SKU's newest figure to the storefront's pack. Changes are
//! coalesced per SKU, newest figure winning, so a flash sale's thousand moves of one SKU
//! become one call; calls keep to the connector's `rate_per_sec`, and throttling or an
//! unreachable storefront waits and tries the same figures again. How far the log was taken
//! is kept per connector and feed (a restart goes on from there; a new connector publishes
//! every SKU's figure once). How long each figure took from the commit that changed it to the
//! storefront taking it is kept by connector and feed, for `/metrics`.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossdock_engine::runner::JobResult;
use crossdock_engine::{Inventory, Shutdown};
use crossdock_store::{Store, TYPED_SCAN};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabels {
    connector: String,
    feed: &'static str,
}

/// How long figures took from the commit that changed them (the event's time) to the
/// storefront taking them, by connector and feed (the event type followed). Cheap to clone;
/// every clone counts into the same histograms. The latest figures' times are kept too, for
/// the inventory propagation SLA's rolling window.
#[derive(Clone, Debug)]
pub struct Propagation {
    seconds: Family<FeedLabels, Histogram, fn() -> Histogram>,
    /// (when the storefront took it, how long it took), in milliseconds, oldest first.
    recent: Arc<Mutex<VecDeque<(i64, i64)>>>,
}

/// The event stock figures come from.
const STOCK_EVENT: &str = "availability.changed";

/// Figures whose times are kept for the SLA's window; older ones are let go as new ones come.
pub const RECENT_KEPT: usize = 100_000;

impl Default for Propagation {
    fn default() -> Self {
        // 10 ms to about 80 minutes.
        fn seconds() -> Histogram {
            Histogram::new(exponential_buckets(0.01, 2.0, 19))
        }
        Propagation {
            seconds: Family::new_with_constructor(seconds),
            recent: Arc::default(),
        }
    }
}

impl Propagation {
    /// Registers the histograms as `propagation_seconds` in `registry`.
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "propagation_seconds",
            "From the commit that changed a figure (availability.changed, price.changed) to the \
             storefront taking it, by connector and feed",
            self.seconds.clone(),
        );
    }

    /// The stock figures of the last [`RECENT_KEPT`]: (when the storefront took it, how long
    /// it took), in milliseconds, oldest first.
    pub fn recent(&self) -> Vec<(i64, i64)> {
        let recent = self.recent.lock().expect("never poisoned");
        recent.iter().copied().collect()
    }

    fn observe(&self, connector: &str, feed: &'static str, taken_at: i64, took_ms: i64) {
        let labels = FeedLabels {
            connector: connector.to_string(),
            feed,
        };
        (self.seconds.get_or_create(&labels)).observe(took_ms as f64 / 1000.0);
        if feed == STOCK_EVENT {
            let mut recent = self.recent.lock().expect("never poisoned");
            if recent.len() == RECENT_KEPT {
                recent.pop_front();
            }
            recent.push_back((taken_at, took_ms));
        }
    }
}

/// Events read from the log at a time.
const PER_READ: i64 = 5_000;

/// How long an idle publisher waits before looking at the log again.
const IDLE: Duration = Duration::from_millis(200);

/// Units by SKU, newest figure of each.
pub type Figures = BTreeMap<String, i64>;

/// What a publisher carries from the log to a storefront, and how the storefront takes it.
pub trait Feed: Send + 'static {
    /// One SKU's figure.
    type Figure: Send + Sync;
    /// The type of event followed.
    const EVENT: &'static str;
    /// Where `connector`'s place in the log is kept for this feed.
    fn cursor(connector: &str) -> String;
    /// The SKU and figure one event's `data` gives `channel`, if it concerns it.
    fn figure(channel: &str, data: &serde_json::Value) -> Option<(String, Self::Figure)>;
    /// Hands `figures` (newest per SKU) to the storefront, each call through `pace`; `Err`
    /// carries how long to wait before trying the same figures again.
    fn publish(
        &mut self,
        pace: &Pace,
        figures: &BTreeMap<String, Self::Figure>,
    ) -> impl Future<Output = Result<(), Option<Duration>>> + Send;
}

/// Stock: each SKU's `available_now` on the channel, set through a [`StockTarget`].
pub struct Stock<T>(pub T);

impl<T: StockTarget> Feed for Stock<T> {
    type Figure = i64;
    const EVENT: &'static str = STOCK_EVENT;

    fn cursor(connector: &str) -> String {
        connector.to_string()
    }

    fn figure(channel: &str, data: &serde_json::Value) -> Option<(String, i64)> {
        let c = (data["channels"].as_array().into_iter().flatten())
            .find(|c| c["channel"] == channel)?;
        let sku = data["sku"].as_str()?;
        Some((sku.to_string(), c["available_now"].as_i64().unwrap_or(0)))
    }

    async fn publish(&mut self, pace: &Pace, figures: &Figures) -> Result<(), Option<Duration>> {
        self.0.set(pace, figures).await
    }
}

/// How a storefront's pack sets stock figures there.
pub trait StockTarget: Send + 'static {
    /// Sets `figures`, each call through `pace`; `Err` carries how long to wait before
    /// trying the same figures again.
    fn set(
        &mut self,
        pace: &Pace,
        figures: &Figures,
    ) -> impl Future<Output = Result<(), Option<Duration>>> + Send;
}

/// Calls to one connector, spaced to its rate.
pub struct Pace {
    connector: String,
    /// Between two calls, at least.
    spacing: Duration,
}

impl Pace {
    /// Calls as `connector`, at most `rate_per_sec` a second.
    pub fn new(connector: &str, rate_per_sec: f64) -> Self {
        Self {
            connector: connector.to_string(),
            spacing: Duration::from_secs_f64(1.0 / rate_per_sec.max(0.01)),
        }
    }

    /// The connector's name.
    pub fn connector(&self) -> &str {
        &self.connector
    }

    /// One call, at the connector's rate, answered as it was.
    pub async fn attempt<T>(
        &self,
        call: impl Future<Output = Result<T, JobResult>>,
    ) -> Result<T, JobResult> {
        tokio::time::sleep(self.spacing).await;
        call.await
    }

    /// One call, at the connector's rate; a failure says how long to wait.
    pub async fn call<T>(
        &self,
        call: impl Future<Output = Result<T, JobResult>>,
    ) -> Result<T, Option<Duration>> {
        self.attempt(call).await.map_err(|result| self.wait(result))
    }

    /// How long to wait after a failed call, noted in the log.
    pub fn wait(&self, result: JobResult) -> Option<Duration> {
        match result {
            JobResult::Transient { error, retry_after } => {
                tracing::info!(connector = self.connector, error, "publisher waits");
                retry_after
            }
            other => {
                tracing::warn!(connector = self.connector, result = ?other,
                               "publisher: the storefront refused a call");
                None
            }
        }
    }
}

/// Publishes one feed of a storefront connector's channel.
pub struct Publisher<F> {
    channel: String,
    inventory: Inventory,
    pace: Pace,
    feed: F,
    propagation: Propagation,
}

impl<F: Feed> Publisher<F> {
    /// The publisher of `channel`'s figures through `feed`, as `pace`'s connector, timing
    /// each figure into `propagation`.
    pub fn new(
        channel: &str,
        inventory: Inventory,
        pace: Pace,
        feed: F,
        propagation: Propagation,
    ) -> Self {
        Self {
            channel: channel.to_string(),
            inventory,
            pace,
            feed,
            propagation,
        }
    }

    /// Runs until `shutdown`.
    pub async fn run(mut self, shutdown: Shutdown) {
        let mut backoff = Duration::from_secs(1);
        while !shutdown.is_triggered() {
            match self.publish_some().await {
                Ok(true) => backoff = Duration::from_secs(1),
                Ok(false) => sleep_or_stop(IDLE, &shutdown).await,
                Err(wait) => {
                    sleep_or_stop(wait.unwrap_or(backoff), &shutdown).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// Publishes what changed after the cursor; true when the log had anything to read.
    /// `Err` carries how long to wait before trying the same again.
    async fn publish_some(&mut self) -> Result<bool, Option<Duration>> {
        let store = self.inventory.store().clone();
        let connector = self.pace.connector().to_string();
        let cursor = F::cursor(&connector);
        let failed = |e: crossdock_store::StoreError| {
            tracing::warn!(connector, error = %e, "publisher: store");
            None
        };
        let after = store.cursor(&cursor).await.map_err(failed)?.unwrap_or(0);
        // The log's end before the read: every event up to it is visible to the read.
        let last = store.last_seq().await.map_err(failed)?;
        if last <= after {
            return Ok(false);
        }
        let types = Some(vec![F::EVENT.to_string()]);
        let events = store
            .events_after(after, PER_READ, types)
            .await
            .map_err(failed)?;
        let next = match events.last() {
            Some(e) if events.len() as i64 == PER_READ => e.seq,
            _ => after.saturating_add(TYPED_SCAN).min(last).max(after),
        };
        // Newest figure wins.
        let mut figures = BTreeMap::new();
        let mut changed_at = Vec::new();
        for e in &events {
            if let Some((sku, figure)) = F::figure(&self.channel, &e.data) {
                figures.insert(sku, figure);
                changed_at.push(e.occurred_at);
            }
        }
        if !figures.is_empty() {
            self.feed.publish(&self.pace, &figures).await?;
            let taken = crossdock_engine::now();
            for at in changed_at {
                let took = taken.0.saturating_sub(at.0).max(0);
                (self.propagation).observe(&connector, F::EVENT, taken.0, took);
            }
        }
        store
            .set_cursor(&cursor, next, crossdock_engine::now())
            .await
            .map_err(failed)?;
        Ok(true)
    }
}

async fn sleep_or_stop(wait: Duration, shutdown: &Shutdown) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = shutdown.wait() => {}
    }
}
