//! Reservations: `POST /v1/reservations`, `GET` and `DELETE /v1/reservations/{id}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossdock_domain::ledger::{Command, Outcome, Reservation, ReserveRequest};
use crossdock_domain::wire::{whole_number, whole_number_opt};
use crossdock_domain::{ChannelCode, ErrorCode, LocationCode, Qty, Sku};
use crossdock_engine::inventory::now;
use crossdock_engine::{EngineError, Inventory};
use serde::Deserialize;
use serde_json::{Value, json};

use super::check_ref;
use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::problem::Problem;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reservations", post(create))
        .route("/v1/reservations/{id}", get(show).delete(release))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReserveIn {
    sku: String,
    #[serde(deserialize_with = "whole_number")]
    qty: i64,
    channel: String,
    order_ref: String,
    location: Option<String>,
    ship_region: Option<String>,
    #[serde(default, deserialize_with = "whole_number_opt")]
    ttl_seconds: Option<u64>,
}

/// A reservation on the wire.
pub fn reservation_json(r: &Reservation) -> Value {
    json!({
        "id": r.id,
        "sku": r.sku,
        "channel": r.channel,
        "order_ref": r.order_ref,
        "qty": r.qty,
        "status": r.status.as_str(),
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "allocations": r.allocations.iter().map(|a| json!({
            "location": a.location, "qty": a.qty, "picked": a.consumed
        })).collect::<Vec<_>>(),
    })
}

async fn create(
    State(inv): State<Inventory>,
    Json(body): Json<ReserveIn>,
) -> Result<Response, Problem> {
    let channel = inv
        .estate()
        .channel(&body.channel)
        .ok_or_else(|| EngineError::ChannelUnknown(body.channel.clone()))?;
    let sku = Sku::parse(&body.sku).map_err(|e| Problem::invalid(format!("sku: {e}")))?;
    let qty = Qty::new(body.qty).map_err(|e| Problem::invalid(format!("qty {e}")))?;
    check_ref("order_ref", &body.order_ref).map_err(Problem::invalid)?;
    let location = match &body.location {
        None => None,
        Some(l) => Some(
            LocationCode::parse(l)
                .ok()
                .filter(|c| inv.estate().location(c.as_str()).is_some())
                .ok_or_else(|| {
                    Problem::new(
                        ErrorCode::WarehouseUnknown,
                        format!("location `{l}` is not configured"),
                    )
                })?,
        ),
    };
    let t = now();
    let request = ReserveRequest {
        id: Inventory::new_reservation_id(),
        sku,
        qty: qty.get(),
        channel: ChannelCode::clone(&channel.code),
        order_ref: body.order_ref,
        location,
        ship_region: body.ship_region,
        expires_at: inv.expiry(t, body.ttl_seconds),
    };
    match inv.submit_one(Command::Reserve(request)).await? {
        Outcome::Reserved(r) => {
            let location = format!("/v1/reservations/{}", r.id);
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                axum::Json(reservation_json(&r)),
            )
                .into_response())
        }
        Outcome::Insufficient { available } => Err(Problem::new(
            ErrorCode::InsufficientStock,
            format!(
                "{} units of {} requested for {}, {available} available",
                body.qty, body.sku, body.channel
            ),
        )
        .with("requested", body.qty)
        .with("available", available)
        .remediation("Reserve at most the available quantity, or take a backorder.")),
        Outcome::Rejected { code, detail } => Err(Problem::new(code, detail)),
        other => Err(Problem::new(
            ErrorCode::Internal,
            format!("unexpected {other:?}"),
        )),
    }
}

async fn show(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    match inv.reservation(&id).await? {
        Some(r) => Ok(Json(reservation_json(&r))),
        None => Err(Problem::new(
            ErrorCode::ReservationNotFound,
            format!("no reservation `{id}`"),
        )),
    }
}

async fn release(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    match inv
        .submit_one(Command::Release {
            id: id.clone(),
            expired: false,
        })
        .await?
    {
        Outcome::Released(r) => Ok(Json(reservation_json(&r))),
        Outcome::AlreadyClosed(r) => Err(Problem::new(
            ErrorCode::ReservationClosed,
            format!("reservation `{id}` is already {}", r.status.as_str()),
        )
        .with("reservation_status", r.status.as_str())),
        Outcome::Rejected { code, detail } => Err(Problem::new(code, detail)),
        other => Err(Problem::new(
            ErrorCode::Internal,
            format!("unexpected {other:?}"),
        )),
    }
}
