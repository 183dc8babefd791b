//! crossdock's own REST shape, as the simulated systems speak it: the path and body of each
//! follow-up call, and the references releases are known by.

use crossdock_domain::JobKind;
use crossdock_domain::ledger::LinePlan;
use crossdock_store::StoredOrder;
use serde_json::{Value, json};

use crate::remote::segment;

/// The part of an order's release a job is for: its payload's `part`, else the first.
pub(super) fn part_of(payload: &Value) -> u32 {
    payload["part"]
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(1)
}

/// The reference the warehouse knows part `part` of an order's release by.
fn release_reference(order: &StoredOrder, part: u32) -> String {
    if part <= 1 {
        order.id.to_string()
    } else {
        format!("{}:part{part}", order.id)
    }
}

/// The release of part `part` of an order: the lines that go in it.
pub(super) fn release(order: &StoredOrder, part: u32) -> Value {
    let lines: Vec<&LinePlan> = order
        .lines
        .iter()
        .filter(|l| l.part == part && l.reservation_id.is_some())
        .collect();
    json!({"reference": release_reference(order, part), "part": part, "channel": order.channel,
           "channel_order_id": order.external_id, "erp_order_id": order.erp_order_id,
           "lines": lines, "ship_to": order.order.ship_to})
}

/// The call that cancels part `part` of an order's release.
pub(super) fn cancel_release(order: &StoredOrder, part: u32) -> (String, Value) {
    let reference = release_reference(order, part);
    (
        format!("/releases/{}/cancel", segment(&reference)),
        json!({"reference": reference, "order_id": order.id, "part": part}),
    )
}

/// The path and body of a follow-up job's call.
pub(super) fn follow_up_call(
    kind: JobKind,
    order: &StoredOrder,
    payload: &Value,
) -> Option<(String, Value)> {
    let erp_ref = segment(&order.id);
    let channel_order = format!(
        "/channels/{}/orders/{}",
        segment(&order.channel),
        segment(&order.external_id)
    );
    let with_reference = |reference: &Value| {
        let mut body = payload.clone();
        if !body.is_object() {
            body = json!({});
        }
        body["reference"] = reference.clone();
        body["order_id"] = json!(order.id);
        body
    };
    Some(match kind {
        JobKind::PostFulfilment => (
            format!("/sales-orders/{erp_ref}/fulfilments"),
            with_reference(&payload["shipment_id"]),
        ),
        JobKind::PostReturn => (
            format!("/sales-orders/{erp_ref}/returns"),
            with_reference(&payload["rma_id"]),
        ),
        JobKind::CancelSalesOrder => (
            format!("/sales-orders/{erp_ref}/cancel"),
            with_reference(&json!(order.id)),
        ),
        JobKind::CancelRelease => cancel_release(order, part_of(payload)),
        JobKind::CapturePayment => (
            "/captures".to_string(),
            with_reference(&json!(format!(
                "{}:{}",
                order.id,
                payload["shipment_id"].as_str().unwrap_or_default()
            ))),
        ),
        JobKind::VoidAuthorization => ("/voids".to_string(), with_reference(&json!(order.id))),
        JobKind::PublishTracking => (
            format!("{channel_order}/tracking"),
            with_reference(&payload["shipment_id"]),
        ),
        JobKind::PushInvoice => (
            format!("{channel_order}/invoices"),
            with_reference(&payload["invoice_id"]),
        ),
        JobKind::NotifyCancelled => (
            format!("{channel_order}/cancellation"),
            with_reference(&json!(order.id)),
        ),
        _ => return None,
    })
}
