//! A simulated Shopify Admin GraphQL API, closely enough for the Shopify pack's calls:
//! `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`, answering the
//! query of an order's fulfillment orders (with their line items' SKUs and remaining
//! quantities) and its fulfillments' tracking numbers, and the `fulfillmentCreate` mutation
//! (closing what it fulfils); variants by SKU (`productVariants`), the `available`
//! quantity set per location (`inventorySetQuantities`) and variants' prices
//! (`productVariantsBulkUpdate`, refusing a price below zero by the variant's index, as
//! Shopify does). Orders are made known with
//! [`SimShopify::add_order`], as the shop would have them after sending `orders/create`, and
//! the SKUs it sells with [`SimShopify::add_variant`] (an order's SKUs are sold too). It
//! cancels orders (`orderCancel`, refusing one cancelled already) and says whether one is
//! (`cancelledAt`). It can be told to throttle the next
//! few calls, as Shopify's GraphQL rate limit does (`THROTTLED`, with the bucket's state in
//! `extensions.cost.throttleStatus`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Json, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One fulfillment the shop recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Fulfilled {
    /// The order's id.
    pub order_id: String,
    /// The carrier named.
    pub company: Option<String>,
    /// The tracking number.
    pub number: Option<String>,
    /// (SKU, units) fulfilled.
    pub lines: Vec<(String, i64)>,
}

struct Line {
    id: String,
    sku: String,
    remaining: i64,
}

struct Order {
    lines: Vec<Line>,
    tracking: Vec<String>,
    cancelled: bool,
}

#[derive(Default)]
struct Inner {
    token: String,
    orders: BTreeMap<String, Order>,
    /// Inventory item id by SKU.
    variants: BTreeMap<String, String>,
    /// Price by SKU, as last set.
    prices: BTreeMap<String, String>,
    price_calls: u32,
    /// `available` by (location, SKU), as last set.
    levels: BTreeMap<(String, String), i64>,
    stock_calls: u32,
    fulfilled: Vec<Fulfilled>,
    throttle_next: u32,
    calls: u32,
    cancels: u32,
}

/// Handle to a running simulated shop. Cheap to clone.
#[derive(Clone, Default)]
pub struct SimShopify {
    inner: Arc<Mutex<Inner>>,
}

impl SimShopify {
    /// A shop that takes calls carrying `token` as `X-Shopify-Access-Token`.
    pub fn new(token: &str) -> Self {
        let shop = Self::default();
        shop.lock().token = token.to_string();
        shop
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("sim poisoned")
    }

    /// Starts on a free local port; returns the shop's base URL.
    pub async fn start(&self) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .with_state(self.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((base, task))
    }

    /// Makes order `id` known, with one line per (SKU, units), all to fulfil.
    pub fn add_order(&self, id: &str, lines: &[(&str, i64)]) {
        for (sku, _) in lines {
            self.add_variant(sku);
        }
        let lines = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, qty))| Line {
                id: format!("gid://shopify/FulfillmentOrderLineItem/{id}{i}"),
                sku: sku.to_string(),
                remaining: *qty,
            })
            .collect();
        let order = Order {
            lines,
            tracking: Vec::new(),
            cancelled: false,
        };
        self.lock().orders.insert(id.to_string(), order);
    }

    /// Makes `sku` a variant the shop sells.
    pub fn add_variant(&self, sku: &str) {
        let mut inner = self.lock();
        let n = inner.variants.len();
        (inner.variants.entry(sku.to_string()))
            .or_insert_with(|| format!("gid://shopify/InventoryItem/{}", 1000 + n));
    }

    /// The `available` quantity last set for `sku` at `location`.
    pub fn available(&self, location: &str, sku: &str) -> Option<i64> {
        let key = (location.to_string(), sku.to_string());
        self.lock().levels.get(&key).copied()
    }

    /// The price last set for `sku`'s variant.
    pub fn price(&self, sku: &str) -> Option<String> {
        self.lock().prices.get(sku).cloned()
    }

    /// `productVariantsBulkUpdate` calls taken.
    pub fn price_calls(&self) -> u32 {
        self.lock().price_calls
    }

    /// `inventorySetQuantities` calls taken.
    pub fn stock_calls(&self) -> u32 {
        self.lock().stock_calls
    }

    /// The next `n` calls are throttled.
    pub fn throttle_next(&self, n: u32) {
        self.lock().throttle_next = n;
    }

    /// Every fulfillment created, in order.
    pub fn fulfilled(&self) -> Vec<Fulfilled> {
        self.lock().fulfilled.clone()
    }

    /// Orders cancelled through `orderCancel`.
    pub fn cancels(&self) -> u32 {
        self.lock().cancels
    }

    /// Whether order `id` is cancelled.
    pub fn cancelled(&self, id: &str) -> bool {
        self.lock().orders.get(id).is_some_and(|o| o.cancelled)
    }

    /// Calls taken (throttled ones too).
    pub fn calls(&self) -> u32 {
        self.lock().calls
    }
}

