//! The part of committing a batch both backends share: running the ledger over what was
//! loaded, and turning its result into rows to write.

use std::collections::HashSet;

use crossdock_domain::{OrderId, ReservationId, SkuState};
use std::collections::HashMap;
use std::sync::Arc;

use crossdock_domain::ledger::{
    Finished, InvoiceRow, JsonText, Ledger, NewJob, NewOrder, OrderNow, Outcome, Priors,
    Reservation, ReturnLine, ReturnRow, ShipmentRow,
};

use crate::Batch;
use crate::rows::{ExpectedRow, ReservationRow, StockRow};

/// Rows to write for one batch.
#[derive(Default)]
pub(crate) struct WriteSet {
    pub items: Vec<(String, Option<String>)>,
    pub stock: Vec<StockRow>,
    pub channel_reserved: Vec<(String, String, i64)>,
    pub expected_upsert: Vec<ExpectedRow>,
    pub expected_delete: Vec<(String, String, String)>,
    pub new_reservations: Vec<ReservationRow>,
    pub changed_reservations: Vec<ReservationRow>,
    pub source_events: Vec<(String, String, i64)>,
    /// (type, sku, data)
    pub events: Vec<(&'static str, Option<String>, JsonText)>,
    pub orders: Vec<OrderRow>,
    pub history: Vec<HistoryRow>,
    /// (key, order_id, request_hash, response)
    pub idempotency: Vec<(String, String, String, JsonText)>,
    pub jobs: Vec<JobRow>,
    pub order_updates: Vec<OrderUpdate>,
    /// Per-line routing that changed, at most one per order (the last).
    pub order_lines: Vec<crossdock_domain::ledger::LinesUpdate>,
    pub shipments: Vec<ShipmentRow>,
    pub invoices: Vec<InvoiceRow>,
    pub returns: Vec<ReturnRow>,
    /// Return lines with their new `received`.
    pub return_receipts: Vec<ReturnLine>,
    /// (job id, code, error, remediation): leased jobs a move ends as failed.
    pub failed_jobs: Vec<(String, String, String, &'static str)>,
    /// (order id, code): open exceptions to close as resolved.
    pub outgrown: Vec<(String, &'static str)>,
    /// Prices to set, one per channel and SKU.
    pub prices: Vec<crate::prices::PriceRow>,
}

/// One `orders` row: the order as the ledger took it in, with its body and lines as JSON.
pub(crate) struct OrderRow {
    pub new: Arc<NewOrder>,
    pub body: String,
    pub lines: String,
}

impl OrderRow {
    pub fn id(&self) -> &str {
        self.new.id()
    }

    pub fn channel(&self) -> &str {
        self.new.order().channel.as_str()
    }

    pub fn external_id(&self) -> &str {
        &self.new.order().external_id
    }

    pub fn state(&self) -> &'static str {
        self.new.state.as_str()
    }

    pub fn business_unit(&self) -> Option<&str> {
        self.new.order().business_unit.as_deref()
    }

    pub fn customer_id(&self) -> &str {
        &self.new.order().customer.id
    }

    pub fn reason(&self) -> &str {
        &self.new.reason
    }

    pub fn request_hash(&self) -> &str {
        &self.new.request.request_hash
    }

    pub fn response(&self) -> &str {
        &self.new.response
    }

    pub fn correlation_id(&self) -> &str {
        &self.new.request.correlation_id
    }

    pub fn created_at(&self) -> i64 {
        self.new.created_at.0
    }
}

/// A change to an `orders` row: its state, and what it records of the ERP (kept when `None`).
pub(crate) struct OrderUpdate {
    pub id: String,
    pub state: &'static str,
    pub erp_order_id: Option<String>,
    pub erp_status: Option<String>,
    pub at: i64,
}

/// One `order_history` row.
pub(crate) struct HistoryRow {
    pub order_id: String,
    pub seq: i64,
    pub from_state: Option<&'static str>,
    pub to_state: &'static str,
    pub at: i64,
    pub actor: String,
    pub correlation_id: String,
}

/// One new `jobs` row, ready to run.
pub(crate) struct JobRow {
    pub id: String,
    pub kind: &'static str,
    pub system: &'static str,
    pub order_id: String,
    pub run_at: i64,
    /// When it was first due: written, plus its delay. Hastening a backlog makes a job due
    /// as of this, so the backlog goes out in order and a job meant for later stays there.
    pub created_at: i64,
    /// JSON text.
    pub payload: Option<String>,
    /// The transaction that queued it; a job's id here stands for the transaction that job
    /// carries (the store writes that one).
    pub correlation_id: String,
}

impl JobRow {
    /// The row for `job`, queued by order `order_id` at step `seq` (`None` at intake) at
    /// `now`; due after its delay.
    fn of(job: &NewJob, order_id: &str, seq: Option<i64>, now: i64, correlation_id: &str) -> Self {
        JobRow {
            id: job.id_for(order_id, seq).into(),
            kind: job.kind.as_str(),
            system: job.system(),
            order_id: order_id.to_string(),
            run_at: now.saturating_add(job.delay_ms),
            created_at: now.saturating_add(job.delay_ms),
            payload: job.payload.as_ref().map(|p| p.to_string()),
            correlation_id: correlation_id.to_string(),
        }
    }
}

/// One update per order: an order that moved more than once in a batch (shipped, invoiced
/// and closed by its last parcel; reserved and accepted from backorder) ends in its last
/// state, keeping any ERP id or status a move recorded. PostgreSQL's `UPDATE … FROM` would
/// apply just one of several rows for the same order, and not a chosen one.
fn merge_updates(updates: &mut Vec<OrderUpdate>) {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut merged: Vec<OrderUpdate> = Vec::with_capacity(updates.len());
    for u in updates.drain(..) {
        match at.get(&u.id) {
            Some(&i) => {
                let m = &mut merged[i];
                m.state = u.state;
                m.at = u.at;
                if u.erp_order_id.is_some() {
                    m.erp_order_id = u.erp_order_id;
                }
                if u.erp_status.is_some() {
                    m.erp_status = u.erp_status;
                }
            }
            None => {
                at.insert(u.id.clone(), merged.len());
                merged.push(u);
            }
        }
    }
    *updates = merged;
}

/// The last routing update of each order, in the order first updated (a statement that
/// updates from a list must not name a row twice).
fn last_per_order(
    updates: &[crossdock_domain::ledger::LinesUpdate],
) -> Vec<crossdock_domain::ledger::LinesUpdate> {
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<crossdock_domain::ledger::LinesUpdate> = Vec::with_capacity(updates.len());
    for u in updates {
        match at.get(u.order_id.as_str()) {
            Some(&i) => out[i] = u.clone(),
            None => {
                at.insert(&u.order_id, out.len());
                out.push(u.clone());
            }
        }
    }
    out
}

/// Runs the ledger over a loaded batch.
pub(crate) fn run(
    batch: &Batch,
    states: Vec<SkuState>,
    reservations: Vec<Reservation>,
    seen: HashSet<(String, String)>,
    priors: Priors,
    orders: HashMap<OrderId, OrderNow>,
) -> (Vec<Outcome>, Finished) {
    let mut ledger = Ledger::new(&batch.estate, batch.now, states, reservations, seen)
        .with_priors(priors)
        .with_orders(orders);
    let outcomes = batch.commands.iter().map(|c| ledger.apply(c)).collect();
    (outcomes, ledger.finish())
}

impl WriteSet {
    /// The rows `finished` asks for.
    pub fn of(finished: &Finished, now: i64) -> Self {
        let w = &finished.writes;
        let mut out = WriteSet {
            items: w
                .new_items
                .iter()
                .map(|(s, d)| (s.to_string(), d.clone()))
                .collect(),
            source_events: w
                .source_events
                .iter()
                .map(|(s, id, at)| (s.clone(), id.clone(), at.0))
                .collect(),
            ..Default::default()
        };
        for (sku, location) in &w.stock {
            if let Some(row) = finished.states.get(sku).and_then(|s| s.at(location)) {
                out.stock.push(StockRow::from_state(sku, row));
            }
        }
        for (sku, channel) in &w.channel_reserved {
            let qty = finished
                .states
                .get(sku)
                .map_or(0, |s| s.reserved_by(channel));
            out.channel_reserved
                .push((sku.to_string(), channel.to_string(), qty));
        }
        for (sku, location, po_ref) in &w.expected {
            let found = finished.states.get(sku).and_then(|s| {
                s.expected
                    .iter()
                    .find(|e| &e.location == location && &e.po_ref == po_ref)
            });
            match found {
                Some(e) => out.expected_upsert.push(ExpectedRow {
                    sku: sku.to_string(),
                    location: location.to_string(),
                    po_ref: po_ref.clone(),
                    qty: e.qty,
                    eta: e.eta.0,
                }),
                None => out.expected_delete.push((
                    sku.to_string(),
                    location.to_string(),
                    po_ref.clone(),
                )),
            }
        }
        let new: HashSet<&ReservationId> = w.new_reservations.iter().collect();
        for id in &w.new_reservations {
            out.new_reservations
                .push(ReservationRow::from_domain(&finished.reservations[id]));
        }
        for id in w.changed_reservations.iter().filter(|id| !new.contains(id)) {
            out.changed_reservations
                .push(ReservationRow::from_domain(&finished.reservations[id]));
        }
        for o in &w.new_orders {
            let (id, request) = (o.id(), &o.request);
            out.orders.push(OrderRow {
                new: o.clone(),
                body: to_json(&request.order),
                lines: to_json(&o.lines),
            });
            let mut from = None;
            for (i, (to, actor)) in o.history.iter().enumerate() {
                out.history.push(HistoryRow {
                    order_id: id.to_string(),
                    seq: i as i64 + 1,
                    from_state: from,
                    to_state: to.as_str(),
                    at: o.created_at.0,
                    actor: actor.to_string(),
                    correlation_id: request.correlation_id.clone(),
                });
                from = Some(to.as_str());
            }
            if let Some(key) = &request.idempotency_key {
                out.idempotency.push((
                    key.clone(),
                    id.to_string(),
                    request.request_hash.clone(),
                    o.response.clone(),
                ));
            }
            for job in &o.jobs {
                let corr = &request.correlation_id;
                out.jobs
                    .push(JobRow::of(job, id, None, o.created_at.0, corr));
            }
        }
        for (key, prior) in &w.replay_keys {
            out.idempotency.push((
                key.clone(),
                prior.order_id.to_string(),
                prior.request_hash.clone(),
                prior.response.clone(),
            ));
        }
        for m in &w.order_moves {
            let a = &m.advance;
            for job in &a.jobs {
                let corr = &a.correlation_id;
                out.jobs
                    .push(JobRow::of(job, &a.order_id, Some(m.seq), now, corr));
            }
            if m.changes_row() {
                out.order_updates.push(OrderUpdate {
                    id: a.order_id.to_string(),
                    state: a.to.as_str(),
                    erp_order_id: a.erp_order_id.clone(),
                    erp_status: a.erp_status.clone(),
                    at: now,
                });
            }
            if !m.changes_state() {
                continue;
            }
            out.history.push(HistoryRow {
                order_id: a.order_id.to_string(),
                seq: m.seq,
                from_state: Some(a.from.as_str()),
                to_state: a.to.as_str(),
                at: now,
                actor: a.actor.clone(),
                correlation_id: a.correlation_id.clone(),
            });
        }
        merge_updates(&mut out.order_updates);
        out.order_lines = last_per_order(&w.order_lines);
        out.shipments = w.shipments.clone();
        out.invoices = w.invoices.clone();
        out.returns = w.returns.clone();
        out.return_receipts = w.return_receipts.clone();
        out.prices = crate::prices::last_per_key(&w.prices);
        out.outgrown = (w.outgrown.iter())
            .map(|(order, code)| (order.clone(), code.as_str()))
            .collect();
        out.failed_jobs = w
            .failed_jobs
            .iter()
            .map(|f| {
                let steps = f.code.steps();
                (
                    f.job_id.to_string(),
                    f.code.to_string(),
                    f.error.clone(),
                    steps,
                )
            })
            .collect();
        out.events = w
            .events
            .iter()
            .map(|e| {
                debug_assert!(
                    crossdock_domain::event_types::is_event_type(e.kind),
                    "`{}` is missing from the catalogue of event types",
                    e.kind
                );
                (
                    e.kind,
                    e.sku.as_ref().map(|s| s.to_string()),
                    e.data.clone(),
                )
            })
            .collect();
        out
    }
}

/// Plain data as JSON text.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

/// The states of the SKUs a batch touched, to hand to the projection.
pub(crate) fn touched_states(finished: &Finished) -> Vec<std::sync::Arc<SkuState>> {
    let touched: HashSet<_> = finished
        .writes
        .events
        .iter()
        .filter_map(|e| e.sku.as_ref())
        .collect();
    finished
        .states
        .values()
        .filter(|s| touched.contains(&s.sku))
        .map(|s| std::sync::Arc::new(s.clone()))
        .collect()
}

/// What the store holds of an order, for a batch to see it: one row of the query both
/// backends run (JSON columns already parsed).
pub(crate) struct OrderRowNow {
    pub state: String,
    pub transitions: i64,
    pub body: serde_json::Value,
    /// Units shipped per SKU, a JSON object.
    pub shipped: serde_json::Value,
    /// Amount captured, in millionths.
    pub captured: i64,
    /// Milliseconds, when anything shipped.
    pub last_shipped_at: Option<i64>,
    /// Return lines, a JSON array of `{rma_id, sku, qty, received}`.
    pub returns: serde_json::Value,
    /// The ERP's id, once posted.
    pub erp_order_id: Option<String>,
    /// The invoices recorded, a JSON array of `{invoice_id, amount, currency}`.
    pub invoiced: serde_json::Value,
    /// How many releases the lines go in.
    pub parts: i64,
    /// The per-line routing and its reason, read only while lines wait for stock.
    pub routing: Option<(serde_json::Value, String)>,
}

/// An order's state as a batch sees it.
pub(crate) fn order_now(row: OrderRowNow) -> crate::Result<OrderNow> {
    use crossdock_domain::ledger::OrderDetail;
    use crossdock_domain::money::Money;
    use crossdock_domain::order_state::OrderState;
    let corrupt = |what: String| crate::StoreError::Corrupt(what);
    let state = OrderState::parse(&row.state)
        .ok_or_else(|| corrupt(format!("order state `{}`", row.state)))?;
    let mut detail =
        OrderDetail::from_body(&row.body).ok_or_else(|| corrupt("order body".to_string()))?;
    for (sku, qty) in row.shipped.as_object().into_iter().flatten() {
        let sku = crossdock_domain::Sku::parse(sku)
            .map_err(|_| corrupt(format!("shipped SKU `{sku}`")))?;
        detail.shipped.insert(sku, qty.as_i64().unwrap_or(0));
    }
    detail.captured = Money::from_micros(row.captured);
    detail.last_shipped_at = row.last_shipped_at.map(crossdock_domain::Timestamp);
    detail.erp_order_id = row.erp_order_id;
    for invoice in row.invoiced.as_array().into_iter().flatten() {
        let text = |k: &str| invoice[k].as_str().unwrap_or_default().to_string();
        let amount = Money::parse(&text("amount"))
            .map_err(|_| corrupt(format!("invoice amount `{}`", text("amount"))))?;
        detail.invoiced = detail.invoiced.plus(amount).unwrap_or(detail.invoiced);
        detail.invoices.push(crossdock_domain::ledger::InvoiceSeen {
            invoice_id: text("invoice_id"),
            amount,
            currency: text("currency"),
        });
    }
    if !row.returns.is_null() {
        detail.returns = serde_json::from_value(row.returns)
            .map_err(|e| corrupt(format!("return lines: {e}")))?;
    }
    detail.parts = u32::try_from(row.parts.max(1)).unwrap_or(u32::MAX);
    if let Some((lines, reason)) = row.routing {
        detail.routing = Some(crossdock_domain::ledger::Routing {
            plans: serde_json::from_value(lines)
                .map_err(|e| corrupt(format!("order lines: {e}")))?,
            reason,
        });
    }
    Ok(OrderNow {
        state,
        transitions: row.transitions,
        detail,
    })
}
