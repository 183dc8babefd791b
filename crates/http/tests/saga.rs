//! End to end: an order taken in over HTTP travels the saga to the simulated ERP, on SQLite
//! and PostgreSQL. A storm of duplicate deliveries makes one ERP sales order.

mod common;

use std::time::{Duration, Instant};

use common::spawn_app_with;
use crossdock_sim::{Faults, SimErp};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn order(external_id: &str) -> Value {
    json!({
        "channel": "b2b", "external_id": external_id,
        "customer": {"id": "C-42", "account": "ACME-TRADING", "email": "buyer@example.com"},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "19.99"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

async fn orders_reach_the_erp_once(postgres: bool) {
    let erp = SimErp::default();
    let (base, server) = erp.start().await.unwrap();
    // The ERP is down for a moment when the first order arrives.
    erp.set_faults(Faults {
        fail_next: 2,
        ..Faults::default()
    });
    let Some(app) = spawn_app_with(postgres, &[("erp", base)]).await else {
        return;
    };
    app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
        .await;
    let seed = json!({"events": [{"source": "erp", "source_event_id": "s", "occurred_at": "2026-01-01T00:00:00Z",
        "sku": "SKU-1", "location": "east", "kind": "receipt", "qty": 100}]});
    app.post("/v1/inventory/events", seed).await;

    let (status, first) = app.post("/v1/orders", order("S-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = first["id"].as_str().unwrap();
    let o = app.wait_for_state(id, "erp_posted").await;
    assert_eq!(o["state"], "erp_posted", "{o}");
    assert!(o["erp_order_id"].as_str().unwrap().starts_with("SO-"));
    let path: Vec<&str> = o["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(path, vec!["accepted", "allocated", "erp_posted"]);

    // The same webhook 30 times at once: one order, one ERP sales order.
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.post("/v1/orders", order("S-2")).await
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED);
        ids.insert(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    let second = ids.into_iter().next().unwrap();
    let o = app.wait_for_state(&second, "erp_posted").await;
    assert_eq!(o["state"], "erp_posted", "{o}");
    let seen = erp.stats();
    assert_eq!(
        seen.created, 2,
        "one ERP sales order per web order: {seen:?}"
    );
    assert!(
        seen.unavailable >= 2,
        "the outage was met and ridden out: {seen:?}"
    );
    // Cancelled after posting: reservations come back at once, the ERP cancellation follows.
    let (status, c) = app
        .post(&format!("/v1/orders/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, c["state"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let cancelled_in_erp = || {
        erp.orders()
            .iter()
            .any(|o| o.external_ref == id && o.cancelled)
    };
    while !cancelled_in_erp() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(cancelled_in_erp(), "the ERP sales order is cancelled too");
    let (_, ex) = app.get("/v1/exceptions").await;
    assert!(
        ex["exceptions"].as_array().unwrap().is_empty(),
        "a short outage raises no exception"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_orders_reach_the_erp_once() {
    orders_reach_the_erp_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_orders_reach_the_erp_once() {
    orders_reach_the_erp_once(true).await;
}
