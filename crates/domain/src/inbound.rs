//! Shipments from the warehouse and invoices from the ERP, checked field by field from their
//! wire form (every problem at once, each with its field and code, as for orders).
//!
//! A shipment:
//! `{"order_id", "source_event_id", "location", "lines": [{"sku", "qty"}], "carrier",
//!   "tracking_number", "source"?, "shipped_at"?}`.
//! An invoice: `{"order_id", "invoice_id", "amount", "currency"}`.
//! A return: `{"order_id", "lines": [{"sku", "qty"}], "reason"?, "return_ref"?}`.

use serde_json::{Map, Value};

use crate::error::ErrorCode;
use crate::ids::{LocationCode, OrderId, Sku};
use crate::ledger::{OpenReturn, RecordInvoice, RecordShipment};
use crate::money::Money;
use crate::order::{FieldError, MAX_LINES, Reader};
use crate::time::Timestamp;

fn object<'v>(
    raw: &'v Value,
    what: &str,
) -> Result<&'v serde_json::Map<String, Value>, Vec<FieldError>> {
    raw.as_object().ok_or_else(|| {
        vec![FieldError {
            field: String::new(),
            code: ErrorCode::ValidationFailed,
            message: format!("the {what} must be a JSON object"),
        }]
    })
}

/// The body's `order_id`: crossdock's own id for the order (`ord_…`), required.
fn read_order_id(r: &mut Reader, obj: &Map<String, Value>) -> Option<OrderId> {
    let text = r.text(obj, "", "order_id", 128, false, ErrorCode::ValidationFailed)?;
    match OrderId::parse(text) {
        Ok(id) => Some(id),
        Err(e) => {
            r.fail(
                "order_id",
                ErrorCode::ValidationFailed,
                format!("order_id: {e}"),
            );
            None
        }
    }
}

/// Checks a wire shipment. `id` and `correlation_id` are the caller's; `now` stands in for a
/// missing `shipped_at`.
pub fn parse_shipment(
    raw: &Value,
    id: String,
    correlation_id: String,
    now: Timestamp,
) -> Result<RecordShipment, Vec<FieldError>> {
    let obj = object(raw, "shipment")?;
    let mut r = Reader { errors: Vec::new() };
    r.unknown_keys(
        obj,
        "",
        &[
            "order_id",
            "source",
            "source_event_id",
            "location",
            "lines",
            "carrier",
            "tracking_number",
            "shipped_at",
        ],
    );
    let invalid = ErrorCode::ValidationFailed;
    let order_id = read_order_id(&mut r, obj);
    let source = r
        .text(obj, "", "source", 64, true, invalid)
        .unwrap_or_else(|| "wms".to_string());
    let source_event_id = r.text(obj, "", "source_event_id", 128, false, invalid);
    let location = r
        .text(obj, "", "location", 32, false, ErrorCode::WarehouseUnknown)
        .and_then(|l| match LocationCode::parse(&l) {
            Ok(code) => Some(code),
            Err(e) => {
                r.fail(
                    "location",
                    ErrorCode::WarehouseUnknown,
                    format!("location: {e}"),
                );
                None
            }
        });
    let carrier = r.text(obj, "", "carrier", 64, false, invalid);
    let tracking_number = r.text(obj, "", "tracking_number", 128, false, invalid);
    let shipped_at = match r.text(obj, "", "shipped_at", 64, true, invalid) {
        None => Some(now),
        Some(t) => match Timestamp::parse_rfc3339(&t) {
            Ok(at) => Some(at),
            Err(e) => {
                r.fail("shipped_at", invalid, format!("shipped_at: {e}"));
                None
            }
        },
    };
    let lines = lines(&mut r, obj);
    match (
        order_id,
        source_event_id,
        location,
        carrier,
        tracking_number,
        shipped_at,
        lines,
    ) {
        (
            Some(order_id),
            Some(source_event_id),
            Some(location),
            Some(carrier),
            Some(tracking_number),
            Some(shipped_at),
            Some(lines),
        ) if r.errors.is_empty() => Ok(RecordShipment {
            id,
            order_id,
            source,
            source_event_id,
            location,
            lines,
            carrier,
            tracking_number,
            shipped_at,
            correlation_id,
        }),
        _ => Err(r.errors),
    }
}

