//! Order intake over HTTP, on SQLite and PostgreSQL: a webhook storm makes one order, keys
//! replay or conflict, validation answers per field, orders read back with their history.

mod common;

use common::{App, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn order(external_id: &str, qty: i64) -> Value {
    json!({
        "channel": "b2b", "external_id": external_id, "business_unit": "east",
        "customer": {"id": "C-42", "account": "ACME-TRADING", "email": "buyer@example.com"},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": qty, "unit_price": "19.99"},
                  {"sku": "SKU-2", "qty": 1, "unit_price": "5.00"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "line2": null, "city": "Newark",
                    "region": "NJ", "postal_code": "07105", "country": "US"},
        "payment": {"authorization": "auth_123", "amount": "44.98"}
    })
}

async fn seed(app: &App) {
    app.post(
        "/v1/items",
        json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}]}),
    )
    .await;
    let ev = |id: &str, sku: &str, qty: i64| {
        json!({"source": "erp", "source_event_id": id,
        "occurred_at": "2026-01-01T00:00:00Z", "sku": sku, "location": "east",
        "kind": "receipt", "qty": qty})
    };
    let (status, r) = app
        .post(
            "/v1/inventory/events",
            json!({"events": [ev("a", "SKU-1", 40), ev("b", "SKU-2", 40)]}),
        )
        .await;
    assert_eq!((status, r["applied"].as_i64()), (StatusCode::OK, Some(2)));
}

async fn post_order(
    app: &App,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = app.http.post(format!("{}/v1/orders", app.base)).json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.unwrap();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    let status = res.status();
    (status, replayed, res.json().await.unwrap())
}

async fn webhook_storm(app: App) {
    seed(&app).await;
    for (external_id, key) in [("W-1", None), ("W-2", Some("idem-W-2"))] {
        let body = order(external_id, 2);
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (app, body) = (app.clone(), body.clone());
            tasks.push(tokio::spawn(
                async move { post_order(&app, &body, key).await },
            ));
        }
        let mut ids = std::collections::HashSet::new();
        let mut replays = 0;
        for t in tasks {
            let (status, replayed, body) = t.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
            assert_eq!(body["state"], "accepted");
            ids.insert(body["id"].as_str().unwrap().to_string());
            replays += usize::from(replayed.as_deref() == Some("true"));
        }
        assert_eq!(ids.len(), 1, "one order for 50 deliveries");
        assert_eq!(replays, 49);
    }
    // Two orders of 2 + 1 units: the reservation sets were made once each.
    let (_, a) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(a["locations"][0]["reserved"], 4);
    let (_, a) = app.get("/v1/availability/SKU-2").await;
    assert_eq!(a["locations"][0]["reserved"], 2);
    let (_, list) = app.get("/v1/orders?channel=b2b").await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 2);
}

