//! What the benchmarks send: reservations spread evenly or as a flash sale, and web orders.

use super::*;

/// Which SKU the `i`-th reservation takes: spread evenly over every SKU, or shaped like a
/// flash sale, where four in five go to ten hot SKUs.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    Even,
    FlashSale,
}

impl Shape {
    fn sku(self, i: u64) -> Sku {
        let spread = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize;
        match self {
            Shape::Even => sku(i as usize % SKUS),
            Shape::FlashSale if !i.is_multiple_of(5) => sku(spread % 10),
            Shape::FlashSale => sku(spread % SKUS),
        }
    }
}

/// The `i`-th reservation of one unit, for the b2b channel.
pub(super) fn reservation(i: u64, shape: Shape) -> Command {
    Command::Reserve(ReserveRequest {
        id: Inventory::new_reservation_id(),
        sku: shape.sku(i),
        qty: 1,
        channel: ChannelCode::parse("b2b").expect("valid"),
        order_ref: format!("o{i}"),
        location: None,
        ship_region: None,
        expires_at: None,
    })
}

/// The `i`-th order of `lines` lines (1 or 2), one unit each, as a storefront would send it.
pub(super) fn order_json(i: u64, lines: u64) -> serde_json::Value {
    let lines: Vec<serde_json::Value> = [("19.99", 0), ("5.00", 500)]
        .iter()
        .take(lines as usize)
        .map(|(price, k)| {
            json!({"sku": Shape::Even.sku(i + k).as_str(), "qty": 1, "unit_price": price})
        })
        .collect();
    json!({
        "channel": "b2b", "external_id": format!("B-{i}"),
        "customer": {"id": format!("C-{}", i % 5000), "email": "buyer@example.com"},
        "currency": "USD",
        "lines": lines,
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

/// The `i`-th order of `lines` lines, as intake takes it in.
pub(super) fn web_order(i: u64, lines: u64, estate: &crossdock_domain::Estate) -> Command {
    let raw = order_json(i, lines);
    let order = crossdock_domain::order::parse_order(&raw, estate).expect("a valid order");
    Command::PlaceOrder(std::sync::Arc::new(crossdock_domain::ledger::PlaceOrder {
        id: Inventory::new_order_id(),
        order,
        request_hash: crossdock_engine::intake::request_hash(&raw),
        idempotency_key: None,
        correlation_id: Inventory::new_correlation_id(),
        credit_hold: None,
    }))
}
