//! Adobe Commerce (Magento Open Source too), a storefront, through its REST API (`url` being
//! the store's REST base, e.g. `https://shop.example.com/rest/default`), authenticated by
//! the connector's `auth` (an integration's access token as `bearer`, as a rule).
//!
//! - In: orders are pulled ([`pull`]) from `GET /V1/orders` by an `updated_at` watermark, a
//!   page at a time, each mapped by the `orders` mapping (the pack's own `order.jq`, or the
//!   configured one): a new or processing order is placed, a cancelled one cancels ours,
//!   a complete or closed one is passed over. The canonical `external_id` is the order's
//!   `entity_id`, which Adobe Commerce's own calls go by.
//! - Out: the channel's availability as source items (`POST /V1/inventory/source-items`,
//!   the quantity at the source named by `location_id`, in stock while above zero), a
//!   shipment's tracking as a shipment of the order's items (`POST /V1/order/{id}/ship`), and
//!   a cancellation (`POST /V1/orders/{id}/cancel`). A shipment retried after an unknown
//!   outcome looks first: a shipment of the order already carrying the tracking number is
//!   the one it made.
//! - Refusals are read from Adobe Commerce's error body (`message`, its `%1` placeholders
//!   filled from `parameters`).

pub mod prices;
pub mod pull;

use std::collections::BTreeMap;
use std::time::Duration;

use crossdock_domain::{ErrorCode, JobKind};
use crossdock_engine::config::ConnectorConfig;
use crossdock_engine::runner::JobResult;
use crossdock_store::StoredOrder;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::packs::publish::{Figures, Pace, StockTarget};
use crate::remote::{Refusal, Remote, segment};
use crate::tls::ClientError;

/// The pack's own mappings: (topic, name, program).
pub const MAPPINGS: &[(&str, &str, &str)] = &[(
    pull::TOPIC,
    "adobe_commerce/order.jq",
    include_str!("order.jq"),
)];

/// Source items a call sets at most.
pub const SOURCE_ITEMS_PER_CALL: usize = 500;

/// Reads Adobe Commerce's error body: its message with the placeholders filled in.
pub fn read_refusal(status: StatusCode, body: &Value) -> Option<Refusal> {
    let message = body.get("message")?.as_str()?;
    Some(Refusal {
        message: fill(message, &body["parameters"]),
        retry: status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error(),
    })
}

/// `message` with `%1`, `%2`, … (a list of parameters) or `%name` (named ones) filled in.
fn fill(message: &str, parameters: &Value) -> String {
    let mut text = message.to_string();
    let value = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    match parameters {
        Value::Array(list) => {
            // The highest first, so `%1` does not eat the start of `%10`.
            for (i, v) in list.iter().enumerate().rev() {
                text = text.replace(&format!("%{}", i + 1), &value(v));
            }
        }
        Value::Object(named) => {
            let mut names: Vec<&String> = named.keys().collect();
            names.sort_by_key(|n| std::cmp::Reverse(n.len()));
            for name in names {
                text = text.replace(&format!("%{name}"), &value(&named[name]));
            }
        }
        _ => {}
    }
    text
}

/// One Adobe Commerce store's REST API.
#[derive(Debug, Clone)]
pub struct AdobeCommerce {
    remote: Remote,
    shop: String,
}

/// One page of `GET /V1/orders`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersPage {
    /// The orders, oldest change first.
    pub items: Vec<Value>,
    /// How many orders match, over every page.
    pub total: u64,
}

impl AdobeCommerce {
    /// The REST API of connector `c`.
    pub fn configured(c: &ConnectorConfig) -> Result<Self, ClientError> {
        let settings = c.settings();
        let timeout = Duration::from_millis(settings.timeout_ms);
        let remote = Remote::configured("storefront", &settings, timeout)?
            .speaking(&format!("Adobe Commerce ({})", c.name), read_refusal);
        Ok(Self {
            remote,
            shop: c.name.clone(),
        })
    }

    /// The connector's name, for messages.
    pub fn shop(&self) -> &str {
        &self.shop
    }

