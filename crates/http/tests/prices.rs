//! Prices end to end on both stores: a price list from the owner of pricing (another source
//! refused and kept as `ownership.violated`), bad prices refused by index, each channel's
//! prices published to its storefront (Shopify's variants, Adobe Commerce's base prices),
//! the newest of a burst winning, and what each channel acknowledged or refused kept per
//! channel and SKU, so the stale ones are one query away.

mod common;

use common::{App, eventually, spawn_app_tuned};
use crossdock_engine::Config;
use crossdock_sim::{SimAdobeCommerce, SimShopify};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SHOP_TOKEN: &str = "shpat_price_test_token";
const MAGE_TOKEN: &str = "adobe_price_test_token";

/// A hub whose `web` channel is a Shopify shop and `marketplace` an Adobe Commerce store,
/// NetSuite owning pricing.
async fn hub(postgres: bool, shop: &str, mage: &str) -> Option<App> {
    let dir = std::env::temp_dir().join(format!("crossdock-prices-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shop"), SHOP_TOKEN).unwrap();
    std::fs::write(dir.join("mage"), MAGE_TOKEN).unwrap();
    std::fs::write(dir.join("hook"), "shpss_price_test").unwrap();
    let connectors = format!(
        r#"
[[connectors]]
name = "shop-us"
kind = "shopify"
channel = "web"
url = "{shop}"
api_version = "2025-10"
rate_per_sec = 200
auth = {{ kind = "header", name = "X-Shopify-Access-Token", value = "file:{token}" }}
webhook_secret = "file:{hook}"

[[connectors]]
name = "mage"
kind = "adobe_commerce"
channel = "marketplace"
url = "{mage}"
rate_per_sec = 200
auth = {{ kind = "bearer", token = "file:{mage_token}" }}

[ownership]
pricing = "netsuite"
"#,
        token = dir.join("shop").display(),
        hook = dir.join("hook").display(),
        mage_token = dir.join("mage").display(),
    );
    let parsed = Config::parse(&format!(
        "{}\n{connectors}",
        crossdock_engine::config::EXAMPLE
    ))
    .unwrap();
    let app = spawn_app_tuned(postgres, &[], |c| {
        c.connectors = parsed.connectors;
        c.ownership = parsed.ownership;
    })
    .await?;
    let items = json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}, {"sku": "SKU-3"}]});
    assert_eq!(app.post("/v1/items", items).await.0, StatusCode::OK);
    Some(app)
}

