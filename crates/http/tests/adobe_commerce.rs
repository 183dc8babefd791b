//! Adobe Commerce as a storefront, end to end on both stores: orders pulled by their
//! `updated_at` watermark across pages (more orders changed in one second than a page
//! holds), none taken twice and none from before `pull_since`; an order cancelled in Adobe
//! Commerce cancelled here and one cancelled here cancelled there; the channel's stock set
//! as source items; a shipment's tracking booked as one Adobe Commerce shipment even when
//! the store's answer is lost.

mod common;

use std::time::Duration;

use common::{App, eventually, spawn_app_tuned};
use crossdock_connectors::packs::adobe_commerce::pull::{parse_time, watermark_key};
use crossdock_engine::Config;
use crossdock_sim::SimAdobeCommerce;
use crossdock_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "adobe_integration_token";

async fn web_orders(app: &App) -> Vec<Value> {
    let (_, list) = app.get("/v1/orders?channel=web&limit=500").await;
    list["orders"].as_array().cloned().unwrap_or_default()
}

async fn order_for(app: &App, external_id: i64) -> Value {
    let (_, list) = app
        .get(&format!("/v1/orders?channel=web&external_id={external_id}"))
        .await;
    list["orders"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_come_in_by_watermark_and_stock_tracking_and_cancellations_go_out() {
    for postgres in [false, true] {
        let sims = crossdock_sim::SimSystems::start().await.unwrap();
        let mage = SimAdobeCommerce::new(TOKEN);
        let (url, _task) = mage.start().await.unwrap();
        let dir = std::env::temp_dir().join(format!("crossdock-adobe-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), TOKEN).unwrap();
        let connector = format!(
            "[[connectors]]\nname = \"mage\"\nkind = \"adobe_commerce\"\nchannel = \"web\"\n\
             url = \"{url}\"\nlocation_id = \"default\"\npoll_secs = 1\n\
             pull_since = \"2026-11-30T14:00:00Z\"\nrate_per_sec = 50\n\
             auth = {{ kind = \"bearer\", token = \"file:{}\" }}\n",
            dir.join("token").display()
        );
        let parsed = Config::parse(&format!(
            "{}\n{connector}",
            crossdock_engine::config::EXAMPLE
        ))
        .unwrap();
        let systems: Vec<(&str, String)> = (sims.urls.iter())
            .filter(|(role, _)| *role != "storefront")
            .cloned()
            .collect();
        let Some(app) =
            spawn_app_tuned(postgres, &systems, |c| c.connectors = parsed.connectors).await
        else {
            continue;
        };
        let (status, _) = app
            .post(
                "/v1/items",
                json!({"items": [{"sku": "SKU-A"}, {"sku": "SKU-B"}, {"sku": "SKU-C"}, {"sku": "SKU-D"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let events: Vec<Value> = ["SKU-A", "SKU-B", "SKU-C", "SKU-D"]
            .iter()
            .map(|sku| {
                json!({"source": "erp", "source_event_id": format!("r-{sku}"),
                       "occurred_at": "2026-01-01T00:00:00Z", "sku": sku, "location": "east",
                       "kind": "receipt", "qty": 500})
            })
            .collect();
        let (status, r) = app
            .post("/v1/inventory/events", json!({"events": events}))
            .await;
        assert_eq!((status, r["applied"].as_i64()), (StatusCode::OK, Some(4)));

        // Orders placed once the items are in.
        mage.set_clock("2026-11-29 10:00:00");
        mage.add_order(900, &[("SKU-A", 1)]);
        // More orders changed in one second than a page holds, then some later.
        mage.set_clock("2026-11-30 14:00:05");
        for id in 1..=130 {
            mage.add_order(id, &[("SKU-A", 1)]);
        }
        mage.set_clock("2026-11-30 14:00:09");
        for id in 131..=150 {
            mage.add_order(id, &[("SKU-A", 1), ("SKU-B", 2)]);
        }
        mage.add_product("SKU-C");

        // Every order from pull_since on, each once; the one before it never.
        let orders = eventually(|| web_orders(&app), |o| o.len() >= 150).await;
        let (_, exceptions) = app.get("/v1/exceptions?limit=3").await;
        assert_eq!(orders.len(), 150, "orders pulled; exceptions: {exceptions}");
        let mut ids: Vec<i64> = (orders.iter())
            .map(|o| o["external_id"].as_str().unwrap().parse().unwrap())
            .collect();
        ids.sort();
        assert_eq!(ids, (1..=150).collect::<Vec<_>>(), "each order once");
        let key = watermark_key("mage");
        let mark = eventually(
            || async { app.store.cursor(&key).await.unwrap() },
            |m| *m == parse_time("2026-11-30 14:00:09"),
        )
        .await;
        assert_eq!(mark, parse_time("2026-11-30 14:00:09"), "the watermark");
        let pages = mage.order_pages();
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert_eq!(web_orders(&app).await.len(), 150, "nothing taken twice");
        assert!(mage.order_pages() > pages, "it keeps polling");

        // Cancelled in Adobe Commerce: cancelled here.
        mage.set_clock("2026-11-30 14:10:00");
        mage.set_state(7, "canceled");
        let seven = order_for(&app, 7).await["id"].as_str().unwrap().to_string();
        let cancelled = app.wait_for_state(&seven, "cancelled").await;
        assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
        // Cancelled here: cancelled in Adobe Commerce.
        let eight = order_for(&app, 8).await["id"].as_str().unwrap().to_string();
        let (status, r) = app
            .post(&format!("/v1/orders/{eight}/cancel"), json!({}))
            .await;
        assert!(status.is_success(), "{status} {r}");
        let state = eventually(
            || async { mage.state(8) },
            |s| s.as_deref() == Some("canceled"),
        )
        .await;
        assert_eq!(state.as_deref(), Some("canceled"));

        // The channel's figures as source items; a SKU the store does not have is passed
        // over and the rest still set.
        let figure = |sku: &'static str| {
            let app = app.clone();
            async move {
                let (_, a) = app
                    .get(&format!("/v1/availability/{sku}?channel=web"))
                    .await;
                a["available_now"].as_i64().unwrap()
            }
        };
        for sku in ["SKU-A", "SKU-B", "SKU-C"] {
            let want = figure(sku).await;
            let got = eventually(
                || async { mage.quantity("default", sku) },
                |q| *q == Some(want),
            )
            .await;
            assert_eq!(got, Some(want), "{sku} at the source");
        }
        assert_eq!(mage.quantity("default", "SKU-D"), None);

        // A shipment's tracking: one Adobe Commerce shipment though its answer was lost.
        let order = order_for(&app, 131).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let released = app.wait_for_state(&order, "released").await;
        assert_eq!(released["state"], "released", "{released}");
        mage.lose_next_answer();
        let shipment = json!({"order_id": order, "source": "wms", "source_event_id": "shp-131",
                              "location": "east", "carrier": "UPS", "tracking_number": "1Z-131",
                              "lines": [{"sku": "SKU-A", "qty": 1}, {"sku": "SKU-B", "qty": 2}]});
        let (status, r) = app.post("/v1/shipments", shipment).await;
        assert!(status.is_success(), "{status} {r}");
        let made = eventually(|| async { mage.shipments() }, |s| !s.is_empty()).await;
        assert_eq!(made.len(), 1, "{made:?}");
        // The lost answer left the job waiting to retry; have it retried now.
        let tracked = || async {
            app.post("/v1/jobs/retry?system=storefront", json!({}))
                .await;
            let (_, jobs) = app.get("/v1/jobs?system=storefront&limit=500").await;
            (jobs["jobs"].as_array().into_iter().flatten()).any(|j| {
                j["kind"] == "publish_tracking"
                    && j["order_id"] == order.as_str()
                    && j["state"] == "done"
            })
        };
        assert!(
            eventually(tracked, |done| *done).await,
            "the tracking job is done"
        );
        let made = mage.shipments();
        assert_eq!(
            made.len(),
            1,
            "the retry found the shipment it made: {made:?}"
        );
        assert_eq!(made[0].order_id, 131);
        assert_eq!(made[0].tracks, ["1Z-131"]);
        let units: f64 = made[0].items.iter().map(|(_, q)| q).sum();
        assert_eq!(units, 3.0);
    }
}
