//! crossdock's HTTP API: axum routes under `/v1`, problem+json errors, health checks and
//! the OpenAPI document. [`serve`] is the one entry point for `main`, the demo and the tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use crossdock_domain::ErrorCode;
use crossdock_engine::config::ServerConfig;
use crossdock_engine::{Config, EngineError, Inventory, Shutdown};
use crossdock_store::AnyStore;
use serde_json::json;
use tokio::net::TcpListener;

pub mod extract;
mod json_keys;
pub mod problem;
pub mod server;
pub mod v1;

use problem::Problem;

/// The OpenAPI document served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Every route, with the body limit applied.
pub fn router(inventory: Inventory, max_body_bytes: usize) -> Router {
    Router::new()
        .merge(v1::router())
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .fallback(|| async {
            Problem::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route")
                .remediation("See /openapi.json for the routes this server has.")
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(inventory)
}

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
    /// The listener failed.
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store (applying migrations) and starts the inventory service.
pub async fn start(config: &Config, shutdown: &Shutdown) -> Result<Inventory, StartError> {
    let store = AnyStore::open(&config.store.url).await?;
    let inventory = Inventory::start(
        config.estate()?,
        config.inventory.clone(),
        store,
        shutdown.clone(),
    )
    .await?;
    Ok(inventory)
}

/// Serves the API on `listener` until `shutdown` is triggered, then drains open requests;
/// `limits` bounds the body, the clocks and the connections (see [`server`]).
pub async fn serve(
    listener: TcpListener,
    inventory: Inventory,
    limits: ServerConfig,
    shutdown: Shutdown,
) -> Result<(), StartError> {
    let app = router(inventory, limits.max_body_bytes);
    server::run(listener, app, &limits, shutdown).await?;
    Ok(())
}
