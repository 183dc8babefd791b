//! Starts the real server on port 0 for the HTTP tests, on SQLite or PostgreSQL.
#![allow(dead_code)]

pub mod hooks;
pub mod metrics;

use crossdock_domain::ErrorCode;
use crossdock_domain::order_state::OrderState;
use std::sync::Arc;

use crossdock_engine::config::EXAMPLE;
use crossdock_engine::{Config, Shutdown};
use crossdock_store::{AnyStore, PgStore, SqliteStore};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Waits (at most 30 s) until `done` says yes of what `probe` reads, and gives the last read.
pub async fn eventually<T, F: std::future::Future<Output = T>>(
    probe: impl Fn() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let read = probe().await;
        if done(&read) || std::time::Instant::now() > deadline {
            return read;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// A running server. Clones share it; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct App {
    pub base: String,
    pub http: reqwest::Client,
    /// The store behind the server, for setting up what the API cannot.
    pub store: AnyStore,
    /// With several ERPs, the router between them (what `SIGHUP` reloads).
    pub erp_router: Option<Arc<crossdock_engine::erp_router::ErpRouter>>,
    _guard: Arc<Guard>,
}

struct Guard {
    shutdown: Shutdown,
    cleanup: Option<std::path::PathBuf>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(path) = &self.cleanup {
            crossdock_store::sqlite::remove_files(path);
        }
    }
}

/// A web order for one unit of `SKU-1`, its customer's email and address the kind that
/// logs must mask.
pub fn web_order(external_id: &str) -> Value {
    json!({
        "channel": "web", "external_id": external_id,
        "customer": {"id": "C-1", "email": "buyer@example.com"},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "19.99"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

/// A receipt of 500 `SKU-1` at `location`, from its warehouse.
pub fn receipt(id: &str, location: &str, occurred_at: jiff::Timestamp) -> Value {
    json!({"source": format!("wms-{location}"), "source_event_id": id,
           "occurred_at": occurred_at.to_string(), "sku": "SKU-1", "location": location,
           "kind": "receipt", "qty": 500})
}

/// `SKU-1` in the item master with 500 received at `east` now: enough for any test's orders.
pub async fn seed(app: &App) {
    app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
        .await;
    let now = jiff::Timestamp::now();
    app.events(json!([receipt("seed", "east", now)])).await;
}

/// Starts the server on port 0 on the chosen backend; `None` when PostgreSQL is not
/// configured (outside CI).
pub async fn spawn_app(postgres: bool) -> Option<App> {
    spawn_app_with(postgres, &[]).await
}

/// Like [`spawn_app`], with the outside `systems` (name, base URL) configured.
pub async fn spawn_app_with(postgres: bool, systems: &[(&str, String)]) -> Option<App> {
    spawn_app_tuned(postgres, systems, |_| {}).await
}

/// Like [`spawn_app_with`], with the configuration changed by `tune` first.
pub async fn spawn_app_tuned(
    postgres: bool,
    systems: &[(&str, String)],
    tune: impl FnOnce(&mut Config),
) -> Option<App> {
    let mut config = Config::parse(EXAMPLE).unwrap();
    tune(&mut config);
    for (name, url) in systems {
        config.set_system(
            name,
            crossdock_engine::config::SystemSettings {
                timeout_ms: 1_000,
                rate_per_sec: 500.0,
                burst: 50,
                max_attempts: 10,
                // The ERP's own statuses: awaiting approval there, approved, cancelled.
                statuses: [
                    ("Pending Approval", OrderState::OnHold),
                    ("Pending Fulfillment", OrderState::ErpPosted),
                    ("Cancelled", OrderState::Cancelled),
                ]
                .map(|(s, state)| (s.to_string(), state))
                .into(),
                ..crossdock_engine::config::SystemSettings::at(url)
            },
        );
    }
    config.inventory.expiry_sweep_ms = 50;
    config.server.max_body_bytes = 64 * 1024;
    let (store, cleanup) = if postgres {
        let Ok(url) = std::env::var("CROSSDOCK_TEST_PG_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CROSSDOCK_TEST_PG_URL unset in CI"
            );
            eprintln!("skipping PostgreSQL test: set CROSSDOCK_TEST_PG_URL to run it");
            return None;
        };
        let schema = format!("h_{}", ulid::Ulid::new().to_string().to_lowercase());
        (
            AnyStore::Postgres(PgStore::connect_in_schema(&url, &schema, 8).await.unwrap()),
            None,
        )
    } else {
        let path = std::env::temp_dir().join(format!("crossdock-http-{}.db", ulid::Ulid::new()));
        (
            AnyStore::Sqlite(SqliteStore::open(&path).await.unwrap()),
            Some(path),
        )
    };
    let shutdown = Shutdown::new();
    // On the configured address's interface (loopback unless a test says otherwise), on a
    // port of its own.
    let at = std::net::SocketAddr::new(config.server.listen.ip(), 0);
    let listener = tokio::net::TcpListener::bind(at).await.unwrap();
    let hub = crossdock_http::run_with_store(&config, store.clone(), listener, shutdown.clone())
        .await
        .unwrap();
    let base = hub.base_url();
    Some(App {
        base,
        http: crossdock_connectors::tls::builder().build().unwrap(),
        erp_router: hub.workers().erp_router.clone(),
        store,
        _guard: Arc::new(Guard { shutdown, cleanup }),
    })
}

impl App {
    /// The same server, every request carrying `key` as `Authorization: Bearer`.
    pub fn keyed(&self, key: &str) -> App {
        let mut headers = reqwest::header::HeaderMap::new();
        let bearer = format!("Bearer {key}").parse().unwrap();
        headers.insert(reqwest::header::AUTHORIZATION, bearer);
        let http = crossdock_connectors::tls::builder().default_headers(headers);
        self.through(self.base.clone(), http.build().unwrap())
    }

    /// The same server, reached at `base` with `http`.
    pub fn through(&self, base: String, http: reqwest::Client) -> App {
        App {
            base,
            http,
            ..self.clone()
        }
    }

    /// Makes a key with `scopes` (and `extra` fields) through `POST /v1/keys`; its `cdk_…`.
    pub async fn make_key(&self, name: &str, scopes: &[&str], extra: Value) -> String {
        let mut body = json!({"name": name, "scopes": scopes});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        let (status, made) = self.post("/v1/keys", body).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["key"].as_str().unwrap().to_string()
    }

    /// The order once it reaches `state` (or as it stands after 15 s).
    pub async fn wait_for_state(&self, id: &str, state: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let (_, o) = self.get(&format!("/v1/orders/{id}")).await;
            if o["state"] == state || std::time::Instant::now() > deadline {
                return o;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        decode(res).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        decode(res).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .delete(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        decode(res).await
    }
    pub async fn events(&self, events: Value) -> Value {
        let (status, body) = self
            .post("/v1/inventory/events", json!({"events": events}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

pub async fn decode(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let problem = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if !status.is_success() {
        assert!(problem, "error {status} must be problem+json: {body}");
        assert_eq!(body["status"], status.as_u16(), "{body}");
        let code = body["code"].as_str().and_then(ErrorCode::parse);
        let code = code.unwrap_or_else(|| panic!("an unknown code: {body}"));
        // Each code answers with its own status; a body failing validation is 422 with its
        // one field's code.
        if status != StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(status.as_u16(), code.status(), "{body}");
        }
    }
    (status, body)
}
