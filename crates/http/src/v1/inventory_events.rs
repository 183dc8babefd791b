//! `POST /v1/inventory/events`: stock events from ERPs and warehouses, up to 1,000 a call.
//! Each event is checked on its own; a bad one is rejected by index without failing the rest.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use crossdock_engine::stock_events::StockEvents;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::Json;
use crate::gate::CallerExt;
use crate::openapi;
use crate::problem::Problem;

/// Most events per call.
pub const MAX_EVENTS: usize = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/inventory/events", post(post_events))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StockEventsIn)]
struct EventsIn {
    #[schema(max_items = 1000, value_type = Vec<openapi::StockEventEntry>)]
    events: Vec<Value>,
}

/// Apply stock events from ERPs and warehouses
///
/// Up to 1,000 events a call. A repeated (source, source_event_id) is a duplicate and changes nothing; an event older than the last snapshot of a bucket it touches is stale and leaves that bucket alone. A bad event is rejected by index (VALIDATION_FAILED, WAREHOUSE_UNKNOWN, SKU_UNKNOWN) without failing the others.
#[utoipa::path(
    post,
    path = "/v1/inventory/events",
    request_body = EventsIn,
    responses(
        (status = 200, description = "What happened to each event", body = openapi::EventsResult),
        (status = 422, description = "Invalid field (VALIDATION_FAILED and others)"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn post_events(
    State(stock_events): State<StockEvents>,
    caller: CallerExt,
    Json(body): Json<EventsIn>,
) -> Result<Json<Value>, Problem> {
    if body.events.len() > MAX_EVENTS {
        return Err(Problem::invalid(format!(
            "events: at most {MAX_EVENTS} per call, got {}",
            body.events.len()
        ))
        .remediation("Split the events into several calls."));
    }
    // A key bound to a connector writes as it: `[ownership]` judges its events by that
    // system whatever their `source` says.
    let writer = caller.as_ref().and_then(|c| c.system.as_deref());
    let recorded = stock_events.record_from(body.events, writer).await?;
    let rejected: Vec<Value> = recorded
        .rejected
        .into_iter()
        .map(|(index, code, detail)| json!({"index": index, "code": code, "detail": detail}))
        .collect();
    Ok(Json(json!({
        "applied": recorded.applied,
        "duplicates": recorded.duplicates,
        "stale": recorded.stale,
        "rejected": rejected,
    })))
}
