//! jq mappings, in-process on one core: canonical two-line orders mapped to an ERP's
//! sales-order request, beside the JSON round trip (print and parse) of the same orders that
//! every run makes to hand a document to jaq and take one back.

use std::time::Instant;

use crossdock_connectors::mapping::Mapping;

use super::Row;
use super::workload::order_json;

/// A sales-order request of the kind an ERP pack's default mapping makes.
const SALES_ORDER: &str = r#"{
  externalId: .external_id,
  entity: (.customer.account // .customer.id),
  currency,
  item: [.lines[] | {item: .sku, quantity: .qty, rate: .unit_price}],
  shipAddress: (.ship_to | {addressee: .name, addr1: .line1, city, zip: .postal_code, country})
}"#;

/// `n` orders mapped, against `n` round trips of the same orders.
pub(super) fn mapping_row(n: u64) -> anyhow::Result<Row> {
    let mapping = Mapping::compile("sales_order.jq", SALES_ORDER)?;
    let orders: Vec<serde_json::Value> = (0..100).map(|i| order_json(i, 2)).collect();
    let started = Instant::now();
    for i in 0..n {
        let text = orders[i as usize % orders.len()].to_string();
        let back: serde_json::Value = serde_json::from_str(&text)?;
        std::hint::black_box(back);
    }
    let baseline = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for i in 0..n {
        std::hint::black_box(mapping.run(&orders[i as usize % orders.len()])?);
    }
    Ok(Row {
        name: "jq mapping, order → sales order (2 lines)".into(),
        ops: n,
        secs: started.elapsed().as_secs_f64(),
        baseline: Some(baseline),
        latency: None,
        per_commit: None,
    })
}
