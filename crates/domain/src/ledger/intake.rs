//! Order intake inside the ledger: an order reserves every line or none, in the same batch
//! as everything else, and is decided `accepted`, `backordered` or `rejected`.
//!
//! Routing for an order: one location that fills every line (by priority, drop-ship last),
//! else each line in turn across locations in that order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{
    JsonText, Ledger, NewEvent, NewJob, Outcome, ReserveRequest, json_text, with_text_field,
};
use crate::ats::{channel_figures, sellable_at};
use crate::error::ErrorCode;
use crate::estate::{BackorderPolicy, Channel, LocationKind};
use crate::ids::{ChannelCode, OrderId, ReservationId, Sku};
use crate::order::{CanonicalOrder, FieldError};
use crate::order_state::OrderState;
use crate::routing::{Allocated, Plan, plan};
use crate::saga::Facts;
use crate::sku::SkuState;
use crate::time::Timestamp;

/// A request to take in an order.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceOrder {
    /// Identifier to give the order (`ord_…`).
    pub id: OrderId,
    /// The checked order.
    pub order: CanonicalOrder,
    /// Hash of the request body, to tell a replay from a reused key.
    pub request_hash: String,
    /// The caller's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// Correlation id recorded with each transition.
    pub correlation_id: String,
    /// Set when a credit check inside the request found the account on hold: a new order
    /// is refused (nothing stored); a replay of an earlier intake is still answered.
    pub credit_hold: Option<String>,
}

/// An earlier intake that used the same key.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorIntake {
    /// The order it made.
    pub order_id: OrderId,
    /// Hash of its request body.
    pub request_hash: String,
    /// Its answer, given again on a replay.
    pub response: JsonText,
}

/// Earlier intakes a batch's orders might repeat, loaded by the store.
#[derive(Debug, Clone, Default)]
pub struct Priors {
    /// By (channel, external_id).
    pub by_external_id: HashMap<(String, String), PriorIntake>,
    /// By `Idempotency-Key`.
    pub by_key: HashMap<String, PriorIntake>,
}

/// Where one line's units come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinePlan {
    /// Index of the line in the order.
    pub line: usize,
    /// The SKU.
    pub sku: Sku,
    /// Units ordered.
    pub qty: i64,
    /// The reservation holding them, when accepted.
    pub reservation_id: Option<ReservationId>,
    /// Locations and units.
    pub allocations: Vec<Allocated>,
    /// What the channel could promise, when the line could not be filled.
    pub available: Option<i64>,
    /// True while the line waits for stock (no reservation yet).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backordered: bool,
    /// The release the line goes to the warehouse in: 1 for the lines held at first, then
    /// one more for each group of waiting lines that stock filled after the first release
    /// could have gone.
    #[serde(default = "first_part", skip_serializing_if = "is_first_part")]
    pub part: u32,
}

impl LinePlan {
    /// Line `line` of `qty` units of `sku`, holding nothing yet.
    pub(super) fn unheld(line: usize, sku: &Sku, qty: i64) -> Self {
        Self {
            line,
            sku: sku.clone(),
            qty,
            reservation_id: None,
            allocations: Vec::new(),
            available: None,
            backordered: false,
            part: 1,
        }
    }
}

fn first_part() -> u32 {
    1
}

fn is_first_part(part: &u32) -> bool {
    *part == 1
}

/// An order to insert, with its history, its first jobs and its intake answer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// The request as taken in: its id, order, request hash, key and correlation id.
    pub request: Arc<PlaceOrder>,
    /// Where it stands after intake.
    pub state: OrderState,
    /// Per-line routing.
    pub lines: Vec<LinePlan>,
    /// Why it was routed or refused this way.
    pub reason: String,
    /// Transitions intake records, oldest first, with who made each: from nothing to the
    /// state intake decided, then those of the saga's steps passed in the same commit.
    pub history: Vec<(OrderState, &'static str)>,
    /// Outbox jobs to create: (kind, target system).
    pub jobs: Vec<NewJob>,
    /// The intake answer, kept for replays.
    pub response: JsonText,
    /// When it was taken in.
    pub created_at: Timestamp,
}

