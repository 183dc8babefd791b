//! The ledger's vocabulary: commands in, outcomes out, reservations, and the rows a batch
//! asks its store to write.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::{
    AdvanceOrder, CancelOrder, FailedJob, InvoiceRow, NewOrder, OpenReturn, OrderMove, PlaceOrder,
    PriorIntake, RecordInvoice, RecordShipment, ReturnLine, ReturnRow, ShipmentRow,
};
use crate::error::ErrorCode;
use crate::ids::{ChannelCode, LocationCode, OrderId, ReservationId, Sku};
use crate::order::FieldError;
use crate::order_state::OrderState;
use crate::sku::SkuState;
use crate::stock::StockChange;
use crate::time::Timestamp;

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Holding units.
    Active,
    /// Released by a caller.
    Released,
    /// Released because its time ran out.
    Expired,
    /// Every unit went onto a pick ticket.
    Consumed,
}

impl ReservationStatus {
    /// Every value.
    pub const ALL: [ReservationStatus; 4] = [
        ReservationStatus::Active,
        ReservationStatus::Released,
        ReservationStatus::Expired,
        ReservationStatus::Consumed,
    ];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "active",
            ReservationStatus::Released => "released",
            ReservationStatus::Expired => "expired",
            ReservationStatus::Consumed => "consumed",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => ReservationStatus::Active,
            "released" => ReservationStatus::Released,
            "expired" => ReservationStatus::Expired,
            "consumed" => ReservationStatus::Consumed,
            _ => return None,
        })
    }
}

/// Units a reservation holds at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedAt {
    /// The location.
    pub location: LocationCode,
    /// Units allocated there.
    pub qty: i64,
    /// Of those, units already moved onto a pick ticket (or shipped straight from here).
    pub consumed: i64,
    /// Of the consumed, units shipped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shipped: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Units held for an order (or a cart) until picked, released or expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// `res_…` identifier.
    pub id: ReservationId,
    /// The SKU held.
    pub sku: Sku,
    /// The channel it was taken for.
    pub channel: ChannelCode,
    /// The order (or cart) it belongs to.
    pub order_ref: String,
    /// Units held in all.
    pub qty: i64,
    /// When it was taken.
    pub created_at: Timestamp,
    /// When it lapses; `None` holds until released.
    pub expires_at: Option<Timestamp>,
    /// Where it stands.
    pub status: ReservationStatus,
    /// Where the units are held.
    pub allocations: Vec<ReservedAt>,
}

impl Reservation {
    /// Units still held (not consumed by picks).
    pub fn open_qty(&self) -> i64 {
        self.allocations.iter().map(|a| a.qty - a.consumed).sum()
    }
}

/// A request to hold stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveRequest {
    /// Identifier to give the reservation.
    pub id: ReservationId,
    /// The SKU.
    pub sku: Sku,
    /// Units wanted, at least 1.
    pub qty: i64,
    /// The channel selling them.
    pub channel: ChannelCode,
    /// The order or cart reference.
    pub order_ref: String,
    /// Pin to one location.
    pub location: Option<LocationCode>,
    /// Prefer locations in this region.
    pub ship_region: Option<String>,
    /// When it lapses.
    pub expires_at: Option<Timestamp>,
}

/// What a stock event does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventChange {
    /// Moves buckets.
    Stock {
        /// The movement.
        change: StockChange,
        /// The event's kind as sent (`receipt`, `shipped`, …), for the event log.
        kind: String,
        /// For receipts: the purchase order line it fills.
        po_ref: Option<String>,
        /// For pick_opened: the order whose reservation the pick consumes.
        order_ref: Option<String>,
    },
    /// Upserts an expected receipt (`qty` 0 closes it).
    Expected {
        /// The purchase order reference.
        po_ref: String,
        /// Units expected.
        qty: i64,
        /// Expected arrival.
        eta: Timestamp,
    },
}

/// A stock event from an outside system, checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockEvent {
    /// The reporting system.
    pub source: String,
    /// The system's own id for the event; repeated ids are duplicates.
    pub source_event_id: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// The SKU.
    pub sku: Sku,
    /// The location.
    pub location: LocationCode,
    /// What it does.
    pub change: EventChange,
}

impl StockEvent {
    /// The (source, source_event_id) pair that identifies it.
    pub fn key(&self) -> (String, String) {
        (self.source.clone(), self.source_event_id.clone())
    }
}

