//! A simulated NetSuite REST record API, closely enough for the NetSuite pack's calls:
//! `PUT /record/v1/salesOrder/eid:{external id}` upserts a sales order (the first makes it
//! and gives it an internal id, a repeat updates the same record) and answers 204 with the
//! record's `Location`; `GET /record/v1/salesOrder/{id}/item` lists its lines, numbered as
//! NetSuite does (not one by one: 1, 4, 7, …); `POST /record/v1/salesOrder/{id}/!transform/
//! itemFulfillment` records a fulfillment of open lines, refusing a second with the same
//! external id, and `GET /record/v1/itemFulfillment/eid:{external id}` reads one back;
//! `GET /record/v1/customer/{id}` reads a customer's credit fields. The account can be told
//! to lose its answer to the next fulfillment it makes, as a timeout after it committed
//! would.
//! Every call must carry token-based authentication (`Authorization: OAuth realm="…"`,
//! HMAC-SHA256, the account's consumer key and token); a sales order naming a customer or an
//! item the account does not have is refused with NetSuite's error body, and the account can
//! be told to answer the next few calls as its concurrency limit does (429).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One item fulfillment as the account holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fulfillment {
    /// The sales order's internal id.
    pub sales_order: String,
    /// Its external id.
    pub external_id: String,
    /// (line, units) received.
    pub lines: Vec<(i64, f64)>,
    /// The record as sent.
    pub body: Value,
}

/// One sales order as the account holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesOrder {
    /// Its internal id.
    pub id: String,
    /// Its external id (our order id).
    pub external_id: String,
    /// The record as last upserted.
    pub body: Value,
    /// How many upserts it took.
    pub upserts: u32,
    /// Units fulfilled by line number.
    pub fulfilled: BTreeMap<i64, f64>,
}

#[derive(Default)]
struct Inner {
    account: String,
    consumer_key: String,
    token_id: String,
    customers: BTreeMap<String, Value>,
    items: BTreeSet<String>,
    orders: BTreeMap<String, SalesOrder>,
    fulfillments: Vec<Fulfillment>,
    limit_next: u32,
    lose_next_answer: bool,
    calls: u32,
    refused_auth: u32,
}

/// Handle to a running simulated NetSuite account. Cheap to clone.
#[derive(Clone, Default)]
pub struct SimNetSuite {
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = json!({"type": "https://www.rfc-editor.org/rfc/rfc9110.html", "title": code,
                      "status": status.as_u16(),
                      "o:errorDetails": [{"detail": detail, "o:errorCode": code}]});
    (status, Json(body)).into_response()
}

/// NetSuite's answer for a record that does not exist.
fn missing() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NONEXISTENT_ID",
        "The record instance does not exist. Provide a valid record instance ID.",
    )
}

impl SimNetSuite {
    /// Account `account`, taking calls signed with `consumer_key` and `token_id`.
    pub fn new(account: &str, consumer_key: &str, token_id: &str) -> Self {
        let ns = Self::default();
        {
            let mut inner = ns.lock();
            inner.account = account.to_string();
            inner.consumer_key = consumer_key.to_string();
            inner.token_id = token_id.to_string();
        }
        ns
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("sim poisoned")
    }

    /// Starts on a free local port; returns the account's base URL (`…/services/rest`).
    pub async fn start(&self) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}/services/rest", listener.local_addr()?);
        let app = Router::new()
            .route("/services/rest/record/v1/salesOrder/{key}", put(upsert))
            .route("/services/rest/record/v1/salesOrder/{id}/item", get(lines))
            .route(
                "/services/rest/record/v1/salesOrder/{id}/{transform}/itemFulfillment",
                post(fulfil),
            )
            .route(
                "/services/rest/record/v1/itemFulfillment/{key}",
                get(fulfillment),
            )
            .route("/services/rest/record/v1/customer/{id}", get(customer))
            .with_state(self.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((base, task))
    }

    /// Makes customer `id` known, with its credit override (`AUTO`, `ON`, `OFF`).
    pub fn add_customer(&self, id: &str, credit_hold_override: &str) {
        let record = json!({"id": id, "entityId": format!("Customer {id}"),
                            "creditHoldOverride": {"id": credit_hold_override},
                            "creditLimit": 10000.0, "balance": 0.0});
        self.lock().customers.insert(id.to_string(), record);
    }

    /// Makes item `id` known.
    pub fn add_item(&self, id: &str) {
        self.lock().items.insert(id.to_string());
    }

    /// Answers the next `n` calls as the concurrency limit does.
    pub fn limit_next(&self, n: u32) {
        self.lock().limit_next = n;
    }

    /// The sales orders, by external id.
    pub fn sales_orders(&self) -> BTreeMap<String, SalesOrder> {
        self.lock().orders.clone()
    }

    /// Makes the next item fulfillment, then answers as if it had timed out (500).
    pub fn lose_next_answer(&self) {
        self.lock().lose_next_answer = true;
    }

    /// The item fulfillments, in the order made.
    pub fn fulfillments(&self) -> Vec<Fulfillment> {
        self.lock().fulfillments.clone()
    }

    /// Calls answered (limited ones too), and calls refused for their authentication.
    pub fn calls(&self) -> (u32, u32) {
        let inner = self.lock();
        (inner.calls, inner.refused_auth)
    }

    /// The call's token-based authentication checks out in shape for this account.
    fn signed(&self, headers: &HeaderMap) -> bool {
        let inner = self.lock();
        let Some(auth) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let has = |k: &str, v: &str| auth.contains(&format!("{k}=\"{v}\""));
        auth.starts_with("OAuth ")
            && has("realm", &inner.account)
            && has("oauth_consumer_key", &inner.consumer_key)
            && has("oauth_token", &inner.token_id)
            && has("oauth_signature_method", "HMAC-SHA256")
            && auth.contains("oauth_signature=\"")
            && auth.contains("oauth_nonce=\"")
    }

    /// Counts a call; the answer it gets before its own handling, if any.
    fn admit(&self, headers: &HeaderMap) -> Option<Response> {
        if !self.signed(headers) {
            self.lock().refused_auth += 1;
            return Some(error(
                StatusCode::UNAUTHORIZED,
                "INVALID_LOGIN",
                "Invalid login attempt. For more details, see the Login Audit Trail.",
            ));
        }
        let mut inner = self.lock();
        inner.calls += 1;
        if inner.limit_next > 0 {
            inner.limit_next -= 1;
            let mut limited = error(
                StatusCode::TOO_MANY_REQUESTS,
                "CONCURRENCY_LIMIT_EXCEEDED",
                "Too many concurrent requests were made. Wait, then try again.",
            );
            limited
                .headers_mut()
                .insert(header::RETRY_AFTER, "1".parse().expect("a header value"));
            return Some(limited);
        }
        None
    }
}