async fn keys_and_validation(app: App) {
    seed(&app).await;
    let (status, _, first) = post_order(&app, &order("K-1", 1), Some("idem-K")).await;
    assert_eq!(status, StatusCode::CREATED);
    // Same key, different body: 409, and nothing new is made.
    let (status, _, p) = post_order(&app, &order("K-2", 1), Some("idem-K")).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("IDEMPOTENCY_KEY_REUSED"))
    );
    assert_eq!(p["order_id"], first["id"]);
    // Same natural key, different body: 409 too.
    let (status, _, p) = post_order(&app, &order("K-1", 3), None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("IDEMPOTENCY_KEY_REUSED"))
    );
    // Key order and whitespace do not make a different body.
    let reordered: Value = serde_json::from_str(&order("K-1", 1).to_string()).unwrap();
    let (status, replayed, again) = post_order(&app, &reordered, Some("idem-K")).await;
    assert_eq!(
        (status, replayed.as_deref()),
        (StatusCode::CREATED, Some("true"))
    );
    assert_eq!(again, first);

    // Validation: one entry per field, each with its code; nothing stored, so it can be retried.
    let mut bad = order("V-1", 0);
    bad["lines"][1]["unit_price"] = json!("5,00");
    bad["lines"][1]["sku"] = json!("SKU-9");
    bad["ship_to"]["postal_code"] = json!("");
    bad["channel"] = json!("phone");
    let (status, _, p) = post_order(&app, &bad, None).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );
    let fields: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    for expected in [
        ("channel", "CHANNEL_UNKNOWN"),
        ("lines[0].qty", "QTY_INVALID"),
        ("lines[1].unit_price", "DECIMAL_INVALID"),
        ("ship_to.postal_code", "ADDRESS_INVALID"),
    ] {
        assert!(
            fields.contains(&expected),
            "{expected:?} missing from {fields:?}"
        );
    }
    let mut unknown = order("V-2", 1);
    unknown["lines"][1]["sku"] = json!("SKU-9");
    let (status, _, p) = post_order(&app, &unknown, Some("idem-V")).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("SKU_UNKNOWN"))
    );
    assert_eq!(p["errors"][0]["field"], "lines[1].sku");
    // Fixed, the same key and external id are free to use: the failure stored nothing.
    let (status, replayed, ok) = post_order(&app, &order("V-2", 1), Some("idem-V")).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None));
    assert_eq!(ok["state"], "accepted");

    // Not enough stock on a channel without backorders: rejected, answered 201, kept.
    let (status, _, r) = post_order(&app, &order("R-1", 500), None).await;
    assert_eq!(
        (status, r["state"].as_str(), r["code"].as_str()),
        (
            StatusCode::CREATED,
            Some("rejected"),
            Some("INSUFFICIENT_STOCK")
        )
    );

    // Read back.
    let id = first["id"].as_str().unwrap();
    let (status, o) = app.get(&format!("/v1/orders/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(o["state"], "accepted");
    assert_eq!(o["order"]["payment"]["amount"], "44.98");
    let path: Vec<&str> = o["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    // Intake records one transition: to the state it decided, in one commit.
    assert_eq!(path, vec!["accepted"]);
    assert_eq!(o["history"][0]["from"], Value::Null);
    assert!(o["lines"][0]["reservation_id"].is_string());
    let (status, p) = app.get("/v1/orders/ord_nope").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ORDER_NOT_FOUND"))
    );
    let (_, rejected) = app.get("/v1/orders?state=rejected").await;
    assert_eq!(rejected["orders"].as_array().unwrap().len(), 1);
    // Each accepted order wrote its first outbox job in the same transaction: the credit
    // check (fraud screening is not configured, so it passed in that transaction too).
    let (status, jobs) = app.get("/v1/jobs?state=ready&system=erp").await;
    assert_eq!(status, StatusCode::OK);
    let accepted = app.get("/v1/orders?state=accepted").await.1["orders"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), accepted);
    assert!(
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["kind"] == "check_credit")
    );
    let (status, p) = app.get("/v1/jobs?state=lost").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );
    let (status, p) = app.get("/v1/orders?state=lost").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );
    let (_, future) = app.get("/v1/orders?since=2999-01-01T00:00:00Z").await;
    assert!(future["orders"].as_array().unwrap().is_empty());
}

