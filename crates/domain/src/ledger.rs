//! The inventory ledger: applies a batch of commands (stock events, reservations, releases) to
//! the SKUs they touch and says what must be written.
//!
//! A store loads the touched SKUs (holding them still), runs a [`Ledger`] over the batch, then
//! writes what [`Ledger::finish`] returns, all in one transaction. The ledger itself does no IO.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use crate::ats::{Figures, all_figures, channel_figures};
use crate::error::ErrorCode;
use crate::estate::Estate;
use crate::ids::{LocationCode, OrderId, ReservationId, Sku};
use crate::qty::{MAX_QTY, Qty};
use crate::routing::plan;
use crate::sku::{ExpectedReceipt, SkuState};
use crate::stock::{Applied, StockChange};
use crate::time::Timestamp;

/// Applies commands to loaded SKU states.
pub struct Ledger<'a> {
    estate: &'a Estate,
    now: Timestamp,
    states: BTreeMap<Sku, SkuState>,
    before: BTreeMap<Sku, Vec<Figures>>,
    reservations: HashMap<ReservationId, Reservation>,
    seen: HashSet<(String, String)>,
    priors: Priors,
    orders: HashMap<OrderId, OrderNow>,
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
            Command::CancelOrder(c) => self.cancel_order(c),
            Command::RecordShipment(s) => self.record_shipment(s),
            Command::RecordInvoice(i) => self.record_invoice(i),
            Command::OpenReturn(r) => self.open_return(r),
            Command::AllocateBackorder(a) => self.allocate_backorder(a),
            Command::MatchInvoices(m) => self.match_invoices(m),
            Command::SetPrice(p) => self.set_price(p),
            Command::RecordViolation(v) => {
                self.writes.events.push(NewEvent {
                    kind: "ownership.violated",
                    sku: v.sku.clone(),
                    data: json_text(&serde_json::json!({
                        "domain": v.domain, "scope": v.scope, "writer": v.writer,
                        "owner": v.owner, "write": v.write,
                    })),
                });
                Outcome::Recorded
            }
            Command::RecordSla { breached, standing } => {
                self.writes.events.push(NewEvent {
                    kind: if *breached {
                        "sla.breached"
                    } else {
                        "sla.recovered"
                    },
                    sku: None,
                    data: json_text(standing),
                });
                Outcome::Recorded
            }
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
            data: json_text(&json!({"sku": sku, "description": description})),
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
                    data: json_text(
                        &json!({"sku": e.sku, "location": e.location, "po_ref": po_ref,
                                 "qty": qty, "eta": eta, "source": e.source,
                                 "source_event_id": e.source_event_id}),
                    ),
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
                    let received = q.get();
                    set_expected(state, &e.location, po, |x| x.0 -= received, Timestamp(0));
                    self.writes
                        .expected
                        .insert((e.sku.clone(), e.location.clone(), po.clone()));
                }
                match (change, order_ref) {
                    (StockChange::PickOpened(q), Some(order)) => {
                        self.consume_for_pick(&e.sku, &e.location, order, q.get());
                    }
                    (StockChange::ReturnReceived(q), Some(order)) => {
                        self.receive_return(order, &e.sku, q.get(), &e.source_event_id);
                    }
                    _ => {}
                }
                let state = &self.states[&e.sku];
                let row = state.at(&e.location).expect("just touched");
                self.writes.events.push(NewEvent {
                    kind: "stock.changed",
                    sku: Some(e.sku.clone()),
                    data: json_text(&json!({"sku": e.sku, "location": e.location, "kind": kind,
                                 "source": e.source, "source_event_id": e.source_event_id,
                                 "occurred_at": e.occurred_at, "buckets": row.buckets})),
                });
                Outcome::Applied
            }
        }
    }

    /// Moves up to `qty` units of `order`'s reservations at `location` from reserved to
    /// picking (the pick event itself already raised picking).
    /// Returns the units moved.
    fn consume_for_pick(
        &mut self,
        sku: &Sku,
        location: &LocationCode,
        order: &str,
        qty: i64,
    ) -> i64 {
        let mut left = qty;
        let mut ids: Vec<&ReservationId> = self
            .reservations
            .values()
            .filter(|r| {
                &r.sku == sku && r.order_ref == order && r.status == ReservationStatus::Active
            })
            .map(|r| &r.id)
            .collect();
        ids.sort();
        let ids: Vec<ReservationId> = ids.into_iter().cloned().collect();
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
                data: json_text(
                    &json!({"id": id, "sku": sku, "location": location, "qty": take,
                             "order_ref": order, "status": r.status.as_str()}),
                ),
            });
        }
        qty - left
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
        if Qty::new(req.qty).is_err() {
            return rejected(
                ErrorCode::ValidationFailed,
                format!("qty must be from 1 to {MAX_QTY}, got {}", req.qty),
            );
        }
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
            let reserved = &mut state.at_mut(&a.location).buckets.reserved;
            *reserved = reserved.saturating_add(a.qty);
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
                    shipped: 0,
                })
                .collect(),
        };
        self.writes.events.push(NewEvent {
            kind: "reservation.created",
            sku: Some(req.sku.clone()),
            data: json_text(&ReservationCreated {
                id: &reservation.id,
                sku: &req.sku,
                channel: &req.channel,
                order_ref: &req.order_ref,
                qty: req.qty,
                allocations: &plan.allocations,
                reason: plan.reason,
                expires_at: req.expires_at,
            }),
        });
        self.writes.new_reservations.push(req.id.clone());
        self.reservations
            .insert(reservation.id.clone(), reservation.clone());
        reservation
    }

    fn release(&mut self, id: &ReservationId, expired: bool) -> Outcome {
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
        self.writes.changed_reservations.insert(id.clone());
        self.writes.events.push(NewEvent {
            kind: if expired {
                "reservation.expired"
            } else {
                "reservation.released"
            },
            sku: Some(r.sku.clone()),
            data: json_text(&json!({"id": id, "sku": r.sku, "channel": r.channel,
                         "order_ref": r.order_ref, "returned": returned})),
        });
        Outcome::Released(r.clone())
    }

    /// Ends the batch: appends one `availability.changed` for every SKU whose figures moved on
    /// any channel, carrying every channel's figures as the batch left them, and hands back
    /// the states and writes.
    pub fn finish(mut self) -> Finished {
        for (sku, state) in &self.states {
            let after = all_figures(self.estate, state, self.now);
            if self.before[sku] == after {
                continue;
            }
            let channels = (self.estate.channels().iter().zip(&after))
                .map(|(channel, a)| ChannelAvailability {
                    channel: &channel.code,
                    available_now: a.available_now,
                    available_backorder: a.available_backorder,
                    next_eta: a.next_eta,
                })
                .collect();
            self.writes.events.push(NewEvent {
                kind: "availability.changed",
                sku: Some(sku.clone()),
                data: json_text(&AvailabilityChanged { sku, channels }),
            });
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

/// The data of `availability.changed`: a SKU's figures on every channel.
#[derive(serde::Serialize)]
struct AvailabilityChanged<'a> {
    sku: &'a Sku,
    channels: Vec<ChannelAvailability<'a>>,
}

/// One channel's figures in `availability.changed`.
#[derive(serde::Serialize)]
struct ChannelAvailability<'a> {
    channel: &'a crate::ids::ChannelCode,
    available_now: i64,
    available_backorder: i64,
    next_eta: Option<Timestamp>,
}

