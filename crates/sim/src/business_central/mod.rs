//! A simulated Business Central environment, closely enough for the Business Central pack's
//! calls, behind a simulated Microsoft identity platform:
//!
//! - `POST /token` takes the client credentials grant (`client_id`, `client_secret`) and
//!   hands out a bearer token; every API call must carry the last one handed out.
//! - `POST /api/v2.0/companies({id})/salesOrders` makes a sales order with its lines
//!   (refusing an unknown customer or item with the OData error body). As Business Central
//!   does, it does not hold `externalDocumentNumber` unique: the same number twice makes two
//!   orders. `GET …/salesOrders?$filter=externalDocumentNumber eq '…'` finds them; `DELETE
//!   …/salesOrders({id})` deletes one.
//! - `GET …/salesOrders({id})/salesOrderLines` reads its lines (`quantity`, `shipQuantity`,
//!   `shippedQuantity`, `invoiceQuantity`, `invoicedQuantity`), `PATCH` one sets what the
//!   next posting ships and invoices (refusing more than is left to ship), and `POST
//!   …/salesOrders({id})/Microsoft.NAV.shipAndInvoice` posts them (refusing a posting with
//!   nothing to post), then sets each line's quantities to post back to what is left, as
//!   Business Central does.
//! - Every change (PATCH, DELETE) must carry `If-Match`.
//! - `GET …/customers?$filter=number eq '…'` reads a customer's `blocked` and credit.
//! - The environment can be told to lose its answer to the next sales order it makes (as a
//!   timeout after it committed would), or to answer the next calls as its rate limit does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod routes;

use routes::{api, token};

/// One posting of a sales order (`shipAndInvoice`): the units shipped and invoiced by item.
#[derive(Debug, Clone, PartialEq)]
pub struct Posting {
    /// The sales order's number.
    pub order_number: String,
    /// (item number, units) shipped and invoiced.
    pub lines: Vec<(String, f64)>,
}

/// A sales order line, as postings move it.
#[derive(Debug, Clone)]
struct Line {
    id: String,
    item: String,
    quantity: f64,
    ship: f64,
    shipped: f64,
    invoice: f64,
    invoiced: f64,
}

impl Line {
    fn record(&self) -> Value {
        json!({"id": self.id, "lineType": "Item", "lineObjectNumber": self.item,
               "quantity": self.quantity, "shipQuantity": self.ship,
               "shippedQuantity": self.shipped, "invoiceQuantity": self.invoice,
               "invoicedQuantity": self.invoiced})
    }
}

/// One sales order as the company holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesOrder {
    /// Its id.
    pub id: String,
    /// Its number.
    pub number: String,
    /// Its external document number (our order id).
    pub external_document_number: String,
    /// The record as sent.
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    client_id: String,
    client_secret: String,
    company: String,
    token: Option<String>,
    issued: u32,
    customers: BTreeMap<String, Value>,
    items: Vec<String>,
    orders: Vec<SalesOrder>,
    deleted: Vec<SalesOrder>,
    /// Lines by sales order id.
    lines: BTreeMap<String, Vec<Line>>,
    postings: Vec<Posting>,
    status: String,
    lose_next_answer: bool,
    limit_next: u32,
    calls: u32,
}

/// Handle to a running simulated Business Central environment. Cheap to clone.
#[derive(Clone, Default)]
pub struct SimBusinessCentral {
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

impl SimBusinessCentral {
    /// Company `company`, called by the app `client_id` with `client_secret`.
    pub fn new(client_id: &str, client_secret: &str, company: &str) -> Self {
        let bc = Self::default();
        {
            let mut inner = bc.lock();
            inner.client_id = client_id.to_string();
            inner.client_secret = client_secret.to_string();
            inner.company = company.to_string();
            inner.status = "Open".into();
        }
        bc
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("sim poisoned")
    }

    /// Starts on a free local port; returns the environment's API base URL
    /// (`…/api/v2.0`) and its token URL.
    pub async fn start(&self) -> std::io::Result<(String, String, tokio::task::JoinHandle<()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let root = format!("http://{}", listener.local_addr()?);
        let app = Router::new()
            .route("/token", post(token))
            .fallback(api)
            .with_state(self.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((format!("{root}/api/v2.0"), format!("{root}/token"), task))
    }

    /// Makes customer `number` known, with its `blocked` (`" "`, `"Ship"`, `"Invoice"`,
    /// `"All"`).
    pub fn add_customer(&self, number: &str, blocked: &str) {
        let record = json!({"id": format!("cust-{number}"), "number": number,
                            "displayName": format!("Customer {number}"), "blocked": blocked,
                            "balanceDue": 0.0, "creditLimit": 10000.0});
        self.lock().customers.insert(number.to_string(), record);
    }

    /// Makes item `number` known.
    pub fn add_item(&self, number: &str) {
        self.lock().items.push(number.to_string());
    }

    /// Makes the next sales order, then answers as if it had timed out (504).
    pub fn lose_next_answer(&self) {
        self.lock().lose_next_answer = true;
    }

    /// Answers the next `n` API calls as the rate limit does (429).
    pub fn limit_next(&self, n: u32) {
        self.lock().limit_next = n;
    }

    /// The sales orders, in the order made.
    pub fn sales_orders(&self) -> Vec<SalesOrder> {
        self.lock().orders.clone()
    }

    /// Every posting (`shipAndInvoice`), in order.
    pub fn postings(&self) -> Vec<Posting> {
        self.lock().postings.clone()
    }

    /// The sales orders deleted.
    pub fn deleted(&self) -> Vec<SalesOrder> {
        self.lock().deleted.clone()
    }

    /// API calls answered, and tokens handed out.
    pub fn calls(&self) -> (u32, u32) {
        let inner = self.lock();
        (inner.calls, inner.issued)
    }
}
