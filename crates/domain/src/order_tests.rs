use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::estate::fixtures::example;

fn valid() -> Value {
    json!({
        "channel": "web",
        "external_id": "1001",
        "business_unit": "east",
        "customer": {"id": "C-42", "account": "ACME-TRADING", "email": "buyer@example.com"},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "19.99"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "line2": null, "city": "Newark",
                    "region": "NJ", "postal_code": "07105", "country": "US"},
        "payment": {"authorization": "auth_123", "amount": "39.98"},
        "tax": {"amount": "2.65", "provider_ref": "tx_9"}
    })
}

fn codes(raw: Value) -> Vec<(String, &'static str)> {
    parse_order(&raw, &example())
        .unwrap_err()
        .into_iter()
        .map(|e| (e.field, e.code.as_str()))
        .collect()
}

#[test]
fn the_design_example_parses() {
    let o = parse_order(&valid(), &example()).unwrap();
    assert_eq!(o.lines[0].qty, 2);
    assert_eq!(o.merchandise_total().unwrap().to_string(), "39.98");
    assert_eq!(o.customer.account.as_deref(), Some("ACME-TRADING"));
    assert_eq!(o.payment.unwrap().amount.to_string(), "39.98");
}

#[test]
fn optional_parts_may_be_left_out() {
    let mut v = valid();
    for key in ["business_unit", "payment", "tax"] {
        v.as_object_mut().unwrap().remove(key);
    }
    v["customer"].as_object_mut().unwrap().remove("account");
    v["ship_to"].as_object_mut().unwrap().remove("region");
    assert!(parse_order(&v, &example()).is_ok());
}

#[test]
fn every_problem_is_reported_with_its_own_code() {
    let mut v = valid();
    v["channel"] = json!("phone");
    v["currency"] = json!("usd");
    v["lines"] = json!([
        {"sku": "SKU-1", "qty": 0, "unit_price": "1.00"},
        {"sku": "SKU-2", "qty": 1, "unit_price": "1,00"},
        {"sku": "SKU-3", "qty": 1.5, "unit_price": 2.5}
    ]);
    v["ship_to"].as_object_mut().unwrap().remove("city");
    v["ship_to"]["country"] = json!("USA");
    v["surprise"] = json!(true);
    let got = codes(v);
    for expected in [
        ("channel", "CHANNEL_UNKNOWN"),
        ("currency", "CURRENCY_INVALID"),
        ("lines[0].qty", "QTY_INVALID"),
        ("lines[1].unit_price", "DECIMAL_INVALID"),
        ("lines[2].qty", "QTY_INVALID"),
        ("lines[2].unit_price", "DECIMAL_INVALID"),
        ("ship_to.city", "ADDRESS_INVALID"),
        ("ship_to.country", "ADDRESS_INVALID"),
        ("surprise", "VALIDATION_FAILED"),
    ] {
        assert!(
            got.contains(&(expected.0.to_string(), expected.1)),
            "missing {expected:?} in {got:?}"
        );
    }
}

#[test]
fn empty_and_missing_lines_are_refused() {
    let mut v = valid();
    v["lines"] = json!([]);
    assert_eq!(
        codes(v.clone()),
        vec![("lines".to_string(), "VALIDATION_FAILED")]
    );
    v.as_object_mut().unwrap().remove("lines");
    assert_eq!(codes(v), vec![("lines".to_string(), "VALIDATION_FAILED")]);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::from),
        Just(json!("19.99")),
        Just(json!("web")),
        Just(json!("US")),
    ];
    leaf.prop_recursive(3, 32, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "channel",
                    "external_id",
                    "customer",
                    "currency",
                    "lines",
                    "ship_to",
                    "payment",
                    "tax",
                    "sku",
                    "qty",
                    "unit_price",
                    "id",
                    "email",
                    "name",
                    "line1",
                    "city",
                    "postal_code",
                    "country",
                    "amount",
                    "authorization",
                ]),
                inner,
                0..9
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    /// Whatever arrives, parsing answers an order or field errors; it never panics, and an
    /// error always names a field and has a message.
    #[test]
    fn any_json_is_parsed_or_explained(raw in arb_json()) {
        if let Err(errors) = parse_order(&raw, &example()) {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(|e| !e.message.is_empty()));
        }
    }

    /// Mutating one field of a valid order at a time never panics either.
    #[test]
    fn one_bad_field_is_caught(key in prop::sample::select(vec!["channel", "currency", "lines", "ship_to", "customer", "payment", "tax", "external_id"]), bad in arb_json()) {
        let mut v = valid();
        v[key] = bad;
        let _ = parse_order(&v, &example());
    }
}
