//! A simulated ERP: takes sales orders over HTTP, dedupes them by the caller's external
//! reference (as real ERPs do with an external document number), counts what it received,
//! and can be told to be slow, fail, answer 429 with `Retry-After`, go down for a while, or
//! commit and then answer too late (the unknown outcome a retry must survive).
//!
//! Routes: `POST /sales-orders`, `GET /sales-orders/{external_ref}`,
//! `POST /sales-orders/{external_ref}/cancel`, `POST /sales-orders/{external_ref}/fulfilments`
//! (deduped by `reference`), `GET /customers/{account}/credit`, and for operators of the
//! simulation `GET /_sim/stats`, `PUT /_sim/faults`, `PUT /_sim/credit/{account}`
//! (`{"hold": true}`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Faults to inject. All off by default.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every answer, in milliseconds.
    pub delay_ms: u64,
    /// The next this-many posts answer 503.
    pub fail_next: u32,
    /// Answer 503 to everything for this many milliseconds from now.
    pub down_for_ms: u64,
    /// Accept at most this many posts a second; past that answer 429 with `Retry-After: 1`.
    pub max_per_sec: Option<u32>,
    /// The next this-many posts are committed, then answered after this delay (ms), so a
    /// caller with a shorter timeout sees a timeout for an order that exists.
    pub commit_then_stall: u32,
    /// How long such a stalled answer takes, in milliseconds.
    pub stall_ms: u64,
}

/// A sales order as the ERP keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct SalesOrder {
    /// The ERP's own number.
    pub erp_order_id: String,
    /// The caller's reference (crossdock's order id).
    pub external_ref: String,
    /// What was posted.
    pub body: Value,
    /// The ERP's own status (`Pending Fulfillment` unless told otherwise).
    pub status: String,
    /// True once cancelled.
    pub cancelled: bool,
    /// Fulfilments posted against it, by reference (the shipment).
    pub fulfilments: Vec<Value>,
    /// Return authorisations posted against it, by reference (the RMA).
    pub returns: Vec<Value>,
}

/// What the ERP has seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Posts received (including refused ones).
    pub posts: u64,
    /// Sales orders created.
    pub created: u64,
    /// Posts for a reference already created (answered with the existing order).
    pub duplicates: u64,
    /// Posts refused with 503.
    pub unavailable: u64,
    /// Posts refused with 429.
    pub throttled: u64,
    /// Most posts accepted within any one second.
    pub peak_per_sec: u32,
}

#[derive(Default)]
struct Inner {
    orders: HashMap<String, SalesOrder>,
    stats: Stats,
    faults: Faults,
    down_until: Option<Instant>,
    window: Vec<Instant>,
    credit_holds: std::collections::HashSet<String>,
    credit_checks: u64,
    new_status: Option<String>,
    /// (method and path, `X-Correlation-ID`) of the latest calls, oldest first.
    correlated: std::collections::VecDeque<(String, String)>,
}

/// Calls whose correlation ids the ERP keeps, newest last.
const CORRELATED_KEPT: usize = 10_000;

/// Handle to a running simulated ERP. Cheap to clone.
#[derive(Clone, Default)]
pub struct SimErp {
    inner: Arc<Mutex<Inner>>,
}

