//! Shapes of the order routes' bodies: the canonical order as intake reads it, the order as
//! the API shows it, and the shipments, invoices, returns and ERP statuses reported against it.
//!
//! These types describe what the handlers read field by field or write as JSON; they are
//! for the document only, never built.
#![allow(dead_code)]

use serde_json::Value;
use utoipa::ToSchema;

use super::*;

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CanonicalOrderCustomer {
    id: NonBlank,
    #[schema(nullable = false)]
    account: Option<NonBlank>,
    #[schema(
        pattern = "^[^@\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*@[^\\u0000-\\u001F\\u007F-\\u009F]*[^@\\u0000-\\u001F\\u007F-\\u009F]$"
    )]
    email: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CanonicalOrderLines {
    sku: NonBlank,
    #[schema(minimum = 1, maximum = 1000000)]
    qty: i64,
    unit_price: Decimal,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CanonicalOrderShipTo {
    name: NonBlank,
    line1: NonBlank,
    line2: Option<NonBlank>,
    city: NonBlank,
    #[schema(nullable = false)]
    region: Option<NonBlank>,
    postal_code: NonBlank,
    #[schema(pattern = "^[A-Z]{2}$")]
    country: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CanonicalOrderPayment {
    authorization: NonBlank,
    amount: Decimal,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CanonicalOrderTax {
    amount: Decimal,
    #[schema(nullable = false)]
    provider_ref: Option<NonBlank>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CanonicalOrder {
    channel: NonBlank,
    external_id: Reference,
    #[schema(nullable = false)]
    business_unit: Option<NonBlank>,
    #[schema(inline)]
    customer: CanonicalOrderCustomer,
    currency: CurrencyCode,
    #[schema(inline, min_items = 1, max_items = 500)]
    lines: Vec<CanonicalOrderLines>,
    #[schema(inline)]
    ship_to: CanonicalOrderShipTo,
    #[schema(inline, nullable = false)]
    payment: Option<CanonicalOrderPayment>,
    #[schema(inline, nullable = false)]
    tax: Option<CanonicalOrderTax>,
}

#[derive(ToSchema)]
pub(crate) enum IntakeAnswerState {
    #[serde(rename = "accepted")]
    Accepted,
    #[serde(rename = "backordered")]
    Backordered,
    #[serde(rename = "rejected")]
    Rejected,
}

#[derive(ToSchema)]
/// Where a line's units are held.
pub(crate) struct LineAllocation {
    #[schema(nullable = false)]
    location: Option<String>,
    #[schema(nullable = false)]
    qty: Option<i64>,
}

#[derive(ToSchema)]
/// An order line as intake answers it and an order shows it: routed and reserved, or
/// what is available when it could not be.
pub(crate) struct OrderLine {
    #[schema(nullable = false)]
    line: Option<i64>,
    #[schema(nullable = false)]
    sku: Option<String>,
    #[schema(nullable = false)]
    qty: Option<i64>,
    reservation_id: Option<String>,
    #[schema(inline, nullable = false)]
    allocations: Option<Vec<LineAllocation>>,
    available: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct IntakeAnswer {
    #[schema(nullable = false)]
    id: Option<String>,
    #[schema(nullable = false)]
    channel: Option<String>,
    #[schema(nullable = false)]
    external_id: Option<String>,
    #[schema(nullable = false)]
    state: Option<IntakeAnswerState>,
    #[schema(nullable = false)]
    reason: Option<String>,
    #[schema(nullable = false)]
    code: Option<String>,
    #[schema(inline, nullable = false)]
    lines: Option<Vec<OrderLine>>,
    #[schema(format = DateTime, nullable = false)]
    created_at: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct OrderHistory {
    from: Option<String>,
    #[schema(nullable = false)]
    to: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    at: Option<String>,
    #[schema(nullable = false)]
    actor: Option<String>,
    #[schema(nullable = false)]
    correlation_id: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Order {
    #[schema(nullable = false)]
    id: Option<String>,
    #[schema(nullable = false)]
    channel: Option<String>,
    #[schema(nullable = false)]
    external_id: Option<String>,
    #[schema(nullable = false)]
    state: Option<OrderState>,
    #[schema(nullable = false)]
    reason: Option<String>,
    #[schema(nullable = false)]
    order: Option<CanonicalOrder>,
    #[schema(inline, nullable = false)]
    lines: Option<Vec<OrderLine>>,
    #[schema(inline, nullable = false)]
    history: Option<Vec<OrderHistory>>,
    #[schema(format = DateTime, nullable = false)]
    created_at: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    updated_at: Option<String>,
    /// the state in the channel's own terms ([[channels]] statuses)
    #[schema(nullable = false)]
    channel_status: Option<String>,
    /// id, source, source_event_id, location, carrier, tracking_number, lines, capture, shipped_at
    #[schema(value_type = Vec<Object>, required = false)]
    shipments: Option<Vec<Value>>,
    /// invoice_id, amount, currency, received_at
    #[schema(value_type = Vec<Object>, required = false)]
    invoices: Option<Vec<Value>>,
    /// rma_id, reason, opened_at, lines with units received
    #[schema(value_type = Vec<Object>, required = false)]
    returns: Option<Vec<Value>>,
    /// with several ERPs (business_units), the ERP connector the order's jobs go to: chosen when its first ERP job is routed, and kept when a unit moves
    #[schema(nullable = false)]
    erp_connector: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShipmentInLines {
    sku: NonBlank,
    #[schema(minimum = 1)]
    qty: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShipmentIn {
    /// crossdock's order id (the reference on the release)
    order_id: NonBlank,
    #[schema(
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        default = "wms",
        nullable = false
    )]
    source: Option<String>,
    /// the reporting system's id for the shipment; a repeat is a no-op
    source_event_id: NonBlank,
    location: NonBlank,
    #[schema(inline, min_items = 1)]
    lines: Vec<ShipmentInLines>,
    carrier: NonBlank,
    tracking_number: NonBlank,
    #[schema(format = DateTime, nullable = false)]
    shipped_at: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvoiceIn {
    order_id: NonBlank,
    /// the ERP's invoice number; a repeat is a no-op
    invoice_id: NonBlank,
    /// decimal
    amount: Decimal,
    currency: CurrencyCode,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReturnInLines {
    sku: NonBlank,
    #[schema(minimum = 1)]
    qty: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReturnIn {
    order_id: NonBlank,
    #[schema(inline, min_items = 1)]
    lines: Vec<ReturnInLines>,
    #[schema(nullable = false)]
    reason: Option<NonBlank>,
    /// the channel's id for the return request: sent again, it answers 200 with the same rma_id and duplicate: true
    #[schema(nullable = false)]
    return_ref: Option<NonBlank>,
}

#[derive(ToSchema)]
pub(crate) struct FulfilmentAnswer {
    /// shipment id (shipments only)
    #[schema(nullable = false)]
    id: Option<String>,
    /// returns only
    #[schema(nullable = false)]
    rma_id: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    window_closes: Option<String>,
    #[schema(nullable = false)]
    order_id: Option<String>,
    #[schema(nullable = false)]
    state: Option<String>,
    /// true when the same shipment or invoice came before; nothing changed
    #[schema(nullable = false)]
    duplicate: Option<bool>,
    /// PRICE_MISMATCH when the invoice was kept but the order waits for a person
    #[schema(nullable = false)]
    code: Option<String>,
    /// what differs, with code
    #[schema(nullable = false)]
    detail: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErpStatusIn {
    /// crossdock's order id, the reference on the sales order
    order_id: NonBlank,
    /// the ERP's own status, e.g. Pending Fulfillment
    status: NonBlank,
    erp_order_id: Option<NonBlank>,
}

#[derive(ToSchema)]
pub(crate) enum ErpStatusAnswerAction {
    #[serde(rename = "cancelled")]
    Cancelled,
    #[serde(rename = "held")]
    Held,
    #[serde(rename = "hold_released")]
    HoldReleased,
    #[serde(rename = "recorded")]
    Recorded,
}

#[derive(ToSchema)]
pub(crate) struct ErpStatusAnswer {
    #[schema(nullable = false)]
    order_id: Option<String>,
    #[schema(nullable = false)]
    erp_status: Option<String>,
    /// the canonical state the status maps to
    #[schema(nullable = false)]
    means: Option<String>,
    #[schema(nullable = false)]
    action: Option<ErpStatusAnswerAction>,
    /// the order's state now
    #[schema(nullable = false)]
    state: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct OrderPage {
    #[schema(nullable = false)]
    orders: Option<Vec<Order>>,
    /// Set when the page is full: send it as `after` for the next page
    next_after: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct OrderCancelled {
    #[schema(nullable = false)]
    exception: Option<Exception>,
    #[schema(nullable = false)]
    order: Option<Order>,
}
