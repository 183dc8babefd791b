//! The hub as a real `crossdock serve` process on the embedded store, with the ERP in this
//! test: `kill -9` it while it posts orders, start it again, and every accepted order reaches
//! the ERP exactly once; SIGTERM stops it cleanly; an ERP outage is logged as it happens.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{free_port, serve, serve_logging, wait_ready};
use crossdock_sim::{Faults, SimErp};
use serde_json::{Value, json};

const ORDERS: usize = 60;

/// The example configuration on `store_url`, with `extra` appended, written in `dir`.
fn hub_config(dir: &std::path::Path, store_url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("crossdock.toml");
    let text = crossdock_engine::config::EXAMPLE.replace("sqlite://crossdock.db", store_url);
    std::fs::write(&path, text + extra).unwrap();
    path
}

/// SKU-1 in the item master with `qty` units at east.
async fn seed(http: &reqwest::Client, base: &str, qty: i64) {
    let items = json!({"items": [{"sku": "SKU-1"}]});
    post(http, format!("{base}/v1/items"), items).await;
    let receipt = json!({"events": [{"source": "erp", "source_event_id": "seed",
        "occurred_at": "2026-01-01T00:00:00Z", "sku": "SKU-1", "location": "east",
        "kind": "receipt", "qty": qty}]});
    post(http, format!("{base}/v1/inventory/events"), receipt).await;
}

