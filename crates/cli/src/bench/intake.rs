//! Order intake as users meet it: `POST /v1/orders` of one-line orders to a hub on a fresh
//! store, with the saga's runners and the sweepers working beside it as `serve` starts them
//! for the example configuration (fraud screening passed through and allocation done
//! in-house; the ERP is not configured there, so posts to it wait in its queue). Over
//! `--connections` connections, then over one; each beside the same-rows baseline.

use std::time::{Duration, Instant};

use crossdock_engine::Inventory;
use crossdock_store::{AnyStore, Store};

use super::{Args, Row, order_json, post_http};

/// Waits (at most a minute) until the saga's local steps have caught up with the orders
/// taken so far, so one run does not pay for the one before.
pub(super) async fn settle(inv: &Inventory) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let mut left = 0;
        for system in [crossdock_domain::saga::INTERNAL, "fraud"] {
            left += inv.store().backlog(system).await?;
        }
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The HTTP intake rows of one backend, on `store` (fresh), next to `baseline`.
pub(super) async fn rows(
    store: AnyStore,
    args: &Args,
    backend: &str,
    baseline: f64,
) -> anyhow::Result<Vec<Row>> {
    let (hub, shutdown) = super::start_hub(store).await?;
    let (inv, base) = (hub.inventory(), hub.base_url());
    let mut rows = Vec::new();
    let runs = [
        (args.connections, args.http_orders, 2_000_000),
        (1, (args.http_orders / 10).max(1), 3_000_000),
    ];
    for (connections, n, first) in runs {
        settle(inv).await?;
        let label = format!("orders (1 line), HTTP, {backend}, {connections} conn");
        let body = move |i: u64| order_json(first + i, 1);
        let accepted = |a: &serde_json::Value| a["state"] == "accepted";
        let before = inv.stats();
        let mut row =
            post_http(&base, "/v1/orders", n, connections, &label, body, accepted).await?;
        let after = inv.stats();
        row.baseline = Some(baseline);
        let commits = after.batches.saturating_sub(before.batches).max(1);
        row.per_commit =
            Some(after.commands.saturating_sub(before.commands) as f64 / commits as f64);
        rows.push(row);
    }
    shutdown.trigger();
    hub.stopped().await?;
    Ok(rows)
}
