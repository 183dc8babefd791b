//! Order to cash end to end, on SQLite and PostgreSQL, against every simulated system:
//! screening, tax, the ERP, the warehouse, shipments and invoices flowing back, payment
//! captured, the channel told; fraud and credit holds waiting for a person; and cancelling at
//! each state running exactly the compensations that apply.

mod common;

use std::time::{Duration, Instant};

use common::{App, spawn_app_tuned};
use crossdock_sim::{Faults, SimService, SimSystems};
use crossdock_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn setup(postgres: bool) -> Option<(App, SimSystems)> {
    setup_tuned(postgres, |_| {}).await
}

/// [`setup`] with the configuration changed by `tune` first.
async fn setup_tuned(
    postgres: bool,
    tune: impl FnOnce(&mut crossdock_engine::Config),
) -> Option<(App, SimSystems)> {
    let sims = SimSystems::start().await.unwrap();
    let systems: Vec<(&str, String)> = sims.urls.clone();
    let app = spawn_app_tuned(postgres, &systems, tune).await?;
    app.post(
        "/v1/items",
        json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}]}),
    )
    .await;
    app.events(json!([
        {"source": "erp", "source_event_id": "r1", "occurred_at": "2026-01-01T00:00:00Z",
         "sku": "SKU-1", "location": "east", "kind": "receipt", "qty": 100},
        {"source": "erp", "source_event_id": "r2", "occurred_at": "2026-01-01T00:00:00Z",
         "sku": "SKU-2", "location": "east", "kind": "receipt", "qty": 100}
    ]))
    .await;
    Some((app, sims))
}

/// A web order: 2 × SKU-1 at 10.00 and 1 × SKU-2 at 27.00, tax 3.00, authorised for 50.00.
fn web_order(external_id: &str, email: &str) -> Value {
    json!({
        "channel": "web", "external_id": external_id,
        "customer": {"id": "C-1", "email": email},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "10.00"},
                  {"sku": "SKU-2", "qty": 1, "unit_price": "27.00"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"},
        "payment": {"authorization": format!("AUTH-{external_id}"), "amount": "50.00"},
        "tax": {"amount": "3.00", "provider_ref": "TX-1"}
    })
}