/// A one-line b2b order for SKU-1.
fn order(external_id: &str) -> Value {
    json!({
        "channel": "b2b", "external_id": external_id,
        "customer": {"id": "C-1", "email": "a@b.c"}, "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "9.99"}],
        "ship_to": {"name": "A", "line1": "1 Rd", "city": "X", "postal_code": "1", "country": "US"}
    })
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> Value {
    let res = http.post(url).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

async fn posted(http: &reqwest::Client, base: &str) -> usize {
    let url = format!("{base}/v1/orders?state=erp_posted&limit=500");
    match http.get(url).send().await {
        Ok(r) => r
            .json::<Value>()
            .await
            .map_or(0, |v| v["orders"].as_array().map_or(0, Vec::len)),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_killed_hub_posts_every_order_exactly_once_after_restart() {
    let dir = std::env::temp_dir().join(format!("crossdock-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("hub.db");
    crossdock_store::sqlite::remove_files(&db);
    crash_and_restart(&dir, &format!("sqlite://{}", db.display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_killed_hub_posts_every_order_exactly_once_after_restart() {
    let Ok(url) = std::env::var("CROSSDOCK_TEST_PG_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CROSSDOCK_TEST_PG_URL unset in CI"
        );
        eprintln!("skipping PostgreSQL test: set CROSSDOCK_TEST_PG_URL to run it");
        return;
    };
    let schema = format!("crash_{}", std::process::id());
    let setup = crossdock_store::PgStore::connect_in_schema(&url, &schema, 1)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("crossdock-crash-pg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    crash_and_restart(&dir, &format!("{url}?options[search_path]={schema}")).await;
    let drop = format!("DROP SCHEMA \"{schema}\" CASCADE");
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(setup.pool())
        .await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn crash_and_restart(dir: &std::path::Path, store_url: &str) {
    let erp = SimErp::default();
    let (erp_url, _server) = erp.start().await.unwrap();
    // Each ERP call takes a while, so the kill lands mid-way.
    erp.set_faults(Faults {
        delay_ms: 40,
        ..Faults::default()
    });

    let config = hub_config(
        dir,
        store_url,
        &format!(
            "\n[erp]\nurl = \"{erp_url}\"\ntimeout_ms = 1000\nrate_per_sec = 200\nconcurrency = 2\nlease_ms = 1500\n"
        ),
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = crossdock_connectors::tls::builder().build().unwrap();
    let mut hub = serve(&config, port, &dir.join("first.log"));
    wait_ready(&http, &base).await;
    seed(&http, &base, 1000).await;
    for i in 0..ORDERS {
        let answer = post(&http, format!("{base}/v1/orders"), order(&format!("K-{i}"))).await;
        assert_eq!(answer["state"], "accepted");
    }

    // Let some reach the ERP, then kill -9 the hub in the middle of posting.
    let deadline = Instant::now() + Duration::from_secs(30);
    while erp.stats().created < 10 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    hub.kill().unwrap();
    hub.wait().unwrap();
    let at_kill = erp.stats().created;
    assert!(
        at_kill < ORDERS as u64,
        "the kill must land before every order was posted"
    );

    // Start it again on the same store: it takes over what the dead process held.
    let mut hub = serve(&config, port, &dir.join("second.log"));
    wait_ready(&http, &base).await;
    let restarted = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    while posted(&http, &base).await < ORDERS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        eprintln!(
            "{:?} posted {} erp {:?}",
            restarted.elapsed(),
            posted(&http, &base).await,
            erp.stats().created
        );
    }
    let done = posted(&http, &base).await;
    let seen = erp.stats();
    hub.kill().unwrap();
    hub.wait().unwrap();
    assert_eq!(
        done, ORDERS,
        "every accepted order reached erp_posted (killed at {at_kill})"
    );
    assert_eq!(
        seen.created, ORDERS as u64,
        "exactly one ERP sales order each: {seen:?}"
    );
    assert_eq!(erp.orders().len(), ORDERS);
}

/// SIGTERM, as containers and systemd send it, stops the hub the way Ctrl-C does: the
/// process drains and exits 0 having said why, and what it accepted is there on restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigterm_drains_and_exits_cleanly() {
    let dir = std::env::temp_dir().join(format!("crossdock-term-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("hub.db");
    crossdock_store::sqlite::remove_files(&db);
    let config = hub_config(&dir, &format!("sqlite://{}", db.display()), "");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = crossdock_connectors::tls::builder().build().unwrap();
    let log = dir.join("term.log");
    let mut hub = serve_logging(&config, port, &log, "info");
    wait_ready(&http, &base).await;
    seed(&http, &base, 10).await;
    let sent = Command::new("kill")
        .args(["-TERM", &hub.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = hub.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the hub did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "exit {status}: {said}");
    assert!(said.contains("SIGTERM"), "{said}");

    let mut hub = serve(&config, port, &dir.join("again.log"));
    wait_ready(&http, &base).await;
    let res = http
        .get(format!("{base}/v1/availability/SKU-1"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "the item outlived the stop");
    hub.kill().unwrap();
    hub.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// What an operator must hear of is logged at `info` or above: the ERP going down opens its
/// circuit, its coming back closes it, and the backlog then reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_erp_outage_is_logged_as_it_opens_and_closes_the_circuit() {
    let dir = std::env::temp_dir().join(format!("crossdock-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("hub.db");
    crossdock_store::sqlite::remove_files(&db);
    let erp = SimErp::default();
    let (erp_url, _server) = erp.start().await.unwrap();
    erp.set_faults(Faults {
        down_for_ms: 2_000,
        ..Faults::default()
    });
    let config = hub_config(
        &dir,
        &format!("sqlite://{}", db.display()),
        &format!("\n[erp]\nurl = \"{erp_url}\"\ntimeout_ms = 1000\n"),
    );
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = crossdock_connectors::tls::builder().build().unwrap();
    let log = dir.join("serve.log");
    let mut hub = serve_logging(&config, port, &log, "info");
    wait_ready(&http, &base).await;
    seed(&http, &base, 100).await;
    for i in 0..12 {
        post(&http, format!("{base}/v1/orders"), order(&format!("L-{i}"))).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let said = loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if (said.contains("circuit closed") && erp.stats().created == 12)
            || Instant::now() > deadline
        {
            break said;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    hub.kill().unwrap();
    hub.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(said.contains("circuit opened"), "{said}");
    assert!(said.contains("circuit closed"), "{said}");
    assert_eq!(erp.stats().created, 12, "{said}");
}
