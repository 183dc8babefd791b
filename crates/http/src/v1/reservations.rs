//! Reservations: `POST /v1/reservations`, `GET` and `DELETE /v1/reservations/{id}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossdock_domain::ErrorCode;
use crossdock_domain::ledger::Reservation;
use crossdock_domain::wire::{whole_number, whole_number_opt};
use crossdock_engine::reservations::{Hold, ReleaseError, Reservations, ReserveError};
use serde::Deserialize;
use serde_json::{Value, json};

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
    State(reservations): State<Reservations>,
    Json(body): Json<ReserveIn>,
) -> Result<Response, Problem> {
    let hold = Hold {
        sku: body.sku,
        qty: body.qty,
        channel: body.channel,
        order_ref: body.order_ref,
        location: body.location,
        ship_region: body.ship_region,
        ttl_seconds: body.ttl_seconds,
    };
    match reservations.reserve(hold).await {
        Ok(r) => {
            let location = format!("/v1/reservations/{}", r.id);
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                axum::Json(reservation_json(&r)),
            )
                .into_response())
        }
        Err(
            e @ ReserveError::Insufficient {
                requested,
                available,
                ..
            },
        ) => Err(Problem::new(ErrorCode::InsufficientStock, e.to_string())
            .with("requested", requested)
            .with("available", available)
            .remediation("Reserve at most the available quantity, or take a backorder.")),
        Err(ReserveError::Invalid(detail)) => Err(Problem::invalid(detail)),
        Err(ReserveError::Refused { code, detail }) => Err(Problem::new(code, detail)),
        Err(ReserveError::Engine(e)) => Err(e.into()),
        Err(e @ ReserveError::Unexpected(_)) => {
            Err(Problem::new(ErrorCode::Internal, e.to_string()))
        }
    }
}

async fn show(
    State(reservations): State<Reservations>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    match reservations.get(&id).await? {
        Some(r) => Ok(Json(reservation_json(&r))),
        None => Err(Problem::new(
            ErrorCode::ReservationNotFound,
            format!("no reservation `{id}`"),
        )),
    }
}

async fn release(
    State(reservations): State<Reservations>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    match reservations.release(&id).await {
        Ok(r) => Ok(Json(reservation_json(&r))),
        Err(ReleaseError::Closed(r)) => Err(Problem::new(
            ErrorCode::ReservationClosed,
            format!("reservation `{id}` is already {}", r.status.as_str()),
        )
        .with("reservation_status", r.status.as_str())),
        Err(ReleaseError::Refused { code, detail }) => Err(Problem::new(code, detail)),
        Err(ReleaseError::Engine(e)) => Err(e.into()),
        Err(e @ ReleaseError::Unexpected(_)) => {
            Err(Problem::new(ErrorCode::Internal, e.to_string()))
        }
    }
}