    /// Page `page` (from 1) of `size` orders changed at or after `since` (Adobe Commerce's
    /// `YYYY-MM-DD HH:MM:SS`, UTC), oldest change first.
    pub async fn orders(&self, since: &str, page: u32, size: u32) -> Result<OrdersPage, JobResult> {
        let c = "searchCriteria";
        let path = format!(
            "/V1/orders?{c}[filter_groups][0][filters][0][field]=updated_at\
             &{c}[filter_groups][0][filters][0][value]={}\
             &{c}[filter_groups][0][filters][0][condition_type]=gteq\
             &{c}[sortOrders][0][field]=updated_at&{c}[sortOrders][0][direction]=ASC\
             &{c}[sortOrders][1][field]=entity_id&{c}[sortOrders][1][direction]=ASC\
             &{c}[pageSize]={size}&{c}[currentPage]={page}",
            segment(since)
        );
        let answer = self.remote.get(&path).await?;
        let items = match &answer["items"] {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => {
                return Err(JobResult::Transient {
                    error: format!(
                        "Adobe Commerce ({}) answered GET /V1/orders with items that are not a \
                         list: {other}",
                        self.shop
                    ),
                    retry_after: None,
                });
            }
        };
        let total = answer["total_count"].as_u64().unwrap_or(items.len() as u64);
        Ok(OrdersPage { items, total })
    }

    /// Sets each (SKU, units) as the quantity at `source`, in stock while above zero.
    pub async fn set_source_items(
        &self,
        source: &str,
        quantities: &[(String, i64)],
    ) -> Result<(), JobResult> {
        let body = source_items(source, quantities);
        self.remote
            .post("/V1/inventory/source-items", &body)
            .await
            .map(drop)
    }

    /// Runs a storefront job for one of the store's orders: tracking as a shipment, a
    /// cancellation; an invoice needs no call (Adobe Commerce invoices its own captures).
    /// True when the order may close.
    pub async fn follow_up(
        &self,
        kind: JobKind,
        order: &StoredOrder,
        payload: &Value,
    ) -> Result<bool, JobResult> {
        match kind {
            JobKind::PublishTracking => self.ship(order, payload).await.map(|()| false),
            JobKind::PushInvoice => Ok(true),
            JobKind::NotifyCancelled => self.cancel(order).await.map(|()| false),
            other => Err(JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: format!("the Adobe Commerce pack has no job named `{other}`"),
            }),
        }
    }

    /// Books a shipment's tracking (`payload`: its `tracking_number`, `carrier` and `lines`)
    /// as a shipment of the order's items still to ship, unless one carries it already.
    async fn ship(&self, order: &StoredOrder, payload: &Value) -> Result<(), JobResult> {
        let id = segment(&order.external_id);
        let number = payload["tracking_number"].as_str();
        if let Some(number) = number {
            let c = "searchCriteria[filter_groups][0][filters][0]";
            let path = format!("/V1/shipments?{c}[field]=order_id&{c}[value]={id}");
            let shipments = self.remote.get(&path).await?;
            let made = (shipments["items"].as_array().into_iter().flatten())
                .flat_map(|s| s["tracks"].as_array().into_iter().flatten())
                .any(|t| t["track_number"].as_str() == Some(number));
            if made {
                return Ok(());
            }
        }
        let Some(found) = self.remote.find(&format!("/V1/orders/{id}")).await? else {
            return Err(JobResult::Permanent {
                code: ErrorCode::ChannelRejected,
                error: format!(
                    "Adobe Commerce ({}) has no order {}",
                    self.shop, order.external_id
                ),
            });
        };
        let mut want: BTreeMap<&str, f64> = BTreeMap::new();
        for line in payload["lines"].as_array().into_iter().flatten() {
            if let (Some(sku), Some(qty)) = (line["sku"].as_str(), line["qty"].as_f64()) {
                *want.entry(sku).or_default() += qty;
            }
        }
        let items = to_ship(&found["items"], &mut want);
        if items.is_empty() {
            // Nothing of it is left to ship in Adobe Commerce: shipped there already.
            return Ok(());
        }
        let carrier = payload["carrier"].as_str().unwrap_or("custom");
        let track = json!({
            "track_number": number.unwrap_or_default(),
            "title": carrier,
            "carrier_code": carrier_code(carrier),
        });
        let mut body = json!({"items": items, "notify": true});
        if number.is_some() {
            body["tracks"] = json!([track]);
        }
        self.remote
            .post(&format!("/V1/order/{id}/ship"), &body)
            .await
            .map(drop)
    }

    /// Cancels the order in Adobe Commerce; one it will not cancel (shipped, say) is said.
    async fn cancel(&self, order: &StoredOrder) -> Result<(), JobResult> {
        let id = segment(&order.external_id);
        let answer = self
            .remote
            .post(&format!("/V1/orders/{id}/cancel"), &json!({}))
            .await?;
        if answer == Value::Bool(false) {
            let found = self.remote.find(&format!("/V1/orders/{id}")).await?;
            let state = found.as_ref().and_then(|o| o["state"].as_str());
            if state == Some("canceled") {
                return Ok(());
            }
            return Err(JobResult::Permanent {
                code: ErrorCode::ChannelRejected,
                error: format!(
                    "Adobe Commerce ({}) would not cancel order {} (it is {}): cancel it in \
                     Adobe Commerce's admin, then resolve this exception",
                    self.shop,
                    order.external_id,
                    state.unwrap_or("gone")
                ),
            });
        }
        Ok(())
    }
}

