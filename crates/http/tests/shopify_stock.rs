//! Availability out to Shopify, end to end on both stores: many stock moves of a SKU become
//! few `inventorySetQuantities` calls, each SKU's `available` at the shop's location ends at
//! the channel's `available_now`, and a SKU the shop does not sell is passed over.

mod common;

use std::time::{Duration, Instant};

use common::spawn_app_tuned;
use crossdock_engine::Config;
use crossdock_sim::SimShopify;
use crossdock_store::Store;
use reqwest::StatusCode;
use serde_json::json;

const TOKEN: &str = "shpat_stock_test";
const LOCATION: &str = "gid://shopify/Location/1";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stock_moves_reach_the_shop_coalesced_newest_figure_winning() {
    for postgres in [false, true] {
        let shop = SimShopify::new(TOKEN);
        shop.add_variant("SKU-1");
        shop.add_variant("SKU-2");
        // The shop throttles the first calls, so the moves below pile up meanwhile: what
        // waited goes out as one figure per SKU.
        shop.throttle_next(2);
        let (url, _task) = shop.start().await.unwrap();
        let dir = std::env::temp_dir().join(format!("crossdock-stock-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), TOKEN).unwrap();
        std::fs::write(dir.join("secret"), "shpss_stock").unwrap();
        let connector = format!(
            "[[connectors]]\nname = \"shop-us\"\nkind = \"shopify\"\nchannel = \"web\"\n\
             url = \"{url}\"\napi_version = \"2025-10\"\nlocation_id = \"{LOCATION}\"\n\
             rate_per_sec = 20\nwebhook_secret = \"file:{}\"\n\
             auth = {{ kind = \"header\", name = \"X-Shopify-Access-Token\", value = \"file:{}\" }}\n",
            dir.join("secret").display(),
            dir.join("token").display()
        );
        let parsed = Config::parse(&format!(
            "{}\n{connector}",
            crossdock_engine::config::EXAMPLE
        ))
        .unwrap();
        let Some(app) = spawn_app_tuned(postgres, &[], |c| c.connectors = parsed.connectors).await
        else {
            continue;
        };
        app.post(
            "/v1/items",
            json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}, {"sku": "SKU-3"}]}),
        )
        .await;
        // A hundred receipts of SKU-1 in twenty calls, one each of SKU-2 and SKU-3.
        for call in 0..20 {
            let events: Vec<_> = (0..5)
                .map(|i| {
                    json!({"source": "wms", "source_event_id": format!("r-{call}-{i}"),
                           "occurred_at": "2026-01-01T00:00:00Z", "sku": "SKU-1",
                           "location": "east", "kind": "receipt", "qty": 3})
                })
                .collect();
            let (status, r) = app
                .post("/v1/inventory/events", json!({"events": events}))
                .await;
            assert_eq!(
                (status, r["applied"].as_i64()),
                (StatusCode::OK, Some(5)),
                "{r}"
            );
        }
        for sku in ["SKU-2", "SKU-3"] {
            app.post(
                "/v1/inventory/events",
                json!({"events": [{"source": "wms", "source_event_id": format!("r-{sku}"),
                       "occurred_at": "2026-01-01T00:00:00Z", "sku": sku,
                       "location": "west", "kind": "receipt", "qty": 40}]}),
            )
            .await;
        }
        let figure = |sku: &str| {
            let app = app.clone();
            let sku = sku.to_string();
            async move {
                let (_, a) = app
                    .get(&format!("/v1/availability/{sku}?channel=web"))
                    .await;
                a["available_now"].as_i64().unwrap()
            }
        };
        let (one, two) = (figure("SKU-1").await, figure("SKU-2").await);
        assert!(one > 0 && two > 0, "{one} {two}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while (
            shop.available(LOCATION, "SKU-1"),
            shop.available(LOCATION, "SKU-2"),
        ) != (Some(one), Some(two))
        {
            assert!(
                Instant::now() < deadline,
                "the shop has {:?} and {:?}, crossdock {one} and {two}",
                shop.available(LOCATION, "SKU-1"),
                shop.available(LOCATION, "SKU-2")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            shop.stock_calls() <= 3,
            "{} calls for 22 commits: the moves were not coalesced",
            shop.stock_calls()
        );
        assert_eq!(
            shop.available(LOCATION, "SKU-3"),
            None,
            "the shop does not sell SKU-3"
        );
        // How far the log was taken is kept, once the figures are out.
        while app.store.cursor("shop-us").await.unwrap().is_none() {
            assert!(Instant::now() < deadline, "the publisher kept no cursor");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
