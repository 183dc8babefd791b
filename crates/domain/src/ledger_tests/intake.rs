//! Order intake: routing, all-or-nothing reservations, backorders, replays.

use serde_json::json;

use super::*;
use crate::ledger::{PlaceOrder, Priors};
use crate::order::parse_order;
use crate::order_state::OrderState;

fn order(external_id: &str, channel: &str, lines: serde_json::Value) -> PlaceOrder {
    let raw = json!({
        "channel": channel, "external_id": external_id,
        "customer": {"id": "C-1", "email": "a@b.c"}, "currency": "USD",
        "lines": lines,
        "ship_to": {"name": "A", "line1": "1 Rd", "city": "X", "postal_code": "1", "country": "US"}
    });
    PlaceOrder {
        id: ord(&format!("ord_{external_id}")),
        order: parse_order(&raw, &example()).unwrap(),
        request_hash: format!("h-{external_id}-{lines}"),
        idempotency_key: None,
        correlation_id: "c".into(),
        credit_hold: None,
    }
}

fn stocked(e: &Estate) -> Ledger<'_> {
    let mut l = Ledger::new(
        e,
        Timestamp(0),
        vec![SkuState::new(sku("SKU-HOT")), SkuState::new(sku("SKU-B"))],
        vec![],
        HashSet::new(),
    );
    l.apply(&stock("1", 1, "east", StockChange::Receipt(Qty::of(10))));
    l.apply(&stock("2", 1, "west", StockChange::Receipt(Qty::of(10))));
    let mut b = stock("3", 1, "west", StockChange::Receipt(Qty::of(30)));
    if let Command::Stock(ev) = &mut b {
        ev.sku = sku("SKU-B");
    }
    l.apply(&b);
    l
}

fn placed(o: Outcome) -> std::sync::Arc<crate::ledger::NewOrder> {
    match o {
        Outcome::OrderPlaced(n) => n,
        other => panic!("not placed: {other:?}"),
    }
}

#[test]
fn one_location_that_fills_every_line_is_preferred() {
    let e = example();
    let mut l = stocked(&e);
    // east has SKU-HOT only; west has both, so west takes the whole order.
    let p = order(
        "1",
        "b2b",
        json!([
        {"sku": "SKU-HOT", "qty": 2, "unit_price": "1.00"},
        {"sku": "SKU-B", "qty": 3, "unit_price": "1.00"}]),
    );
    let o = placed(l.apply(&Command::PlaceOrder(std::sync::Arc::new(p))));
    assert_eq!(o.state, OrderState::Accepted);
    assert!(
        o.lines
            .iter()
            .all(|lp| lp.allocations[0].location.as_str() == "west")
    );
    assert_eq!(o.history, [(OrderState::Accepted, "intake")]);
    assert_eq!(o.jobs, vec![NewJob::new(JobKind::ScreenFraud)]);
}

#[test]
fn an_order_reserves_every_line_or_none() {
    let e = example();
    let mut l = stocked(&e);
    let p = order(
        "2",
        "b2b",
        json!([
        {"sku": "SKU-HOT", "qty": 5, "unit_price": "1.00"},
        {"sku": "SKU-B", "qty": 999, "unit_price": "1.00"}]),
    );
    let o = placed(l.apply(&Command::PlaceOrder(std::sync::Arc::new(p))));
    // b2b takes no backorders.
    assert_eq!(o.state, OrderState::Rejected);
    assert!(o.lines.iter().all(|lp| lp.reservation_id.is_none()));
    let f = l.finish();
    let hot = &f.states[&sku("SKU-HOT")];
    assert!(
        hot.stock.iter().all(|s| s.buckets.reserved == 0),
        "nothing stays held"
    );
    assert!(f.writes.new_reservations.is_empty());
    assert!(
        !f.writes
            .events
            .iter()
            .any(|e| e.kind == "reservation.created")
    );
}

#[test]
fn a_channel_with_backorders_backorders_instead() {
    let e = example();
    let mut l = stocked(&e);
    let p = order(
        "3",
        "web",
        json!([{"sku": "SKU-HOT", "qty": 500, "unit_price": "1.00"}]),
    );
    assert_eq!(
        placed(l.apply(&Command::PlaceOrder(std::sync::Arc::new(p)))).state,
        OrderState::Backordered
    );
}

#[test]
fn the_same_order_twice_is_a_replay_and_a_changed_one_a_conflict() {
    let e = example();
    let mut l = stocked(&e);
    let p = order(
        "4",
        "b2b",
        json!([{"sku": "SKU-HOT", "qty": 1, "unit_price": "1.00"}]),
    );
    let first = placed(l.apply(&Command::PlaceOrder(std::sync::Arc::new(p.clone()))));
    match l.apply(&Command::PlaceOrder(std::sync::Arc::new(p.clone()))) {
        Outcome::Replayed(prior) => {
            assert_eq!(&prior.order_id, first.id());
            assert_eq!(prior.response, first.response);
        }
        other => panic!("{other:?}"),
    }
    let mut changed = p;
    changed.request_hash = "other".into();
    assert!(matches!(
        l.apply(&Command::PlaceOrder(std::sync::Arc::new(changed))),
        Outcome::KeyReused {
            key: "external_id",
            ..
        }
    ));
    // One order, one reservation.
    let f = l.finish();
    assert_eq!(f.writes.new_orders.len(), 1);
    assert_eq!(f.writes.new_reservations.len(), 1);
}

