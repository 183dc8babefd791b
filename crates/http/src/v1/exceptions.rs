//! The exception queue: failures that need a person, with a stable code and remediation.
//! `GET /v1/exceptions?code=&system=&status=&since=&limit=`, `GET /v1/exceptions/{id}`,
//! `POST /v1/exceptions/{id}/retry`, `POST /v1/exceptions/{id}/resolve`,
//! `POST /v1/exceptions/{id}/cancel-order`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use crossdock_domain::ExceptionStatus;
use crossdock_domain::{ErrorCode, Timestamp};
use crossdock_engine::Inventory;
use crossdock_engine::intake::Intake;
use crossdock_store::{Exception, ExceptionAction, ExceptionFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::openapi;
use crate::problem::Problem;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/exceptions", get(list))
        .route("/v1/exceptions/{id}", get(show))
        .route("/v1/exceptions/{id}/retry", post(retry))
        .route("/v1/exceptions/{id}/resolve", post(resolve))
        .route("/v1/exceptions/{id}/cancel-order", post(cancel_order))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Params {
    #[param(value_type = Option<openapi::ErrorCode>)]
    code: Option<String>,
    system: Option<String>,
    #[param(value_type = Option<openapi::ExceptionStatus>)]
    status: Option<String>,
    #[param(format = DateTime)]
    since: Option<String>,
    /// The `next_after` of the previous page: the items after it
    after: Option<String>,
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
}

/// Failures that need a person, newest first
#[utoipa::path(
    get,
    path = "/v1/exceptions",
    params(Params),
    responses(
        (status = 200, description = "Exceptions", body = openapi::ExceptionPage),
        (status = 422, description = "VALIDATION_FAILED"),
    )
)]
async fn list(
    State(inv): State<Inventory>,
    Query(p): Query<Params>,
) -> Result<Json<Value>, Problem> {
    let (statuses, name) = (ExceptionStatus::ALL, ExceptionStatus::as_str);
    let status = super::one_of("status", p.status.as_deref(), statuses, name)?;
    let code = match p.code.as_deref() {
        None => None,
        Some(c) => Some(ErrorCode::parse(c).ok_or_else(|| {
            Problem::invalid(format!("code `{c}` is not a code crossdock raises"))
                .remediation("See the Problem schema's code list in /openapi.json.")
        })?),
    };
    let since = match &p.since {
        None => None,
        Some(t) => {
            Some(Timestamp::parse_rfc3339(t).map_err(|e| Problem::invalid(format!("since: {e}")))?)
        }
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::invalid("limit must be between 1 and 1000"));
    }
    let filter = ExceptionFilter {
        code,
        system: p.system,
        status,
        since,
        after: p.after,
        limit,
    };
    let exceptions = inv.exceptions(filter).await?;
    let next_after = super::next_page(&exceptions, limit, |e| e.id.to_string());
    Ok(Json(
        json!({ "exceptions": exceptions, "next_after": next_after }),
    ))
}

fn not_found(id: &str) -> Problem {
    Problem::new(ErrorCode::ExceptionNotFound, format!("no exception `{id}`"))
}

fn found(id: &str, e: Option<Exception>) -> Result<Json<Value>, Problem> {
    let e = e.ok_or_else(|| not_found(id))?;
    Ok(Json(serde_json::to_value(e).unwrap_or_default()))
}

/// One exception: code, system, order, first and last error, attempts, remediation
#[utoipa::path(
    get,
    path = "/v1/exceptions/{id}",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The exception", body = openapi::Exception),
        (status = 404, description = "EXCEPTION_NOT_FOUND"),
    )
)]
async fn show(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    found(&id, inv.exception(&id).await?)
}

/// An edited payload for the retry (optional).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RetryIn)]
struct RetryBody {
    /// replaces the job's payload before the retry (edit and retry)
    #[schema(value_type = Object, required = false)]
    payload: Option<Value>,
}

/// Run the failed job again now; for a fraud or credit hold the order first goes back to where it was and the check runs again
#[utoipa::path(
    post,
    path = "/v1/exceptions/{id}/retry",
    params(("id" = String, Path)),
    request_body(content = Option<RetryBody>),
    responses(
        (status = 200, description = "status retrying", body = openapi::Exception),
        (status = 404, description = "EXCEPTION_NOT_FOUND"),
        (status = 422, description = "VALIDATION_FAILED (the body is not {\"payload\": {…}})"),
    )
)]
async fn retry(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Problem> {
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        // `null` retries as is, as no body does.
        let parsed: Option<RetryBody> = serde_json::from_slice(&body).map_err(|e| {
            Problem::invalid(format!("retry body: {e}"))
                .remediation("Send no body, or {\"payload\": {…}} with the job's edited payload.")
        })?;
        match parsed.and_then(|b| b.payload) {
            Some(p) if !p.is_object() => {
                return Err(Problem::invalid("payload must be a JSON object"));
            }
            p => p,
        }
    };
    found(
        &id,
        inv.act_on_exception(&id, ExceptionAction::Retry, payload)
            .await?,
    )
}

/// Close the exception (handled outside crossdock); for a fraud or credit hold, approve the order past the check
#[utoipa::path(
    post,
    path = "/v1/exceptions/{id}/resolve",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "status resolved", body = openapi::Exception),
        (status = 404, description = "EXCEPTION_NOT_FOUND"),
    )
)]
async fn resolve(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    found(
        &id,
        inv.act_on_exception(&id, ExceptionAction::Resolve, None)
            .await?,
    )
}

/// Give up on the exception's order: cancel it (stock released, compensations queued) and resolve the exception
#[utoipa::path(
    post,
    path = "/v1/exceptions/{id}/cancel-order",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The resolved exception and the cancelled order", body = openapi::OrderCancelled),
        (status = 404, description = "EXCEPTION_NOT_FOUND"),
        (status = 409, description = "ORDER_NOT_CANCELLABLE"),
    )
)]
async fn cancel_order(
    State(inv): State<Inventory>,
    State(intake): State<Intake>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let e = inv.exception(&id).await?.ok_or_else(|| not_found(&id))?;
    let order_id = e.order_id.clone().ok_or_else(|| {
        Problem::new(
            ErrorCode::OrderNotCancellable,
            format!("exception `{id}` concerns no order, so there is none to cancel"),
        )
        .remediation("Retry or resolve the exception instead.")
    })?;
    intake
        .cancel(&order_id, format!("exception {id}"), id.clone())
        .await
        .map_err(super::orders::cancel_problem)?;
    let resolved = inv
        .act_on_exception(&id, ExceptionAction::Resolve, None)
        .await?;
    let order = inv.order(&order_id).await?;
    Ok(Json(json!({ "exception": resolved, "order": order })))
}
