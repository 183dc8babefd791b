//! A `rest` connector end to end on both stores: an ERP of its own shape (not crossdock's),
//! reached through jq mappings alone. The sales order goes as the ERP takes it (`PUT
//! /api/orders/{ref}` with its own field names), its answer is read into the order's ERP id
//! and status, a cancellation goes as a `DELETE`, and a mapping that refuses an order fails
//! it as a `MAPPING_FAILED` exception carrying jq's message.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::put;
use axum::{Json, Router};
use common::spawn_app_tuned;
use crossdock_engine::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the ERP was asked: (method, path, body).
type Asked = Arc<Mutex<Vec<(String, String, Value)>>>;

async fn order_call(
    State(asked): State<Asked>,
    method: Method,
    Path(reference): Path<String>,
    body: Option<Json<Value>>,
) -> (StatusCode, Json<Value>) {
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let mut asked = asked.lock().unwrap();
    asked.push((method.to_string(), format!("/api/orders/{reference}"), body));
    let n = asked.iter().filter(|(m, ..)| m == "PUT").count();
    (
        StatusCode::CREATED,
        Json(json!({"order": {"number": format!("SO-{n}"), "state": "open"}})),
    )
}

/// An ERP that takes `PUT` and `DELETE /api/orders/{ref}` and nothing of crossdock's shape.
async fn erp() -> (String, Asked) {
    let asked: Asked = Arc::default();
    let app = Router::new()
        .route(
            "/api/orders/{reference}",
            put(order_call).delete(order_call),
        )
        .with_state(asked.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, asked)
}

const SALES_ORDER: &str = r#"
if (.body.lines | length) > 3 then error("this ERP takes at most 3 lines an order")
else {method: "PUT", path: "/api/orders/\(.body.external_ref)",
      body: {buyer: .body.customer.email, items: [.body.lines[] | {code: .sku, units: .qty}]}}
end"#;

const SALES_ORDER_ANSWER: &str =
    r#"{erp_order_id: .answer.order.number, status: .answer.order.state}"#;

const CANCEL: &str = r#"{method: "DELETE", path: "/api/orders/\(.body.order_id)"}"#;

fn order(external_id: &str, lines: usize) -> Value {
    let lines: Vec<Value> = (0..lines)
        .map(|_| json!({"sku": "SKU-1", "qty": 1, "unit_price": "9.50"}))
        .collect();
    json!({"channel": "web", "external_id": external_id, "business_unit": "east",
           "customer": {"id": "C-1", "email": "buyer@example.com"}, "currency": "USD",
           "lines": lines,
           "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                       "postal_code": "07105", "country": "US"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rest_erp_is_reached_through_its_mappings_alone() {
    for postgres in [false, true] {
        let (url, asked) = erp().await;
        let wms = crossdock_sim::SimService::new(crossdock_sim::Kind::Wms);
        let (wms_url, _) = wms.start().await.unwrap();
        let dir = std::env::temp_dir().join(format!("crossdock-rest-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, code) in [
            ("so.jq", SALES_ORDER),
            ("so_answer.jq", SALES_ORDER_ANSWER),
            ("cancel.jq", CANCEL),
        ] {
            std::fs::write(dir.join(name), code).unwrap();
        }
        let file = |name: &str| dir.join(name).display().to_string();
        let connector = format!(
            "[[connectors]]\nname = \"house-erp\"\nkind = \"rest\"\nrole = \"erp\"\nurl = \"{url}\"\n\
             business_units = [\"east\"]\ntimeout_ms = 2000\n\
             mappings = {{ post_sales_order = \"{}\", \"post_sales_order.answer\" = \"{}\", \
             cancel_sales_order = \"{}\" }}\n",
            file("so.jq"),
            file("so_answer.jq"),
            file("cancel.jq"),
        );
        let parsed = Config::parse(&format!(
            "{}\n{connector}",
            crossdock_engine::config::EXAMPLE
        ))
        .unwrap();
        let Some(app) = spawn_app_tuned(postgres, &[("wms", wms_url)], |c| {
            c.connectors = parsed.connectors
        })
        .await
        else {
            continue;
        };
        app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
            .await;
        app.events(json!([{"source": "erp", "source_event_id": "s-1",
            "occurred_at": "2026-01-01T00:00:00Z", "sku": "SKU-1", "location": "east",
            "kind": "receipt", "qty": 100}]))
            .await;

        let (status, placed) = app.post("/v1/orders", order("R-1", 2)).await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        let id = placed["id"].as_str().unwrap().to_string();
        let o = app.wait_for_state(&id, "released").await;
        assert_eq!(o["state"], "released", "{o}");
        assert_eq!(
            o["erp_order_id"], "SO-1",
            "read from the ERP's own answer: {o}"
        );
        let sent = asked.lock().unwrap().clone();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(
            (sent[0].0.as_str(), sent[0].1.clone()),
            ("PUT", format!("/api/orders/{id}"))
        );
        assert_eq!(
            sent[0].2,
            json!({"buyer": "buyer@example.com",
                   "items": [{"code": "SKU-1", "units": 1}, {"code": "SKU-1", "units": 1}]})
        );

        let (status, _) = app
            .post(&format!("/v1/orders/{id}/cancel"), json!({}))
            .await;
        assert!(status.is_success(), "{status}");
        let mut deleted = false;
        for _ in 0..400 {
            deleted = asked
                .lock()
                .unwrap()
                .iter()
                .any(|(m, p, _)| m == "DELETE" && p.ends_with(&id));
            if deleted {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(deleted, "{:?}", asked.lock().unwrap());

        // The mapping refuses an order of four lines: an exception with jq's message.
        let (_, placed) = app.post("/v1/orders", order("R-2", 4)).await;
        let refused = placed["id"].as_str().unwrap().to_string();
        let mut open = Value::Null;
        for _ in 0..400 {
            open = app.get("/v1/exceptions?code=MAPPING_FAILED").await.1;
            if open["exceptions"].as_array().is_some_and(|e| !e.is_empty()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let e = &open["exceptions"][0];
        assert_eq!(e["order_id"], refused.as_str(), "{open}");
        let error = e["last_error"].as_str().unwrap();
        assert!(error.contains("at most 3 lines"), "{open}");
        assert!(
            error.contains("\"external_ref\""),
            "the input it read is shown: {error}"
        );
        assert_eq!(
            asked
                .lock()
                .unwrap()
                .iter()
                .filter(|(m, ..)| m == "PUT")
                .count(),
            1
        );
    }
}
