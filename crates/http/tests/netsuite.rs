//! NetSuite as the ERP, end to end over HTTP on both stores: sales orders upserted by
//! external id with token-based authentication, the customer and items read from bindings,
//! the internal id kept as the order's binding, NetSuite's concurrency limit waited out, a
//! missing binding an exception that a retry clears once the binding is added, shipments
//! recorded as item fulfillments of NetSuite's own lines (once, even when an answer is lost
//! after NetSuite made one), and
//! credit read from the customer record; a cancelled order's sales order closed.

mod common;

use common::{App, spawn_app_tuned};
use crossdock_engine::Config;
use crossdock_sim::SimNetSuite;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ACCOUNT: &str = "1234567";

fn order(external_id: &str, account: &str, skus: &[&str]) -> Value {
    let lines: Vec<Value> = skus
        .iter()
        .map(|sku| json!({"sku": sku, "qty": 2, "unit_price": "19.99"}))
        .collect();
    json!({
        "channel": "b2b", "external_id": external_id,
        "customer": {"id": format!("C-{account}"), "account": account, "email": "buyer@example.com"},
        "currency": "USD", "lines": lines,
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

/// A hub whose ERP is the NetSuite account `ns`, its TBA secrets in files.
async fn hub(postgres: bool, ns: &SimNetSuite) -> Option<(App, tokio::task::JoinHandle<()>)> {
    let (url, server) = ns.start().await.unwrap();
    let wms = crossdock_sim::SimService::new(crossdock_sim::Kind::Wms);
    let (wms_url, _) = wms.start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("crossdock-netsuite-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, value) in [
        ("ck", "ck-1"),
        ("cs", "cs-secret"),
        ("ti", "ti-1"),
        ("ts", "ts-secret"),
    ] {
        std::fs::write(dir.join(name), value).unwrap();
    }
    let file = |name: &str| format!("file:{}", dir.join(name).display());
    let connector = format!(
        "[[connectors]]\nname = \"netsuite\"\nkind = \"netsuite\"\nurl = \"{url}\"\n\
         timeout_ms = 2000\nauth = {{ kind = \"netsuite_tba\", account = \"{ACCOUNT}\", \
         consumer_key = \"{}\", consumer_secret = \"{}\", token_id = \"{}\", \
         token_secret = \"{}\" }}\n",
        file("ck"),
        file("cs"),
        file("ti"),
        file("ts")
    );
    let parsed = Config::parse(&format!(
        "{}\n{connector}",
        crossdock_engine::config::EXAMPLE
    ))
    .unwrap();
    let erp = parsed.system("erp").unwrap().clone();
    let app = spawn_app_tuned(postgres, &[("wms", wms_url)], |c| {
        c.connectors = parsed.connectors;
        c.set_system("erp", erp);
    })
    .await?;
    app.post(
        "/v1/items",
        json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}]}),
    )
    .await;
    let seed: Vec<Value> = ["SKU-1", "SKU-2"]
        .iter()
        .map(|sku| {
            json!({"source": "erp", "source_event_id": format!("s-{sku}"),
                   "occurred_at": "2026-01-01T00:00:00Z", "sku": sku, "location": "east",
                   "kind": "receipt", "qty": 100})
        })
        .collect();
    app.events(json!(seed)).await;
    Some((app, server))
}

