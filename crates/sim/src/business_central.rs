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
use axum::extract::{Json, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

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

/// The client credentials grant.
async fn token(State(bc): State<SimBusinessCentral>, body: String) -> Response {
    let form: BTreeMap<String, String> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let mut inner = bc.lock();
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some("client_credentials")
        || field("client_id") != Some(inner.client_id.as_str())
        || field("client_secret") != Some(inner.client_secret.as_str())
    {
        let body = json!({"error": "invalid_client",
                          "error_description": "AADSTS7000215: Invalid client secret provided."});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    inner.issued += 1;
    let token = format!("bc-token-{}", inner.issued);
    inner.token = Some(token.clone());
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token})).into_response()
}

/// `+` and `%XX` undone (enough for the form a client sends).
fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = std::str::from_utf8(bytes.get(i + 1..i + 3).unwrap_or_default())
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value a `$filter=FIELD eq 'VALUE'` asks for.
fn filter_value(query: &str, field: &str) -> Option<String> {
    let filter = query
        .split('&')
        .find_map(|p| p.strip_prefix("$filter="))
        .map(decode)?;
    let rest = filter
        .strip_prefix(field)?
        .trim_start()
        .strip_prefix("eq")?
        .trim();
    let inner = rest.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// Every API call: authenticated, counted, then routed by its OData path.
async fn api(
    State(bc): State<SimBusinessCentral>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let mut inner = bc.lock();
    if bearer.is_none() || bearer != inner.token {
        return error(
            StatusCode::UNAUTHORIZED,
            "Authentication_InvalidCredentials",
            "The server has rejected the client credentials.",
        );
    }
    inner.calls += 1;
    if inner.limit_next > 0 {
        inner.limit_next -= 1;
        let mut limited = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Application_TooManyRequests",
            "Too many requests reached.",
        );
        limited
            .headers_mut()
            .insert(header::RETRY_AFTER, "1".parse().expect("a header value"));
        return limited;
    }
    let company = format!("/api/v2.0/companies({})", inner.company);
    let Some(rest) = uri.path().strip_prefix(&company) else {
        return error(
            StatusCode::NOT_FOUND,
            "BadRequest_NotFound",
            "The company does not exist.",
        );
    };
    let query = uri.query().unwrap_or_default();
    match (method, rest) {
        (Method::POST, "/salesOrders") => {
            let Ok(body) = serde_json::from_str::<Value>(&body) else {
                return error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid JSON.");
            };
            create(&mut inner, body)
        }
        (Method::GET, "/salesOrders") => {
            let number = filter_value(query, "externalDocumentNumber");
            let found: Vec<Value> = (inner.orders.iter())
                .filter(|o| {
                    number
                        .as_deref()
                        .is_none_or(|n| n == o.external_document_number)
                })
                .map(|o| json!({"id": o.id, "number": o.number, "status": inner.status}))
                .collect();
            Json(json!({"value": found})).into_response()
        }
        (Method::GET, "/customers") => {
            let number = filter_value(query, "number").unwrap_or_default();
            let found: Vec<Value> = inner.customers.get(&number).cloned().into_iter().collect();
            Json(json!({"value": found})).into_response()
        }
        (Method::PATCH | Method::DELETE, _) if !headers.contains_key(header::IF_MATCH) => error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "A value for the If-Match header is required to change a record.",
        ),
        (Method::GET, path) if path.ends_with("/salesOrderLines") => {
            let id = order_key(path).unwrap_or_default();
            match inner.lines.get(&id) {
                Some(lines) => {
                    let value: Vec<Value> = lines.iter().map(Line::record).collect();
                    Json(json!({"value": value})).into_response()
                }
                None => not_found(),
            }
        }
        (Method::PATCH, path) if path.contains("/salesOrderLines(") => {
            let Ok(body) = serde_json::from_str::<Value>(&body) else {
                return error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid JSON.");
            };
            let id = order_key(path).unwrap_or_default();
            let line_id = path
                .rsplit_once("/salesOrderLines(")
                .map(|(_, l)| l.trim_end_matches(')'));
            let Some(line) = (inner.lines.get_mut(&id).into_iter().flatten())
                .find(|l| Some(l.id.as_str()) == line_id)
            else {
                return not_found();
            };
            if let Some(ship) = body["shipQuantity"].as_f64() {
                if ship > line.quantity - line.shipped {
                    let left = line.quantity - line.shipped;
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Application_FieldValidationException",
                        &format!("You cannot ship more than {left} units."),
                    );
                }
                line.ship = ship;
            }
            if let Some(invoice) = body["invoiceQuantity"].as_f64() {
                line.invoice = invoice;
            }
            Json(line.record()).into_response()
        }
        (Method::POST, path) if path.ends_with("/Microsoft.NAV.shipAndInvoice") => {
            let id = order_key(path).unwrap_or_default();
            let number = (inner.orders.iter())
                .find(|o| o.id == id)
                .map(|o| o.number.clone());
            let (Some(number), Some(lines)) = (number, inner.lines.get_mut(&id)) else {
                return not_found();
            };
            let posted: Vec<(String, f64)> = (lines.iter())
                .filter(|l| l.ship > 0.0)
                .map(|l| (l.item.clone(), l.ship))
                .collect();
            if posted.is_empty() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Application_DialogException",
                    "There is nothing to post.",
                );
            }
            for l in lines.iter_mut() {
                l.shipped += l.ship;
                l.invoiced += l.invoice.min(l.shipped - l.invoiced);
                l.ship = l.quantity - l.shipped;
                l.invoice = l.shipped - l.invoiced;
            }
            inner.postings.push(Posting {
                order_number: number,
                lines: posted,
            });
            StatusCode::NO_CONTENT.into_response()
        }
        (Method::DELETE, path) => {
            let id = path
                .strip_prefix("/salesOrders(")
                .and_then(|p| p.strip_suffix(')'));
            match id.and_then(|id| inner.orders.iter().position(|o| o.id == id)) {
                Some(i) => {
                    let gone = inner.orders.remove(i);
                    inner.deleted.push(gone);
                    StatusCode::NO_CONTENT.into_response()
                }
                None => error(
                    StatusCode::NOT_FOUND,
                    "BadRequest_NotFound",
                    "The Sales Header does not exist.",
                ),
            }
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "BadRequest_MethodNotFound",
            "No HTTP resource was found that matches the request URI.",
        ),
    }
}

