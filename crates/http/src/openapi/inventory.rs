//! Shapes of the inventory routes' bodies: items, stock events, availability, reservations
//! and the event log.
//!
//! These types describe what the handlers read field by field or write as JSON; they are
//! for the document only, never built.
#![allow(dead_code)]

use serde_json::Value;
use utoipa::ToSchema;

use super::*;

#[derive(ToSchema)]
pub(crate) struct Rejection {
    #[schema(nullable = false)]
    index: Option<i64>,
    #[schema(nullable = false)]
    code: Option<String>,
    #[schema(nullable = false)]
    detail: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemIn {
    sku: ItemSku,
    #[schema(
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        max_length = 500,
        nullable = false
    )]
    description: Option<String>,
}

/// snapshot only: replaces these buckets as of occurred_at
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StockEventInBuckets {
    #[schema(nullable = false)]
    on_hand: Option<i64>,
    #[schema(nullable = false)]
    picking: Option<i64>,
    #[schema(nullable = false)]
    transfer_out: Option<i64>,
    #[schema(nullable = false)]
    inspection: Option<i64>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StockEventIn {
    source: Reference,
    source_event_id: Reference,
    #[schema(format = DateTime)]
    occurred_at: String,
    sku: NonBlank,
    location: NonBlank,
    kind: StockEventKind,
    /// Positive for deltas; signed and non-zero for adjustment; 0 or more for expected_receipt (0 closes it)
    #[schema(nullable = false)]
    qty: Option<i64>,
    /// snapshot only: replaces these buckets as of occurred_at
    #[schema(inline, nullable = false)]
    buckets: Option<StockEventInBuckets>,
    /// receipt / transfer_received: the expected receipt it fills; expected_receipt: required
    #[schema(nullable = false)]
    po_ref: Option<NonBlank>,
    /// pick_opened: the order whose reservation at this location the pick consumes
    #[schema(nullable = false)]
    order_ref: Option<NonBlank>,
    /// expected_receipt: expected arrival
    #[schema(format = DateTime, nullable = false)]
    eta: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct EventsResult {
    #[schema(nullable = false)]
    applied: Option<i64>,
    #[schema(nullable = false)]
    duplicates: Option<i64>,
    #[schema(nullable = false)]
    stale: Option<i64>,
    #[schema(nullable = false)]
    rejected: Option<Vec<Rejection>>,
}

#[derive(ToSchema)]
pub(crate) struct LocationSellable {
    #[schema(nullable = false)]
    location: Option<String>,
    #[schema(nullable = false)]
    sellable: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct ChannelAvailability {
    #[schema(nullable = false)]
    sku: Option<String>,
    #[schema(nullable = false)]
    channel: Option<String>,
    #[schema(nullable = false)]
    available_now: Option<i64>,
    #[schema(nullable = false)]
    available_backorder: Option<i64>,
    #[schema(format = DateTime)]
    next_eta: Option<String>,
    #[schema(nullable = false)]
    locations: Option<Vec<LocationSellable>>,
}

#[derive(ToSchema)]
pub(crate) struct SkuAvailabilityLocations {
    #[schema(nullable = false)]
    location: Option<String>,
    #[schema(nullable = false)]
    on_hand: Option<i64>,
    #[schema(nullable = false)]
    picking: Option<i64>,
    #[schema(nullable = false)]
    transfer_out: Option<i64>,
    #[schema(nullable = false)]
    inspection: Option<i64>,
    #[schema(nullable = false)]
    reserved: Option<i64>,
    #[schema(nullable = false)]
    safety_stock: Option<i64>,
    #[schema(nullable = false)]
    sellable: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct SkuAvailabilityExpected {
    #[schema(nullable = false)]
    location: Option<String>,
    #[schema(nullable = false)]
    po_ref: Option<String>,
    #[schema(nullable = false)]
    qty: Option<i64>,
    #[schema(format = DateTime, nullable = false)]
    eta: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct SkuAvailability {
    #[schema(nullable = false)]
    sku: Option<String>,
    #[schema(nullable = false)]
    channels: Option<Vec<ChannelAvailability>>,
    #[schema(inline, nullable = false)]
    locations: Option<Vec<SkuAvailabilityLocations>>,
    #[schema(inline, nullable = false)]
    expected: Option<Vec<SkuAvailabilityExpected>>,
}

#[derive(ToSchema)]
pub(crate) struct ReservationAllocations {
    #[schema(nullable = false)]
    location: Option<String>,
    #[schema(nullable = false)]
    qty: Option<i64>,
    #[schema(nullable = false)]
    picked: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct Reservation {
    #[schema(nullable = false)]
    id: Option<String>,
    #[schema(nullable = false)]
    sku: Option<String>,
    #[schema(nullable = false)]
    channel: Option<String>,
    #[schema(nullable = false)]
    order_ref: Option<String>,
    #[schema(nullable = false)]
    qty: Option<i64>,
    #[schema(nullable = false)]
    status: Option<ReservationStatus>,
    #[schema(format = DateTime, nullable = false)]
    created_at: Option<String>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(inline, nullable = false)]
    allocations: Option<Vec<ReservationAllocations>>,
}

#[derive(ToSchema)]
pub(crate) struct Event {
    #[schema(nullable = false)]
    seq: Option<i64>,
    #[schema(nullable = false)]
    r#type: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    occurred_at: Option<String>,
    #[schema(nullable = false)]
    sku: Option<String>,
    #[schema(value_type = Object, required = false)]
    data: Option<Value>,
}

#[derive(ToSchema)]
pub(crate) struct Readiness {
    #[schema(nullable = false)]
    status: Option<String>,
    #[schema(nullable = false)]
    backend: Option<String>,
    #[schema(nullable = false)]
    skus: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct ItemsResult {
    #[schema(nullable = false)]
    created: Option<i64>,
    #[schema(nullable = false)]
    existing: Option<i64>,
    #[schema(nullable = false)]
    rejected: Option<Vec<Rejection>>,
}

#[derive(ToSchema)]
pub(crate) struct AvailabilityList {
    #[schema(nullable = false)]
    channel: Option<String>,
    #[schema(nullable = false)]
    items: Option<Vec<ChannelAvailability>>,
    #[schema(nullable = false)]
    unknown: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub(crate) struct EventPage {
    #[schema(nullable = false)]
    events: Option<Vec<Event>>,
    #[schema(nullable = false)]
    next_after: Option<i64>,
}
