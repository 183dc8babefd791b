//! Returns within the channel's window, and refused after it.

use super::*;

/// A shipment of the whole order that left `days_ago` days ago.
pub(crate) async fn ship_all(app: &App, id: &str, event: &str, days_ago: i64) {
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

pub(crate) async fn returns_follow_the_window(postgres: bool) {
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
