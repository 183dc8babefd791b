//! Backorders move when stock arrives, oldest first within a channel, and one still waiting
//! at its channel's horizon opens `BACKORDER_OVERDUE`; a channel that ships what is available
//! goes on with the lines in stock and releases the rest as their own part; on SQLite and
//! PostgreSQL.

use crossdock_domain::JobKind;
use std::sync::Arc;

use crossdock_domain::ledger::{
    AdvanceOrder, CancelOrder, Command, EventChange, Outcome, PlaceOrder, StockEvent,
};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::stock::StockChange;
use crossdock_domain::{LocationCode, OrderId, Qty, Sku, Timestamp};
use crossdock_engine::backorders::{BackorderDue, sweep};
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::runner::{Handler, JobResult};
use crossdock_engine::{Config, Inventory, Shutdown};
use crossdock_store::{AnyStore, JobFilter, Store};
use serde_json::json;

mod common;
use common::stores;

async fn start(store: AnyStore) -> (Inventory, Shutdown) {
    start_with(store, EXAMPLE).await
}

/// The example with web shipping what is available.
fn ship_available() -> String {
    let web = "backorder_horizon_days = 14";
    EXAMPLE.replace(web, &format!("{web}\nbackorders = \"ship_available\""))
}

async fn start_with(store: AnyStore, config: &str) -> (Inventory, Shutdown) {
    let mut config = Config::parse(config).unwrap();
    // The test sweeps by hand, so each sweep sees exactly the stock it set up.
    config.inventory.backorder_sweep_ms = 3_600_000;
    common::start(&config, store, &["SKU-1", "SKU-2"]).await
}

/// `qty` units received at the drop-ship supplier, which only web draws from.
fn receipt(id: &str, qty: i64) -> Command {
    receipt_of("SKU-1", id, qty)
}

