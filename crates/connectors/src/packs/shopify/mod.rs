//! Shopify, a storefront. Out: tracking as fulfillments ([`admin`]), the channel's
//! availability ([`stock`]) and its prices ([`prices`]). In: the `orders/create` and `orders/cancelled` webhooks, signed with
//! the app's client secret (base64 HMAC-SHA256 of the raw body in `X-Shopify-Hmac-Sha256`);
//! a redelivery carries the same `X-Shopify-Event-Id`. Order ids beyond 2^53 stay exact: the
//! canonical `external_id` is the order's `id` as a decimal string. Prices stay decimal
//! strings, as Shopify writes them.

pub mod admin;
pub mod prices;
pub mod stock;

use super::{Delivery, Headers, body_digest};
use crate::signatures::{SignatureError, verify_shopify};

/// The pack's own mappings: (topic, name, program).
pub const MAPPINGS: &[(&str, &str, &str)] = &[
    (
        "orders/create",
        "shopify/orders_create.jq",
        include_str!("orders_create.jq"),
    ),
    (
        "orders/cancelled",
        "shopify/orders_cancelled.jq",
        include_str!("orders_cancelled.jq"),
    ),
    (
        "*",
        "shopify/other_topics.jq",
        include_str!("other_topics.jq"),
    ),
];

/// Headers kept with a rejected delivery.
pub const KEPT_HEADERS: &[&str] = &[
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-event-id",
    "x-shopify-webhook-id",
    "x-shopify-api-version",
    "x-shopify-triggered-at",
    "x-shopify-hmac-sha256",
];

/// Checks a delivery's signature under the app's client `secret` and reads its topic and id.
pub fn verify(
    secret: &str,
    headers: &(impl Headers + ?Sized),
    body: &[u8],
) -> Result<Delivery, SignatureError> {
    verify_shopify(
        secret.as_bytes(),
        body,
        headers.get("x-shopify-hmac-sha256"),
    )?;
    let topic = headers
        .get("x-shopify-topic")
        .ok_or(SignatureError::Missing("X-Shopify-Topic"))?;
    let id = headers
        .get("x-shopify-event-id")
        .or_else(|| headers.get("x-shopify-webhook-id"))
        .map_or_else(|| body_digest(body), str::to_string);
    Ok(Delivery {
        id,
        topic: topic.trim().to_string(),
    })
}
