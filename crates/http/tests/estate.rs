//! The source document's estate end to end, on both stores ([`SimEstate`]): a Shopify shop
//! selling on `shopify` for business unit `east`, whose books NetSuite keeps, and an Adobe
//! Commerce store selling on `adobe` for `west`, whose books Business Central keeps; a 3PL
//! shipping for both by Standard Webhooks. A Shopify-signed order delivered three times makes
//! one order and one NetSuite sales order; an order pulled from Adobe Commerce makes one
//! Business Central sales order; the 3PL's parcels become a Shopify fulfillment and an Adobe
//! Commerce shipment with their tracking numbers, the Shopify order's parcel a NetSuite item
//! fulfillment and the Adobe Commerce order's a Business Central posting.

mod common;

use std::time::Duration;

use common::hooks::{deliver, fixture};
use common::{App, eventually, spawn_app_tuned};
use crossdock_connectors::signatures::{sign_shopify, sign_standard};
use crossdock_engine::Config;
use crossdock_sim::SimEstate;
use crossdock_sim::estate::{SHOP_SECRET, WHSEC};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SKUS: [&str; 2] = ["IPOD2008PINK", "IPOD2008BLACK"];

async fn estate(postgres: bool) -> Option<(App, SimEstate)> {
    let skus: Vec<String> = SKUS.iter().map(|s| s.to_string()).collect();
    let e = SimEstate::start(&skus).await.unwrap();
    let sims = crossdock_sim::SimSystems::start().await.unwrap();
    let systems: Vec<(&str, String)> = (sims.urls.iter())
        .filter(|(role, _)| !matches!(*role, "storefront" | "erp"))
        .cloned()
        .collect();
    std::mem::forget(sims);
    let parsed = Config::parse(&format!(
        "{}\n{}",
        crossdock_engine::config::EXAMPLE,
        e.config
    ))
    .unwrap();
    let app = spawn_app_tuned(postgres, &systems, |c| {
        c.channels = parsed.channels;
        c.connectors = parsed.connectors;
        c.ownership = parsed.ownership;
    })
    .await?;
    let items: Vec<Value> = SKUS.iter().map(|s| json!({"sku": s})).collect();
    assert_eq!(
        app.post("/v1/items", json!({"items": items})).await.0,
        StatusCode::OK
    );
    let receipts: Vec<Value> = (SKUS.iter())
        .map(|sku| {
            json!({"source": "erp", "source_event_id": format!("r-{sku}"),
                   "occurred_at": "2026-01-01T00:00:00Z", "sku": sku, "location": "east",
                   "kind": "receipt", "qty": 40})
        })
        .collect();
    let (status, r) = app
        .post("/v1/inventory/events", json!({"events": receipts}))
        .await;
    assert_eq!(
        (status, r["applied"].as_i64()),
        (StatusCode::OK, Some(2)),
        "{r}"
    );
    let (status, answer) = app
        .post("/v1/bindings", SimEstate::item_bindings(&skus))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    Some((app, e))
}

