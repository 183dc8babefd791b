//! `crossdock demo`: a flash sale on the example estate, over HTTP, on a fresh embedded store,
//! with a simulated ERP.
//!
//! First, carts: three channels' shoppers race for scarce stock (SKU-HOT has 37 units), the
//! warehouse resends every stock event (duplicate webhooks), some carts are abandoned and
//! released, some lapse on their own. Then checkout: orders over `POST /v1/orders`, one in
//! twenty delivered twice, and the ERP down for a while in the middle (see `checkout`). Then
//! stock arrives and the backorders move on their own (see `restock`). Then fulfilment: the
//! warehouse ships, the ERP invoices, orders close (see `fulfil`). At the end
//! the ledger is checked (no location promised more than it could sell), so is the ERP (one
//! sales order per accepted order), and so is the money (captured = authorised).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::{Config, Shutdown};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::report::{Rng, bytes, table, thousands};
use crossdock_store::sqlite::wal_size;

/// Options for the demo.
#[derive(clap::Args)]
pub struct Args {
    /// SQLite file to create; replaced if it exists.
    #[arg(long, default_value = "crossdock-demo.db")]
    db: PathBuf,
    /// Shoppers on the web store; the marketplace gets half as many, the B2B portal a fifth.
    #[arg(long, default_value_t = 1000)]
    shoppers: usize,
    /// Orders placed at checkout.
    #[arg(long, default_value_t = 2000)]
    orders: usize,
    /// Orders a second at checkout (the flash sale's pace).
    #[arg(long, default_value_t = 150.0)]
    order_rate: f64,
    /// Seconds the ERP is down in the middle of checkout.
    #[arg(long, default_value_t = 10)]
    outage_secs: u64,
    /// Orders from each of the Shopify shop and the Adobe Commerce store in the last act.
    #[arg(long, default_value_t = 200)]
    estate_orders: usize,
    /// Seed for the simulated traffic.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// The scarce SKU everyone races for.
pub const HOT: &str = "SKU-HOT";
const HOT_UNITS: i64 = 37;
const CHANNELS: [&str; 3] = ["web", "marketplace", "b2b"];

#[derive(Default)]
struct Tally {
    attempts: AtomicU64,
    reserved_units: AtomicU64,
    reservations: AtomicU64,
    refused: AtomicU64,
    released: AtomicU64,
    errors: AtomicU64,
}

/// The catalogue: SKU-HOT plus 19 SKUs with stock spread over the estate.
fn seed_events(rng: &mut Rng) -> (Vec<Value>, Vec<String>) {
    let mut skus = vec![HOT.to_string()];
    let at = "2026-11-27T06:00:00Z";
    let snap = |id: String, sku: &str, loc: &str, on_hand: i64| {
        json!({"source": "erp", "source_event_id": id, "occurred_at": at, "sku": sku,
               "location": loc, "kind": "snapshot", "buckets": {"on_hand": on_hand, "picking": 0}})
    };
    let mut events = vec![snap("hot-east".into(), HOT, "east", HOT_UNITS)];
    events.push(
        json!({"source": "erp", "source_event_id": "po-hot", "occurred_at": at,
        "sku": HOT, "location": "west", "kind": "expected_receipt", "po_ref": "PO-7781",
        "qty": 120, "eta": "2026-12-02T00:00:00Z"}),
    );
    for i in 1..20 {
        let sku = format!("SKU-{i:03}");
        for loc in ["east", "west", "acme"] {
            let units = 60 + rng.below(240) as i64;
            events.push(snap(format!("{sku}-{loc}"), &sku, loc, units));
        }
        skus.push(sku);
    }
    (events, skus)
}

/// Runs the demo and prints its report.
pub async fn run(args: Args) -> anyhow::Result<()> {
    crossdock_store::sqlite::remove_files(&args.db);
    let mut rng = Rng::new(args.seed);
    let (events, skus) = seed_events(&mut rng);
    let estate = crossdock_sim::SimEstate::start(&skus[1..])
        .await
        .context("cannot start the simulated vendors' systems")?;
    let mut config = Config::parse(&format!("{EXAMPLE}\n{}", estate.config))?;
    config.store.url = format!("sqlite://{}", args.db.display());
    config.inventory.expiry_sweep_ms = 200;
    let sims = crossdock_sim::SimSystems::start()
        .await
        .context("cannot start the simulated systems")?;
    for (name, url) in &sims.urls {
        config.set_system(
            name,
            crossdock_engine::config::SystemSettings {
                timeout_ms: 2_000,
                rate_per_sec: 400.0,
                burst: 20,
                concurrency: 8,
                max_attempts: 30,
                ..crossdock_engine::config::SystemSettings::at(url.clone())
            },
        );
    }
    let erp = &sims.erp;
    let shutdown = Shutdown::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hub = crossdock_http::run(&config, listener, shutdown.clone())
        .await
        .context("cannot start the hub")?;
    let base = hub.base_url();
    let inventory = hub.inventory().clone();
    println!("crossdock demo: hub on {base}, store {}", args.db.display());

    let http = keyed_client(&base).await?;
    let items: Vec<Value> = skus.iter().map(|s| json!({"sku": s})).collect();
    post(&http, &format!("{base}/v1/items"), json!({"items": items})).await?;
    let seeded = post(
        &http,
        &format!("{base}/v1/inventory/events"),
        json!({"events": events}),
    )
    .await?;
    println!(
        "seeded {} SKUs at east, west and acme (drop-ship): {} stock events applied",
        skus.len(),
        seeded["applied"]
    );

    let shoppers = [args.shoppers, args.shoppers / 2, (args.shoppers / 5).max(1)];
    let total: usize = shoppers.iter().sum();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} flash sale [{bar:40}] {pos}/{len} shoppers {per_sec} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let tallies: Arc<[Tally; 3]> = Arc::new(Default::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (ci, count) in shoppers.iter().enumerate() {
        for n in 0..*count {
            let (http, base, tallies, bar, skus) = (
                http.clone(),
                base.clone(),
                tallies.clone(),
                bar.clone(),
                skus.clone(),
            );
            let mut rng = Rng::new(args.seed ^ ((ci as u64) << 32 | n as u64));
            tasks.push(tokio::spawn(async move {
                shop(&http, &base, CHANNELS[ci], n, &skus, &mut rng, &tallies[ci]).await;
                bar.inc(1);
            }));
        }
    }
    // Meanwhile the warehouse reports receipts, and its webhook sends each one twice.
    let wms = {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            let mut sent = 0;
            let mut applied = 0;
            for i in 0..40 {
                let e = json!({"source": "wms", "source_event_id": format!("rcv-{i}"),
                    "occurred_at": "2026-11-27T07:00:00Z", "sku": format!("SKU-{:03}", 1 + i % 19),
                    "location": "east", "kind": "receipt", "qty": 3});
                for _ in 0..2 {
                    if let Ok(r) = post(
                        &http,
                        &format!("{base}/v1/inventory/events"),
                        json!({"events": [e]}),
                    )
                    .await
                    {
                        applied += r["applied"].as_i64().unwrap_or(0);
                    }
                    sent += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (sent, applied)
        })
    };
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed();
    bar.finish_with_message("done");
    let (wms_sent, wms_applied) = wms.await?;
    // Let abandoned short carts lapse and the sweeper return them.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut rows = Vec::new();
    let mut attempts_total = 0;
    for (ci, t) in tallies.iter().enumerate() {
        let attempts = t.attempts.load(Ordering::Relaxed);
        attempts_total += attempts;
        rows.push(vec![
            CHANNELS[ci].to_string(),
            shoppers[ci].to_string(),
            attempts.to_string(),
            t.reservations.load(Ordering::Relaxed).to_string(),
            t.reserved_units.load(Ordering::Relaxed).to_string(),
            t.refused.load(Ordering::Relaxed).to_string(),
            t.released.load(Ordering::Relaxed).to_string(),
            t.errors.load(Ordering::Relaxed).to_string(),
        ]);
    }
    println!(
        "\n{} reservation requests in {:.2}s ({}/s over HTTP)",
        attempts_total,
        elapsed.as_secs_f64(),
        thousands(attempts_total as f64 / elapsed.as_secs_f64())
    );
    println!(
        "{}",
        table(
            &[
                "channel",
                "shoppers",
                "requests",
                "reservations",
                "units",
                "refused (409)",
                "released",
                "errors"
            ],
            rows
        )
    );

    let mut ats_rows = Vec::new();
    let mut oversells = 0;
    let mut hot_reserved = 0;
    for sku in &skus {
        let a = get(&http, &format!("{base}/v1/availability/{sku}")).await?;
        for l in a["locations"].as_array().into_iter().flatten() {
            let f = |k: &str| l[k].as_i64().unwrap_or(0);
            if f("reserved") > f("on_hand") - f("picking") - f("transfer_out") - f("safety_stock") {
                oversells += 1;
                eprintln!("OVERSOLD {sku} at {}: {l}", l["location"]);
            }
            if sku == HOT {
                hot_reserved += f("reserved");
            }
        }
        if ats_rows.len() < 8 {
            let mut row = vec![sku.clone()];
            let channels = (a["channels"].as_array().into_iter().flatten())
                .filter(|c| CHANNELS.iter().any(|ch| c["channel"] == *ch));
            for c in channels {
                let backorder = c["available_backorder"].as_i64().unwrap_or(0);
                row.push(if backorder > 0 {
                    format!("{} (+{backorder} due)", c["available_now"])
                } else {
                    c["available_now"].to_string()
                });
            }
            let reserved: i64 = a["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| l["reserved"].as_i64().unwrap_or(0))
                .sum();
            row.push(reserved.to_string());
            ats_rows.push(row);
        }
    }
    println!("available to sell after the sale (first 8 SKUs):");
    println!(
        "{}",
        table(&["sku", "web", "marketplace", "b2b", "reserved"], ats_rows)
    );
    println!(
        "\nthen checkout: {} orders, one in twenty delivered twice, the ERP down {}s mid-way",
        args.orders, args.outage_secs
    );
    let outage = Duration::from_secs(args.outage_secs);
    let checkout = crate::checkout::run(
        &http,
        &base,
        &sims,
        &skus,
        args.orders,
        args.order_rate,
        outage,
        args.seed,
    )
    .await?;
    let lag = crate::checkout::posting_lag(&http, &base, checkout.outage).await?;
    let exceptions = get(&http, &format!("{base}/v1/exceptions?limit=1000")).await?;
    let mut by_code: std::collections::BTreeMap<String, u64> = Default::default();
    for e in exceptions["exceptions"].as_array().into_iter().flatten() {
        *by_code
            .entry(e["code"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let erp_stats = erp.stats();
    let erp_rate = config.system("erp").map_or(0.0, |s| s.rate_per_sec);
    crate::checkout::print(
        &checkout,
        &erp_stats,
        erp_rate,
        &lag,
        &by_code.into_iter().collect::<Vec<_>>(),
    );
    let accepted = checkout.states.get("accepted").copied().unwrap_or(0);
    let backordered = checkout.states.get("backordered").copied().unwrap_or(0);
    let intake_total: u64 = checkout.states.values().sum();

    println!(
        "\nthen stock arrives: the purchase order for {HOT} is received at west, and the ERP \
         books receipts for the rest; backorders are reserved oldest first and go on to the ERP"
    );
    let posted_before = accepted - checkout.flagged;
    let from_backorder = crate::restock::run(&http, &base, erp, backordered, posted_before).await?;
    crate::restock::print(&from_backorder);
    let posted = posted_before + from_backorder.reserved - from_backorder.flagged;
    let erp_stats = erp.stats();
    let duplicate_erp_orders = erp_stats.created.saturating_sub(posted);

    println!(
        "\nthen fulfilment: the warehouse ships, its webhook resends one parcel in twenty, the ERP invoices"
    );
    let fulfilment = crate::fulfil::run(
        &http,
        &base,
        &inventory,
        &sims,
        erp_stats.created,
        args.seed,
    )
    .await?;
    crate::fulfil::print(&fulfilment);
    let money_ok = (fulfilment.captured - fulfilment.authorised).abs() < 0.005;

    println!(
        "\nthen the estate through its vendors' APIs: {} orders each from a Shopify shop (for \
         east, booked in NetSuite) and an Adobe Commerce store (for west, booked in Business \
         Central), prices from NetSuite, a 3PL shipping by Standard Webhooks",
        args.estate_orders
    );
    let act = crate::estate::Estate(&estate)
        .run(
            &http,
            &base,
            &inventory,
            &skus[1..],
            args.estate_orders,
            args.seed,
        )
        .await?;
    crate::estate::print(&act);

    let stats = inventory.stats();
    println!(
        "group commit: {} commands reached the store in {} groups (avg {:.1} per group)",
        stats.commands,
        stats.batches,
        stats.commands as f64 / stats.batches.max(1) as f64
    );
    println!("check: {HOT} had {HOT_UNITS} units, {hot_reserved} held at the end, never more");
    println!(
        "check: warehouse webhooks sent {wms_sent} deliveries of {} receipts, {wms_applied} applied (duplicates ignored)",
        wms_sent / 2
    );
    println!("check: oversells = {oversells}");
    let p99 = crate::report::percentile_ms(&lag.all, 99.0) / 1000.0;
    let target = args.outage_secs as f64 + 2.0;
    println!(
        "check: ERP posting lag p99 {p99:.1} s against the outage + 2 s = {target:.0} s: {}",
        if p99 <= target { "met" } else { "missed" }
    );
    let refused = checkout
        .states
        .get("refused: credit hold")
        .copied()
        .unwrap_or(0);
    let rejected = checkout.states.get("rejected").copied().unwrap_or(0);
    println!(
        "check: every order sent is accounted for: {} sent = {accepted} accepted + {refused} \
         refused (credit hold) + {backordered} backordered + {rejected} rejected{}",
        checkout.sent,
        if intake_total == checkout.sent {
            ""
        } else {
            "  MISMATCH"
        }
    );
    println!(
        "check: {} sales orders in the ERP = {accepted} accepted - {} held for fraud review + \
         {} reserved from backorder - {} of those held; duplicate ERP orders = \
         {duplicate_erp_orders}; {} still waiting for stock",
        erp_stats.created,
        checkout.flagged,
        from_backorder.reserved,
        from_backorder.flagged,
        from_backorder.still_waiting
    );
    println!(
        "check: {} orders shipped, {} closed; captured {:.2} of {:.2} USD authorised",
        fulfilment.orders, fulfilment.closed, fulfilment.captured, fulfilment.authorised
    );
    println!(
        "check: every storefront order in its unit's ERP once and its tracking back: {}",
        if act.ok() { "yes" } else { "NO" }
    );
    shutdown.trigger();
    hub.stopped().await?;
    println!(
        "check: the store is {} with {} of WAL left beside it",
        args.db.display(),
        bytes(wal_size(&args.db))
    );
    drop(sims);
    if oversells > 0
        || intake_total != checkout.sent
        || wms_applied != (wms_sent / 2) as i64
        || erp_stats.created != posted
        || fulfilment.closed != fulfilment.orders
        || fulfilment.orders != posted
        || !money_ok
        || !act.ok()
    {
        bail!("the ledger check failed");
    }
    Ok(())
}

/// One shopper: tries to reserve a few things; sometimes abandons a cart.
async fn shop(
    http: &reqwest::Client,
    base: &str,
    channel: &str,
    n: usize,
    skus: &[String],
    rng: &mut Rng,
    tally: &Tally,
) {
    let tries = 1 + rng.below(3);
    for t in 0..tries {
        let (sku, qty) = if rng.chance(60) {
            (HOT.to_string(), 1)
        } else {
            (
                skus[1 + rng.below(skus.len() as u64 - 1) as usize].clone(),
                1 + rng.below(5) as i64,
            )
        };
        let short_cart = rng.chance(10);
        let mut body = json!({"sku": sku, "qty": qty, "channel": channel,
                              "order_ref": format!("{channel}-{n}-{t}")});
        if short_cart {
            body["ttl_seconds"] = json!(1);
        }
        tally.attempts.fetch_add(1, Ordering::Relaxed);
        let res = http
            .post(format!("{base}/v1/reservations"))
            .json(&body)
            .send()
            .await;
        match res {
            Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                let v: Value = r.json().await.unwrap_or_default();
                tally.reservations.fetch_add(1, Ordering::Relaxed);
                tally
                    .reserved_units
                    .fetch_add(qty as u64, Ordering::Relaxed);
                if !short_cart && rng.chance(15) {
                    let id = v["id"].as_str().unwrap_or_default();
                    let del = http
                        .delete(format!("{base}/v1/reservations/{id}"))
                        .send()
                        .await;
                    if del.is_ok_and(|d| d.status().is_success()) {
                        tally.released.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                tally.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Makes the demo's API key (in protected mode: no key exists yet and the demo is on
/// loopback) and a client that sends it with every call.
async fn keyed_client(base: &str) -> anyhow::Result<reqwest::Client> {
    let open = crossdock_connectors::tls::builder().build()?;
    let body = json!({"name": "demo", "scopes": ["admin"], "rate_per_sec": 1_000_000});
    let made = post(&open, &format!("{base}/v1/keys"), body).await?;
    let key = made["key"].as_str().context("POST /v1/keys gave no key")?;
    println!(
        "API key demo ({}…, admin) made with POST /v1/keys; every call below carries it \
         (on a hub of your own: crossdock keys create --name NAME --scopes …)",
        made["prefix"].as_str().unwrap_or_default()
    );
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {key}").parse()?,
    );
    Ok(crossdock_connectors::tls::builder()
        .default_headers(headers)
        .build()?)
}

async fn post(http: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    let res = http.post(url).json(&body).send().await?;
    let status = res.status();
    let v: Value = res.json().await?;
    if !status.is_success() {
        bail!("POST {url} answered {status}: {v}");
    }
    Ok(v)
}

async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let res = http.get(url).send().await?;
    let status = res.status();
    let v: Value = res.json().await?;
    if !status.is_success() {
        bail!("GET {url} answered {status}: {v}");
    }
    Ok(v)
}
