//! The inventory ledger: applies a batch of commands (stock events, reservations, releases) to
//! the SKUs they touch and says what must be written.
//!
//! A store loads the touched SKUs (holding them still), runs a [`Ledger`] over the batch, then
//! writes what [`Ledger::finish`] returns, all in one transaction. The ledger itself does no IO.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ats::{Figures, all_figures, channel_figures};
use crate::error::ErrorCode;
use crate::estate::Estate;
use crate::ids::{ChannelCode, LocationCode, Sku};
use crate::order::FieldError;
use crate::order_state::OrderState;
use crate::routing::plan;
use crate::sku::{ExpectedReceipt, SkuState};
use crate::stock::{Applied, StockChange};
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
    /// Of those, units already moved onto a pick ticket.
    pub consumed: i64,
}

/// Units held for an order (or a cart) until picked, released or expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// `res_…` identifier.
    pub id: String,
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
    pub id: String,
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
        id: String,
        /// True when its time ran out rather than a caller releasing it.
        expired: bool,
    },
    /// Takes in an order: reserves every line or none.
    PlaceOrder(Box<PlaceOrder>),
    /// Moves an order to its next state.
    AdvanceOrder(Box<AdvanceOrder>),
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
            Command::AdvanceOrder(_) => vec![],
        }
    }
}

/// What became of one command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The SKU was added.
    ItemCreated,
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
    OrderPlaced(Box<NewOrder>),
    /// The same order (same key, same body) was taken in before: its first answer.
    Replayed(PriorIntake),
    /// The key was used before with a different body.
    KeyReused {
        /// Which key: `idempotency_key` or `external_id`.
        key: &'static str,
        /// The order the key belongs to.
        order_id: String,
    },
    /// The order was moved (`moved`), or was not because it is no longer in the expected
    /// state; `state` is where it stands now.
    OrderMoved {
        /// Whether this command moved it.
        moved: bool,
        /// Its state after the command.
        state: OrderState,
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
    pub data: Value,
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
    pub new_reservations: Vec<String>,
    /// Existing reservations whose status or consumption changed.
    pub changed_reservations: BTreeSet<String>,
    /// Source event keys to remember, with the time the event happened.
    pub source_events: Vec<(String, String, Timestamp)>,
    /// Events to append, in order.
    pub events: Vec<NewEvent>,
    /// Orders to insert, with their history and jobs.
    pub new_orders: Vec<NewOrder>,
    /// Order moves to write, with their history and jobs.
    pub order_moves: Vec<OrderMove>,
}

/// The result of a batch: the new states and what to write.
#[derive(Debug)]
pub struct Finished {
    /// Every loaded SKU's state after the batch.
    pub states: BTreeMap<Sku, SkuState>,
    /// Every loaded or created reservation after the batch.
    pub reservations: HashMap<String, Reservation>,
    /// What to write.
    pub writes: Writes,
}

/// Applies commands to loaded SKU states.
pub struct Ledger<'a> {
    estate: &'a Estate,
    now: Timestamp,
    states: BTreeMap<Sku, SkuState>,
    before: BTreeMap<Sku, Vec<Figures>>,
    reservations: HashMap<String, Reservation>,
    seen: HashSet<(String, String)>,
    priors: Priors,
    orders: HashMap<String, OrderNow>,
    writes: Writes,
}

fn rejected(code: ErrorCode, detail: impl Into<String>) -> Outcome {
    Outcome::Rejected {
        code,
        detail: detail.into(),
    }
}

impl<'a> Ledger<'a> {
    /// Starts a batch over `states` (the item master's SKUs the batch touches), the
    /// reservations it refers to, and the event keys already recorded.
    pub fn new(
        estate: &'a Estate,
        now: Timestamp,
        states: Vec<SkuState>,
        reservations: Vec<Reservation>,
        seen: HashSet<(String, String)>,
    ) -> Self {
        let states: BTreeMap<Sku, SkuState> =
            states.into_iter().map(|s| (s.sku.clone(), s)).collect();
        let before = states
            .iter()
            .map(|(k, s)| (k.clone(), all_figures(estate, s, now)))
            .collect();
        Self {
            estate,
            now,
            states,
            before,
            reservations: reservations
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect(),
            seen,
            priors: Priors::default(),
            orders: HashMap::new(),
            writes: Writes::default(),
        }
    }

