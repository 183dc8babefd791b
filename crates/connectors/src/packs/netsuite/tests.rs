//! The NetSuite pack on fixtures written from NetSuite's documented shapes: its error body,
//! a customer record, the default mappings' input and output.

use super::*;

fn fixture(name: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/packs/netsuite/fixtures/");
    serde_json::from_str(&std::fs::read_to_string(format!("{dir}{name}")).unwrap()).unwrap()
}

#[test]
fn errors_are_read_from_netsuites_error_body() {
    let body = fixture("error_invalid_value.json");
    let refusal = read_refusal(StatusCode::BAD_REQUEST, &body).unwrap();
    assert!(!refusal.retry);
    assert!(
        refusal
            .message
            .starts_with("INVALID_VALUE: Invalid value for the resource")
            && refusal.message.ends_with("(at entity)"),
        "{}",
        refusal.message
    );
    let limited = fixture("error_concurrency.json");
    let refusal = read_refusal(StatusCode::TOO_MANY_REQUESTS, &limited).unwrap();
    assert!(refusal.retry, "the concurrency limit is retried");
    // The same limit answered as a 400 is retried too.
    assert!(
        read_refusal(StatusCode::BAD_REQUEST, &limited)
            .unwrap()
            .retry
    );
    assert_eq!(
        read_refusal(StatusCode::BAD_REQUEST, &json!({"x": 1})),
        None
    );
}

#[test]
fn the_internal_id_is_the_locations_last_segment() {
    let at = "https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/salesOrder/6470";
    assert_eq!(internal_id(at), Some("6470"));
    assert_eq!(internal_id("/record/v1/salesOrder/6470/"), Some("6470"));
    assert_eq!(internal_id("/record/v1/salesOrder/eid:ord_1"), None);
    assert_eq!(internal_id(""), None);
}

#[test]
fn credit_hold_follows_the_override_then_the_limit() {
    let customer = fixture("customer.json");
    assert!(!on_hold(&customer), "AUTO, balance under the limit");
    let mut over = customer.clone();
    over["balance"] = json!(6000.0);
    assert!(on_hold(&over));
    let mut forced = customer.clone();
    forced["creditHoldOverride"] = json!({"id": "ON", "refName": "On"});
    assert!(on_hold(&forced));
    over["creditHoldOverride"] = json!("OFF");
    assert!(!on_hold(&over));
}

#[test]
fn a_shipment_fulfils_the_sales_orders_own_lines() {
    let mapping = Mapping::compile(MAPPINGS[1].1, MAPPINGS[1].2).unwrap();
    let input = json!({
        "connector": "netsuite",
        "order": {"id": "ord_01J", "channel": "web", "external_id": "W-1001"},
        "shipment": {"shipment_id": "SHIP-1", "carrier": "UPS", "tracking_number": "1Z9",
                     "lines": [{"sku": "SKU-1", "qty": 3}]},
        "bindings": {"items": {"SKU-1": "101"}},
        // SKU-1 on two lines, the first partly fulfilled already; NetSuite's numbers.
        "sales_order": {"id": "6000", "lines": [
            {"line": 1, "item": "101", "quantity": 2, "quantity_fulfilled": 1},
            {"line": 4, "item": "102", "quantity": 1, "quantity_fulfilled": 0},
            {"line": 7, "item": "101", "quantity": 5, "quantity_fulfilled": null}
        ]}
    });
    let f = mapping.run(&input).unwrap();
    assert_eq!(f["externalId"], "ord_01J:SHIP-1");
    assert_eq!(f["memo"], "shipment SHIP-1 by UPS tracking 1Z9");
    assert_eq!(
        f["item"]["items"],
        json!([{"orderLine": 1, "quantity": 1, "itemReceive": true},
               {"orderLine": 4, "itemReceive": false},
               {"orderLine": 7, "quantity": 2, "itemReceive": true}])
    );
}

#[test]
fn the_default_mapping_makes_a_sales_order_of_an_order_and_its_bindings() {
    let mapping = Mapping::compile(MAPPINGS[0].1, MAPPINGS[0].2).unwrap();
    let input = fixture("sales_order_input.json");
    let so = mapping.run(&input).unwrap();
    assert_eq!(so["externalId"], "ord_01J");
    assert_eq!(so["entity"], json!({"id": "9001"}));
    assert_eq!(so["otherRefNum"], "W-1001");
    assert_eq!(so["currency"], json!({"refName": "USD"}));
    assert_eq!(
        so["item"]["items"],
        json!([{"item": {"id": "101"}, "quantity": 2, "rate": 19.99},
               {"item": {"id": "102"}, "quantity": 1, "rate": 5}])
    );
    assert_eq!(so["shippingAddress"]["addr1"], "1 Main St");
    assert_eq!(
        so["shippingAddress"].get("addr2"),
        None,
        "nulls are left out"
    );
}
