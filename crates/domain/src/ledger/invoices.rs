//! Invoices from the ERP: each taken once by its number (the same number with another amount
//! or currency is a conflict, another currency than the order's is refused), kept with the
//! order, and pushed to the channel. A shipped order whose invoices come to its value (goods
//! and tax, within its channel's tolerance) is invoiced and closes; one whose invoices do not
//! waits as `PRICE_MISMATCH`, an exception a person retries (compare again) or resolves
//! (accept the invoices as they are).

use serde_json::json;

use super::{
    AdvanceOrder, FailedJob, InvoiceRow, InvoiceSeen, Ledger, NewEvent, NewJob, OrderDetail,
    Outcome, RecordInvoice, json_text,
};
use crate::error::ErrorCode;
use crate::ids::OrderId;
use crate::job::JobKind;
use crate::order_state::OrderState;

/// A request to compare a shipped order's invoices with its value again.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchInvoices {
    /// The order.
    pub order_id: OrderId,
    /// Accept the invoices as they are (an operator resolved the mismatch).
    pub approved: bool,
    /// Who asks (the job).
    pub actor: String,
    /// Correlation id recorded with the move.
    pub correlation_id: String,
}

fn rejected(code: ErrorCode, detail: String) -> Outcome {
    Outcome::Rejected { code, detail }
}

