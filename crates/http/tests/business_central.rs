//! Business Central as the ERP, end to end over HTTP on both stores: OAuth 2.0 client
//! credentials, sales orders made with their lines from the bindings, one order even when
//! Business Central made it but its answer was lost (the retry looks the external document
//! number up first, since Business Central does not hold it unique), its rate limit waited
//! out, a missing binding an exception that names it, a cancellation deleting the sales
//! order, and parcels posted there with their invoice (each unit once, though two parcels'
//! jobs race) or, without `ship_and_invoice`, left to a person.

mod common;

use common::{App, spawn_app_tuned};
use crossdock_engine::Config;
use crossdock_sim::SimBusinessCentral;
use reqwest::StatusCode;
use serde_json::{Value, json};

const COMPANY: &str = "c04c550b-593f-ee11-be74-6045bdc8c285";

fn order(external_id: &str, account: &str) -> Value {
    json!({
        "channel": "b2b", "external_id": external_id,
        "customer": {"id": format!("C-{account}"), "account": account, "email": "buyer@example.com"},
        "currency": "USD", "lines": [{"sku": "SKU-1", "qty": 3, "unit_price": "12.50"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

/// A hub whose ERP is the Business Central company `bc`, its client secret in a file.
async fn hub(postgres: bool, bc: &SimBusinessCentral) -> Option<App> {
    hub_with(postgres, bc, "").await
}

/// [`hub`], the connector given `extra` settings.
async fn hub_with(postgres: bool, bc: &SimBusinessCentral, extra: &str) -> Option<App> {
    let (url, token_url, _) = bc.start().await.unwrap();
    let wms = crossdock_sim::SimService::new(crossdock_sim::Kind::Wms);
    let (wms_url, _) = wms.start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("crossdock-bc-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("secret"), "bc-secret").unwrap();
    let connector = format!(
        "[[connectors]]\nname = \"bc\"\nkind = \"business_central\"\nurl = \"{url}\"\n\
         company_id = \"{COMPANY}\"\ntimeout_ms = 2000\n\
         auth = {{ kind = \"oauth2_client_credentials\", token_url = \"{token_url}\", \
         client_id = \"crossdock\", client_secret = \"file:{}\", \
         scope = \"https://api.businesscentral.dynamics.com/.default\" }}\n{extra}\n",
        dir.join("secret").display()
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
    app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
        .await;
    app.events(json!([{"source": "erp", "source_event_id": "s-1",
        "occurred_at": "2026-01-01T00:00:00Z", "sku": "SKU-1", "location": "east",
        "kind": "receipt", "qty": 100}]))
        .await;
    Some(app)
}

async fn bind(app: &App, kind: &str, ours: &str, theirs: &str) {
    let body =
        json!({"bindings": [{"connector": "bc", "kind": kind, "ours": ours, "theirs": theirs}]});
    let (status, answer) = app.post("/v1/bindings", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Waits until `done` holds (panics after 15 s).
async fn eventually(what: &str, done: impl Fn() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sales_orders_reach_business_central_once_and_cancel_by_delete() {
    for postgres in [false, true] {
        let bc = SimBusinessCentral::new("crossdock", "bc-secret", COMPANY);
        bc.add_customer("10000", " ");
        bc.add_item("1896-S");
        let Some(app) = hub(postgres, &bc).await else {
            continue;
        };
        bind(&app, "customer", "ACME", "10000").await;
        bind(&app, "item", "SKU-1", "1896-S").await;

        // Business Central makes the first sales order but its answer is lost; it is then at
        // its rate limit for a call. The retry finds the order it made: one sales order.
        bc.lose_next_answer();
        let (status, placed) = app.post("/v1/orders", order("B-1", "ACME")).await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        let id = placed["id"].as_str().unwrap().to_string();
        bc.limit_next(1);
        let o = app.wait_for_state(&id, "released").await;
        assert_eq!(o["state"], "released", "{o}");
        let made = bc.sales_orders();
        assert_eq!(made.len(), 1, "one sales order for one order: {made:?}");
        let so = &made[0];
        assert_eq!(so.external_document_number, id);
        assert_eq!(o["erp_order_id"], so.number.as_str(), "known by its number");
        assert_eq!(so.body["customerNumber"], "10000");
        let line = &so.body["salesOrderLines"][0];
        assert_eq!(
            (
                &line["lineObjectNumber"],
                &line["quantity"],
                &line["unitPrice"]
            ),
            (&json!("1896-S"), &json!(3), &json!(12.5))
        );
        assert_eq!(so.body["shipToCity"], "Newark");
        let (_, bound) = app
            .get(&format!("/v1/bindings?connector=bc&kind=order&ours={id}"))
            .await;
        assert_eq!(bound["bindings"][0]["theirs"], so.id.as_str(), "{bound}");
        // The ERP's runner and the in-request credit check (a `sync` channel) each keep a
        // token, and reuse it for every call.
        assert_eq!(bc.calls().1, 2, "one token each served every call");

        // Cancelled: the sales order is deleted in Business Central.
        let (status, answer) = app
            .post(
                &format!("/v1/orders/{id}/cancel"),
                json!({"reason": "changed mind"}),
            )
            .await;
        assert!(status.is_success(), "{status} {answer}");
        eventually("the sales order's deletion", || bc.deleted().len() == 1).await;
        assert_eq!(bc.deleted()[0].id, so.id);
        assert!(bc.sales_orders().is_empty());

        // A customer nobody bound: an exception naming it, before anything is sent.
        let (_, placed) = app.post("/v1/orders", order("B-2", "NOBODY")).await;
        let second = placed["id"].as_str().unwrap().to_string();
        let mut found = None;
        for _ in 0..600 {
            let (_, list) = app.get("/v1/exceptions?status=open&system=erp").await;
            found = list["exceptions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["order_id"] == second.as_str())
                .cloned();
            if found.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let e = found.expect("an exception for the unbound customer");
        assert_eq!(e["code"], "CUSTOMER_UNKNOWN_IN_ERP", "{e}");
        assert!(
            e["last_error"]
                .as_str()
                .unwrap()
                .contains("no Business Central customer for `NOBODY`"),
            "{e}"
        );
        assert!(bc.sales_orders().is_empty(), "nothing was sent");

        // A customer Business Central blocks from shipping is held for credit.
        bc.add_customer("20000", "Ship");
        bind(&app, "customer", "HOLDCO", "20000").await;
        let (status, held) = app.post("/v1/orders", order("B-3", "HOLDCO")).await;
        let code = match status.is_success() {
            true => {
                let o = app
                    .wait_for_state(held["id"].as_str().unwrap(), "on_hold")
                    .await;
                assert_eq!(o["state"], "on_hold", "{o}");
                "CUSTOMER_ON_CREDIT_HOLD".to_string()
            }
            false => held["code"].as_str().unwrap().to_string(),
        };
        assert_eq!(code, "CUSTOMER_ON_CREDIT_HOLD", "{held}");
        assert!(
            bc.sales_orders().is_empty(),
            "no sales order for a held customer"
        );
    }
}

/// A parcel of `qty` units of the order's SKU-1 from east, as the warehouse reports it.
async fn parcel(app: &App, order_id: &str, n: u32, qty: i64) -> StatusCode {
    let body = json!({"order_id": order_id, "source_event_id": format!("p-{order_id}-{n}"),
        "location": "east", "carrier": "UPS", "tracking_number": format!("1Z-{n}"),
        "lines": [{"sku": "SKU-1", "qty": qty}]});
    app.post("/v1/shipments", body).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parcels_are_posted_with_their_invoice_each_unit_once() {
    for postgres in [false, true] {
        let bc = SimBusinessCentral::new("crossdock", "bc-secret", COMPANY);
        bc.add_customer("10000", " ");
        bc.add_item("1896-S");
        let Some(app) = hub_with(postgres, &bc, "ship_and_invoice = true").await else {
            continue;
        };
        bind(&app, "customer", "ACME", "10000").await;
        bind(&app, "item", "SKU-1", "1896-S").await;
        let (_, placed) = app.post("/v1/orders", order("B-10", "ACME")).await;
        let id = placed["id"].as_str().unwrap().to_string();
        let o = app.wait_for_state(&id, "released").await;
        assert_eq!(o["state"], "released", "{o}");
        // Two parcels of the three units at once: their jobs race.
        let (a, b) = tokio::join!(parcel(&app, &id, 1, 1), parcel(&app, &id, 2, 2));
        assert!(a.is_success() && b.is_success(), "{a} {b}");
        let shipped = || -> f64 {
            (bc.postings().iter())
                .flat_map(|p| p.lines.iter().map(|(_, units)| *units))
                .sum()
        };
        eventually("three units posted", || shipped() == 3.0).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(shipped(), 3.0, "each unit posted once: {:?}", bc.postings());
        let (_, exceptions) = app.get("/v1/exceptions").await;
        assert_eq!(exceptions["exceptions"], json!([]), "{exceptions}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_ship_and_invoice_a_parcel_is_left_to_a_person() {
    let bc = SimBusinessCentral::new("crossdock", "bc-secret", COMPANY);
    bc.add_customer("10000", " ");
    bc.add_item("1896-S");
    let Some(app) = hub(false, &bc).await else {
        return;
    };
    bind(&app, "customer", "ACME", "10000").await;
    bind(&app, "item", "SKU-1", "1896-S").await;
    let (_, placed) = app.post("/v1/orders", order("B-11", "ACME")).await;
    let id = placed["id"].as_str().unwrap().to_string();
    app.wait_for_state(&id, "released").await;
    assert!(parcel(&app, &id, 1, 3).await.is_success());
    let mut open = Value::Null;
    for _ in 0..600 {
        open = app.get("/v1/exceptions?code=ERP_REJECTED").await.1;
        if open["exceptions"].as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let e = &open["exceptions"][0];
    assert!(
        e["last_error"]
            .as_str()
            .unwrap()
            .contains("ship_and_invoice"),
        "{open}"
    );
    assert!(bc.postings().is_empty(), "nothing was posted");
}
