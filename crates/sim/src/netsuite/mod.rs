//! A simulated NetSuite REST record API, closely enough for the NetSuite pack's calls:
//! `PUT /record/v1/salesOrder/eid:{external id}` upserts a sales order (the first makes it
//! and gives it an internal id, a repeat updates the same record) and answers 204 with the
//! record's `Location`; `GET /record/v1/salesOrder/{id}/item` lists its lines, numbered as
//! NetSuite does (not one by one: 1, 4, 7, …); `POST /record/v1/salesOrder/{id}/!transform/
//! itemFulfillment` records a fulfillment of open lines, refusing a second with the same
//! external id, and `GET /record/v1/itemFulfillment/eid:{external id}` reads one back;
//! `GET /record/v1/customer/{id}` reads a customer's credit fields; `PATCH
//! /record/v1/salesOrder/{id}` closes the lines it names `isClosed`. The account can be told
//! to lose its answer to the next fulfillment it makes, as a timeout after it committed
//! would.
//! Every call must carry token-based authentication (`Authorization: OAuth realm="…"`,
//! HMAC-SHA256, the account's consumer key and token); a sales order naming a customer or an
//! item the account does not have is refused with NetSuite's error body, and the account can
//! be told to answer the next few calls as its concurrency limit does (429).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Json;
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
    /// The line numbers closed (a sales order whose every line is closed is cancelled).
    pub closed: BTreeSet<i64>,
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
            .route(
                "/services/rest/record/v1/salesOrder/{key}",
                put(upsert).patch(records::close_lines),
            )
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

mod records;
use records::{customer, fulfil, fulfillment, lines, upsert};