fn order_id(gid: &str) -> String {
    gid.rsplit('/').next().unwrap_or_default().to_string()
}

async fn graphql(
    State(shop): State<SimShopify>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    let mut inner = shop.lock();
    inner.calls += 1;
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(inner.token.as_str()) {
        let body = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    if inner.throttle_next > 0 {
        inner.throttle_next -= 1;
        return Json(json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 12, "actualQueryCost": null,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 2,
                                   "restoreRate": 100.0}}}
        }))
        .into_response();
    }
    let query = req["query"].as_str().unwrap_or_default();
    let vars = &req["variables"];
    let data = if query.contains("orderCancel(") {
        let id = order_id(vars["orderId"].as_str().unwrap_or_default());
        let refund = vars["refundMethod"]["originalPaymentMethodsRefund"].is_boolean();
        let errors = match inner.orders.get_mut(&id) {
            _ if !refund || !vars["restock"].is_boolean() || !vars["reason"].is_string() => {
                vec![
                    json!({"field": ["refundMethod"], "message": "refundMethod, restock and reason are required", "code": "INVALID"}),
                ]
            }
            None => vec![
                json!({"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}),
            ],
            Some(o) if o.cancelled => vec![
                json!({"field": ["orderId"], "message": "Cannot cancel an order that has already been canceled", "code": "INVALID"}),
            ],
            Some(o) => {
                o.cancelled = true;
                inner.cancels += 1;
                vec![]
            }
        };
        json!({"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": false},
                               "orderCancelUserErrors": errors}})
    } else if query.contains("cancelledAt") {
        let id = order_id(vars["id"].as_str().unwrap_or_default());
        match inner.orders.get(&id) {
            None => json!({"order": null}),
            Some(o) => {
                json!({"order": {"cancelledAt": o.cancelled.then_some("2026-01-02T08:00:00Z")}})
            }
        }
    } else if query.contains("inventorySetQuantities") {
        inventory_set(&mut inner, &vars["input"])
    } else if query.contains("productVariantsBulkUpdate") {
        variant_prices(&mut inner, vars)
    } else if query.contains("productVariants") {
        let wanted = vars["query"].as_str().unwrap_or_default();
        let nodes: Vec<Value> = (inner.variants.iter())
            .filter(|(sku, _)| wanted.contains(&format!("sku:\"{sku}\"")))
            .map(|(sku, item)| {
                let n = order_id(item);
                json!({"id": format!("gid://shopify/ProductVariant/{n}"), "sku": sku,
                       "product": {"id": format!("gid://shopify/Product/{n}")},
                       "inventoryItem": {"id": item}})
            })
            .collect();
        json!({"productVariants": {"nodes": nodes}})
    } else if query.contains("fulfillmentCreate") {
        fulfillment_create(&mut inner, &vars["fulfillment"])
    } else if query.contains("fulfillmentOrders") {
        let id = order_id(vars["id"].as_str().unwrap_or_default());
        match inner.orders.get(&id) {
            None => json!({"order": null}),
            Some(o) => {
                let open = o.lines.iter().any(|l| l.remaining > 0);
                let items: Vec<Value> = o
                    .lines
                    .iter()
                    .map(|l| {
                        json!({
                            "id": l.id, "remainingQuantity": l.remaining, "lineItem": {"sku": l.sku}
                        })
                    })
                    .collect();
                let fulfillments: Vec<Value> = o
                    .tracking
                    .iter()
                    .map(|n| json!({"trackingInfo": [{"number": n}]}))
                    .collect();
                json!({"order": {
                    "fulfillments": fulfillments,
                    "fulfillmentOrders": {"nodes": [{
                        "id": format!("gid://shopify/FulfillmentOrder/{id}"),
                        "status": if open { "OPEN" } else { "CLOSED" },
                        "lineItems": {"nodes": items}
                    }]}
                }})
            }
        }
    } else {
        return Json(json!({"errors": [{"message": "this simulated shop answers the Shopify pack's calls only"}]}))
            .into_response();
    };
    Json(json!({"data": data, "extensions": {"cost": {"requestedQueryCost": 12,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1988, "restoreRate": 100.0}}}}))
    .into_response()
}

