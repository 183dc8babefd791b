//! The demo's third act: stock arrives. The purchase order the web store has been showing as
//! incoming is received at the west warehouse, and the ERP books receipts for the other SKUs
//! orders wait for. Nobody calls anything else: the hub reserves the backordered orders
//! oldest first as the stock becomes sellable, and they go on through the saga to the ERP.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossdock_sim::SimErp;
use serde_json::{Value, json};

use crate::report::{progress, table, thousands};

/// What the restock did.
pub struct Restock {
    /// Orders waiting for stock when it came.
    pub waiting: u64,
    /// Receipts booked.
    pub receipts: usize,
    /// Orders reserved from backorder.
    pub reserved: u64,
    /// Of those reserved, orders from buyers the fraud service flags: held, not posted.
    pub flagged: u64,
    /// Orders still waiting at the end.
    pub still_waiting: u64,
    /// Seconds from the receipts to the last order reserved.
    pub secs: f64,
}

async fn backordered(http: &reqwest::Client, base: &str) -> anyhow::Result<Vec<Value>> {
    crate::checkout::list_orders(http, base, "state=backordered").await
}

/// Books the receipts and waits until the backorders are reserved and every order not held
/// (`at_erp` before them) reached the ERP.
pub async fn run(
    http: &reqwest::Client,
    base: &str,
    erp: &SimErp,
    waiting: u64,
    at_erp: u64,
) -> anyhow::Result<Restock> {
    let orders = backordered(http, base).await?;
    let mut needed: BTreeMap<String, i64> = BTreeMap::new();
    for o in &orders {
        for l in o["order"]["lines"].as_array().into_iter().flatten() {
            let sku = l["sku"].as_str().unwrap_or_default().to_string();
            *needed.entry(sku).or_default() += l["qty"].as_i64().unwrap_or(0);
        }
    }
    let at = "2026-11-28T06:00:00Z";
    let mut events = vec![
        json!({"source": "erp", "source_event_id": "po-7781-received",
        "occurred_at": at, "sku": crate::demo::HOT, "location": "west", "kind": "receipt",
        "qty": 120, "po_ref": "PO-7781"}),
    ];
    for (sku, units) in &needed {
        // Enough at east for web's share after b2b's ring fence there.
        events.push(
            json!({"source": "erp", "source_event_id": format!("rcv-{sku}"),
            "occurred_at": at, "sku": sku, "location": "east", "kind": "receipt",
            "qty": 2 * units + 40}),
        );
    }
    let receipts = events.len();
    let started = Instant::now();
    http.post(format!("{base}/v1/inventory/events"))
        .json(&json!({"events": events}))
        .send()
        .await?
        .error_for_status()?;

    let bar = progress(
        waiting,
        "{spinner} restock    [{bar:40}] {pos}/{len} backorders reserved {msg}",
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut left = orders.clone();
    let mut secs = 0.0;
    while Instant::now() < deadline {
        left = backordered(http, base).await?;
        bar.set_position(waiting.saturating_sub(left.len() as u64));
        if left.is_empty() {
            secs = started.elapsed().as_secs_f64();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bar.finish_with_message("reserved");
    let still: std::collections::HashSet<&str> =
        left.iter().filter_map(|o| o["id"].as_str()).collect();
    let moved: Vec<&Value> = orders
        .iter()
        .filter(|o| !still.contains(o["id"].as_str().unwrap_or_default()))
        .collect();
    let flagged = moved
        .iter()
        .filter(|o| o["order"]["customer"]["email"] == crate::checkout::FLAGGED)
        .count() as u64;
    let reserved = moved.len() as u64;
    let expected = at_erp + reserved - flagged;
    let posting = progress(
        expected,
        "{spinner} ERP        [{bar:40}] {pos}/{len} sales orders {msg}",
    );
    while Instant::now() < deadline + Duration::from_secs(60) {
        let created = erp.stats().created;
        posting.set_position(created.min(expected));
        if created >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    posting.finish_with_message("posted");
    Ok(Restock {
        waiting,
        receipts,
        reserved,
        flagged,
        still_waiting: left.len() as u64,
        secs,
    })
}

/// The restock table.
pub fn print(r: &Restock) {
    let rows = vec![
        vec![
            "orders waiting for stock at the end of checkout".into(),
            thousands(r.waiting as f64),
        ],
        vec![
            "receipts booked (one a purchase order the web store showed as incoming)".into(),
            thousands(r.receipts as f64),
        ],
        vec![
            "backorders reserved, oldest first, and sent on through the saga".into(),
            thousands(r.reserved as f64),
        ],
        vec![
            "  of which held for fraud review (not posted)".into(),
            thousands(r.flagged as f64),
        ],
        vec!["still waiting".into(), thousands(r.still_waiting as f64)],
        vec![
            "from the receipts to the last backorder reserved".into(),
            format!("{:.1} s", r.secs),
        ],
    ];
    println!("{}", table(&["restock", ""], rows));
}
