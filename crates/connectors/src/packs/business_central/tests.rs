//! The Business Central pack on fixtures written from its documented shapes: the OData error
//! body, a created and a found sales order, a customer record, and the default mapping.

use super::*;

fn fixture(name: &str) -> Value {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/packs/business_central/fixtures/"
    );
    serde_json::from_str(&std::fs::read_to_string(format!("{dir}{name}")).unwrap()).unwrap()
}

#[test]
fn refusals_are_read_from_the_odata_error_body() {
    let refused =
        read_refusal(StatusCode::BAD_REQUEST, &fixture("error_bad_request.json")).unwrap();
    assert!(!refused.retry);
    assert!(
        refused
            .message
            .starts_with("BadRequest_NotFound: The Item does not exist"),
        "{}",
        refused.message
    );
    let throttled = fixture("error_throttled.json");
    assert!(
        read_refusal(StatusCode::TOO_MANY_REQUESTS, &throttled)
            .unwrap()
            .retry
    );
    assert!(
        read_refusal(StatusCode::BAD_REQUEST, &throttled)
            .unwrap()
            .retry,
        "by its code"
    );
    assert_eq!(
        read_refusal(StatusCode::BAD_REQUEST, &json!({"x": 1})),
        None
    );
}

#[test]
fn a_sales_order_is_known_by_its_number_and_kept_by_its_id() {
    let (erp, id) = sales_order(&fixture("sales_order_created.json")).unwrap();
    assert_eq!(
        (erp.id.as_str(), erp.status.as_deref()),
        ("101005", Some("Draft"))
    );
    assert_eq!(id, "b6f4017a-b749-ee11-ad0b-a1422c0f7f1f");
    let found = fixture("sales_orders_found.json");
    let (erp, _) = sales_order(&found["value"][0]).unwrap();
    assert_eq!(erp.status.as_deref(), Some("Open"));
    assert!(sales_order(&json!({"number": "1"})).is_none());
}

#[test]
fn credit_hold_follows_blocked_then_the_limit() {
    let customer = fixture("customer.json");
    assert!(!on_hold(&customer), "not blocked, under its limit");
    for blocked in ["Ship", "Invoice", "All"] {
        assert!(on_hold(&json!({"blocked": blocked})), "{blocked}");
    }
    let mut over = customer.clone();
    over["balanceDue"] = json!(5000.01);
    assert!(on_hold(&over));
    over["creditLimit"] = json!(0);
    assert!(!on_hold(&over), "a limit of zero is no limit");
}

#[test]
fn literals_are_quoted_and_encoded() {
    assert_eq!(literal("ord_1"), "%27ord%5F1%27");
    assert_eq!(literal("O'Brien"), "%27O%27%27Brien%27");
    assert_eq!(key("b6f4017a-b749"), "(b6f4017a-b749)");
}

#[test]
fn the_default_mapping_gives_a_sales_order_with_its_lines() {
    let mapping = Mapping::compile(MAPPINGS[0].1, MAPPINGS[0].2).unwrap();
    let out = mapping.run(&fixture("sales_order_input.json")).unwrap();
    assert_eq!(out["externalDocumentNumber"], "ord_01J");
    assert_eq!(out["customerNumber"], "10000");
    assert_eq!(out["currencyCode"], "USD");
    let lines = out["salesOrderLines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        json!({"lineType": "Item", "lineObjectNumber": "1896-S", "quantity": 2, "unitPrice": 19.99})
    );
    assert_eq!(out["shipToCity"], "Springfield");
    assert!(
        out.get("shipToAddressLine2").is_none(),
        "no null fields: {out}"
    );
}
