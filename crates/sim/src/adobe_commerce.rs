//! A simulated Adobe Commerce REST API, closely enough for the Adobe Commerce pack's calls,
//! each needing `Authorization: Bearer {token}`:
//!
//! - `GET /V1/orders` with `searchCriteria` (one `updated_at` filter with `gteq`, sort orders,
//!   `pageSize`, `currentPage`), answering `{"items", "search_criteria", "total_count"}`; as
//!   Adobe Commerce does, a page past the last answers the last page again;
//! - `GET /V1/orders/{id}`, `POST /V1/orders/{id}/cancel` (`true`, or `false` for an order
//!   that cannot be cancelled);
//! - `POST /V1/order/{id}/ship` (items by `order_item_id`, tracks), answering the shipment's
//!   id, and `GET /V1/shipments` filtered by `order_id`;
//! - `POST /V1/inventory/source-items`, refusing a SKU the catalog does not have as Adobe
//!   Commerce does (400, with the message and its parameters).
//!
//! Orders are made with [`SimAdobeCommerce::add_order`] and changed with
//! [`SimAdobeCommerce::set_state`], each change moving the order's `updated_at` to the
//! simulated clock ([`SimAdobeCommerce::set_clock`]), so tests place changes in the same
//! second or apart.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Json, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One shipment the store recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Shipment {
    /// The order's entity id.
    pub order_id: i64,
    /// (order item id, units).
    pub items: Vec<(i64, f64)>,
    /// The tracking numbers.
    pub tracks: Vec<String>,
}

#[derive(Default)]
struct Inner {
    token: String,
    /// Orders by entity id.
    orders: BTreeMap<i64, Value>,
    /// SKUs the catalog has.
    catalog: std::collections::BTreeSet<String>,
    /// Quantity by (source, SKU), as last set.
    source_items: BTreeMap<(String, String), i64>,
    source_calls: u32,
    shipments: Vec<Shipment>,
    order_pages: u32,
    clock: String,
    lose_next_answer: bool,
    next_item: i64,
}

/// Handle to a running simulated store. Cheap to clone.
#[derive(Clone, Default)]
pub struct SimAdobeCommerce {
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, message: &str, parameters: Value) -> Response {
    (
        status,
        Json(json!({"message": message, "parameters": parameters})),
    )
        .into_response()
}

impl SimAdobeCommerce {
    /// A store that takes calls carrying `token` as a bearer token.
    pub fn new(token: &str) -> Self {
        let sim = Self::default();
        {
            let mut inner = sim.lock();
            inner.token = token.to_string();
            inner.clock = "2026-11-30 14:00:00".into();
            inner.next_item = 1;
        }
        sim
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("sim poisoned")
    }

