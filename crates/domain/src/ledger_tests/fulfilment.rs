//! Fulfilment: parcels, invoices, price mismatches, partial shipments and returns.

use serde_json::json;

use super::*;
use crate::ledger::{OpenReturn, OrderDetail, OrderNow, RecordShipment};
use crate::order::parse_order;
use crate::order_state::OrderState;

/// A ledger with 10 SKU-HOT at east and order `ord_1` for 3 of them, reserved there and
/// in the ERP, with a payment of 30.00.
fn posted(e: &Estate) -> Ledger<'_> {
    let raw = json!({
        "channel": "b2b", "external_id": "1",
        "customer": {"id": "C-1", "email": "a@b.c"}, "currency": "USD",
        "lines": [{"sku": "SKU-HOT", "qty": 3, "unit_price": "10.00"}],
        "ship_to": {"name": "A", "line1": "1 Rd", "city": "X", "postal_code": "1", "country": "US"},
        "payment": {"authorization": "AUTH-1", "amount": "30.00"}
    });
    let order = parse_order(&raw, e).unwrap();
    let detail = OrderDetail::from_body(&serde_json::to_value(&order).unwrap()).unwrap();
    let mut l = Ledger::new(
        e,
        Timestamp(100),
        vec![SkuState::new(sku("SKU-HOT"))],
        vec![],
        HashSet::new(),
    )
    .with_orders(
        [(
            ord("ord_1"),
            OrderNow {
                state: OrderState::ErpPosted,
                transitions: 6,
                detail,
            },
        )]
        .into(),
    );
    l.apply(&stock("r", 1, "east", StockChange::Receipt(Qty::of(10))));
    let mut r = reserve("res_1", 3, "b2b");
    if let Command::Reserve(req) = &mut r {
        req.order_ref = "ord_1".into();
        req.location = Some(loc("east"));
    }
    assert!(matches!(l.apply(&r), Outcome::Reserved(_)));
    l
}

fn ship(event: &str, qty: i64) -> Command {
    Command::RecordShipment(Box::new(RecordShipment {
        id: format!("shp_{event}"),
        order_id: ord("ord_1"),
        source: "wms".into(),
        source_event_id: event.into(),
        location: loc("east"),
        lines: vec![(sku("SKU-HOT"), qty)],
        carrier: "UPS".into(),
        tracking_number: "1Z".into(),
        shipped_at: Timestamp(50),
        correlation_id: "c".into(),
    }))
}

fn buckets(l: &Ledger<'_>) -> (i64, i64, i64) {
    let b = l.states[&sku("SKU-HOT")].at(&loc("east")).unwrap().buckets;
    (b.on_hand, b.picking, b.reserved)
}

