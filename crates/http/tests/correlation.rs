//! One correlation id per business transaction over HTTP, on both stores: the caller's
//! `X-Correlation-ID`, or the trace id of its `traceparent`, or a fresh one, recorded on the
//! order's history and sent back on every answer.

mod common;

use common::{App, spawn_app, web_order};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Posts an order with `headers`; the answer's `X-Correlation-ID` and the one its history
/// recorded.
async fn placed(app: &App, external_id: &str, headers: &[(&str, &str)]) -> (String, String) {
    let mut req = app
        .http
        .post(format!("{}/v1/orders", app.base))
        .json(&web_order(external_id));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let answered = res.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.unwrap();
    let (_, o) = app
        .get(&format!("/v1/orders/{}", body["id"].as_str().unwrap()))
        .await;
    let recorded = o["history"][0]["correlation_id"]
        .as_str()
        .unwrap()
        .to_string();
    (answered, recorded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_correlation_id_is_taken_traced_or_given_and_recorded() {
    for postgres in [false, true] {
        let Some(app) = spawn_app(postgres).await else {
            continue;
        };
        app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
            .await;
        let given = placed(&app, "C-1", &[("x-correlation-id", "checkout-7f3a")]).await;
        assert_eq!(given, ("checkout-7f3a".into(), "checkout-7f3a".into()));
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let traced = placed(&app, "C-2", &[("traceparent", parent)]).await;
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736".to_string();
        assert_eq!(traced, (trace.clone(), trace));
        let (answered, recorded) = placed(&app, "C-3", &[("traceparent", "garbage")]).await;
        assert!(answered.starts_with("corr_"), "{answered}");
        assert_eq!(answered, recorded);

        // Every answer carries it, a refusal too.
        app.make_key("root", &["admin"], json!({})).await;
        let res = app
            .http
            .get(format!("{}/v1/orders", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers()["x-correlation-id"]
                .to_str()
                .unwrap()
                .starts_with("corr_")
        );
    }
}
