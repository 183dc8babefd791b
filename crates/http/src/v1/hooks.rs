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
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::{Json, Query};
use crate::openapi;
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

/// A connector's webhook: the signature checked on the raw body (Shopify: X-Shopify-Hmac-Sha256; Standard Webhooks: webhook-id, webhook-timestamp within 5 minutes, webhook-signature), then the payload mapped by its topic and taken in once. A signed delivery is answered 200 whatever the business outcome; what cannot be taken in is parked in the exception queue
#[utoipa::path(
    post,
    path = "/v1/hooks/{connector}",
    params(("connector" = String, Path, description = "a shopify or standard_webhooks connector's name under [[connectors]]")),
    request_body = openapi::AnyValue,
    responses(
        (status = 200, description = "taken, ignored, or parked", body = openapi::HookAnswer),
        (status = 401, description = "SIGNATURE_INVALID (missing, malformed, stale or not matching the body; the delivery is kept, see /v1/hooks/{connector}/rejections)"),
        (status = 404, description = "NOT_FOUND (no connector of that name takes webhooks)"),
        (status = 503, description = "STORE_UNAVAILABLE (nothing was taken in; the sender delivers again)"),
    )
)]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Params {
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<i64>,
}

/// Deliveries to a connector refused for their signature, newest first, with their raw bodies (the newest 1,000 are kept)
#[utoipa::path(
    get,
    path = "/v1/hooks/{connector}/rejections",
    params(("connector" = String, Path, description = "a shopify or standard_webhooks connector's name under [[connectors]]"), Params),
    responses(
        (status = 200, description = "The rejections", body = openapi::HookRejectionPage),
        (status = 404, description = "NOT_FOUND (no connector of that name takes webhooks)"),
        (status = 422, description = "VALIDATION_FAILED (limit out of range)"),
    )
)]
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
