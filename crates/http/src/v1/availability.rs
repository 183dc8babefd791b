//! Availability: `GET /v1/availability/{sku}` and `POST /v1/availability/query`, answered
//! from the in-memory projection.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use crossdock_domain::ats::{ChannelAvailability, all_channels, sellable_at};
use crossdock_domain::{ChannelCode, Timestamp};
use crossdock_engine::inventory::now;
use crossdock_engine::{EngineError, Inventory};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{Json, Query};
use crate::openapi;
use crate::problem::Problem;

/// Most SKUs per query.
pub const MAX_SKUS: usize = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/availability/{sku}", get(sku_availability))
        .route("/v1/availability/query", post(query))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ChannelParam {
    /// only this channel's figures
    channel: Option<String>,
}

/// One SKU for one channel, on the wire.
#[derive(Serialize)]
struct ChannelOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<&'a str>,
    channel: &'a ChannelCode,
    available_now: i64,
    available_backorder: i64,
    next_eta: Option<Timestamp>,
    locations: &'a [crossdock_domain::ats::LocationSellable],
}

fn channel_out<'a>(sku: Option<&'a str>, a: &'a ChannelAvailability) -> ChannelOut<'a> {
    ChannelOut {
        sku,
        channel: &a.channel,
        available_now: a.available_now,
        available_backorder: a.available_backorder,
        next_eta: a.next_eta,
        locations: &a.locations,
    }
}

/// Available-to-sell for a SKU
///
/// With `channel`: that channel's figures. Without: every channel's figures, every location's buckets, safety stock and sellable units, and open expected receipts. Answered from memory.
#[utoipa::path(
    get,
    path = "/v1/availability/{sku}",
    params(("sku" = String, Path), ChannelParam),
    responses(
        (status = 200, description = "Availability", body = openapi::Availability),
        (status = 404, description = "SKU_UNKNOWN or CHANNEL_UNKNOWN"),
        (status = 422, description = "Invalid field (VALIDATION_FAILED and others)"),
    )
)]
async fn sku_availability(
    State(inv): State<Inventory>,
    Path(sku): Path<String>,
    Query(q): Query<ChannelParam>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    if let Some(channel) = q.channel {
        let a = inv.availability(&sku, &channel)?;
        return Ok(axum::Json(channel_out(Some(&sku), &a)).into_response());
    }
    let state = inv.state(&sku)?;
    let estate = inv.estate();
    let t = now();
    let channels = all_channels(estate, &state, t);
    let locations: Vec<Value> = estate
        .locations()
        .iter()
        .map(|l| {
            let b = state.at(&l.code).map(|s| s.buckets).unwrap_or_default();
            json!({
                "location": l.code,
                "on_hand": b.on_hand,
                "picking": b.picking,
                "transfer_out": b.transfer_out,
                "inspection": b.inspection,
                "reserved": b.reserved,
                "safety_stock": estate.safety_stock().for_sku_at(&state.sku, &l.code),
                "sellable": sellable_at(estate, &state, &l.code),
            })
        })
        .collect();
    let body = json!({
        "sku": state.sku,
        "channels": channels.iter().map(|a| channel_out(None, a)).collect::<Vec<_>>(),
        "locations": locations,
        "expected": state.expected,
    });
    Ok(axum::Json(body).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AvailabilityQueryIn)]
struct QueryIn {
    #[schema(value_type = openapi::NonBlank)]
    channel: String,
    #[schema(value_type = Vec<openapi::NonBlank>, max_items = 1000)]
    skus: Vec<String>,
}

/// Availability of many SKUs for one channel
#[utoipa::path(
    post,
    path = "/v1/availability/query",
    request_body = QueryIn,
    responses(
        (status = 200, description = "Figures per SKU, and SKUs not in the item master", body = openapi::AvailabilityList),
        (status = 404, description = "CHANNEL_UNKNOWN"),
        (status = 422, description = "Invalid field (VALIDATION_FAILED and others)"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn query(
    State(inv): State<Inventory>,
    Json(q): Json<QueryIn>,
) -> Result<Json<Value>, Problem> {
    if inv.estate().channel(&q.channel).is_none() {
        return Err(EngineError::ChannelUnknown(q.channel).into());
    }
    if q.skus.len() > MAX_SKUS {
        return Err(Problem::invalid(format!(
            "skus: at most {MAX_SKUS} per query, got {}",
            q.skus.len()
        )));
    }
    let mut items = Vec::with_capacity(q.skus.len());
    let mut unknown = Vec::new();
    for sku in &q.skus {
        match inv.availability(sku, &q.channel) {
            Ok(a) => {
                items.push(serde_json::to_value(channel_out(Some(sku), &a)).unwrap_or_default())
            }
            Err(_) => unknown.push(sku.clone()),
        }
    }
    Ok(Json(
        json!({"channel": q.channel, "items": items, "unknown": unknown}),
    ))
}
