//! `crossdock bench`: reservations/s and ATS reads/s, in-process and over HTTP, on SQLite and
//! (when given a server) PostgreSQL, each next to a baseline measured in the same run: raw
//! batched inserts of the same rows (one reservation row and one event row per reservation)
//! with nothing else going on.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossdock_domain::ledger::{Command, Outcome, ReserveRequest};
use crossdock_domain::{ChannelCode, Sku};
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::{Config, Inventory, Shutdown};
use crossdock_http::Hub;
use crossdock_store::{AnyStore, PgStore, SqliteStore};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::report::{percentile_ms, table, thousands};

mod baselines;
mod erp;
mod hooks;
mod intake;
mod load;
mod mapping;
mod workload;

use baselines::{
    order_body, pg_baseline, pg_order_baseline, sqlite_baseline, sqlite_order_baseline,
};
use erp::erp_posting;
pub(crate) use load::client;
use load::{ats_http, post_http, reserve_http};
use workload::{Shape, order_json, reservation, web_order};

/// Options for the benchmark.
#[derive(clap::Args)]
pub struct Args {
    /// Reservations per in-process run.
    #[arg(long, default_value_t = 200_000)]
    reservations: u64,
    /// Orders per in-process intake run.
    #[arg(long, default_value_t = 50_000)]
    orders: u64,
    /// Orders posted to the simulated ERP.
    #[arg(long, default_value_t = 2_000)]
    erp_orders: u64,
    /// The ERP's rate limit, calls a second.
    #[arg(long, default_value_t = 200.0)]
    erp_rate: f64,
    /// Reservations per HTTP run.
    #[arg(long, default_value_t = 30_000)]
    http_reservations: u64,
    /// Orders per HTTP intake run over `--connections` (a tenth of them over one).
    #[arg(long, default_value_t = 20_000)]
    http_orders: u64,
    /// Seconds each read benchmark runs.
    #[arg(long, default_value_t = 5)]
    secs: u64,
    /// Concurrent callers.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// HTTP connections for the over-HTTP runs.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// PostgreSQL server to measure too (a fresh schema is used and dropped).
    #[arg(long, env = "CROSSDOCK_BENCH_PG_URL")]
    pg: Option<String>,
    /// Directory for the SQLite files.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
    /// Run only these parts (comma-separated); every part but `wal` when not given.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Part>,
    /// Seconds of each phase of the WAL benchmark.
    #[arg(long, default_value_t = 600)]
    wal_secs: u64,
}

/// A part of the benchmark, for `--only`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// Reservations in-process, with their baseline.
    Reservations,
    /// Order intake in-process, with its same-rows baseline.
    Orders,
    /// ATS reads, in-process and over HTTP.
    Reads,
    /// Reservations over HTTP.
    Http,
    /// Order intake over HTTP with the saga's runners working, on a fresh store, over
    /// `--connections` connections and over one.
    Intake,
    /// Posting to the simulated ERP.
    Erp,
    /// jq mappings, each pack's own on the input the hub gives it, in-process, beside the
    /// JSON round trip they make.
    Mapping,
    /// Shopify order webhooks (signed) over HTTP, beside plain `POST /v1/orders` of the
    /// same orders, on a fresh store.
    Hooks,
    /// SQLite's WAL under a long mixed load (`--wal-secs` each, twice); only when named.
    Wal,
}

impl Args {
    fn runs(&self, part: Part) -> bool {
        (self.only.is_empty() && part != Part::Wal) || self.only.contains(&part)
    }

    fn runs_any(&self, parts: &[Part]) -> bool {
        parts.iter().any(|p| self.runs(*p))
    }
}

/// Baselines measured on a backend before its runs, in rows (or orders) a second.
#[derive(Default)]
struct Baselines {
    reservations: Option<f64>,
    orders: Option<f64>,
}

/// The parts that run on every backend: reservations and order intake in-process, ATS reads
/// (on SQLite; they read memory, whatever the store), and reservations over HTTP.
async fn backend_rows(
    hub: &Hub,
    args: &Args,
    backend: &str,
    baselines: Baselines,
) -> anyhow::Result<Vec<Row>> {
    let (inv, base) = (hub.inventory(), hub.base_url());
    let mut rows = Vec::new();
    if let (true, Some(b)) = (args.runs(Part::Reservations), baselines.reservations) {
        rows.extend(reservation_rows(inv, args, backend, b).await?);
    }
    if let Some(b) = baselines.orders {
        rows.push(intake_row(inv, args, backend, b).await?);
    }
    if backend == "SQLite" && args.secs > 0 && args.runs(Part::Reads) {
        rows.push(ats_in_process(inv, args.secs).await);
        rows.push(ats_http(&base, args.connections, args.secs).await?);
    }
    if args.runs(Part::Http) {
        let label = format!("reservations, HTTP, {backend}");
        let mut row = reserve_http(&base, args.http_reservations, args.connections, &label).await?;
        row.baseline = baselines.reservations;
        rows.push(row);
    }
    Ok(rows)
}