#[test]
fn an_idempotency_key_from_an_earlier_batch_replays() {
    let e = example();
    let mut p = order(
        "5",
        "b2b",
        json!([{"sku": "SKU-HOT", "qty": 1, "unit_price": "1.00"}]),
    );
    p.idempotency_key = Some("key-1".into());
    let mut priors = Priors::default();
    priors.by_key.insert(
        "key-1".into(),
        crate::ledger::PriorIntake {
            order_id: ord("ord_old"),
            request_hash: p.request_hash.clone(),
            response: r#"{"id":"ord_old"}"#.into(),
        },
    );
    let mut l = stocked(&e).with_priors(priors);
    assert!(matches!(
        l.apply(&Command::PlaceOrder(std::sync::Arc::new(p.clone()))),
        Outcome::Replayed(_)
    ));
    p.request_hash = "different".into();
    assert!(matches!(
        l.apply(&Command::PlaceOrder(std::sync::Arc::new(p))),
        Outcome::KeyReused {
            key: "idempotency_key",
            ..
        }
    ));
}

#[test]
fn unknown_skus_are_field_errors_and_nothing_is_kept() {
    let e = example();
    let mut l = stocked(&e);
    let mut p = order(
        "6",
        "b2b",
        json!([{"sku": "SKU-HOT", "qty": 1, "unit_price": "1.00"}]),
    );
    p.order.lines[0].sku = sku("SKU-NOPE");
    match l.apply(&Command::PlaceOrder(std::sync::Arc::new(p))) {
        Outcome::Invalid(errors) => assert_eq!(errors[0].field, "lines[0].sku"),
        other => panic!("{other:?}"),
    }
    assert!(l.finish().writes.new_orders.is_empty());
}

/// The SKUs `stocked` has.
const SKUS: [&str; 2] = ["SKU-HOT", "SKU-B"];

/// An order for `lines` (index in [`SKUS`], units) on `channel`.
fn random_order(n: usize, channel: &str, lines: &[(usize, i64)]) -> Command {
    let lines: Vec<_> = (lines.iter())
        .map(|(s, q)| json!({"sku": SKUS[*s], "qty": q, "unit_price": "1.00"}))
        .collect();
    Command::PlaceOrder(std::sync::Arc::new(order(
        &format!("p{n}"),
        channel,
        json!(lines),
    )))
}

proptest! {
    /// Web ships what is available, b2b ships complete: whatever the stock and the
    /// orders, an order holds no more of a SKU than its channel could promise before it,
    /// every line is held in full or not at all, a line not held waits only on a channel
    /// that takes backorders, and a b2b order holds every line or none.
    #[test]
    fn shipping_what_is_available_never_holds_past_what_could_be_promised(
        ops in proptest::collection::vec(
            prop_oneof![
                (0..2usize, 0..3usize, 1i64..30).prop_map(|(s, l, q)| (None, vec![(s, q)], l)),
                (proptest::bool::ANY, proptest::collection::vec((0..2usize, 1i64..15), 1..4))
                    .prop_map(|(web, lines)| (Some(web), lines, 0)),
            ],
            1..40,
        )
    ) {
        let e = example();
        let mut channels = e.channels().to_vec();
        for c in channels.iter_mut().filter(|c| c.code.as_str() == "web") {
            c.orders.backorders = crate::estate::BackorderPolicy::ShipAvailable;
        }
        let e = Estate::new(e.locations().to_vec(), channels, e.safety_stock().clone()).unwrap();
        let mut l = stocked(&e);
        for (i, (web, lines, li)) in ops.into_iter().enumerate() {
            let Some(web) = web else {
                let mut c = stock(&format!("s{i}"), i as i64, LOCS[li],
                    StockChange::Receipt(Qty::of(lines[0].1)));
                if let Command::Stock(ev) = &mut c {
                    ev.sku = sku(SKUS[lines[0].0]);
                }
                l.apply(&c);
                continue;
            };
            let channel = if web { "web" } else { "b2b" };
            let ch = e.channel(channel).unwrap();
            let before: Vec<i64> = SKUS.iter()
                .map(|s| channel_figures(&e, &l.states[&sku(s)], ch, Timestamp(0)).available_now)
                .collect();
            let o = placed(l.apply(&random_order(i, channel, &lines)));
            for (si, s) in SKUS.iter().enumerate() {
                let held: i64 = o.lines.iter()
                    .filter(|lp| lp.sku.as_str() == *s && lp.reservation_id.is_some())
                    .map(|lp| lp.qty)
                    .sum();
                prop_assert!(held <= before[si], "{s}: held {held} of {} promisable: {:?}", before[si], o.lines);
            }
            for lp in &o.lines {
                let routed: i64 = lp.allocations.iter().map(|a| a.qty).sum();
                prop_assert_eq!(routed, if lp.reservation_id.is_some() { lp.qty } else { 0 });
                prop_assert_eq!(lp.backordered, lp.reservation_id.is_none() && web);
            }
            let held = o.lines.iter().filter(|lp| lp.reservation_id.is_some()).count();
            if !web {
                prop_assert!(held == 0 || held == o.lines.len(), "b2b ships complete");
            }
            prop_assert_eq!(o.state == OrderState::Accepted, held > 0);
            for location in LOCS {
                for s in SKUS {
                    let open: i64 = l.reservations.values()
                        .filter(|r| r.status == ReservationStatus::Active && r.sku.as_str() == s)
                        .flat_map(|r| &r.allocations)
                        .filter(|a| a.location.as_str() == location)
                        .map(|a| a.qty - a.consumed)
                        .sum();
                    let reserved = l.states[&sku(s)].at(&loc(location))
                        .map_or(0, |r| r.buckets.reserved);
                    prop_assert_eq!(open, reserved, "reserved drifted: {} at {}", s, location);
                }
            }
        }
    }
}
