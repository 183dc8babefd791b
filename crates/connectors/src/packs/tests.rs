//! The packs on fixtures written from the vendors' documented examples.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn fixture(path: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/packs/");
    let text = std::fs::read_to_string(format!("{dir}{path}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn map(pack: HookPack, topic: &str, payload: Value) -> Result<Inbound, String> {
    let mappings = InboundMappings::compile(pack.defaults(), &Default::default()).unwrap();
    let input = envelope("shop-us", Some("web"), topic, payload);
    let value = mappings
        .for_topic(topic)
        .unwrap()
        .run(&input)
        .map_err(|e| e.to_string())?;
    Inbound::read(value)
}

/// Shopify's own library vector, through the pack.
#[test]
fn shopify_deliveries_are_checked_and_read() {
    let body = br#"{"foo": "bar"}"#;
    let headers: &[(&str, &str)] = &[
        (
            "X-Shopify-Hmac-Sha256",
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
        ),
        ("X-Shopify-Topic", "orders/create"),
        ("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5"),
    ];
    let d = HookPack::Shopify
        .verify("test_secret_key", headers, body, 0)
        .unwrap();
    assert_eq!(d.topic, "orders/create");
    assert_eq!(d.id, "98880550-7158-44d4-b7cd-2c97c8a091b5");
    let tampered = br#"{"foo": "baz"}"#;
    assert_eq!(
        HookPack::Shopify.verify("test_secret_key", headers, tampered, 0),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        HookPack::Shopify.verify("test_secret_key", &headers[1..], body, 0),
        Err(SignatureError::Missing("X-Shopify-Hmac-Sha256"))
    );
    // Without an event id, the same body is the same delivery.
    let a = HookPack::Shopify.verify("test_secret_key", &headers[..2], body, 0);
    let b = HookPack::Shopify.verify("test_secret_key", &headers[..2], body, 0);
    assert_eq!(a.unwrap().id, b.unwrap().id);
}

#[test]
fn a_shopify_order_becomes_a_canonical_order_with_its_id_exact() {
    let Inbound::Order(order) = map(
        HookPack::Shopify,
        "orders/create",
        fixture("shopify/fixtures/orders_create.json"),
    )
    .unwrap() else {
        panic!("an order")
    };
    assert_eq!(order["external_id"], "820982911946154508");
    assert_eq!(order["channel"], "web");
    assert_eq!(order["customer"]["id"], "115310627314723954");
    assert_eq!(order["customer"]["email"], "jon@example.com");
    assert_eq!(order["currency"], "USD");
    assert_eq!(
        order["lines"],
        json!([
            {"sku": "IPOD2008PINK", "qty": 1, "unit_price": "199.00"},
            {"sku": "IPOD2008BLACK", "qty": 1, "unit_price": "199.00"}
        ])
    );
    assert_eq!(order["ship_to"]["line1"], "123 Shipping Street");
    assert_eq!(order["ship_to"]["postal_code"], "40003");
    assert_eq!(order["ship_to"]["country"], "US");
    assert_eq!(order["ship_to"]["region"], "KY");
    assert_eq!(order["tax"], json!({"amount": "20.50"}));
    // What it gives is what intake reads.
    let estate = crossdock_engine::Config::parse(crossdock_engine::config::EXAMPLE)
        .unwrap()
        .estate()
        .unwrap();
    let parsed = crossdock_domain::order::parse_order(&order, &estate).unwrap();
    assert_eq!(parsed.external_id, "820982911946154508");
    assert_eq!(parsed.merchandise_total().unwrap().to_string(), "398.00");
}

#[test]
fn what_a_shopify_order_lacks_is_named() {
    let mut order = fixture("shopify/fixtures/orders_create.json");
    order["line_items"][1]["sku"] = Value::Null;
    let e = map(HookPack::Shopify, "orders/create", order.clone()).unwrap_err();
    assert!(
        e.contains("line 141249953214522974 of Shopify order 820982911946154508 has no SKU"),
        "{e}"
    );
    order["shipping_address"] = Value::Null;
    let e = map(HookPack::Shopify, "orders/create", order).unwrap_err();
    assert!(e.contains("has no shipping address"), "{e}");
}

#[test]
fn shopify_cancellations_and_other_topics() {
    let cancel = map(
        HookPack::Shopify,
        "orders/cancelled",
        fixture("shopify/fixtures/orders_cancelled.json"),
    )
    .unwrap();
    assert_eq!(
        cancel,
        Inbound::Cancel {
            channel: None,
            external_id: "820982911946154508".into(),
            reason: Some("customer".into()),
        }
    );
    let other = map(HookPack::Shopify, "products/update", json!({"id": 1})).unwrap();
    assert!(matches!(other, Inbound::Ignore(why) if why.contains("products/update")));
}

#[test]
fn standard_webhooks_deliveries_are_read_by_type() {
    let shipment = fixture("standard_webhooks/fixtures/shipment_created.json");
    let Inbound::Shipment(s) = map(
        HookPack::StandardWebhooks,
        "shipment.created",
        shipment.clone(),
    )
    .unwrap() else {
        panic!("a shipment")
    };
    assert_eq!(s, shipment["data"]);
    let stock = fixture("standard_webhooks/fixtures/stock_adjusted.json");
    let Inbound::StockEvents(events) =
        map(HookPack::StandardWebhooks, "stock.adjusted", stock.clone()).unwrap()
    else {
        panic!("stock events")
    };
    assert_eq!(Value::Array(events), stock["data"]["events"]);
    let other = map(
        HookPack::StandardWebhooks,
        "invoice.paid",
        json!({"type": "invoice.paid"}),
    );
    assert!(matches!(other, Ok(Inbound::Ignore(why)) if why.contains("invoice.paid")));
}

/// The Standard Webhooks specification's own example, through the pack.
#[test]
fn standard_webhooks_deliveries_are_checked_and_typed() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = br#"{"type":"shipment.created","timestamp":"2025-10-02T08:15:00Z","data":{}}"#;
    let now = 1_674_087_231;
    let signature =
        crate::signatures::sign_standard(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", now, body)
            .unwrap();
    let ts = now.to_string();
    let headers: &[(&str, &str)] = &[
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", &ts),
        ("webhook-signature", &signature),
    ];
    let d = HookPack::StandardWebhooks
        .verify(secret, headers, body, now)
        .unwrap();
    assert_eq!(d.id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    assert_eq!(d.topic, "shipment.created");
    assert!(matches!(
        HookPack::StandardWebhooks.verify(secret, headers, body, now + 301),
        Err(SignatureError::Stale(301))
    ));
    assert_eq!(
        HookPack::StandardWebhooks.verify(secret, &headers[..2], body, now),
        Err(SignatureError::Missing("webhook-signature"))
    );
}

#[test]
fn what_a_mapping_gives_is_checked() {
    for (value, says) in [
        (json!([1]), "it gave a list"),
        (
            json!({"order": {}, "shipment": {}}),
            "it gave {order, shipment}",
        ),
        (json!({"order": "x"}), "order is an object"),
        (json!({"stock_events": {}}), "stock_events is a list"),
        (json!({"cancel": {}}), "cancel.external_id is required"),
        (
            json!({"refund": {}}),
            "`refund` is not something crossdock takes in",
        ),
    ] {
        let e = Inbound::read(value.clone()).unwrap_err();
        assert!(e.contains(says), "{value}: {e}");
    }
    assert_eq!(
        Inbound::read(json!({"cancel": {"external_id": 12}})).unwrap(),
        Inbound::Cancel {
            channel: None,
            external_id: "12".into(),
            reason: None
        }
    );
}

/// Any JSON, its object keys leaning to those the packs read.
pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z/._]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("order".to_string()),
                    Just("cancel".to_string()),
                    Just("external_id".to_string()),
                    Just("payload".to_string()),
                    Just("line_items".to_string()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// No payload makes a pack's mapping, or the reading of what it gives, panic.
    #[test]
    fn no_payload_panics_a_pack(payload in arb_json(), topic in "[a-z]{1,8}[/.][a-z]{1,8}") {
        for defaults in [HookPack::Shopify.defaults(), HookPack::StandardWebhooks.defaults(), adobe_commerce::MAPPINGS] {
            let mappings = InboundMappings::compile(defaults, &Default::default()).unwrap();
            for t in [topic.as_str(), "orders/create", "orders/cancelled", "shipment.created", "stock.adjusted", "orders"] {
                let input = envelope("c", Some("web"), t, payload.clone());
                if let Some(Ok(v)) = mappings.for_topic(t).map(|m| m.run(&input)) {
                    let _ = Inbound::read(v);
                }
            }
        }
    }

    /// No value in any field of an Adobe Commerce order makes its mapping panic.
    #[test]
    fn no_field_of_an_adobe_commerce_order_panics_its_mapping(
        value in arb_json(),
        field in prop::sample::select(vec!["entity_id", "state", "items", "customer_id",
            "customer_email", "extension_attributes", "tax_amount", "order_currency_code"]),
        item_field in prop::sample::select(vec!["sku", "qty_ordered", "price", "parent_item_id",
            "product_type", "item_id", "is_virtual"]),
    ) {
        let mappings = InboundMappings::compile(adobe_commerce::MAPPINGS, &Default::default()).unwrap();
        let mut order = fixture("adobe_commerce/fixtures/orders_page.json")["items"][0].clone();
        let mut item_changed = order.clone();
        order[field] = value.clone();
        item_changed["items"][1][item_field] = value;
        for payload in [order, item_changed] {
            let input = envelope("mage", Some("web"), "orders", payload);
            if let Ok(v) = mappings.for_topic("orders").unwrap().run(&input) {
                let _ = Inbound::read(v);
            }
        }
    }

    /// No headers make a pack's signature check panic.
    #[test]
    fn no_headers_panic_a_check(
        sig in ".{0,60}", id in ".{0,20}", ts in "-?[0-9]{0,12}|.{0,8}", body in prop::collection::vec(any::<u8>(), 0..64)
    ) {
        let headers: &[(&str, &str)] = &[
            ("x-shopify-hmac-sha256", &sig), ("x-shopify-topic", &id),
            ("webhook-id", &id), ("webhook-timestamp", &ts), ("webhook-signature", &sig),
        ];
        for pack in [HookPack::Shopify, HookPack::StandardWebhooks] {
            let _ = pack.verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, &body, 1_674_087_231);
        }
    }
}
