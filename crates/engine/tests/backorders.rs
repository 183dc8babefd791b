//! Backorders move when stock arrives, oldest first within a channel, and one still waiting
//! at its channel's horizon opens `BACKORDER_OVERDUE`; on SQLite and PostgreSQL.

use std::sync::Arc;

use crossdock_domain::ledger::{Command, EventChange, Outcome, PlaceOrder, StockEvent};
use crossdock_domain::stock::StockChange;
use crossdock_domain::{LocationCode, Qty, Sku, Timestamp};
use crossdock_engine::backorders::{BackorderDue, sweep};
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::runner::{Handler, JobResult};
use crossdock_engine::{Config, Inventory, Shutdown};
use crossdock_store::{AnyStore, JobFilter, Store};
use serde_json::json;

mod common;
use common::stores;

async fn start(store: AnyStore) -> (Inventory, Shutdown) {
    let mut config = Config::parse(EXAMPLE).unwrap();
    // The test sweeps by hand, so each sweep sees exactly the stock it set up.
    config.inventory.backorder_sweep_ms = 3_600_000;
    let shutdown = Shutdown::new();
    let inventory = Inventory::start(
        config.estate().unwrap(),
        config.inventory.clone(),
        store,
        shutdown.clone(),
    )
    .await
    .unwrap();
    inventory
        .submit(vec![Command::UpsertItem {
            sku: Sku::parse("SKU-1").unwrap(),
            description: None,
        }])
        .await
        .unwrap();
    (inventory, shutdown)
}

/// `qty` units received at the drop-ship supplier, which only web draws from.
fn receipt(id: &str, qty: i64) -> Command {
    Command::Stock(StockEvent {
        source: "acme".into(),
        source_event_id: id.into(),
        occurred_at: Timestamp(1),
        sku: Sku::parse("SKU-1").unwrap(),
        location: LocationCode::parse("acme").unwrap(),
        change: EventChange::Stock {
            change: StockChange::Receipt(Qty::of(qty)),
            kind: "receipt".into(),
            po_ref: None,
            order_ref: None,
        },
    })
}

async fn web_order(inventory: &Inventory, external_id: &str, qty: i64) -> String {
    let raw = json!({"channel": "web", "external_id": external_id,
        "customer": {"id": "C", "email": "a@b.c"}, "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": qty, "unit_price": "1.00"}],
        "ship_to": {"name": "A", "line1": "1", "city": "X", "postal_code": "1", "country": "US"}});
    let place = PlaceOrder {
        id: Inventory::new_order_id(),
        order: crossdock_domain::order::parse_order(&raw, inventory.estate()).unwrap(),
        request_hash: format!("h-{external_id}"),
        idempotency_key: None,
        correlation_id: "c".into(),
        credit_hold: None,
    };
    let id = place.id.clone();
    let outcome = inventory
        .submit_one(Command::PlaceOrder(Arc::new(place)))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::OrderPlaced(_)), "{outcome:?}");
    id
}

