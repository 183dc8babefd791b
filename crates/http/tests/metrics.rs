//! `/metrics` read back with a Prometheus text parser, as a Prometheus server would, after a
//! seeded run: orders accepted and invalid, an ERP that fails once then goes down, and a key
//! near nothing of its rate; on SQLite and on PostgreSQL.

mod common;

use common::metrics::{scrape, value};
use common::{eventually, seed, spawn_app_with, web_order};
use crossdock_sim::{Faults, SimErp};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_intake_tries_the_queue_and_consumers() {
    for postgres in [false, true] {
        let erp = SimErp::default();
        let (url, _server) = erp.start().await.unwrap();
        erp.set_faults(Faults {
            fail_next: 1,
            ..Faults::default()
        });
        let Some(app) = spawn_app_with(postgres, &[("erp", url)]).await else {
            continue;
        };
        let admin = app.keyed(&app.make_key("root", &["admin"], json!({})).await);
        let grafana = admin.make_key("grafana", &["ops:read"], json!({"rate_per_sec": 50}));
        let ops = app.keyed(&grafana.await);
        let shop = app.keyed(&admin.make_key("shop", &["orders:write"], json!({})).await);

        seed(&admin).await;
        let mut ids = Vec::new();
        for n in ["M-1", "M-2"] {
            let (status, placed) = shop.post("/v1/orders", web_order(n)).await;
            assert_eq!(status, StatusCode::CREATED, "{placed}");
            ids.push(placed["id"].as_str().unwrap().to_string());
        }
        let (status, _) = shop.post("/v1/orders", json!({"channel": "web"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        for id in &ids {
            admin.wait_for_state(id, "erp_posted").await;
        }

        // Only a key with ops:read reads them.
        let res = (app.http.get(format!("{}/metrics", app.base)).send().await).unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let (status, _) = shop.get("/metrics").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (samples, kind) = scrape(&ops).await;
        assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
        let received = "crossdock_orders_received_total";
        let web = |outcome| [("channel", "web"), ("outcome", outcome)];
        assert_eq!(value(&samples, received, &web("accepted")), Some(2.0));
        assert_eq!(value(&samples, received, &web("invalid")), Some(1.0));
        let latency = value(
            &samples,
            "crossdock_order_intake_seconds",
            &[("channel", "web")],
        );
        assert_eq!(latency, Some(3.0), "three answers timed");
        let tries = "crossdock_job_tries_total";
        let erp_tries = |outcome| [("system", "erp"), ("outcome", outcome)];
        assert_eq!(
            value(&samples, tries, &erp_tries("retry")),
            Some(1.0),
            "the 503"
        );
        assert!(value(&samples, tries, &erp_tries("done")).unwrap() >= 2.0);
        let open = value(&samples, "crossdock_circuit_open", &[("system", "erp")]);
        assert_eq!(open, Some(0.0));
        let rate = value(
            &samples,
            "crossdock_api_key_rate_per_sec",
            &[("key", "grafana")],
        );
        assert_eq!(rate, Some(50.0));
        let load = value(&samples, "crossdock_api_key_load", &[("key", "grafana")]).unwrap();
        assert!((0.0..=1.0).contains(&load), "{load}");

        // The ERP goes down: its next post waits, and the queue shows it.
        erp.set_faults(Faults {
            down_for_ms: 60_000,
            ..Faults::default()
        });
        let (status, _) = shop.post("/v1/orders", web_order("M-3")).await;
        assert_eq!(status, StatusCode::CREATED);
        let waiting = [("system", "erp"), ("kind", "post_sales_order")];
        let samples = eventually(
            || async { scrape(&ops).await.0 },
            |s| value(s, "crossdock_jobs_waiting", &waiting) == Some(1.0),
        )
        .await;
        let oldest = value(&samples, "crossdock_job_oldest_due_seconds", &waiting).unwrap();
        assert!(oldest >= 0.0, "{oldest}");
    }
}