    /// Starts on a free local port; returns the REST base URL (`…/rest/default`).
    pub async fn start(&self) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}/rest/default", listener.local_addr()?);
        let app = Router::new()
            .route("/rest/default/V1/orders", get(orders))
            .route("/rest/default/V1/orders/{id}", get(order))
            .route("/rest/default/V1/orders/{id}/cancel", post(cancel))
            .route("/rest/default/V1/order/{id}/ship", post(ship))
            .route("/rest/default/V1/shipments", get(shipments))
            .route(
                "/rest/default/V1/inventory/source-items",
                post(source_items),
            )
            .with_state(self.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((base, task))
    }

    /// The time changes are stamped with from now on (`YYYY-MM-DD HH:MM:SS`).
    pub fn set_clock(&self, at: &str) {
        self.lock().clock = at.to_string();
    }

    /// Makes `sku` a product the catalog has.
    pub fn add_product(&self, sku: &str) {
        self.lock().catalog.insert(sku.to_string());
    }

    /// Places order `id` (its increment id `0000000{id}`), new, with one simple item per
    /// (SKU, units) at 10.00 each, changed now; its SKUs join the catalog.
    pub fn add_order(&self, id: i64, lines: &[(&str, i64)]) {
        let mut inner = self.lock();
        let mut items = Vec::new();
        for (sku, qty) in lines {
            inner.catalog.insert(sku.to_string());
            let item_id = inner.next_item;
            inner.next_item += 1;
            items.push(
                json!({"item_id": item_id, "order_id": id, "parent_item_id": null,
                              "product_type": "simple", "is_virtual": 0, "sku": sku,
                              "name": sku, "price": 10, "qty_ordered": qty, "qty_shipped": 0}),
            );
        }
        let address = json!({"address_type": "shipping", "firstname": "Veronica",
            "lastname": "Costello", "street": ["6146 Honey Bluff Parkway"], "city": "Calder",
            "region_code": "MI", "postcode": "49628-7978", "country_id": "US"});
        let order = json!({
            "entity_id": id, "increment_id": format!("{id:09}"), "state": "new",
            "status": "pending", "customer_id": 1, "customer_email": "roni_cost@example.com",
            "order_currency_code": "USD", "base_currency_code": "USD", "tax_amount": 0,
            "created_at": inner.clock, "updated_at": inner.clock, "items": items,
            "extension_attributes": {"shipping_assignments": [{"shipping": {"address": address}}]},
        });
        inner.orders.insert(id, order);
    }

    /// Moves order `id` to `state` (its status the same), changed now.
    pub fn set_state(&self, id: i64, state: &str) {
        let mut inner = self.lock();
        let clock = inner.clock.clone();
        if let Some(o) = inner.orders.get_mut(&id) {
            o["state"] = json!(state);
            o["status"] = json!(state);
            o["updated_at"] = json!(clock);
        }
    }

    /// The quantity last set for `sku` at `source`.
    pub fn quantity(&self, source: &str, sku: &str) -> Option<i64> {
        let key = (source.to_string(), sku.to_string());
        self.lock().source_items.get(&key).copied()
    }

    /// Calls taken to set source items.
    pub fn source_calls(&self) -> u32 {
        self.lock().source_calls
    }

    /// Pages of orders answered.
    pub fn order_pages(&self) -> u32 {
        self.lock().order_pages
    }

    /// The shipments, in the order made.
    pub fn shipments(&self) -> Vec<Shipment> {
        self.lock().shipments.clone()
    }

    /// The state order `id` is in.
    pub fn state(&self, id: i64) -> Option<String> {
        let inner = self.lock();
        inner
            .orders
            .get(&id)
            .and_then(|o| o["state"].as_str().map(str::to_string))
    }

    /// The next shipment is made, but its answer is lost (a gateway timeout).
    pub fn lose_next_answer(&self) {
        self.lock().lose_next_answer = true;
    }

    /// The store, once the call's token checks out.
    fn authorized(&self, headers: &HeaderMap) -> Option<std::sync::MutexGuard<'_, Inner>> {
        let inner = self.lock();
        let expected = format!("Bearer {}", inner.token);
        let given = headers.get("authorization").and_then(|v| v.to_str().ok());
        (given == Some(expected.as_str())).then_some(inner)
    }
}

/// Adobe Commerce's answer to a call without a token it takes.
fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "The consumer isn't authorized to access %resources.",
        json!({"resources": "Magento_Sales::actions_view"}),
    )
}

async fn orders(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    inner.order_pages += 1;
    let f = "searchCriteria[filter_groups][0][filters][0]";
    let since = match (
        q.get(&format!("{f}[field]")),
        q.get(&format!("{f}[condition_type]")),
    ) {
        (Some(field), Some(cond)) if field == "updated_at" && cond == "gteq" => {
            q.get(&format!("{f}[value]")).cloned().unwrap_or_default()
        }
        (None, None) => String::new(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "the simulated store filters by updated_at gteq only",
                json!([]),
            );
        }
    };
    let size: usize = (q
        .get("searchCriteria[pageSize]")
        .and_then(|s| s.parse().ok()))
    .unwrap_or(20);
    let page: usize = (q
        .get("searchCriteria[currentPage]")
        .and_then(|s| s.parse().ok()))
    .unwrap_or(1);
    let mut matching: Vec<&Value> = (inner.orders.values())
        .filter(|o| o["updated_at"].as_str().unwrap_or_default() >= since.as_str())
        .collect();
    // Times are written `YYYY-MM-DD HH:MM:SS`, so text order is time order.
    matching.sort_by_key(|o| {
        (
            o["updated_at"].as_str().unwrap_or_default().to_string(),
            o["entity_id"].as_i64(),
        )
    });
    let total = matching.len();
    let pages = total.div_ceil(size.max(1)).max(1);
    // A page past the last is the last page again, as Adobe Commerce answers.
    let page = page.clamp(1, pages);
    let items: Vec<Value> = (matching.into_iter())
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    Json(json!({"items": items, "total_count": total,
                "search_criteria": {"page_size": size, "current_page": page}}))
    .into_response()
}

