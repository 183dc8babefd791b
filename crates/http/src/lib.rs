//! crossdock's HTTP API: axum routes under `/v1`, problem+json errors, health checks and
//! the OpenAPI document; and [`run`], the composition root that `serve`, the demo, the
//! benchmarks and the tests start the hub with.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use crossdock_connectors::hooks::Hooks;
use crossdock_connectors::subscriptions::Subscriptions;
use crossdock_domain::ErrorCode;
use crossdock_engine::bindings::Bindings;
use crossdock_engine::erp_status::ErpStatuses;
use crossdock_engine::fulfilment::Fulfilment;
use crossdock_engine::intake::Intake;
use crossdock_engine::items::Items;
use crossdock_engine::prices::Prices;
use crossdock_engine::reservations::Reservations;
use crossdock_engine::stock_events::StockEvents;
use crossdock_engine::{EngineError, Inventory};
use serde_json::json;

mod app;
pub mod correlation;
pub mod extract;
pub mod gate;
mod json_keys;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod server;
pub mod v1;

pub use app::{Hub, run, run_with_store};
use problem::Problem;

/// What the routes work with: the inventory service and the use cases beside it.
#[derive(Clone)]
pub struct AppState {
    /// The inventory service: availability and reads.
    pub inventory: Inventory,
    /// Order intake (with its credit check) and cancelling.
    pub intake: Intake,
    /// The item master.
    pub items: Items,
    /// Reservations placed and released.
    pub reservations: Reservations,
    /// Shipments, invoices and returns.
    pub fulfilment: Fulfilment,
    /// Stock events.
    pub stock_events: StockEvents,
    /// The statuses the ERP pushes.
    pub erp_statuses: ErpStatuses,
    /// Connectors' webhooks.
    pub hooks: Hooks,
    /// Our keys beside the connectors' ids.
    pub bindings: Bindings,
    /// Webhooks out.
    pub subscriptions: Subscriptions,
    /// Prices from the owner of pricing.
    pub prices: Prices,
    /// The API keys the gate checks.
    pub keys: keys::ApiKeys,
    /// What `/metrics` shows.
    pub metrics: metrics::Metrics,
}

impl FromRef<AppState> for metrics::Metrics {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for keys::ApiKeys {
    fn from_ref(state: &AppState) -> Self {
        state.keys.clone()
    }
}

impl FromRef<AppState> for Subscriptions {
    fn from_ref(state: &AppState) -> Self {
        state.subscriptions.clone()
    }
}

impl FromRef<AppState> for Prices {
    fn from_ref(state: &AppState) -> Self {
        state.prices.clone()
    }
}

impl FromRef<AppState> for Bindings {
    fn from_ref(state: &AppState) -> Self {
        state.bindings.clone()
    }
}

impl FromRef<AppState> for Hooks {
    fn from_ref(state: &AppState) -> Self {
        state.hooks.clone()
    }
}

impl FromRef<AppState> for Inventory {
    fn from_ref(state: &AppState) -> Self {
        state.inventory.clone()
    }
}

impl FromRef<AppState> for Intake {
    fn from_ref(state: &AppState) -> Self {
        state.intake.clone()
    }
}

impl FromRef<AppState> for Items {
    fn from_ref(state: &AppState) -> Self {
        state.items.clone()
    }
}

impl FromRef<AppState> for Reservations {
    fn from_ref(state: &AppState) -> Self {
        state.reservations.clone()
    }
}

impl FromRef<AppState> for Fulfilment {
    fn from_ref(state: &AppState) -> Self {
        state.fulfilment.clone()
    }
}

impl FromRef<AppState> for StockEvents {
    fn from_ref(state: &AppState) -> Self {
        state.stock_events.clone()
    }
}

impl FromRef<AppState> for ErpStatuses {
    fn from_ref(state: &AppState) -> Self {
        state.erp_statuses.clone()
    }
}

/// Every route, behind the gate, with the body limit applied.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let gate = middleware::from_fn_with_state(state.keys.clone(), gate::check);
    Router::new()
        .merge(v1::router())
        .merge(metrics::router())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi_json))
        .fallback(|| async {
            Problem::new(ErrorCode::NotFound, "no such route")
                .remediation("See /openapi.json for the routes this server has.")
        })
        .layer(gate)
        .layer(middleware::from_fn(contain_panics))
        .layer(middleware::from_fn(correlation::follow))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

/// Answers 500 `INTERNAL` (logged once, by [`Problem`]) for a handler that panicked, instead
/// of dropping the connection: a fault in one route never takes the client's other requests
/// with it, and the client is told.
async fn contain_panics(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use futures_util::FutureExt;
    let route = req.uri().path().to_string();
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(res) => res,
        Err(_) => Problem::new(
            ErrorCode::Internal,
            format!("the handler of {route} failed; anything it committed before failing stands"),
        )
        .remediation(
            "This is a fault in crossdock: report it with the request. Look the resource up \
             before sending the request again.",
        )
        .into_response(),
    }
}

/// Liveness
#[utoipa::path(
    get,
    path = "/healthz",
    responses((status = 200, description = "The process is up", body = Object))
)]
async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// This document
#[utoipa::path(
    get,
    path = "/openapi.json",
    responses((status = 200, description = "OpenAPI 3.1", body = Object))
)]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document(),
    )
}

/// Readiness: the store answers
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, description = "Ready", body = openapi::Readiness),
        (status = 503, description = "Store unavailable"),
    )
)]
async fn readyz(State(inv): State<Inventory>) -> impl IntoResponse {
    match inv.ready().await {
        Ok(()) => Ok(axum::Json(json!({
            "status": "ready",
            "backend": inv.store().backend(),
            "skus": inv.projection().len(),
        }))),
        Err(e) => Err(Problem::from(e)),
    }
}

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened or migrated.
    #[error("cannot open the store: {0}")]
    Store(#[from] crossdock_store::StoreError),
    /// The configuration's estate is inconsistent.
    #[error("{0}")]
    Config(#[from] crossdock_engine::config::ConfigError),
    /// The inventory service could not start.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// A connector could not be built (its HTTP client, its credentials, its mappings).
    #[error("cannot start the connectors: {0}")]
    Connector(#[from] crossdock_connectors::SetupError),
    /// A connector's webhooks could not be set up (its secret, its mappings).
    #[error("cannot take webhooks in: {0}")]
    Hooks(#[from] crossdock_connectors::hooks::HookSetupError),
    /// The listener's certificate or key could not be read or used.
    #[error("cannot serve HTTPS: {0}")]
    Tls(String),
    /// The listener failed.
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::Service;

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_and_the_server_goes_on() {
        async fn boom() -> &'static str {
            panic!("a fault")
        }
        let mut app: Router = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "ok" }))
            .layer(middleware::from_fn(contain_panics));
        let get = |path: &str| {
            axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let res = app.call(get("/boom")).await.unwrap();
        assert_eq!(res.status(), 500);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(app.call(get("/fine")).await.unwrap().status(), 200);
    }
}
