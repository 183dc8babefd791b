//! Backorders in motion: a sweep that offers stock as it arrives to the orders waiting for
//! it, oldest first within each channel, and the handler that, at a channel's horizon, opens
//! `BACKORDER_OVERDUE` for an order still waiting.
//!
//! The sweep reads the waiting orders oldest first, keeps those whose every line the
//! channel could now promise (from the in-memory projection, so a sweep with nothing new
//! costs no write), and submits them in that order in one batch: the ledger tries each in
//! turn, so an older order takes the units before a younger one of its channel. A ledger that
//! finds it cannot hold every line leaves the order waiting.

use std::collections::BTreeMap;
use std::time::Duration;

use crossdock_domain::ats::channel_figures;
use crossdock_domain::ledger::{AllocateBackorder, Command, Outcome};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::{Sku, Timestamp};
use crossdock_store::{Job, OrderFilter, StoredOrder};

use crate::inventory::{Inventory, now};
use crate::runner::{Handler, JobResult};
use crate::shutdown::Shutdown;

/// Most waiting orders looked at in one sweep (the oldest).
const SWEEP_LIMIT: i64 = 2_000;

/// Offers arriving stock to backordered orders until `shutdown`.
pub(crate) async fn sweep_loop(inventory: Inventory, shutdown: Shutdown) {
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
            state: Some(OrderState::Backordered.as_str().to_string()),
            oldest_first: true,
            limit: SWEEP_LIMIT,
            ..OrderFilter::default()
        })
        .await?;
    let t = now();
    let mut offered: BTreeMap<(String, Sku), i64> = BTreeMap::new();
    let mut commands = Vec::new();
    for order in &waiting {
        let Some(lines) = wanted(order) else { continue };
        if fits(inventory, order, &lines, &mut offered, t) {
            commands.push(Command::AllocateBackorder(Box::new(AllocateBackorder {
                order_id: order.id.clone(),
                skus: lines.keys().cloned().collect(),
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

/// Units per SKU over an order's lines, from the stored canonical order.
fn wanted(order: &StoredOrder) -> Option<BTreeMap<Sku, i64>> {
    let mut lines = BTreeMap::new();
    for l in order.order["lines"].as_array()? {
        let sku = Sku::parse(l["sku"].as_str()?).ok()?;
        *lines.entry(sku).or_default() += l["qty"].as_i64()?;
    }
    Some(lines)
}

/// Whether the channel could promise every line now, after what this sweep already offered
/// to older orders of the same channel.
fn fits(
    inventory: &Inventory,
    order: &StoredOrder,
    lines: &BTreeMap<Sku, i64>,
    offered: &mut BTreeMap<(String, Sku), i64>,
    t: Timestamp,
) -> bool {
    let estate = inventory.estate();
    let Some(channel) = estate.channel(&order.channel) else {
        return false;
    };
    let fits = lines.iter().all(|(sku, qty)| {
        let Ok(state) = inventory.state(sku.as_str()) else {
            return false;
        };
        let now = channel_figures(estate, &state, channel, t).available_now;
        let taken = offered
            .get(&(order.channel.clone(), sku.clone()))
            .copied()
            .unwrap_or(0);
        now - taken >= *qty
    });
    if fits {
        for (sku, qty) in lines {
            *offered
                .entry((order.channel.clone(), sku.clone()))
                .or_default() += qty;
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
        match self.inventory.order(id).await {
            Ok(Some(o)) if o.state == OrderState::Backordered.as_str() => {
                let channel = self.inventory.estate().channel(&o.channel);
                let days = channel.and_then(|c| c.backorder_horizon_days).unwrap_or(0);
                tracing::info!(order = id, channel = o.channel, days, "backorder overdue");
                JobResult::Permanent {
                    code: "BACKORDER_OVERDUE",
                    error: format!(
                        "order {id} has waited past {}'s backorder horizon of {days} days \
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