fn b2b_order(external_id: &str, account: &str) -> Value {
    json!({
        "channel": "b2b", "external_id": external_id,
        "customer": {"id": "C-2", "account": account, "email": "ap@trade.example"},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "9.00"}],
        "ship_to": {"name": "Trade Buyer", "line1": "2 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

async fn place(app: &App, order: Value) -> String {
    let (status, body) = app.post("/v1/orders", order).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"], "accepted", "{body}");
    body["id"].as_str().unwrap().to_string()
}

fn shipment(order_id: &str, event: &str, lines: Value) -> Value {
    json!({"order_id": order_id, "source_event_id": event, "location": "east",
           "lines": lines, "carrier": "UPS", "tracking_number": format!("1Z-{event}")})
}

/// Waits until `f` holds (or 15 s pass) and says whether it does.
async fn eventually(f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    f()
}

fn received(sim: &SimService, suffix: &str, reference: &str) -> usize {
    sim.received(suffix)
        .iter()
        .filter(|c| c.body["reference"] == reference)
        .count()
}

async fn sellable_at_east(app: &App, sku: &str) -> i64 {
    let (_, a) = app.get(&format!("/v1/availability/{sku}")).await;
    a["locations"][0]["sellable"].as_i64().unwrap()
}

fn states(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap().to_string())
        .collect()
}

async fn order_to_cash(postgres: bool) {
    let Some((app, sims)) = setup(postgres).await else {
        return;
    };
    let id = place(&app, web_order("W-1", "buyer@example.com")).await;
    let held = sellable_at_east(&app, "SKU-1").await;
    let o = app.wait_for_state(&id, "released").await;
    assert_eq!(o["state"], "released", "{o}");
    assert_eq!(received(&sims.fraud, "/screen", &id), 1);
    assert_eq!(received(&sims.tax, "/transactions/commit", &id), 1);
    assert_eq!(received(&sims.wms, "/releases", &id), 1);
    assert_eq!(sims.erp.stats().created, 1);

    // Shipments before the order is in the ERP, for unknown orders, and beyond the order
    // are refused and change nothing.
    let (status, p) = app
        .post(
            "/v1/shipments",
            shipment("ord_nope", "X", json!([{"sku": "SKU-1", "qty": 1}])),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ORDER_NOT_FOUND"))
    );
    let (status, p) = app
        .post(
            "/v1/shipments",
            shipment(&id, "X", json!([{"sku": "SKU-1", "qty": 3}])),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("QTY_EXCEEDS_ORDER"))
    );
    let (status, p) = app
        .post(
            "/v1/shipments",
            shipment(&id, "X", json!([{"sku": "SKU-9", "qty": 1}])),
        )
        .await;
    assert_eq!(p["code"], "SKU_NOT_ON_ORDER", "{status} {p}");
    let (status, p) = app
        .post("/v1/shipments", json!({"order_id": id, "lines": []}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p["errors"].as_array().unwrap().len() >= 4, "{p}");

    // A parcel from a location the order holds nothing at is refused: west's stock and
    // east's reservation stay as they were.
    let before = app.get("/v1/availability/SKU-1").await.1;
    let mut elsewhere = shipment(&id, "X-west", json!([{"sku": "SKU-1", "qty": 1}]));
    elsewhere["location"] = json!("west");
    let (status, p) = app.post("/v1/shipments", elsewhere).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("WAREHOUSE_MISMATCH"))
    );
    assert!(p["detail"].as_str().unwrap().contains("at east"), "{p}");
    assert_eq!(app.get("/v1/availability/SKU-1").await.1, before);
    // ...and kept in the exception queue as sent, for a person; they decide it was handled.
    let (_, ex) = app.get("/v1/exceptions?code=WAREHOUSE_MISMATCH").await;
    let e = &ex["exceptions"][0];
    assert_eq!(
        (
            e["order_id"].as_str(),
            e["system"].as_str(),
            e["status"].as_str()
        ),
        (Some(id.as_str()), Some("shipments"), Some("open")),
        "{ex}"
    );
    assert!(
        e["remediation"].as_str().unwrap().contains("right one"),
        "{e}"
    );
    let e = e["id"].as_str().unwrap().to_string();
    // Offered again, it is refused again: the exception reopens, stock untouched.
    app.post(&format!("/v1/exceptions/{e}/retry"), json!({}))
        .await;
    let reopened = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, x) = app.get(&format!("/v1/exceptions/{e}")).await;
            if x["status"] == "open" && x["attempts"].as_i64() > Some(0)
                || Instant::now() > deadline
            {
                break x;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    };
    assert_eq!(reopened["status"], "open", "{reopened}");
    assert_eq!(app.get("/v1/availability/SKU-1").await.1, before);
    app.post(&format!("/v1/exceptions/{e}/resolve"), json!({}))
        .await;

    // First parcel: one unit of SKU-1. The warehouse sends it twice.
    let first = shipment(&id, "WMS-1", json!([{"sku": "SKU-1", "qty": 1}]));
    let (status, s) = app.post("/v1/shipments", first.clone()).await;
    assert_eq!(
        (status, s["state"].as_str()),
        (StatusCode::CREATED, Some("partially_shipped"))
    );
    let (status, again) = app.post("/v1/shipments", first).await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    // Second parcel: the rest.
    let rest = shipment(
        &id,
        "WMS-2",
        json!([{"sku": "SKU-1", "qty": 1}, {"sku": "SKU-2", "qty": 1}]),
    );
    let (status, s) = app.post("/v1/shipments", rest).await;
    assert_eq!(
        (status, s["state"].as_str()),
        (StatusCode::CREATED, Some("shipped"))
    );
    // The units left the building once: the reservation was consumed, not counted again.
    assert_eq!(sellable_at_east(&app, "SKU-1").await, held);

    let (status, p) = app
        .post(
            "/v1/shipments",
            shipment(&id, "WMS-3", json!([{"sku": "SKU-1", "qty": 1}])),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("ORDER_STATE_CONFLICT"))
    );

    // Tracking to the channel, fulfilments to the ERP, payment captured in full.
    assert!(eventually(|| sims.storefront.received("/tracking").len() == 2).await);
    assert!(eventually(|| sims.payment.received("/captures").len() == 2).await);
    assert!(
        eventually(|| sims
            .erp
            .orders()
            .first()
            .is_some_and(|o| o.fulfilments.len() == 2))
        .await
    );
    let captured: f64 = sims
        .payment
        .received("/captures")
        .iter()
        .map(|c| c.body["amount"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(format!("{captured:.2}"), "50.00");

    // An invoice in another currency is refused and changes nothing.
    let euros =
        json!({"order_id": id, "invoice_id": "INV-EUR", "amount": "50.00", "currency": "EUR"});
    let (status, p) = app.post("/v1/invoices", euros).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("CURRENCY_MISMATCH"))
    );
    assert!(p["detail"].as_str().unwrap().contains("EUR"), "{p}");
    assert_eq!(
        app.get(&format!("/v1/orders/{id}")).await.1["state"],
        "shipped"
    );

    // The invoice closes the order once the channel has it.
    let invoice =
        json!({"order_id": id, "invoice_id": "INV-1", "amount": "50.00", "currency": "USD"});
    let (status, i) = app.post("/v1/invoices", invoice.clone()).await;
    assert_eq!(
        (status, i["state"].as_str()),
        (StatusCode::CREATED, Some("invoiced"))
    );
    let (status, again) = app.post("/v1/invoices", invoice.clone()).await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    // The same invoice number with another amount is a conflict, not a duplicate.
    let mut changed = invoice;
    changed["amount"] = json!("5.00");
    let (status, p) = app.post("/v1/invoices", changed).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("INVOICE_CONFLICT"))
    );
    let o = app.wait_for_state(&id, "closed").await;
    assert_eq!(o["state"], "closed", "{o}");
    assert_eq!(received(&sims.storefront, "/invoices", "INV-1"), 1);
    let path = states(&o);
    for s in [
        "released",
        "partially_shipped",
        "shipped",
        "invoiced",
        "closed",
    ] {
        assert!(path.iter().any(|p| p == s), "{s} in {path:?}");
    }
    assert_eq!(o["shipments"].as_array().unwrap().len(), 2, "{o}");
    // The web channel calls shipped "fulfilled" and closed "complete".
    assert_eq!(o["channel_status"], "complete");
    let tracking = sims.storefront.received("/tracking");
    // Each parcel's tracking says what that parcel made of the order, whatever the order
    // has become since (invoiced, closed) by the time it goes out.
    let mut statuses: Vec<&str> = tracking
        .iter()
        .filter(|c| c.body["order_id"] == id.as_str())
        .map(|c| c.body["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["fulfilled", "partially_shipped"], "{tracking:?}");
    let (_, listed) = app.get("/v1/orders?channel=web&state=complete").await;
    assert_eq!(listed["orders"][0]["id"], id.as_str());
    let (status, _) = app.get("/v1/orders?state=complete").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only the web channel says complete"
    );
    assert_eq!(o["shipments"][0]["tracking_number"], "1Z-WMS-1");
    assert_eq!(o["invoices"][0]["invoice_id"], "INV-1");

    // Invoiced in full before the last parcel: the last parcel closes the order.
    let id = place(&app, web_order("W-2", "buyer@example.com")).await;
    app.wait_for_state(&id, "released").await;
    let first = shipment(&id, "WMS-21", json!([{"sku": "SKU-1", "qty": 2}]));
    app.post("/v1/shipments", first).await;
    let invoice =
        json!({"order_id": id, "invoice_id": "INV-2", "amount": "50.00", "currency": "USD"});
    let (status, i) = app.post("/v1/invoices", invoice).await;
    assert_eq!(
        (status, i["state"].as_str()),
        (StatusCode::CREATED, Some("partially_shipped"))
    );
    let last = shipment(&id, "WMS-22", json!([{"sku": "SKU-2", "qty": 1}]));
    let (status, s) = app.post("/v1/shipments", last).await;
    assert_eq!(
        (status, s["state"].as_str()),
        (StatusCode::CREATED, Some("closed")),
        "{s}"
    );

    let (_, ex) = app.get("/v1/exceptions?status=open").await;
    assert!(ex["exceptions"].as_array().unwrap().is_empty(), "{ex}");
}

