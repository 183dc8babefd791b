//! Walks the HTTP contract against the real server on port 0, configured with the example
//! configuration, on SQLite and on PostgreSQL.

mod common;

use crossdock_domain::order_state::OrderState;
use crossdock_domain::{ExceptionStatus, JobState};
use std::time::Duration;

use common::{App, decode, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ev(id: &str, at: &str, sku: &str, location: &str, kind: &str, extra: Value) -> Value {
    let mut e = json!({
        "source": "wms", "source_event_id": id, "occurred_at": at,
        "sku": sku, "location": location, "kind": kind,
    });
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    e
}

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-01T01:00:00Z";

async fn contract(app: App) {
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let (status, ready) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");

    let (status, items) = app
        .post(
            "/v1/items",
            json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-HOT"}, {"sku": "bad sku"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items["created"], 2);
    assert_eq!(items["rejected"][0]["index"], 2);

    // The worked example.
    let snap = |id, loc, on_hand, picking| {
        ev(
            id,
            T1,
            "SKU-1",
            loc,
            "snapshot",
            json!({"buckets": {"on_hand": on_hand, "picking": picking}}),
        )
    };
    let r = app
        .events(json!([
            snap("s1", "east", 100, 10),
            snap("s2", "west", 50, 0),
            snap("s3", "acme", 30, 0)
        ]))
        .await;
    assert_eq!(
        r,
        json!({"applied": 3, "duplicates": 0, "stale": 0, "rejected": []})
    );
    for (channel, expected) in [("web", 112), ("marketplace", 50), ("b2b", 133)] {
        let (status, a) = app
            .get(&format!("/v1/availability/SKU-1?channel={channel}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(a["available_now"], expected, "{channel}: {a}");
        assert_eq!(a["sku"], "SKU-1");
    }
    let (_, all) = app.get("/v1/availability/SKU-1").await;
    let sellable: Vec<i64> = all["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sellable"].as_i64().unwrap())
        .collect();
    assert_eq!(sellable, vec![88, 45, 28]);
    assert_eq!(all["channels"].as_array().unwrap().len(), 3);

    // Duplicates, stale events and bad events in one call: the good ones still apply.
    let r = app
        .events(json!([
            snap("s1", "east", 100, 10),
            ev("late", T0, "SKU-1", "east", "receipt", json!({"qty": 5})),
            ev("x1", T1, "SKU-1", "north", "receipt", json!({"qty": 5})),
            ev("x2", T1, "SKU-NONE", "east", "receipt", json!({"qty": 5})),
            ev("x3", T1, "SKU-1", "east", "teleport", json!({"qty": 5})),
            ev("x4", T1, "SKU-1", "east", "receipt", json!({"qty": -5})),
            {"source": "wms"},
            ev("ok", "2026-01-01T02:00:00Z", "SKU-1", "east", "receipt", json!({"qty": 5})),
            ev("po", T1, "SKU-1", "east", "expected_receipt",
               json!({"po_ref": "PO-9", "qty": 40, "eta": "2099-01-01T00:00:00Z"})),
        ]))
        .await;
    assert_eq!(
        (
            r["applied"].as_i64(),
            r["duplicates"].as_i64(),
            r["stale"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{r}"
    );
    let codes: Vec<(i64, &str)> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["index"].as_i64().unwrap(), x["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            (2, "WAREHOUSE_UNKNOWN"),
            (3, "SKU_UNKNOWN"),
            (4, "VALIDATION_FAILED"),
            (5, "VALIDATION_FAILED"),
            (6, "VALIDATION_FAILED"),
        ]
    );
    let (_, east) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(east["locations"][0]["on_hand"], 105);

    // Reservations. A whole number may come as a float without a fraction (10.0), as JSON
    // Schema's `integer` allows; a fraction is refused.
    let (status, p) = app
        .post(
            "/v1/reservations",
            json!({"sku": "SKU-1", "qty": 2.5, "channel": "b2b", "order_ref": "SO-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (status, res) = app
        .post(
            "/v1/reservations",
            json!({"sku": "SKU-1", "qty": 10.0, "channel": "b2b", "order_ref": "SO-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{res}");
    assert_eq!(
        res["allocations"],
        json!([{"location": "east", "qty": 10, "picked": 0}])
    );
    assert!(res["expires_at"].is_string());
    let id = res["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("res_"));
    let (_, b2b) = app.get("/v1/availability/SKU-1?channel=b2b").await;
    assert_eq!(b2b["available_now"], 133 + 5 - 10);

    let (status, p) = app
        .post(
            "/v1/reservations",
            json!({"sku": "SKU-1", "qty": 500, "channel": "web", "order_ref": "SO-2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(p["code"], "INSUFFICIENT_STOCK");
    assert!(p["available"].as_i64().unwrap() > 0);
    let (status, p) = app
        .post(
            "/v1/reservations",
            json!({"sku": "SKU-1", "qty": 1, "channel": "phone", "order_ref": "SO-3"}),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CHANNEL_UNKNOWN"))
    );
    let (status, p) = app
        .post(
            "/v1/reservations",
            json!({"sku": "SKU-NONE", "qty": 1, "channel": "web", "order_ref": "SO-4"}),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("SKU_UNKNOWN"))
    );
    let (status, p) = app
        .post(
            "/v1/reservations",
            json!({"sku": "SKU-1", "qty": 0, "channel": "web", "order_ref": "SO-5"}),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );
    let (status, p) = app
        .post("/v1/reservations", json!({"sku": "SKU-1", "qty": 1, "channel": "marketplace", "order_ref": "SO-6", "location": "acme"}))
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("LOCATION_NOT_IN_CHANNEL")
        )
    );

    let (status, got) = app.get(&format!("/v1/reservations/{id}")).await;
    assert_eq!(
        (status, got["status"].as_str()),
        (StatusCode::OK, Some("active"))
    );
    let (status, released) = app.delete(&format!("/v1/reservations/{id}")).await;
    assert_eq!(
        (status, released["status"].as_str()),
        (StatusCode::OK, Some("released"))
    );
    let (status, p) = app.delete(&format!("/v1/reservations/{id}")).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("RESERVATION_CLOSED"))
    );
    let (status, p) = app.get("/v1/reservations/res_nope").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("RESERVATION_NOT_FOUND"))
    );

    // Expiry returns units without anyone calling.
    let (status, short) = app
        .post("/v1/reservations", json!({"sku": "SKU-1", "qty": 3, "channel": "b2b", "order_ref": "cart-7", "ttl_seconds": 1}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/v1/reservations/{}", short["id"].as_str().unwrap());
    let mut expired = false;
    for _ in 0..100 {
        if app.get(&path).await.1["status"] == "expired" {
            expired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        expired,
        "a reservation past its TTL is released by the sweeper"
    );
    let (_, b2b) = app.get("/v1/availability/SKU-1?channel=b2b").await;
    assert_eq!(b2b["available_now"], 138);

    // Backorders and batch queries.
    let (_, web) = app.get("/v1/availability/SKU-1?channel=web").await;
    assert_eq!(
        web["available_backorder"], 0,
        "PO-9 is due beyond web's 14-day horizon"
    );
    let soon = format!("2026-01-0{}T00:00:00Z", 5);
    let r = app
        .events(json!([ev(
            "po2",
            T1,
            "SKU-1",
            "west",
            "expected_receipt",
            json!({"po_ref": "PO-10", "qty": 12, "eta": soon})
        )]))
        .await;
    assert_eq!(r["applied"], 1);
    let (status, q) = app
        .post(
            "/v1/availability/query",
            json!({"channel": "web", "skus": ["SKU-1", "SKU-HOT", "SKU-NONE"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(q["items"].as_array().unwrap().len(), 2);
    assert_eq!(q["unknown"], json!(["SKU-NONE"]));
    let (status, p) = app.get("/v1/availability/SKU-1?channel=phone").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CHANNEL_UNKNOWN"))
    );
    let (status, p) = app.get("/v1/availability/SKU-NONE").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("SKU_UNKNOWN"))
    );

    // The event log.
    let (status, log) = app.get("/v1/events?after=0&limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    let events = log["events"].as_array().unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(log["next_after"], seqs.len() as i64);
    let (_, avail) = app
        .get("/v1/events?after=0&types=availability.changed&limit=1000")
        .await;
    // Fewer than asked for within the window: go on from the end of what it looked at.
    let (_, everything) = app.get("/v1/events?after=0&limit=1000").await;
    assert_eq!(avail["next_after"], everything["next_after"], "{avail}");
    let avail = avail["events"].as_array().unwrap();
    assert!(avail.iter().all(|e| e["type"] == "availability.changed"));
    // One event per SKU a commit moved, carrying every channel's figures.
    let sku1 = avail.iter().find(|e| e["data"]["sku"] == "SKU-1").unwrap();
    let channels: Vec<&Value> = (sku1["data"]["channels"].as_array().unwrap().iter())
        .map(|c| &c["channel"])
        .collect();
    assert_eq!(channels, ["web", "marketplace", "b2b"], "{sku1}");
    let (_, page) = app.get("/v1/events?after=2&limit=2").await;
    assert_eq!(page["next_after"], 4);
    // A cursor at the end of the range reads nothing, and neither overflows nor fails.
    for types in ["", "&types=availability.changed"] {
        let far = i64::MAX - 1;
        let (status, page) = app.get(&format!("/v1/events?after={far}{types}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            (
                page["events"].as_array().map(Vec::len),
                page["next_after"].as_i64()
            ),
            (Some(0), Some(far))
        );
    }
    let (status, p) = app.get("/v1/events?after=abc").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );

    // Malformed, oversized and mistyped bodies; unknown routes.
    let res = app
        .http
        .post(format!("{}/v1/reservations", app.base))
        .header("content-type", "application/json")
        .body("{\"sku\":")
        .send()
        .await
        .unwrap();
    let (status, p) = decode(res).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MALFORMED_JSON"))
    );
    let res = app
        .http
        .post(format!("{}/v1/reservations", app.base))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, p) = decode(res).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("UNSUPPORTED_MEDIA_TYPE")
        )
    );
    let big: Vec<Value> = (0..2000)
        .map(|i| {
            ev(
                &format!("b{i}"),
                T1,
                "SKU-1",
                "east",
                "receipt",
                json!({"qty": 1}),
            )
        })
        .collect();
    // The server answers 413 before reading the body and closes the connection; a client
    // still writing may see the connection drop instead, so try a few times for the answer.
    let body = json!({"events": big});
    let mut answer = None;
    for _ in 0..10 {
        let sent = crossdock_connectors::tls::builder()
            .build()
            .unwrap()
            .post(format!("{}/v1/inventory/events", app.base))
            .json(&body)
            .send()
            .await;
        if let Ok(res) = sent {
            answer = Some(decode(res).await);
            break;
        }
    }
    let (status, p) = answer.expect("a 413 answer in ten tries");
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("PAYLOAD_TOO_LARGE"))
    );
    let many: Vec<Value> = (0..1001).map(|_| json!({})).collect();
    let (status, p) = app
        .post("/v1/inventory/events", json!({"events": many}))
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );
    let (status, p) = app.get("/v1/nothing-here").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );

    let (status, doc) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/v1/items",
        "/v1/inventory/events",
        "/v1/availability/{sku}",
        "/v1/availability/query",
        "/v1/reservations",
        "/v1/reservations/{id}",
        "/v1/events",
        "/v1/orders",
        "/v1/orders/{id}",
        "/v1/orders/{id}/cancel",
        "/v1/shipments",
        "/v1/invoices",
        "/v1/erp-statuses",
        "/v1/returns",
        "/v1/jobs",
        "/v1/exceptions",
        "/v1/exceptions/{id}/retry",
        "/v1/subscriptions",
        "/v1/subscriptions/{id}/attempts",
        "/v1/subscriptions/{id}/replay",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi.json lacks {path}");
    }
    // The document's enums are the server's lists: each schema named, followed to its
    // listed values.
    let names = |schema: &serde_json::Value| -> Vec<String> {
        let schema = match schema["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => schema,
        };
        let list = (schema["enum"].as_array()).unwrap_or_else(|| panic!("not a list: {schema}"));
        list.iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let schema = |name: &str, field: &str| &doc["components"]["schemas"][name]["properties"][field];
    let query = |path: &str, param: &str| {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let p = params.iter().find(|p| p["name"] == param).unwrap();
        names(&p["schema"])
    };
    let codes: Vec<String> = (crossdock_domain::ErrorCode::ALL.iter())
        .map(|c| c.as_str().into())
        .collect();
    assert_eq!(names(schema("Problem", "code")), codes);
    assert_eq!(query("/v1/exceptions", "code"), codes);
    let orders: Vec<String> = (OrderState::ALL.iter())
        .map(|s| s.as_str().into())
        .collect();
    assert_eq!(names(schema("Order", "state")), orders);
    assert_eq!(query("/v1/orders", "state"), orders);
    let jobs: Vec<String> = (JobState::ALL.iter()).map(|s| s.as_str().into()).collect();
    assert_eq!(query("/v1/jobs", "state"), jobs);
    let statuses: Vec<String> = (ExceptionStatus::ALL.iter())
        .map(|s| s.as_str().into())
        .collect();
    assert_eq!(names(schema("Exception", "status")), statuses);
    assert_eq!(query("/v1/exceptions", "status"), statuses);
    let types: Vec<String> = (crossdock_domain::event_types::EVENT_TYPES.iter())
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        names(&schema("Subscription", "event_types")["items"]),
        types
    );
    assert_eq!(
        names(&schema("SubscriptionIn", "event_types")["items"]),
        types
    );
    let outcomes: Vec<String> = (crossdock_store::AttemptOutcome::ALL.iter())
        .map(|o| o.as_str().into())
        .collect();
    assert_eq!(names(schema("DeliveryAttempt", "outcome")), outcomes);
    // A code a response names is answered with that response's status (422 takes any
    // field's code), so the document and the server cannot disagree on it.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                let text = response["description"].as_str().unwrap_or_default();
                let named = text
                    .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                    .filter_map(crossdock_domain::ErrorCode::parse);
                for code in named {
                    assert!(
                        status == "422" || status == &code.status().to_string(),
                        "{method} {path}: {status} names {code}, answered {}",
                        code.status()
                    );
                }
            }
        }
    }
}

