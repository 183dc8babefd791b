//! Orders that wait for a person: fraud and credit holds, the in-request credit check, and
//! invoices that do not come to the order's value.

use super::*;

pub(crate) async fn holds_wait_for_a_person(postgres: bool) {
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

pub(crate) async fn the_b2b_portal_checks_credit_in_the_request(postgres: bool) {
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

/// An invoice that does not come to the order's value (goods 47.00 and tax 3.00) does not
/// close it: the order waits as `PRICE_MISMATCH`. A retry alone changes nothing; the ERP's
/// invoice for the rest closes it. Resolving the exception accepts invoices as they are.
pub(crate) async fn invoices_that_do_not_match_wait_for_a_person(postgres: bool) {
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
