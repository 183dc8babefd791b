//! Returns: an RMA is opened for shipped units within the channel's return window (counted
//! from the order's last shipment); the units come back as `return_received` stock events
//! naming the order (`order_ref`), which count against the order's open RMA lines; once
//! every unit shipped has come back the order is `returned`. Inspection (restock or scrap)
//! moves the inspection bucket as any stock event does.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{AdvanceOrder, Ledger, NewEvent, NewJob, Outcome, ReturnLine, json_text};
use crate::error::ErrorCode;
use crate::ids::{OrderId, Sku};
use crate::job::JobKind;
use crate::order_state::OrderState;
use crate::time::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// A request to open a return for some of an order's shipped units.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenReturn {
    /// `rma_…`, chosen by the caller.
    pub id: String,
    /// The order.
    pub order_id: OrderId,
    /// SKU and units to take back.
    pub lines: Vec<(Sku, i64)>,
    /// Why, as the customer said.
    pub reason: Option<String>,
    /// The channel's own id for the return request: a repeat is a no-op.
    pub return_ref: Option<String>,
    /// Correlation id of the request.
    pub correlation_id: String,
}

impl OpenReturn {
    /// The key that makes a repeat a no-op, when the channel gave a reference.
    pub fn key(&self) -> Option<(String, String)> {
        let r = self.return_ref.as_ref()?;
        Some(("return".to_string(), format!("{}:{r}", self.order_id)))
    }
}

/// A return to write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnRow {
    /// `rma_…`
    pub id: String,
    /// The order.
    pub order_id: OrderId,
    /// Why.
    pub reason: Option<String>,
    /// SKU and units authorised.
    pub lines: Vec<(Sku, i64)>,
}

fn rejected(code: ErrorCode, detail: String) -> Outcome {
    Outcome::Rejected { code, detail }
}

impl Ledger<'_> {
    pub(super) fn open_return(&mut self, r: &OpenReturn) -> Outcome {
        let Some(now) = self.orders.get(&r.order_id).cloned() else {
            return rejected(
                ErrorCode::OrderNotFound,
                format!("no order `{}`", r.order_id),
            );
        };
        if let Some(key) = r.key()
            && self.seen.contains(&key)
        {
            return Outcome::Duplicate;
        }
        if !matches!(
            now.state,
            OrderState::PartiallyShipped
                | OrderState::Shipped
                | OrderState::Invoiced
                | OrderState::Closed
        ) {
            return rejected(
                ErrorCode::OrderStateConflict,
                format!(
                    "order `{}` is {}; only shipped units can be returned",
                    r.order_id,
                    now.state.as_str()
                ),
            );
        }
        let window = self
            .estate
            .channel(&now.detail.channel)
            .map_or(0, |c| c.orders.return_window_days);
        let Some(shipped_at) = now.detail.last_shipped_at else {
            return rejected(
                ErrorCode::OrderStateConflict,
                format!("order `{}` has no shipment", r.order_id),
            );
        };
        let closes = Timestamp(shipped_at.0 + i64::from(window) * DAY_MS);
        if self.now > closes {
            return rejected(
                ErrorCode::ReturnWindowClosed,
                format!(
                    "the {}-day return window of channel `{}` closed at {} (last shipment {})",
                    window, now.detail.channel, closes, shipped_at
                ),
            );
        }
        let mut per_sku: BTreeMap<Sku, i64> = BTreeMap::new();
        for (sku, qty) in &r.lines {
            *per_sku.entry(sku.clone()).or_default() += qty;
        }
        for (sku, qty) in &per_sku {
            if !now.detail.shipped.contains_key(sku) {
                return rejected(
                    ErrorCode::SkuNotOnOrder,
                    format!("no unit of `{sku}` shipped on order `{}`", r.order_id),
                );
            }
            let left = now.detail.returnable(sku);
            if *qty > left {
                return rejected(
                    ErrorCode::QtyExceedsOrder,
                    format!("{qty} units of `{sku}` to return but {left} shipped and not returned"),
                );
            }
        }
        if let Some(key) = r.key() {
            self.seen.insert(key.clone());
            self.writes.source_events.push((key.0, key.1, self.now));
        }
        let lines: Vec<(Sku, i64)> = per_sku.into_iter().collect();
        if let Some(o) = self.orders.get_mut(&r.order_id) {
            o.detail
                .returns
                .extend(lines.iter().map(|(sku, qty)| ReturnLine {
                    rma_id: r.id.clone(),
                    sku: sku.clone(),
                    qty: *qty,
                    received: 0,
                }));
        }
        let rma = json!({"rma_id": r.id, "reason": r.reason,
                         "lines": lines.iter().map(|(sku, qty)| json!({"sku": sku, "qty": qty}))
                             .collect::<Vec<_>>()});
        self.writes.returns.push(ReturnRow {
            id: r.id.clone(),
            order_id: r.order_id.clone(),
            reason: r.reason.clone(),
            lines,
        });
        self.writes.events.push(NewEvent {
            kind: "return.authorized",
            sku: None,
            data: json_text(&json!({"order_id": r.order_id, "return": rma})),
        });
        self.advance_order(&AdvanceOrder {
            order_id: r.order_id.clone(),
            from: now.state,
            to: now.state,
            actor: "returns".into(),
            correlation_id: r.correlation_id.clone(),
            erp_order_id: None,
            erp_status: None,
            jobs: vec![NewJob::new(JobKind::PostReturn).keyed(&r.id, rma)],
            fail_job: None,
        });
        Outcome::ReturnOpened {
            id: r.id.clone(),
            closes,
        }
    }

    /// Counts `qty` units of `sku` received back against `order`'s open return lines; when
    /// every unit shipped is back, the order is returned.
    pub(super) fn receive_return(&mut self, order: &str, sku: &Sku, qty: i64, correlation: &str) {
        let Ok(order) = OrderId::parse(order) else {
            return;
        };
        let Some(now) = self.orders.get_mut(&order) else {
            return;
        };
        let mut left = qty;
        for line in now.detail.returns.iter_mut().filter(|l| &l.sku == sku) {
            let take = (line.qty - line.received).min(left);
            if take <= 0 {
                continue;
            }
            line.received += take;
            left -= take;
            self.writes.return_receipts.push(line.clone());
        }
        let state = now.state;
        if now.detail.all_returned() && state.can_move_to(OrderState::Returned) {
            self.advance_order(&AdvanceOrder {
                order_id: order.clone(),
                from: state,
                to: OrderState::Returned,
                actor: "return_received".into(),
                correlation_id: correlation.to_string(),
                erp_order_id: None,
                erp_status: None,
                jobs: vec![],
                fail_job: None,
            });
        }
    }
}
