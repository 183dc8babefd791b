//! Statuses the ERP pushes, mapped to canonical states and acted on.

use super::*;

pub(crate) async fn erp_statuses_map_to_canonical_states(postgres: bool) {
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