const SKUS: usize = 1_000;

struct Row {
    name: String,
    ops: u64,
    secs: f64,
    baseline: Option<f64>,
    latency: Option<(f64, f64)>,
    /// Commands the store committed per transaction during the run, where it was counted.
    per_commit: Option<f64>,
}

impl Row {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.secs
    }
}

fn sku(i: usize) -> Sku {
    Sku::parse(format!("B-{i:05}")).expect("valid sku")
}

/// The hub on `store`, as `serve` runs it (the example configuration, its runners beside),
/// on a free port, with 1,000 SKUs in deep stock.
pub(crate) async fn start_hub(store: AnyStore) -> anyhow::Result<(Hub, Shutdown)> {
    start_hub_with(&Config::parse(EXAMPLE)?, store).await
}

/// [`start_hub`] with `config` in place of the example.
pub(crate) async fn start_hub_with(
    config: &Config,
    store: AnyStore,
) -> anyhow::Result<(Hub, Shutdown)> {
    load::admit(&store).await?;
    let shutdown = Shutdown::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hub = crossdock_http::run_with_store(config, store, listener, shutdown.clone()).await?;
    let inv = hub.inventory();
    // 1,000 SKUs with deep stock everywhere, so every reservation succeeds.
    let items = (0..SKUS)
        .map(|i| Command::UpsertItem {
            sku: sku(i),
            description: None,
        })
        .collect();
    inv.submit(items).await?;
    let mut events = Vec::new();
    for i in 0..SKUS {
        for loc in ["east", "west"] {
            events.push(
                json!({"source": "bench", "source_event_id": format!("{i}-{loc}"),
                "occurred_at": "2026-01-01T00:00:00Z", "sku": sku(i).as_str(), "location": loc,
                "kind": "receipt", "qty": 10_000_000}),
            );
        }
    }
    let parsed = events
        .into_iter()
        .map(|e| crossdock_domain::stock_events::parse_event(e, inv.estate()).map(Command::Stock))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|(c, d)| anyhow::anyhow!("{c}: {d}"))?;
    inv.submit(parsed).await?;
    Ok((hub, shutdown))
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what:<34} [{{bar:30}}] {{pos}}/{{len}} {{per_sec}}"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// Commits `n` commands made by `make` (one per request) from `concurrency` tasks,
/// in-process, and fails on any that is not taken.
async fn commit_in_process(
    inv: &Inventory,
    n: u64,
    concurrency: usize,
    label: &str,
    make: impl Fn(u64, &Inventory) -> Command + Send + Sync + 'static,
) -> anyhow::Result<Row> {
    let make = Arc::new(make);
    let next = Arc::new(AtomicU64::new(0));
    let pb = bar(n, label);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (inv, next, pb, make) = (inv.clone(), next.clone(), pb.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                match inv.submit_one(make(i, &inv)).await? {
                    Outcome::Reserved(_) => {}
                    // Accepted at intake (and maybe allocated in the same commit).
                    Outcome::OrderPlaced(o)
                        if o.history.first().map(|h| h.0)
                            == Some(crossdock_domain::order_state::OrderState::Accepted) => {}
                    other => anyhow::bail!("refused: {other:?}"),
                }
                if i % 1024 == 0 {
                    pb.set_position(i);
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    Ok(Row {
        name: label.into(),
        ops: n,
        secs,
        baseline: None,
        latency: None,
        per_commit: None,
    })
}

/// ATS lookups from memory on every core for `secs`.
async fn ats_in_process(inv: &Inventory, secs: u64) -> Row {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut handles = Vec::new();
    let start = Instant::now();
    for t in 0..threads {
        let inv = inv.clone();
        handles.push(std::thread::spawn(move || {
            let names: Vec<String> = (0..SKUS).map(|i| sku(i).to_string()).collect();
            let mut n = 0u64;
            let mut i = t;
            while Instant::now() < deadline {
                for _ in 0..256 {
                    let a = inv
                        .availability(&names[i % SKUS], "web")
                        .expect("known sku");
                    std::hint::black_box(a);
                    i += 1;
                    n += 1;
                }
            }
            n
        }));
    }
    let ops = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    Row {
        name: "ATS reads, in-process".into(),
        ops,
        secs: start.elapsed().as_secs_f64(),
        baseline: None,
        latency: None,
        per_commit: None,
    }
}

/// Durable intake of two-line orders, in-process, next to `baseline` (orders a second).
async fn intake_row(
    inv: &Inventory,
    args: &Args,
    backend: &str,
    baseline: f64,
) -> anyhow::Result<Row> {
    let label = format!("orders (2 lines), in-process, {backend}");
    let mut row = commit_in_process(inv, args.orders, args.concurrency, &label, |i, inv| {
        web_order(i, 2, inv.estate())
    })
    .await?;
    row.baseline = Some(baseline);
    Ok(row)
}

/// In-process reservations on one backend, spread evenly and shaped like a flash sale.
async fn reservation_rows(
    inv: &Inventory,
    args: &Args,
    backend: &str,
    baseline: f64,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (shape, label) in [
        (Shape::Even, format!("reservations, in-process, {backend}")),
        (
            Shape::FlashSale,
            "  same, flash sale (80% on 10 SKUs)".to_string(),
        ),
    ] {
        let mut row = commit_in_process(
            inv,
            args.reservations,
            args.concurrency,
            &label,
            move |i, _| reservation(i, shape),
        )
        .await?;
        row.baseline = Some(baseline);
        rows.push(row);
    }
    Ok(rows)
}

/// Runs every benchmark and prints the figures.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "crossdock bench: {cores} cores, {} SKUs, {} callers",
        SKUS, args.concurrency
    );
    if args.only == [Part::Wal] {
        return crate::wal_bench::run(&args.dir, args.wal_secs).await;
    }
    let mut rows = Vec::new();
    if args.runs(Part::Mapping) {
        rows.extend(mapping::mapping_rows(20_000)?);
    }

    // SQLite.
    let path = args
        .dir
        .join(format!("crossdock-bench-{}.db", std::process::id()));
    crossdock_store::sqlite::remove_files(&path);
    let store = AnyStore::Sqlite(SqliteStore::open(&path).await.context("open sqlite")?);
    let (hub, shutdown) = start_hub(store).await?;
    let inv = hub.inventory().clone();
    let baselines = Baselines {
        reservations: args
            .runs_any(&[Part::Reservations, Part::Http])
            .then(|| sqlite_baseline(&args.dir, args.reservations))
            .transpose()?,
        orders: args
            .runs(Part::Orders)
            .then(|| {
                sqlite_order_baseline(&args.dir, args.orders, 2, &order_body(inv.estate(), 2)?)
            })
            .transpose()?,
    };
    rows.extend(backend_rows(&hub, &args, "SQLite", baselines).await?);
    let mut erp_line = None;
    if args.runs(Part::Erp) {
        let limit = args.erp_rate;
        let (rate, peak, throttled) = erp_posting(&inv, args.erp_orders, limit).await?;
        erp_line = Some(format!(
            "ERP posting: {} orders at {rate:.0}/s against a limit of {limit:.0}/s ({:.1} % used), \
             busiest second {peak}, throttled by the ERP {throttled}",
            args.erp_orders,
            100.0 * rate / limit
        ));
    }
    shutdown.trigger();
    drop(inv);
    hub.stopped().await?;
    crossdock_store::sqlite::released(&path, Duration::from_secs(30)).await;
    crossdock_store::sqlite::remove_files(&path);
    let one_line = order_body(&Config::parse(EXAMPLE)?.estate()?, 1)?;
    if args.runs(Part::Intake) {
        let path = args
            .dir
            .join(format!("crossdock-bench-intake-{}.db", std::process::id()));
        crossdock_store::sqlite::remove_files(&path);
        let baseline = sqlite_order_baseline(&args.dir, args.http_orders, 1, &one_line)?;
        let store = AnyStore::Sqlite(SqliteStore::open(&path).await.context("open sqlite")?);
        rows.extend(intake::rows(store, &args, "SQLite", baseline).await?);
        crossdock_store::sqlite::released(&path, Duration::from_secs(30)).await;
        crossdock_store::sqlite::remove_files(&path);
    }
    if args.runs(Part::Hooks) {
        let path = args
            .dir
            .join(format!("crossdock-bench-hooks-{}.db", std::process::id()));
        crossdock_store::sqlite::remove_files(&path);
        let store = AnyStore::Sqlite(SqliteStore::open(&path).await.context("open sqlite")?);
        rows.extend(hooks::rows(store, &args, "SQLite").await?);
        crossdock_store::sqlite::released(&path, Duration::from_secs(30)).await;
        crossdock_store::sqlite::remove_files(&path);
    }

    // PostgreSQL.
    if let Some(url) = &args.pg {
        let schema = format!("bench_{}", std::process::id());
        let pg = PgStore::connect_in_schema(url, &schema, 16)
            .await
            .context("connect to PostgreSQL")?;
        let (hub, shutdown) = start_hub(AnyStore::Postgres(pg.clone())).await?;
        let mut baselines = Baselines::default();
        if args.runs_any(&[Part::Reservations, Part::Http]) {
            baselines.reservations = Some(pg_baseline(&pg, args.reservations).await?);
        }
        if args.runs(Part::Orders) {
            let body = order_body(hub.inventory().estate(), 2)?;
            baselines.orders = Some(pg_order_baseline(&pg, args.orders, 2, &body).await?);
        }
        rows.extend(backend_rows(&hub, &args, "PostgreSQL", baselines).await?);
        shutdown.trigger();
        hub.stopped().await?;
        let drop_schema = format!("DROP SCHEMA \"{schema}\" CASCADE");
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop_schema))
            .execute(pg.pool())
            .await?;
        if args.runs(Part::Intake) {
            let schema = format!("bench_intake_{}", std::process::id());
            let pg = PgStore::connect_in_schema(url, &schema, 16)
                .await
                .context("connect to PostgreSQL")?;
            let baseline = pg_order_baseline(&pg, args.http_orders, 1, &one_line).await?;
            let store = AnyStore::Postgres(pg.clone());
            rows.extend(intake::rows(store, &args, "PostgreSQL", baseline).await?);
            let drop_schema = format!("DROP SCHEMA \"{schema}\" CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop_schema))
                .execute(pg.pool())
                .await?;
        }
        if args.runs(Part::Hooks) {
            let schema = format!("bench_hooks_{}", std::process::id());
            let pg = PgStore::connect_in_schema(url, &schema, 16)
                .await
                .context("connect to PostgreSQL")?;
            rows.extend(hooks::rows(AnyStore::Postgres(pg.clone()), &args, "PostgreSQL").await?);
            let drop_schema = format!("DROP SCHEMA \"{schema}\" CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop_schema))
                .execute(pg.pool())
                .await?;
        }
    } else {
        println!("PostgreSQL: skipped (pass --pg URL or set CROSSDOCK_BENCH_PG_URL)");
    }

    let printed: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                thousands(r.ops as f64),
                format!("{:.2}", r.secs),
                thousands(r.rate()),
                r.baseline.map_or("-".into(), thousands),
                r.baseline
                    .map_or("-".into(), |b| format!("{:.2}", r.rate() / b)),
                r.latency.map_or("-".into(), |l| format!("{:.2}", l.0)),
                r.latency.map_or("-".into(), |l| format!("{:.2}", l.1)),
            ]
        })
        .collect();
    println!(
        "{}",
        table(
            &[
                "benchmark",
                "ops",
                "secs",
                "ops/s",
                "baseline rows/s",
                "ratio",
                "p50 ms",
                "p99 ms"
            ],
            printed
        )
    );
    if let Some(line) = erp_line {
        println!("{line}");
    }
    let batching: Vec<String> = rows
        .iter()
        .filter_map(|r| r.per_commit.map(|n| format!("{} {n:.1}", r.name)))
        .collect();
    if !batching.is_empty() {
        println!(
            "commands per commit (group commit): {}",
            batching.join("; ")
        );
    }
    println!(
        "baselines, same database, same run, 1,000 to a transaction: for reservations, raw \
         inserts of one reservation row and one event row each; for orders, raw statements \
         of the rows the same order writes at intake; for mappings, the JSON round trip \
         (print and parse) of the same orders; for webhooks, plain POST /v1/orders of the \
         same orders to the same hub"
    );
    if args.runs(Part::Wal) {
        crate::wal_bench::run(&args.dir, args.wal_secs).await?;
    }
    Ok(())
}
