//! The demo's second act: checkout. Shoppers on two storefronts (web, marketplace) and
//! buyers on the B2B portal turn carts into orders over `POST /v1/orders`; one delivery in
//! twenty is sent twice (a retried webhook), and the ERP goes down in the middle. Intake
//! keeps accepting; the queue grows; when the ERP is back the backlog drains, and every
//! accepted order reaches it exactly once. Along the way the fraud service flags a few web
//! buyers (held for review) and the portal refuses an account the ERP has on credit hold.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossdock_domain::Timestamp;
use crossdock_sim::{Faults, SimSystems};
use serde_json::{Value, json};

use crate::report::{Rng, percentile_ms, progress, table, thousands};

/// What checkout did.
pub struct Checkout {
    /// Orders sent.
    pub sent: u64,
    /// Orders per state after intake (and `refused: credit hold` for the portal's 422s), by
    /// each order's first delivery: they add up to `sent`.
    pub states: BTreeMap<String, u64>,
    /// Second deliveries answered with the first response (`Idempotent-Replayed`).
    pub replays: u64,
    /// Second deliveries of an order the portal refused (credit hold): refused again, since
    /// nothing was stored the first time.
    pub refused_again: u64,
    /// Accepted orders from buyers the fraud service flags: held, not posted.
    pub flagged: u64,
    /// When the ERP went down, and for how long.
    pub outage: (Timestamp, Duration),
}

/// The buyer the fraud service flags.
pub const FLAGGED: &str = "mule@fraud.example";
/// The portal account the ERP has on credit hold.
pub const ON_HOLD: &str = "SLOW-PAYER";
const ACCOUNTS: [&str; 4] = ["ACME-TRADING", "BOLT-SUPPLY", "CRATE-CO", ON_HOLD];

