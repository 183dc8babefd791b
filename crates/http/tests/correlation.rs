//! One correlation id per business transaction over HTTP, on both stores: the caller's
//! `X-Correlation-ID`, or the trace id of its `traceparent`, or a fresh one, recorded on the
//! order's history and sent back on every answer; it follows the order into its jobs, its
//! events and the ERP's received headers, and its trace shows every call.

mod common;

use common::{App, seed, spawn_app, spawn_app_with, web_order};
use crossdock_sim::{Faults, SimErp};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_id_follows_the_order_into_its_jobs_events_the_erp_and_its_trace() {
    for postgres in [false, true] {
        let erp = SimErp::default();
        let (url, _server) = erp.start().await.unwrap();
        // The ERP's first answer is a 503: the trace shows that try and the one after it.
        erp.set_faults(Faults {
            fail_next: 1,
            ..Faults::default()
        });
        let Some(app) = spawn_app_with(postgres, &[("erp", url)]).await else {
            continue;
        };
        seed(&app).await;
        let res = (app.http.post(format!("{}/v1/orders", app.base)))
            .header("x-correlation-id", "checkout-42")
            .json(&web_order("T-1"))
            .send()
            .await
            .unwrap();
        let order: Value = res.json().await.unwrap();
        let order_id = order["id"].as_str().unwrap().to_string();
        let o = app.wait_for_state(&order_id, "erp_posted").await;
        assert_eq!(o["state"], "erp_posted", "{o}");

        // Its jobs carry it, those queued later by its jobs too.
        let (_, jobs) = app.get("/v1/jobs?limit=100").await;
        let mine: Vec<&Value> = (jobs["jobs"].as_array().unwrap().iter())
            .filter(|j| j["order_id"] == order_id.as_str())
            .collect();
        assert!(mine.len() >= 2, "{jobs}");
        assert!(
            mine.iter().all(|j| j["correlation_id"] == "checkout-42"),
            "{mine:?}"
        );
        // So does the event that announced it.
        let (_, events) = app.get("/v1/events?types=order.accepted").await;
        let accepted = &events["events"][0];
        assert_eq!(
            accepted["data"]["correlation_id"], "checkout-42",
            "{events}"
        );
        // The ERP received it with both posts.
        let posts: Vec<(String, String)> = (erp.correlation_ids().into_iter())
            .filter(|(call, _)| call == "POST /sales-orders")
            .collect();
        assert_eq!(posts.len(), 2, "{posts:?}");
        assert!(posts.iter().all(|(_, id)| id == "checkout-42"), "{posts:?}");

        let (status, trace) = app.get("/v1/trace/checkout-42").await;
        assert_eq!(status, StatusCode::OK, "{trace}");
        assert_eq!(trace["orders"][0]["id"], order_id.as_str());
        let timeline = trace["timeline"].as_array().unwrap();
        assert_eq!(timeline[0]["type"], "inbound", "{trace}");
        let ats: Vec<&str> = timeline.iter().map(|e| e["at"].as_str().unwrap()).collect();
        let mut sorted = ats.clone();
        sorted.sort();
        assert_eq!(ats, sorted, "in time order");
        let posts: Vec<(&Value, &Value)> = (timeline.iter())
            .filter(|e| e["type"] == "call" && e["job_kind"] == "post_sales_order")
            .map(|e| (&e["outcome"], &e["http_status"]))
            .collect();
        assert_eq!(
            posts,
            [
                (&json!("retry"), &json!(503)),
                (&json!("done"), &json!(201))
            ],
            "{trace}"
        );
        let posted = (timeline.iter())
            .find(|e| e["type"] == "state" && e["to"] == "erp_posted")
            .unwrap_or_else(|| panic!("the move its job made: {trace}"));
        assert!(
            posted["by"].as_str().unwrap().starts_with("job_"),
            "{posted}"
        );

        let (status, problem) = app.get("/v1/trace/no-such-transaction").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(problem["code"], "NOT_FOUND");
    }
}
