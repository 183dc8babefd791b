//! The source document's estate end to end, on both stores: a Shopify shop selling on `web`
//! for business unit `east`, whose books NetSuite keeps, and an Adobe Commerce store selling
//! on `marketplace` for `west`, whose books Business Central keeps; a 3PL shipping for both
//! by Standard Webhooks. A Shopify-signed order delivered three times makes one order and
//! one NetSuite sales order; an order pulled from Adobe Commerce makes one Business Central
//! sales order; the 3PL's parcels become a Shopify fulfillment and an Adobe Commerce
//! shipment with their tracking numbers, the Shopify order's parcel a NetSuite item
//! fulfillment and the Adobe Commerce order's a Business Central posting.

mod common;

use std::time::{Duration, Instant};

use common::hooks::{SHOP_TOKEN, SHOPIFY_SECRET, WHSEC, deliver, fixture, shopify, threepl};
use common::{App, spawn_app_tuned};
use crossdock_engine::Config;
use crossdock_sim::{SimAdobeCommerce, SimBusinessCentral, SimNetSuite, SimShopify};
use reqwest::StatusCode;
use serde_json::{Value, json};

const COMPANY: &str = "c04c550b-593f-ee11-be74-6045bdc8c285";
const MAGE_TOKEN: &str = "adobe_estate_token";
const SKUS: [&str; 2] = ["IPOD2008PINK", "IPOD2008BLACK"];

/// Waits (at most 30 s) until `done` says yes of what `probe` reads, and gives the last read.
async fn eventually<T, F: std::future::Future<Output = T>>(
    probe: impl Fn() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let read = probe().await;
        if done(&read) || Instant::now() > deadline {
            return read;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Estate {
    app: App,
    shop: SimShopify,
    mage: SimAdobeCommerce,
    ns: SimNetSuite,
    bc: SimBusinessCentral,
}

async fn estate(postgres: bool) -> Option<Estate> {
    let shop = SimShopify::new(SHOP_TOKEN);
    let (shop_url, _) = shop.start().await.unwrap();
    let mage = SimAdobeCommerce::new(MAGE_TOKEN);
    let (mage_url, _) = mage.start().await.unwrap();
    let ns = SimNetSuite::new("1234567", "ck-1", "ti-1");
    ns.add_customer("9001", "AUTO");
    ns.add_item("101");
    ns.add_item("102");
    let (ns_url, _) = ns.start().await.unwrap();
    let bc = SimBusinessCentral::new("crossdock", "bc-secret", COMPANY);
    bc.add_customer("10000", " ");
    bc.add_item("1896-S");
    bc.add_item("1900-S");
    let (bc_url, token_url, _) = bc.start().await.unwrap();
    let sims = crossdock_sim::SimSystems::start().await.unwrap();
    let systems: Vec<(&str, String)> = (sims.urls.iter())
        .filter(|(role, _)| !matches!(*role, "storefront" | "erp"))
        .cloned()
        .collect();
    std::mem::forget(sims);

    let dir = std::env::temp_dir().join(format!("crossdock-estate-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, value) in [
        ("shop-token", SHOP_TOKEN),
        ("shop-hook", SHOPIFY_SECRET),
        ("mage", MAGE_TOKEN),
        ("3pl", WHSEC),
        ("ck", "ck-1"),
        ("cs", "cs"),
        ("ti", "ti-1"),
        ("ts", "ts"),
        ("bc", "bc-secret"),
    ] {
        std::fs::write(dir.join(name), value).unwrap();
    }
    let file = |name: &str| format!("file:{}", dir.join(name).display());
    let connectors = format!(
        r#"
[[connectors]]
name = "shop-us"
kind = "shopify"
channel = "web"
business_unit = "east"
url = "{shop_url}"
api_version = "2025-10"
auth = {{ kind = "header", name = "X-Shopify-Access-Token", value = "{shop_token}" }}
webhook_secret = "{shop_hook}"

[[connectors]]
name = "mage"
kind = "adobe_commerce"
channel = "marketplace"
business_unit = "west"
url = "{mage_url}"
poll_secs = 1
pull_since = "2026-11-30T14:00:00Z"
auth = {{ kind = "bearer", token = "{mage}" }}

[[connectors]]
name = "threepl"
kind = "standard_webhooks"
url = "https://3pl.example.com"
webhook_secret = "{threepl}"

[[connectors]]
name = "netsuite"
kind = "netsuite"
url = "{ns_url}"
business_units = ["east"]
default_customer = "9001"
auth = {{ kind = "netsuite_tba", account = "1234567", consumer_key = "{ck}", consumer_secret = "{cs}", token_id = "{ti}", token_secret = "{ts}" }}

[[connectors]]
name = "bc"
kind = "business_central"
url = "{bc_url}"
company_id = "{COMPANY}"
business_units = ["west"]
default_customer = "10000"
ship_and_invoice = true
auth = {{ kind = "oauth2_client_credentials", token_url = "{token_url}", client_id = "crossdock", client_secret = "{bc}" }}
"#,
        shop_token = file("shop-token"),
        shop_hook = file("shop-hook"),
        mage = file("mage"),
        threepl = file("3pl"),
        ck = file("ck"),
        cs = file("cs"),
        ti = file("ti"),
        ts = file("ts"),
        bc = file("bc"),
    );
    let parsed = Config::parse(&format!(
        "{}\n{connectors}",
        crossdock_engine::config::EXAMPLE
    ))
    .unwrap();
    let app = spawn_app_tuned(postgres, &systems, |c| c.connectors = parsed.connectors).await?;
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
    let bind = |connector: &str, ours: &str, theirs: &str| json!({"connector": connector, "kind": "item", "ours": ours, "theirs": theirs});
    let bindings = json!({"bindings": [
        bind("netsuite", SKUS[0], "101"), bind("netsuite", SKUS[1], "102"),
        bind("bc", SKUS[0], "1896-S"), bind("bc", SKUS[1], "1900-S"),
    ]});
    let (status, answer) = app.post("/v1/bindings", bindings).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    Some(Estate {
        app,
        shop,
        mage,
        ns,
        bc,
    })
}

/// The 3PL's parcel of every line of `order_id`, delivered as it signs it.
async fn ship(app: &App, order_id: &str, tracking: &str, lines: Value) {
    let parcel = json!({"type": "shipment.created", "timestamp": "2026-12-01T08:15:00Z",
        "data": {"order_id": order_id, "source": "wms", "source_event_id": tracking,
                 "location": "east", "carrier": "UPS", "tracking_number": tracking,
                 "lines": lines}});
    let (headers, body) = threepl(&format!("msg_{tracking}"), &parcel);
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
        let Some(e) = estate(postgres).await else {
            continue;
        };
        let app = &e.app;

        // Shopify, for east: delivered three times, taken once, posted to NetSuite once.
        let order = fixture("shopify/fixtures/orders_create.json");
        e.shop
            .add_order("820982911946154508", &[(SKUS[0], 1), (SKUS[1], 1)]);
        let (headers, body) = shopify("orders/create", "evt-estate-1", &order);
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
        e.mage.set_clock("2026-11-30 15:00:00");
        e.mage.add_order(7001, &[(SKUS[0], 2)]);
        let pulled = eventually(
            || async {
                app.get("/v1/orders?channel=marketplace&external_id=7001")
                    .await
                    .1
            },
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
        assert_eq!(posted[0].lines, vec![("1896-S".to_string(), 2.0)]);
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