/// Places `orders` orders from the three channels, `rate` a second, with duplicate
/// deliveries and an ERP outage of `outage` in the middle; waits for the ERP to receive every
/// accepted order.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    http: &reqwest::Client,
    base: &str,
    sims: &SimSystems,
    skus: &[String],
    orders: usize,
    rate: f64,
    outage: Duration,
    seed: u64,
) -> anyhow::Result<Checkout> {
    let bar = progress(
        orders as u64,
        "{spinner} checkout   [{bar:40}] {pos}/{len} orders {per_sec} {msg}",
    );
    let next = Arc::new(AtomicU64::new(0));
    let replays = Arc::new(AtomicU64::new(0));
    let refused_again = Arc::new(AtomicU64::new(0));
    let outage_at = Arc::new(AtomicU64::new(0));
    let started = tokio::time::Instant::now();
    let states = Arc::new(std::sync::Mutex::new(BTreeMap::<String, u64>::new()));
    let outage_started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flagged = Arc::new(AtomicU64::new(0));
    sims.fraud.flag(FLAGGED);
    sims.erp.set_credit_hold(ON_HOLD, true);
    let erp = &sims.erp;
    let mut tasks = Vec::new();
    for worker in 0..32u64 {
        let (flagged, refused_again, outage_at) =
            (flagged.clone(), refused_again.clone(), outage_at.clone());
        let (http, base, next, replays, states, bar, skus, erp, outage_started) = (
            http.clone(),
            base.to_string(),
            next.clone(),
            replays.clone(),
            states.clone(),
            bar.clone(),
            skus.to_vec(),
            erp.clone(),
            outage_started.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed ^ (worker << 40));
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= orders as u64 {
                    return Ok::<_, anyhow::Error>(());
                }
                // Orders come at the flash sale's pace, not all at once.
                tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / rate)).await;
                if i == orders as u64 / 2 && !outage_started.swap(true, Ordering::SeqCst) {
                    outage_at.store(
                        crossdock_engine::inventory::now().0 as u64,
                        Ordering::SeqCst,
                    );
                    erp.set_faults(Faults {
                        down_for_ms: outage.as_millis() as u64,
                        ..Faults::default()
                    });
                    bar.set_message(format!("ERP down for {}s", outage.as_secs()));
                }
                let channel = match rng.below(10) {
                    0..=5 => "web",
                    6..=7 => "marketplace",
                    _ => "b2b",
                };
                let sku = if rng.chance(30) {
                    skus[0].clone()
                } else {
                    skus[1 + rng.below(skus.len() as u64 - 1) as usize].clone()
                };
                let qty = 1 + rng.below(3);
                let fraud = channel == "web" && rng.chance(1);
                let email = if fraud {
                    FLAGGED
                } else {
                    "shopper@example.com"
                };
                let mut body = json!({
                    "channel": channel, "external_id": format!("{channel}-{i}"),
                    "customer": {"id": format!("C-{}", rng.below(500)), "email": email},
                    "currency": "USD",
                    "lines": [{"sku": sku, "qty": qty, "unit_price": "24.50"}],
                    "ship_to": {"name": "A Shopper", "line1": "1 Main St", "city": "Newark",
                                "postal_code": "07105", "country": "US"}
                });
                if channel == "b2b" {
                    let account = ACCOUNTS[rng.below(ACCOUNTS.len() as u64) as usize];
                    body["customer"]["account"] = json!(account);
                } else {
                    let amount = format!("{:.2}", 24.5 * qty as f64 * 1.07);
                    body["payment"] =
                        json!({"authorization": format!("AUTH-{i}"), "amount": amount});
                    body["tax"] = json!({"amount": format!("{:.2}", 24.5 * qty as f64 * 0.07)});
                }
                let deliveries = if rng.chance(5) { 2 } else { 1 };
                for delivery in 0..deliveries {
                    let res = http
                        .post(format!("{base}/v1/orders"))
                        .json(&body)
                        .send()
                        .await?;
                    let replayed = res.headers().contains_key("idempotent-replayed");
                    let answer: Value = res.json().await?;
                    if delivery > 0 {
                        let counter = if replayed { &replays } else { &refused_again };
                        counter.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let state = match answer["code"].as_str() {
                        Some("CUSTOMER_ON_CREDIT_HOLD") => "refused: credit hold",
                        _ => answer["state"].as_str().unwrap_or("error"),
                    };
                    if fraud && state == "accepted" {
                        flagged.fetch_add(1, Ordering::Relaxed);
                    }
                    *states
                        .lock()
                        .expect("tally")
                        .entry(state.to_string())
                        .or_default() += 1;
                }
                bar.inc(1);
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    bar.finish_with_message("taken in");
    let states = states.lock().expect("tally").clone();
    let flagged = flagged.load(Ordering::Relaxed);
    // Flagged orders wait for a person; every other accepted order reaches the ERP.
    let accepted = states.get("accepted").copied().unwrap_or(0) - flagged;

    let posting = progress(
        accepted,
        "{spinner} ERP        [{bar:40}] {pos}/{len} sales orders {msg}",
    );
    let deadline = Instant::now() + outage + Duration::from_secs(120);
    loop {
        let created = erp.stats().created;
        posting.set_position(created.min(accepted));
        if created >= accepted || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    posting.finish_with_message("posted");
    Ok(Checkout {
        sent: orders as u64,
        states,
        replays: replays.load(Ordering::Relaxed),
        refused_again: refused_again.load(Ordering::Relaxed),
        flagged,
        outage: (Timestamp(outage_at.load(Ordering::SeqCst) as i64), outage),
    })
}

/// ERP posting lag (accepted → erp_posted, in microseconds) of every order accepted at
/// intake: all of them, and those accepted while the ERP was down (they had to wait for it).
pub struct PostingLag {
    /// Every order's lag, sorted.
    pub all: Vec<u64>,
    /// Lags of the orders accepted during the outage, sorted.
    pub during_outage: Vec<u64>,
}

/// Every order `GET /v1/orders?QUERY` lists, paging through with its cursor.
pub async fn list_orders(
    http: &reqwest::Client,
    base: &str,
    query: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut orders = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/orders?limit=500&{query}");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let page: Value = http.get(url).send().await?.json().await?;
        orders.extend(page["orders"].as_array().cloned().unwrap_or_default());
        match page["next_after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => return Ok(orders),
        }
    }
}

/// One order with its history, as `GET /v1/orders/{id}` shows it.
async fn order(http: &reqwest::Client, base: &str, id: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(format!("{base}/v1/orders/{id}"))
        .send()
        .await?
        .json()
        .await?)
}

/// When the order (as `GET /v1/orders/{id}` shows it) first reached `state`.
fn reached(order: &Value, state: &str) -> Option<Timestamp> {
    order["history"]
        .as_array()?
        .iter()
        .find(|t| t["to"] == state)
        .and_then(|t| Timestamp::parse_rfc3339(t["at"].as_str()?).ok())
}