/// One unit of work in a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Adds a SKU to the item master (no-op if present).
    UpsertItem {
        /// The SKU.
        sku: Sku,
        /// Its description.
        description: Option<String>,
    },
    /// Applies a stock event.
    Stock(StockEvent),
    /// Holds stock.
    Reserve(ReserveRequest),
    /// Returns a reservation's open units.
    Release {
        /// The reservation.
        id: ReservationId,
        /// True when its time ran out rather than a caller releasing it.
        expired: bool,
    },
    /// Takes in an order: reserves every line or none.
    PlaceOrder(std::sync::Arc<PlaceOrder>),
    /// Moves an order to its next state.
    AdvanceOrder(Box<AdvanceOrder>),
    /// Cancels an order, releasing what it holds.
    CancelOrder(Box<CancelOrder>),
    /// A shipment from the warehouse.
    RecordShipment(Box<RecordShipment>),
    /// An invoice from the ERP.
    RecordInvoice(Box<RecordInvoice>),
    /// A return authorisation for shipped units.
    OpenReturn(Box<OpenReturn>),
    /// Tries again to reserve a backordered order now that stock has come in.
    AllocateBackorder(Box<AllocateBackorder>),
    /// Compares a shipped order's invoices with its value again.
    MatchInvoices(Box<super::MatchInvoices>),
    /// Records a write refused because another system owns what it would change.
    RecordViolation(Box<Violation>),
    /// Sets a SKU's price on a channel.
    SetPrice(Box<super::SetPrice>),
    /// Records that an SLA fell under its percent (`breached`) or came back over it, as an
    /// `sla.breached` or `sla.recovered` event carrying `standing`.
    RecordSla {
        /// Under its percent now.
        breached: bool,
        /// Where it stands.
        standing: serde_json::Value,
    },
}

/// A write refused because another system owns its domain (`[ownership]`), kept as an
/// `ownership.violated` event so it can be found afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The domain, e.g. `inventory`.
    pub domain: &'static str,
    /// The location or channel, where the domain is owned per one.
    pub scope: Option<String>,
    /// The system that wrote (a connector, a stock event's source).
    pub writer: String,
    /// The system that owns it.
    pub owner: String,
    /// The SKU, when the write was about one.
    pub sku: Option<Sku>,
    /// What was refused, as sent (or what identifies it).
    pub write: serde_json::Value,
}

/// A request to reserve every line of a backordered order, oldest first within its channel
/// (the caller submits them in that order).
#[derive(Debug, Clone, PartialEq)]
pub struct AllocateBackorder {
    /// The order.
    pub order_id: OrderId,
    /// The SKUs on its lines, so the batch loads their stock.
    pub skus: Vec<Sku>,
    /// Correlation id recorded with the move.
    pub correlation_id: String,
}

impl Command {
    /// The SKUs this command touches, as far as known without a lookup.
    pub fn skus(&self) -> Vec<&Sku> {
        match self {
            Command::UpsertItem { sku, .. } => vec![sku],
            Command::Stock(e) => vec![&e.sku],
            Command::Reserve(r) => vec![&r.sku],
            Command::Release { .. } => vec![],
            Command::PlaceOrder(p) => p.order.lines.iter().map(|l| &l.sku).collect(),
            Command::RecordShipment(s) => s.lines.iter().map(|(sku, _)| sku).collect(),
            Command::AllocateBackorder(a) => a.skus.iter().collect(),
            Command::SetPrice(p) => vec![&p.sku],
            Command::AdvanceOrder(_)
            | Command::MatchInvoices(_)
            | Command::RecordViolation(_)
            | Command::RecordSla { .. }
            | Command::CancelOrder(_)
            | Command::RecordInvoice(_)
            | Command::OpenReturn(_) => vec![],
        }
    }
}

/// What became of one command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The SKU was added.
    ItemCreated,
    /// A refused write was recorded.
    Recorded,
    /// The SKU was already there.
    ItemExists,
    /// The event moved stock.
    Applied,
    /// The event was seen before; nothing changed.
    Duplicate,
    /// The event is older than a snapshot; nothing changed.
    Stale,
    /// Stock is held.
    Reserved(Reservation),
    /// Not enough stock; `available` units could have been had.
    Insufficient {
        /// Units the channel could have reserved.
        available: i64,
    },
    /// The reservation's units are back.
    Released(Reservation),
    /// The reservation was already closed.
    AlreadyClosed(Reservation),
    /// The order was taken in; `response` is the intake answer.
    OrderPlaced(std::sync::Arc<NewOrder>),
    /// The same order (same key, same body) was taken in before: its first answer.
    Replayed(PriorIntake),
    /// The invoice was recorded, but the order's invoices do not come to its value: it
    /// waits as `PRICE_MISMATCH`.
    PriceMismatch {
        /// What differs.
        detail: String,
    },
    /// The key was used before with a different body.
    KeyReused {
        /// Which key: `idempotency_key` or `external_id`.
        key: &'static str,
        /// The order the key belongs to.
        order_id: OrderId,
    },
    /// The order was moved (`moved`), or was not because it is no longer in the expected
    /// state; `state` is where it stands now.
    OrderMoved {
        /// Whether this command moved it.
        moved: bool,
        /// Its state after the command.
        state: OrderState,
    },
    /// A shipment was recorded; the order is now in `state`.
    ShipmentRecorded {
        /// The shipment's id.
        id: String,
        /// The order's state after it.
        state: OrderState,
    },
    /// A return was opened.
    ReturnOpened {
        /// The RMA's id.
        id: String,
        /// When the return window closes.
        closes: Timestamp,
    },
    /// The order failed checks that need the store (unknown SKUs); nothing was kept.
    Invalid(Vec<FieldError>),
    /// Refused.
    Rejected {
        /// Why, as a stable code.
        code: ErrorCode,
        /// Why, for a person.
        detail: String,
    },
}