fn create(inner: &mut Inner, body: Value) -> Response {
    let customer = body["customerNumber"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !inner.customers.contains_key(&customer) {
        return error(
            StatusCode::BAD_REQUEST,
            "Internal_RecordNotFound",
            &format!(
                "The Customer does not exist. Identification fields and values: No.='{customer}'"
            ),
        );
    }
    let lines = body["salesOrderLines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(item) = (lines.iter())
        .filter_map(|l| l["lineObjectNumber"].as_str())
        .find(|n| !inner.items.iter().any(|i| i == n))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest_NotFound",
            &format!("The Item does not exist. Identification fields and values: No.='{item}'"),
        );
    }
    let n = inner.orders.len() + inner.deleted.len() + 1;
    let order = SalesOrder {
        id: format!("5d115c9c-44e3-ea11-bb43-{n:012x}"),
        number: format!("{}", 101_000 + n),
        external_document_number: body["externalDocumentNumber"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body,
    };
    let answer = json!({"id": order.id, "number": order.number,
                        "externalDocumentNumber": order.external_document_number,
                        "customerNumber": customer, "status": inner.status});
    let made: Vec<Line> = (lines.iter().enumerate())
        .map(|(i, l)| {
            let quantity = l["quantity"].as_f64().unwrap_or(0.0);
            Line {
                id: format!("{}-{}", order.id, 10_000 * (i + 1)),
                item: l["lineObjectNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                quantity,
                ship: quantity,
                shipped: 0.0,
                invoice: quantity,
                invoiced: 0.0,
            }
        })
        .collect();
    inner.lines.insert(order.id.clone(), made);
    inner.orders.push(order);
    if std::mem::take(&mut inner.lose_next_answer) {
        return error(
            StatusCode::GATEWAY_TIMEOUT,
            "Internal_ServerError",
            "The operation has timed out.",
        );
    }
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// The sales order id in a path `/salesOrders({id})…`.
fn order_key(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/salesOrders(")?;
    Some(rest.split_once(')')?.0.to_string())
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "BadRequest_NotFound",
        "The Sales Header does not exist.",
    )
}
