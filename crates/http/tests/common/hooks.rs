//! Webhook deliveries for the HTTP tests: a hub with a Shopify connector and a 3PL signing
//! by Standard Webhooks, and deliveries signed as each signs them.

use crossdock_connectors::signatures::{sign_shopify, sign_standard};
use crossdock_engine::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::App;

pub const SHOPIFY_SECRET: &str = "shpss_hook_test_secret";
pub const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const SHOP_TOKEN: &str = "shpat_hook_test_token";

pub fn fixture(path: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../connectors/src/packs/");
    serde_json::from_str(&std::fs::read_to_string(format!("{dir}{path}")).unwrap()).unwrap()
}

/// A hub with a Shopify connector on channel `web` and a 3PL signing by Standard Webhooks,
/// their secrets in files.
pub async fn hub(postgres: bool) -> Option<App> {
    hub_with(postgres, &[], None, "").await
}

/// [`hub`] with the outside `systems` (role, base URL) configured, the Shopify connector
/// calling the shop at `shop` (with the Admin API token [`SHOP_TOKEN`]) when given, and
/// `extra` configuration (an `[ownership]` table) read with it.
pub async fn hub_with(
    postgres: bool,
    systems: &[(&str, String)],
    shop: Option<&str>,
    extra: &str,
) -> Option<App> {
    let dir = std::env::temp_dir().join(format!("crossdock-hooks-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shopify"), SHOPIFY_SECRET).unwrap();
    std::fs::write(dir.join("3pl"), WHSEC).unwrap();
    std::fs::write(dir.join("token"), SHOP_TOKEN).unwrap();
    let admin = match shop {
        Some(url) => format!(
            "url = \"{url}\"\napi_version = \"2025-10\"\n\
             auth = {{ kind = \"header\", name = \"X-Shopify-Access-Token\", value = \"file:{}\" }}",
            dir.join("token").display()
        ),
        None => "url = \"https://acme.myshopify.com\"".to_string(),
    };
    let connectors = format!(
        r#"
[[connectors]]
name = "shop-us"
kind = "shopify"
channel = "web"
{admin}
webhook_secret = "file:{shopify}"

[[connectors]]
name = "threepl"
kind = "standard_webhooks"
url = "https://3pl.example.com"
webhook_secret = "file:{threepl}"
"#,
        shopify = dir.join("shopify").display(),
        threepl = dir.join("3pl").display(),
    );
    let parsed = Config::parse(&format!(
        "{}\n{connectors}\n{extra}",
        crossdock_engine::config::EXAMPLE
    ))
    .unwrap();
    let app = super::spawn_app_tuned(postgres, systems, |c| {
        c.connectors = parsed.connectors;
        c.ownership = parsed.ownership;
    })
    .await?;
    let (status, _) = app
        .post(
            "/v1/items",
            json!({"items": [{"sku": "IPOD2008PINK"}, {"sku": "IPOD2008BLACK"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let receipt = |sku: &str| {
        json!({"source": "erp", "source_event_id": format!("r-{sku}"),
               "occurred_at": "2026-01-01T00:00:00Z", "sku": sku, "location": "east",
               "kind": "receipt", "qty": 40})
    };
    let (status, r) = app
        .post(
            "/v1/inventory/events",
            json!({"events": [receipt("IPOD2008PINK"), receipt("IPOD2008BLACK")]}),
        )
        .await;
    assert_eq!((status, r["applied"].as_i64()), (StatusCode::OK, Some(2)));
    Some(app)
}

/// Posts `body` to a connector's hook with `headers`.
pub async fn deliver(
    app: &App,
    connector: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .post(format!("{}/v1/hooks/{connector}", app.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    super::decode(req.send().await.unwrap()).await
}

/// A Shopify delivery of `payload` on `topic`, signed with the connector's secret.
pub fn shopify(
    topic: &str,
    event_id: &str,
    payload: &Value,
) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = serde_json::to_vec(payload).unwrap();
    let headers = vec![
        (
            "x-shopify-hmac-sha256",
            sign_shopify(SHOPIFY_SECRET.as_bytes(), &body),
        ),
        ("x-shopify-topic", topic.to_string()),
        ("x-shopify-event-id", event_id.to_string()),
        ("x-shopify-shop-domain", "acme.myshopify.com".to_string()),
    ];
    (headers, body)
}

/// A Standard Webhooks delivery of `body` as the 3PL signs it at `at` (seconds).
pub fn threepl_at(id: &str, body: &Value, at: i64) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = serde_json::to_vec(body).unwrap();
    let headers = vec![
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", at.to_string()),
        (
            "webhook-signature",
            sign_standard(WHSEC, id, at, &body).unwrap(),
        ),
    ];
    (headers, body)
}

/// [`threepl_at`] now.
pub fn threepl(id: &str, body: &Value) -> (Vec<(&'static str, String)>, Vec<u8>) {
    threepl_at(id, body, crossdock_engine::now().0 / 1000)
}
