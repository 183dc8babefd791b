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

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    code: Option<String>,
    system: Option<String>,
    status: Option<String>,
    since: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

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

async fn show(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    found(&id, inv.exception(&id).await?)
}

/// An edited payload for the retry (optional).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryBody {
    payload: Option<Value>,
}

/// Runs the exception's job again, with `{"payload": {…}}` in place of its payload when
/// given (edit and retry). An empty body retries as is.
async fn retry(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Problem> {
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let parsed: RetryBody = serde_json::from_slice(&body).map_err(|e| {
            Problem::invalid(format!("retry body: {e}"))
                .remediation("Send no body, or {\"payload\": {…}} with the job's edited payload.")
        })?;
        match parsed.payload {
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

/// Gives up on the exception's order: cancels it (releasing its stock and queueing the
/// compensations) and resolves the exception.
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
