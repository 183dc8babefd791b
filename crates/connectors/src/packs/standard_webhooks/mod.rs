//! Any sender signing by the Standard Webhooks scheme (a 3PL such as ShipBob, a WMS, a
//! marketplace): `webhook-id`, `webhook-timestamp` within five minutes and `webhook-signature`
//! under a `whsec_` secret; the body `{"type", "timestamp", "data"}`. The topic is the body's
//! `type`. The pack's own mapping takes `data` as crossdock's own shape by the type's first
//! word (`shipment.*`, `stock.*` or `inventory.*`, `order.created`); a sender with its own
//! shape gets a mapping of its own per type, or for every type (`*`).

use super::{Delivery, Headers};
use crate::signatures::{SignatureError, StandardHeaders, verify_standard};

/// The pack's own mappings: (topic, name, program).
pub const MAPPINGS: &[(&str, &str, &str)] = &[(
    "*",
    "standard_webhooks/inbound.jq",
    include_str!("inbound.jq"),
)];

/// Headers kept with a rejected delivery.
pub const KEPT_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "user-agent",
];

/// Checks a delivery's signature under `secret` at `now` and reads its type and id.
pub fn verify(
    secret: &str,
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    now: i64,
) -> Result<Delivery, SignatureError> {
    let signed = StandardHeaders {
        id: headers.get("webhook-id"),
        timestamp: headers.get("webhook-timestamp"),
        signature: headers.get("webhook-signature"),
    };
    verify_standard(secret, signed, body, now)?;
    let topic = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|b| b.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default();
    Ok(Delivery {
        id: signed.id.unwrap_or_default().to_string(),
        topic,
    })
}