fn fulfillment_create(inner: &mut Inner, input: &Value) -> Value {
    let user_error = |message: &str| {
        json!({"fulfillmentCreate": {"fulfillment": null,
               "userErrors": [{"field": ["fulfillment"], "message": message}]}})
    };
    let mut lines = Vec::new();
    let mut order_of = None;
    for fo in input["lineItemsByFulfillmentOrder"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = order_id(fo["fulfillmentOrderId"].as_str().unwrap_or_default());
        let Some(order) = inner.orders.get_mut(&id) else {
            return user_error("Fulfillment order does not exist.");
        };
        order_of = Some(id.clone());
        for item in fo["fulfillmentOrderLineItems"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let qty = item["quantity"].as_i64().unwrap_or(0);
            let Some(line) = order
                .lines
                .iter_mut()
                .find(|l| Some(l.id.as_str()) == item["id"].as_str())
            else {
                return user_error("Fulfillment order line item does not exist.");
            };
            if qty <= 0 || qty > line.remaining {
                return user_error("Invalid fulfillment order line item quantity requested.");
            }
            line.remaining -= qty;
            lines.push((line.sku.clone(), qty));
        }
    }
    let Some(order_id) = order_of else {
        return user_error("Line items by fulfillment order is required.");
    };
    let number = input["trackingInfo"]["number"].as_str().map(str::to_string);
    if let (Some(n), Some(o)) = (&number, inner.orders.get_mut(&order_id)) {
        o.tracking.push(n.clone());
    }
    let n = inner.fulfilled.len();
    inner.fulfilled.push(Fulfilled {
        order_id,
        company: input["trackingInfo"]["company"]
            .as_str()
            .map(str::to_string),
        number,
        lines,
    });
    json!({"fulfillmentCreate": {"fulfillment": {"id": format!("gid://shopify/Fulfillment/{n}"),
           "status": "SUCCESS"}, "userErrors": []}})
}

fn inventory_set(inner: &mut Inner, input: &Value) -> Value {
    inner.stock_calls += 1;
    let mut errors = Vec::new();
    for q in input["quantities"].as_array().into_iter().flatten() {
        let item = q["inventoryItemId"].as_str().unwrap_or_default();
        let Some(sku) = (inner.variants.iter())
            .find(|(_, i)| i.as_str() == item)
            .map(|(s, _)| s.clone())
        else {
            errors.push(json!({"field": ["input", "quantities"], "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM"}));
            continue;
        };
        let location = q["locationId"].as_str().unwrap_or_default().to_string();
        inner
            .levels
            .insert((location, sku), q["quantity"].as_i64().unwrap_or(0));
    }
    json!({"inventorySetQuantities": {"inventoryAdjustmentGroup": {"reason": "correction"},
           "userErrors": errors}})
}

/// `productVariantsBulkUpdate`: each variant's price set (a variant being its inventory
/// item's number), one below zero refused by its index.
fn variant_prices(inner: &mut Inner, vars: &Value) -> Value {
    inner.price_calls += 1;
    let (mut set, mut errors) = (Vec::new(), Vec::new());
    for (i, v) in vars["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let n = order_id(v["id"].as_str().unwrap_or_default());
        let item = format!("gid://shopify/InventoryItem/{n}");
        let sku = (inner.variants.iter())
            .find(|(_, id)| **id == item)
            .map(|(s, _)| s.clone());
        let price = v["price"].as_str().unwrap_or_default().to_string();
        match sku {
            None => errors.push(json!({"field": ["variants", i.to_string(), "id"],
                                       "message": "Product variant does not exist"})),
            Some(_) if price.starts_with('-') => errors.push(json!({
                "field": ["variants", i.to_string(), "price"],
                "message": "Price must be greater than or equal to 0"})),
            Some(sku) => {
                set.push(json!({"id": v["id"], "price": price}));
                inner.prices.insert(sku, price);
            }
        }
    }
    json!({"productVariantsBulkUpdate": {"productVariants": set, "userErrors": errors}})
}
