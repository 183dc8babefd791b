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
use crossdock_domain::inbound::{parse_erp_status, parse_invoice, parse_return, parse_shipment};
use crossdock_domain::ledger::{Command, Outcome};
use crossdock_engine::Inventory;
use crossdock_engine::erp_status::ErpStatusError;
use crossdock_engine::erp_status::ErpStatuses;
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::Json;
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

/// A status the ERP pushes for a sales order: mapped through `[erp] statuses`, then acted
/// on (a cancel, a lifted hold) or recorded.
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

async fn shipment(
    State(inv): State<Inventory>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    let id = Inventory::new_shipment_id();
    let record = parse_shipment(
        &body,
        id,
        correlation_id(&headers)?,
        crossdock_engine::now(),
    )
    .map_err(|e| invalid(e, "Correct the listed fields and send the shipment again."))?;
    let order_id = record.order_id.clone();
    let outcome = inv
        .submit_one(Command::RecordShipment(Box::new(record)))
        .await?;
    respond(&inv, &order_id, outcome).await
}

async fn invoice(
    State(inv): State<Inventory>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    let record = parse_invoice(&body, correlation_id(&headers)?)
        .map_err(|e| invalid(e, "Correct the listed fields and send the invoice again."))?;
    let order_id = record.order_id.clone();
    let outcome = inv
        .submit_one(Command::RecordInvoice(Box::new(record)))
        .await?;
    respond(&inv, &order_id, outcome).await
}

async fn open_return(
    State(inv): State<Inventory>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    let mut record = parse_return(&body, Inventory::new_rma_id(), correlation_id(&headers)?)
        .map_err(|e| invalid(e, "Correct the listed fields and send the return again."))?;
    // With the channel's reference (or, lacking one, an Idempotency-Key), the RMA's id is the
    // same on every delivery, so a repeat opens nothing more.
    if record.return_ref.is_none() {
        record.return_ref = header_text(&headers, "idempotency-key")?;
    }
    if let Some(r) = &record.return_ref {
        record.id = rma_id_for(&record.order_id, r);
    }
    let (order_id, id) = (record.order_id.clone(), record.id.clone());
    let outcome = inv
        .submit_one(Command::OpenReturn(Box::new(record)))
        .await?;
    if outcome == Outcome::Duplicate {
        let body = json!({"rma_id": id, "order_id": order_id, "duplicate": true});
        return Ok((StatusCode::OK, axum::Json(body)).into_response());
    }
    respond(&inv, &order_id, outcome).await
}

/// The RMA id for a channel's return reference on an order.
fn rma_id_for(order_id: &str, return_ref: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{order_id}\n{return_ref}").as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("rma_{hex}")
}

/// 201 with the order's state now; 200 for a repeat; the refusal as a problem.
async fn respond(inv: &Inventory, order_id: &str, outcome: Outcome) -> Result<Response, Problem> {
    let state = |s: crossdock_domain::order_state::OrderState| s.as_str().to_string();
    let (status, body) = match outcome {
        Outcome::ShipmentRecorded { id, state: s } => (
            StatusCode::CREATED,
            json!({"id": id, "order_id": order_id, "state": state(s)}),
        ),
        Outcome::ReturnOpened { id, closes } => (
            StatusCode::CREATED,
            json!({"rma_id": id, "order_id": order_id, "window_closes": closes}),
        ),
        Outcome::OrderMoved { state: s, .. } => (
            StatusCode::CREATED,
            json!({"order_id": order_id, "state": state(s)}),
        ),
        // Recorded, but the order waits for a person: the exception says why.
        Outcome::PriceMismatch { detail } => {
            tracing::info!(order = order_id, %detail, "invoice does not match: PRICE_MISMATCH opened");
            (
                StatusCode::CREATED,
                json!({"order_id": order_id, "state": "shipped", "code": "PRICE_MISMATCH",
                   "detail": detail}),
            )
        }
        Outcome::Duplicate => {
            let now = inv.order(order_id).await?.map(|o| o.state);
            (
                StatusCode::OK,
                json!({"order_id": order_id, "state": now, "duplicate": true}),
            )
        }
        Outcome::Rejected { code, detail } => {
            if code == ErrorCode::WarehouseMismatch {
                tracing::warn!(order = order_id, %detail, "parcel refused: WAREHOUSE_MISMATCH");
            }
            let remediation = match code {
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
            };
            return Err(Problem::new(code, detail).remediation(remediation));
        }
        other => {
            return Err(Problem::new(
                ErrorCode::Internal,
                format!("unexpected outcome {other:?}"),
            ));
        }
    };
    Ok((status, axum::Json(body)).into_response())
}
