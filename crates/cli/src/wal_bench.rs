//! `crossdock bench --only wal`: SQLite's write-ahead log under a sustained mixed load over
//! HTTP (16 connections posting orders, 8 reading availability, the saga's runners and the
//! sweepers working beside them), sampled every second: once as the store runs, and once
//! with checkpoints that never make the WAL start over (as before it was bounded), for the
//! intake rate the bound costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossdock_store::{AnyStore, SqliteStore};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::report::{bytes, table, thousands};
use crossdock_store::sqlite::wal_size;

/// What one phase measured.
pub struct WalRun {
    /// Phase name.
    pub name: &'static str,
    /// Orders taken a second.
    pub orders_per_sec: f64,
    /// Availability reads a second.
    pub reads_per_sec: f64,
    /// Largest WAL seen.
    pub max_wal: u64,
    /// The WAL at the end of the load, before the stop.
    pub end_wal: u64,
    /// The database file at the end.
    pub db: u64,
}

/// Runs one phase of `secs` seconds on a fresh file in `dir`, the WAL made to start over past
/// `target` bytes.
async fn phase(
    dir: &std::path::Path,
    name: &'static str,
    target: u64,
    secs: u64,
) -> anyhow::Result<WalRun> {
    let path = dir.join(format!("crossdock-bench-wal-{}.db", std::process::id()));
    crossdock_store::sqlite::remove_files(&path);
    let store = SqliteStore::open_with_wal_target(&path, target)
        .await
        .context("open sqlite")?;
    let (hub, shutdown) = crate::bench::start_hub(AnyStore::Sqlite(store)).await?;
    let base = hub.base_url();
    let client = crate::bench::client(64)?;
    let stop = Arc::new(AtomicBool::new(false));
    let (orders, reads) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for w in 0..16u64 {
        let (client, base, stop, orders) =
            (client.clone(), base.clone(), stop.clone(), orders.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let sku = format!("B-{:05}", (w * 7919 + i * 104_729) % 1_000);
                let body = json!({"channel": "b2b", "external_id": format!("W{w}-{i}"),
                    "customer": {"id": "C-1", "email": "buyer@example.com"}, "currency": "USD",
                    "lines": [{"sku": sku, "qty": 1, "unit_price": "9.99"}],
                    "ship_to": {"name": "A", "line1": "1 Dock Rd", "city": "Newark",
                                "postal_code": "07105", "country": "US"}});
                let ok = client
                    .post(format!("{base}/v1/orders"))
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    orders.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
        }));
    }
    for r in 0..8u64 {
        let (client, base, stop, reads) =
            (client.clone(), base.clone(), stop.clone(), reads.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                let url = format!("{base}/v1/availability/B-{:05}?channel=web", i % 1_000);
                if client
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    reads.fetch_add(1, Ordering::Relaxed);
                }
                i += 8;
            }
        }));
    }
    let probe = client
        .get(format!("{base}/v1/availability/B-00001?channel=web"))
        .send()
        .await;
    match probe {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => anyhow::bail!("the hub answered {}: {}", r.status(), r.text().await?),
        Err(e) => anyhow::bail!("cannot reach the hub: {e}"),
    }
    let bar = ProgressBar::new(secs);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} WAL, {prefix} [{bar:40}] {pos}/{len} s {msg}",
    )?);
    bar.set_prefix(name);
    let started = Instant::now();
    let mut max_wal = 0;
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let wal = wal_size(&path);
        max_wal = max_wal.max(wal);
        bar.set_position(started.elapsed().as_secs());
        bar.set_message(format!(
            "WAL {} (most {}), {} orders",
            bytes(wal),
            bytes(max_wal),
            thousands(orders.load(Ordering::Relaxed) as f64)
        ));
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    bar.finish_and_clear();
    let end_wal = wal_size(&path);
    let db = std::fs::metadata(&path).map_or(0, |m| m.len());
    shutdown.trigger();
    hub.stopped().await?;
    crossdock_store::sqlite::remove_files(&path);
    Ok(WalRun {
        name,
        orders_per_sec: orders.load(Ordering::Relaxed) as f64 / elapsed,
        reads_per_sec: reads.load(Ordering::Relaxed) as f64 / elapsed,
        max_wal: max_wal.max(end_wal),
        end_wal,
        db,
    })
}

/// Both phases, `secs` each, and their table.
pub async fn run(dir: &std::path::Path, secs: u64) -> anyhow::Result<()> {
    let bounded = phase(dir, "bounded", 64 << 20, secs).await?;
    let unbounded = phase(dir, "passive only", u64::MAX, secs).await?;
    let rows = [&bounded, &unbounded]
        .iter()
        .map(|r| {
            vec![
                r.name.to_string(),
                thousands(r.orders_per_sec),
                thousands(r.reads_per_sec),
                bytes(r.max_wal),
                bytes(r.end_wal),
                bytes(r.db),
            ]
        })
        .collect();
    println!(
        "SQLite WAL under {secs} s of mixed load over HTTP (16 connections posting orders, 8 reading availability, the saga's runners beside them):"
    );
    println!(
        "{}",
        table(
            &[
                "WAL",
                "orders/s",
                "reads/s",
                "largest WAL",
                "WAL at the end",
                "database"
            ],
            rows
        )
    );
    println!(
        "intake with the WAL bounded runs at {:.2}x the rate without the bound",
        bounded.orders_per_sec / unbounded.orders_per_sec.max(1.0)
    );
    Ok(())
}