impl SimErp {
    /// Serves on `listener` until the returned task is dropped or aborted.
    pub fn serve(&self, listener: TcpListener) -> tokio::task::JoinHandle<()> {
        let app = Router::new()
            .route("/sales-orders", post(create))
            .route("/sales-orders/{external_ref}", get(show))
            .route("/sales-orders/{external_ref}/cancel", post(cancel))
            .route("/sales-orders/{external_ref}/fulfilments", post(fulfil))
            .route("/sales-orders/{external_ref}/returns", post(record_return))
            .route("/customers/{account}/credit", get(credit))
            .route("/_sim/credit/{account}", put(set_credit))
            .route("/_sim/stats", get(stats))
            .route("/_sim/faults", put(set_faults))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                note_correlation,
            ))
            .with_state(self.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        })
    }

    /// Starts on a free local port; returns the base URL.
    pub async fn start(&self) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        Ok((base, self.serve(listener)))
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        let mut inner = self.inner.lock().expect("sim poisoned");
        inner.down_until = (faults.down_for_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(faults.down_for_ms));
        inner.faults = faults;
    }

    /// Puts `account` on credit hold (or takes it off).
    pub fn set_credit_hold(&self, account: &str, on_hold: bool) {
        let mut inner = self.inner.lock().expect("sim poisoned");
        if on_hold {
            inner.credit_holds.insert(account.to_string());
        } else {
            inner.credit_holds.remove(account);
        }
    }

    /// The status new sales orders are created in (`None`: `Pending Fulfillment`).
    pub fn set_new_order_status(&self, status: Option<&str>) {
        self.inner.lock().expect("sim poisoned").new_status = status.map(str::to_string);
    }

    /// Sets the status of the sales order for `external_ref` (an approval in the ERP).
    pub fn set_order_status(&self, external_ref: &str, status: &str) {
        let mut inner = self.inner.lock().expect("sim poisoned");
        if let Some(o) = inner.orders.get_mut(external_ref) {
            o.status = status.to_string();
        }
    }

    /// Credit checks answered.
    pub fn credit_checks(&self) -> u64 {
        self.inner.lock().expect("sim poisoned").credit_checks
    }

    /// What it has seen so far.
    pub fn stats(&self) -> Stats {
        self.inner.lock().expect("sim poisoned").stats.clone()
    }

    /// (method and path, id) of the latest calls that carried an `X-Correlation-ID`, oldest
    /// first.
    pub fn correlation_ids(&self) -> Vec<(String, String)> {
        let inner = self.inner.lock().expect("sim poisoned");
        inner.correlated.iter().cloned().collect()
    }

    /// Every sales order it holds.
    pub fn orders(&self) -> Vec<SalesOrder> {
        self.inner
            .lock()
            .expect("sim poisoned")
            .orders
            .values()
            .cloned()
            .collect()
    }
}

/// Keeps the `X-Correlation-ID` a call carried, as a real ERP's request log would.
async fn note_correlation(
    State(sim): State<SimErp>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let id = (req.headers().get("x-correlation-id")).and_then(|v| v.to_str().ok());
    if let Some(id) = id {
        let call = format!("{} {}", req.method(), req.uri().path());
        let mut inner = sim.inner.lock().expect("sim poisoned");
        if inner.correlated.len() == CORRELATED_KEPT {
            inner.correlated.pop_front();
        }
        inner.correlated.push_back((call, id.to_string()));
    }
    next.run(req).await
}

enum Verdict {
    Unavailable,
    Throttled,
    Created(SalesOrder, Option<Duration>),
    Existing(SalesOrder),
    Invalid(String),
}

async fn create(State(sim): State<SimErp>, body: axum::Json<Value>) -> Response {
    let body = body.0;
    let (verdict, delay) = {
        let mut inner = sim.inner.lock().expect("sim poisoned");
        inner.stats.posts += 1;
        let delay = Duration::from_millis(inner.faults.delay_ms);
        let now = Instant::now();
        let verdict = if inner.down_until.is_some_and(|t| now < t) || inner.faults.fail_next > 0 {
            inner.faults.fail_next = inner.faults.fail_next.saturating_sub(1);
            inner.stats.unavailable += 1;
            Verdict::Unavailable
        } else if let Some(max) = inner.faults.max_per_sec
            && {
                inner
                    .window
                    .retain(|t| now.duration_since(*t) < Duration::from_secs(1));
                inner.window.len() >= max as usize
            }
        {
            inner.stats.throttled += 1;
            Verdict::Throttled
        } else {
            match body.get("external_ref").and_then(Value::as_str) {
                None | Some("") => Verdict::Invalid("external_ref is required".into()),
                Some(r) => match inner.orders.get(r).cloned() {
                    Some(existing) => {
                        inner.stats.duplicates += 1;
                        Verdict::Existing(existing)
                    }
                    None => {
                        inner
                            .window
                            .retain(|t| now.duration_since(*t) < Duration::from_secs(1));
                        inner.window.push(now);
                        let in_window = inner.window.len() as u32;
                        inner.stats.peak_per_sec = inner.stats.peak_per_sec.max(in_window);
                        inner.stats.created += 1;
                        let order = SalesOrder {
                            erp_order_id: format!("SO-{:06}", inner.stats.created),
                            external_ref: r.to_string(),
                            body: body.clone(),
                            status: inner
                                .new_status
                                .clone()
                                .unwrap_or_else(|| "Pending Fulfillment".to_string()),
                            cancelled: false,
                            fulfilments: Vec::new(),
                            returns: Vec::new(),
                        };
                        inner.orders.insert(r.to_string(), order.clone());
                        let stall = (inner.faults.commit_then_stall > 0).then(|| {
                            inner.faults.commit_then_stall -= 1;
                            Duration::from_millis(inner.faults.stall_ms)
                        });
                        Verdict::Created(order, stall)
                    }
                },
            }
        };
        (verdict, delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match verdict {
        Verdict::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": "ERP is unavailable"})),
        )
            .into_response(),
        Verdict::Throttled => {
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"error": "rate limit exceeded"})),
            )
                .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            res
        }
        Verdict::Invalid(msg) => {
            (StatusCode::BAD_REQUEST, axum::Json(json!({"error": msg}))).into_response()
        }
        Verdict::Existing(order) => (StatusCode::OK, axum::Json(order)).into_response(),
        Verdict::Created(order, stall) => {
            if let Some(stall) = stall {
                tokio::time::sleep(stall).await;
            }
            (StatusCode::CREATED, axum::Json(order)).into_response()
        }
    }
}

