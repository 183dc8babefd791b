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
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::report::{Rng, percentile_ms, table, thousands};

/// What checkout did.
pub struct Checkout {
    /// Orders per state after intake (and `refused: credit hold` for the portal's 422s).
    pub states: BTreeMap<String, u64>,
    /// Deliveries answered with the first response (`Idempotent-Replayed`).
    pub replays: u64,
    /// Accepted orders from buyers the fraud service flags: held, not posted.
    pub flagged: u64,
}

/// The buyer the fraud service flags.
pub const FLAGGED: &str = "mule@fraud.example";
/// The portal account the ERP has on credit hold.
pub const ON_HOLD: &str = "SLOW-PAYER";
const ACCOUNTS: [&str; 4] = ["ACME-TRADING", "BOLT-SUPPLY", "CRATE-CO", ON_HOLD];

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
}

/// Places `orders` orders from the three channels, with duplicate deliveries and an ERP
/// outage of `outage` in the middle; waits for the ERP to receive every accepted order.
pub async fn run(
    http: &reqwest::Client,
    base: &str,
    sims: &SimSystems,
    skus: &[String],
    orders: usize,
    outage: Duration,
    seed: u64,
) -> anyhow::Result<Checkout> {
    let bar = ProgressBar::new(orders as u64);
    bar.set_style(style(
        "{spinner} checkout   [{bar:40}] {pos}/{len} orders {per_sec} {msg}",
    ));
    let next = Arc::new(AtomicU64::new(0));
    let replays = Arc::new(AtomicU64::new(0));
    let states = Arc::new(std::sync::Mutex::new(BTreeMap::<String, u64>::new()));
    let outage_started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flagged = Arc::new(AtomicU64::new(0));
    sims.fraud.flag(FLAGGED);
    sims.erp.set_credit_hold(ON_HOLD, true);
    let erp = &sims.erp;
    let mut tasks = Vec::new();
    for worker in 0..32u64 {
        let flagged = flagged.clone();
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
                if i == orders as u64 / 2 && !outage_started.swap(true, Ordering::SeqCst) {
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
                for _ in 0..deliveries {
                    let res = http
                        .post(format!("{base}/v1/orders"))
                        .json(&body)
                        .send()
                        .await?;
                    let replayed = res.headers().contains_key("idempotent-replayed");
                    let answer: Value = res.json().await?;
                    if replayed {
                        replays.fetch_add(1, Ordering::Relaxed);
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

    let posting = ProgressBar::new(accepted);
    posting.set_style(style(
        "{spinner} ERP        [{bar:40}] {pos}/{len} sales orders {msg}",
    ));
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
        states,
        replays: replays.load(Ordering::Relaxed),
        flagged,
    })
}

/// ERP posting lag (order taken in → erp_posted), p50 and p99 in milliseconds, from the
/// histories of the 500 newest orders.
pub async fn posting_lag(http: &reqwest::Client, base: &str) -> anyhow::Result<(f64, f64, usize)> {
    let list: Value = http
        .get(format!("{base}/v1/orders?limit=500"))
        .send()
        .await?
        .json()
        .await?;
    let ids = list["orders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_str().map(str::to_string));
    lag(http, base, ids, "accepted", "erp_posted").await
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
        let full: Value = http
            .get(format!("{base}/v1/orders/{id}"))
            .send()
            .await?
            .json()
            .await?;
        let at = |state: &str| {
            full["history"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["to"] == state)
                .and_then(|t| Timestamp::parse_rfc3339(t["at"].as_str()?).ok())
        };
        if let (Some(a), Some(b)) = (at(from), at(to)) {
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

/// The checkout table.
pub fn print(
    c: &Checkout,
    erp_created: u64,
    erp_duplicates: u64,
    erp_unavailable: u64,
    lag: (f64, f64, usize),
    exceptions: &[(String, u64)],
) {
    let accepted = c.states.get("accepted").copied().unwrap_or(0);
    let posted = accepted - c.flagged;
    let rows = vec![
        vec!["orders accepted".into(), thousands(accepted as f64)],
        vec![
            "  of which held for fraud review (not posted)".into(),
            thousands(c.flagged as f64),
        ],
        vec![
            "orders refused: account on credit hold (B2B, checked in the request)".into(),
            thousands(c.states.get("refused: credit hold").copied().unwrap_or(0) as f64),
        ],
        vec![
            "orders backordered (web takes backorders)".into(),
            thousands(c.states.get("backordered").copied().unwrap_or(0) as f64),
        ],
        vec![
            "orders rejected (no stock, no backorders)".into(),
            thousands(c.states.get("rejected").copied().unwrap_or(0) as f64),
        ],
        vec![
            "duplicate deliveries answered with the first response".into(),
            thousands(c.replays as f64),
        ],
        vec!["ERP sales orders".into(), thousands(erp_created as f64)],
        vec![
            "duplicate ERP orders".into(),
            thousands(erp_created.saturating_sub(posted) as f64),
        ],
        vec![
            "ERP calls refused during the outage (retried)".into(),
            thousands(erp_unavailable as f64),
        ],
        vec![
            "repeat posts the ERP recognised by reference".into(),
            thousands(erp_duplicates as f64),
        ],
        vec![
            format!("ERP posting lag p50 / p99 (sample of {})", lag.2),
            format!("{:.0} ms / {:.0} ms", lag.0, lag.1),
        ],
    ];
    println!("{}", table(&["checkout", ""], rows));
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
