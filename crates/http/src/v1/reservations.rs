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
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::openapi;
use crate::problem::Problem;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reservations", post(create))
        .route("/v1/reservations/{id}", get(show).delete(release))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReserveIn {
    #[schema(value_type = openapi::NonBlank)]
    sku: String,
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1)]
    qty: i64,
    #[schema(value_type = openapi::NonBlank)]
    channel: String,
    #[schema(value_type = openapi::Reference)]
    order_ref: String,
    #[schema(value_type = Option<openapi::NonBlank>, nullable = false)]
    location: Option<String>,
    #[schema(value_type = Option<openapi::NonBlank>, nullable = false)]
    ship_region: Option<String>,
    #[serde(default, deserialize_with = "whole_number_opt")]
    #[schema(value_type = Option<i64>, minimum = 0, nullable = false)]
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

/// Hold stock for an order or cart
///
/// Without `location`, routing takes the channel's locations by priority: one location that fills the quantity, else a split, drop-ship last. `ttl_seconds` defaults to inventory.default_ttl_seconds (an unpaid cart); 0 holds until released. Expired reservations return their units without anyone calling.
#[utoipa::path(
    post,
    path = "/v1/reservations",
    request_body = ReserveIn,
    responses(
        (status = 201, description = "Held", body = openapi::Reservation, headers(("Location" = String))),
        (status = 404, description = "SKU_UNKNOWN or CHANNEL_UNKNOWN"),
        (status = 409, description = "INSUFFICIENT_STOCK, with `requested` and `available`"),
        (status = 422, description = "Invalid field (VALIDATION_FAILED and others)"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
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

/// A reservation
#[utoipa::path(
    get,
    path = "/v1/reservations/{id}",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The reservation", body = openapi::Reservation),
        (status = 404, description = "RESERVATION_NOT_FOUND"),
    )
)]
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

/// Release a reservation's open units
#[utoipa::path(
    delete,
    path = "/v1/reservations/{id}",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Released", body = openapi::Reservation),
        (status = 404, description = "RESERVATION_NOT_FOUND"),
        (status = 409, description = "RESERVATION_CLOSED: already released, expired or picked"),
    )
)]
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
