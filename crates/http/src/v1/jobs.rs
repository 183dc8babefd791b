//! `GET /v1/jobs?state=&system=&limit=`: the outbox queue, for operators; and
//! `POST /v1/jobs/retry?system=erp`: the system's waiting jobs due now, not after each one's
//! own backoff (for when an operator knows the system is back).

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use crossdock_domain::JobState;
use crossdock_engine::Inventory;
use crossdock_engine::config::SYSTEMS;
use crossdock_store::JobFilter;
use crossdock_store::Store;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::{Json, Query};
use crate::openapi;
use crate::problem::Problem;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/jobs", get(list))
        .route("/v1/jobs/retry", post(retry))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RetryParams {
    #[param(value_type = openapi::System)]
    system: String,
}

/// Makes every job waiting for a system (sitting out its backoff) due now, within the system's rate; for when an operator knows the system is back. The runner does the same by itself when a system's circuit closes again.
#[utoipa::path(
    post,
    path = "/v1/jobs/retry",
    params(RetryParams),
    responses(
        (status = 200, description = "How many jobs were made due", body = openapi::JobsRetried),
        (status = 422, description = "Not a known system"),
    )
)]
async fn retry(
    State(inv): State<Inventory>,
    Query(p): Query<RetryParams>,
) -> Result<Json<Value>, Problem> {
    if !SYSTEMS.contains(&p.system.as_str()) {
        return Err(Problem::invalid(format!(
            "system must be one of {}",
            SYSTEMS.join(", ")
        )));
    }
    let due = inv
        .store()
        .hasten_jobs(&p.system, crossdock_engine::inventory::now())
        .await
        .map_err(crossdock_engine::EngineError::from)?;
    tracing::info!(
        system = p.system,
        due,
        "an operator made the system's waiting jobs due"
    );
    Ok(Json(json!({ "system": p.system, "due": due })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Params {
    #[param(value_type = Option<openapi::JobState>)]
    state: Option<String>,
    system: Option<String>,
    /// The `next_after` of the previous page: the items after it
    after: Option<String>,
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
}

/// The outbox queue: jobs for outside systems, written with the business change that needs them
#[utoipa::path(
    get,
    path = "/v1/jobs",
    params(Params),
    responses(
        (status = 200, description = "Jobs, oldest due first", body = openapi::JobPage),
        (status = 422, description = "VALIDATION_FAILED"),
    )
)]
async fn list(
    State(inv): State<Inventory>,
    Query(p): Query<Params>,
) -> Result<Json<Value>, Problem> {
    let state = super::one_of("state", p.state.as_deref(), JobState::ALL, JobState::as_str)?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::invalid("limit must be between 1 and 1000"));
    }
    let jobs = inv
        .jobs(JobFilter {
            state,
            system: p.system,
            after: p.after,
            limit,
        })
        .await?;
    let next_after = super::next_page(&jobs, limit, |j| j.id.to_string());
    Ok(Json(json!({ "jobs": jobs, "next_after": next_after })))
}