async fn prices(app: &App, query: &str) -> Vec<Value> {
    let (status, page) = app.get(&format!("/v1/prices?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["prices"].as_array().cloned().unwrap_or_default()
}

fn price(sku: &str, channel: Option<&str>, amount: &str) -> Value {
    let mut p = json!({"sku": sku, "currency": "USD", "amount": amount});
    if let Some(c) = channel {
        p["channel"] = json!(c);
    }
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prices_reach_each_channel_and_what_it_acknowledged_is_kept() {
    for postgres in [false, true] {
        let shop = SimShopify::new(SHOP_TOKEN);
        let (shop_url, _shop_task) = shop.start().await.unwrap();
        let mage = SimAdobeCommerce::new(MAGE_TOKEN);
        let (mage_url, _mage_task) = mage.start().await.unwrap();
        for sku in ["SKU-1", "SKU-2"] {
            shop.add_variant(sku);
            mage.add_product(sku);
        }
        let Some(app) = hub(postgres, &shop_url, &mage_url).await else {
            continue;
        };

        // Only the owner of pricing sets prices; another's list is refused whole and kept.
        let list = json!({"source": "wms", "prices": [price("SKU-1", None, "1.00")]});
        let (status, refused) = app.post("/v1/prices", list).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        assert_eq!(refused["code"], "OWNERSHIP_VIOLATION");
        let (_, violations) = app.get("/v1/events?types=ownership.violated").await;
        let kept = violations["events"].as_array().unwrap();
        assert_eq!(kept.len(), 1, "{violations}");
        assert_eq!(kept[0]["data"]["domain"], "pricing");
        assert!(prices(&app, "").await.is_empty(), "nothing was set");

        let list = json!({"source": "netsuite", "prices": [
            price("SKU-1", None, "19.99"),
            price("SKU-2", Some("web"), "5"),
            price("SKU-3", None, "7.25"),
            price("SKU-9", Some("web"), "1.00"),
            {"sku": "SKU-2", "currency": "usd", "amount": "1.00"},
            price("SKU-2", Some("web"), "-1"),
            price("SKU-2", Some("nowhere"), "1.00"),
        ]});
        let (status, answer) = app.post("/v1/prices", list).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["received"], 7);
        assert_eq!(
            answer["set"], 7,
            "SKU-1 and SKU-3 on three channels, SKU-2 on web"
        );
        let codes: Vec<(i64, &str)> = (answer["rejected"].as_array().unwrap().iter())
            .map(|r| (r["index"].as_i64().unwrap(), r["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            codes,
            [
                (3, "SKU_UNKNOWN"),
                (4, "CURRENCY_INVALID"),
                (5, "DECIMAL_INVALID"),
                (6, "CHANNEL_UNKNOWN")
            ]
        );

        // Each storefront takes its channel's prices; what it said is kept.
        let web = eventually(
            || prices(&app, "channel=web"),
            |p| p.iter().all(|p| !p["pushed"].is_null()),
        )
        .await;
        let by_sku =
            |list: &[Value], sku: &str| list.iter().find(|p| p["sku"] == sku).cloned().unwrap();
        assert_eq!(by_sku(&web, "SKU-1")["current"], true, "{web:?}");
        assert_eq!(by_sku(&web, "SKU-2")["acknowledged"]["amount"], "5.00");
        let unsold = by_sku(&web, "SKU-3");
        assert_eq!(unsold["current"], false);
        assert!(
            unsold["refused"].as_str().unwrap().contains("no variant"),
            "{unsold}"
        );
        assert_eq!(shop.price("SKU-1").as_deref(), Some("19.99"));
        assert_eq!(shop.price("SKU-2").as_deref(), Some("5.00"));

        let market = eventually(
            || prices(&app, "channel=marketplace"),
            |p| p.iter().all(|p| !p["pushed"].is_null()),
        )
        .await;
        assert_eq!(by_sku(&market, "SKU-1")["current"], true, "{market:?}");
        assert_eq!(
            by_sku(&market, "SKU-3")["refused"],
            "Requested product doesn't exist. SKU: SKU-3."
        );
        assert_eq!(mage.price("SKU-1"), Some(19.99));

        // The stale prices: the refused ones, and b2b's, which no storefront publishes.
        let pending: Vec<(String, String)> = (prices(&app, "pending=true").await.iter())
            .map(|p| {
                (
                    p["channel"].as_str().unwrap().into(),
                    p["sku"].as_str().unwrap().into(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = [
            ("b2b", "SKU-1"),
            ("b2b", "SKU-3"),
            ("marketplace", "SKU-3"),
            ("web", "SKU-3"),
        ]
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect();
        assert_eq!(pending, want);

        // A burst of changes: the newest wins in the shop and is the one acknowledged.
        for cents in 1..=20 {
            let list = json!({"source": "netsuite",
                              "prices": [price("SKU-2", Some("web"), &format!("6.{cents:02}"))]});
            assert_eq!(app.post("/v1/prices", list).await.0, StatusCode::OK);
        }
        let settled = eventually(
            || prices(&app, "channel=web&sku=SKU-2"),
            |p| p[0]["current"] == true,
        )
        .await;
        assert_eq!(settled[0]["amount"], "6.20", "{settled:?}");
        assert_eq!(shop.price("SKU-2").as_deref(), Some("6.20"));

        // Paging by channel and SKU.
        let (_, first) = app.get("/v1/prices?limit=2").await;
        let after = first["next_after"].as_str().unwrap().to_string();
        assert_eq!(after, "b2b:SKU-3");
        let (_, rest) = app
            .get(&format!("/v1/prices?limit=100&after={after}"))
            .await;
        assert_eq!(rest["prices"].as_array().unwrap().len(), 5);
        let (status, _) = app.get("/v1/prices?after=nocolon").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
