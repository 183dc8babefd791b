//! An order from intake to cash, through every simulated system.

use super::*;

pub(crate) async fn order_to_cash(postgres: bool) {
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