impl NewOrder {
    /// How many of its lines wait for stock.
    pub fn waiting(&self) -> i64 {
        waiting(&self.lines)
    }

    /// `ord_…`
    pub fn id(&self) -> &OrderId {
        &self.request.id
    }

    /// The order as taken in.
    pub fn order(&self) -> &CanonicalOrder {
        &self.request.order
    }
}

/// The answer to an intake, as given and as replayed.
#[derive(Serialize)]
struct IntakeAnswer<'a> {
    channel: &'a ChannelCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<ErrorCode>,
    created_at: Timestamp,
    external_id: &'a str,
    id: &'a str,
    lines: &'a [LinePlan],
    reason: &'a str,
    state: OrderState,
}

/// How many of `lines` wait for stock.
pub(super) fn waiting(lines: &[LinePlan]) -> i64 {
    lines.iter().filter(|l| l.backordered).count() as i64
}

fn field(i: usize, code: ErrorCode, message: String) -> FieldError {
    FieldError {
        field: format!("lines[{i}].sku"),
        code,
        message,
    }
}

impl Ledger<'_> {
    /// Takes in an order (see the module docs).
    pub(super) fn place_order(&mut self, p: &Arc<PlaceOrder>) -> Outcome {
        let natural = (p.order.channel.to_string(), p.order.external_id.clone());
        if let Some(key) = &p.idempotency_key
            && let Some(prior) = self.priors.by_key.get(key)
        {
            return replay_or_conflict(prior, p, "idempotency_key");
        }
        if let Some(prior) = self.priors.by_external_id.get(&natural) {
            let outcome = replay_or_conflict(prior, p, "external_id");
            if let (Outcome::Replayed(prior), Some(key)) = (&outcome, &p.idempotency_key) {
                self.priors.by_key.insert(key.clone(), prior.clone());
                self.writes.replay_keys.push((key.clone(), prior.clone()));
            }
            return outcome;
        }
        if let Some(why) = &p.credit_hold {
            return Outcome::Rejected {
                code: ErrorCode::CustomerOnCreditHold,
                detail: why.clone(),
            };
        }
        let unknown: Vec<FieldError> = p
            .order
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !self.states.contains_key(&l.sku))
            .map(|(i, l)| {
                let msg = format!("SKU `{}` is not in the item master", l.sku);
                field(i, ErrorCode::SkuUnknown, msg)
            })
            .collect();
        if !unknown.is_empty() {
            return Outcome::Invalid(unknown);
        }
        let wanted: Vec<(usize, &Sku, i64)> = (p.order.lines.iter().enumerate())
            .map(|(i, l)| (i, &l.sku, l.qty))
            .collect();
        let (state, lines, reason) = self.reserve_lines(&p.id, &p.order.channel, &wanted);
        // Received, validated and (when accepted) reserved happen inside this one commit:
        // intake records a single transition, to the state it decided. An accepted order then
        // passes the saga's steps that call no outside system in the same commit, and the
        // first step that calls out is queued.
        let mut history = vec![(state, "intake")];
        let mut jobs = Vec::new();
        if state == OrderState::Accepted {
            let (passed, next) = crate::saga::go_on(0, Facts::of(&p.order), self.estate);
            for step in passed.iter().filter(|s| s.from != s.to) {
                history.push((step.to, step.kind.as_str()));
            }
            jobs.extend(next);
        }
        if waiting(&lines) > 0 {
            let channel = self.estate.channel(p.order.channel.as_str());
            let horizon = channel.and_then(|c| c.backorder_horizon_days).unwrap_or(0);
            jobs.push(super::overdue_check(horizon));
        }
        let response = json_text(&IntakeAnswer {
            channel: &p.order.channel,
            code: (state == OrderState::Rejected).then_some(ErrorCode::InsufficientStock),
            created_at: self.now,
            external_id: &p.order.external_id,
            id: &p.id,
            lines: &lines,
            reason: &reason,
            state,
        });
        self.writes.events.push(NewEvent {
            kind: match state {
                OrderState::Accepted => "order.accepted",
                OrderState::Backordered => "order.backordered",
                _ => "order.rejected",
            },
            sku: None,
            data: with_text_field(&response, "correlation_id", &p.correlation_id),
        });
        for w in history.windows(2) {
            let ((from, _), (to, actor)) = (w[0], w[1]);
            self.writes.events.push(NewEvent {
                kind: "order.state_changed",
                sku: None,
                data: json_text(&serde_json::json!({"id": p.id, "from": from, "to": to,
                    "actor": actor, "correlation_id": p.correlation_id, "erp_order_id": null})),
            });
        }
        let placed = Arc::new(NewOrder {
            request: p.clone(),
            state: history.last().map_or(state, |(s, _)| *s),
            lines,
            reason,
            history,
            jobs,
            response: response.clone(),
            created_at: self.now,
        });
        let prior = PriorIntake {
            order_id: p.id.clone(),
            request_hash: p.request_hash.clone(),
            response,
        };
        if let Some(key) = &p.idempotency_key {
            self.priors.by_key.insert(key.clone(), prior.clone());
        }
        self.priors.by_external_id.insert(natural, prior);
        self.writes.new_orders.push(placed.clone());
        Outcome::OrderPlaced(placed)
    }

    /// Reserves every line or none; or, on a channel that ships what is available, every
    /// line that stock can fill when not all can be. `wanted` is (line index, SKU, units).
    /// Returns the state (`accepted` when anything is held), the per-line plan and the
    /// reason.
    pub(super) fn reserve_lines<'s>(
        &mut self,
        order_id: &str,
        channel: &ChannelCode,
        wanted: &[(usize, &'s Sku, i64)],
    ) -> (OrderState, Vec<LinePlan>, String) {
        let estate = self.estate;
        let channel = estate
            .channel(channel.as_str())
            .expect("the order was checked against the estate");
        let mut totals: BTreeMap<&'s Sku, i64> = BTreeMap::new();
        for (_, sku, qty) in wanted {
            *totals.entry(*sku).or_default() += qty;
        }
        let promisable: BTreeMap<&Sku, i64> = totals
            .keys()
            .map(|s| (*s, self.promisable(channel, s)))
            .collect();
        let shortfall = totals.iter().any(|(s, t)| *t > promisable[s]);
        let mut candidates: Vec<_> = channel
            .locations
            .iter()
            .filter_map(|c| estate.location(c.as_str()))
            .collect();
        candidates.sort_by_key(|l| (l.kind == LocationKind::Dropship, l.priority, l.code.clone()));
        let single = candidates.iter().find(|l| {
            totals
                .iter()
                .all(|(s, t)| sellable_at(estate, &self.states[*s], &l.code) >= *t)
        });
        let mut plans: Vec<Option<Plan>> = Vec::new();
        let reason;
        if shortfall {
            reason = "insufficient stock for the channel".to_string();
        } else if let Some(l) = single {
            reason = format!("single_location: {} fills every line", l.code);
            plans = wanted
                .iter()
                .map(|(_, _, qty)| {
                    Some(Plan {
                        allocations: vec![Allocated {
                            location: l.code.clone(),
                            qty: *qty,
                        }],
                        reason: "single_location",
                    })
                })
                .collect();
        } else {
            reason = "split: no one location fills every line".to_string();
        }
        // Hold line by line, so each split sees the lines before it; undo all on a miss.
        // Only a split can miss: one location that fills every line holds them all, and a
        // shortfall holds nothing.
        let saved: Vec<SkuState> = if single.is_none() && !shortfall {
            totals.keys().map(|s| self.states[*s].clone()).collect()
        } else {
            Vec::new()
        };
        let (events, reservations) = (self.writes.events.len(), self.writes.new_reservations.len());
        let mut lines = Vec::new();
        let mut complete = !shortfall;
        for (i, &(line, sku, qty)) in wanted.iter().enumerate() {
            let routed = if !complete {
                None
            } else if let Some(Some(plan)) = plans.get(i) {
                Some(plan.clone())
            } else {
                plan(estate, &self.states[sku], channel, qty, None, None).ok()
            };
            let mut lp = LinePlan::unheld(line, sku, qty);
            match routed {
                Some(plan) => self.hold_line(order_id, channel, &mut lp, plan),
                None => {
                    complete = false;
                    lp.available = Some(promisable[sku]);
                }
            }
            lines.push(lp);
        }
        if complete {
            return (OrderState::Accepted, lines, reason);
        }
        for s in saved {
            self.states.insert(s.sku.clone(), s);
        }
        self.writes.events.truncate(events);
        for id in self.writes.new_reservations.drain(reservations..) {
            self.reservations.remove(&id);
        }
        for lp in &mut lines {
            lp.reservation_id = None;
            lp.allocations.clear();
            lp.available = Some(promisable[&lp.sku]);
            lp.backordered = channel.backorder_horizon_days.is_some();
        }
        if channel.backorder_horizon_days.is_none() {
            return (
                OrderState::Rejected,
                lines,
                "rejected: not enough stock and no backorders".into(),
            );
        }
        if channel.orders.backorders == BackorderPolicy::ShipAvailable {
            let budget = promisable.iter().map(|(s, n)| ((*s).clone(), *n)).collect();
            let held = self.hold_what_fits(order_id, channel, &mut lines, budget);
            if held > 0 {
                let reason = format!(
                    "ship_available: {held} of {} lines held now, the rest wait for stock",
                    lines.len()
                );
                return (OrderState::Accepted, lines, reason);
            }
        }
        (
            OrderState::Backordered,
            lines,
            "backordered: the channel takes backorders".into(),
        )
    }

    /// What `channel` could promise of `sku` now.
    fn promisable(&self, channel: &Channel, sku: &Sku) -> i64 {
        channel_figures(self.estate, &self.states[sku], channel, self.now).available_now
    }

    /// Holds each waiting line of `lines` that the channel can promise and route now, in
    /// line order; returns how many it held. What the lines hold of a SKU together stays
    /// within `budget`, what the channel could promise of it before the order, as a whole
    /// order's lines do (a channel's share is of what is left, so it grows back a little
    /// after each hold).
    fn hold_what_fits(
        &mut self,
        order_id: &str,
        channel: &Channel,
        lines: &mut [LinePlan],
        mut budget: BTreeMap<Sku, i64>,
    ) -> usize {
        let mut held = 0;
        for lp in lines.iter_mut().filter(|l| l.backordered) {
            let left = budget.get(&lp.sku).copied().unwrap_or(0);
            if lp.qty > left.min(self.promisable(channel, &lp.sku)) {
                continue;
            }
            let Ok(plan) = plan(
                self.estate,
                &self.states[&lp.sku],
                channel,
                lp.qty,
                None,
                None,
            ) else {
                continue;
            };
            self.hold_line(order_id, channel, lp, plan);
            budget.insert(lp.sku.clone(), left - lp.qty);
            held += 1;
        }
        held
    }

    /// Reserves one line along `plan`.
    fn hold_line(&mut self, order_id: &str, channel: &Channel, lp: &mut LinePlan, plan: Plan) {
        let req = ReserveRequest {
            id: ReservationId::with_unique(&format!(
                "{}_{}",
                order_id.trim_start_matches(OrderId::PREFIX),
                lp.line + 1
            )),
            sku: lp.sku.clone(),
            qty: lp.qty,
            channel: channel.code.clone(),
            order_ref: order_id.to_string(),
            location: None,
            ship_region: None,
            expires_at: None,
        };
        let r = self.hold(&req, &plan);
        lp.reservation_id = Some(r.id);
        lp.allocations = plan.allocations;
        lp.available = None;
        lp.backordered = false;
    }
}

fn replay_or_conflict(prior: &PriorIntake, p: &PlaceOrder, key: &'static str) -> Outcome {
    if prior.request_hash == p.request_hash {
        Outcome::Replayed(prior.clone())
    } else {
        Outcome::KeyReused {
            key,
            order_id: prior.order_id.clone(),
        }
    }
}
