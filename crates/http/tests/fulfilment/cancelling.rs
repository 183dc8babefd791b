//! Cancelling at each state runs exactly the compensations that apply.

use super::*;

pub(crate) async fn cancelling_compensates_at_each_state(postgres: bool) {
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
    // A release in flight when the order was cancelled (the warehouse was down) may still
    // reach the warehouse once it is back; then the hub cancels it there too. Never a
    // warehouse cancel without a release.
    assert!(
        eventually(|| {
            received(&sims.wms, "/cancel", &posted) == received(&sims.wms, "/releases", &posted)
        })
        .await,
        "each release of the cancelled order is cancelled in the warehouse, and nothing else"
    );
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
