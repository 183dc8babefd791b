//! The estate act's calls as the outside systems make them: Shopify's order webhook, the
//! 3PL's signed parcel, and the API calls the act makes to set things up and read them.

use anyhow::bail;
use crossdock_connectors::signatures::sign_standard;
use crossdock_sim::estate::WHSEC;
use serde_json::{Value, json};

/// Shopify's `orders/create` for order `id` with `lines` (SKU, units).
pub(super) fn shopify_order(id: u64, lines: &[(String, i64)]) -> Value {
    let items: Vec<Value> = (lines.iter().enumerate())
        .map(|(i, (sku, qty))| {
            json!({"id": id * 10 + i as u64, "sku": sku, "quantity": qty, "price": "24.00",
                   "requires_shipping": true})
        })
        .collect();
    json!({
        "id": id, "email": "buyer@example.com", "currency": "USD", "total_tax": "0.00",
        "customer": {"id": 7_100_000_000_000_u64 + id % 500},
        "line_items": items,
        "shipping_address": {"name": "A Buyer", "address1": "1 Dock Rd", "city": "Newark",
                             "zip": "07105", "country_code": "US", "province_code": "NJ"}
    })
}

/// The 3PL's parcel of `lines` of `order_id` from `location`, signed as it signs.
pub(super) async fn ship(
    http: &reqwest::Client,
    base: &str,
    order_id: &str,
    location: &str,
    tracking: &str,
    lines: Vec<Value>,
) -> anyhow::Result<()> {
    let body = serde_json::to_vec(&json!({
        "type": "shipment.created", "timestamp": "2026-12-01T10:00:00Z",
        "data": {"order_id": order_id, "source": "wms", "source_event_id": tracking,
                 "location": location, "carrier": "UPS", "tracking_number": tracking,
                 "lines": lines}
    }))?;
    let (id, at) = (format!("msg_{tracking}"), crossdock_engine::now().0 / 1000);
    let signature = sign_standard(WHSEC, &id, at, &body)?;
    let answer = (http.post(format!("{base}/v1/hooks/threepl")))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", at.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await?;
    if !answer.status().is_success() {
        bail!(
            "the 3PL's parcel {tracking} was refused: {}",
            answer.text().await?
        );
    }
    Ok(())
}

pub(super) async fn post(http: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    let res = http.post(url).json(&body).send().await?;
    let status = res.status();
    let answer: Value = res.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{url} answered {status}: {answer}");
    }
    Ok(answer)
}

pub(super) async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http.get(url).send().await?.json().await?)
}
