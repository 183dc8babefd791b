//! Bad input probed over HTTP against the real server, on SQLite and on PostgreSQL: none of
//! it may crash the service, wrap the ledger or be taken silently.

mod common;

use common::{App, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const T1: &str = "2026-01-01T01:00:00Z";

fn ev(id: &str, kind: &str, extra: Value) -> Value {
    let mut e = json!({
        "source": "wms", "source_event_id": id, "occurred_at": T1,
        "sku": "SKU-1", "location": "east", "kind": kind,
    });
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    e
}

/// Every event kind with quantities past its bounds is refused by index; the ledger stays
/// what the in-bound events made it, and neither a reservation nor an order can take more.
async fn extreme_quantities(app: App) {
    app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
        .await;
    // Every kind that carries a quantity (a snapshot carries buckets, below).
    let kinds = crossdock_domain::stock_events::KINDS
        .iter()
        .filter(|k| **k != "snapshot");
    let bad = [
        i64::MIN,
        i64::MIN + 1,
        -1_000_000_001,
        1_000_000_001,
        i64::MAX,
    ];
    let mut events = Vec::new();
    for kind in kinds {
        for q in bad {
            events.push(ev(
                &format!("{kind}{q}"),
                kind,
                json!({"qty": q, "po_ref": "PO-1", "eta": T1}),
            ));
        }
    }
    for bucket in ["on_hand", "picking", "transfer_out", "inspection"] {
        for q in [i64::MIN, -1, 1_000_000_001, i64::MAX] {
            events.push(ev(
                &format!("snap-{bucket}{q}"),
                "snapshot",
                json!({"buckets": {bucket: q}}),
            ));
        }
    }
    let n = events.len();
    let r = app.events(json!(events)).await;
    assert_eq!(r["applied"], 0, "{r}");
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), n, "{r}");
    assert!(
        rejected.iter().all(|x| x["code"] == "VALIDATION_FAILED"),
        "{r}"
    );

    let r = app
        .events(json!([ev("seed", "receipt", json!({"qty": 10}))]))
        .await;
    assert_eq!(r["applied"], 1, "{r}");
    let (_, a) = app.get("/v1/availability/SKU-1?channel=b2b").await;
    assert_eq!(a["available_now"], 8, "10 less the safety stock: {a}");

    for qty in [json!(1_000_000_000), json!(1_000_000_001), json!(i64::MIN)] {
        let (status, body) = app
            .post(
                "/v1/reservations",
                json!({"sku": "SKU-1", "qty": qty, "channel": "b2b", "order_ref": "o1"}),
            )
            .await;
        assert!(
            status == StatusCode::CONFLICT || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{qty}: {status} {body}"
        );
    }
    let (_, a) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(a["locations"][0]["reserved"], 0, "{a}");
    assert_eq!(a["locations"][0]["on_hand"], 10, "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_extreme_quantities() {
    extreme_quantities(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_extreme_quantities() {
    if let Some(app) = spawn_app(true).await {
        extreme_quantities(app).await;
    }
}

/// A key named twice is refused at any depth, not read as whichever came last.
async fn repeated_keys(app: App) {
    app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
        .await;
    let order = r#"{"channel": "b2b", "external_id": "D-1", "currency": "USD",
        "customer": {"id": "C-1", "email": "a@example.com"},
        "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "1.00", "qty": 5}],
        "ship_to": {"name": "A", "line1": "1 Rd", "city": "X", "postal_code": "1",
                    "country": "US"}}"#;
    let event = r#"{"events": [{"source": "wms", "source_event_id": "d1", "sku": "SKU-1",
        "occurred_at": "2026-01-01T00:00:00Z", "location": "east", "kind": "receipt",
        "qty": 1, "qty": 1000}]}"#;
    for (path, body, at) in [
        ("/v1/orders", order, "duplicate key `qty` in lines[0]"),
        (
            "/v1/inventory/events",
            event,
            "duplicate key `qty` in events[0]",
        ),
    ] {
        let res = app
            .http
            .post(format!("{}{path}", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, p) = common::decode(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["code"], "VALIDATION_FAILED");
        assert!(p["detail"].as_str().unwrap().contains(at), "{p}");
    }
    let (_, a) = app.get("/v1/availability/SKU-1").await;
    assert_eq!(a["locations"][0]["on_hand"], 0, "nothing was applied: {a}");
    let (_, list) = app.get("/v1/orders").await;
    assert_eq!(list["orders"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_repeated_keys() {
    repeated_keys(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_repeated_keys() {
    if let Some(app) = spawn_app(true).await {
        repeated_keys(app).await;
    }
}

/// `POST /v1/jobs/retry?system=` answers how many waiting jobs it made due, and names the
/// systems it knows when given another.
async fn jobs_retry(app: App) {
    let (status, r) = app.post("/v1/jobs/retry?system=erp", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r, json!({"system": "erp", "due": 0}));
    let (status, p) = app.post("/v1/jobs/retry?system=mainframe", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("erp, wms"), "{p}");
    let (status, _) = app.post("/v1/jobs/retry", json!({})).await;
    assert!(status.is_client_error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_jobs_retry() {
    jobs_retry(spawn_app(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_jobs_retry() {
    if let Some(app) = spawn_app(true).await {
        jobs_retry(app).await;
    }
}

mod slow_clients {
    //! A client that is slow or silent cannot hold a socket for ever, and connections past
    //! the cap are answered at once (SQLite; the listener does not depend on the store).
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::common::{App, spawn_app_tuned};

    /// A server with short clocks: headers within `header_ms`, a body within 300 ms, idle
    /// for 400 ms at most, 16 connections.
    async fn app_with(header_ms: u64) -> App {
        spawn_app_tuned(false, &[], |c| {
            c.server.header_timeout_ms = header_ms;
            c.server.body_timeout_ms = 300;
            c.server.idle_timeout_ms = header_ms.max(400);
            c.server.max_connections = 16;
        })
        .await
        .unwrap()
    }

    async fn app() -> App {
        app_with(300).await
    }

    async fn connect(app: &App) -> TcpStream {
        TcpStream::connect(app.base.trim_start_matches("http://"))
            .await
            .unwrap()
    }

    /// Reads until the server closes the connection (or 5 s pass); returns what came and
    /// whether it was closed.
    async fn read_to_close(s: &mut TcpStream) -> (String, bool) {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into(), true),
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                Err(_) => return (String::from_utf8_lossy(&got).into(), false),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_sent_a_byte_at_a_time_gets_408_and_is_closed() {
        let app = app().await;
        let mut s = connect(&app).await;
        s.write_all(
            b"POST /v1/items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
        let (answer, closed) = read_to_close(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
        assert!(closed, "the connection is closed after the 408");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_and_idle_connections_are_closed() {
        let app = app().await;
        // Connected, never a byte: closed once the headers are overdue.
        let mut silent = connect(&app).await;
        assert!(
            read_to_close(&mut silent).await.1,
            "a silent connection is closed"
        );
        // Half a request line: the same.
        let mut partial = connect(&app).await;
        partial.write_all(b"GET /healthz HT").await.unwrap();
        assert!(
            read_to_close(&mut partial).await.1,
            "a stalled header is closed"
        );
        // One request served, then idle on keep-alive: closed after the idle timeout.
        let mut idle = connect(&app).await;
        idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let (answer, closed) = read_to_close(&mut idle).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(closed, "an idle keep-alive connection is closed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_cap_a_connection_gets_503_at_once() {
        // Clocks long enough that the 16 held connections stay open while the 17th comes.
        let app = app_with(10_000).await;
        let mut held = Vec::new();
        for _ in 0..16 {
            held.push(connect(&app).await);
        }
        // Give the server a moment to take all 16 before the next arrives.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut extra = connect(&app).await;
        let (answer, closed) = read_to_close(&mut extra).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("SERVER_BUSY"), "{answer}");
        assert!(closed);
        drop(held);
        // Once the held connections are gone, the server answers again.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if app
                .http
                .get(format!("{}/healthz", app.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            assert!(Instant::now() < deadline, "the server did not recover");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
