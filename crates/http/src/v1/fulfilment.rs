//! What flows back after the ERP: `POST /v1/shipments` from the warehouse or 3PL,
//! `POST /v1/invoices` and `POST /v1/erp-statuses` from the ERP, and `POST /v1/returns` (an
//! RMA, within the channel's return window). Shipments and invoices are taken once (a repeat of the same
//! `source_event_id` or `invoice_id` answers 200 with `duplicate: true` and changes
//! nothing); each queues what follows it in the same transaction.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use crossdock_domain::ErrorCode;
use crossdock_domain::inbound::parse_erp_status;
use crossdock_engine::erp_status::{ErpStatusError, ErpStatuses};
use crossdock_engine::fulfilment::{Booked, Fulfilment, FulfilmentError, Recorded};
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::Json;
use crate::openapi;
use crate::problem::Problem;
use crate::v1::orders::{correlation_id, header_text, invalid};

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/shipments", post(shipment))
        .route("/v1/invoices", post(invoice))
        .route("/v1/returns", post(open_return))
        .route("/v1/erp-statuses", post(erp_status))
}

/// A status the ERP pushes for its sales order, mapped through [erp] statuses: cancelled cancels the order here (every compensation but the ERP's); on_hold holds an order not yet released; another status lifts a hold the ERP put on; anything else is recorded (erp_status)
#[utoipa::path(
    post,
    path = "/v1/erp-statuses",
    request_body = openapi::ErpStatusIn,
    responses(
        (status = 200, description = "applied", body = openapi::ErpStatusAnswer),
        (status = 404, description = "ORDER_NOT_FOUND"),
        (status = 409, description = "ORDER_NOT_CANCELLABLE (cancelled in the ERP after it shipped; the status is recorded), ORDER_STATE_CONFLICT (the order moved on meanwhile)"),
        (status = 422, description = "VALIDATION_FAILED, MAPPING_FAILED (the status is not in [erp] statuses)"),
    )
)]
async fn erp_status(
    State(statuses): State<ErpStatuses>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    let change = parse_erp_status(&body, correlation_id(&headers)?)
        .map_err(|e| invalid(e, "Correct the listed fields and send the status again."))?;
    let (order_id, status) = (change.order_id.clone(), change.status.clone());
    match statuses.apply(change).await {
        Ok(applied) => {
            let body = json!({"order_id": order_id, "erp_status": status,
                              "means": applied.means, "action": applied.action.as_str(),
                              "state": applied.state});
            Ok((StatusCode::OK, axum::Json(body)).into_response())
        }
        Err(ErpStatusError::Engine(e)) => Err(e.into()),
        Err(ErpStatusError::Refused(code, detail)) => {
            let remediation = match code {
                ErrorCode::OrderNotFound => {
                    "Send crossdock's order id (the reference on the sales order)."
                }
                ErrorCode::OrderStateConflict => {
                    "The order moved on while the status was applied; send the status again."
                }
                ErrorCode::MappingFailed => {
                    "Map the status to a canonical state under [erp] statuses in the \
                     configuration, then send it again; nothing was recorded."
                }
                _ => {
                    "The status was recorded on the order, but the order is too far along \
                     to follow it; see GET /v1/orders/{id} and settle it with the ERP."
                }
            };
            Err(Problem::new(code, detail).remediation(remediation))
        }
    }
}

/// A shipment from the warehouse or 3PL: units out of stock (the order's reservation consumed), order partially_shipped or shipped, tracking, ERP fulfilment and payment capture queued
#[utoipa::path(
    post,
    path = "/v1/shipments",
    request_body = openapi::ShipmentIn,
    responses(
        (status = 201, description = "recorded", body = openapi::FulfilmentAnswer),
        (status = 200, description = "the same shipment again (duplicate: true)", body = openapi::FulfilmentAnswer),
        (status = 404, description = "ORDER_NOT_FOUND"),
        (status = 409, description = "ORDER_STATE_CONFLICT (not yet in the ERP, or already shipped)"),
        (status = 422, description = "VALIDATION_FAILED, WAREHOUSE_UNKNOWN, SKU_NOT_ON_ORDER, QTY_EXCEEDS_ORDER, QTY_INVALID, WAREHOUSE_MISMATCH (from a location the order holds nothing at; the parcel is kept in the exception queue)"),
    )
)]
async fn shipment(
    State(fulfilment): State<Fulfilment>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    let recorded = fulfilment
        .record_shipment(&body, correlation_id(&headers)?)
        .await;
    respond(
        recorded,
        "Correct the listed fields and send the shipment again.",
    )
}