/// An event to append to the log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Dotted event type, e.g. `availability.changed`.
    pub kind: &'static str,
    /// The SKU it concerns.
    pub sku: Option<Sku>,
    /// The payload.
    pub data: JsonText,
}

/// A JSON document already written out: made once where it is decided, then shared by every
/// row and answer that carries it.
pub type JsonText = std::sync::Arc<str>;

/// `value` as [`JsonText`].
pub fn json_text(value: &impl Serialize) -> JsonText {
    serde_json::to_string(value)
        .expect("plain data serialises")
        .into()
}

/// `object` (the [`JsonText`] of an object) with the string field `name` set to `value` at
/// its end, without reading the object again: an event that carries an answer and one more
/// fact.
pub fn with_text_field(object: &str, name: &str, value: &str) -> JsonText {
    let body = object
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(object)
        .trim_end();
    let comma = if body.ends_with('{') { "" } else { "," };
    let name = serde_json::to_string(name).expect("text serialises");
    let value = serde_json::to_string(value).expect("text serialises");
    format!("{body}{comma}{name}:{value}}}").into()
}

/// An order whose per-line routing changed: lines a backorder waited for reserved, or its
/// waiting given up when it was cancelled.
#[derive(Debug, Clone, PartialEq)]
pub struct LinesUpdate {
    /// The order.
    pub order_id: OrderId,
    /// Its lines' plans (JSON array of [`super::LinePlan`]).
    pub lines: JsonText,
    /// Why it is routed so.
    pub reason: String,
    /// How many lines still wait for stock.
    pub waiting: i64,
    /// The highest release part any of its lines goes in.
    pub parts: u32,
}

/// Rows a store must write after a batch.
#[derive(Debug, Default)]
pub struct Writes {
    /// New SKUs and their descriptions.
    pub new_items: Vec<(Sku, Option<String>)>,
    /// Stock rows to upsert.
    pub stock: BTreeSet<(Sku, LocationCode)>,
    /// Channel reserved totals to upsert.
    pub channel_reserved: BTreeSet<(Sku, ChannelCode)>,
    /// Expected receipts to upsert (or delete, if gone from the state).
    pub expected: BTreeSet<(Sku, LocationCode, String)>,
    /// Reservations to insert.
    pub new_reservations: Vec<ReservationId>,
    /// Existing reservations whose status or consumption changed.
    pub changed_reservations: BTreeSet<ReservationId>,
    /// Source event keys to remember, with the time the event happened.
    pub source_events: Vec<(String, String, Timestamp)>,
    /// Events to append, in order.
    pub events: Vec<NewEvent>,
    /// Orders to insert, with their history and jobs.
    pub new_orders: Vec<std::sync::Arc<NewOrder>>,
    /// Orders whose per-line routing changed.
    pub order_lines: Vec<LinesUpdate>,
    /// `Idempotency-Key`s first seen on a replay by natural key: remembered for the order
    /// they replayed, so the same key with another body is refused later.
    pub replay_keys: Vec<(String, PriorIntake)>,
    /// Order moves to write, with their history and jobs.
    pub order_moves: Vec<OrderMove>,
    /// Shipments to write.
    pub shipments: Vec<ShipmentRow>,
    /// Invoices to write.
    pub invoices: Vec<InvoiceRow>,
    /// Leased jobs to end as failed, opening their exceptions.
    pub failed_jobs: Vec<FailedJob>,
    /// Open exceptions the order has outgrown, to close: (order id, code). A shipped order
    /// whose invoices now match closes its `PRICE_MISMATCH`.
    pub outgrown: Vec<(String, crate::error::ErrorCode)>,
    /// Returns to write.
    pub returns: Vec<ReturnRow>,
    /// Return lines with their new received count.
    pub return_receipts: Vec<ReturnLine>,
    /// Prices to set.
    pub prices: Vec<super::SetPrice>,
}

/// The result of a batch: the new states and what to write.
#[derive(Debug)]
pub struct Finished {
    /// Every loaded SKU's state after the batch.
    pub states: BTreeMap<Sku, SkuState>,
    /// Every loaded or created reservation after the batch.
    pub reservations: HashMap<ReservationId, Reservation>,
    /// What to write.
    pub writes: Writes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_field_is_added_to_an_object_as_json_would_write_it() {
        let id = "quote\" and \\ and \u{1}";
        for object in [r#"{"a":1}"#, "{}", "{ }", r#"{"a":{"b":[]}} "#] {
            let with = with_text_field(object, "correlation_id", id);
            let read: serde_json::Value = serde_json::from_str(&with).unwrap();
            assert_eq!(read["correlation_id"], id, "{with}");
            let mut expected: serde_json::Value = serde_json::from_str(object).unwrap();
            expected["correlation_id"] = id.into();
            assert_eq!(read, expected);
        }
    }
}