impl Ledger<'_> {
    /// For a shipped order whose invoices do not come to its value within its channel's
    /// tolerance: the `match_invoice` job to queue and the failure that opens its
    /// `PRICE_MISMATCH` exception, in the same move.
    pub(super) fn price_mismatch(
        &self,
        order_id: &str,
        detail: &OrderDetail,
    ) -> Option<(NewJob, FailedJob)> {
        let tolerance = self
            .estate
            .channel(&detail.channel)
            .map_or_else(Default::default, |c| c.orders.invoice_tolerance);
        if detail.invoices_match(tolerance) {
            return None;
        }
        let job = NewJob::new(JobKind::MatchInvoice).keyed(
            format!("{}", detail.invoices.len()),
            json!({"invoiced": detail.invoiced.to_string(), "value": detail.value().to_string()}),
        );
        // A move that keeps the state records its jobs at the order's last step.
        let seq = self.orders.get(order_id).map_or(0, |o| o.transitions);
        let failed = FailedJob {
            job_id: job.id_for(order_id, Some(seq)),
            code: ErrorCode::PriceMismatch,
            error: format!(
                "invoices for order {order_id} come to {} {} but the order is worth {} (goods \
                 {}, {}), beyond the tolerance of {tolerance}",
                detail.invoiced,
                detail.currency,
                detail.value(),
                detail.goods_value(),
                detail
                    .tax
                    .map_or_else(|| "tax left to the ERP".to_string(), |t| format!("tax {t}"))
            ),
        };
        Some((job, failed))
    }

    pub(super) fn record_invoice(&mut self, i: &RecordInvoice) -> Outcome {
        let Some(now) = self.orders.get(&i.order_id).cloned() else {
            return rejected(
                ErrorCode::OrderNotFound,
                format!("no order `{}`", i.order_id),
            );
        };
        let key = i.key();
        if let Some(seen) = now
            .detail
            .invoices
            .iter()
            .find(|v| v.invoice_id == i.invoice_id)
        {
            if seen.amount == i.amount && seen.currency == i.currency {
                return Outcome::Duplicate;
            }
            return rejected(
                ErrorCode::InvoiceConflict,
                format!(
                    "invoice `{}` was recorded for {} {}; this delivery says {} {}",
                    i.invoice_id, seen.amount, seen.currency, i.amount, i.currency
                ),
            );
        }
        if self.seen.contains(&key) {
            return rejected(
                ErrorCode::InvoiceConflict,
                format!("invoice `{}` is recorded on another order", i.invoice_id),
            );
        }
        if i.currency != now.detail.currency {
            return rejected(
                ErrorCode::CurrencyMismatch,
                format!(
                    "invoice `{}` is in {}; order `{}` is in {}",
                    i.invoice_id, i.currency, i.order_id, now.detail.currency
                ),
            );
        }
        let to = match now.state {
            OrderState::Shipped => OrderState::Invoiced,
            OrderState::PartiallyShipped | OrderState::Invoiced => now.state,
            other => {
                return rejected(
                    ErrorCode::OrderStateConflict,
                    format!(
                        "order `{}` is {}; invoices are taken once it has shipped",
                        i.order_id,
                        other.as_str()
                    ),
                );
            }
        };
        self.seen.insert(key.clone());
        self.writes.source_events.push((key.0, key.1, self.now));
        if let Some(o) = self.orders.get_mut(&i.order_id) {
            o.detail.invoiced = o
                .detail
                .invoiced
                .plus(i.amount)
                .unwrap_or(o.detail.invoiced);
            o.detail.invoices.push(InvoiceSeen {
                invoice_id: i.invoice_id.clone(),
                amount: i.amount,
                currency: i.currency.clone(),
            });
        }
        self.writes.invoices.push(InvoiceRow {
            order_id: i.order_id.clone(),
            invoice_id: i.invoice_id.clone(),
            amount: i.amount,
            currency: i.currency.clone(),
        });
        let invoice = json!({"invoice_id": i.invoice_id, "amount": i.amount.to_string(),
                             "currency": i.currency});
        self.writes.events.push(NewEvent {
            kind: "invoice.recorded",
            sku: None,
            data: json_text(&json!({"order_id": i.order_id, "invoice": invoice})),
        });
        let push = NewJob::new(JobKind::PushInvoice).keyed(&i.invoice_id, invoice);
        let mut advance = AdvanceOrder {
            order_id: i.order_id.clone(),
            from: now.state,
            to,
            actor: "invoice:erp".into(),
            correlation_id: i.correlation_id.clone(),
            erp_order_id: None,
            erp_status: None,
            jobs: vec![push],
            fail_job: None,
        };
        if now.state == OrderState::Shipped {
            let detail = &self.orders[&i.order_id].detail;
            if let Some((job, failed)) = self.price_mismatch(&i.order_id, detail) {
                // The invoice is kept (it is the ERP's) and reaches the channel; the order
                // waits for a person.
                let detail = failed.error.clone();
                advance.to = OrderState::Shipped;
                advance.jobs.push(job);
                advance.fail_job = Some(failed);
                self.advance_order(&advance);
                return Outcome::PriceMismatch { detail };
            }
            // Matched now (a corrected invoice came): an earlier mismatch is settled.
            self.writes
                .outgrown
                .push((i.order_id.to_string(), ErrorCode::PriceMismatch));
        }
        self.advance_order(&advance)
    }

    /// Compares a shipped order's invoices with its value again (`approved`: accepts them as
    /// they are): when they match, the order is invoiced and closes (its invoices were pushed
    /// as they came); otherwise it goes on waiting.
    pub(super) fn match_invoices(&mut self, m: &MatchInvoices) -> Outcome {
        let Some(now) = self.orders.get(&m.order_id) else {
            return rejected(
                ErrorCode::OrderNotFound,
                format!("no order `{}`", m.order_id),
            );
        };
        if now.state != OrderState::Shipped {
            return Outcome::OrderMoved {
                moved: false,
                state: now.state,
            };
        }
        if !m.approved
            && let Some((_, failed)) = self.price_mismatch(&m.order_id, &now.detail)
        {
            return Outcome::PriceMismatch {
                detail: failed.error,
            };
        }
        self.writes
            .outgrown
            .push((m.order_id.to_string(), ErrorCode::PriceMismatch));
        let mut advance = AdvanceOrder {
            order_id: m.order_id.clone(),
            from: OrderState::Shipped,
            to: OrderState::Invoiced,
            actor: m.actor.clone(),
            correlation_id: m.correlation_id.clone(),
            erp_order_id: None,
            erp_status: None,
            jobs: vec![],
            fail_job: None,
        };
        self.advance_order(&advance);
        (advance.from, advance.to) = (OrderState::Invoiced, OrderState::Closed);
        self.advance_order(&advance)
    }
}
