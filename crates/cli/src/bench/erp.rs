//! ERP posting through the job runner against a simulated ERP's rate limit.

use super::*;

/// Posts `n` allocated orders through the job runner to a simulated ERP that refuses
/// anything past `limit` calls a second; returns (posts a second, peak posts in any one
/// second, calls the ERP throttled).
pub(super) async fn erp_posting(
    inv: &Inventory,
    n: u64,
    limit: f64,
) -> anyhow::Result<(f64, u32, u64)> {
    // Taken in on the example estate (no fraud or tax service), each order passes its
    // in-house steps at once: it is allocated, with its ERP posting queued.
    let mut placed = 0u64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let orders: Vec<Command> = chunk
            .iter()
            .map(|i| web_order(1_000_000 + i, 2, inv.estate()))
            .collect();
        let outcomes = inv.submit(orders).await?;
        placed += outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::OrderPlaced(_)))
            .count() as u64;
    }
    let erp = crossdock_sim::SimErp::default();
    // The ERP itself refuses anything past the limit, so a breach would show as throttling.
    erp.set_faults(crossdock_sim::Faults {
        max_per_sec: Some(limit as u32),
        ..crossdock_sim::Faults::default()
    });
    let (url, server) = erp.start().await?;
    let handler =
        crossdock_connectors::Connector::new("erp", &url, Duration::from_secs(2), inv.clone())?;
    let stats = Arc::new(crossdock_engine::runner::RunnerStats::default());
    let stop = Shutdown::new();
    // Configured a hair under the ERP's own limit, as an operator would: arrivals jitter. The
    // burst is the headroom left, so that no second can ever hold more than the limit, and a
    // pause (a lease round trip) is made up afterwards.
    let rate = limit * 0.98;
    let limits = crossdock_engine::runner::SystemLimits {
        rate_per_sec: rate,
        burst: ((limit - rate).floor() as u32).max(1),
        // Each post holds its slot for the call and two commits (the move, the job's end),
        // ~80 ms here with fsync: 16 in flight cap out near 190/s, so allow more.
        concurrency: 48,
        ..Default::default()
    };
    let pb = bar(placed, "ERP posting through the runner");
    let started = Instant::now();
    let task = tokio::spawn(crossdock_engine::runner::run_system(
        inv.store().clone(),
        "erp".into(),
        Arc::new(handler),
        limits,
        stop.clone(),
        stats.clone(),
    ));
    while erp.stats().created < placed && started.elapsed() < Duration::from_secs(600) {
        pb.set_position(erp.stats().created);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    pb.finish_and_clear();
    stop.trigger();
    task.await?;
    server.abort();
    let seen = erp.stats();
    Ok((
        seen.created as f64 / secs,
        seen.peak_per_sec,
        seen.throttled,
    ))
}
