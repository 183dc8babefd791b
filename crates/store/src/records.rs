//! An order as the store gives it back: typed all the way down, from its canonical body and
//! line plans to its shipments, invoices and returns. Serialized, it is the API's view.

use crossdock_domain::ledger::LinePlan;
use crossdock_domain::money::Money;
use crossdock_domain::order::CanonicalOrder;
use crossdock_domain::order_state::OrderState;
use crossdock_domain::{ErrorCode, ExceptionStatus, JobKind, JobState, OrderId, Sku, Timestamp};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredOrder {
    /// `ord_…`
    pub id: OrderId,
    /// The selling channel.
    pub channel: String,
    /// The channel's order id.
    pub external_id: String,
    /// Canonical state.
    pub state: OrderState,
    /// Why it was routed or refused as it was.
    pub reason: String,
    /// The order as taken in.
    pub order: CanonicalOrder,
    /// Per-line routing: locations, reservations, what waits for stock.
    pub lines: Vec<LinePlan>,
    /// The ERP's id for the order, once posted.
    pub erp_order_id: Option<String>,
    /// The ERP's own status for its sales order, as it last said.
    pub erp_status: Option<String>,
    /// Transitions, oldest first (empty in lists).
    pub history: Vec<Transition>,
    /// Shipments, oldest first (empty in lists).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Shipment>,
    /// Invoices from the ERP, oldest first (empty in lists).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invoices: Vec<Invoice>,
    /// Returns, oldest first (empty in lists).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Return>,
    /// When it was taken in.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// One recorded move between states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// Previous state (none for the first).
    pub from: Option<OrderState>,
    /// New state.
    pub to: OrderState,
    /// When.
    pub at: Timestamp,
    /// Who or what moved it.
    pub actor: String,
    /// Correlation id of the request or job.
    pub correlation_id: String,
}

/// A parcel that left a warehouse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shipment {
    /// `shp_…`
    pub id: String,
    /// The system that reported it.
    pub source: String,
    /// Its id for the report, unique per source.
    pub source_event_id: String,
    /// Where it left from.
    pub location: String,
    /// The carrier.
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// Units shipped per SKU.
    pub lines: Vec<Units>,
    /// What the shipment captures of the payment.
    pub capture: Money,
    /// When it left.
    pub shipped_at: Timestamp,
}

/// Units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    /// The SKU.
    pub sku: Sku,
    /// How many.
    pub qty: i64,
}

/// An invoice the ERP sent for the order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    /// The ERP's invoice number.
    pub invoice_id: String,
    /// Its amount.
    pub amount: Money,
    /// Its currency.
    pub currency: String,
    /// When crossdock recorded it.
    pub received_at: Timestamp,
}

/// A return (RMA) opened for the order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Return {
    /// `rma_…`
    pub rma_id: String,
    /// Why, as the customer or channel said.
    pub reason: Option<String>,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// Units authorised and received per SKU.
    pub lines: Vec<ReturnedUnits>,
}

/// Units of one SKU on a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedUnits {
    /// The SKU.
    pub sku: Sku,
    /// Units authorised.
    pub qty: i64,
    /// Units the warehouse has received back.
    pub received: i64,
}

/// A shipment as both backends' queries build it: times in milliseconds, capture in micros.
#[derive(Deserialize)]
pub(crate) struct ShipmentRow {
    id: String,
    source: String,
    source_event_id: String,
    location: String,
    carrier: String,
    tracking_number: String,
    capture_micros: i64,
    shipped_at: i64,
    lines: Vec<Units>,
}

impl From<ShipmentRow> for Shipment {
    fn from(r: ShipmentRow) -> Self {
        Shipment {
            id: r.id,
            source: r.source,
            source_event_id: r.source_event_id,
            location: r.location,
            carrier: r.carrier,
            tracking_number: r.tracking_number,
            lines: r.lines,
            capture: Money::from_micros(r.capture_micros),
            shipped_at: Timestamp(r.shipped_at),
        }
    }
}

/// An invoice as both backends' queries build it.
#[derive(Deserialize)]
pub(crate) struct InvoiceRow {
    invoice_id: String,
    amount: Money,
    currency: String,
    received_at: i64,
}

impl From<InvoiceRow> for Invoice {
    fn from(r: InvoiceRow) -> Self {
        Invoice {
            invoice_id: r.invoice_id,
            amount: r.amount,
            currency: r.currency,
            received_at: Timestamp(r.received_at),
        }
    }
}

/// A return as both backends' queries build it.
#[derive(Deserialize)]
pub(crate) struct ReturnRow {
    rma_id: String,
    reason: Option<String>,
    opened_at: i64,
    lines: Vec<ReturnedUnits>,
}

impl From<ReturnRow> for Return {
    fn from(r: ReturnRow) -> Self {
        Return {
            rma_id: r.rma_id,
            reason: r.reason,
            opened_at: Timestamp(r.opened_at),
            lines: r.lines,
        }
    }
}

/// A stored state name, read back.
pub(crate) fn state(text: &str) -> Result<OrderState, StoreError> {
    OrderState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("order state `{text}`")))
}

/// A stored job kind, read back.
pub(crate) fn job_kind(text: &str) -> Result<JobKind, StoreError> {
    JobKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("job kind `{text}`")))
}

/// A stored job state, read back.
pub(crate) fn job_state(text: &str) -> Result<JobState, StoreError> {
    JobState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("job state `{text}`")))
}

/// A stored exception code, read back.
pub(crate) fn error_code(text: &str) -> Result<ErrorCode, StoreError> {
    ErrorCode::parse(text).ok_or_else(|| StoreError::Corrupt(format!("exception code `{text}`")))
}

/// A stored exception status, read back.
pub(crate) fn exception_status(text: &str) -> Result<ExceptionStatus, StoreError> {
    ExceptionStatus::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("exception status `{text}`")))
}

/// A stored JSON document (an order's body, its line plans, a built row), read back.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