async fn racing_reservations(app: App) {
    app.post("/v1/items", json!({"items": [{"sku": "SKU-HOT"}]}))
        .await;
    app.events(json!([
        ev("seed", T1, "SKU-HOT", "east", "receipt", json!({"qty": 60})),
        ev(
            "seed2",
            T1,
            "SKU-HOT",
            "west",
            "receipt",
            json!({"qty": 40})
        )
    ]))
    .await;
    let mut tasks = Vec::new();
    for i in 0..250 {
        let http = app.http.clone();
        let url = format!("{}/v1/reservations", app.base);
        tasks.push(tokio::spawn(async move {
            let body =
                json!({"sku": "SKU-HOT", "qty": 1, "channel": "b2b", "order_ref": format!("o{i}")});
            http.post(url).json(&body).send().await.unwrap().status()
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 100, "exactly the stock is reserved");
    let (_, all) = app.get("/v1/availability/SKU-HOT").await;
    let reserved: i64 = all["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reserved"].as_i64().unwrap())
        .sum();
    assert_eq!(reserved, 100);
    assert!(
        all["channels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["available_now"] == 0)
    );
}

async fn duplicate_webhook_storm(app: App) {
    app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
        .await;
    let event = ev("storm-1", T1, "SKU-1", "west", "receipt", json!({"qty": 9}));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (http, url, event) = (
            app.http.clone(),
            format!("{}/v1/inventory/events", app.base),
            event.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let res = http
                .post(url)
                .json(&json!({"events": [event]}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }));
    }
    let (mut applied, mut duplicates) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        applied += r["applied"].as_i64().unwrap();
        duplicates += r["duplicates"].as_i64().unwrap();
    }
    assert_eq!((applied, duplicates), (1, 49));
    let (_, all) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(all["locations"][1]["location"], "west");
    assert_eq!(
        all["locations"][1]["on_hand"], 9,
        "the receipt counted once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_duplicate_webhook_storm() {
    duplicate_webhook_storm(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_duplicate_webhook_storm() {
    if let Some(app) = spawn_app(true).await {
        duplicate_webhook_storm(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_contract() {
    contract(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_contract() {
    if let Some(app) = spawn_app(true).await {
        contract(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_racing_reservations() {
    racing_reservations(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_racing_reservations() {
    if let Some(app) = spawn_app(true).await {
        racing_reservations(app).await;
    }
}