/// A store's source, as stock is set there: each SKU's quantity as source items, in calls
/// of up to [`SOURCE_ITEMS_PER_CALL`]. A call the store refuses is made again a SKU at a
/// time, and a SKU refused alone (one the store does not sell) is passed over from then on,
/// once noted in the log.
pub struct AdobeStock {
    source: String,
    client: std::sync::Arc<AdobeCommerce>,
    refused: std::collections::BTreeSet<String>,
}

impl AdobeStock {
    /// Stock at `source` (a source code) of `client`'s store.
    pub fn new(source: &str, client: std::sync::Arc<AdobeCommerce>) -> Self {
        Self {
            source: source.to_string(),
            client,
            refused: Default::default(),
        }
    }
}

impl StockTarget for AdobeStock {
    async fn set(&mut self, pace: &Pace, figures: &Figures) -> Result<(), Option<Duration>> {
        let quantities: Vec<(String, i64)> = (figures.iter())
            .filter(|(sku, _)| !self.refused.contains(*sku))
            .map(|(sku, qty)| (sku.clone(), *qty))
            .collect();
        for chunk in quantities.chunks(SOURCE_ITEMS_PER_CALL) {
            let set = self.client.set_source_items(&self.source, chunk);
            match pace.attempt(set).await {
                Ok(()) => continue,
                Err(JobResult::Permanent { .. }) => {}
                Err(other) => return Err(pace.wait(other)),
            }
            for one in chunk {
                let set = self
                    .client
                    .set_source_items(&self.source, std::slice::from_ref(one));
                match pace.attempt(set).await {
                    Ok(()) => {}
                    Err(JobResult::Permanent { error, .. }) => {
                        tracing::info!(
                            connector = pace.connector(),
                            sku = one.0,
                            error,
                            "the store refused this SKU's stock; it is not published there"
                        );
                        self.refused.insert(one.0.clone());
                    }
                    Err(other) => return Err(pace.wait(other)),
                }
            }
        }
        Ok(())
    }
}

/// The order's items that take `want` (units by SKU) and still have units to ship, as the
/// ship call's `items`. A configurable product ships as its parent item.
fn to_ship(items: &Value, want: &mut BTreeMap<&str, f64>) -> Vec<Value> {
    let items: &[Value] = items.as_array().map_or(&[], Vec::as_slice);
    let type_of = |id: &Value| {
        (items.iter())
            .find(|i| i["item_id"] == *id)
            .and_then(|i| i["product_type"].as_str())
    };
    let mut ship = Vec::new();
    for item in items {
        let (Some(sku), Some(id)) = (item["sku"].as_str(), item["item_id"].as_i64()) else {
            continue;
        };
        if type_of(&item["parent_item_id"]) == Some("configurable") {
            // A configurable's child: its parent carries the quantities.
            continue;
        }
        let ordered = item["qty_ordered"].as_f64().unwrap_or(0.0);
        let left = ordered
            - item["qty_shipped"].as_f64().unwrap_or(0.0)
            - item["qty_canceled"].as_f64().unwrap_or(0.0)
            - item["qty_refunded"].as_f64().unwrap_or(0.0);
        if let Some(wanted) = want.get_mut(sku)
            && *wanted > 0.0
            && left > 0.0
        {
            let take = left.min(*wanted);
            *wanted -= take;
            ship.push(json!({"order_item_id": id, "qty": take}));
        }
    }
    ship
}

/// The body that sets each (SKU, units) at `source`: in stock while above zero, never below.
fn source_items(source: &str, quantities: &[(String, i64)]) -> Value {
    let items: Vec<Value> = quantities
        .iter()
        .map(|(sku, qty)| {
            json!({"sku": sku, "source_code": source, "quantity": qty.max(&0),
                   "status": i32::from(*qty > 0)})
        })
        .collect();
    json!({"sourceItems": items})
}

/// Adobe Commerce's carrier code for a carrier's name (`custom` for one it has none for).
fn carrier_code(carrier: &str) -> &'static str {
    let lower = carrier.to_ascii_lowercase();
    match lower.as_str() {
        "ups" => "ups",
        "usps" => "usps",
        "fedex" => "fedex",
        "dhl" => "dhl",
        _ => "custom",
    }
}

#[cfg(test)]
mod tests;