/// An invoice from the ERP: a shipped order whose invoices come to its value (goods and tax, within the channel's invoice_tolerance) is invoiced, the invoice pushed to the storefront, and the order closes; otherwise the invoice is kept and pushed and the order waits as PRICE_MISMATCH (201 with code)
#[utoipa::path(
    post,
    path = "/v1/invoices",
    request_body = openapi::InvoiceIn,
    responses(
        (status = 201, description = "recorded", body = openapi::FulfilmentAnswer),
        (status = 200, description = "the same invoice again (duplicate: true)", body = openapi::FulfilmentAnswer),
        (status = 404, description = "ORDER_NOT_FOUND"),
        (status = 409, description = "ORDER_STATE_CONFLICT (not shipped), INVOICE_CONFLICT (the invoice_id was recorded with another amount, currency or order)"),
        (status = 422, description = "VALIDATION_FAILED, DECIMAL_INVALID, CURRENCY_INVALID, CURRENCY_MISMATCH (another currency than the order's)"),
    )
)]
async fn invoice(
    State(fulfilment): State<Fulfilment>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    let recorded = fulfilment
        .record_invoice(&body, correlation_id(&headers)?)
        .await;
    respond(
        recorded,
        "Correct the listed fields and send the invoice again.",
    )
}

/// Open a return (RMA) for shipped units within the channel's return window; posted to the ERP. return_received stock events with order_ref count against it
#[utoipa::path(
    post,
    path = "/v1/returns",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "stands in for return_ref when the body has none: a repeat answers 200 with the same rma_id")),
    request_body = openapi::ReturnIn,
    responses(
        (status = 201, description = "opened, with rma_id and window_closes", body = openapi::FulfilmentAnswer),
        (status = 404, description = "ORDER_NOT_FOUND"),
        (status = 409, description = "ORDER_STATE_CONFLICT (nothing shipped)"),
        (status = 422, description = "RETURN_WINDOW_CLOSED, SKU_NOT_ON_ORDER, QTY_EXCEEDS_ORDER, VALIDATION_FAILED"),
        (status = 200, description = "the same return_ref again (duplicate: true, the same rma_id)", body = openapi::FulfilmentAnswer),
    )
)]
async fn open_return(
    State(fulfilment): State<Fulfilment>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    // Lacking the channel's own reference, an Idempotency-Key makes the return once only.
    let key = header_text(&headers, "idempotency-key")?;
    let recorded = fulfilment
        .open_return(&body, key, correlation_id(&headers)?)
        .await;
    respond(
        recorded,
        "Correct the listed fields and send the return again.",
    )
}

/// 201 with the order's state now; 200 for a repeat; the refusal as a problem, with what to
/// do (`fix_fields` for fields that did not read).
fn respond(
    recorded: Result<Recorded, FulfilmentError>,
    fix_fields: &str,
) -> Result<Response, Problem> {
    let Recorded { order_id, booked } = match recorded {
        Ok(r) => r,
        Err(FulfilmentError::Invalid(errors)) => return Err(invalid(errors, fix_fields)),
        Err(FulfilmentError::Refused { code, detail }) => {
            return Err(Problem::new(code, detail).remediation(refused_remediation(code)));
        }
        Err(FulfilmentError::Engine(e)) => return Err(e.into()),
        Err(e @ FulfilmentError::Unexpected(_)) => {
            return Err(Problem::new(ErrorCode::Internal, e.to_string()));
        }
    };
    let (status, body) = match booked {
        Booked::Shipment { id, state } => (
            StatusCode::CREATED,
            json!({"id": id, "order_id": order_id, "state": state.as_str()}),
        ),
        Booked::Invoice { state } => (
            StatusCode::CREATED,
            json!({"order_id": order_id, "state": state.as_str()}),
        ),
        // Recorded, but the order waits for a person: the exception says why.
        Booked::PriceMismatch { detail } => (
            StatusCode::CREATED,
            json!({"order_id": order_id, "state": "shipped", "code": "PRICE_MISMATCH",
                   "detail": detail}),
        ),
        Booked::Return {
            rma_id,
            window_closes,
        } => (
            StatusCode::CREATED,
            json!({"rma_id": rma_id, "order_id": order_id, "window_closes": window_closes}),
        ),
        Booked::Duplicate { state } => (
            StatusCode::OK,
            json!({"order_id": order_id, "state": state, "duplicate": true}),
        ),
        Booked::DuplicateReturn { rma_id } => (
            StatusCode::OK,
            json!({"rma_id": rma_id, "order_id": order_id, "duplicate": true}),
        ),
    };
    Ok((status, axum::Json(body)).into_response())
}

/// What to do about a shipment, invoice or return refused with `code`.
fn refused_remediation(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::OrderNotFound => {
            "Send crossdock's order id (the reference on the release or sales order)."
        }
        ErrorCode::OrderStateConflict => {
            "See the order's state with GET /v1/orders/{id}; nothing was recorded."
        }
        ErrorCode::InvoiceConflict => {
            "An invoice number is recorded once: send a correction (credit note or \
             new invoice) under its own invoice_id; nothing was recorded."
        }
        ErrorCode::CurrencyMismatch => {
            "Invoice the order in its own currency (see GET /v1/orders/{id}); \
             nothing was recorded."
        }
        ErrorCode::ReturnWindowClosed => {
            "The channel's return window has passed; handle it as a goodwill case \
             outside the standard flow, or widen return_window_days for the channel."
        }
        _ => "Correct the lines or location against the order; nothing was recorded.",
    }
}
