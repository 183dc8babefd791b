//! Backorders: an order stock could not fill waits as `backordered`; when stock comes in, the
//! engine asks again, oldest first within each channel, and an order whose every line can
//! now be held is reserved and goes on through the saga like one accepted at intake. A
//! channel that takes backorders also gives each one a job due at its horizon, which opens
//! `BACKORDER_OVERDUE` if the order is still waiting then.

use super::{AdvanceOrder, AllocateBackorder, Ledger, Outcome, json_text};
use crate::error::ErrorCode;
use crate::ids::{ChannelCode, Sku};
use crate::ledger::NewJob;
use crate::order_state::OrderState;

/// The job due at a backorder's horizon: the system that runs it and its kind.
pub const BACKORDER_DUE: (&str, &str) = ("backorders", "backorder_due");

/// The job that checks, at the channel's horizon, whether a backorder is still waiting.
pub fn overdue_check(horizon_days: u32) -> NewJob {
    let (system, kind) = BACKORDER_DUE;
    NewJob::new(kind, system).after(i64::from(horizon_days) * 86_400_000)
}

impl Ledger<'_> {
    pub(super) fn allocate_backorder(&mut self, a: &AllocateBackorder) -> Outcome {
        let Some(now) = self.orders.get(&a.order_id) else {
            return Outcome::Rejected {
                code: ErrorCode::OrderNotFound,
                detail: format!("no order `{}`", a.order_id),
            };
        };
        if now.state != OrderState::Backordered {
            return Outcome::OrderMoved {
                moved: false,
                state: now.state,
            };
        }
        let lines: Vec<(Sku, i64)> = now
            .detail
            .lines
            .iter()
            .map(|(sku, qty, _)| (sku.clone(), *qty))
            .collect();
        let channel = ChannelCode::parse(&now.detail.channel).ok();
        let loaded = lines.iter().all(|(s, _)| self.states.contains_key(s));
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
        let wanted: Vec<(&Sku, i64)> = lines.iter().map(|(s, q)| (s, *q)).collect();
        let (state, plans, reason) = self.reserve_lines(&a.order_id, &channel, &wanted);
        if state != OrderState::Accepted {
            return Outcome::OrderMoved {
                moved: false,
                state: OrderState::Backordered,
            };
        }
        let reason = format!("{reason} (from backorder)");
        self.writes
            .order_lines
            .push((a.order_id.clone(), json_text(&plans), reason));
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
        self.advance_order(&step(OrderState::Backordered, OrderState::Reserved, vec![]));
        self.advance_order(&step(
            OrderState::Reserved,
            OrderState::Accepted,
            vec![crate::saga::first_step()],
        ))
    }
}
