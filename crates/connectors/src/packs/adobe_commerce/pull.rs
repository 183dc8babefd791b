//! Orders in from Adobe Commerce, pulled: every `poll_secs`, the orders changed since the
//! watermark (`updated_at`, kept per connector) are read a page at a time, oldest change
//! first, and each is taken in as a delivery of topic `orders` would be (mapped, placed or
//! cancelled, or parked in the exception queue with its payload). The watermark moves only
//! once a page is taken in, so a crash re-reads that page rather than losing it; reading
//! again is harmless, since an order is taken in once by its natural key. Each pass starts
//! [`LOOKBACK`] before the watermark, for an order Adobe Commerce committed late with an
//! earlier time. A connector pulling for the first time starts at `pull_since`, else a
//! little before the moment it first runs.

use std::sync::Arc;
use std::time::Duration;

use crossdock_engine::Shutdown;
use crossdock_engine::runner::JobResult;
use crossdock_store::{AnyStore, Store};

use super::AdobeCommerce;
use crate::hooks::Hooks;

/// The topic a pulled order is taken in as (the mapping's operation).
pub const TOPIC: &str = "orders";

/// Orders a page holds.
pub const PAGE: u32 = 100;

/// How far before the watermark each pass starts reading.
pub const LOOKBACK: i64 = 60;

/// The key the watermark is kept under (connector names hold no `:`).
pub fn watermark_key(connector: &str) -> String {
    format!("{connector}:orders")
}

/// Adobe Commerce's time (`YYYY-MM-DD HH:MM:SS`, UTC) as seconds since the epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() != 19 {
        return None;
    }
    let at: jiff::Timestamp = format!("{}Z", text.replacen(' ', "T", 1)).parse().ok()?;
    Some(at.as_second())
}

/// Seconds since the epoch as Adobe Commerce writes a time.
pub fn format_time(seconds: i64) -> String {
    let at = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    at.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// What one pass took.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Orders read (each taken in, replayed, passed over or parked).
    pub read: usize,
    /// Pages asked for.
    pub pages: usize,
}

/// Pulls one store's orders.
pub struct OrderPuller {
    connector: String,
    client: Arc<AdobeCommerce>,
    hooks: Hooks,
    store: AnyStore,
    every: Duration,
    since: Option<i64>,
}

impl OrderPuller {
    /// The puller of `connector`'s orders through `client`, every `every`, into `hooks`;
    /// a first pass starts at `since` (seconds since the epoch) when given.
    pub fn new(
        connector: &str,
        client: Arc<AdobeCommerce>,
        hooks: Hooks,
        store: AnyStore,
        every: Duration,
        since: Option<i64>,
    ) -> Self {
        Self {
            connector: connector.to_string(),
            client,
            hooks,
            store,
            every,
            since,
        }
    }

    /// Runs a pass every `every` until `shutdown`.
    pub async fn run(self, shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            match self.pass().await {
                Ok(p) if p.read > 0 => {
                    tracing::info!(
                        connector = self.connector,
                        read = p.read,
                        pages = p.pages,
                        "orders pulled from Adobe Commerce"
                    )
                }
                Ok(_) => {}
                Err(why) => tracing::warn!(connector = self.connector, "order pull: {why}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.wait() => {}
            }
        }
    }

    /// One pass over the orders changed since the watermark. An error stops the pass where
    /// it was: the watermark stays at the last page taken in.
    pub async fn pass(&self) -> Result<Pass, String> {
        let key = watermark_key(&self.connector);
        let store_failed = |e: crossdock_store::StoreError| format!("store: {e}");
        let mut mark = match self.store.cursor(&key).await.map_err(store_failed)? {
            Some(mark) => mark,
            None => {
                let start = self
                    .since
                    .unwrap_or_else(|| crossdock_engine::now().0 / 1000 - LOOKBACK);
                // Kept at once: a pass that finds nothing must not let the start move on.
                let now = crossdock_engine::now();
                self.store
                    .set_cursor(&key, start, now)
                    .await
                    .map_err(store_failed)?;
                start
            }
        };
        let mut from = mark - LOOKBACK;
        let mut page = 1;
        let mut pass = Pass::default();
        loop {
            let got = (self.client.orders(&format_time(from), page, PAGE).await)
                .map_err(|r| describe(&r))?;
            pass.pages += 1;
            let mut newest = from;
            for order in got.items.iter() {
                let at = order["updated_at"].as_str().and_then(parse_time);
                let id = format!("{}@{}", order["entity_id"], at.unwrap_or_default());
                let correlation_id = crossdock_engine::Inventory::new_correlation_id();
                (self.hooks)
                    .take_pulled(&self.connector, TOPIC, id, order.clone(), correlation_id)
                    .await
                    .map_err(|e| e.to_string())?;
                pass.read += 1;
                newest = newest.max(at.unwrap_or(from));
            }
            if newest > mark {
                let now = crossdock_engine::now();
                self.store
                    .set_cursor(&key, newest, now)
                    .await
                    .map_err(store_failed)?;
                mark = newest;
            }
            let more = got.items.len() as u32 == PAGE && u64::from(page * PAGE) < got.total;
            if !more {
                return Ok(pass);
            }
            if newest > from {
                // Read on from the newest change taken in.
                (from, page) = (newest, 1);
            } else {
                // A whole page changed in one second: the next page of that second.
                page += 1;
            }
        }
    }
}

fn describe(result: &JobResult) -> String {
    match result {
        JobResult::Transient { error, .. } | JobResult::Permanent { error, .. } => error.clone(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adobe_commerce_times_read_and_write_back() {
        let at = parse_time("2026-11-30 14:02:12").unwrap();
        assert_eq!(format_time(at), "2026-11-30 14:02:12");
        assert_eq!(parse_time("2026-11-30T14:02:12"), Some(at));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time(""), None);
    }
}