/// The data of `reservation.created`.
#[derive(serde::Serialize)]
struct ReservationCreated<'a> {
    id: &'a str,
    sku: &'a Sku,
    channel: &'a crate::ids::ChannelCode,
    order_ref: &'a str,
    qty: i64,
    allocations: &'a [crate::routing::Allocated],
    reason: &'static str,
    expires_at: Option<Timestamp>,
}

mod backorders;
mod detail;
mod fulfilment;
mod intake;
mod invoices;
mod moves;
mod prices;
mod returns;
mod review;
mod types;

/// The jobs a batch queues (defined with the job kinds, so the saga needs nothing of the
/// ledger).
pub use crate::job::NewJob;
pub use backorders::overdue_check;
pub use detail::{InvoiceSeen, OrderDetail, ReturnLine, Routing};
pub use fulfilment::{FailedJob, InvoiceRow, RecordInvoice, RecordShipment, ShipmentRow};
pub use intake::{LinePlan, NewOrder, PlaceOrder, PriorIntake, Priors};
pub use invoices::MatchInvoices;
pub use moves::{AdvanceOrder, CancelOrder, OrderMove, OrderNow};
pub use prices::SetPrice;
pub use returns::{OpenReturn, ReturnRow};
pub use types::{
    AllocateBackorder, Command, EventChange, Finished, JsonText, LinesUpdate, NewEvent, Outcome,
    Reservation, ReservationStatus, ReserveRequest, ReservedAt, StockEvent, Violation, Writes,
    json_text, with_text_field,
};

#[cfg(test)]
#[path = "ledger_tests/mod.rs"]
mod tests;