async fn upsert(
    State(ns): State<SimNetSuite>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    let Some(external_id) = key.strip_prefix("eid:") else {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "INVALID_REQUEST",
            "PUT takes an external id (eid:…)",
        );
    };
    let mut inner = ns.lock();
    let entity = body["entity"]["id"].as_str().unwrap_or_default();
    if !inner.customers.contains_key(entity) {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_VALUE",
            &format!("Invalid value for the resource or sub-resource field 'entity': {entity}."),
        );
    }
    let lines = body["item"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for line in &lines {
        let item = line["item"]["id"].as_str().unwrap_or_default();
        if !inner.items.contains(item) {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_VALUE",
                &format!("Invalid value for the sub-resource field 'item': {item}."),
            );
        }
    }
    let next = 6000 + inner.orders.len();
    let order = inner
        .orders
        .entry(external_id.to_string())
        .or_insert_with(|| SalesOrder {
            id: next.to_string(),
            external_id: external_id.to_string(),
            body: Value::Null,
            upserts: 0,
            fulfilled: BTreeMap::new(),
        });
    order.body = body;
    order.upserts += 1;
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let location = format!(
        "http://{host}/services/rest/record/v1/salesOrder/{}",
        order.id
    );
    (StatusCode::NO_CONTENT, [(header::LOCATION, location)]).into_response()
}

async fn customer(
    State(ns): State<SimNetSuite>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    match ns.lock().customers.get(&id) {
        Some(record) => Json(record.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "NONEXISTENT_ID",
            &format!(
                "The record instance does not exist. Provide a valid record instance ID: {id}."
            ),
        ),
    }
}

/// NetSuite's number for the `i`th line of a sales order.
fn line_number(i: usize) -> i64 {
    1 + 3 * i as i64
}

async fn lines(
    State(ns): State<SimNetSuite>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    let inner = ns.lock();
    let Some(order) = inner.orders.values().find(|o| o.id == id) else {
        return missing();
    };
    let lines = order.body["item"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let line = line_number(i);
            json!({"line": line, "item": {"id": l["item"]["id"]}, "quantity": l["quantity"],
                   "quantityFulfilled": order.fulfilled.get(&line).copied().unwrap_or(0.0)})
        })
        .collect();
    Json(json!({"items": items, "totalResults": items.len()})).into_response()
}

async fn fulfil(
    State(ns): State<SimNetSuite>,
    Path((id, transform)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    if transform != "!transform" {
        return error(StatusCode::NOT_FOUND, "INVALID_REQUEST", "no such action");
    }
    let external_id = body["externalId"].as_str().unwrap_or_default().to_string();
    let mut inner = ns.lock();
    if !external_id.is_empty()
        && inner
            .fulfillments
            .iter()
            .any(|f| f.external_id == external_id)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "DUP_RCRD",
            "A record with this external ID already exists.",
        );
    }
    let Some(order) = inner.orders.values_mut().find(|o| o.id == id) else {
        return missing();
    };
    let count = order.body["item"]["items"].as_array().map_or(0, Vec::len);
    let mut received = Vec::new();
    for l in body["item"]["items"].as_array().into_iter().flatten() {
        let line = l["orderLine"].as_i64().unwrap_or_default();
        if !(0..count).any(|i| line_number(i) == line) {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_VALUE",
                &format!("Invalid value for the sub-resource field 'orderLine': {line}."),
            );
        }
        if l["itemReceive"] == json!(true) {
            received.push((line, l["quantity"].as_f64().unwrap_or_default()));
        }
    }
    if received.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "USER_ERROR",
            "You must enter at least one line item for this transaction.",
        );
    }
    for (line, qty) in &received {
        *order.fulfilled.entry(*line).or_default() += qty;
    }
    let sales_order = order.id.clone();
    inner.fulfillments.push(Fulfillment {
        sales_order,
        external_id,
        lines: received,
        body,
    });
    let n = inner.fulfillments.len();
    if std::mem::take(&mut inner.lose_next_answer) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_ERROR",
            "timed out",
        );
    }
    let location = format!("/services/rest/record/v1/itemFulfillment/{}", 8000 + n);
    (StatusCode::NO_CONTENT, [(header::LOCATION, location)]).into_response()
}

async fn fulfillment(
    State(ns): State<SimNetSuite>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    let inner = ns.lock();
    let found = (key.strip_prefix("eid:"))
        .and_then(|eid| inner.fulfillments.iter().find(|f| f.external_id == eid));
    match found {
        Some(f) => Json(json!({"externalId": f.external_id, "createdFrom": {"id": f.sales_order}}))
            .into_response(),
        None => missing(),
    }
}