/// `qty` units of `sku` received at the drop-ship supplier.
fn receipt_of(sku: &str, id: &str, qty: i64) -> Command {
    Command::Stock(StockEvent {
        source: "acme".into(),
        source_event_id: id.into(),
        occurred_at: Timestamp(1),
        sku: Sku::parse(sku).unwrap(),
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
    web_order_of(inventory, external_id, &[("SKU-1", qty)]).await
}

async fn web_order_of(inventory: &Inventory, external_id: &str, lines: &[(&str, i64)]) -> String {
    let lines: Vec<_> = (lines.iter())
        .map(|(sku, qty)| json!({"sku": sku, "qty": qty, "unit_price": "1.00"}))
        .collect();
    let raw = json!({"channel": "web", "external_id": external_id,
        "customer": {"id": "C", "email": "a@b.c"}, "currency": "USD",
        "lines": lines,
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
    id.to_string()
}

async fn state(inventory: &Inventory, id: &str) -> String {
    inventory
        .order(id)
        .await
        .unwrap()
        .unwrap()
        .state
        .to_string()
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
        // Reserved, accepted and (fraud screening not configured) allocated in one commit.
        assert_eq!(state(&inv, &older).await, "allocated");
        assert_eq!(
            state(&inv, &younger).await,
            "backordered",
            "1 left: not enough"
        );
        let o = inv.order(&older).await.unwrap().unwrap();
        assert!(o.lines[0].reservation_id.is_some(), "{:?}", o.lines);
        assert_eq!(o.lines[0].allocations[0].location.as_str(), "acme");
        let path_taken: Vec<&str> = o.history.iter().map(|t| t.to.as_str()).collect();
        assert!(
            path_taken.ends_with(&["backordered", "reserved", "accepted", "allocated"]),
            "{path_taken:?}"
        );
        // It goes on through the saga like an order accepted at intake.
        let erp = jobs_of(&inv, "erp").await;
        assert_eq!(erp.len(), 1);
        assert_eq!(
            (erp[0].kind.as_str(), erp[0].order_id.as_deref()),
            ("post_sales_order", Some(older.as_str()))
        );

        inv.submit(vec![receipt("r2", 10)]).await.unwrap();
        assert_eq!(sweep(&inv).await.unwrap(), 1);
        assert_eq!(state(&inv, &younger).await, "allocated");
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
            if state(&inv, id).await == "allocated" {
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
                assert_eq!(code, crossdock_domain::ErrorCode::BackorderOverdue);
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

async fn jobs_of(inventory: &Inventory, system: &str) -> Vec<crossdock_store::Job> {
    let filter = JobFilter {
        system: Some(system.into()),
        limit: 100,
        ..Default::default()
    };
    inventory.jobs(filter).await.unwrap()
}

async fn advance(inventory: &Inventory, id: &str, from: OrderState, to: OrderState) {
    let a = AdvanceOrder {
        order_id: OrderId::parse(id).unwrap(),
        from,
        to,
        actor: "test".into(),
        correlation_id: "c".into(),
        erp_order_id: None,
        erp_status: None,
        jobs: vec![],
        fail_job: None,
    };
    let outcome = inventory
        .submit_one(Command::AdvanceOrder(Box::new(a)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::OrderMoved {
            moved: true,
            state: to
        }
    );
}

/// An operator cancels order `id`.
async fn cancel(inventory: &Inventory, id: &str) {
    let cancel = CancelOrder {
        order_id: OrderId::parse(id).unwrap(),
        actor: "operator".into(),
        from_system: None,
        correlation_id: "c".into(),
    };
    inventory
        .submit_one(Command::CancelOrder(Box::new(cancel)))
        .await
        .unwrap();
}

async fn reserved_at_acme(inventory: &Inventory, sku: &str) -> i64 {
    let s = inventory.state(sku).unwrap();
    s.at(&LocationCode::parse("acme").unwrap())
        .map_or(0, |r| r.buckets.reserved)
}

/// Shipping what is available: the line in stock is held at once and the order goes on; the
/// waiting line is overdue at the horizon until stock holds it; stock that comes after the
/// ERP has the order makes a part of its own, released and (on a cancel) cancelled by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipping_what_is_available_goes_on_and_releases_the_rest_as_its_own_part() {
    for (store, path) in stores("ship_available").await {
        let (inv, _stop) = start_with(store, &ship_available()).await;
        // 10 at acme: web may promise floor(0.8 * (10 - 2 safety)) = 6 of SKU-1, none of SKU-2.
        inv.submit(vec![receipt("r1", 10)]).await.unwrap();
        let id = web_order_of(&inv, "SA-1", &[("SKU-1", 2), ("SKU-2", 3)]).await;
        let o = inv.order(&id).await.unwrap().unwrap();
        // Accepted, and allocated in the same commit: fraud screening is not configured.
        assert_eq!(o.state.as_str(), "allocated", "{}", o.reason);
        assert!(o.reason.contains("1 of 2 lines held"), "{}", o.reason);
        assert!(o.lines[0].reservation_id.is_some(), "{:?}", o.lines);
        assert!(!o.lines[0].backordered, "{:?}", o.lines);
        assert!(o.lines[1].reservation_id.is_none(), "{:?}", o.lines);
        assert!(o.lines[1].backordered, "{:?}", o.lines);
        assert_eq!(o.lines[1].available, Some(0), "{:?}", o.lines);
        assert_eq!(reserved_at_acme(&inv, "SKU-1").await, 2);
        let erp = jobs_of(&inv, "erp").await;
        assert_eq!(erp.len(), 1, "the held line goes on now");
        assert_eq!(erp[0].kind.as_str(), "post_sales_order");
        let due = jobs_of(&inv, "backorders").await;
        assert_eq!(due.len(), 1, "the waiting line has its horizon");
        let handler = BackorderDue::new(inv.clone());
        match handler.run(&due[0]).await {
            JobResult::Permanent { code, error } => {
                assert_eq!(code, crossdock_domain::ErrorCode::BackorderOverdue);
                assert!(error.contains("1 line(s)"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sweep(&inv).await.unwrap(), 0, "no SKU-2 yet");

        // The ERP has the order (its first release may be on its way) when SKU-2 comes in.
        advance(&inv, &id, OrderState::Allocated, OrderState::ErpPosted).await;
        inv.submit(vec![receipt_of("SKU-2", "r2", 10)])
            .await
            .unwrap();
        assert_eq!(sweep(&inv).await.unwrap(), 1);
        assert_eq!(sweep(&inv).await.unwrap(), 0, "held once");
        let o = inv.order(&id).await.unwrap().unwrap();
        assert_eq!(
            o.state.as_str(),
            "erp_posted",
            "no state changes for a part"
        );
        assert!(o.lines[1].reservation_id.is_some(), "{:?}", o.lines);
        assert_eq!(o.lines[1].part, 2, "{:?}", o.lines);
        assert_eq!(o.lines[0].part, 1, "{:?}", o.lines);
        assert!(o.reason.contains("as part 2"), "{}", o.reason);
        assert_eq!(reserved_at_acme(&inv, "SKU-2").await, 3);
        let wms = jobs_of(&inv, "wms").await;
        let kinds: Vec<(&str, Option<&serde_json::Value>)> = (wms.iter())
            .map(|j| (j.kind.as_str(), j.payload.as_ref()))
            .collect();
        assert_eq!(
            kinds,
            [("release_part", Some(&json!({"part": 2})))],
            "the part goes by itself"
        );
        assert_eq!(handler.run(&due[0]).await, JobResult::Done, "nothing waits");

        // Cancelled before its first release went: only the part's release is undone.
        cancel(&inv, &id).await;
        let wms = jobs_of(&inv, "wms").await;
        let cancels: Vec<Option<&serde_json::Value>> = (wms.iter())
            .filter(|j| j.kind == JobKind::CancelRelease)
            .map(|j| j.payload.as_ref())
            .collect();
        assert_eq!(cancels, [Some(&json!({"part": 2}))]);
        assert_eq!(reserved_at_acme(&inv, "SKU-1").await, 0);
        assert_eq!(reserved_at_acme(&inv, "SKU-2").await, 0);
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}

/// An order that ships what is available and has nothing in stock waits whole; stock for one
/// line takes it on with that line, and stock for the other, before its first release,
/// joins that release. A cancelled one is offered nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_lines_join_the_first_release_while_it_has_not_gone() {
    for (store, path) in stores("ship_available").await {
        let (inv, _stop) = start_with(store, &ship_available()).await;
        let id = web_order_of(&inv, "SA-2", &[("SKU-1", 2), ("SKU-2", 3)]).await;
        let gone = web_order_of(&inv, "SA-3", &[("SKU-1", 1)]).await;
        assert_eq!(state(&inv, &id).await, "backordered");
        cancel(&inv, &gone).await;

        inv.submit(vec![receipt_of("SKU-2", "r1", 10)])
            .await
            .unwrap();
        assert_eq!(sweep(&inv).await.unwrap(), 1);
        let o = inv.order(&id).await.unwrap().unwrap();
        assert_eq!(o.state.as_str(), "allocated");
        assert!(o.lines[1].reservation_id.is_some(), "{:?}", o.lines);
        assert!(o.lines[0].backordered, "{:?}", o.lines);
        let path_taken: Vec<&str> = o.history.iter().map(|t| t.to.as_str()).collect();
        assert!(
            path_taken.ends_with(&["backordered", "reserved", "accepted", "allocated"]),
            "{path_taken:?}"
        );

        inv.submit(vec![receipt("r2", 10)]).await.unwrap();
        assert_eq!(
            sweep(&inv).await.unwrap(),
            1,
            "the cancelled order is offered nothing"
        );
        let o = inv.order(&id).await.unwrap().unwrap();
        assert_eq!(o.state.as_str(), "allocated");
        assert!(o.lines[0].reservation_id.is_some(), "{:?}", o.lines);
        assert_eq!(o.lines[0].part, 1, "joins the first release");
        assert!(jobs_of(&inv, "wms").await.is_empty(), "no part of its own");
        assert_eq!(state(&inv, &gone).await, "cancelled");
        assert_eq!(reserved_at_acme(&inv, "SKU-1").await, 2);
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}

/// Racing sweeps over orders that went on with one line and wait for the other: each waiting
/// line is held once, the oldest first, within what web may promise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_sweeps_hold_each_waiting_line_once() {
    for (store, path) in stores("ship_available_race").await {
        let (inv, _stop) = start_with(store, &ship_available()).await;
        inv.submit(vec![receipt_of("SKU-2", "r0", 100)])
            .await
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..20 {
            let id = web_order_of(&inv, &format!("R-{i}"), &[("SKU-1", 1), ("SKU-2", 1)]).await;
            assert_eq!(state(&inv, &id).await, "allocated");
            ids.push(id);
        }
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
        assert_eq!(
            moved, 9,
            "as with whole orders: 9 of 10 sellable may be promised"
        );
        let mut held = Vec::new();
        for id in &ids {
            let o = inv.order(id).await.unwrap().unwrap();
            if o.lines[0].reservation_id.is_some() {
                held.push(id.clone());
            }
        }
        assert_eq!(held, ids[..9].to_vec(), "the oldest nine");
        assert_eq!(reserved_at_acme(&inv, "SKU-1").await, 9, "none twice");
        assert_eq!(reserved_at_acme(&inv, "SKU-2").await, 20);
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}
