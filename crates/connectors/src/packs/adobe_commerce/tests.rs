//! The Adobe Commerce pack on fixtures written from Adobe Commerce's documented examples.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::packs::{Inbound, InboundMappings, envelope};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/src/packs/adobe_commerce/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn order() -> Value {
    fixture("orders_page.json")["items"][0].clone()
}

fn map(order: Value) -> Result<Inbound, String> {
    let mappings = InboundMappings::compile(MAPPINGS, &Default::default()).unwrap();
    let input = envelope("mage", Some("web"), pull::TOPIC, order);
    let value =
        (mappings.for_topic(pull::TOPIC).unwrap().run(&input)).map_err(|e| e.to_string())?;
    Inbound::read(value)
}

#[test]
fn an_order_becomes_a_canonical_order_with_what_ships() {
    let Inbound::Order(o) = map(order()).unwrap() else {
        panic!("not an order");
    };
    assert_eq!(o["channel"], "web");
    assert_eq!(
        o["external_id"], "3",
        "the entity id, which Adobe Commerce's calls go by"
    );
    assert_eq!(
        o["customer"],
        json!({"id": "1", "email": "roni_cost@example.com"})
    );
    assert_eq!(o["currency"], "USD");
    // The configurable hoodie ships once, as its parent item, at the parent's price.
    assert_eq!(
        o["lines"],
        json!([
            {"sku": "24-MB01", "qty": 1, "unit_price": "34"},
            {"sku": "MH01-XS-Black", "qty": 2, "unit_price": "50"}
        ])
    );
    assert_eq!(
        o["ship_to"],
        json!({"name": "Veronica Costello", "line1": "6146 Honey Bluff Parkway",
               "line2": "Suite 2", "city": "Calder", "region": "MI",
               "postal_code": "49628-7978", "country": "US"})
    );
    assert_eq!(o["tax"], json!({"amount": "12.8"}));
    // What the mapping gives is an order intake takes.
    let canonical: crossdock_domain::order::CanonicalOrder = serde_json::from_value(o).unwrap();
    assert_eq!(canonical.lines.len(), 2);
}

#[test]
fn a_bundle_ships_as_its_children_and_a_virtual_item_not_at_all() {
    let mut o = order();
    o["items"] = json!([
        {"item_id": 10, "parent_item_id": null, "product_type": "bundle", "sku": "24-WG080",
         "price": 61, "qty_ordered": 1},
        {"item_id": 11, "parent_item_id": 10, "product_type": "simple", "sku": "24-WG084",
         "price": 20, "qty_ordered": 1},
        {"item_id": 12, "parent_item_id": 10, "product_type": "simple", "sku": "24-WG086",
         "price": 41, "qty_ordered": 1},
        {"item_id": 13, "parent_item_id": null, "product_type": "virtual", "is_virtual": 1,
         "sku": "WARRANTY", "price": 9, "qty_ordered": 1}
    ]);
    let Inbound::Order(o) = map(o).unwrap() else {
        panic!("not an order");
    };
    let skus: Vec<&str> = (o["lines"].as_array().unwrap().iter())
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["24-WG084", "24-WG086"]);
}

#[test]
fn a_cancelled_order_cancels_and_a_complete_one_is_passed_over() {
    let mut o = order();
    o["state"] = json!("canceled");
    o["status"] = json!("canceled");
    match map(o).unwrap() {
        Inbound::Cancel {
            external_id,
            reason,
            ..
        } => {
            assert_eq!(external_id, "3");
            assert!(reason.unwrap().contains("000000003"));
        }
        other => panic!("{other:?}"),
    }
    for state in ["complete", "closed"] {
        let mut o = order();
        o["state"] = json!(state);
        assert!(matches!(map(o).unwrap(), Inbound::Ignore(_)), "{state}");
    }
}

#[test]
fn an_order_without_a_shipping_address_fails_by_name() {
    let mut o = order();
    o["extension_attributes"] = json!({});
    let e = map(o).unwrap_err();
    assert!(e.contains("000000003 has no shipping address"), "{e}");
}

#[test]
fn refusals_read_with_their_placeholders_filled() {
    let r = read_refusal(
        StatusCode::BAD_REQUEST,
        &fixture("error_with_parameters.json"),
    )
    .unwrap();
    assert_eq!(
        r.message,
        "The \"MH01\" value's type is invalid. The \"int\" type was expected. Verify and try again."
    );
    assert!(!r.retry);
    let r = read_refusal(StatusCode::NOT_FOUND, &fixture("error_not_found.json")).unwrap();
    assert!(
        r.message
            .starts_with("The entity that was requested doesn't exist")
    );
    let named = json!({"message": "No such entity with %fieldName = %fieldValue",
                       "parameters": {"fieldName": "orderId", "fieldValue": "99"}});
    let r = read_refusal(StatusCode::NOT_FOUND, &named).unwrap();
    assert_eq!(r.message, "No such entity with orderId = 99");
    assert!(
        read_refusal(StatusCode::SERVICE_UNAVAILABLE, &named)
            .unwrap()
            .retry
    );
    assert_eq!(read_refusal(StatusCode::BAD_REQUEST, &json!("oops")), None);
    assert_eq!(
        fill("%1 and %10", &json!((1..=10).collect::<Vec<_>>())),
        "1 and 10"
    );
}

#[test]
fn a_shipment_takes_the_items_still_to_ship_as_their_parents() {
    let items = order()["items"].clone();
    let mut want = BTreeMap::from([("MH01-XS-Black", 1.0), ("24-MB01", 3.0), ("GONE", 1.0)]);
    assert_eq!(
        to_ship(&items, &mut want),
        vec![
            json!({"order_item_id": 5, "qty": 1.0}),
            json!({"order_item_id": 6, "qty": 1.0})
        ]
    );
    assert_eq!(
        want["24-MB01"], 2.0,
        "what Adobe Commerce has not ordered stays wanted"
    );
    let mut shipped = items.clone();
    shipped[0]["qty_shipped"] = json!(1);
    let mut want = BTreeMap::from([("24-MB01", 1.0)]);
    assert!(to_ship(&shipped, &mut want).is_empty());
}

#[test]
fn the_source_items_call_is_the_documented_one() {
    let quantities = [
        ("24-MB01".to_string(), 10),
        ("MH01-XS-Black".to_string(), -2),
    ];
    assert_eq!(
        source_items("default", &quantities),
        fixture("source_items_request.json")
    );
    assert_eq!(carrier_code("UPS"), "ups");
    assert_eq!(carrier_code("Royal Mail"), "custom");
}