fn no_such_order(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The entity that was requested doesn't exist. Verify the entity and try again.",
        json!({"id": id}),
    )
}

async fn order(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    match id.parse::<i64>().ok().and_then(|n| inner.orders.get(&n)) {
        Some(o) => Json(o.clone()).into_response(),
        None => no_such_order(&id),
    }
}

async fn cancel(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    let clock = inner.clock.clone();
    let Some(o) = id
        .parse::<i64>()
        .ok()
        .and_then(|n| inner.orders.get_mut(&n))
    else {
        return no_such_order(&id);
    };
    let cancellable = matches!(
        o["state"].as_str(),
        Some("new" | "pending_payment" | "processing" | "holded")
    );
    if cancellable {
        o["state"] = json!("canceled");
        o["status"] = json!("canceled");
        o["updated_at"] = json!(clock);
    }
    Json(json!(cancellable)).into_response()
}

async fn ship(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    let clock = inner.clock.clone();
    let Some((n, o)) = id
        .parse::<i64>()
        .ok()
        .and_then(|n| Some((n, inner.orders.get_mut(&n)?)))
    else {
        return no_such_order(&id);
    };
    let mut shipped = Vec::new();
    for item in body["items"].as_array().into_iter().flatten() {
        let (Some(item_id), Some(qty)) = (item["order_item_id"].as_i64(), item["qty"].as_f64())
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "\"%fieldName\" is required. Enter and try again.",
                json!({"fieldName": "order_item_id"}),
            );
        };
        let Some(line) =
            (o["items"].as_array_mut().into_iter().flatten()).find(|i| i["item_id"] == item_id)
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "Shipment Document Validation Error(s):\nThe order does not contain item %1.",
                json!([item_id]),
            );
        };
        let left = line["qty_ordered"].as_f64().unwrap_or(0.0)
            - line["qty_shipped"].as_f64().unwrap_or(0.0);
        if qty > left {
            return error(
                StatusCode::BAD_REQUEST,
                "Shipment Document Validation Error(s):\nYou can't create a shipment without products.",
                json!([]),
            );
        }
        line["qty_shipped"] = json!(line["qty_shipped"].as_f64().unwrap_or(0.0) + qty);
        shipped.push((item_id, qty));
    }
    o["updated_at"] = json!(clock);
    let tracks = (body["tracks"].as_array().into_iter().flatten())
        .filter_map(|t| t["track_number"].as_str().map(str::to_string))
        .collect();
    inner.shipments.push(Shipment {
        order_id: n,
        items: shipped,
        tracks,
    });
    let shipment_id = inner.shipments.len().to_string();
    if std::mem::take(&mut inner.lose_next_answer) {
        return error(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout", json!([]));
    }
    Json(json!(shipment_id)).into_response()
}

async fn shipments(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    let f = "searchCriteria[filter_groups][0][filters][0]";
    let order_id: Option<i64> = match q.get(&format!("{f}[field]")).map(String::as_str) {
        Some("order_id") => q.get(&format!("{f}[value]")).and_then(|v| v.parse().ok()),
        _ => None,
    };
    let items: Vec<Value> = (inner.shipments.iter().enumerate())
        .filter(|(_, s)| order_id.is_none_or(|id| s.order_id == id))
        .map(|(i, s)| {
            let tracks: Vec<Value> = s
                .tracks
                .iter()
                .map(|t| json!({"track_number": t}))
                .collect();
            json!({"entity_id": i + 1, "order_id": s.order_id, "tracks": tracks})
        })
        .collect();
    Json(json!({"items": items, "total_count": items.len()})).into_response()
}

async fn source_items(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    inner.source_calls += 1;
    let items = body["sourceItems"].as_array().cloned().unwrap_or_default();
    if let Some(unknown) = items
        .iter()
        .filter_map(|i| i["sku"].as_str())
        .find(|s| !inner.catalog.contains(*s))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "Could not save Source Item: product with SKU \"%1\" does not exist",
            json!([unknown]),
        );
    }
    for i in items {
        let (Some(sku), Some(source)) = (i["sku"].as_str(), i["source_code"].as_str()) else {
            continue;
        };
        let qty = i["quantity"].as_f64().unwrap_or(0.0) as i64;
        inner
            .source_items
            .insert((source.to_string(), sku.to_string()), qty);
    }
    Json(json!([])).into_response()
}
