//! Simulated outside systems besides the ERP: the warehouse (WMS/3PL), payment, fraud
//! screening, tax and the storefront. Each takes JSON POSTs on any path, keeps what it
//! receives, answers a repeat of the same `reference` on the same path with the first answer
//! (as real services do with an idempotency key), and can be told to be slow, fail, throttle
//! or go down for a while.
//!
//! The fraud service scores `POST /screen`: 95 for a customer email it was told to flag,
//! else 5. Every other path answers `{"id": …, "status": "ok"}`.
//!
//! Operator routes: `GET /_sim/calls`, `PUT /_sim/faults`, `PUT /_sim/flagged` (emails).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Json, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::erp::Faults;

/// Which system a [`SimService`] plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Warehouse or 3PL: releases and their cancellations.
    Wms,
    /// Payment: captures and voids.
    Payment,
    /// Fraud screening.
    Fraud,
    /// Tax commits.
    Tax,
    /// Storefront: tracking, invoices, cancellations.
    Storefront,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Wms => "REL",
            Kind::Payment => "PAY",
            Kind::Fraud => "FRD",
            Kind::Tax => "TAX",
            Kind::Storefront => "SF",
        }
    }
}

/// One call received.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    /// The path posted to.
    pub path: String,
    /// The body.
    pub body: Value,
    /// True when it repeated an earlier call's reference (answered with the first answer).
    pub duplicate: bool,
}

struct Inner {
    kind: Kind,
    calls: Vec<Call>,
    answers: HashMap<(String, String), Value>,
    faults: Faults,
    down_until: Option<Instant>,
    window: Vec<Instant>,
    flagged: HashSet<String>,
}

/// Handle to a running simulated service. Cheap to clone.
#[derive(Clone)]
pub struct SimService {
    inner: Arc<Mutex<Inner>>,
}

impl SimService {
    /// A service playing `kind`.
    pub fn new(kind: Kind) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                kind,
                calls: Vec::new(),
                answers: HashMap::new(),
                faults: Faults::default(),
                down_until: None,
                window: Vec::new(),
                flagged: HashSet::new(),
            })),
        }
    }

    /// Starts on a free local port; returns the base URL.
    pub async fn start(&self) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        Ok((base, self.serve(listener)))
    }

    /// Serves on `listener` until the returned task is dropped or aborted.
    pub fn serve(&self, listener: TcpListener) -> tokio::task::JoinHandle<()> {
        let app = Router::new()
            .route("/_sim/calls", get(calls))
            .route("/_sim/faults", put(set_faults))
            .route("/_sim/flagged", put(set_flagged))
            .fallback(receive)
            .with_state(self.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        })
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        let mut inner = self.inner.lock().expect("sim poisoned");
        inner.down_until = (faults.down_for_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(faults.down_for_ms));
        inner.faults = faults;
    }

    /// Customer emails the fraud service scores high.
    pub fn flag(&self, email: &str) {
        let mut inner = self.inner.lock().expect("sim poisoned");
        inner.flagged.insert(email.to_string());
    }

    /// Every call received, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().expect("sim poisoned").calls.clone()
    }

    /// First-time calls (not repeats) whose path ends with `suffix`.
    pub fn received(&self, suffix: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| !c.duplicate && c.path.ends_with(suffix))
            .collect()
    }
}

async fn receive(State(sim): State<SimService>, uri: Uri, body: Option<Json<Value>>) -> Response {
    let path = uri.path().to_string();
    let body = body.map(|b| b.0).unwrap_or(Value::Null);
    let (answer, delay) = {
        let mut inner = sim.inner.lock().expect("sim poisoned");
        let delay = Duration::from_millis(inner.faults.delay_ms);
        let now = Instant::now();
        if inner.down_until.is_some_and(|t| now < t) || inner.faults.fail_next > 0 {
            inner.faults.fail_next = inner.faults.fail_next.saturating_sub(1);
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "unavailable"})),
            )
                .into_response();
        }
        inner
            .window
            .retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        if let Some(max) = inner.faults.max_per_sec
            && inner.window.len() >= max as usize
        {
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"error": "rate limit exceeded"})),
            )
                .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return res;
        }
        let Some(reference) = body["reference"].as_str().filter(|r| !r.is_empty()) else {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "reference is required"})),
            )
                .into_response();
        };
        let key = (path.clone(), reference.to_string());
        let duplicate = inner.answers.contains_key(&key);
        let answer = match inner.answers.get(&key) {
            Some(first) => first.clone(),
            None => {
                inner.window.push(now);
                let n = inner.answers.len() + 1;
                let answer = if inner.kind == Kind::Fraud && path.ends_with("/screen") {
                    let email = body["customer"]["email"].as_str().unwrap_or_default();
                    let score = if inner.flagged.contains(email) { 95 } else { 5 };
                    json!({"id": format!("FRD-{n:06}"), "score": score})
                } else {
                    json!({"id": format!("{}-{n:06}", inner.kind.prefix()), "status": "ok"})
                };
                inner.answers.insert(key, answer.clone());
                answer
            }
        };
        inner.calls.push(Call {
            path,
            body,
            duplicate,
        });
        (answer, delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    (StatusCode::OK, Json(answer)).into_response()
}

async fn calls(State(sim): State<SimService>) -> Json<Vec<Call>> {
    Json(sim.calls())
}

async fn set_faults(State(sim): State<SimService>, faults: Json<Faults>) -> StatusCode {
    sim.set_faults(faults.0);
    StatusCode::NO_CONTENT
}

async fn set_flagged(State(sim): State<SimService>, emails: Json<Vec<String>>) -> StatusCode {
    for e in emails.0 {
        sim.flag(&e);
    }
    StatusCode::NO_CONTENT
}
