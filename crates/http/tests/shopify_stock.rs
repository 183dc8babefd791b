//! Availability out to Shopify, end to end on both stores: many stock moves of a SKU become
//! few `inventorySetQuantities` calls, each SKU's `available` at the shop's location ends at
//! the channel's `available_now`, the inventory items it looked up are kept as bindings, a
//! SKU bound beforehand is published to its bound item, and a SKU the shop does not sell is
//! passed over; each figure's way to the shop is timed in `/metrics`.

mod common;

use std::time::{Duration, Instant};

use common::metrics::{scrape, value};
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
        // The shop sells crossdock's SKU-4 under its own SKU; a binding says which item.
        shop.add_variant("SHOP-4");
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
            json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}, {"sku": "SKU-3"}, {"sku": "SKU-4"}]}),
        )
        .await;
        let binding = json!({"bindings": [{"connector": "shop-us", "kind": "item", "ours": "SKU-4",
                                           "theirs": "gid://shopify/InventoryItem/1002"}]});
        let (status, r) = app.post("/v1/bindings", binding).await;
        assert_eq!(status, StatusCode::OK, "{r}");
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
        for sku in ["SKU-2", "SKU-3", "SKU-4"] {
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
        let four = figure("SKU-4").await;
        assert!(one > 0 && two > 0 && four > 0, "{one} {two} {four}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while (
            shop.available(LOCATION, "SKU-1"),
            shop.available(LOCATION, "SKU-2"),
            shop.available(LOCATION, "SHOP-4"),
        ) != (Some(one), Some(two), Some(four))
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
        // The inventory items the shop named are kept as the connector's item bindings.
        let (_, bound) = app.get("/v1/bindings?connector=shop-us&kind=item").await;
        let bound: Vec<(&str, &str)> = (bound["bindings"].as_array().unwrap().iter())
            .map(|b| (b["ours"].as_str().unwrap(), b["theirs"].as_str().unwrap()))
            .collect();
        assert_eq!(
            bound.len(),
            3,
            "SKU-1 and SKU-2 looked up, SKU-4 as bound: {bound:?}"
        );
        assert!(bound.contains(&("SKU-4", "gid://shopify/InventoryItem/1002")));
        assert!(
            bound
                .iter()
                .all(|(_, item)| item.starts_with("gid://shopify/InventoryItem/"))
        );
        // How far the log was taken is kept, once the figures are out.
        while app.store.cursor("shop-us").await.unwrap().is_none() {
            assert!(Instant::now() < deadline, "the publisher kept no cursor");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Each figure's way from its commit to the shop is timed.
        let (samples, _) = scrape(&app).await;
        let feed = [("connector", "shop-us"), ("feed", "availability.changed")];
        let timed = value(&samples, "crossdock_propagation_seconds", &feed).unwrap_or(0.0);
        assert!(
            timed >= 3.0,
            "a figure each for SKU-1, SKU-2 and SKU-4: {timed}"
        );
    }
}
