//! `[ownership]` end to end over HTTP on both stores: stock events from a source that does
//! not own their location refused by index, webhooks from a connector that does not own
//! what they write parked (never bounced), and every refusal kept as an `ownership.violated`
//! event.

mod common;

use common::App;
use common::hooks::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const OWNERSHIP: &str = r#"
[ownership]
inventory = { east = "wms" }
orders = { web = "shop-us" }
shipments = "wms"
"#;

fn receipt(source: &str, id: &str, location: &str) -> Value {
    json!({"source": source, "source_event_id": id, "occurred_at": "2026-01-02T00:00:00Z",
           "sku": "IPOD2008PINK", "location": location, "kind": "receipt", "qty": 5})
}

async fn violations(app: &App) -> Vec<Value> {
    let (status, page) = app.get("/v1/events?types=ownership.violated").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_from_systems_that_do_not_own_their_data_are_refused_and_kept() {
    for postgres in [false, true] {
        // The hub's own seeding writes east's stock as `erp`: give east to it for that.
        let seeded = OWNERSHIP.replace("east = \"wms\"", "east = \"erp\"");
        let Some(app) = hub_with(postgres, &[], None, &seeded).await else {
            continue;
        };
        let events = json!({"events": [
            receipt("wms", "r-1", "east"),
            receipt("erp", "r-2", "east"),
            receipt("anyone", "r-3", "west"),
        ]});
        let (status, r) = app.post("/v1/inventory/events", events).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["applied"], 2, "{r}");
        let rejected = r["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 1, "{r}");
        assert_eq!(rejected[0]["index"], 0);
        assert_eq!(rejected[0]["code"], "OWNERSHIP_VIOLATION");
        let detail = rejected[0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("owned by erp") && detail.contains("wms may not"),
            "{detail}"
        );
        let seen = violations(&app).await;
        assert_eq!(seen.len(), 1, "{seen:?}");
        let data = &seen[0]["data"];
        assert_eq!(
            (
                &data["domain"],
                &data["scope"],
                &data["writer"],
                &data["owner"]
            ),
            (
                &json!("inventory"),
                &json!("east"),
                &json!("wms"),
                &json!("erp")
            ),
            "{data}"
        );
        assert_eq!(data["write"]["source_event_id"], "r-1");

        // The 3PL's stock events for east: its connector does not own east, whatever
        // `source` its mapping gives. Signed, so answered 200 and parked, not bounced.
        let body = json!({"type": "stock.adjusted", "timestamp": "2026-01-02T00:00:00Z",
                          "data": receipt("erp", "r-4", "east")});
        let (headers, raw) = threepl("msg_stock_1", &body);
        let (status, answer) = deliver(&app, "threepl", &headers, &raw).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "parked", "{answer}");
        let (_, exception) = app
            .get(&format!(
                "/v1/exceptions/{}",
                answer["exception_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(exception["code"], "OWNERSHIP_VIOLATION", "{exception}");

        // An order for the web channel from the 3PL: only shop-us takes web's orders.
        let order = json!({"channel": "web", "external_id": "3PL-1",
            "customer": {"id": "c-1", "email": "buyer@example.com"}, "currency": "USD",
            "lines": [{"sku": "IPOD2008PINK", "qty": 1, "unit_price": "9.99"}],
            "ship_to": {"name": "A", "line1": "1 Road", "city": "Town", "postal_code": "1",
                        "country": "US"}});
        let body = json!({"type": "order.created", "timestamp": "2026-01-02T00:00:00Z",
                          "data": order});
        let (headers, raw) = threepl("msg_order_1", &body);
        let (status, answer) = deliver(&app, "threepl", &headers, &raw).await;
        assert_eq!(
            (status, &answer["status"]),
            (StatusCode::OK, &json!("parked")),
            "{answer}"
        );
        let (_, orders) = app.get("/v1/orders?channel=web").await;
        assert_eq!(
            orders["orders"],
            json!([]),
            "no order was taken in: {orders}"
        );

        let seen = violations(&app).await;
        let writers: Vec<(&Value, &Value)> = seen
            .iter()
            .map(|e| (&e["data"]["domain"], &e["data"]["writer"]))
            .collect();
        assert_eq!(
            writers,
            vec![
                (&json!("inventory"), &json!("wms")),
                (&json!("inventory"), &json!("threepl")),
                (&json!("orders"), &json!("threepl")),
            ],
            "{seen:?}"
        );
    }
}