    /// Earlier intakes whose keys this batch's orders use.
    pub fn with_priors(mut self, priors: Priors) -> Self {
        self.priors = priors;
        self
    }

    /// Applies one command.
    pub fn apply(&mut self, command: &Command) -> Outcome {
        match command {
            Command::UpsertItem { sku, description } => self.upsert_item(sku, description),
            Command::Stock(event) => self.stock_event(event),
            Command::Reserve(req) => self.reserve(req),
            Command::Release { id, expired } => self.release(id, *expired),
            Command::PlaceOrder(p) => self.place_order(p),
            Command::AdvanceOrder(a) => self.advance_order(a),
        }
    }

    fn upsert_item(&mut self, sku: &Sku, description: &Option<String>) -> Outcome {
        if self.states.contains_key(sku) {
            return Outcome::ItemExists;
        }
        let state = SkuState::new(sku.clone());
        self.before
            .insert(sku.clone(), all_figures(self.estate, &state, self.now));
        self.states.insert(sku.clone(), state);
        self.writes
            .new_items
            .push((sku.clone(), description.clone()));
        self.writes.events.push(NewEvent {
            kind: "item.created",
            sku: Some(sku.clone()),
            data: json!({"sku": sku, "description": description}),
        });
        Outcome::ItemCreated
    }

    fn stock_event(&mut self, e: &StockEvent) -> Outcome {
        if !self.states.contains_key(&e.sku) {
            return rejected(
                ErrorCode::SkuUnknown,
                format!("SKU `{}` is not in the item master; add it first", e.sku),
            );
        }
        if !self.seen.insert(e.key()) {
            return Outcome::Duplicate;
        }
        self.writes.source_events.push((
            e.source.clone(),
            e.source_event_id.clone(),
            e.occurred_at,
        ));
        let state = self.states.get_mut(&e.sku).expect("checked above");
        match &e.change {
            EventChange::Expected { po_ref, qty, eta } => {
                set_expected(state, &e.location, po_ref, |x| *x = (*qty, *eta), *eta);
                self.writes
                    .expected
                    .insert((e.sku.clone(), e.location.clone(), po_ref.clone()));
                self.writes.events.push(NewEvent {
                    kind: "receipt.expected",
                    sku: Some(e.sku.clone()),
                    data: json!({"sku": e.sku, "location": e.location, "po_ref": po_ref,
                                 "qty": qty, "eta": eta, "source": e.source,
                                 "source_event_id": e.source_event_id}),
                });
                Outcome::Applied
            }
            EventChange::Stock {
                change,
                kind,
                po_ref,
                order_ref,
            } => {
                if state.at_mut(&e.location).apply(change, e.occurred_at) == Applied::Stale {
                    return Outcome::Stale;
                }
                self.writes
                    .stock
                    .insert((e.sku.clone(), e.location.clone()));
                if let (StockChange::Receipt(q) | StockChange::TransferReceived(q), Some(po)) =
                    (change, po_ref)
                {
                    let received = *q;
                    set_expected(state, &e.location, po, |x| x.0 -= received, Timestamp(0));
                    self.writes
                        .expected
                        .insert((e.sku.clone(), e.location.clone(), po.clone()));
                }
                if let (StockChange::PickOpened(q), Some(order)) = (change, order_ref) {
                    self.consume_for_pick(&e.sku, &e.location, order, *q);
                }
                let state = &self.states[&e.sku];
                let row = state.at(&e.location).expect("just touched");
                self.writes.events.push(NewEvent {
                    kind: "stock.changed",
                    sku: Some(e.sku.clone()),
                    data: json!({"sku": e.sku, "location": e.location, "kind": kind,
                                 "source": e.source, "source_event_id": e.source_event_id,
                                 "occurred_at": e.occurred_at, "buckets": row.buckets}),
                });
                Outcome::Applied
            }
        }
    }

