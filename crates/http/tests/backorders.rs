//! Backorders over HTTP, on SQLite and PostgreSQL: a backordered order goes on by itself when
//! stock arrives; on a channel that ships what is available, an order goes to the warehouse
//! with the lines in stock, and the line it waited for follows as a part of its own, under
//! its own reference, until the order has shipped whole.

mod common;

use std::time::{Duration, Instant};

use common::App;
use crossdock_engine::config::BackorderPolicy;
use crossdock_sim::SimSystems;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A web order for `lines` (SKU, units) at 10.00 each.
fn web_order(external_id: &str, lines: &[(&str, i64)]) -> Value {
    let lines: Vec<Value> = (lines.iter())
        .map(|(sku, qty)| json!({"sku": sku, "qty": qty, "unit_price": "10.00"}))
        .collect();
    json!({
        "channel": "web", "external_id": external_id,
        "customer": {"id": "C-7", "email": "shopper@example.com"},
        "currency": "USD", "lines": lines,
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

fn receipt(id: &str, sku: &str, location: &str, qty: i64) -> Value {
    json!({"source": "erp", "source_event_id": id, "occurred_at": "2026-01-02T00:00:00Z",
           "sku": sku, "location": location, "kind": "receipt", "qty": qty})
}

/// Waits until `f` holds (or 15 s pass) and says whether it does.
async fn eventually(f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    f()
}

/// A backordered order is reserved on its own when stock arrives, and goes on through the
/// saga (its first outside step queued); the receipt's sender need do nothing more.
async fn backorders_move_when_stock_arrives(app: App) {
    app.post(
        "/v1/items",
        json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}]}),
    )
    .await;
    let (status, placed) = app
        .post(
            "/v1/orders",
            web_order("BO-1", &[("SKU-1", 3), ("SKU-2", 1)]),
        )
        .await;
    assert_eq!(
        (status, placed["state"].as_str()),
        (StatusCode::CREATED, Some("backordered"))
    );
    let id = placed["id"].as_str().unwrap();
    let (_, waiting) = app.get("/v1/orders?waiting=true").await;
    assert_eq!(waiting["orders"][0]["id"], id, "{waiting}");
    let r = app
        .events(json!([
            receipt("po-1-rcv", "SKU-1", "acme", 40),
            receipt("b", "SKU-2", "east", 40)
        ]))
        .await;
    assert_eq!(r["applied"], 2, "{r}");
    // Reserved, accepted and (fraud screening not configured) allocated in one commit.
    let o = app.wait_for_state(id, "allocated").await;
    assert_eq!(o["state"], "allocated", "{o}");
    assert!(
        o["reason"].as_str().unwrap().contains("from backorder"),
        "{o}"
    );
    assert!(o["lines"][0]["reservation_id"].is_string(), "{o}");
    let (_, jobs) = app.get("/v1/jobs?system=erp").await;
    assert!(
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["order_id"] == id && j["kind"] == "post_sales_order"),
        "{jobs}"
    );
    let (_, waiting) = app.get("/v1/orders?waiting=true").await;
    assert_eq!(waiting["orders"], json!([]), "nothing waits now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backorders_move_when_stock_arrives() {
    let app = common::spawn_app_tuned(false, &[], |c| c.inventory.backorder_sweep_ms = 50);
    backorders_move_when_stock_arrives(app.await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backorders_move_when_stock_arrives() {
    let app = common::spawn_app_tuned(true, &[], |c| c.inventory.backorder_sweep_ms = 50);
    if let Some(app) = app.await {
        backorders_move_when_stock_arrives(app).await;
    }
}

/// Web ships what is available: of SKU-1 × 2 (in stock at east) and SKU-2 × 1 (none), the
/// warehouse is sent SKU-1 at once; SKU-2 cannot ship before it is held; when it comes in,
/// it goes as part 2 (`{id}:part2`) and its parcel ships the order.
async fn what_is_available_ships_now_and_the_rest_follows(app: App, sims: SimSystems) {
    app.post(
        "/v1/items",
        json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}]}),
    )
    .await;
    app.events(json!([receipt("r1", "SKU-1", "east", 100)]))
        .await;
    let (status, placed) = app
        .post(
            "/v1/orders",
            web_order("SA-1", &[("SKU-1", 2), ("SKU-2", 1)]),
        )
        .await;
    assert_eq!(
        (status, placed["state"].as_str()),
        (StatusCode::CREATED, Some("accepted")),
        "{placed}"
    );
    assert_eq!(placed["lines"][1]["backordered"], true, "{placed}");
    let id = placed["id"].as_str().unwrap().to_string();
    let o = app.wait_for_state(&id, "released").await;
    assert_eq!(o["state"], "released", "{o}");
    let first = sims.wms.received("/releases");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].body["reference"], id.as_str());
    let skus: Vec<&Value> = (first[0].body["lines"].as_array().unwrap().iter())
        .map(|l| &l["sku"])
        .collect();
    assert_eq!(skus, [&json!("SKU-1")], "only the line in stock");
    // The ERP has the whole order.
    let posted = sims.erp.orders();
    assert_eq!(posted[0].body["lines"].as_array().unwrap().len(), 2);

    let parcel = |event: &str, sku: &str, qty: i64| {
        json!({"order_id": id, "source_event_id": event, "location": "east",
               "lines": [{"sku": sku, "qty": qty}], "carrier": "UPS",
               "tracking_number": format!("1Z-{event}")})
    };
    let (status, p) = app.post("/v1/shipments", parcel("P-0", "SKU-2", 1)).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("WAREHOUSE_MISMATCH")),
        "a waiting line holds nothing to ship: {p}"
    );
    let (status, s) = app.post("/v1/shipments", parcel("P-1", "SKU-1", 2)).await;
    assert_eq!(
        (status, s["state"].as_str()),
        (StatusCode::CREATED, Some("partially_shipped")),
        "{s}"
    );

    // 40 at east: past b2b's fence of 20 there, web may promise some.
    let r = app
        .events(json!([receipt("r2", "SKU-2", "east", 40)]))
        .await;
    assert_eq!(r["applied"], 1, "{r}");
    let part = format!("{id}:part2");
    assert!(
        eventually(|| sims
            .wms
            .received("/releases")
            .iter()
            .any(|c| c.body["reference"] == part.as_str()))
        .await,
        "part 2 released: {:?}",
        app.get("/v1/jobs?system=wms").await,
    );
    let calls = sims.wms.received("/releases");
    let second = calls.iter().find(|c| c.body["reference"] == part.as_str());
    let lines = second.unwrap().body["lines"].as_array().unwrap();
    assert_eq!(
        (lines.len(), &lines[0]["sku"]),
        (1, &json!("SKU-2")),
        "{lines:?}"
    );
    let (_, o) = app.get(&format!("/v1/orders/{id}")).await;
    assert_eq!(o["lines"][1]["part"], 2, "{o}");
    assert!(o["lines"][1].get("backordered").is_none(), "{o}");

    let (status, s) = app.post("/v1/shipments", parcel("P-2", "SKU-2", 1)).await;
    assert_eq!(
        (status, s["state"].as_str()),
        (StatusCode::CREATED, Some("shipped")),
        "{s}"
    );
    let (_, waiting) = app.get("/v1/orders?waiting=true").await;
    assert_eq!(waiting["orders"], json!([]));
}

async fn setup(postgres: bool) -> Option<(App, SimSystems)> {
    let sims = SimSystems::start().await.unwrap();
    let systems: Vec<(&str, String)> = sims.urls.clone();
    let app = common::spawn_app_tuned(postgres, &systems, |c| {
        c.inventory.backorder_sweep_ms = 50;
        for ch in c.channels.iter_mut().filter(|ch| ch.code.as_str() == "web") {
            ch.backorders = BackorderPolicy::ShipAvailable;
        }
    })
    .await?;
    Some((app, sims))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_what_is_available_ships_now_and_the_rest_follows() {
    let (app, sims) = setup(false).await.unwrap();
    what_is_available_ships_now_and_the_rest_follows(app, sims).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_what_is_available_ships_now_and_the_rest_follows() {
    if let Some((app, sims)) = setup(true).await {
        what_is_available_ships_now_and_the_rest_follows(app, sims).await;
    }
}