async fn holds_wait_for_a_person(postgres: bool) {
    let Some((app, sims)) = setup(postgres).await else {
        return;
    };
    // Fraud: a flagged buyer is held; resolving the exception approves the order.
    sims.fraud.flag("mallory@example.com");
    let id = place(&app, web_order("W-F", "mallory@example.com")).await;
    let o = app.wait_for_state(&id, "on_hold").await;
    assert_eq!(o["state"], "on_hold", "{o}");
    let (_, ex) = app.get("/v1/exceptions?code=FRAUD_SUSPECTED").await;
    let e = ex["exceptions"][0].clone();
    assert_eq!(
        (e["order_id"].as_str(), e["status"].as_str()),
        (Some(id.as_str()), Some("open"))
    );
    assert!(
        e["remediation"].as_str().unwrap().contains("resolve"),
        "{e}"
    );
    let (status, _) = app
        .post(
            &format!("/v1/exceptions/{}/resolve", e["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let o = app.wait_for_state(&id, "released").await;
    assert_eq!(o["state"], "released", "{o}");
    assert_eq!(
        received(&sims.fraud, "/screen", &id),
        1,
        "approved, not screened again"
    );

    // Credit, checked after intake (web): an account on hold in the ERP is held; a retry
    // checks again.
    sims.erp.set_credit_hold("SLOW-PAYER", true);
    let mut web = web_order("W-C", "ap@slow.example");
    web["customer"]["account"] = json!("SLOW-PAYER");
    let id = place(&app, web).await;
    let o = app.wait_for_state(&id, "on_hold").await;
    assert_eq!(o["state"], "on_hold", "{o}");
    let (_, ex) = app.get("/v1/exceptions?code=CUSTOMER_ON_CREDIT_HOLD").await;
    let exc = ex["exceptions"][0]["id"].as_str().unwrap().to_string();
    let known = app.store.credit_status("SLOW-PAYER").await.unwrap();
    assert_eq!(
        known.map(|k| k.0).as_deref(),
        Some("hold"),
        "the answer is remembered"
    );
    let checks = sims.erp.credit_checks();
    app.post(&format!("/v1/exceptions/{exc}/retry"), json!({}))
        .await;
    assert!(eventually(|| sims.erp.credit_checks() > checks).await);
    let o = app.wait_for_state(&id, "on_hold").await;
    assert_eq!(o["state"], "on_hold", "still on hold in the ERP");
    let (_, e) = app.get(&format!("/v1/exceptions/{exc}")).await;
    assert_eq!(
        (e["status"].as_str(), e["attempts"].as_i64()),
        (Some("open"), Some(2))
    );
    sims.erp.set_credit_hold("SLOW-PAYER", false);
    app.post(&format!("/v1/exceptions/{exc}/retry"), json!({}))
        .await;
    let o = app.wait_for_state(&id, "released").await;
    assert_eq!(o["state"], "released", "{o}");
}

async fn erp_statuses_map_to_canonical_states(postgres: bool) {
    let Some((app, sims)) = setup(postgres).await else {
        return;
    };
    // The ERP creates sales orders "Pending Approval", configured to mean on_hold.
    sims.erp.set_new_order_status(Some("Pending Approval"));
    let approved_in_erp = place(&app, web_order("E-1", "e@example.com")).await;
    let waved_through = place(&app, web_order("E-2", "f@example.com")).await;
    let given_up = place(&app, web_order("E-3", "g@example.com")).await;
    let approval_pushed = place(&app, web_order("E-4", "h@example.com")).await;
    for id in [
        &approved_in_erp,
        &waved_through,
        &given_up,
        &approval_pushed,
    ] {
        let o = app.wait_for_state(id, "on_hold").await;
        assert_eq!(o["state"], "on_hold");
        assert_eq!(o["erp_status"], "Pending Approval", "{o}");
    }
    let (_, ex) = app.get("/v1/exceptions?code=ERP_ORDER_HELD").await;
    let exceptions = ex["exceptions"].as_array().unwrap().clone();
    assert_eq!(exceptions.len(), 4, "{ex}");
    let exception_of = |id: &str| {
        exceptions
            .iter()
            .find(|e| e["order_id"] == id)
            .and_then(|e| e["id"].as_str())
            .unwrap()
            .to_string()
    };
    // Approved in the ERP, then retried: the status is read again and the order goes on.
    sims.erp
        .set_order_status(&approved_in_erp, "Pending Fulfillment");
    let e = exception_of(&approved_in_erp);
    app.post(&format!("/v1/exceptions/{e}/retry"), json!({}))
        .await;
    // Resolved by an operator: goes on although the ERP still says "Pending Approval".
    let e = exception_of(&waved_through);
    app.post(&format!("/v1/exceptions/{e}/resolve"), json!({}))
        .await;
    // Approved in the ERP, which pushes the new status: the hold lifts by itself.
    sims.erp
        .set_order_status(&approval_pushed, "Pending Fulfillment");
    let push = |id: &str, status: &str| {
        app.post(
            "/v1/erp-statuses",
            json!({"order_id": id, "status": status}),
        )
    };
    let (status, answer) = push(&approval_pushed, "Pending Fulfillment").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["means"].as_str(), answer["action"].as_str()),
        (Some("erp_posted"), Some("hold_released")),
        "{answer}"
    );
    for id in [&approved_in_erp, &waved_through, &approval_pushed] {
        let o = app.wait_for_state(id, "released").await;
        assert_eq!(o["state"], "released", "{o}");
        assert!(o["erp_order_id"].as_str().unwrap().starts_with("SO-"));
    }
    let o = app.wait_for_state(&approval_pushed, "released").await;
    assert_eq!(o["erp_status"], "Pending Fulfillment", "{o}");
    assert_eq!(
        sims.erp.stats().created,
        4,
        "one sales order each, found again by reference"
    );
    // Any other status is recorded and changes nothing else.
    let (_, answer) = push(&waved_through, "Pending Fulfillment").await;
    assert_eq!(
        (answer["action"].as_str(), answer["state"].as_str()),
        (Some("recorded"), Some("released")),
        "{answer}"
    );
    // Put on hold in the ERP before the warehouse has it: held here, the release waits; the
    // hold lifted in the ERP, the release goes out.
    sims.erp.set_new_order_status(None);
    sims.wms.set_faults(Faults {
        down_for_ms: 60_000,
        ..Faults::default()
    });
    let held_in_erp = place(&app, web_order("E-5", "i@example.com")).await;
    assert_eq!(
        app.wait_for_state(&held_in_erp, "erp_posted").await["state"],
        "erp_posted"
    );
    let (_, answer) = push(&held_in_erp, "Pending Approval").await;
    assert_eq!(
        (answer["action"].as_str(), answer["state"].as_str()),
        (Some("held"), Some("on_hold")),
        "{answer}"
    );
    sims.wms.set_faults(Faults::default());
    // The release queued before the hold runs, finds the order held, and stops.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, jobs) = app.get("/v1/jobs?system=wms&state=done&limit=1000").await;
        let done = jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["order_id"] == held_in_erp.as_str() && j["kind"] == "release_to_wms");
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (_, o) = app.get(&format!("/v1/orders/{held_in_erp}")).await;
    assert_eq!(o["state"], "on_hold", "the release waits for the ERP: {o}");
    assert_eq!(received(&sims.wms, "/releases", &held_in_erp), 0);
    let (_, answer) = push(&held_in_erp, "Pending Fulfillment").await;
    assert_eq!(
        (answer["action"].as_str(), answer["state"].as_str()),
        (Some("hold_released"), Some("erp_posted")),
        "{answer}"
    );
    let o = app.wait_for_state(&held_in_erp, "released").await;
    assert_eq!(o["state"], "released", "{o}");
    // A status with no mapping is refused and changes nothing.
    let (status, p) = push(&approval_pushed, "Billed").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("MAPPING_FAILED")),
        "{p}"
    );
    let (status, p) = push("ord_nope", "Cancelled").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ORDER_NOT_FOUND"))
    );
    // Cancelled in the ERP after release: cancelled here with every compensation but the
    // ERP's own.
    let (status, answer) = push(&approved_in_erp, "Cancelled").await;
    assert_eq!(
        (status, answer["action"].as_str(), answer["state"].as_str()),
        (StatusCode::OK, Some("cancelled"), Some("cancelled")),
        "{answer}"
    );
    let cancel_reached = |suffix: &'static str| {
        let (sims, id) = (&sims, approved_in_erp.clone());
        move || {
            sims.wms
                .received(suffix)
                .iter()
                .any(|c| c.path.contains(&id))
                || sims
                    .payment
                    .received(suffix)
                    .iter()
                    .any(|c| c.body["reference"] == id)
        }
    };
    assert!(
        eventually(cancel_reached("/cancel")).await,
        "the release is cancelled"
    );
    assert!(
        eventually(cancel_reached("/voids")).await,
        "the authorisation is voided"
    );
    let (_, jobs) = app.get("/v1/jobs?system=erp&limit=1000").await;
    let to_erp: Vec<&str> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["order_id"] == approved_in_erp.as_str())
        .map(|j| j["kind"].as_str().unwrap())
        .collect();
    assert!(
        !to_erp.contains(&"cancel_sales_order"),
        "nothing is sent back to the ERP that cancelled: {to_erp:?}"
    );
    let (_, o) = app.get(&format!("/v1/orders/{approved_in_erp}")).await;
    assert_eq!(o["erp_status"], "Cancelled", "{o}");
    // Given up while held: the ERP already had the sales order, so it is cancelled there.
    let (status, _) = app
        .post(&format!("/v1/orders/{given_up}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let cancelled = || {
        sims.erp
            .orders()
            .iter()
            .any(|o| o.external_ref == given_up && o.cancelled)
    };
    assert!(
        eventually(cancelled).await,
        "the held sales order is cancelled in the ERP"
    );
}

