//! Moving an order from one state to the next, with its history and its next jobs, in the
//! same batch as everything else. A move names the state it expects the order to be in, so
//! two workers racing to move the same order cannot both succeed. A "move" to the state the
//! order is already in is a saga step that changes no state: it only queues the next jobs.

use std::collections::HashMap;

use serde_json::json;

use super::{FailedJob, Ledger, NewEvent, NewJob, OrderDetail, Outcome, json_text};
use crate::error::ErrorCode;
use crate::ids::{OrderId, ReservationId};
use crate::job::JobKind;
use crate::order_state::OrderState;

/// A request to move an order.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvanceOrder {
    /// The order.
    pub order_id: OrderId,
    /// The state it must be in now.
    pub from: OrderState,
    /// The state to move it to.
    pub to: OrderState,
    /// Who moves it (a job kind, an operator, a webhook).
    pub actor: String,
    /// Correlation id of the job or request.
    pub correlation_id: String,
    /// The ERP's id for the order, when the move records one.
    pub erp_order_id: Option<String>,
    /// The ERP's own status for its sales order, when the move records one.
    pub erp_status: Option<String>,
    /// Outbox jobs to create with the move.
    pub jobs: Vec<NewJob>,
    /// A leased job the move ends as failed, opening its exception (a hold).
    pub fail_job: Option<FailedJob>,
}

/// A request to cancel an order: its reservations are released and compensations queued
/// (cancel the ERP sales order when it was posted).
#[derive(Debug, Clone, PartialEq)]
pub struct CancelOrder {
    /// The order.
    pub order_id: OrderId,
    /// Who cancels (an operator, the channel, an exception's cancel).
    pub actor: String,
    /// The outside system the cancel came from (`erp` when the ERP cancelled its sales
    /// order): it has nothing to undo, so no compensation goes to it.
    pub from_system: Option<&'static str>,
    /// Correlation id of the request.
    pub correlation_id: String,
}

/// An order's state as the store has it, with how many transitions it has recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderNow {
    /// Current state.
    pub state: OrderState,
    /// Transitions recorded so far.
    pub transitions: i64,
    /// Lines, payment, and what has shipped.
    pub detail: OrderDetail,
}

/// A move to write.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderMove {
    /// The request.
    pub advance: AdvanceOrder,
    /// Its position in the order's history (for a step that changes no state, the last
    /// transition's).
    pub seq: i64,
}

impl OrderMove {
    /// True when the state changes (a transition to record), false for a step that only
    /// queues jobs.
    pub fn changes_state(&self) -> bool {
        self.advance.from != self.advance.to
    }

    /// True when the order's row changes: its state, or what it records of the ERP.
    pub fn changes_row(&self) -> bool {
        self.changes_state()
            || self.advance.erp_order_id.is_some()
            || self.advance.erp_status.is_some()
    }
}

impl Ledger<'_> {
    /// Current states of the orders this batch moves.
    pub fn with_orders(mut self, orders: HashMap<OrderId, OrderNow>) -> Self {
        self.orders = orders;
        self
    }

    /// Announces the ERP status a move records, if it records one.
    fn erp_status_event(&mut self, a: &AdvanceOrder) {
        if let Some(status) = &a.erp_status {
            self.writes.events.push(NewEvent {
                kind: "order.erp_status_changed",
                sku: None,
                data: json_text(&json!({"id": a.order_id, "erp_status": status,
                                        "erp_order_id": a.erp_order_id, "state": a.to})),
            });
        }
    }

    pub(super) fn advance_order(&mut self, a: &AdvanceOrder) -> Outcome {
        let Some(now) = self.orders.get_mut(&a.order_id) else {
            return Outcome::Rejected {
                code: ErrorCode::OrderNotFound,
                detail: format!("no order `{}`", a.order_id),
            };
        };
        if now.state != a.from {
            return Outcome::OrderMoved {
                moved: false,
                state: now.state,
            };
        }
        if a.from == a.to {
            let seq = now.transitions;
            self.erp_status_event(a);
            self.writes.failed_jobs.extend(a.fail_job.clone());
            self.writes.order_moves.push(OrderMove {
                advance: a.clone(),
                seq,
            });
            return Outcome::OrderMoved {
                moved: true,
                state: a.to,
            };
        }
        if !a.from.can_move_to(a.to) {
            return Outcome::Rejected {
                code: ErrorCode::ValidationFailed,
                detail: format!(
                    "an order cannot move from {} to {}",
                    a.from.as_str(),
                    a.to.as_str()
                ),
            };
        }
        self.writes.failed_jobs.extend(a.fail_job.clone());
        now.state = a.to;
        let seq = now.transitions + 1;
        now.transitions = seq;
        self.erp_status_event(a);
        self.writes.events.push(NewEvent {
            kind: "order.state_changed",
            sku: None,
            data: json_text(
                &json!({"id": a.order_id, "from": a.from, "to": a.to, "actor": a.actor,
                         "correlation_id": a.correlation_id, "erp_order_id": a.erp_order_id}),
            ),
        });
        self.writes.order_moves.push(OrderMove {
            advance: a.clone(),
            seq,
        });
        Outcome::OrderMoved {
            moved: true,
            state: a.to,
        }
    }
}

