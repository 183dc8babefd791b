//! jq mappings, in-process on one core, per pack and with the pack's own program on the input
//! the hub gives it: NetSuite's sales order (a canonical two-line order with its bindings) and
//! fulfilment (a parcel against the sales order's lines), Shopify's `orders/create` and an
//! Adobe Commerce order as pulled (each pack's fixture in the inbound envelope). Each beside the JSON round trip (print and parse)
//! of the same inputs that every run makes to hand a document to jaq and take one back.

use std::time::Instant;

use crossdock_connectors::mapping::Mapping;
use crossdock_connectors::packs::{adobe_commerce, business_central, envelope, netsuite, shopify};
use serde_json::{Value, json};

use super::Row;
use super::workload::order_json;

/// The Shopify pack's `orders/create` fixture, as Shopify documents the payload.
const SHOPIFY_ORDER: &str =
    include_str!("../../../connectors/src/packs/shopify/fixtures/orders_create.json");

/// The Adobe Commerce pack's page of orders, as Adobe Commerce documents `GET /V1/orders`.
const ADOBE_ORDERS: &str =
    include_str!("../../../connectors/src/packs/adobe_commerce/fixtures/orders_page.json");

/// The pack's own mapping for `operation`.
fn own(
    mappings: &[(&str, &'static str, &'static str)],
    operation: &str,
) -> anyhow::Result<Mapping> {
    let (_, name, code) = (mappings.iter())
        .find(|(op, ..)| *op == operation)
        .ok_or_else(|| anyhow::anyhow!("no mapping for {operation}"))?;
    Ok(Mapping::compile(name, code)?)
}

/// A canonical order as an ERP pack hands it to `sales_order`, its bindings found.
fn sales_order_input(i: u64) -> Value {
    let mut order = order_json(i, 2);
    order["id"] = json!(format!("ord_bench_{i}"));
    let items: serde_json::Map<String, Value> = (order["lines"].as_array().into_iter().flatten())
        .filter_map(|l| l["sku"].as_str())
        .enumerate()
        .map(|(k, sku)| (sku.to_string(), json!(format!("{}", 1000 + k))))
        .collect();
    json!({"connector": "netsuite", "order": order,
           "bindings": {"customer": "9001", "items": items}})
}

/// A parcel of one of a two-line order's SKUs, as the pack hands it to `fulfilment`.
fn fulfilment_input(i: u64) -> Value {
    json!({
        "connector": "netsuite",
        "order": {"id": format!("ord_bench_{i}"), "channel": "b2b", "external_id": format!("B-{i}")},
        "shipment": {"shipment_id": format!("SHIP-{i}"), "carrier": "UPS",
                     "tracking_number": format!("1Z{i}"), "lines": [{"sku": "SKU-A", "qty": 1}]},
        "bindings": {"items": {"SKU-A": "1000"}},
        "sales_order": {"id": "6000", "lines": [
            {"line": 1, "item": "1000", "quantity": 1, "quantity_fulfilled": 0},
            {"line": 4, "item": "1001", "quantity": 1, "quantity_fulfilled": 0}]}
    })
}

/// `n` runs of `mapping` over `inputs`, against `n` round trips of the same inputs.
fn measure(name: &str, mapping: &Mapping, inputs: &[Value], n: u64) -> anyhow::Result<Row> {
    let started = Instant::now();
    for i in 0..n {
        let text = inputs[i as usize % inputs.len()].to_string();
        let back: Value = serde_json::from_str(&text)?;
        std::hint::black_box(back);
    }
    let baseline = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for i in 0..n {
        std::hint::black_box(mapping.run(&inputs[i as usize % inputs.len()])?);
    }
    Ok(Row {
        name: name.into(),
        ops: n,
        secs: started.elapsed().as_secs_f64(),
        baseline: Some(baseline),
        latency: None,
        per_commit: None,
    })
}

/// One row per pack mapping, `n` runs each.
pub(super) fn mapping_rows(n: u64) -> anyhow::Result<Vec<Row>> {
    let orders: Vec<Value> = (0..100).map(sales_order_input).collect();
    let parcels: Vec<Value> = (0..100).map(fulfilment_input).collect();
    let shopify_order: Value = serde_json::from_str(SHOPIFY_ORDER)?;
    let deliveries = vec![envelope(
        "shop-us",
        Some("web"),
        "orders/create",
        shopify_order,
    )];
    let adobe_page: Value = serde_json::from_str(ADOBE_ORDERS)?;
    let pulled = vec![envelope(
        "mage",
        Some("web"),
        adobe_commerce::pull::TOPIC,
        adobe_page["items"][0].clone(),
    )];
    Ok(vec![
        measure(
            "jq, NetSuite sales_order (2 lines, pack's own)",
            &own(netsuite::MAPPINGS, "sales_order")?,
            &orders,
            n,
        )?,
        measure(
            "jq, Business Central sales_order (2 lines, pack's own)",
            &own(business_central::MAPPINGS, "sales_order")?,
            &orders,
            n,
        )?,
        measure(
            "jq, NetSuite fulfilment (pack's own)",
            &own(netsuite::MAPPINGS, "fulfilment")?,
            &parcels,
            n,
        )?,
        measure(
            "jq, Shopify orders/create (pack's own)",
            &own(shopify::MAPPINGS, "orders/create")?,
            &deliveries,
            n,
        )?,
        measure(
            "jq, Adobe Commerce order (3 items, pack's own)",
            &own(adobe_commerce::MAPPINGS, adobe_commerce::pull::TOPIC)?,
            &pulled,
            n,
        )?,
    ])
}
