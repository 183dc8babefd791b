//! Availability out to Shopify: a shop with `auth` and a `location_id` follows the event log's
//! `availability.changed` and sets each SKU's `available` quantity at its location to the
//! channel's `available_now` (`inventorySetQuantities`, up to 250 SKUs a call). Changes are
//! coalesced per SKU, newest figure winning, so a flash sale's thousand moves of one SKU
//! become one call; calls keep to the connector's `rate_per_sec`, and throttling or an
//! unreachable shop waits and tries the same figures again. How far the log was taken is kept
//! per connector (a restart goes on from there; a new connector publishes every SKU's figure
//! once). A SKU's inventory item is its item binding for the connector, else the shop's
//! answer to a lookup by SKU, kept as the binding; a SKU the shop does not sell is passed
//! over, once noted in the log.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crossdock_domain::{Binding, BindingKind};
use crossdock_engine::runner::JobResult;
use crossdock_engine::{Inventory, Shutdown};
use crossdock_store::{Store, TYPED_SCAN};

use super::admin::ShopifyAdmin;

/// SKUs a call sets at most.
const PER_CALL: usize = 250;

/// Events read from the log at a time.
const PER_READ: i64 = 5_000;

/// How long an idle publisher waits before looking at the log again.
const IDLE: Duration = Duration::from_millis(200);

/// Publishes one shop's channel figures.
pub struct StockPublisher {
    connector: String,
    channel: String,
    location: String,
    admin: Arc<ShopifyAdmin>,
    inventory: Inventory,
    /// Between two calls, at least.
    spacing: Duration,
    /// Inventory items by SKU, as the shop answered; `None` for a SKU it does not sell.
    items: BTreeMap<String, Option<String>>,
}

impl StockPublisher {
    /// The publisher of `channel`'s figures to `admin` at `location`, as `connector`.
    pub fn new(
        connector: &str,
        channel: &str,
        location: &str,
        admin: Arc<ShopifyAdmin>,
        inventory: Inventory,
        rate_per_sec: f64,
    ) -> Self {
        Self {
            connector: connector.to_string(),
            channel: channel.to_string(),
            location: location.to_string(),
            admin,
            inventory,
            spacing: Duration::from_secs_f64(1.0 / rate_per_sec.max(0.01)),
            items: BTreeMap::new(),
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
        let connector = self.connector.clone();
        let failed = |e: crossdock_store::StoreError| {
            tracing::warn!(connector, error = %e, "stock publisher: store");
            None
        };
        let after = store.cursor(&connector).await.map_err(failed)?.unwrap_or(0);
        // The log's end before the read: every event up to it is visible to the read.
        let last = store.last_seq().await.map_err(failed)?;
        if last <= after {
            return Ok(false);
        }
        let types = Some(vec!["availability.changed".to_string()]);
        let events = store
            .events_after(after, PER_READ, types)
            .await
            .map_err(failed)?;
        let next = match events.last() {
            Some(e) if events.len() as i64 == PER_READ => e.seq,
            _ => after.saturating_add(TYPED_SCAN).min(last).max(after),
        };
        // Newest figure wins.
        let mut figures: BTreeMap<String, i64> = BTreeMap::new();
        for e in &events {
            let channel = (e.data["channels"].as_array().into_iter().flatten())
                .find(|c| c["channel"] == self.channel.as_str());
            if let (Some(sku), Some(c)) = (e.data["sku"].as_str(), channel) {
                figures.insert(sku.to_string(), c["available_now"].as_i64().unwrap_or(0));
            }
        }
        self.publish(&figures).await?;
        store
            .set_cursor(&connector, next, crossdock_engine::now())
            .await
            .map_err(failed)?;
        Ok(true)
    }

    /// The inventory items of `skus` the connector's item bindings name.
    async fn bound(&mut self, skus: &[&str]) -> Result<(), Option<Duration>> {
        let store = self.inventory.store();
        let keys = skus.iter().map(|s| s.to_string()).collect();
        match store.bound(&self.connector, BindingKind::Item, keys).await {
            Ok(bound) => {
                for (sku, item) in bound {
                    self.items.insert(sku, Some(item));
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(connector = self.connector, error = %e, "cannot read item bindings");
                Err(None)
            }
        }
    }

    /// Keeps the inventory items the shop named as the connector's item bindings, so an
    /// operator sees them (`GET /v1/bindings`) and a restart need not ask again.
    async fn keep(&self, found: &BTreeMap<String, String>) {
        let bindings: Vec<Binding> = (found.iter())
            .map(|(sku, item)| Binding {
                connector: self.connector.clone(),
                kind: BindingKind::Item,
                ours: sku.clone(),
                theirs: item.clone(),
            })
            .filter(|b| b.problem().is_none())
            .collect();
        if bindings.is_empty() {
            return;
        }
        let store = self.inventory.store();
        if let Err(e) = store.put_bindings(bindings, crossdock_engine::now()).await {
            tracing::warn!(connector = self.connector, error = %e, "cannot keep item bindings");
        }
    }

    /// Sets `figures` (units by SKU) in the shop. A SKU's inventory item is its item binding,
    /// else the shop's answer to a lookup by SKU (then kept as its binding).
    async fn publish(&mut self, figures: &BTreeMap<String, i64>) -> Result<(), Option<Duration>> {
        let unknown = |items: &BTreeMap<String, Option<String>>| -> Vec<String> {
            (figures.keys())
                .filter(|s| !items.contains_key(s.as_str()))
                .cloned()
                .collect()
        };
        let first = unknown(&self.items);
        if !first.is_empty() {
            let skus: Vec<&str> = first.iter().map(String::as_str).collect();
            self.bound(&skus).await?;
        }
        let unknown = unknown(&self.items);
        let unknown: Vec<&str> = unknown.iter().map(String::as_str).collect();
        for chunk in unknown.chunks(50) {
            let found = self.call(self.admin.inventory_items(chunk)).await?;
            self.keep(&found).await;
            for sku in chunk {
                let item = found.get(*sku).cloned();
                if item.is_none() {
                    tracing::info!(
                        connector = self.connector,
                        sku,
                        "the shop does not sell this SKU; its stock is not published there"
                    );
                }
                self.items.insert(sku.to_string(), item);
            }
        }
        let quantities: Vec<(String, i64)> = figures
            .iter()
            .filter_map(|(sku, qty)| Some((self.items.get(sku)?.clone()?, *qty)))
            .collect();
        for chunk in quantities.chunks(PER_CALL) {
            let refused = self
                .call(self.admin.set_available(&self.location, chunk))
                .await?;
            if !refused.is_empty() {
                let skus: BTreeSet<&str> = figures.keys().map(String::as_str).collect();
                tracing::warn!(connector = self.connector, refused = ?refused, skus = skus.len(),
                               "the shop refused some stock figures");
            }
        }
        Ok(())
    }

    /// One call to the shop, at the connector's rate; a failure says how long to wait.
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, JobResult>>,
    ) -> Result<T, Option<Duration>> {
        tokio::time::sleep(self.spacing).await;
        call.await.map_err(|result| match result {
            JobResult::Transient { error, retry_after } => {
                tracing::info!(connector = self.connector, error, "stock publisher waits");
                retry_after
            }
            other => {
                tracing::warn!(connector = self.connector, result = ?other, "stock publisher: the shop refused a call");
                None
            }
        })
    }
}

async fn sleep_or_stop(wait: Duration, shutdown: &Shutdown) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = shutdown.wait() => {}
    }
}