/// The posting lag of every order accepted at intake.
pub async fn posting_lag(
    http: &reqwest::Client,
    base: &str,
    outage: (Timestamp, Duration),
) -> anyhow::Result<PostingLag> {
    let (down, up) = (outage.0.0, outage.0.0 + outage.1.as_millis() as i64);
    let mut lag = PostingLag {
        all: Vec::new(),
        during_outage: Vec::new(),
    };
    for listed in list_orders(http, base, "").await? {
        let full = order(http, base, listed["id"].as_str().unwrap_or_default()).await?;
        let at_intake = full["history"].as_array().is_some_and(|h| {
            h.iter()
                .any(|t| t["to"] == "accepted" && t["actor"] == "intake")
        });
        if let (true, Some(a), Some(b)) = (
            at_intake,
            reached(&full, "accepted"),
            reached(&full, "erp_posted"),
        ) {
            let us = (b.0 - a.0).max(0) as u64 * 1000;
            lag.all.push(us);
            if (down..up).contains(&a.0) {
                lag.during_outage.push(us);
            }
        }
    }
    lag.all.sort_unstable();
    lag.during_outage.sort_unstable();
    Ok(lag)
}

/// Time from state `from` to state `to` in each order's history: p50, p99 (ms) and how many
/// orders had both.
pub async fn lag(
    http: &reqwest::Client,
    base: &str,
    ids: impl Iterator<Item = String>,
    from: &str,
    to: &str,
) -> anyhow::Result<(f64, f64, usize)> {
    let mut lags = Vec::new();
    for id in ids {
        let full = order(http, base, &id).await?;
        if let (Some(a), Some(b)) = (reached(&full, from), reached(&full, to)) {
            lags.push(((b.0 - a.0).max(0) * 1000) as u64);
        }
    }
    lags.sort_unstable();
    Ok((
        percentile_ms(&lags, 50.0),
        percentile_ms(&lags, 99.0),
        lags.len(),
    ))
}

/// The checkout table, with what the posting lag came from.
pub fn print(
    c: &Checkout,
    erp: &crossdock_sim::erp::Stats,
    erp_rate: f64,
    lag: &PostingLag,
    exceptions: &[(String, u64)],
) {
    let state = |s: &str| c.states.get(s).copied().unwrap_or(0);
    let accepted = state("accepted");
    let posted = accepted - c.flagged;
    let n = |v: u64| thousands(v as f64);
    let rows = vec![
        vec![
            "orders sent (each counted once, by its first delivery)".into(),
            n(c.sent),
        ],
        vec!["  accepted".into(), n(accepted)],
        vec![
            "    of which held for fraud review (not posted)".into(),
            n(c.flagged),
        ],
        vec![
            "  refused: account on credit hold (B2B, checked in the request)".into(),
            n(state("refused: credit hold")),
        ],
        vec![
            "  backordered (web takes backorders)".into(),
            n(state("backordered")),
        ],
        vec![
            "  rejected (no stock, no backorders)".into(),
            n(state("rejected")),
        ],
        vec![
            "second deliveries answered with the first response".into(),
            n(c.replays),
        ],
        vec![
            "second deliveries refused again (credit hold, nothing stored)".into(),
            n(c.refused_again),
        ],
        vec!["ERP sales orders".into(), n(erp.created)],
        vec![
            "duplicate ERP orders".into(),
            n(erp.created.saturating_sub(posted)),
        ],
        vec![
            "ERP calls refused during the outage (retried)".into(),
            n(erp.unavailable),
        ],
        vec![
            "repeat posts the ERP recognised by reference".into(),
            n(erp.duplicates),
        ],
        vec![
            format!("ERP posting lag p50 / p99, every order ({})", lag.all.len()),
            format!(
                "{:.0} ms / {:.0} ms",
                percentile_ms(&lag.all, 50.0),
                percentile_ms(&lag.all, 99.0)
            ),
        ],
        vec![
            format!(
                "  accepted while the ERP was down ({})",
                lag.during_outage.len()
            ),
            format!(
                "{:.0} ms / {:.0} ms",
                percentile_ms(&lag.during_outage, 50.0),
                percentile_ms(&lag.during_outage, 99.0)
            ),
        ],
    ];
    println!("{}", table(&["checkout", ""], rows));
    let outage = c.outage.1.as_secs_f64();
    let p99 = percentile_ms(&lag.all, 99.0) / 1000.0;
    println!(
        "why the lag: the ERP was down {outage:.0} s; the {} orders accepted meanwhile waited \
         for it. Its circuit probes once a second, so it closed within a second of the ERP \
         answering, and the backlog went out oldest first at the ERP's limit of {erp_rate:.0}/s. \
         p99 {p99:.1} s against a target of the outage + 2 s = {:.0} s.",
        lag.during_outage.len(),
        outage + 2.0
    );
    if exceptions.is_empty() {
        println!("exceptions: none");
    } else {
        let rows = exceptions
            .iter()
            .map(|(c, n)| vec![c.clone(), n.to_string()])
            .collect();
        println!("{}", table(&["exception code", "count"], rows));
    }
}
