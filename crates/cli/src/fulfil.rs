//! The demo's third act: fulfilment. The warehouse ships every order released to it, one
//! parcel per location the order was routed to, and its webhook sends one parcel in twenty
//! twice; the ERP invoices each shipped order. crossdock takes the units out of stock,
//! publishes tracking to the storefronts (in their own status names), posts fulfilments to
//! the ERP, captures payments, pushes invoices and closes the orders.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossdock_domain::ledger::OrderDetail;
use crossdock_engine::Inventory;
use crossdock_sim::SimSystems;
use crossdock_store::OrderFilter;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::report::{Rng, table, thousands};

/// What fulfilment did.
pub struct Fulfilment {
    /// Orders shipped.
    pub orders: u64,
    /// Parcels reported.
    pub parcels: u64,
    /// Parcel webhooks sent twice and recognised.
    pub repeats: u64,
    /// Orders closed (invoice pushed to the channel).
    pub closed: u64,
    /// Amount captured, and amount authorised on the shipped orders.
    pub captured: f64,
    /// Authorised on the shipped orders.
    pub authorised: f64,
    /// Tracking updates the storefronts received, and how many named a status the channel
    /// renamed (`fulfilled` on the web store).
    pub tracking: (usize, usize),
    /// Fulfilments the ERP received.
    pub erp_fulfilments: usize,
    /// Order to cash (accepted → closed), p50 and p99 in ms, over a sample.
    pub lag: (f64, f64, usize),
}

async fn orders_in(inv: &Inventory, state: &str, limit: i64) -> anyhow::Result<Vec<Value>> {
    let orders = inv
        .orders(OrderFilter {
            state: Some(state.to_string()),
            limit,
            ..OrderFilter::default()
        })
        .await?;
    Ok(orders
        .into_iter()
        .map(|o| serde_json::to_value(o).unwrap_or_default())
        .collect())
}

/// The parcels of an order: one per location, with the units routed there.
pub(crate) fn parcels(order: &Value) -> BTreeMap<String, Vec<Value>> {
    let mut by_location: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in order["lines"].as_array().into_iter().flatten() {
        for a in line["allocations"].as_array().into_iter().flatten() {
            let location = a["location"].as_str().unwrap_or_default().to_string();
            by_location
                .entry(location)
                .or_default()
                .push(json!({"sku": line["sku"], "qty": a["qty"]}));
        }
    }
    by_location
}

/// Ships and invoices the `expected` orders as they are released; waits for them to close.
pub async fn run(
    http: &reqwest::Client,
    base: &str,
    inv: &Inventory,
    sims: &SimSystems,
    expected: u64,
    seed: u64,
) -> anyhow::Result<Fulfilment> {
    let bar = ProgressBar::new(expected);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} warehouse  [{bar:40}] {pos}/{len} orders shipped and invoiced {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let mut rng = Rng::new(seed ^ 0xf00d);
    let mut f = Fulfilment {
        orders: 0,
        parcels: 0,
        repeats: 0,
        closed: 0,
        captured: 0.0,
        authorised: 0.0,
        tracking: (0, 0),
        erp_fulfilments: 0,
        lag: (0.0, 0.0, 0),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while f.orders < expected && Instant::now() < deadline {
        let released = orders_in(inv, "released", 500).await?;
        if released.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        for o in released {
            let id = o["id"].as_str().unwrap_or_default();
            for (location, lines) in parcels(&o) {
                f.parcels += 1;
                let parcel = json!({"order_id": id, "source_event_id": format!("PKG-{}", f.parcels),
                                    "location": location, "lines": lines, "carrier": "UPS",
                                    "tracking_number": format!("1Z{:010}", f.parcels)});
                let sends = if rng.chance(5) { 2 } else { 1 };
                for _ in 0..sends {
                    let answer: Value = http
                        .post(format!("{base}/v1/shipments"))
                        .json(&parcel)
                        .send()
                        .await?
                        .json()
                        .await?;
                    if answer["duplicate"] == true {
                        f.repeats += 1;
                    }
                }
            }
            let authorised = o["order"]["payment"]["amount"].as_str().unwrap_or("0");
            f.authorised += authorised.parse::<f64>().unwrap_or(0.0);
            // The ERP invoices what the order is worth: its goods and their tax.
            let amount = OrderDetail::from_body(&o["order"])
                .map_or_else(|| "0.00".to_string(), |d| d.value().to_string());
            let invoice = json!({"order_id": id, "invoice_id": format!("INV-{}", f.orders + 1),
                                 "amount": amount, "currency": "USD"});
            http.post(format!("{base}/v1/invoices"))
                .json(&invoice)
                .send()
                .await?;
            f.orders += 1;
            bar.inc(1);
        }
    }
    bar.finish_with_message("done");
    let closing = ProgressBar::new(f.orders);
    closing.set_style(
        ProgressStyle::with_template("{spinner} close      [{bar:40}] {pos}/{len} orders closed")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        f.closed = orders_in(inv, "closed", 1_000_000).await?.len() as u64;
        closing.set_position(f.closed);
        if f.closed >= f.orders || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Captures trail the closing by a moment (they run on their own queue).
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        f.captured = sims
            .payment
            .received("/captures")
            .iter()
            .filter_map(|c| c.body["amount"].as_str()?.parse::<f64>().ok())
            .sum();
        if (f.captured - f.authorised).abs() < 0.005 || Instant::now() > until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    closing.finish();
    let tracking = sims.storefront.received("/tracking");
    f.tracking = (
        tracking.len(),
        tracking
            .iter()
            .filter(|c| c.body["status"] == "fulfilled")
            .count(),
    );
    f.erp_fulfilments = sims.erp.orders().iter().map(|o| o.fulfilments.len()).sum();
    f.lag = cash_lag(http, base, inv).await?;
    Ok(f)
}

/// Accepted → closed, p50 and p99 in ms, over up to 300 closed orders.
async fn cash_lag(
    http: &reqwest::Client,
    base: &str,
    inv: &Inventory,
) -> anyhow::Result<(f64, f64, usize)> {
    let closed = orders_in(inv, "closed", 300).await?;
    let ids = closed
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_string));
    crate::checkout::lag(http, base, ids, "accepted", "closed").await
}

/// The fulfilment table.
pub fn print(f: &Fulfilment) {
    let rows = vec![
        vec![
            "orders shipped and invoiced".into(),
            thousands(f.orders as f64),
        ],
        vec![
            "parcels reported by the warehouse".into(),
            thousands(f.parcels as f64),
        ],
        vec![
            "parcel webhooks sent twice (recognised, not shipped twice)".into(),
            thousands(f.repeats as f64),
        ],
        vec![
            "tracking updates to the storefronts (as \"fulfilled\" on web)".into(),
            format!(
                "{} ({})",
                thousands(f.tracking.0 as f64),
                thousands(f.tracking.1 as f64)
            ),
        ],
        vec![
            "fulfilments posted to the ERP".into(),
            thousands(f.erp_fulfilments as f64),
        ],
        vec![
            "payments captured / authorised".into(),
            format!("{:.2} / {:.2} USD", f.captured, f.authorised),
        ],
        vec!["orders closed".into(), thousands(f.closed as f64)],
        vec![
            format!(
                "order to cash, accepted → closed, p50 / p99 (sample of {})",
                f.lag.2
            ),
            format!("{:.0} ms / {:.0} ms", f.lag.0, f.lag.1),
        ],
    ];
    println!("{}", table(&["fulfilment", ""], rows));
}
