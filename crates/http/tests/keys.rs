//! API keys over HTTP against the real server: protected mode, 401, 403 and 429 with its
//! headers, revocation at once, keys kept only as hashes, and a key that writes as its
//! system; on SQLite and on PostgreSQL.

mod common;

use std::net::{IpAddr, SocketAddr};

use common::{App, decode, spawn_app, spawn_app_tuned};
use crossdock_store::KeyStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn header(res: &reqwest::Response, name: &str) -> Option<u64> {
    res.headers().get(name)?.to_str().ok()?.parse().ok()
}

async fn send(app: &App, method: reqwest::Method, path: &str) -> reqwest::Response {
    app.http
        .request(method, format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

async fn keys_guard_every_route(app: App) {
    // Protected mode: no key yet, and this client is on loopback.
    let (status, _) = app.get("/v1/orders").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "loopback is served while no key exists"
    );
    let admin_key = app.make_key("root", &["admin"], json!({})).await;
    assert!(admin_key.starts_with("cdk_"), "{admin_key}");
    assert!(admin_key.len() - 4 >= 32, "at least 128 random bits in hex");

    // From the first key on, a request without one is refused.
    let res = send(&app, reqwest::Method::GET, "/v1/orders").await;
    assert_eq!(
        res.headers().get("www-authenticate").unwrap(),
        "Bearer",
        "401 names the scheme"
    );
    let (status, body) = decode(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UNAUTHENTICATED"))
    );
    let (status, _) = app.keyed("cdk_0000").get("/v1/orders").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an unknown key");
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK, "health stays open");
    let (status, body) = app.post("/v1/hooks/nobody", json!({})).await;
    assert_ne!(
        body["code"], "UNAUTHENTICATED",
        "webhooks answer to their signatures: {status} {body}"
    );

    let admin = app.keyed(&admin_key);
    let reader_key = admin.make_key("reader", &["orders:read"], json!({})).await;
    let reader = app.keyed(&reader_key);
    let res = send(&reader, reqwest::Method::GET, "/v1/orders").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "ratelimit-limit"),
        Some(1_000),
        "the default rate"
    );
    assert!(header(&res, "ratelimit-remaining").is_some());
    let (status, body) = reader
        .post("/v1/orders/ord_1/cancel", json!({"reason": "x"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN_SCOPE")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("ops:write"),
        "{body}"
    );
    let (status, _) = reader.get("/v1/keys").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "keys are for admin");

    // Listed without the key; kept only as its hash.
    let (status, listed) = admin.get("/v1/keys").await;
    assert_eq!(status, StatusCode::OK);
    let text = listed.to_string();
    assert!(
        !text.contains(&reader_key) && !text.contains(&admin_key),
        "{text}"
    );
    assert_eq!(listed["keys"][1]["prefix"], reader_key[..12], "{listed}");
    for kept in app.store.keys().await.unwrap() {
        let key = if kept.name == "root" {
            &admin_key
        } else {
            &reader_key
        };
        assert_eq!(kept.hash, crossdock_http::keys::hash(key));
        assert!(!kept.hash.contains(&key[4..]) && kept.prefix.len() == 12);
    }

    // Revoked: refused on the very next request.
    let (status, _) = admin.delete("/v1/keys/reader").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = reader.get("/v1/orders").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UNAUTHENTICATED"))
    );
    let (status, _) = admin.delete("/v1/keys/reader").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A key revoked behind the server's back (`crossdock keys revoke`, another instance) is
    // refused within a second or so.
    let other_key = admin.make_key("other", &["orders:read"], json!({})).await;
    let other = app.keyed(&other_key);
    assert_eq!(other.get("/v1/orders").await.0, StatusCode::OK);
    let at = crossdock_engine::now();
    assert!(app.store.revoke_key("other", at).await.unwrap());
    let status = common::eventually(
        || async { other.get("/v1/orders").await.0 },
        |s| *s == StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = admin
        .post("/v1/keys", json!({"name": "root", "scopes": ["admin"]}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("KEY_NAME_TAKEN"))
    );
}

/// An admin key made in protected mode, and the server through it.
async fn admin(app: &App) -> App {
    app.keyed(&app.make_key("root", &["admin"], json!({})).await)
}

