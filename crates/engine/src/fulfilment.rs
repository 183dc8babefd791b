//! What flows back after the ERP, as one use case: a shipment from the warehouse or 3PL, an
//! invoice from the ERP, a return opened within the channel's window. Each is read, then
//! recorded once through the one committer, which queues what follows it in the same
//! transaction. The API's `POST /v1/shipments`, `/v1/invoices` and `/v1/returns` call it,
//! and so will every warehouse, ERP and storefront connector that hears of them.

use crossdock_domain::inbound::{parse_invoice, parse_return, parse_shipment};
use crossdock_domain::ledger::{Command, Outcome};
use crossdock_domain::order::FieldError;
use crossdock_domain::order_state::OrderState;
use crossdock_domain::time::Timestamp;
use crossdock_domain::{ErrorCode, OrderId};
use serde_json::Value;

use crate::inventory::{now, sha256_hex};
use crate::{EngineError, Inventory};

/// Records shipments, invoices and returns. Cheap to clone.
#[derive(Clone)]
pub struct Fulfilment {
    inventory: Inventory,
}

/// What was recorded, on which order.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The order it belongs to.
    pub order_id: OrderId,
    /// What became of it.
    pub booked: Booked,
}

/// What a shipment, invoice or return did.
#[derive(Debug, Clone, PartialEq)]
pub enum Booked {
    /// The shipment was booked; the order is now in `state`.
    Shipment {
        /// The shipment's id (`shp_…`).
        id: String,
        /// The order's state after it.
        state: OrderState,
    },
    /// The invoice was booked; the order is now in `state`.
    Invoice {
        /// The order's state after it.
        state: OrderState,
    },
    /// The invoice was kept, but the order's invoices do not come to its value: the order
    /// waits for a person as `PRICE_MISMATCH`.
    PriceMismatch {
        /// What differs.
        detail: String,
    },
    /// The return was opened.
    Return {
        /// The RMA's id (`rma_…`).
        rma_id: String,
        /// When the channel's return window closes.
        window_closes: Timestamp,
    },
    /// The same shipment or invoice came before; nothing changed. The order's state now,
    /// if it is there.
    Duplicate {
        /// Where the order stands.
        state: Option<OrderState>,
    },
    /// The same return (same reference) was opened before; nothing changed.
    DuplicateReturn {
        /// The RMA it opened.
        rma_id: String,
    },
}

/// Why nothing was recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FulfilmentError {
    /// Fields failed validation, each with its code.
    #[error("{} field(s) failed validation", .0.len())]
    Invalid(Vec<FieldError>),
    /// Refused with a code: an unknown order, one in the wrong state, a conflicting or
    /// foreign-currency invoice, a parcel from the wrong warehouse, a closed return window.
    #[error("{detail}")]
    Refused {
        /// Why, as a stable code.
        code: ErrorCode,
        /// Why, for a person.
        detail: String,
    },
    /// The inventory service could not take it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The ledger answered something these never ask for.
    #[error("unexpected outcome: {0}")]
    Unexpected(String),
}

/// The RMA id for a channel's return reference on an order: the same on every delivery, so a
/// repeat opens nothing more.
fn rma_id_for(order_id: &str, return_ref: &str) -> String {
    format!(
        "rma_{}",
        sha256_hex(format!("{order_id}\n{return_ref}").as_bytes(), 12)
    )
}

impl Fulfilment {
    /// Fulfilment on `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }

    /// Books the shipment `body` (parcels, lines, the warehouse it left).
    pub async fn record_shipment(
        &self,
        body: &Value,
        correlation_id: String,
    ) -> Result<Recorded, FulfilmentError> {
        let record = parse_shipment(body, Inventory::new_shipment_id(), correlation_id, now())
            .map_err(FulfilmentError::Invalid)?;
        let order_id = record.order_id.clone();
        let outcome = self
            .inventory
            .submit_one(Command::RecordShipment(Box::new(record)))
            .await?;
        self.booked(order_id, outcome).await
    }

    /// Books the invoice `body` (its number, amount and currency).
    pub async fn record_invoice(
        &self,
        body: &Value,
        correlation_id: String,
    ) -> Result<Recorded, FulfilmentError> {
        let record = parse_invoice(body, correlation_id).map_err(FulfilmentError::Invalid)?;
        let order_id = record.order_id.clone();
        let outcome = self
            .inventory
            .submit_one(Command::RecordInvoice(Box::new(record)))
            .await?;
        self.booked(order_id, outcome).await
    }

    /// Opens the return `body`. Its `return_ref` (or, lacking one, `fallback_ref`, such as
    /// the request's idempotency key) makes it once only.
    pub async fn open_return(
        &self,
        body: &Value,
        fallback_ref: Option<String>,
        correlation_id: String,
    ) -> Result<Recorded, FulfilmentError> {
        let mut record = parse_return(body, Inventory::new_rma_id(), correlation_id)
            .map_err(FulfilmentError::Invalid)?;
        if record.return_ref.is_none() {
            record.return_ref = fallback_ref;
        }
        if let Some(r) = &record.return_ref {
            record.id = rma_id_for(&record.order_id, r);
        }
        let (order_id, rma_id) = (record.order_id.clone(), record.id.clone());
        match self
            .inventory
            .submit_one(Command::OpenReturn(Box::new(record)))
            .await?
        {
            Outcome::Duplicate => Ok(Recorded {
                order_id,
                booked: Booked::DuplicateReturn { rma_id },
            }),
            outcome => self.booked(order_id, outcome).await,
        }
    }

    async fn booked(
        &self,
        order_id: OrderId,
        outcome: Outcome,
    ) -> Result<Recorded, FulfilmentError> {
        let booked = match outcome {
            Outcome::ShipmentRecorded { id, state } => Booked::Shipment { id, state },
            Outcome::OrderMoved { state, .. } => Booked::Invoice { state },
            Outcome::ReturnOpened { id, closes } => Booked::Return {
                rma_id: id,
                window_closes: closes,
            },
            Outcome::PriceMismatch { detail } => {
                tracing::info!(order = %order_id, %detail, "invoice does not match: PRICE_MISMATCH opened");
                Booked::PriceMismatch { detail }
            }
            Outcome::Duplicate => {
                let state = self.inventory.order(&order_id).await?.map(|o| o.state);
                Booked::Duplicate { state }
            }
            Outcome::Rejected { code, detail } => {
                if code == ErrorCode::WarehouseMismatch {
                    tracing::warn!(order = %order_id, %detail, "parcel refused: WAREHOUSE_MISMATCH");
                }
                return Err(FulfilmentError::Refused { code, detail });
            }
            other => return Err(FulfilmentError::Unexpected(format!("{other:?}"))),
        };
        Ok(Recorded { order_id, booked })
    }
}
