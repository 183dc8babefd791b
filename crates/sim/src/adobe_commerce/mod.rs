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
//!   Commerce does (400, with the message and its parameters);
//! - `POST /V1/products/base-prices`, answering the items it refused (a SKU the catalog does
//!   not have, a price below zero), each with its message and parameters.
//!
//! Orders are made with [`SimAdobeCommerce::add_order`] and changed with
//! [`SimAdobeCommerce::set_state`], each change moving the order's `updated_at` to the
//! simulated clock ([`SimAdobeCommerce::set_clock`]), so tests place changes in the same
//! second or apart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod routes;
use routes::{base_prices, cancel, order, orders, ship, shipments, source_items};

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
    /// Base price by SKU, as last set.
    prices: BTreeMap<String, f64>,
    price_calls: u32,
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
            .route("/rest/default/V1/products/base-prices", post(base_prices))
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

    /// The base price last set for `sku`.
    pub fn price(&self, sku: &str) -> Option<f64> {
        self.lock().prices.get(sku).copied()
    }

    /// Calls taken to set base prices.
    pub fn price_calls(&self) -> u32 {
        self.lock().price_calls
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