/// The 3PL's parcel of every line of `order_id`, delivered as it signs it.
async fn ship(app: &App, order_id: &str, tracking: &str, lines: Value) {
    let parcel = json!({"type": "shipment.created", "timestamp": "2026-12-01T08:15:00Z",
        "data": {"order_id": order_id, "source": "wms", "source_event_id": tracking,
                 "location": "east", "carrier": "UPS", "tracking_number": tracking,
                 "lines": lines}});
    let body = serde_json::to_vec(&parcel).unwrap();
    let (id, at) = (format!("msg_{tracking}"), crossdock_engine::now().0 / 1000);
    let headers = vec![
        ("webhook-id", id.clone()),
        ("webhook-timestamp", at.to_string()),
        (
            "webhook-signature",
            sign_standard(WHSEC, &id, at, &body).unwrap(),
        ),
    ];
    let (status, answer) = deliver(app, "threepl", &headers, &body).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (StatusCode::OK, Some("taken")),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_storefronts_orders_reach_their_units_erp_and_their_tracking_comes_back() {
    for postgres in [false, true] {
        let Some((app, e)) = estate(postgres).await else {
            continue;
        };
        let app = &app;

        // Shopify, for east: delivered three times, taken once, posted to NetSuite once.
        let order = fixture("shopify/fixtures/orders_create.json");
        e.shop
            .add_order("820982911946154508", &[(SKUS[0], 1), (SKUS[1], 1)]);
        let body = serde_json::to_vec(&order).unwrap();
        let headers = vec![
            (
                "x-shopify-hmac-sha256",
                sign_shopify(SHOP_SECRET.as_bytes(), &body),
            ),
            ("x-shopify-topic", "orders/create".to_string()),
            ("x-shopify-event-id", "evt-estate-1".to_string()),
        ];
        let (a, b) = tokio::join!(
            deliver(app, "shop-us", &headers, &body),
            deliver(app, "shop-us", &headers, &body)
        );
        let c = deliver(app, "shop-us", &headers, &body).await;
        for (status, answer) in [&a, &b, &c] {
            assert_eq!(
                (*status, &answer["order_id"]),
                (StatusCode::OK, &a.1["order_id"])
            );
        }
        let web = a.1["order_id"].as_str().unwrap().to_string();
        let released = app.wait_for_state(&web, "released").await;
        assert_eq!(released["state"], "released", "{released}");
        assert_eq!(released["order"]["business_unit"], "east");

        // Adobe Commerce, for west: pulled, posted to Business Central once.
        e.mage.add_order(7001, &[(SKUS[0], 2)]);
        let pulled = eventually(
            || async { app.get("/v1/orders?channel=adobe&external_id=7001").await.1 },
            |list| list["orders"].as_array().is_some_and(|o| !o.is_empty()),
        )
        .await;
        let market = pulled["orders"][0]["id"].as_str().unwrap().to_string();
        let released = app.wait_for_state(&market, "released").await;
        assert_eq!(released["state"], "released", "{released}");
        assert_eq!(released["order"]["business_unit"], "west");

        let ns: Vec<String> = e.ns.sales_orders().into_keys().collect();
        assert_eq!(
            ns,
            vec![web.clone()],
            "NetSuite has the Shopify order, once"
        );
        let bc: Vec<String> = (e.bc.sales_orders().into_iter())
            .map(|o| o.external_document_number)
            .collect();
        assert_eq!(
            bc,
            vec![market.clone()],
            "Business Central has the Adobe Commerce order, once"
        );

        // The 3PL ships both; each storefront hears of its own parcel.
        ship(
            app,
            &web,
            "1Z-WEB",
            json!([{"sku": SKUS[0], "qty": 1}, {"sku": SKUS[1], "qty": 1}]),
        )
        .await;
        ship(app, &market, "1Z-MKT", json!([{"sku": SKUS[0], "qty": 2}])).await;
        let fulfilled = eventually(|| async { e.shop.fulfilled() }, |f| !f.is_empty()).await;
        assert_eq!(fulfilled.len(), 1, "{fulfilled:?}");
        assert_eq!(fulfilled[0].number.as_deref(), Some("1Z-WEB"));
        let shipped = eventually(|| async { e.mage.shipments() }, |s| !s.is_empty()).await;
        assert_eq!(shipped.len(), 1, "{shipped:?}");
        assert_eq!(
            (shipped[0].order_id, shipped[0].tracks.clone()),
            (7001, vec!["1Z-MKT".into()])
        );
        for id in [&web, &market] {
            let (_, o) = app.get(&format!("/v1/orders/{id}")).await;
            assert_eq!(o["state"], "shipped", "{o}");
        }
        // Long enough for a second call, were one made.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(e.shop.fulfilled().len(), 1);
        assert_eq!(e.mage.shipments().len(), 1);
        assert_eq!(e.ns.sales_orders().len(), 1);
        let booked = eventually(|| async { e.ns.fulfillments() }, |f| !f.is_empty()).await;
        assert_eq!(
            booked.len(),
            1,
            "NetSuite booked the Shopify order's parcel once"
        );
        assert_eq!(e.bc.sales_orders().len(), 1);
        // Business Central posts the parcel with its invoice, once.
        let posted = eventually(|| async { e.bc.postings() }, |p| !p.is_empty()).await;
        assert_eq!(posted.len(), 1, "{posted:?}");
        assert_eq!(posted[0].lines, vec![("1000-S".to_string(), 2.0)]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(e.bc.postings().len(), 1, "posted once");
        let (_, exceptions) = app.get("/v1/exceptions").await;
        assert_eq!(
            exceptions["exceptions"],
            json!([]),
            "nothing needed a person"
        );
    }
}