async fn the_b2b_portal_checks_credit_in_the_request(postgres: bool) {
    let Some((app, sims)) = setup(postgres).await else {
        return;
    };
    // Checked in the request, the order is not checked again by the saga.
    let id = place(&app, b2b_order("B-0", "GOOD-PAYER")).await;
    let o = app.wait_for_state(&id, "released").await;
    assert_eq!(o["state"], "released", "{o}");
    assert_eq!(sims.erp.credit_checks(), 1);
    // The ERP says "on hold": refused at once, nothing stored, so it can be sent again.
    sims.erp.set_credit_hold("SLOW-PAYER", true);
    let (status, p) = app.post("/v1/orders", b2b_order("B-1", "SLOW-PAYER")).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("CUSTOMER_ON_CREDIT_HOLD")
        ),
        "{p}"
    );
    let (_, listed) = app.get("/v1/orders?channel=b2b").await;
    let listed = listed["orders"].as_array().unwrap();
    assert!(
        listed.iter().all(|o| o["external_id"] != "B-1"),
        "{listed:?}"
    );
    // A good account goes through; its webhook sent again after a hold is still a replay.
    let first = place(&app, b2b_order("B-2", "GOOD-PAYER")).await;
    sims.erp.set_credit_hold("GOOD-PAYER", true);
    let (status, again) = app.post("/v1/orders", b2b_order("B-2", "GOOD-PAYER")).await;
    assert_eq!(
        (status, again["id"].as_str()),
        (StatusCode::CREATED, Some(first.as_str()))
    );
    // The ERP is down: the last known status stands in for it.
    sims.erp.set_faults(Faults {
        down_for_ms: 60_000,
        ..Faults::default()
    });
    let (status, p) = app.post("/v1/orders", b2b_order("B-3", "SLOW-PAYER")).await;
    assert_eq!(p["code"], "CUSTOMER_ON_CREDIT_HOLD", "{status} {p}");
    assert!(
        p["detail"].as_str().unwrap().contains("last checked"),
        "{p}"
    );
    // Never checked and the ERP down: taken, and checked again after intake.
    let (status, p) = app
        .post("/v1/orders", b2b_order("B-4", "NEW-ACCOUNT"))
        .await;
    assert_eq!(
        (status, p["state"].as_str()),
        (StatusCode::CREATED, Some("accepted")),
        "{p}"
    );
}