async fn exception_queue(app: App) {
    use crossdock_store::{JobFinish, LeaseRequest, Store};
    seed(&app).await;
    let (_, _, placed) = post_order(&app, &order("X-1", 1), None).await;
    // The ERP refuses the order's credit check: it becomes an exception.
    let now = crossdock_engine::inventory::now();
    let lease = LeaseRequest {
        owner: "w".into(),
        systems: None,
        now,
        lease_ms: 60_000,
        limit: 1,
    };
    let job = app.store.lease_jobs(lease).await.unwrap().pop().unwrap();
    let fail = JobFinish::Failed {
        code: "ERP_REJECTED".into(),
        error: "customer C-42 is blocked".into(),
    };
    assert!(app.store.finish_job(&job.id, "w", fail, now).await.unwrap());

    let (status, list) = app
        .get("/v1/exceptions?status=open&code=ERP_REJECTED")
        .await;
    assert_eq!(status, StatusCode::OK);
    let e = &list["exceptions"][0];
    assert_eq!(e["order_id"], placed["id"]);
    assert_eq!(
        (e["system"].as_str(), e["attempts"].as_i64()),
        (Some("erp"), Some(1))
    );
    assert!(e["remediation"].as_str().unwrap().contains("ERP refused"));
    let id = e["id"].as_str().unwrap().to_string();
    let (status, one) = app.get(&format!("/v1/exceptions/{id}")).await;
    assert_eq!(
        (status, one["last_error"].as_str()),
        (StatusCode::OK, Some("customer C-42 is blocked"))
    );

    let (status, r) = app
        .post(&format!("/v1/exceptions/{id}/retry"), json!({}))
        .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (StatusCode::OK, Some("retrying"))
    );
    let (_, jobs) = app.get("/v1/jobs?state=ready&system=erp").await;
    assert!(
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == job.id.as_str()),
        "the job is queued again"
    );
    // The operator gives up on the order: it is cancelled and the exception resolved.
    let (status, r) = app
        .post(&format!("/v1/exceptions/{id}/cancel-order"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["exception"]["status"].as_str(),
            r["order"]["state"].as_str()
        ),
        (Some("resolved"), Some("cancelled"))
    );
    let (status, r) = app
        .post(&format!("/v1/exceptions/{id}/resolve"), json!({}))
        .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (StatusCode::OK, Some("resolved"))
    );
    let (status, p) = app.post("/v1/exceptions/exc_nope/resolve", json!({})).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("EXCEPTION_NOT_FOUND"))
    );
    let (status, p) = app.get("/v1/exceptions?status=lost").await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
    );
}