async fn a_key_over_its_rate_is_answered_429_with_its_headers(app: App) {
    let admin = admin(&app).await;
    let key = admin
        .make_key("slow", &["orders:read"], json!({"rate_per_sec": 3}))
        .await;
    let slow = app.keyed(&key);
    let mut remaining = Vec::new();
    let refused = loop {
        let res = send(&slow, reqwest::Method::GET, "/v1/orders").await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            break res;
        }
        assert_eq!(res.status(), StatusCode::OK);
        remaining.push(header(&res, "ratelimit-remaining").unwrap());
        assert!(remaining.len() <= 4, "never refused: {remaining:?}");
    };
    assert!(
        remaining.len() >= 3,
        "a second's worth first: {remaining:?}"
    );
    assert!(remaining.windows(2).all(|w| w[1] <= w[0]), "{remaining:?}");
    assert!(header(&refused, "retry-after").unwrap() >= 1);
    assert_eq!(header(&refused, "ratelimit-limit"), Some(3));
    assert_eq!(header(&refused, "ratelimit-remaining"), Some(0));
    assert!(header(&refused, "ratelimit-reset").unwrap() >= 1);
    let (status, body) = decode(refused).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED"))
    );
    // The bucket refills: after a second the key is served again.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(slow.get("/v1/orders").await.0, StatusCode::OK);
    // Another key has its own bucket.
    let other = admin.make_key("other", &["orders:read"], json!({})).await;
    assert_eq!(app.keyed(&other).get("/v1/orders").await.0, StatusCode::OK);
}

async fn a_bound_key_writes_as_its_system(app: App) {
    let prices = |source: &str| {
        json!({"source": source, "prices": [
            {"sku": "IPOD2008PINK", "currency": "USD", "amount": "10.00"}]})
    };
    let admin = admin(&app).await;
    let erp = admin
        .make_key("erp-feed", &["inventory:write"], json!({"system": "erp"}))
        .await;
    let erp = app.keyed(&erp);
    let (status, body) = erp.post("/v1/prices", prices("erp")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = erp.post("/v1/prices", prices("wms")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN_SCOPE")),
        "{body}"
    );
    // A key bound to a system that does not own pricing is refused by [ownership].
    let wms = admin
        .make_key("wms-feed", &["inventory:write"], json!({"system": "wms"}))
        .await;
    let (status, body) = app.keyed(&wms).post("/v1/prices", prices("wms")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("OWNERSHIP_VIOLATION")),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/v1/keys",
            json!({"name": "x", "scopes": ["admin"], "system": "sap"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "keys exist now: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_guard_every_route_on_both_stores() {
    for postgres in [false, true] {
        if let Some(app) = spawn_app(postgres).await {
            keys_guard_every_route(app).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_over_its_rate_is_answered_429_on_both_stores() {
    for postgres in [false, true] {
        if let Some(app) = spawn_app(postgres).await {
            a_key_over_its_rate_is_answered_429_with_its_headers(app).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bound_key_writes_as_its_system_on_both_stores() {
    for postgres in [false, true] {
        let tune = |c: &mut crossdock_engine::Config| {
            c.ownership.pricing = Some("erp".into());
            c.ownership.shipments = Some("wms".into());
        };
        if let Some(app) = spawn_app_tuned(postgres, &[], tune).await {
            a_bound_key_writes_as_its_system(app).await;
        }
    }
}

/// This machine's address on the interface its default route leaves by: not loopback. No
/// packet is sent (a UDP socket only picks its source address on connect).
fn outside_address() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protected_mode_refuses_a_client_off_loopback() {
    let Some(outside) = outside_address() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "this machine has no address but loopback; protected mode cannot be tested"
        );
        eprintln!("skipping: this machine has no address but loopback");
        return;
    };
    let tune = |c: &mut crossdock_engine::Config| c.server.listen = "0.0.0.0:0".parse().unwrap();
    let app = spawn_app_tuned(false, &[], tune).await.unwrap();
    let port = app.base.rsplit(':').next().unwrap().to_string();
    // A client from the machine's outside address, to its outside address: the server sees
    // a peer that is not loopback.
    let http = reqwest::Client::builder()
        .local_address(outside)
        .build()
        .unwrap();
    let remote = app.through(
        format!("http://{}", SocketAddr::new(outside, port.parse().unwrap())),
        http,
    );
    let (status, body) = remote.get("/v1/orders").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("protected mode"),
        "{body}"
    );
    assert_eq!(remote.get("/healthz").await.0, StatusCode::OK);
    let (status, _) = app.get("/v1/orders").await;
    assert_eq!(status, StatusCode::OK, "loopback is served");
    let (status, _) = remote
        .post("/v1/keys", json!({"name": "x", "scopes": ["admin"]}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "nor can it make itself a key"
    );

    let key = app.make_key("remote", &["orders:read"], Value::Null).await;
    assert_eq!(remote.keyed(&key).get("/v1/orders").await.0, StatusCode::OK);
    assert_eq!(
        app.get("/v1/orders").await.0,
        StatusCode::UNAUTHORIZED,
        "loopback needs one too now"
    );
}