fn lines(r: &mut Reader, obj: &serde_json::Map<String, Value>) -> Option<Vec<(Sku, i64)>> {
    let items = match obj.get("lines") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_LINES => items,
        _ => {
            r.fail(
                "lines",
                ErrorCode::ValidationFailed,
                format!("lines is required: a list of 1 to {MAX_LINES} {{sku, qty}}"),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("lines[{i}]");
        let Some(l) = item.as_object() else {
            r.fail(
                &p,
                ErrorCode::ValidationFailed,
                format!("{p} must be an object"),
            );
            continue;
        };
        r.unknown_keys(l, &p, &["sku", "qty"]);
        if let (Some(sku), Some(qty)) = (r.sku(l, &p), r.qty(l, &p)) {
            out.push((sku, qty));
        }
    }
    Some(out)
}

/// Checks a wire return request. `id` and `correlation_id` are the caller's.
pub fn parse_return(
    raw: &Value,
    id: String,
    correlation_id: String,
) -> Result<OpenReturn, Vec<FieldError>> {
    let obj = object(raw, "return")?;
    let mut r = Reader { errors: Vec::new() };
    r.unknown_keys(obj, "", &["order_id", "lines", "reason", "return_ref"]);
    let invalid = ErrorCode::ValidationFailed;
    let order_id = read_order_id(&mut r, obj);
    let reason = r.text(obj, "", "reason", 500, true, invalid);
    let return_ref = r.text(obj, "", "return_ref", 128, true, invalid);
    let lines = lines(&mut r, obj);
    match (order_id, lines) {
        (Some(order_id), Some(lines)) if r.errors.is_empty() => Ok(OpenReturn {
            id,
            order_id,
            lines,
            reason,
            return_ref,
            correlation_id,
        }),
        _ => Err(r.errors),
    }
}

/// Checks a wire invoice.
pub fn parse_invoice(
    raw: &Value,
    correlation_id: String,
) -> Result<RecordInvoice, Vec<FieldError>> {
    let obj = object(raw, "invoice")?;
    let mut r = Reader { errors: Vec::new() };
    r.unknown_keys(obj, "", &["order_id", "invoice_id", "amount", "currency"]);
    let invalid = ErrorCode::ValidationFailed;
    let order_id = read_order_id(&mut r, obj);
    let invoice_id = r.text(obj, "", "invoice_id", 128, false, invalid);
    let amount: Option<Money> = r.money(obj, "", "amount");
    let currency = r
        .text(obj, "", "currency", 3, false, ErrorCode::CurrencyInvalid)
        .filter(|c| {
            let ok = c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase());
            if !ok {
                r.fail(
                    "currency",
                    ErrorCode::CurrencyInvalid,
                    "currency must be an ISO 4217 code such as USD",
                );
            }
            ok
        });
    match (order_id, invoice_id, amount, currency) {
        (Some(order_id), Some(invoice_id), Some(amount), Some(currency)) if r.errors.is_empty() => {
            Ok(RecordInvoice {
                order_id,
                invoice_id,
                amount,
                currency,
                correlation_id,
            })
        }
        _ => Err(r.errors),
    }
}

/// A status change the ERP pushes for one of its sales orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpStatusChange {
    /// The order (the reference the ERP was given when the sales order was posted).
    pub order_id: OrderId,
    /// The ERP's own status, e.g. `Pending Fulfillment`.
    pub status: String,
    /// The ERP's id for its sales order, when it says.
    pub erp_order_id: Option<String>,
    /// Correlation id of the request.
    pub correlation_id: String,
}

