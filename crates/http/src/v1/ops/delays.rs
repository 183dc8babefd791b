//! `GET /v1/ops/delayed-inventory`: by location, how long stock events took from happening
//! at their source to being recorded here.

use std::collections::BTreeMap;

use axum::extract::State;
use crossdock_domain::Timestamp;
use crossdock_engine::Inventory;
use crossdock_store::Store;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{MOST, since, span};
use crate::extract::{Json, Query};
use crate::openapi;
use crate::problem::Problem;

/// Most events the question looks back over.
const EVENTS_LOOKED_AT: i64 = 100_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DelayParams {
    /// how to group; only `location` for now
    #[param(default = "location", pattern = "^location$")]
    group_by: Option<String>,
    /// how far back: a span or an RFC 3339 time
    #[param(default = "1h", value_type = Option<openapi::Since>)]
    since: Option<String>,
    /// an event that reached the hub this long after it happened is late
    #[param(default = "5m", value_type = Option<openapi::Span>)]
    late: Option<String>,
}

/// Which inventory updates are delayed, by warehouse: one call
///
/// For each location, the stock events recorded since `since` (looking back over the last 100,000 events of the log): how long each took from `occurred_at` (at the warehouse or ERP) to being recorded here, the p50, p95 and worst; those later than `late`, the worst first with their source and event id; and when the last one came. A configured location that sent none is listed with `events` 0.
#[utoipa::path(
    get,
    path = "/v1/ops/delayed-inventory",
    params(DelayParams),
    responses(
        (status = 200, description = "By location: delays, the late events, the next action", body = openapi::DelayedInventory),
        (status = 422, description = "VALIDATION_FAILED: group_by is not location, or a span does not read"),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
pub(crate) async fn delayed_inventory(
    State(inv): State<Inventory>,
    Query(p): Query<DelayParams>,
) -> Result<Json<Value>, Problem> {
    if p.group_by.as_deref().is_some_and(|g| g != "location") {
        return Err(Problem::invalid("group_by: only `location` is offered"));
    }
    let since = since(p.since.as_deref(), "1h")?;
    let late_ms = span("late", p.late.as_deref().unwrap_or("5m"))?;
    let store = inv.store();
    let last = store
        .last_seq()
        .await
        .map_err(crossdock_engine::EngineError::from)?;
    let mut after = (last - EVENTS_LOOKED_AT).max(0);
    let types = Some(vec!["stock.changed".to_string()]);
    // location → (delays, late events, last recorded)
    let mut seen: BTreeMap<String, (Vec<i64>, Vec<Value>, Timestamp)> = BTreeMap::new();
    while after < last {
        let page = (store.events_after(after, MOST, types.clone()).await)
            .map_err(crossdock_engine::EngineError::from)?;
        after = match page.last() {
            Some(e) if page.len() as i64 >= MOST => e.seq,
            _ => after + crossdock_store::TYPED_SCAN,
        };
        for e in page.into_iter().filter(|e| e.occurred_at >= since) {
            let (Some(location), Some(at)) =
                (e.data["location"].as_str(), e.data["occurred_at"].as_str())
            else {
                continue;
            };
            let Ok(happened) = Timestamp::parse_rfc3339(at) else {
                continue;
            };
            let delay = (e.occurred_at.0 - happened.0).max(0);
            let entry =
                seen.entry(location.to_string())
                    .or_insert((Vec::new(), Vec::new(), e.occurred_at));
            entry.0.push(delay);
            entry.2 = entry.2.max(e.occurred_at);
            if delay > late_ms {
                entry.1.push(json!({
                    "seq": e.seq, "source": e.data["source"], "source_event_id": e.data["source_event_id"],
                    "sku": e.data["sku"], "occurred_at": happened, "recorded_at": e.occurred_at,
                    "delay_secs": delay as f64 / 1000.0,
                }));
            }
        }
    }
    let mut locations = Vec::new();
    for loc in inv.estate().locations() {
        let code = loc.code.as_str();
        let Some((mut delays, mut late, last_at)) = seen.remove(code) else {
            locations.push(json!({
                "location": code, "events": 0, "late": 0, "last_event_at": null,
                "next_action": format!("No stock event from {code} since {since}: check that its feed (WMS or ERP) is sending."),
            }));
            continue;
        };
        delays.sort_unstable();
        late.sort_by(|a, b| {
            b["delay_secs"]
                .as_f64()
                .partial_cmp(&a["delay_secs"].as_f64())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
        let next_action = if late.is_empty() {
            "None: every event arrived within the late threshold.".to_string()
        } else {
            format!(
                "{} of {} events from {code} arrived more than {} s after they happened: check the feed's queue or schedule at {}.",
                late.len(),
                delays.len(),
                late_ms / 1000,
                late[0]["source"].as_str().unwrap_or("its source")
            )
        };
        locations.push(json!({
            "location": code, "events": delays.len(), "late": late.len(),
            "p50_delay_secs": at(0.5), "p95_delay_secs": at(0.95), "max_delay_secs": at(1.0),
            "last_event_at": last_at, "late_events": late.into_iter().take(20).collect::<Vec<_>>(),
            "next_action": next_action,
        }));
    }
    locations.sort_by(|a, b| b["late"].as_u64().cmp(&a["late"].as_u64()));
    Ok(Json(json!({
        "since": since, "late_after_secs": late_ms / 1000, "locations": locations,
    })))
}