impl Ledger<'_> {
    pub(super) fn cancel_order(&mut self, c: &CancelOrder) -> Outcome {
        let Some(now) = self.orders.get(&c.order_id).cloned() else {
            return Outcome::Rejected {
                code: ErrorCode::OrderNotFound,
                detail: format!("no order `{}`", c.order_id),
            };
        };
        if now.state == OrderState::Cancelled {
            return Outcome::OrderMoved {
                moved: false,
                state: now.state,
            };
        }
        if !now.state.can_move_to(OrderState::Cancelled) {
            return Outcome::Rejected {
                code: ErrorCode::OrderNotCancellable,
                detail: format!(
                    "order `{}` is {} and can no longer be cancelled",
                    c.order_id,
                    now.state.as_str()
                ),
            };
        }
        let mut held: Vec<ReservationId> = self
            .reservations
            .values()
            .filter(|r| r.order_ref == c.order_id && r.status == super::ReservationStatus::Active)
            .map(|r| r.id.clone())
            .collect();
        held.sort();
        for id in held {
            self.release(&id, false);
        }
        if let Some(r) = &now.detail.routing {
            // Lines waiting for stock wait no more.
            let mut plans = r.plans.clone();
            for p in &mut plans {
                p.backordered = false;
            }
            self.writes.order_lines.push(super::LinesUpdate {
                order_id: c.order_id.clone(),
                lines: json_text(&plans),
                reason: format!("{}; cancelled", r.reason),
                waiting: 0,
                parts: now.detail.parts,
            });
        }
        let mut jobs = compensations(now.state, &now.detail);
        jobs.retain(|j| Some(j.system()) != c.from_system);
        self.advance_order(&AdvanceOrder {
            order_id: c.order_id.clone(),
            from: now.state,
            to: OrderState::Cancelled,
            actor: c.actor.clone(),
            correlation_id: c.correlation_id.clone(),
            erp_order_id: None,
            erp_status: None,
            jobs,
            fail_job: None,
        })
    }
}

/// What cancelling an order in `state` must undo outside crossdock: the payment
/// authorisation, the ERP's sales order, the warehouse's release; and the channel is told.
pub fn compensations(state: OrderState, detail: &OrderDetail) -> Vec<NewJob> {
    let mut jobs = Vec::new();
    if let Some((authorization, amount)) = &detail.payment {
        jobs.push(NewJob::new(JobKind::VoidAuthorization).keyed(
            "void",
            json!({"authorization": authorization, "amount": amount.to_string()}),
        ));
    }
    // Held after the ERP created its sales order (an ERP status meaning on hold) counts.
    if detail.erp_order_id.is_some()
        || matches!(state, OrderState::ErpPosted | OrderState::Released)
    {
        jobs.push(NewJob::new(JobKind::CancelSalesOrder));
    }
    if state == OrderState::Released {
        jobs.push(NewJob::new(JobKind::CancelRelease));
    }
    // Parts released later, each with its own reference.
    jobs.extend((2..=detail.parts).map(super::backorders::cancel_part));
    jobs.push(NewJob::new(JobKind::NotifyCancelled));
    jobs
}