/// Checks a wire ERP status change: `order_id`, `status`, optional `erp_order_id`.
pub fn parse_erp_status(
    raw: &Value,
    correlation_id: String,
) -> Result<ErpStatusChange, Vec<FieldError>> {
    let obj = object(raw, "status change")?;
    let mut r = Reader { errors: Vec::new() };
    r.unknown_keys(obj, "", &["order_id", "status", "erp_order_id"]);
    let invalid = ErrorCode::ValidationFailed;
    let order_id = read_order_id(&mut r, obj);
    let status = r.text(obj, "", "status", 128, false, invalid);
    let erp_order_id = r.text(obj, "", "erp_order_id", 128, true, invalid);
    match (order_id, status) {
        (Some(order_id), Some(status)) if r.errors.is_empty() => Ok(ErpStatusChange {
            order_id,
            status,
            erp_order_id,
            correlation_id,
        }),
        _ => Err(r.errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn shipment() -> Value {
        json!({"order_id": "ord_1", "source_event_id": "WMS-9", "location": "east",
               "lines": [{"sku": "ABC-1", "qty": 2}], "carrier": "UPS",
               "tracking_number": "1Z999", "shipped_at": "2026-11-27T10:00:00Z"})
    }

    fn parse(v: &Value) -> Result<RecordShipment, Vec<FieldError>> {
        parse_shipment(v, "shp_1".into(), "c".into(), Timestamp(5))
    }

    #[test]
    fn a_shipment_is_read_with_defaults() {
        let s = parse(&shipment()).unwrap();
        assert_eq!(s.source, "wms");
        assert_eq!(s.lines, vec![(Sku::parse("ABC-1").unwrap(), 2)]);
        let mut v = shipment();
        v.as_object_mut().unwrap().remove("shipped_at");
        assert_eq!(parse(&v).unwrap().shipped_at, Timestamp(5));
    }

    #[test]
    fn every_bad_field_is_named_with_its_code() {
        let v = json!({"order_id": "", "location": "not a code!", "lines": [{"sku": "A", "qty": 0}],
                       "carrier": "UPS", "tracking_number": "1", "shipped_at": "yesterday",
                       "extra": 1});
        let errors = parse(&v).unwrap_err();
        let fields: Vec<(&str, ErrorCode)> =
            errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for expected in [
            ("order_id", ErrorCode::ValidationFailed),
            ("source_event_id", ErrorCode::ValidationFailed),
            ("location", ErrorCode::WarehouseUnknown),
            ("lines[0].qty", ErrorCode::QtyInvalid),
            ("shipped_at", ErrorCode::ValidationFailed),
            ("extra", ErrorCode::ValidationFailed),
        ] {
            assert!(fields.contains(&expected), "{expected:?} in {fields:?}");
        }
    }

    #[test]
    fn an_order_id_that_is_not_ours_is_named() {
        let mut v = shipment();
        v["order_id"] = json!("SO-1001");
        let errors = parse(&v).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "order_id");
        assert!(
            errors[0].message.contains("`ord_`"),
            "{}",
            errors[0].message
        );
        let status = json!({"order_id": "SO-1001", "status": "Billed"});
        let errors = parse_erp_status(&status, "c".into()).unwrap_err();
        assert_eq!(errors[0].field, "order_id");
    }

    #[test]
    fn invoices_need_an_amount_and_a_currency() {
        let ok = json!({"order_id": "ord_1", "invoice_id": "INV-1", "amount": "10.50",
                        "currency": "USD"});
        assert_eq!(
            parse_invoice(&ok, "c".into()).unwrap().amount.to_string(),
            "10.50"
        );
        let bad = json!({"order_id": "ord_1", "invoice_id": "INV-1", "amount": "ten",
                         "currency": "usd"});
        let codes: Vec<ErrorCode> = parse_invoice(&bad, "c".into())
            .unwrap_err()
            .iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(
            codes,
            vec![ErrorCode::DecimalInvalid, ErrorCode::CurrencyInvalid]
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,10}".prop_map(Value::from),
            Just(json!("east")),
            Just(json!("2026-11-27T10:00:00Z")),
        ];
        leaf.prop_recursive(3, 24, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "order_id",
                        "source",
                        "source_event_id",
                        "location",
                        "lines",
                        "sku",
                        "qty",
                        "carrier",
                        "tracking_number",
                        "shipped_at",
                        "invoice_id",
                        "amount",
                        "currency",
                    ]),
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        /// Whatever arrives is read or explained field by field; nothing panics.
        #[test]
        fn any_json_is_read_or_explained(raw in arb_json()) {
            if let Err(errors) = parse(&raw) {
                prop_assert!(!errors.is_empty());
            }
            if let Err(errors) = parse_invoice(&raw, "c".into()) {
                prop_assert!(!errors.is_empty());
            }
            if let Err(errors) = parse_return(&raw, "rma_1".into(), "c".into()) {
                prop_assert!(!errors.is_empty());
            }
            if let Err(errors) = parse_erp_status(&raw, "c".into()) {
                prop_assert!(!errors.is_empty());
            }
        }

        /// One field of a valid shipment replaced by anything never panics.
        #[test]
        fn one_bad_field_is_caught(key in prop::sample::select(vec!["order_id", "location", "lines", "carrier", "shipped_at", "source"]), bad in arb_json()) {
            let mut v = shipment();
            v[key] = bad;
            let _ = parse(&v);
        }
    }
}
