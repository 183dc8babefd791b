//! Webhooks out on both stores: subscriptions made and refused, deliveries signed by the
//! Standard Webhooks scheme with the event's id on every attempt, retried on the schedule
//! (or the endpoint's `Retry-After`), given up on at its end, disabled by 410 and replayed.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use common::{App, spawn_app_tuned};
use crossdock_connectors::signatures::{StandardHeaders, verify_standard};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A request the endpoint received.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    at: Instant,
}

/// An answer: status and `Retry-After`.
type Answer = (u16, Option<&'static str>);

/// An endpoint that answers from a script, then 204.
#[derive(Clone, Default)]
struct Endpoint {
    script: Arc<Mutex<VecDeque<Answer>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Endpoint {
    async fn start(script: &[Answer]) -> (Endpoint, String) {
        let endpoint = Endpoint {
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            ..Default::default()
        };
        let e = endpoint.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let e = e.clone();
                async move {
                    e.received.lock().unwrap().push(Received {
                        headers,
                        body: body.to_vec(),
                        at: Instant::now(),
                    });
                    let (status, retry_after) =
                        e.script.lock().unwrap().pop_front().unwrap_or((204, None));
                    let mut res =
                        axum::response::Response::new(axum::body::Body::from("endpoint says no"));
                    *res.status_mut() = AxumStatus::from_u16(status).unwrap();
                    if let Some(r) = retry_after {
                        res.headers_mut().insert("retry-after", r.parse().unwrap());
                    }
                    res
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (endpoint, url)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests received once there are `n` (panics after 20 s).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} deliveries came",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A hub whose deliveries are tried three times, a second apart.
async fn hub(postgres: bool) -> Option<App> {
    spawn_app_tuned(postgres, &[], |c| {
        c.subscriptions.schedule_secs = vec![0, 1, 1];
        c.subscriptions.timeout_ms = 2_000;
    })
    .await
}

async fn subscribe(app: &App, url: &str, types: &[&str]) -> Value {
    let (status, sub) = app
        .post(
            "/v1/subscriptions",
            json!({"url": url, "event_types": types}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    sub
}

async fn add_item(app: &App, sku: &str) {
    let (status, body) = app
        .post("/v1/items", json!({"items": [{"sku": sku}]}))
        .await;
    assert!(status.is_success(), "{body}");
}

/// The delivery's headers and body, checked against `secret`.
fn verified(r: &Received, secret: &str) -> (String, Value) {
    let h = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok());
    let headers = StandardHeaders {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
    };
    let now = crossdock_engine::now().0 / 1000;
    verify_standard(secret, headers, &r.body, now).expect("the delivery is signed");
    assert_eq!(h("content-type"), Some("application/json"));
    (
        h("webhook-id").unwrap().to_string(),
        serde_json::from_slice(&r.body).unwrap(),
    )
}

async fn attempts(app: &App, id: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/v1/subscriptions/{id}/attempts")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["attempts"].as_array().unwrap().clone()
}

async fn wait_until(app: &App, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, sub) = app.get(&format!("/v1/subscriptions/{id}")).await;
        if done(&sub) {
            return sub;
        }
        assert!(Instant::now() < deadline, "the subscription stayed {sub}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_are_signed_and_retried_under_one_id() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let (endpoint, url) = Endpoint::start(&[(500, None)]).await;
        let sub = subscribe(&app, &url, &["item.created"]).await;
        let (id, secret) = (sub["id"].as_str().unwrap(), sub["secret"].as_str().unwrap());
        assert!(
            id.starts_with("sub_") && secret.starts_with("whsec_"),
            "{sub}"
        );
        // The secret is given once.
        let (_, listed) = app.get("/v1/subscriptions").await;
        assert_eq!(listed["subscriptions"][0]["id"], id);
        assert!(
            listed["subscriptions"][0].get("secret").is_none(),
            "{listed}"
        );

        add_item(&app, "SUB-1").await;
        // Stock moves are not what it asked for.
        app.events(
            json!([{"source": "wms", "source_event_id": "s1", "type": "receipt",
            "sku": "SUB-1", "location": "east", "qty": 5, "occurred_at": "2026-11-01T00:00:00Z"}]),
        )
        .await;
        let got = endpoint.wait_for(2).await;
        let (first_id, first) = verified(&got[0], secret);
        let (second_id, second) = verified(&got[1], secret);
        assert_eq!(first_id, second_id, "every attempt carries the event's id");
        assert!(first_id.starts_with("evt_"));
        assert_eq!(first, second);
        assert_eq!(first["type"], "item.created");
        assert_eq!(first["data"]["sku"], "SUB-1");
        assert!(
            first["timestamp"].as_str().unwrap().ends_with('Z'),
            "{first}"
        );
        assert!(
            got[1].at - got[0].at >= Duration::from_millis(900),
            "the schedule's wait"
        );

        let sub = wait_until(&app, id, |s| s["pending"] == 0).await;
        assert_eq!(sub["failed"], 0);
        let tries = attempts(&app, id).await;
        assert_eq!(tries.len(), 2, "{tries:?}");
        assert_eq!(
            (&tries[0]["outcome"], &tries[0]["status"]),
            (&json!("delivered"), &json!(204))
        );
        assert_eq!(
            (&tries[1]["outcome"], &tries[1]["status"]),
            (&json!("retrying"), &json!(500))
        );
        assert!(
            tries[1]["error"]
                .as_str()
                .unwrap()
                .contains("endpoint says no")
        );
        assert_eq!(tries[0]["attempt"], 2);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(endpoint.received().len(), 2, "nothing else was sent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retry_after_is_honoured_and_the_schedule_ends() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let script = [(503, Some("2")), (500, None), (500, None)];
        let (endpoint, url) = Endpoint::start(&script).await;
        let sub = subscribe(&app, &url, &["item.created"]).await;
        let id = sub["id"].as_str().unwrap();
        add_item(&app, "SUB-2").await;
        let got = endpoint.wait_for(3).await;
        assert!(
            got[1].at - got[0].at >= Duration::from_millis(1_900),
            "Retry-After: 2"
        );
        let sub = wait_until(&app, id, |s| s["failed"] == 1).await;
        assert_eq!(sub["pending"], 0);
        let tries = attempts(&app, id).await;
        assert_eq!(tries[0]["outcome"], "failed");
        assert!(tries[0]["next_at"].is_null());
        assert!(
            tries[0]["error"].as_str().unwrap().contains("last attempt"),
            "{tries:?}"
        );
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(
            endpoint.received().len(),
            3,
            "given up after the schedule's three"
        );

        // Attempts by event and a page at a time.
        let seq = tries[0]["seq"].as_i64().unwrap();
        let (_, page) = app
            .get(&format!(
                "/v1/subscriptions/{id}/attempts?seq={seq}&limit=2"
            ))
            .await;
        assert_eq!(page["attempts"].as_array().unwrap().len(), 2);
        let after = page["next_after"].as_i64().unwrap();
        let (_, rest) = app
            .get(&format!("/v1/subscriptions/{id}/attempts?after={after}"))
            .await;
        assert_eq!(rest["attempts"][0]["attempt"], 1);
        assert!(rest["next_after"].is_null());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gone_disables_and_a_replay_sends_again() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let (endpoint, url) = Endpoint::start(&[(410, None)]).await;
        let sub = subscribe(&app, &url, &["item.created"]).await;
        let (id, secret) = (sub["id"].as_str().unwrap(), sub["secret"].as_str().unwrap());
        add_item(&app, "GONE-1").await;
        let sub = wait_until(&app, id, |s| !s["disabled_at"].is_null()).await;
        assert!(
            sub["disabled_reason"].as_str().unwrap().contains("410"),
            "{sub}"
        );
        add_item(&app, "GONE-2").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            endpoint.received().len(),
            1,
            "a disabled subscription gets nothing"
        );

        let (status, replayed) = app
            .post(
                &format!("/v1/subscriptions/{id}/replay"),
                json!({"after": 0}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
        assert!(replayed["subscription"]["disabled_at"].is_null());
        // Both items come (in no set order): the one refused with 410, under the same id,
        // and the one made while the subscription was disabled.
        let got = endpoint.wait_for(3).await;
        let mut replayed: Vec<(String, Value)> = got[1..]
            .iter()
            .map(|r| {
                let (id, body) = verified(r, secret);
                (body["data"]["sku"].as_str().unwrap().to_string(), json!(id))
            })
            .collect();
        replayed.sort_by(|a, b| a.0.cmp(&b.0));
        let skus: Vec<&str> = replayed.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(skus, ["GONE-1", "GONE-2"]);
        assert_eq!(replayed[0].1, json!(verified(&got[0], secret).0));

        // Deleted: nothing more is sent, and it is gone from every route.
        let (status, _) = app.delete(&format!("/v1/subscriptions/{id}")).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        add_item(&app, "GONE-3").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(endpoint.received().len(), 3);
        for path in ["", "/attempts"] {
            let (status, body) = app.get(&format!("/v1/subscriptions/{id}{path}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
            assert_eq!(body["code"], "NOT_FOUND");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_subscriptions_are_refused_clearly() {
    let Some(app) = hub(false).await else {
        return;
    };
    for (body, field) in [
        (
            json!({"url": "ftp://x.example/h", "event_types": ["order.accepted"]}),
            "url",
        ),
        (
            json!({"url": "not a url", "event_types": ["order.accepted"]}),
            "url",
        ),
        (
            json!({"url": "http://x.example/h", "event_types": []}),
            "event_types",
        ),
        (
            json!({"url": "http://x.example/h", "event_types": ["order.*"]}),
            "event_types",
        ),
    ] {
        let (status, problem) = app.post("/v1/subscriptions", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["field"], field, "{problem}");
    }
    let (_, problem) = app
        .post(
            "/v1/subscriptions",
            json!({"url": "http://x.example/h", "event_types": ["nope"]}),
        )
        .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("order.accepted"),
        "names the types"
    );
    let (status, _) = app
        .post("/v1/subscriptions", json!({"url": "http://x.example/h"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for (status, _) in [
        app.delete("/v1/subscriptions/sub_nobody").await,
        app.post("/v1/subscriptions/sub_nobody/replay", json!({"after": 0}))
            .await,
        app.get("/v1/subscriptions/sub_nobody/attempts").await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, problem) = app
        .post("/v1/subscriptions/sub_nobody/replay", json!({"after": -1}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
}