    /// Moves up to `qty` units of `order`'s reservations at `location` from reserved to
    /// picking (the pick event itself already raised picking).
    fn consume_for_pick(&mut self, sku: &Sku, location: &LocationCode, order: &str, qty: i64) {
        let mut left = qty;
        let mut ids: Vec<&String> = self
            .reservations
            .values()
            .filter(|r| {
                &r.sku == sku && r.order_ref == order && r.status == ReservationStatus::Active
            })
            .map(|r| &r.id)
            .collect();
        ids.sort();
        let ids: Vec<String> = ids.into_iter().cloned().collect();
        for id in ids {
            if left == 0 {
                break;
            }
            let r = self.reservations.get_mut(&id).expect("listed above");
            let Some(a) = r.allocations.iter_mut().find(|a| &a.location == location) else {
                continue;
            };
            let take = (a.qty - a.consumed).min(left);
            if take <= 0 {
                continue;
            }
            a.consumed += take;
            left -= take;
            if r.open_qty() == 0 {
                r.status = ReservationStatus::Consumed;
            }
            let state = self.states.get_mut(sku).expect("loaded");
            let row = state.at_mut(location);
            row.buckets.reserved = (row.buckets.reserved - take).max(0);
            state.add_channel_reserved(&r.channel, -take);
            self.writes
                .channel_reserved
                .insert((sku.clone(), r.channel.clone()));
            self.writes.changed_reservations.insert(id.clone());
            self.writes.events.push(NewEvent {
                kind: "reservation.consumed",
                sku: Some(sku.clone()),
                data: json!({"id": id, "sku": sku, "location": location, "qty": take,
                             "order_ref": order, "status": r.status.as_str()}),
            });
        }
    }

    fn reserve(&mut self, req: &ReserveRequest) -> Outcome {
        let Some(channel) = self.estate.channel(req.channel.as_str()) else {
            return rejected(
                ErrorCode::ChannelUnknown,
                format!("channel `{}` is not configured", req.channel),
            );
        };
        if let Some(l) = &req.location
            && !channel.locations.contains(l)
        {
            return rejected(
                ErrorCode::LocationNotInChannel,
                format!("location `{l}` does not feed channel `{}`", channel.code),
            );
        }
        let Some(state) = self.states.get_mut(&req.sku) else {
            return rejected(
                ErrorCode::SkuUnknown,
                format!("SKU `{}` is not in the item master", req.sku),
            );
        };
        let ats = channel_figures(self.estate, state, channel, self.now).available_now;
        if req.qty > ats {
            return Outcome::Insufficient { available: ats };
        }
        let routed = plan(
            self.estate,
            state,
            channel,
            req.qty,
            req.location.as_ref(),
            req.ship_region.as_deref(),
        );
        let plan = match routed {
            Ok(p) => p,
            Err(short) => {
                return Outcome::Insufficient {
                    available: short.available.min(ats),
                };
            }
        };
        Outcome::Reserved(self.hold(req, &plan))
    }

    /// Holds `req.qty` units where `plan` says; the plan must fit what is sellable.
    fn hold(&mut self, req: &ReserveRequest, plan: &crate::routing::Plan) -> Reservation {
        let state = self
            .states
            .get_mut(&req.sku)
            .expect("planned on a loaded SKU");
        for a in &plan.allocations {
            state.at_mut(&a.location).buckets.reserved += a.qty;
            self.writes
                .stock
                .insert((req.sku.clone(), a.location.clone()));
        }
        state.add_channel_reserved(&req.channel, req.qty);
        self.writes
            .channel_reserved
            .insert((req.sku.clone(), req.channel.clone()));
        let reservation = Reservation {
            id: req.id.clone(),
            sku: req.sku.clone(),
            channel: req.channel.clone(),
            order_ref: req.order_ref.clone(),
            qty: req.qty,
            created_at: self.now,
            expires_at: req.expires_at,
            status: ReservationStatus::Active,
            allocations: plan
                .allocations
                .iter()
                .map(|a| ReservedAt {
                    location: a.location.clone(),
                    qty: a.qty,
                    consumed: 0,
                })
                .collect(),
        };
        self.writes.events.push(NewEvent {
            kind: "reservation.created",
            sku: Some(req.sku.clone()),
            data: json!({"id": reservation.id, "sku": req.sku, "channel": req.channel,
                         "order_ref": req.order_ref, "qty": req.qty,
                         "allocations": plan.allocations, "reason": plan.reason,
                         "expires_at": req.expires_at}),
        });
        self.writes.new_reservations.push(req.id.clone());
        self.reservations
            .insert(reservation.id.clone(), reservation.clone());
        reservation
    }