async fn state(inventory: &Inventory, id: &str) -> String {
    inventory.order(id).await.unwrap().unwrap().state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_that_arrives_reserves_backorders_oldest_first() {
    for (store, path) in stores("backorders").await {
        let (inv, _stop) = start(store).await;
        let older = web_order(&inv, "B-1", 3).await;
        let younger = web_order(&inv, "B-2", 2).await;
        assert_eq!(state(&inv, &older).await, "backordered");
        assert_eq!(sweep(&inv).await.unwrap(), 0, "no stock, nothing moves");

        // 6 at acme: web may promise floor(0.8 * (6 - 2 safety)) = 3, enough for the older.
        inv.submit(vec![receipt("r1", 6)]).await.unwrap();
        assert_eq!(sweep(&inv).await.unwrap(), 1);
        assert_eq!(state(&inv, &older).await, "accepted");
        assert_eq!(
            state(&inv, &younger).await,
            "backordered",
            "1 left: not enough"
        );
        let o = inv.order(&older).await.unwrap().unwrap();
        assert!(o.lines[0]["reservation_id"].is_string(), "{}", o.lines);
        assert_eq!(o.lines[0]["allocations"][0]["location"], "acme");
        let path_taken: Vec<&str> = o.history.iter().map(|t| t.to.as_str()).collect();
        assert!(
            path_taken.ends_with(&["backordered", "reserved", "accepted"]),
            "{path_taken:?}"
        );
        // It goes on through the saga like an order accepted at intake.
        let fraud = inv
            .jobs(JobFilter {
                system: Some("fraud".into()),
                ..JobFilter {
                    limit: 10,
                    ..Default::default()
                }
            })
            .await
            .unwrap();
        assert_eq!(fraud.len(), 1);
        assert_eq!(fraud[0].order_id.as_deref(), Some(older.as_str()));

        inv.submit(vec![receipt("r2", 10)]).await.unwrap();
        assert_eq!(sweep(&inv).await.unwrap(), 1);
        assert_eq!(state(&inv, &younger).await, "accepted");
        let s = inv.state("SKU-1").unwrap();
        let acme = s.at(&LocationCode::parse("acme").unwrap()).unwrap().buckets;
        assert_eq!((acme.on_hand, acme.reserved), (16, 5));
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_sweeps_reserve_each_backorder_once_within_what_web_may_promise() {
    for (store, path) in stores("backorders").await {
        let (inv, _stop) = start(store).await;
        let mut ids = Vec::new();
        for i in 0..20 {
            ids.push(web_order(&inv, &format!("R-{i}"), 1).await);
        }
        // 10 sellable at acme (12 less 2 of safety stock) for 20 waiting orders, swept from
        // several tasks at once. Web may promise 80 % of what is left: 8 at first, and as
        // each unit goes, 80 % of the rest, until floor(0.8 * 1) = 0 after the ninth.
        inv.submit(vec![receipt("r", 12)]).await.unwrap();
        let sweeps: Vec<_> = (0..4)
            .map(|_| {
                let inv = inv.clone();
                tokio::spawn(async move { sweep(&inv).await.unwrap() })
            })
            .collect();
        let mut moved = 0;
        for s in sweeps {
            moved += s.await.unwrap();
        }
        moved += sweep(&inv).await.unwrap();
        assert_eq!(moved, 9, "each order once, within what web may promise");
        let mut accepted = Vec::new();
        for id in &ids {
            if state(&inv, id).await == "accepted" {
                accepted.push(id.clone());
            }
        }
        assert_eq!(accepted, ids[..9].to_vec(), "the oldest nine");
        let s = inv.state("SKU-1").unwrap();
        let acme = s.at(&LocationCode::parse("acme").unwrap()).unwrap().buckets;
        assert_eq!(acme.reserved, 9, "one unit held per order, none twice");
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backorder_still_waiting_at_its_horizon_is_overdue() {
    for (store, path) in stores("backorders").await {
        let (inv, _stop) = start(store).await;
        let waiting = web_order(&inv, "O-1", 3).await;
        let jobs = inv
            .jobs(JobFilter {
                system: Some("backorders".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1);
        let due = &jobs[0];
        let fourteen_days = 14 * 86_400_000;
        assert!(
            due.run_at.0 - crossdock_engine::inventory::now().0 > fourteen_days - 60_000,
            "due at web's 14-day horizon: {due:?}"
        );
        // Making the system's backlog due (a circuit closing) leaves it for its horizon.
        let now = crossdock_engine::inventory::now();
        assert_eq!(inv.store().hasten_jobs("backorders", now).await.unwrap(), 0);
        let handler = BackorderDue::new(inv.clone());
        match handler.run(due).await {
            JobResult::Permanent { code, error } => {
                assert_eq!(code, "BACKORDER_OVERDUE");
                assert!(
                    error.contains(&waiting) && error.contains("14 days"),
                    "{error}"
                );
            }
            other => panic!("{other:?}"),
        }
        // Once the order has its stock, the same job finds nothing to do.
        inv.submit(vec![receipt("r", 10)]).await.unwrap();
        assert_eq!(sweep(&inv).await.unwrap(), 1);
        assert_eq!(handler.run(due).await, JobResult::Done);
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}