async fn cancel(app: App) {
    seed(&app).await;
    let (_, _, placed) = post_order(&app, &order("C-1", 5), None).await;
    let id = placed["id"].as_str().unwrap();
    let (_, before) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(before["locations"][0]["reserved"], 5);
    let (status, o) = app
        .post(&format!("/v1/orders/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, o["state"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    assert_eq!(
        o["history"].as_array().unwrap().last().unwrap()["from"],
        "accepted"
    );
    let (_, after) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(
        after["locations"][0]["reserved"], 0,
        "the reservations are released"
    );
    let r = o["lines"][0]["reservation_id"].as_str().unwrap();
    let (_, res) = app.get(&format!("/v1/reservations/{r}")).await;
    assert_eq!(res["status"], "released");
    // Cancelling again changes nothing; a rejected order cannot be cancelled; nor an unknown one.
    let (status, again) = app
        .post(&format!("/v1/orders/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, again["state"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    assert_eq!(
        again["history"].as_array().unwrap().len(),
        o["history"].as_array().unwrap().len()
    );
    let (_, _, rejected) = post_order(&app, &order("C-2", 5000), None).await;
    let (status, p) = app
        .post(
            &format!("/v1/orders/{}/cancel", rejected["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("ORDER_NOT_CANCELLABLE"))
    );
    let (status, p) = app.post("/v1/orders/ord_nope/cancel", json!({})).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ORDER_NOT_FOUND"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cancel() {
    cancel(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cancel() {
    if let Some(app) = spawn_app(true).await {
        cancel(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_exception_queue() {
    exception_queue(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_exception_queue() {
    if let Some(app) = spawn_app(true).await {
        exception_queue(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_webhook_storm() {
    webhook_storm(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_webhook_storm() {
    if let Some(app) = spawn_app(true).await {
        webhook_storm(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keys_and_validation() {
    keys_and_validation(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keys_and_validation() {
    if let Some(app) = spawn_app(true).await {
        keys_and_validation(app).await;
    }
}

/// A key first seen on a request that matched an existing order by its natural key is
/// remembered for that order: the same key on another order is refused, and a storm of half
/// keyed, half unkeyed deliveries makes one order with every repeat marked as a replay.
async fn keys_seen_on_natural_replays(app: App) {
    seed(&app).await;
    let (status, replayed, first) = post_order(&app, &order("N-1001", 1), None).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None));
    let (status, replayed, again) = post_order(&app, &order("N-1001", 1), Some("K1")).await;
    assert_eq!(
        (status, replayed.as_deref()),
        (StatusCode::CREATED, Some("true"))
    );
    assert_eq!(again["id"], first["id"]);
    let (status, _, p) = post_order(&app, &order("N-1002", 1), Some("K1")).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("IDEMPOTENCY_KEY_REUSED"))
    );
    assert_eq!(p["order_id"], first["id"]);
    let (_, list) = app.get("/v1/orders?channel=b2b").await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 1, "no N-1002");

    for round in 0..3 {
        let body = order(&format!("S-{round}"), 1);
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (app, body) = (app.clone(), body.clone());
            let key = (i % 2 == 0).then(|| format!("storm-{round}"));
            tasks.push(tokio::spawn(async move {
                post_order(&app, &body, key.as_deref()).await
            }));
        }
        let (mut ids, mut replays) = (std::collections::HashSet::new(), 0);
        for t in tasks {
            let (status, replayed, body) = t.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
            ids.insert(body["id"].as_str().unwrap().to_string());
            replays += usize::from(replayed.as_deref() == Some("true"));
        }
        assert_eq!((ids.len(), replays), (1, 49), "round {round}");
        let (status, _, p) =
            post_order(&app, &order("S-other", 1), Some(&format!("storm-{round}"))).await;
        assert_eq!(status, StatusCode::CONFLICT, "round {round}: {p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keys_seen_on_natural_replays() {
    keys_seen_on_natural_replays(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keys_seen_on_natural_replays() {
    if let Some(app) = spawn_app(true).await {
        keys_seen_on_natural_replays(app).await;
    }
}

/// Every list pages with a cursor (`next_after`, sent back as `?after=`); orders are found by
/// their channel's id; a parameter a route does not know is refused, not ignored.
async fn lists_page_and_refuse_unknown_parameters(app: App) {
    seed(&app).await;
    for i in 0..25 {
        let (status, _, _) = post_order(&app, &order(&format!("L-{i}"), 1), None).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    for (list, path) in [
        ("orders", "/v1/orders?limit=10"),
        ("jobs", "/v1/jobs?limit=10"),
    ] {
        let (mut seen, mut pages, mut next) = (Vec::new(), 0, None::<String>);
        loop {
            let url = match &next {
                Some(after) => format!("{path}&after={after}"),
                None => path.to_string(),
            };
            let (status, page) = app.get(&url).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            pages += 1;
            for item in page[list].as_array().unwrap() {
                seen.push(item["id"].as_str().unwrap().to_string());
            }
            match page["next_after"].as_str() {
                Some(after) => next = Some(after.to_string()),
                None => break,
            }
        }
        let distinct: std::collections::HashSet<&String> = seen.iter().collect();
        assert_eq!((seen.len(), distinct.len()), (25, 25), "{list}: {seen:?}");
        assert_eq!(pages, 3, "{list}: 10 + 10 + 5");
    }
    let (_, all) = app.get("/v1/orders?limit=100").await;
    let ids: Vec<&str> = all["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(all["next_after"].is_null());

    let (_, found) = app.get("/v1/orders?external_id=L-7").await;
    let found = found["orders"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["external_id"], "L-7");
    assert!(ids.contains(&found[0]["id"].as_str().unwrap()));

    for path in [
        "/v1/orders?external_idx=L-7".to_string(),
        format!("/v1/orders/{}?verbose=1", ids[0]),
        "/v1/jobs?sytem=erp".to_string(),
        "/v1/exceptions?order=1".to_string(),
        "/v1/events?type=order.accepted".to_string(),
        "/v1/availability/SKU-1?chanel=web".to_string(),
    ] {
        let (status, p) = app.get(&path).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("QUERY_INVALID")),
            "{path}: {p}"
        );
    }
    let (_, p) = app.get("/v1/orders?external_idx=L-7").await;
    assert!(p["detail"].as_str().unwrap().contains("external_id"), "{p}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lists_page_and_refuse_unknown_parameters() {
    lists_page_and_refuse_unknown_parameters(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lists_page_and_refuse_unknown_parameters() {
    if let Some(app) = spawn_app(true).await {
        lists_page_and_refuse_unknown_parameters(app).await;
    }
}
