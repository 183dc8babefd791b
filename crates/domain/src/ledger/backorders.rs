//! Backorders: an order stock could not fill waits; when stock comes in, the engine asks
//! again, oldest first within each channel. On a channel that ships complete, an order whose
//! every line can now be held is reserved and goes on through the saga like one accepted at
//! intake. On a channel that ships what is available, each waiting line that stock can fill
//! is held: before the order's first release they join it; after, they go to the warehouse
//! as a part of their own (`release_part`). A channel that takes backorders also gives each
//! waiting order a job due at its horizon, which opens `BACKORDER_OVERDUE` if lines still
//! wait then.

use super::{
    AdvanceOrder, AllocateBackorder, Ledger, LinePlan, LinesUpdate, NewEvent, Outcome, Routing,
    json_text,
};
use crate::error::ErrorCode;
use crate::ids::{ChannelCode, Sku};
use crate::job::JobKind;
use crate::ledger::NewJob;
use crate::order_state::OrderState;
use serde_json::json;

/// The job that checks, at the channel's horizon, whether a backorder is still waiting.
pub fn overdue_check(horizon_days: u32) -> NewJob {
    NewJob::new(JobKind::BackorderDue).after(i64::from(horizon_days) * 86_400_000)
}

/// The job that releases part `part` (2 and up) of an order.
pub fn release_part(part: u32) -> NewJob {
    NewJob::new(JobKind::ReleasePart).keyed(format!("part-{part}"), json!({ "part": part }))
}

/// The job that cancels the warehouse's release of part `part` (2 and up) of an order.
pub fn cancel_part(part: u32) -> NewJob {
    NewJob::new(JobKind::CancelRelease).keyed(format!("part-{part}"), json!({ "part": part }))
}

/// Whether lines held in `state` still join the order's first release: it has not gone
/// (nor is it in flight) before the ERP has the order.
fn first_release_pending(state: OrderState) -> bool {
    matches!(
        state,
        OrderState::Backordered
            | OrderState::Reserved
            | OrderState::Accepted
            | OrderState::Allocated
            | OrderState::OnHold
    )
}

impl Ledger<'_> {
    pub(super) fn allocate_backorder(&mut self, a: &AllocateBackorder) -> Outcome {
        let Some(now) = self.orders.get(&a.order_id).cloned() else {
            return Outcome::Rejected {
                code: ErrorCode::OrderNotFound,
                detail: format!("no order `{}`", a.order_id),
            };
        };
        let unmoved = Outcome::OrderMoved {
            moved: false,
            state: now.state,
        };
        let routing = match now.detail.routing.clone() {
            Some(r) => r,
            // Waiting since before lines were stored with the order's routing.
            None if now.state == OrderState::Backordered => Routing {
                plans: (now.detail.lines.iter().enumerate())
                    .map(|(line, (sku, qty, _))| LinePlan {
                        backordered: true,
                        ..LinePlan::unheld(line, sku, *qty)
                    })
                    .collect(),
                reason: String::new(),
            },
            None => return unmoved,
        };
        let wanted: Vec<(usize, &Sku, i64)> =
            routing.waiting().map(|l| (l.line, &l.sku, l.qty)).collect();
        if now.state.is_final() || wanted.is_empty() {
            return unmoved;
        }
        let channel = ChannelCode::parse(&now.detail.channel).ok();
        let loaded = wanted.iter().all(|(_, s, _)| self.states.contains_key(*s));
        let Some(channel) = channel.filter(|c| loaded && self.estate.channel(c.as_str()).is_some())
        else {
            return Outcome::Rejected {
                code: ErrorCode::ValidationFailed,
                detail: format!(
                    "order `{}`: its channel or SKUs are not those the request named",
                    a.order_id
                ),
            };
        };
        let (state, held, _) = self.reserve_lines(&a.order_id, &channel, &wanted);
        if state != OrderState::Accepted {
            return unmoved;
        }
        let part = if first_release_pending(now.state) {
            1
        } else {
            routing.plans.iter().map(|l| l.part).max().unwrap_or(1) + 1
        };
        let mut plans = routing.plans.clone();
        let mut taken = Vec::new();
        for mut h in held {
            if h.reservation_id.is_some() {
                h.part = part;
                taken.push(h.line);
            }
            if let Some(p) = plans.iter_mut().find(|p| p.line == h.line) {
                *p = h;
            }
        }
        for p in &mut plans {
            p.backordered = p.reservation_id.is_none();
        }
        let waiting = super::intake::waiting(&plans);
        let lines: Vec<String> = taken.iter().map(|l| (l + 1).to_string()).collect();
        let reason = format!(
            "from backorder: line{} {} held{}{}",
            if lines.len() == 1 { "" } else { "s" },
            lines.join(", "),
            if part > 1 {
                format!(" as part {part}")
            } else {
                String::new()
            },
            if waiting > 0 {
                format!("; {waiting} still wait for stock")
            } else {
                String::new()
            },
        );
        let parts = plans.iter().map(|l| l.part).max().unwrap_or(1);
        self.writes.order_lines.push(LinesUpdate {
            order_id: a.order_id.clone(),
            lines: json_text(&plans),
            reason: reason.clone(),
            waiting,
            parts,
        });
        self.writes.events.push(NewEvent {
            kind: "order.backorder_allocated",
            sku: None,
            data: json_text(&json!({"id": a.order_id, "part": part, "lines": taken,
                                    "waiting": waiting, "reason": reason})),
        });
        if let Some(o) = self.orders.get_mut(&a.order_id) {
            o.detail.parts = parts;
            o.detail.routing = (waiting > 0).then_some(Routing { plans, reason });
        }
        let step = |from, to, jobs| AdvanceOrder {
            order_id: a.order_id.clone(),
            from,
            to,
            actor: "backorder".into(),
            correlation_id: a.correlation_id.clone(),
            erp_order_id: None,
            erp_status: None,
            jobs,
            fail_job: None,
        };
        if now.state == OrderState::Backordered {
            // On through the saga as at intake: its in-house steps pass in this commit.
            let facts = crate::saga::Facts {
                account: now.detail.account,
                tax: now.detail.tax.is_some(),
            };
            let (passed, next) = crate::saga::go_on(0, facts, self.estate);
            let mut moves = vec![
                step(OrderState::Backordered, OrderState::Reserved, vec![]),
                step(OrderState::Reserved, OrderState::Accepted, vec![]),
            ];
            for p in passed.iter().filter(|p| p.from != p.to) {
                moves.push(AdvanceOrder {
                    actor: p.kind.as_str().into(),
                    ..step(p.from, p.to, vec![])
                });
            }
            if let Some(last) = moves.last_mut() {
                last.jobs.extend(next);
            }
            let mut outcome = None;
            for m in &moves {
                outcome = Some(self.advance_order(m));
            }
            return outcome.expect("a backorder makes at least two moves");
        }
        let jobs = if part > 1 {
            vec![release_part(part)]
        } else {
            vec![]
        };
        self.advance_order(&step(now.state, now.state, jobs))
    }
}