    fn release(&mut self, id: &str, expired: bool) -> Outcome {
        let Some(r) = self.reservations.get_mut(id) else {
            return rejected(
                ErrorCode::ReservationNotFound,
                format!("no reservation `{id}`"),
            );
        };
        if r.status != ReservationStatus::Active {
            return Outcome::AlreadyClosed(r.clone());
        }
        let Some(state) = self.states.get_mut(&r.sku) else {
            return rejected(ErrorCode::Internal, "reservation's SKU was not loaded");
        };
        let returned = r.open_qty();
        for a in &mut r.allocations {
            let open = a.qty - a.consumed;
            let row = state.at_mut(&a.location);
            row.buckets.reserved = (row.buckets.reserved - open).max(0);
            self.writes
                .stock
                .insert((r.sku.clone(), a.location.clone()));
        }
        state.add_channel_reserved(&r.channel, -returned);
        self.writes
            .channel_reserved
            .insert((r.sku.clone(), r.channel.clone()));
        r.status = if expired {
            ReservationStatus::Expired
        } else {
            ReservationStatus::Released
        };
        self.writes.changed_reservations.insert(id.to_string());
        self.writes.events.push(NewEvent {
            kind: if expired {
                "reservation.expired"
            } else {
                "reservation.released"
            },
            sku: Some(r.sku.clone()),
            data: json!({"id": id, "sku": r.sku, "channel": r.channel,
                         "order_ref": r.order_ref, "returned": returned}),
        });
        Outcome::Released(r.clone())
    }

    /// Ends the batch: appends `availability.changed` for every SKU and channel whose figures
    /// moved, and hands back the states and writes.
    pub fn finish(mut self) -> Finished {
        for (sku, state) in &self.states {
            let after = all_figures(self.estate, state, self.now);
            let before = &self.before[sku];
            for ((b, a), channel) in before.iter().zip(&after).zip(self.estate.channels()) {
                if b != a {
                    self.writes.events.push(NewEvent {
                        kind: "availability.changed",
                        sku: Some(sku.clone()),
                        data: json!({"sku": sku, "channel": channel.code,
                                     "available_now": a.available_now,
                                     "available_backorder": a.available_backorder,
                                     "next_eta": a.next_eta}),
                    });
                }
            }
        }
        Finished {
            states: self.states,
            reservations: self.reservations,
            writes: self.writes,
        }
    }
}

/// Updates (or creates) the expected receipt `po_ref` at `location`; drops it when nothing
/// more is expected.
fn set_expected(
    state: &mut SkuState,
    location: &LocationCode,
    po_ref: &str,
    update: impl FnOnce(&mut (i64, Timestamp)),
    default_eta: Timestamp,
) {
    let pos = state
        .expected
        .iter()
        .position(|x| &x.location == location && x.po_ref == po_ref);
    let mut value = pos.map_or((0, default_eta), |i| {
        (state.expected[i].qty, state.expected[i].eta)
    });
    update(&mut value);
    match (pos, value.0 > 0) {
        (Some(i), true) => (state.expected[i].qty, state.expected[i].eta) = value,
        (Some(i), false) => {
            state.expected.remove(i);
        }
        (None, true) => state.expected.push(ExpectedReceipt {
            location: location.clone(),
            po_ref: po_ref.to_string(),
            qty: value.0,
            eta: value.1,
        }),
        (None, false) => {}
    }
}

mod intake;
mod moves;

pub use intake::{NewOrder, PlaceOrder, PriorIntake, Priors};
pub use moves::{AdvanceOrder, OrderMove, OrderNow};

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
