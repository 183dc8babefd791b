//! Vendor packs: for each system crossdock speaks, its signature scheme, the topics it sends
//! and the jq mappings that read them (each pack in its own folder, with the same few files:
//! `mod.rs` for how deliveries are read, one `.jq` per default mapping, fixtures written from
//! the vendor's documented examples, and tests over them).
//!
//! Every inbound mapping reads the same envelope and gives one of the same few answers, so a
//! mapping written for one sender reads like one written for another:
//!
//! - input: `{"connector": NAME, "channel": CHANNEL or null, "topic": TOPIC, "payload": BODY}`
//! - output, one of:
//!   - `{"order": ORDER}`: a canonical order, as `POST /v1/orders` takes it;
//!   - `{"cancel": {"external_id": ID, "channel": CHANNEL?, "reason": TEXT?}}`: cancel the
//!     channel's order `ID` (on the connector's channel unless named);
//!   - `{"shipment": SHIPMENT}`: a shipment, as `POST /v1/shipments` takes it;
//!   - `{"stock_events": [EVENT, …]}`: stock events, as `POST /v1/inventory/events` takes them;
//!   - `{"ignore": WHY}`: nothing to take in (a topic or a kind of record crossdock does not
//!     carry), answered 200 and counted.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::mapping::{Mapping, MappingError};
use crate::signatures::SignatureError;

pub mod adobe_commerce;
pub mod business_central;
pub mod erp_bindings;
pub mod netsuite;
pub mod price_out;
pub mod publish;
pub mod rest;
pub mod shopify;
pub mod standard_webhooks;
pub mod storefronts;

/// What a webhook delivery is, once its signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The sender's id for the event, the same on every redelivery of it (or, when the
    /// sender gives none, a digest of the body).
    pub id: String,
    /// What happened, e.g. `orders/create`, `shipment.created`.
    pub topic: String,
}

/// The headers of a delivery, by lower-case name.
pub trait Headers {
    /// The value of `name`, when present and text.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Headers for reqwest::header::HeaderMap {
    fn get(&self, name: &str) -> Option<&str> {
        reqwest::header::HeaderMap::get(self, name).and_then(|v| v.to_str().ok())
    }
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// A pack that takes webhooks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookPack {
    /// Shopify's webhooks.
    Shopify,
    /// Any sender signing by the Standard Webhooks scheme.
    StandardWebhooks,
}

impl HookPack {
    /// The pack that takes a connector of `kind`'s webhooks in, if its kind has one.
    pub fn of(kind: crossdock_engine::config::ConnectorKind) -> Option<Self> {
        use crossdock_engine::config::ConnectorKind;
        match kind {
            ConnectorKind::Shopify => Some(HookPack::Shopify),
            ConnectorKind::StandardWebhooks => Some(HookPack::StandardWebhooks),
            _ => None,
        }
    }

    /// Checks a delivery's signature under `secret` at `now` (seconds since the epoch) and
    /// reads what it is.
    pub fn verify(
        self,
        secret: &str,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        now: i64,
    ) -> Result<Delivery, SignatureError> {
        match self {
            HookPack::Shopify => shopify::verify(secret, headers, body),
            HookPack::StandardWebhooks => standard_webhooks::verify(secret, headers, body, now),
        }
    }

    /// The pack's own mappings, by topic (`*`: every topic not named).
    pub fn defaults(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            HookPack::Shopify => shopify::MAPPINGS,
            HookPack::StandardWebhooks => standard_webhooks::MAPPINGS,
        }
    }

    /// The headers worth keeping with a rejected delivery: the scheme's and the sender's
    /// identification (never a credential).
    pub fn kept_headers(self) -> &'static [&'static str] {
        match self {
            HookPack::Shopify => shopify::KEPT_HEADERS,
            HookPack::StandardWebhooks => standard_webhooks::KEPT_HEADERS,
        }
    }
}

/// The inbound mappings of a connector of `kind`'s pack, by topic (`*`: every topic not
/// named), if its pack takes records in: the webhook packs' and the pulling ones'.
pub fn inbound_mappings(
    kind: crossdock_engine::config::ConnectorKind,
) -> Option<&'static [(&'static str, &'static str, &'static str)]> {
    use crossdock_engine::config::ConnectorKind;
    match kind {
        ConnectorKind::AdobeCommerce => Some(adobe_commerce::MAPPINGS),
        _ => HookPack::of(kind).map(HookPack::defaults),
    }
}

