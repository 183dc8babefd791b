//! Backorders in motion: a sweep that offers stock as it arrives to the orders waiting for
//! it, oldest first within each channel, and the handler that, at a channel's horizon, opens
//! `BACKORDER_OVERDUE` for an order with lines still waiting.
//!
//! The sweep reads the waiting orders oldest first and keeps those the channel could now
//! serve (from the in-memory projection, so a sweep with nothing new costs no write): every
//! waiting line on a channel that ships complete, any of them on one that ships what is
//! available. It submits them in that order in one batch: the ledger tries each in turn, so
//! an older order takes the units before a younger one of its channel. A ledger that finds it
//! cannot hold what it needs leaves the order waiting.

use std::collections::BTreeMap;
use std::time::Duration;

use crossdock_domain::ats::channel_figures;
use crossdock_domain::estate::BackorderPolicy;
use crossdock_domain::ledger::{AllocateBackorder, Command, Outcome};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::{Sku, Timestamp};
use crossdock_store::{Job, OrderFilter, StoredOrder};

use crate::inventory::{Inventory, now};
use crate::runner::{Handler, JobResult};
use crate::shutdown::Shutdown;

/// Most waiting orders looked at in one sweep (the oldest).
const SWEEP_LIMIT: i64 = 2_000;

/// Offers arriving stock to backordered orders every `backorder_sweep_ms` until `shutdown`
/// (the composition root starts it beside the inventory service).
pub async fn sweep_loop(inventory: Inventory, shutdown: Shutdown) {
    let every = Duration::from_millis(inventory.config().backorder_sweep_ms.max(10));
    loop {
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match sweep(&inventory).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "backorders reserved as stock came in"),
            Err(e) => tracing::warn!(error = %e, "cannot look at backorders"),
        }
    }
}

/// One sweep; returns how many waiting orders were reserved.
pub async fn sweep(inventory: &Inventory) -> Result<usize, crate::EngineError> {
    let waiting = inventory
        .orders(OrderFilter {
            waiting: true,
            oldest_first: true,
            limit: SWEEP_LIMIT,
            ..OrderFilter::default()
        })
        .await?;
    let t = now();
    let mut offered: BTreeMap<(String, Sku), i64> = BTreeMap::new();
    let mut commands = Vec::new();
    for order in &waiting {
        let lines = waiting_lines(order);
        if !lines.is_empty() && fits(inventory, order, &lines, &mut offered, t) {
            let mut skus: Vec<Sku> = lines.into_iter().map(|(s, _)| s).collect();
            skus.sort();
            skus.dedup();
            commands.push(Command::AllocateBackorder(Box::new(AllocateBackorder {
                order_id: order.id.clone(),
                skus,
                correlation_id: Inventory::new_correlation_id(),
            })));
        }
    }
    if commands.is_empty() {
        return Ok(0);
    }
    let outcomes = inventory.submit(commands).await?;
    Ok(outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::OrderMoved { moved: true, .. }))
        .count())
}

/// The lines of an order that wait for stock (SKU, units): those its stored routing holds
/// nothing for, while the order can still go on.
pub(crate) fn waiting_lines(order: &StoredOrder) -> Vec<(Sku, i64)> {
    if order.state.is_final() {
        return Vec::new();
    }
    order
        .lines
        .iter()
        .filter(|l| l.reservation_id.is_none())
        .map(|l| (l.sku.clone(), l.qty))
        .collect()
}

/// Whether the channel could now serve the order's waiting `lines` (all of them, or on a
/// channel that ships what is available, any), after what this sweep already offered to
/// older orders of the same channel; what it would take counts as offered.
fn fits(
    inventory: &Inventory,
    order: &StoredOrder,
    lines: &[(Sku, i64)],
    offered: &mut BTreeMap<(String, Sku), i64>,
    t: Timestamp,
) -> bool {
    let estate = inventory.estate();
    let Some(channel) = estate.channel(&order.channel) else {
        return false;
    };
    let any = channel.orders.backorders == BackorderPolicy::ShipAvailable;
    let mut taking: BTreeMap<(String, Sku), i64> = BTreeMap::new();
    let mut all = true;
    for (sku, qty) in lines {
        let Ok(state) = inventory.state(sku.as_str()) else {
            all = false;
            continue;
        };
        let key = (order.channel.clone(), sku.clone());
        let now = channel_figures(estate, &state, channel, t).available_now;
        let taken =
            offered.get(&key).copied().unwrap_or(0) + taking.get(&key).copied().unwrap_or(0);
        if now - taken >= *qty {
            *taking.entry(key).or_default() += qty;
        } else {
            all = false;
        }
    }
    let fits = if any { !taking.is_empty() } else { all };
    if fits {
        for (key, qty) in taking {
            *offered.entry(key).or_default() += qty;
        }
    }
    fits
}

/// Runs the job due at a backorder's horizon: an order still waiting then opens
/// `BACKORDER_OVERDUE`; one that moved on (reserved, cancelled) ends the job. Retrying the
/// exception looks again; resolving it closes it, and the order goes on waiting for stock.
pub struct BackorderDue {
    inventory: Inventory,
}

impl BackorderDue {
    /// A handler over `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }
}

impl Handler for BackorderDue {
    async fn run(&self, job: &Job) -> JobResult {
        let Some(id) = &job.order_id else {
            return JobResult::Done;
        };
        let order = self.inventory.order(id).await;
        let waiting = order
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map_or(0, |o| waiting_lines(o).len());
        match order {
            Ok(Some(o)) if waiting > 0 => {
                let channel = self.inventory.estate().channel(&o.channel);
                let days = channel.and_then(|c| c.backorder_horizon_days).unwrap_or(0);
                let lines = waiting;
                tracing::info!(
                    order = %id,
                    channel = o.channel,
                    days,
                    lines,
                    "backorder overdue"
                );
                let what = if o.state == OrderState::Backordered {
                    "has".to_string()
                } else {
                    format!("has {lines} line(s) that have")
                };
                JobResult::Permanent {
                    code: crossdock_domain::ErrorCode::BackorderOverdue,
                    error: format!(
                        "order {id} {what} waited past {}'s backorder horizon of {days} days \
                         for stock",
                        o.channel
                    ),
                }
            }
            Ok(_) => JobResult::Done,
            Err(e) => JobResult::Transient {
                error: e.to_string(),
                retry_after: None,
            },
        }
    }
}