#[test]
fn shipped_units_leave_once_whether_or_not_a_pick_was_opened() {
    let e = example();
    let mut l = posted(&e);
    // One unit goes through a pick ticket first; the other two ship straight from the
    // reservation.
    let mut pick = stock("p", 2, "east", StockChange::PickOpened(Qty::of(1)));
    if let Command::Stock(StockEvent {
        change: EventChange::Stock { order_ref, .. },
        ..
    }) = &mut pick
    {
        *order_ref = Some("ord_1".into());
    }
    l.apply(&pick);
    assert_eq!(buckets(&l), (10, 1, 2));
    let first = l.apply(&ship("S1", 1));
    assert!(matches!(
        first,
        Outcome::ShipmentRecorded {
            state: OrderState::PartiallyShipped,
            ..
        }
    ));
    assert_eq!(buckets(&l), (9, 0, 2), "the picked unit left");
    assert_eq!(l.apply(&ship("S1", 1)), Outcome::Duplicate);
    assert!(matches!(
        l.apply(&ship("S2", 3)),
        Outcome::Rejected {
            code: ErrorCode::QtyExceedsOrder,
            ..
        }
    ));
    let rest = l.apply(&ship("S2", 2));
    assert!(matches!(
        rest,
        Outcome::ShipmentRecorded {
            state: OrderState::Shipped,
            ..
        }
    ));
    assert_eq!(buckets(&l), (7, 0, 0), "three units out, nothing held");
    // Captures add up to the authorisation: 10.00, then the remaining 20.00.
    let amounts: Vec<String> = l
        .writes
        .order_moves
        .iter()
        .flat_map(|m| &m.advance.jobs)
        .filter(|j| j.kind == JobKind::CapturePayment)
        .map(|j| {
            j.payload.as_ref().unwrap()["amount"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(amounts, vec!["10.00", "20.00"]);
}

fn invoice(id: &str, amount: &str) -> Command {
    Command::RecordInvoice(Box::new(crate::ledger::RecordInvoice {
        order_id: ord("ord_1"),
        invoice_id: id.into(),
        amount: crate::money::Money::parse(amount).unwrap(),
        currency: "USD".into(),
        correlation_id: "c".into(),
    }))
}

fn state_of(l: &Ledger<'_>) -> OrderState {
    l.orders["ord_1"].state
}

#[test]
fn an_order_invoiced_in_full_before_its_last_parcel_closes_with_it() {
    let e = example();
    let mut l = posted(&e);
    l.apply(&ship("S1", 1));
    l.apply(&invoice("INV-1", "32.40"));
    assert_eq!(state_of(&l), OrderState::PartiallyShipped);
    let last = l.apply(&ship("S2", 2));
    assert!(
        matches!(
            last,
            Outcome::ShipmentRecorded {
                state: OrderState::Closed,
                ..
            }
        ),
        "{last:?}"
    );
    assert_eq!(state_of(&l), OrderState::Closed);
}

#[test]
fn an_invoice_short_of_the_order_waits_as_a_price_mismatch() {
    let e = example();
    let mut l = posted(&e);
    l.apply(&ship("S1", 3));
    assert_eq!(state_of(&l), OrderState::Shipped);
    let out = l.apply(&invoice("INV-1", "0.01"));
    assert!(matches!(out, Outcome::PriceMismatch { .. }), "{out:?}");
    assert_eq!(
        state_of(&l),
        OrderState::Shipped,
        "a 30.00 order is not closed by 0.01"
    );
    let failed = &l.writes.failed_jobs;
    assert!(
        failed.iter().any(|f| f.code == ErrorCode::PriceMismatch),
        "{failed:?}"
    );
    // The rest comes: 30.00 in all, and the order is invoiced.
    l.apply(&invoice("INV-2", "29.99"));
    assert_eq!(state_of(&l), OrderState::Invoiced);
}

#[test]
fn an_invoice_for_part_of_an_order_waits_for_the_rest() {
    let e = example();
    let mut l = posted(&e);
    l.apply(&ship("S1", 1));
    l.apply(&invoice("INV-1", "10.00"));
    l.apply(&ship("S2", 2));
    assert_eq!(state_of(&l), OrderState::Shipped, "20.00 not invoiced yet");
    l.apply(&invoice("INV-2", "20.00"));
    assert_eq!(state_of(&l), OrderState::Invoiced);
}

/// A ledger with order `ord_1` for 7 SKU-HOT held as three reservations: 3 and 2 at
/// east, 2 at west (100 on hand at each).
fn split(e: &Estate) -> Ledger<'_> {
    let raw = json!({
        "channel": "b2b", "external_id": "1",
        "customer": {"id": "C-1", "email": "a@b.c"}, "currency": "USD",
        "lines": [{"sku": "SKU-HOT", "qty": 7, "unit_price": "1.00"}],
        "ship_to": {"name": "A", "line1": "1 Rd", "city": "X", "postal_code": "1", "country": "US"}
    });
    let order = parse_order(&raw, e).unwrap();
    let detail = OrderDetail::from_body(&serde_json::to_value(&order).unwrap()).unwrap();
    let now = OrderNow {
        state: OrderState::Released,
        transitions: 7,
        detail,
    };
    let mut l = Ledger::new(
        e,
        Timestamp(100),
        vec![SkuState::new(sku("SKU-HOT"))],
        vec![],
        HashSet::new(),
    )
    .with_orders([(ord("ord_1"), now)].into());
    l.apply(&stock("r1", 1, "east", StockChange::Receipt(Qty::of(100))));
    l.apply(&stock("r2", 1, "west", StockChange::Receipt(Qty::of(100))));
    for (id, qty, at) in [
        ("res_1", 3, "east"),
        ("res_2", 2, "west"),
        ("res_3", 2, "east"),
    ] {
        let mut r = reserve(id, qty, "b2b");
        if let Command::Reserve(req) = &mut r {
            req.order_ref = "ord_1".into();
            req.location = Some(loc(at));
        }
        assert!(matches!(l.apply(&r), Outcome::Reserved(_)));
    }
    l
}

/// Units of the order at one location: not yet picked, and picked but not shipped.
#[derive(Debug, Clone, Copy)]
struct Held {
    unpicked: i64,
    picked: i64,
}

proptest! {
    /// Whatever the order of picks and parcels across locations, each location's
    /// `reserved` is the order's unpicked units there and `picking` its picked ones
    /// still waiting to ship; every unit shipped leaves `on_hand` once.
    #[test]
    fn picks_and_parcels_keep_every_bucket_right(
        ops in proptest::collection::vec((any::<bool>(), 0..2usize, 1..4i64), 1..40)
    ) {
        let e = example();
        let mut l = split(&e);
        let names = ["east", "west"];
        let mut held = [Held { unpicked: 5, picked: 0 }, Held { unpicked: 2, picked: 0 }];
        let mut shipped = [0i64; 2];
        for (n, (is_pick, at, want)) in ops.into_iter().enumerate() {
            let h = &mut held[at];
            let event = format!("e{n}");
            if is_pick {
                let q = want.min(h.unpicked);
                if q == 0 {
                    continue;
                }
                let mut pick = stock(&event, 2, names[at], StockChange::PickOpened(Qty::of(q)));
                if let Command::Stock(StockEvent {
                    change: EventChange::Stock { order_ref, .. },
                    ..
                }) = &mut pick
                {
                    *order_ref = Some("ord_1".into());
                }
                l.apply(&pick);
                h.unpicked -= q;
                h.picked += q;
            } else {
                let q = want.min(h.unpicked + h.picked);
                if q == 0 {
                    continue;
                }
                let mut parcel = ship(&event, q);
                if let Command::RecordShipment(s) = &mut parcel {
                    s.location = loc(names[at]);
                }
                let out = l.apply(&parcel);
                prop_assert!(matches!(out, Outcome::ShipmentRecorded { .. }), "{out:?}");
                let from_picked = q.min(h.picked);
                h.picked -= from_picked;
                h.unpicked -= q - from_picked;
                shipped[at] += q;
            }
            for (i, name) in names.iter().enumerate() {
                let b = l.states[&sku("SKU-HOT")].at(&loc(name)).unwrap().buckets;
                prop_assert_eq!(
                    (b.reserved, b.picking, b.on_hand),
                    (held[i].unpicked, held[i].picked, 100 - shipped[i]),
                    "at {} after step {}", name, n
                );
            }
        }
    }
}

#[test]
fn returns_stay_within_what_shipped_and_the_window() {
    let e = example();
    let mut l = posted(&e);
    l.apply(&ship("S1", 3));
    let open = |id: &str, qty: i64| {
        Command::OpenReturn(Box::new(OpenReturn {
            id: id.into(),
            order_id: ord("ord_1"),
            lines: vec![(sku("SKU-HOT"), qty)],
            reason: None,
            return_ref: None,
            correlation_id: "c".into(),
        }))
    };
    assert!(matches!(
        l.apply(&open("rma_1", 2)),
        Outcome::ReturnOpened { .. }
    ));
    assert!(matches!(
        l.apply(&open("rma_2", 2)),
        Outcome::Rejected {
            code: ErrorCode::QtyExceedsOrder,
            ..
        }
    ));
    // 31 days after the shipment, b2b's 30-day window has closed.
    let mut late = Ledger::new(
        &e,
        Timestamp(50 + 31 * 86_400_000),
        vec![],
        vec![],
        HashSet::new(),
    )
    .with_orders(l.orders.clone());
    assert!(matches!(
        late.apply(&open("rma_3", 1)),
        Outcome::Rejected {
            code: ErrorCode::ReturnWindowClosed,
            ..
        }
    ));
}
