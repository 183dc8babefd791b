//! Webhook intake as a storefront drives it: Shopify `orders/create` deliveries, each signed
//! with the app's secret, posted to `/v1/hooks/shop-us` of a hub on a fresh store (its
//! runners and sweepers working as `serve` starts them), beside plain `POST /v1/orders` of the
//! same orders in canonical form to the same hub in the same run. Each delivery's signature
//! is checked, its body parsed and mapped by the pack's jq program, and the order taken in.

use crossdock_connectors::signatures::sign_shopify;
use crossdock_store::AnyStore;

use super::load::{Request, post_raw};
use super::{Args, Row, post_http, sku};

const SECRET: &str = "bench-shopify-app-secret";

/// The `i`-th order as Shopify's `orders/create` webhook carries it (one line).
fn shopify_order(i: u64) -> serde_json::Value {
    serde_json::json!({
        "id": 5_000_000_000_000_000_u64 + i,
        "email": "buyer@example.com",
        "currency": "USD",
        "total_tax": "0.00",
        "customer": {"id": 7_000_000_000_000_u64 + i % 5000},
        "line_items": [{"id": i, "sku": sku(i as usize % super::SKUS).as_str(), "quantity": 1,
                        "price": "19.99", "requires_shipping": true}],
        "shipping_address": {"name": "A Buyer", "address1": "1 Dock Rd", "city": "Newark",
                             "zip": "07105", "country_code": "US", "province_code": "NJ"}
    })
}

/// The same order in crossdock's canonical form, on the same channel.
fn canonical_order(i: u64) -> serde_json::Value {
    serde_json::json!({
        "channel": "web", "external_id": format!("W-{i}"),
        "customer": {"id": format!("C-{}", i % 5000), "email": "buyer@example.com"},
        "currency": "USD",
        "lines": [{"sku": sku(i as usize % super::SKUS).as_str(), "qty": 1, "unit_price": "19.99"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark", "region": "NJ",
                    "postal_code": "07105", "country": "US"}
    })
}

/// The webhook row and the plain intake row of one backend, on `store` (fresh).
pub(super) async fn rows(store: AnyStore, args: &Args, backend: &str) -> anyhow::Result<Vec<Row>> {
    let secret_file = args.dir.join(format!(
        "crossdock-bench-hook-secret-{}",
        std::process::id()
    ));
    std::fs::write(&secret_file, SECRET)?;
    let config = crossdock_engine::Config::parse(&format!(
        "{}\n[[connectors]]\nname = \"shop-us\"\nkind = \"shopify\"\nchannel = \"web\"\n\
         url = \"https://bench.myshopify.com\"\nwebhook_secret = \"file:{}\"\n",
        crossdock_engine::config::EXAMPLE,
        secret_file.display()
    ))?;
    let started = super::start_hub_with(&config, store).await;
    std::fs::remove_file(&secret_file)?;
    let (hub, shutdown) = started?;
    let base = hub.base_url();
    super::intake::settle(hub.inventory()).await?;
    let n = args.http_orders;
    let label = format!(
        "Shopify order webhooks, HTTP, {backend}, {} conn",
        args.connections
    );
    let request = |i: u64| {
        let body = serde_json::to_vec(&shopify_order(i)).expect("plain JSON");
        Request {
            headers: vec![
                ("content-type", "application/json".to_string()),
                ("x-shopify-topic", "orders/create".to_string()),
                ("x-shopify-event-id", format!("evt-{i}")),
                (
                    "x-shopify-hmac-sha256",
                    sign_shopify(SECRET.as_bytes(), &body),
                ),
            ],
            body,
        }
    };
    let taken = |a: &serde_json::Value| a["status"] == "taken";
    let mut hooks = post_raw(
        &base,
        "/v1/hooks/shop-us",
        n,
        args.connections,
        &label,
        request,
        reqwest::StatusCode::OK,
        taken,
    )
    .await?;
    // The saga's local steps for the webhook orders first, so the plain run pays only for its
    // own.
    super::intake::settle(hub.inventory()).await?;
    let label = format!("the same orders, POST /v1/orders, {backend}");
    let accepted = |a: &serde_json::Value| a["state"] == "accepted";
    let plain = post_http(
        &base,
        "/v1/orders",
        n,
        args.connections,
        &label,
        canonical_order,
        accepted,
    )
    .await?;
    hooks.baseline = Some(plain.rate());
    shutdown.trigger();
    hub.stopped().await?;
    Ok(vec![hooks, plain])
}