async fn bind(app: &App, kind: &str, ours: &str, theirs: &str) {
    let body = json!({"bindings": [{"connector": "netsuite", "kind": kind, "ours": ours, "theirs": theirs}]});
    let (status, answer) = app.post("/v1/bindings", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// The order's open exception, once it has one.
async fn exception_of(app: &App, order_id: &str) -> Value {
    for _ in 0..600 {
        let (status, list) = app.get("/v1/exceptions?status=open").await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let open = list["exceptions"].as_array().unwrap();
        if let Some(e) = open.iter().find(|e| e["order_id"] == order_id) {
            return e.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no exception for {order_id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sales_orders_reach_netsuite_once_through_their_bindings() {
    for postgres in [false, true] {
        let ns = SimNetSuite::new(ACCOUNT, "ck-1", "ti-1");
        ns.add_customer("9001", "AUTO");
        ns.add_customer("9002", "ON");
        ns.add_item("101");
        ns.add_item("102");
        let Some((app, _server)) = hub(postgres, &ns).await else {
            continue;
        };
        bind(&app, "customer", "ACME", "9001").await;
        bind(&app, "customer", "HOLDCO", "9002").await;
        bind(&app, "item", "SKU-1", "101").await;

        // NetSuite is at its concurrency limit for the first calls: waited out, one order.
        ns.limit_next(2);
        let (status, placed) = app
            .post("/v1/orders", order("B-1", "ACME", &["SKU-1"]))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        let id = placed["id"].as_str().unwrap().to_string();
        let o = app.wait_for_state(&id, "released").await;
        assert_eq!(o["state"], "released", "{o}");
        let orders = ns.sales_orders();
        let so = &orders[&id];
        assert_eq!(
            o["erp_order_id"],
            so.id.as_str(),
            "the internal id from Location"
        );
        assert_eq!(so.body["externalId"], id.as_str());
        assert_eq!(so.body["entity"]["id"], "9001");
        assert_eq!(so.body["otherRefNum"], "B-1");
        assert_eq!(so.body["item"]["items"][0]["item"]["id"], "101");
        assert_eq!(so.body["item"]["items"][0]["rate"], 19.99);
        assert_eq!(so.upserts, 1, "{so:?}");
        let (_, bound) = app
            .get(&format!(
                "/v1/bindings?connector=netsuite&kind=order&ours={id}"
            ))
            .await;
        assert_eq!(bound["bindings"][0]["theirs"], so.id.as_str(), "{bound}");
        assert_eq!(
            ns.calls().1,
            0,
            "every call carried the account's TBA header"
        );

        // An item nobody bound: an exception naming it, cleared by a retry once bound.
        let (_, placed) = app
            .post("/v1/orders", order("B-2", "ACME", &["SKU-1", "SKU-2"]))
            .await;
        let second = placed["id"].as_str().unwrap().to_string();
        let e = exception_of(&app, &second).await;
        assert_eq!(e["code"], "ITEM_UNKNOWN_IN_ERP", "{e}");
        let error = e["last_error"].as_str().unwrap();
        assert!(
            error.contains("no NetSuite item for SKU-2") && error.contains("add a binding"),
            "{e}"
        );
        assert!(!ns.sales_orders().contains_key(&second), "nothing was sent");
        bind(&app, "item", "SKU-2", "102").await;
        let retry = format!("/v1/exceptions/{}/retry", e["id"].as_str().unwrap());
        let (status, answer) = app.post(&retry, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let o = app.wait_for_state(&second, "released").await;
        assert_eq!(o["state"], "released", "{o}");
        assert_eq!(
            ns.sales_orders()[&second].body["item"]["items"][1]["item"]["id"],
            "102"
        );

        // A parcel of one of SKU-2's two units, then the rest: two item fulfillments of
        // NetSuite's own line numbers (SKU-2 is its line 4), each once. The first one's
        // answer is lost after NetSuite made it: the retry finds it.
        let so = ns.sales_orders()[&second].id.clone();
        ns.lose_next_answer();
        let parcels = [
            ("P-1", json!([{"sku": "SKU-2", "qty": 1}])),
            (
                "P-2",
                json!([{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}]),
            ),
        ];
        for (n, (event, lines)) in parcels.into_iter().enumerate() {
            let parcel = json!({"order_id": second, "source_event_id": event,
                                "location": "east", "lines": lines, "carrier": "UPS",
                                "tracking_number": format!("1Z-{event}")});
            let (status, answer) = app.post("/v1/shipments", parcel).await;
            assert!(status.is_success(), "{status} {answer}");
            // One parcel at a time: each reads the lines the one before left open.
            for _ in 0..600 {
                if ns.fulfillments().len() > n {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }
        // Every ERP job settled, the lost answer's retry among them.
        for _ in 0..600 {
            let (_, ready) = app.get("/v1/jobs?system=erp&state=ready").await;
            let (_, leased) = app.get("/v1/jobs?system=erp&state=leased").await;
            let none = |l: &Value| l["jobs"].as_array().is_some_and(|j| j.is_empty());
            if none(&ready) && none(&leased) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let (_, open) = app.get("/v1/exceptions?status=open&system=erp").await;
        let open = open["exceptions"].as_array().unwrap();
        assert!(
            open.is_empty(),
            "the retry found what NetSuite made: {open:?}"
        );
        let made = ns.fulfillments();
        assert_eq!(made.len(), 2, "{made:?}");
        assert!(made.iter().all(|f| f.sales_order == so));
        assert_eq!(made[0].lines, vec![(4, 1.0)], "{made:?}");
        assert_eq!(made[1].lines, vec![(1, 2.0), (4, 1.0)], "{made:?}");
        assert!(
            made[0].external_id.starts_with(&format!("{second}:")),
            "{made:?}"
        );
        assert_ne!(made[0].external_id, made[1].external_id);
        assert!(
            made[0].body["memo"].as_str().unwrap().contains("1Z-P-1"),
            "{:?}",
            made[0]
        );

        // A customer NetSuite holds for credit is held by the in-request check.
        let (status, held) = app
            .post("/v1/orders", order("B-3", "HOLDCO", &["SKU-1"]))
            .await;
        let code = if status.is_success() {
            let o = app
                .wait_for_state(held["id"].as_str().unwrap(), "on_hold")
                .await;
            assert_eq!(o["state"], "on_hold", "{o}");
            "CUSTOMER_ON_CREDIT_HOLD".to_string()
        } else {
            held["code"].as_str().unwrap().to_string()
        };
        assert_eq!(code, "CUSTOMER_ON_CREDIT_HOLD", "{held}");
        assert_eq!(
            ns.sales_orders().len(),
            2,
            "no sales order for a held customer"
        );
    }
}

/// An order cancelled after its sales order was posted is closed in NetSuite: every line of
/// its sales order `isClosed`, through a concurrency-limited first call.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_order_closes_its_sales_order_in_netsuite() {
    for postgres in [false, true] {
        let ns = SimNetSuite::new(ACCOUNT, "ck-1", "ti-1");
        ns.add_customer("9001", "AUTO");
        ns.add_item("101");
        ns.add_item("102");
        let Some((app, _server)) = hub(postgres, &ns).await else {
            continue;
        };
        bind(&app, "customer", "ACME", "9001").await;
        bind(&app, "item", "SKU-1", "101").await;
        bind(&app, "item", "SKU-2", "102").await;
        let (status, placed) = app
            .post("/v1/orders", order("B-9", "ACME", &["SKU-1", "SKU-2"]))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        let id = placed["id"].as_str().unwrap().to_string();
        let o = app.wait_for_state(&id, "released").await;
        assert_eq!(o["state"], "released", "{o}");
        assert!(ns.sales_orders()[&id].closed.is_empty());

        ns.limit_next(1);
        let (status, r) = app
            .post(&format!("/v1/orders/{id}/cancel"), json!({}))
            .await;
        assert!(status.is_success(), "{status} {r}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while ns.sales_orders()[&id].closed.len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the sales order was not closed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let so = &ns.sales_orders()[&id];
        assert_eq!(
            so.closed.iter().copied().collect::<Vec<_>>(),
            [1, 4],
            "NetSuite's line numbers"
        );
        let (_, open) = app.get("/v1/exceptions?status=open").await;
        let open = open["exceptions"].as_array().unwrap();
        assert!(
            open.iter().all(|e| e["order_id"] != id.as_str()),
            "{open:?}"
        );
    }
}
