//! Stock events from warehouses, stores and ERPs, checked from their wire form against the
//! estate: `{"source", "source_event_id", "occurred_at", "sku", "location", "kind", "qty"?,
//! "buckets"?, "po_ref"?, "order_ref"?, "eta"?}`. The API's `POST /v1/inventory/events` reads
//! them, and so will every connector that hears of stock.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ErrorCode;
use crate::estate::Estate;
use crate::ids::{LocationCode, Sku};
use crate::ledger::{EventChange, StockEvent};
use crate::qty::{Delta, Level, Qty, QtyError};
use crate::stock::{Bucket, StockChange};
use crate::time::Timestamp;
use crate::wire::{check_ref, whole_number_opt};

/// Every event kind accepted.
pub const KINDS: &[&str] = &[
    "snapshot",
    "receipt",
    "adjustment",
    "pick_opened",
    "pick_cancelled",
    "shipped",
    "transfer_out",
    "transfer_shipped",
    "transfer_received",
    "return_received",
    "return_restocked",
    "return_scrapped",
    "expected_receipt",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    source: String,
    source_event_id: String,
    occurred_at: Timestamp,
    sku: String,
    location: String,
    kind: String,
    #[serde(default, deserialize_with = "whole_number_opt")]
    qty: Option<i64>,
    buckets: Option<BucketsIn>,
    po_ref: Option<String>,
    order_ref: Option<String>,
    eta: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BucketsIn {
    #[serde(default, deserialize_with = "whole_number_opt")]
    on_hand: Option<i64>,
    #[serde(default, deserialize_with = "whole_number_opt")]
    picking: Option<i64>,
    #[serde(default, deserialize_with = "whole_number_opt")]
    transfer_out: Option<i64>,
    #[serde(default, deserialize_with = "whole_number_opt")]
    inspection: Option<i64>,
}

/// Why an event was refused: its code and what is wrong.
pub type Rejection = (ErrorCode, String);

fn invalid(detail: impl Into<String>) -> Rejection {
    (ErrorCode::ValidationFailed, detail.into())
}

fn bounded<Q>(kind: &str, q: Result<Q, QtyError>) -> Result<Q, Rejection> {
    q.map_err(|err| invalid(format!("qty for {kind} {err}")))
}

/// Parses and checks one event against the estate.
pub fn parse_event(raw: Value, estate: &Estate) -> Result<StockEvent, Rejection> {
    let e: EventIn = serde_json::from_value(raw).map_err(|e| invalid(e.to_string()))?;
    check_ref("source", &e.source).map_err(invalid)?;
    check_ref("source_event_id", &e.source_event_id).map_err(invalid)?;
    let sku = Sku::parse(&e.sku).map_err(|err| invalid(format!("sku: {err}")))?;
    let location = LocationCode::parse(&e.location)
        .ok()
        .filter(|l| estate.location(l.as_str()).is_some())
        .ok_or_else(|| {
            (
                ErrorCode::WarehouseUnknown,
                format!("location `{}` is not configured", e.location),
            )
        })?;
    for (field, value) in [("po_ref", &e.po_ref), ("order_ref", &e.order_ref)] {
        if let Some(v) = value {
            check_ref(field, v).map_err(invalid)?;
        }
    }
    let kind = e.kind.as_str();
    let qty = || {
        e.qty
            .ok_or_else(|| invalid(format!("qty is required for {kind}")))
    };
    let positive = || bounded(kind, Qty::new(qty()?));
    let stock = |change: StockChange| EventChange::Stock {
        change,
        kind: kind.to_string(),
        po_ref: e.po_ref.clone(),
        order_ref: e.order_ref.clone(),
    };
    let change = match kind {
        "snapshot" => {
            let b = e
                .buckets
                .as_ref()
                .ok_or_else(|| invalid("buckets is required for snapshot"))?;
            let mut values = Vec::new();
            for (bucket, name, v) in [
                (Bucket::OnHand, "on_hand", b.on_hand),
                (Bucket::Picking, "picking", b.picking),
                (Bucket::TransferOut, "transfer_out", b.transfer_out),
                (Bucket::Inspection, "inspection", b.inspection),
            ] {
                if let Some(v) = v {
                    let level =
                        Level::new(v).map_err(|err| invalid(format!("buckets.{name} {err}")))?;
                    values.push((bucket, level));
                }
            }
            if values.is_empty() {
                return Err(invalid(
                    "buckets must set at least one of on_hand, picking, transfer_out, inspection",
                ));
            }
            stock(StockChange::Snapshot(values))
        }
        "adjustment" => stock(StockChange::Adjustment(bounded(kind, Delta::new(qty()?))?)),
        "expected_receipt" => {
            let po_ref = e
                .po_ref
                .clone()
                .ok_or_else(|| invalid("po_ref is required for expected_receipt"))?;
            let eta = e
                .eta
                .ok_or_else(|| invalid("eta is required for expected_receipt"))?;
            let qty = bounded(kind, Level::new(qty()?))?.get();
            EventChange::Expected { po_ref, qty, eta }
        }
        "receipt" => stock(StockChange::Receipt(positive()?)),
        "pick_opened" => stock(StockChange::PickOpened(positive()?)),
        "pick_cancelled" => stock(StockChange::PickCancelled(positive()?)),
        "shipped" => stock(StockChange::Shipped(positive()?)),
        "transfer_out" => stock(StockChange::TransferOut(positive()?)),
        "transfer_shipped" => stock(StockChange::TransferShipped(positive()?)),
        "transfer_received" => stock(StockChange::TransferReceived(positive()?)),
        "return_received" => stock(StockChange::ReturnReceived(positive()?)),
        "return_restocked" => stock(StockChange::ReturnRestocked(positive()?)),
        "return_scrapped" => stock(StockChange::ReturnScrapped(positive()?)),
        other => {
            return Err(invalid(format!(
                "kind `{other}` is not one of: {}",
                KINDS.join(", ")
            )));
        }
    };
    Ok(StockEvent {
        source: e.source,
        source_event_id: e.source_event_id,
        occurred_at: e.occurred_at,
        sku,
        location,
        change,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn estate() -> Estate {
        crate::estate::fixtures::example()
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Value::from),
            prop::sample::select(KINDS).prop_map(Value::from),
            Just(json!("2026-01-01T00:00:00Z")),
            Just(json!("east")),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "source",
                        "source_event_id",
                        "occurred_at",
                        "sku",
                        "location",
                        "kind",
                        "qty",
                        "buckets",
                        "po_ref",
                        "order_ref",
                        "eta",
                        "on_hand",
                        "picking",
                        "x",
                    ]),
                    inner,
                    0..10
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        /// Whatever arrives, parsing answers Ok or a rejection; it never panics.
        #[test]
        fn any_json_is_parsed_or_rejected(raw in arb_json()) {
            let _ = parse_event(raw, &estate());
        }

        /// Well-formed deltas of every kind parse, with their quantity.
        #[test]
        fn valid_deltas_parse(kind in prop::sample::select(&KINDS[1..12]), qty in 1i64..1_000_000) {
            let raw = json!({"source": "wms", "source_event_id": "1", "occurred_at": "2026-01-01T00:00:00Z",
                             "sku": "SKU-1", "location": "east", "kind": kind, "qty": qty});
            let e = parse_event(raw, &estate()).unwrap();
            let is_stock = matches!(e.change, EventChange::Stock { .. });
            prop_assert!(is_stock);
        }
    }

    #[test]
    fn rejections_carry_codes() {
        let e = estate();
        let base = json!({"source": "wms", "source_event_id": "1", "occurred_at": "2026-01-01T00:00:00Z",
                          "sku": "SKU-1", "location": "east", "kind": "receipt", "qty": 3});
        assert!(parse_event(base.clone(), &e).is_ok());
        let mut bad = base.clone();
        bad["location"] = json!("north");
        assert_eq!(
            parse_event(bad, &e).unwrap_err().0,
            ErrorCode::WarehouseUnknown
        );
        let mut bad = base.clone();
        bad["occurred_at"] = json!("yesterday");
        assert_eq!(
            parse_event(bad, &e).unwrap_err().0,
            ErrorCode::ValidationFailed
        );
        let mut bad = base;
        bad["kind"] = json!("snapshot");
        assert!(parse_event(bad, &e).unwrap_err().1.contains("buckets"));
    }
}
