//! `GET /v1/events?after=SEQ&limit=N&types=a,b`: the event log, to catch up or replay. A
//! read filtered by type looks at a bounded window of the log (`TYPED_SCAN` events), so it
//! costs the same however rare the type; `next_after` says where to go on.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use crossdock_engine::EngineError;
use crossdock_engine::Inventory;
use crossdock_store::{Store, TYPED_SCAN};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::{Json, Query};
use crate::openapi;
use crate::problem::Problem;

/// Most events per page.
pub const MAX_LIMIT: i64 = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/events", get(list))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Params {
    #[param(minimum = 0, default = 0)]
    after: Option<i64>,
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
    /// Comma-separated event types
    types: Option<String>,
}

/// The event log, to catch up or replay
///
/// Gap-free sequence per store. Types: item.created, stock.changed, receipt.expected, reservation.created, reservation.released, reservation.expired, reservation.consumed, availability.changed (new figures for a SKU and channel), ownership.violated (a write refused under [ownership]), price.changed (a SKU's price on a channel, from POST /v1/prices), sla.breached and sla.recovered (an [[slas]] falling under its percent, or back over it, with its standing).
#[utoipa::path(
    get,
    path = "/v1/events",
    params(Params),
    responses(
        (status = 200, description = "A page of events", body = openapi::EventPage),
        (status = 422, description = "Invalid field (VALIDATION_FAILED and others)"),
    )
)]
async fn list(
    State(inv): State<Inventory>,
    Query(p): Query<Params>,
) -> Result<Json<Value>, Problem> {
    let after = p.after.unwrap_or(0);
    if after < 0 {
        return Err(Problem::invalid("after must be 0 or more"));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let types = p.types.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    });
    let typed = types.is_some();
    // The log's end as it was before the read: every event up to it is visible to the read,
    // so a window that ends there skips nothing committed meanwhile.
    let last = match typed {
        true => inv.store().last_seq().await.map_err(EngineError::from)?,
        false => 0,
    };
    let events = inv.events_after(after, limit, types).await?;
    let next_after = match events.last() {
        Some(e) if events.len() as i64 == limit || !typed => e.seq,
        // A filtered read looked at a window of the log: go on from its end.
        _ if typed => after.saturating_add(TYPED_SCAN).min(last).max(after),
        _ => after,
    };
    Ok(Json(json!({"events": events, "next_after": next_after})))
}
