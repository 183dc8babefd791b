//! `GET /v1/jobs?state=&system=&limit=`: the outbox queue, for operators.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use crossdock_engine::Inventory;
use crossdock_store::JobFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::extract::{Json, Query};
use crate::problem::Problem;

/// Job states.
pub const STATES: &[&str] = &["ready", "leased", "done", "failed"];

/// Routes.
pub fn router() -> Router<Inventory> {
    Router::new().route("/v1/jobs", get(list))
}

#[derive(Deserialize)]
struct Params {
    state: Option<String>,
    system: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(inv): State<Inventory>,
    Query(p): Query<Params>,
) -> Result<Json<Value>, Problem> {
    if let Some(s) = &p.state
        && !STATES.contains(&s.as_str())
    {
        return Err(Problem::invalid(format!(
            "state must be one of {}",
            STATES.join(", ")
        )));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::invalid("limit must be between 1 and 1000"));
    }
    let jobs = inv
        .jobs(JobFilter {
            state: p.state,
            system: p.system,
            limit,
        })
        .await?;
    Ok(Json(json!({ "jobs": jobs })))
}