/// A connector's inbound mappings, compiled: the configuration's, then the pack's own.
#[derive(Debug)]
pub struct InboundMappings {
    by_topic: BTreeMap<String, Mapping>,
}

impl InboundMappings {
    /// A pack's mappings (`defaults`: topic, name, program) with `overrides` (topic → file,
    /// as configured) in their place.
    pub fn compile(
        defaults: &[(&str, &str, &str)],
        overrides: &BTreeMap<String, std::path::PathBuf>,
    ) -> Result<Self, (String, MappingError)> {
        let mut by_topic = BTreeMap::new();
        for (topic, file, code) in defaults {
            let mapping = Mapping::compile(file, code).map_err(|e| (topic.to_string(), e))?;
            by_topic.insert(topic.to_string(), mapping);
        }
        for (topic, file) in overrides {
            let mapping = Mapping::load(file).map_err(|e| (topic.clone(), e))?;
            by_topic.insert(topic.clone(), mapping);
        }
        Ok(Self { by_topic })
    }

    /// The mapping for `topic`: its own, else the one for every topic (`*`).
    pub fn for_topic(&self, topic: &str) -> Option<&Mapping> {
        self.by_topic.get(topic).or_else(|| self.by_topic.get("*"))
    }

    /// The topics with a mapping of their own.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.by_topic.keys().map(String::as_str)
    }
}

/// The envelope an inbound mapping reads.
pub fn envelope(connector: &str, channel: Option<&str>, topic: &str, payload: Value) -> Value {
    json!({"connector": connector, "channel": channel, "topic": topic, "payload": payload})
}

/// What an inbound mapping's value asks crossdock to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Take in a canonical order.
    Order(Value),
    /// Cancel a channel's order.
    Cancel {
        /// The channel (the connector's when the mapping names none).
        channel: Option<String>,
        /// The channel's order id.
        external_id: String,
        /// Why, when the sender said.
        reason: Option<String>,
    },
    /// Book a shipment.
    Shipment(Value),
    /// Apply stock events.
    StockEvents(Vec<Value>),
    /// Nothing to take in, and why.
    Ignore(String),
}

impl Inbound {
    /// Reads a mapping's value; what is wrong with it otherwise, for the exception.
    pub fn read(value: Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err(format!(
                "an inbound mapping gives an object with one of order, cancel, shipment, \
                 stock_events or ignore; it gave {}",
                kind_of(&value)
            ));
        };
        if map.len() != 1 {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            return Err(format!(
                "an inbound mapping gives one of order, cancel, shipment, stock_events or \
                 ignore; it gave {{{}}}",
                keys.join(", ")
            ));
        }
        let (key, inner) = map.into_iter().next().expect("one entry");
        match (key.as_str(), inner) {
            ("order", order @ Value::Object(_)) => Ok(Inbound::Order(order)),
            ("shipment", shipment @ Value::Object(_)) => Ok(Inbound::Shipment(shipment)),
            ("stock_events", Value::Array(events)) => Ok(Inbound::StockEvents(events)),
            ("ignore", why) => Ok(Inbound::Ignore(match why {
                Value::String(s) => s,
                other => other.to_string(),
            })),
            ("cancel", Value::Object(c)) => {
                let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
                let external_id = match c.get("external_id") {
                    Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => {
                        return Err(
                            "cancel.external_id is required (the channel's order id)".into()
                        );
                    }
                };
                Ok(Inbound::Cancel {
                    channel: text("channel"),
                    external_id,
                    reason: text("reason"),
                })
            }
            ("order" | "shipment" | "cancel", other) => Err(format!(
                "{key} is an object; the mapping gave {}",
                kind_of(&other)
            )),
            ("stock_events", other) => Err(format!(
                "stock_events is a list; the mapping gave {}",
                kind_of(&other)
            )),
            (other, _) => Err(format!(
                "`{other}` is not something crossdock takes in: give one of order, cancel, \
                 shipment, stock_events or ignore"
            )),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A digest of a body, for a delivery whose sender gives no id.
pub(crate) fn body_digest(body: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