async fn show(State(sim): State<SimErp>, Path(external_ref): Path<String>) -> Response {
    let inner = sim.inner.lock().expect("sim poisoned");
    match inner.orders.get(&external_ref) {
        Some(o) => axum::Json(o.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn cancel(State(sim): State<SimErp>, Path(external_ref): Path<String>) -> Response {
    let mut inner = sim.inner.lock().expect("sim poisoned");
    if inner.down_until.is_some_and(|t| Instant::now() < t) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    match inner.orders.get_mut(&external_ref) {
        Some(o) => {
            o.cancelled = true;
            axum::Json(o.clone()).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn fulfil(
    State(sim): State<SimErp>,
    Path(external_ref): Path<String>,
    body: axum::Json<Value>,
) -> Response {
    record_against(&sim, &external_ref, body.0, |o| &mut o.fulfilments)
}

async fn record_return(
    State(sim): State<SimErp>,
    Path(external_ref): Path<String>,
    body: axum::Json<Value>,
) -> Response {
    record_against(&sim, &external_ref, body.0, |o| &mut o.returns)
}

/// Keeps `body` in one of a sales order's lists, once per `reference`.
fn record_against(
    sim: &SimErp,
    external_ref: &str,
    body: Value,
    list: impl Fn(&mut SalesOrder) -> &mut Vec<Value>,
) -> Response {
    let mut inner = sim.inner.lock().expect("sim poisoned");
    if inner.down_until.is_some_and(|t| Instant::now() < t) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let Some(order) = inner.orders.get_mut(external_ref) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let kept = list(order);
    if !kept.iter().any(|f| f["reference"] == body["reference"]) {
        kept.push(body);
    }
    axum::Json(order.clone()).into_response()
}

async fn credit(State(sim): State<SimErp>, Path(account): Path<String>) -> Response {
    let mut inner = sim.inner.lock().expect("sim poisoned");
    if inner.down_until.is_some_and(|t| Instant::now() < t) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    inner.credit_checks += 1;
    let status = if inner.credit_holds.contains(&account) {
        "hold"
    } else {
        "ok"
    };
    axum::Json(json!({"account": account, "status": status})).into_response()
}

/// `{"hold": bool}`
#[derive(Deserialize)]
struct CreditHold {
    hold: bool,
}

async fn set_credit(
    State(sim): State<SimErp>,
    Path(account): Path<String>,
    body: axum::Json<CreditHold>,
) -> StatusCode {
    sim.set_credit_hold(&account, body.0.hold);
    StatusCode::NO_CONTENT
}

async fn stats(State(sim): State<SimErp>) -> axum::Json<Stats> {
    axum::Json(sim.stats())
}

async fn set_faults(State(sim): State<SimErp>, faults: axum::Json<Faults>) -> StatusCode {
    sim.set_faults(faults.0);
    StatusCode::NO_CONTENT
}