/// Past `credit_answer_valid_ms`, the answer given in the request no longer stands as the
/// order's check: the saga's step asks the ERP again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_credit_answer_is_asked_again() {
    let tune = |c: &mut crossdock_engine::Config| c.saga.credit_answer_valid_ms = 0;
    let Some((app, sims)) = setup_tuned(false, tune).await else {
        return;
    };
    let id = place(&app, b2b_order("B-0", "GOOD-PAYER")).await;
    let o = app.wait_for_state(&id, "released").await;
    assert_eq!(o["state"], "released", "{o}");
    assert_eq!(sims.erp.credit_checks(), 2, "the request's and the saga's");
}

async fn cancelling_compensates_at_each_state(postgres: bool) {
    let Some((app, sims)) = setup(postgres).await else {
        return;
    };
    let down = Faults {
        down_for_ms: 60_000,
        ..Faults::default()
    };
    let cancel = |id: String| {
        let app = app.clone();
        async move {
            let (status, o) = app
                .post(&format!("/v1/orders/{id}/cancel"), json!({}))
                .await;
            assert_eq!(
                (status, o["state"].as_str()),
                (StatusCode::OK, Some("cancelled")),
                "{o}"
            );
        }
    };
    let before = sellable_at_east(&app, "SKU-1").await;

    // Accepted (screening is down): void the authorisation, tell the channel; nothing in
    // the ERP or the warehouse.
    sims.fraud.set_faults(down.clone());
    let accepted = place(&app, web_order("C-1", "a@example.com")).await;
    cancel(accepted.clone()).await;
    assert_eq!(
        sellable_at_east(&app, "SKU-1").await,
        before,
        "stock is back"
    );
    sims.fraud.set_faults(Faults::default());

    // In the ERP (the warehouse is down): cancel the sales order too.
    sims.wms.set_faults(down.clone());
    let posted = place(&app, web_order("C-2", "b@example.com")).await;
    assert_eq!(
        app.wait_for_state(&posted, "erp_posted").await["state"],
        "erp_posted"
    );
    cancel(posted.clone()).await;
    sims.wms.set_faults(Faults::default());

    // Released: cancel in the warehouse as well.
    let released = place(&app, web_order("C-3", "c@example.com")).await;
    assert_eq!(
        app.wait_for_state(&released, "released").await["state"],
        "released"
    );
    cancel(released.clone()).await;

    let erp_cancelled = |id: &str| {
        sims.erp
            .orders()
            .iter()
            .any(|o| o.external_ref == id && o.cancelled)
    };
    for id in [&accepted, &posted, &released] {
        assert!(
            eventually(|| received(&sims.payment, "/voids", id) == 1).await,
            "void {id}"
        );
        assert!(
            eventually(|| received(&sims.storefront, "/cancellation", id) == 1).await,
            "channel told of {id}"
        );
    }
    assert!(eventually(|| erp_cancelled(&posted) && erp_cancelled(&released)).await);
    assert!(eventually(|| received(&sims.wms, "/cancel", &released) == 1).await);
    assert!(!sims.erp.orders().iter().any(|o| o.external_ref == accepted));
    assert_eq!(received(&sims.wms, "/cancel", &posted), 0);
    assert_eq!(
        sellable_at_east(&app, "SKU-1").await,
        before,
        "every unit is back"
    );

    // Shipped: too late to cancel.
    let shipped = place(&app, web_order("C-4", "d@example.com")).await;
    app.wait_for_state(&shipped, "released").await;
    let all = json!([{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}]);
    app.post("/v1/shipments", shipment(&shipped, "S-4", all))
        .await;
    let (status, p) = app
        .post(&format!("/v1/orders/{shipped}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("ORDER_NOT_CANCELLABLE"))
    );
}

/// A shipment of the whole order that left `days_ago` days ago.
async fn ship_all(app: &App, id: &str, event: &str, days_ago: i64) {
    let at = crossdock_domain::Timestamp(crossdock_engine::now().0 - days_ago * 86_400_000);
    let mut s = shipment(
        id,
        event,
        json!([{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}]),
    );
    s["shipped_at"] = serde_json::to_value(at).unwrap();
    let (status, body) = app.post("/v1/shipments", s).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn returns_follow_the_window(postgres: bool) {
    let Some((app, sims)) = setup(postgres).await else {
        return;
    };
    let recent = place(&app, web_order("R-1", "r@example.com")).await;
    let old = place(&app, web_order("R-2", "s@example.com")).await;
    for id in [&recent, &old] {
        assert_eq!(
            app.wait_for_state(id, "released").await["state"],
            "released"
        );
    }
    // Not shipped yet: nothing to return.
    let one = |id: &str, sku: &str, qty: i64| json!({"order_id": id, "lines": [{"sku": sku, "qty": qty}], "reason": "too small"});
    let (status, p) = app.post("/v1/returns", one(&recent, "SKU-1", 1)).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("ORDER_STATE_CONFLICT"))
    );
    ship_all(&app, &recent, "RS-1", 29).await;
    ship_all(&app, &old, "RS-2", 31).await;

    // Outside the web channel's 30-day window.
    let (status, p) = app.post("/v1/returns", one(&old, "SKU-1", 1)).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("RETURN_WINDOW_CLOSED")
        ),
        "{p}"
    );
    // Inside it: an RMA, posted to the ERP; the channel's request sent twice opens one.
    let mut request = one(&recent, "SKU-1", 1);
    request["return_ref"] = json!("RET-77");
    let (status, rma) = app.post("/v1/returns", request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{rma}");
    let rma_id = rma["rma_id"].as_str().unwrap().to_string();
    assert!(rma_id.starts_with("rma_"));
    let (status, again) = app.post("/v1/returns", request).await;
    assert_eq!(
        (
            status,
            again["duplicate"].as_bool(),
            again["rma_id"].as_str()
        ),
        (StatusCode::OK, Some(true), Some(rma_id.as_str()))
    );
    let (status, p) = app.post("/v1/returns", one(&recent, "SKU-1", 2)).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("QTY_EXCEEDS_ORDER")),
        "only one unit of SKU-1 is left to return"
    );
    assert!(
        eventually(|| sims
            .erp
            .orders()
            .iter()
            .any(|o| o.external_ref == recent && o.returns.len() == 1))
        .await
    );
    // The unit comes back: inspection holds it, the order is not yet returned.
    let received = |id: &str, n: &str, sku: &str| {
        json!([{"source": "wms", "source_event_id": n, "occurred_at": "2026-11-27T09:00:00Z",
                "sku": sku, "location": "east", "kind": "return_received", "qty": 1,
                "order_ref": id}])
    };
    app.events(received(&recent, "RR-1", "SKU-1")).await;
    let (_, o) = app.get(&format!("/v1/orders/{recent}")).await;
    assert_eq!(o["state"], "shipped");
    assert_eq!(o["returns"][0]["lines"][0]["received"], 1, "{o}");
    // The rest comes back too: the order is returned. Sent twice without the channel's
    // reference, an Idempotency-Key makes the repeat open nothing.
    let rest = json!({"order_id": recent, "lines": [{"sku": "SKU-1", "qty": 1}, {"sku": "SKU-2", "qty": 1}]});
    let keyed = || {
        app.http
            .post(format!("{}/v1/returns", app.base))
            .header("Idempotency-Key", "rest-of-it")
            .json(&rest)
            .send()
    };
    let first = keyed().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = keyed().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["duplicate"].as_bool(), &again["rma_id"]),
        (Some(true), &first["rma_id"])
    );
    app.events(received(&recent, "RR-2", "SKU-1")).await;
    app.events(received(&recent, "RR-3", "SKU-2")).await;
    let (_, o) = app.get(&format!("/v1/orders/{recent}")).await;
    assert_eq!(o["state"], "returned", "{o}");
    let (_, a) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(a["locations"][0]["inspection"], 2, "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_returns_follow_the_window() {
    returns_follow_the_window(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_returns_follow_the_window() {
    returns_follow_the_window(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_order_to_cash() {
    order_to_cash(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_order_to_cash() {
    order_to_cash(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holds_wait_for_a_person() {
    holds_wait_for_a_person(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holds_wait_for_a_person() {
    holds_wait_for_a_person(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_b2b_portal_checks_credit_in_the_request() {
    the_b2b_portal_checks_credit_in_the_request(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_b2b_portal_checks_credit_in_the_request() {
    the_b2b_portal_checks_credit_in_the_request(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_erp_statuses_map_to_canonical_states() {
    erp_statuses_map_to_canonical_states(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_erp_statuses_map_to_canonical_states() {
    erp_statuses_map_to_canonical_states(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cancelling_compensates_at_each_state() {
    cancelling_compensates_at_each_state(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cancelling_compensates_at_each_state() {
    cancelling_compensates_at_each_state(true).await;
}

/// An invoice that does not come to the order's value (goods 47.00 and tax 3.00) does not
/// close it: the order waits as `PRICE_MISMATCH`. A retry alone changes nothing; the ERP's
/// invoice for the rest closes it. Resolving the exception accepts invoices as they are.
async fn invoices_that_do_not_match_wait_for_a_person(postgres: bool) {
    let Some((app, _sims)) = setup(postgres).await else {
        return;
    };
    let invoice = |id: &str, number: &str, amount: &str| json!({"order_id": id, "invoice_id": number, "amount": amount, "currency": "USD"});
    let id = place(&app, web_order("W-P", "buyer@example.com")).await;
    app.wait_for_state(&id, "released").await;
    ship_all(&app, &id, "WMS-P", 0).await;
    let (status, i) = app
        .post("/v1/invoices", invoice(&id, "INV-P1", "0.01"))
        .await;
    assert_eq!(
        (status, i["state"].as_str(), i["code"].as_str()),
        (StatusCode::CREATED, Some("shipped"), Some("PRICE_MISMATCH")),
        "{i}"
    );
    assert!(i["detail"].as_str().unwrap().contains("worth 50.00"), "{i}");
    let (_, ex) = app.get("/v1/exceptions?code=PRICE_MISMATCH").await;
    let e = ex["exceptions"][0].clone();
    assert_eq!(e["order_id"], id.as_str(), "{ex}");
    let e = e["id"].as_str().unwrap().to_string();
    app.post(&format!("/v1/exceptions/{e}/retry"), json!({}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.get(&format!("/v1/orders/{id}")).await.1["state"],
        "shipped"
    );
    let (_, again) = app.get(&format!("/v1/exceptions/{e}")).await;
    assert_eq!(
        again["status"], "open",
        "compared again, still short: {again}"
    );
    // The rest of the amount, invoiced: it comes to 50.00 and the order closes.
    app.post("/v1/invoices", invoice(&id, "INV-P2", "49.99"))
        .await;
    let o = app.wait_for_state(&id, "closed").await;
    assert_eq!(o["state"], "closed", "{o}");
    let (_, settled) = app.get(&format!("/v1/exceptions/{e}")).await;
    assert_eq!(
        settled["status"], "resolved",
        "the mismatch is settled: {settled}"
    );

    // Another order, over-invoiced: resolving the exception accepts it and closes the order.
    let id = place(&app, web_order("W-Q", "buyer@example.com")).await;
    app.wait_for_state(&id, "released").await;
    ship_all(&app, &id, "WMS-Q", 0).await;
    let (_, i) = app
        .post("/v1/invoices", invoice(&id, "INV-Q1", "75.00"))
        .await;
    assert_eq!(i["code"], "PRICE_MISMATCH", "{i}");
    let (_, ex) = app
        .get("/v1/exceptions?code=PRICE_MISMATCH&status=open")
        .await;
    let e = ex["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["order_id"] == id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/v1/exceptions/{e}/resolve"), json!({}))
        .await;
    let o = app.wait_for_state(&id, "closed").await;
    assert_eq!(o["state"], "closed", "{o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_invoices_that_do_not_match_wait_for_a_person() {
    invoices_that_do_not_match_wait_for_a_person(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_invoices_that_do_not_match_wait_for_a_person() {
    invoices_that_do_not_match_wait_for_a_person(true).await;
}
