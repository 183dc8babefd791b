//! The demo's last act: the source document's estate, through the vendor packs. A Shopify
//! shop sells on channel `shopify` for business unit `east`, whose books NetSuite keeps; an
//! Adobe Commerce store sells on `adobe` for `west`, whose books Business Central keeps; a
//! 3PL ships for both and reports by Standard Webhooks. NetSuite owns pricing.
//!
//! Prices go out to both storefronts; stock moves and each storefront's figure follows;
//! Shopify sends signed `orders/create` webhooks (one in five delivered twice) while Adobe
//! Commerce's orders are pulled; each order is posted to its unit's ERP once; the 3PL ships
//! every one and the tracking goes back to the storefront it came from.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::bail;
use crossdock_connectors::signatures::sign_shopify;
use crossdock_engine::Inventory;
use crossdock_sim::SimEstate;
use crossdock_sim::estate::{CHANNELS, LOCATION, SHOP_SECRET, SOURCE};
use crossdock_store::OrderFilter;
use serde_json::{Value, json};

use crate::report::{Rng, progress};

mod calls;
mod print;

use calls::{get, post, ship, shopify_order};
pub use print::print;

/// What the act did.
pub struct Act {
    shopify_sent: u64,
    shopify_deliveries: u64,
    shopify_orders: usize,
    adobe_orders: usize,
    netsuite_orders: usize,
    bc_orders: usize,
    bc_duplicates: usize,
    netsuite_fulfilments: usize,
    shopify_fulfilments: usize,
    adobe_shipments: usize,
    parcels: (usize, usize),
    bc_postings: usize,
    stock_calls: (u32, u32),
    stock_lag: Vec<(&'static str, Vec<u64>)>,
    prices: Vec<(&'static str, usize, usize, Vec<u64>)>,
}

impl Act {
    /// Whether every order reached its ERP once and its storefront heard of its parcels.
    pub fn ok(&self) -> bool {
        self.netsuite_orders == self.shopify_orders
            && self.bc_orders == self.adobe_orders
            && self.bc_duplicates == 0
            && self.shopify_fulfilments == self.parcels.0
            && self.adobe_shipments == self.parcels.1
            && self.netsuite_fulfilments == self.parcels.0
            && self.bc_postings == self.parcels.1
    }
}

/// The act on `estate`'s systems.
pub struct Estate<'a>(pub &'a SimEstate);

impl Estate<'_> {
    /// Runs the act: `orders` orders from each storefront.
    pub async fn run(
        &self,
        http: &reqwest::Client,
        base: &str,
        inventory: &Inventory,
        skus: &[String],
        orders: usize,
        seed: u64,
    ) -> anyhow::Result<Act> {
        let mut rng = Rng::new(seed ^ 0xE57A7E);
        // NetSuite's and Business Central's items beside our SKUs.
        let bindings = SimEstate::item_bindings(skus);
        post(http, &format!("{base}/v1/bindings"), bindings).await?;

        // The flash sale emptied the shelves: the ERP books a delivery for the estate's orders.
        let receipts: Vec<Value> = (skus.iter())
            .map(|sku| {
                json!({"source": "erp", "source_event_id": format!("estate-po-{sku}"),
                       "occurred_at": "2026-12-01T08:30:00Z", "sku": sku, "location": "east",
                       "kind": "receipt", "qty": 2 * orders + 50})
            })
            .collect();
        post(
            http,
            &format!("{base}/v1/inventory/events"),
            json!({"events": receipts}),
        )
        .await?;
        let prices = self.prices(http, base, skus, &mut rng).await?;
        let stock_lag = self.stock_lag(http, base, &skus[..5]).await?;

        // Orders: Shopify's webhooks (one in five sent twice) and Adobe Commerce's, pulled.
        let bar = progress(
            (2 * orders) as u64,
            "{spinner} storefront orders [{bar:40}] {pos}/{len} {per_sec} {msg}",
        );
        let mut shopify_sent = 0;
        let mut deliveries = Vec::new();
        for n in 0..orders {
            let id = 6_100_000_000_000_000_u64 + n as u64;
            let lines: Vec<(String, i64)> = (0..1 + rng.below(2))
                .map(|_| (skus[rng.below(skus.len() as u64) as usize].clone(), 1))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .collect();
            let refs: Vec<(&str, i64)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
            self.0.shop.add_order(&id.to_string(), &refs);
            let body = serde_json::to_vec(&shopify_order(id, &lines))?;
            let times = if rng.chance(20) { 2 } else { 1 };
            for _ in 0..times {
                shopify_sent += 1;
                let (http, url, body) = (
                    http.clone(),
                    format!("{base}/v1/hooks/shop-us"),
                    body.clone(),
                );
                deliveries.push(tokio::spawn(async move {
                    let signature = sign_shopify(SHOP_SECRET.as_bytes(), &body);
                    let sent = (http.post(url))
                        .header("content-type", "application/json")
                        .header("x-shopify-topic", "orders/create")
                        .header("x-shopify-event-id", format!("evt-{id}"))
                        .header("x-shopify-hmac-sha256", signature)
                        .body(body)
                        .send()
                        .await;
                    sent.map(|r| r.status().is_success()).unwrap_or(false)
                }));
            }
            self.0.mage.add_order(7_000 + n as i64, &refs);
            bar.inc(1);
            tokio::time::sleep(Duration::from_millis(4)).await;
        }
        let mut taken = 0;
        for d in deliveries {
            taken += d.await? as u64;
        }
        let released = |channel: &'static str| async move {
            let filter = OrderFilter {
                channel: Some(channel.to_string()),
                limit: 1_000,
                ..OrderFilter::default()
            };
            let all = inventory.orders(filter).await.unwrap_or_default();
            let out: Vec<Value> = (all.iter())
                .filter(|o| o.state.as_str() == "released")
                .map(|o| serde_json::to_value(o).unwrap_or_default())
                .collect();
            out
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        let (mut shopify_released, mut adobe_released) = (Vec::new(), Vec::new());
        while Instant::now() < deadline {
            shopify_released = released(CHANNELS[0]).await;
            adobe_released = released(CHANNELS[1]).await;
            bar.set_position((shopify_released.len() + adobe_released.len()) as u64);
            if shopify_released.len() >= orders && adobe_released.len() >= orders {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bar.finish_with_message("posted to their ERPs and released to the 3PL");
        if shopify_released.len() < orders || adobe_released.len() < orders {
            let mut states = std::collections::BTreeMap::<String, usize>::new();
            for channel in CHANNELS {
                let filter = OrderFilter {
                    channel: Some(channel.to_string()),
                    limit: 1_000,
                    ..OrderFilter::default()
                };
                for o in inventory.orders(filter).await? {
                    *states
                        .entry(format!("{channel} {}", o.state.as_str()))
                        .or_default() += 1;
                }
            }
            bail!(
                "only {} Shopify and {} Adobe Commerce orders were released within 90 s; the \
                 storefronts' orders by state: {states:?}",
                shopify_released.len(),
                adobe_released.len()
            );
        }

        // The 3PL ships every order, a parcel per location, and reports each signed.
        let mut parcels = (0, 0);
        for (i, (list, count)) in [
            (&shopify_released, &mut parcels.0),
            (&adobe_released, &mut parcels.1),
        ]
        .into_iter()
        .enumerate()
        {
            for order in list {
                let id = order["id"].as_str().unwrap_or_default();
                for (location, lines) in crate::fulfil::parcels(order) {
                    *count += 1;
                    let tracking = format!("1Z{}{:06}", ["S", "A"][i], *count);
                    ship(http, base, id, &location, &tracking, lines).await?;
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline
            && (self.0.shop.fulfilled().len() < parcels.0
                || self.0.mage.shipments().len() < parcels.1)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The fulfilments the ERPs are sent: NetSuite's item fulfillments, Business
        // Central's postings (shipped and invoiced).
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline
            && (self.0.ns.fulfillments().len() < parcels.0
                || self.0.bc.postings().len() < parcels.1)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bc = self.0.bc.sales_orders();
        let bc_unique: BTreeSet<String> = bc
            .iter()
            .map(|o| o.external_document_number.clone())
            .collect();
        Ok(Act {
            shopify_sent,
            shopify_deliveries: taken,
            shopify_orders: shopify_released.len(),
            adobe_orders: adobe_released.len(),
            netsuite_orders: self.0.ns.sales_orders().len(),
            bc_orders: bc_unique.len(),
            bc_duplicates: bc.len() - bc_unique.len(),
            netsuite_fulfilments: self.0.ns.fulfillments().len(),
            shopify_fulfilments: self.0.shop.fulfilled().len(),
            adobe_shipments: self.0.mage.shipments().len(),
            parcels,
            bc_postings: self.0.bc.postings().len(),
            stock_calls: (self.0.shop.stock_calls(), self.0.mage.source_calls()),
            stock_lag,
            prices,
        })
    }

    /// Sets a price list from NetSuite for both storefronts' channels and waits for each
    /// channel to acknowledge it: (channel, acknowledged, refused, set → acknowledged in µs).
    async fn prices(
        &self,
        http: &reqwest::Client,
        base: &str,
        skus: &[String],
        rng: &mut Rng,
    ) -> anyhow::Result<Vec<(&'static str, usize, usize, Vec<u64>)>> {
        let mut list = Vec::new();
        for sku in skus {
            let amount = format!("{}.{:02}", 5 + rng.below(95), rng.below(100));
            for channel in CHANNELS {
                list.push(json!({"sku": sku, "channel": channel, "currency": "USD",
                                 "amount": amount}));
            }
        }
        post(
            http,
            &format!("{base}/v1/prices"),
            json!({"source": "netsuite", "prices": list}),
        )
        .await?;
        let mut out = Vec::new();
        for channel in CHANNELS {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut page = Value::Null;
            while Instant::now() < deadline {
                page = get(
                    http,
                    &format!("{base}/v1/prices?channel={channel}&limit=1000"),
                )
                .await?;
                let rows = page["prices"].as_array().cloned().unwrap_or_default();
                if rows.iter().all(|p| !p["pushed"].is_null()) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let rows = page["prices"].as_array().cloned().unwrap_or_default();
            let acked: Vec<&Value> = rows.iter().filter(|p| p["current"] == true).collect();
            let mut lags: Vec<u64> = (acked.iter())
                .filter_map(|p| {
                    let set =
                        crossdock_domain::Timestamp::parse_rfc3339(p["set_at"].as_str()?).ok()?;
                    let at = p["acknowledged"]["at"].as_str()?;
                    let at = crossdock_domain::Timestamp::parse_rfc3339(at).ok()?;
                    Some((at.0 - set.0).max(0) as u64 * 1_000)
                })
                .collect();
            lags.sort_unstable();
            let refused = rows.iter().filter(|p| !p["refused"].is_null()).count();
            out.push((channel, acked.len(), refused, lags));
        }
        Ok(out)
    }

    /// Receives stock of `skus` at east and times how long each storefront takes to show
    /// the channel's new figure, in µs.
    async fn stock_lag(
        &self,
        http: &reqwest::Client,
        base: &str,
        skus: &[String],
    ) -> anyhow::Result<Vec<(&'static str, Vec<u64>)>> {
        let mut lags: Vec<(&'static str, Vec<u64>)> =
            CHANNELS.iter().map(|c| (*c, Vec::new())).collect();
        for (i, sku) in skus.iter().enumerate() {
            let event = json!({"source": "erp", "source_event_id": format!("estate-rcv-{i}"),
                "occurred_at": "2026-12-01T09:00:00Z", "sku": sku, "location": "east",
                "kind": "receipt", "qty": 7});
            let started = Instant::now();
            post(
                http,
                &format!("{base}/v1/inventory/events"),
                json!({"events": [event]}),
            )
            .await?;
            for (channel, lag) in lags.iter_mut() {
                let a = get(
                    http,
                    &format!("{base}/v1/availability/{sku}?channel={channel}"),
                )
                .await?;
                let want = a["available_now"].as_i64();
                let deadline = started + Duration::from_secs(10);
                while Instant::now() < deadline {
                    let shown = match *channel {
                        "shopify" => self.0.shop.available(LOCATION, sku),
                        _ => self.0.mage.quantity(SOURCE, sku),
                    };
                    if shown.is_some() && shown == want {
                        lag.push(started.elapsed().as_micros() as u64);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
        for (_, lag) in lags.iter_mut() {
            lag.sort_unstable();
        }
        Ok(lags)
    }
}
