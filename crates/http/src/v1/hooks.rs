//! Webhooks in: `POST /v1/hooks/{connector}` takes one delivery (the raw body, checked by the
//! connector's signature scheme), `GET /v1/hooks/{connector}/rejections?limit=` lists the
//! deliveries refused for their signature, newest first, with their raw bodies.
//!
//! A signed delivery is answered 200 whatever the business outcome: `taken`, `ignored`, or
//! `parked` in the exception queue with an exception id. Only a bad signature (401
//! `SIGNATURE_INVALID`), an unknown connector (404) and a store that cannot take the delivery
//! (503, so the sender delivers again) are answered otherwise.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use crossdock_connectors::hooks::{HookError, Hooks};
use crossdock_domain::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::{Json, Query};
use crate::problem::Problem;

/// Most rejections per list.
pub const MAX_LIST: i64 = 200;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/hooks/{connector}", post(receive))
        .route("/v1/hooks/{connector}/rejections", get(rejections))
}

fn problem(hooks: &Hooks, e: HookError) -> Problem {
    match e {
        HookError::UnknownConnector(name) => {
            let names = hooks.names();
            let known = if names.is_empty() {
                "none is configured".to_string()
            } else {
                names.join(", ")
            };
            Problem::new(
                ErrorCode::NotFound,
                format!("no connector `{name}` takes webhooks here"),
            )
            .remediation(format!(
                "Point the sender at /v1/hooks/NAME for a shopify or standard_webhooks \
                 connector under [[connectors]] (configured: {known})."
            ))
        }
        HookError::Signature(e) => Problem::new(ErrorCode::SignatureInvalid, e.to_string())
            .remediation(ErrorCode::SignatureInvalid.steps()),
        HookError::Engine(e) => Problem::from(e),
    }
}

async fn receive(
    State(hooks): State<Hooks>,
    Path(connector): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let correlation_id = super::orders::correlation_id(&headers)?;
    match hooks
        .receive(&connector, &headers, &body, correlation_id)
        .await
    {
        Ok((delivery, took)) => Ok(Json(took.body(&connector, &delivery))),
        Err(e) => Err(problem(&hooks, e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    limit: Option<i64>,
}

async fn rejections(
    State(hooks): State<Hooks>,
    Path(connector): Path<String>,
    Query(p): Query<Params>,
) -> Result<Json<Value>, Problem> {
    let limit = p.limit.unwrap_or(50);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(Problem::invalid(format!("limit must be 1 to {MAX_LIST}")));
    }
    match hooks.rejections(&connector, limit).await {
        Ok(list) => Ok(Json(json!({"rejections": list}))),
        Err(e) => Err(problem(&hooks, e)),
    }
}
