//! Prices out to a storefront: a [`Publisher`](super::publish::Publisher) follows the log's
//! `price.changed` for its connector's channel and hands each SKU's newest price to the
//! storefront's pack ([`PriceTarget`]), then records per SKU what was pushed and what the
//! channel said of it (acknowledged, or refused and why), so `GET /v1/prices?pending=true`
//! shows the channel's stale prices. A refused price is not tried again until it changes.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crossdock_store::{AnyStore, PricePush, PushOutcome, Store};
use serde_json::Value;

use super::publish::{Feed, Pace};

/// A SKU's price as the channel is told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// ISO 4217 currency.
    pub currency: String,
    /// The price of one unit, as a decimal string.
    pub amount: String,
}

/// Prices by SKU, newest of each.
pub type PriceList = BTreeMap<String, Price>;

/// How a storefront's pack sets prices there.
pub trait PriceTarget: Send + 'static {
    /// Sets `prices`, each call through `pace`, answering what the storefront said of each
    /// SKU (one left out was not answered for, and is tried again with the next change);
    /// `Err` carries how long to wait before trying the same prices again.
    fn set(
        &mut self,
        pace: &Pace,
        prices: &PriceList,
    ) -> impl Future<Output = Result<Vec<(String, PushOutcome)>, Option<Duration>>> + Send;
}

/// Prices: each SKU's price on the channel, set through a [`PriceTarget`].
pub struct Prices<T> {
    target: T,
    channel: String,
    store: AnyStore,
}

impl<T: PriceTarget> Prices<T> {
    /// `channel`'s prices through `target`, pushes recorded in `store`.
    pub fn new(channel: &str, store: AnyStore, target: T) -> Self {
        Self {
            target,
            channel: channel.to_string(),
            store,
        }
    }
}

impl<T: PriceTarget> Feed for Prices<T> {
    type Figure = Price;
    const EVENT: &'static str = "price.changed";

    fn cursor(connector: &str) -> String {
        format!("{connector}:prices")
    }

    fn figure(channel: &str, data: &Value) -> Option<(String, Price)> {
        if data["channel"] != channel {
            return None;
        }
        let price = Price {
            currency: data["currency"].as_str()?.to_string(),
            amount: data["amount"].as_str()?.to_string(),
        };
        Some((data["sku"].as_str()?.to_string(), price))
    }

    async fn publish(&mut self, pace: &Pace, prices: &PriceList) -> Result<(), Option<Duration>> {
        let answers = self.target.set(pace, prices).await?;
        let pushes: Vec<PricePush> = (answers.into_iter())
            .filter_map(|(sku, outcome)| {
                let price = prices.get(&sku)?;
                Some(PricePush {
                    currency: price.currency.clone(),
                    amount: price.amount.clone(),
                    sku,
                    outcome,
                })
            })
            .collect();
        let recorded = (self.store)
            .record_price_pushes(&self.channel, pushes, crossdock_engine::now())
            .await;
        recorded.map_err(|e| {
            tracing::warn!(connector = pace.connector(), error = %e, "prices: store");
            None
        })
    }
}
