use proptest::prelude::*;

use super::*;
use crate::ats::sellable_at;
use crate::estate::fixtures::example;
use crate::ids::ChannelCode;
use crate::job::JobKind;
use crate::qty::{Delta, Level, MAX_QTY, Qty};
use crate::stock::Bucket;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}
fn loc(s: &str) -> LocationCode {
    LocationCode::parse(s).unwrap()
}
fn chan(s: &str) -> ChannelCode {
    ChannelCode::parse(s).unwrap()
}

fn stock(id: &str, at: i64, location: &str, change: StockChange) -> Command {
    Command::Stock(StockEvent {
        source: "wms".into(),
        source_event_id: id.into(),
        occurred_at: Timestamp(at),
        sku: sku("SKU-HOT"),
        location: loc(location),
        change: EventChange::Stock {
            change,
            kind: "test".into(),
            po_ref: None,
            order_ref: None,
        },
    })
}

fn reserve(id: &str, qty: i64, channel: &str) -> Command {
    Command::Reserve(ReserveRequest {
        id: id.into(),
        sku: sku("SKU-HOT"),
        qty,
        channel: chan(channel),
        order_ref: format!("order-{id}"),
        location: None,
        ship_region: None,
        expires_at: None,
    })
}

fn ledger(estate: &Estate) -> Ledger<'_> {
    Ledger::new(
        estate,
        Timestamp(0),
        vec![SkuState::new(sku("SKU-HOT"))],
        vec![],
        HashSet::new(),
    )
}

#[test]
fn a_repeated_source_event_applies_once() {
    let e = example();
    let mut l = ledger(&e);
    assert_eq!(
        l.apply(&stock("1", 1, "east", StockChange::Receipt(Qty::of(5)))),
        Outcome::Applied
    );
    assert_eq!(
        l.apply(&stock("1", 1, "east", StockChange::Receipt(Qty::of(5)))),
        Outcome::Duplicate
    );
    let f = l.finish();
    assert_eq!(
        f.states[&sku("SKU-HOT")]
            .at(&loc("east"))
            .unwrap()
            .buckets
            .on_hand,
        5
    );
    assert_eq!(f.writes.source_events.len(), 1);
}

#[test]
fn events_for_unknown_skus_are_rejected() {
    let e = example();
    let mut l = ledger(&e);
    let mut cmd = stock("1", 1, "east", StockChange::Receipt(Qty::of(5)));
    if let Command::Stock(ev) = &mut cmd {
        ev.sku = sku("NOPE");
    }
    assert!(matches!(
        l.apply(&cmd),
        Outcome::Rejected {
            code: ErrorCode::SkuUnknown,
            ..
        }
    ));
}

#[test]
fn reserving_more_than_the_channel_may_sell_is_refused() {
    let e = example();
    let mut l = ledger(&e);
    l.apply(&stock("1", 1, "east", StockChange::Receipt(Qty::of(100))));
    // marketplace is capped at 50 units.
    assert_eq!(
        l.apply(&reserve("a", 51, "marketplace")),
        Outcome::Insufficient { available: 50 }
    );
    assert!(matches!(
        l.apply(&reserve("b", 50, "marketplace")),
        Outcome::Reserved(_)
    ));
}

#[test]
fn release_returns_units_and_a_second_release_changes_nothing() {
    let e = example();
    let mut l = ledger(&e);
    l.apply(&stock("1", 1, "east", StockChange::Receipt(Qty::of(10))));
    l.apply(&reserve("a", 4, "b2b"));
    let release = Command::Release {
        id: "a".into(),
        expired: false,
    };
    assert!(matches!(l.apply(&release), Outcome::Released(_)));
    assert!(matches!(l.apply(&release), Outcome::AlreadyClosed(_)));
    let f = l.finish();
    let s = &f.states[&sku("SKU-HOT")];
    assert_eq!(s.at(&loc("east")).unwrap().buckets.reserved, 0);
    assert_eq!(s.reserved_by(&chan("b2b")), 0);
}

#[test]
fn opening_a_pick_consumes_the_orders_reservation() {
    let e = example();
    let mut l = ledger(&e);
    l.apply(&stock("1", 1, "east", StockChange::Receipt(Qty::of(10))));
    assert!(matches!(
        l.apply(&reserve("a", 4, "b2b")),
        Outcome::Reserved(_)
    ));
    let pick = Command::Stock(StockEvent {
        source: "wms".into(),
        source_event_id: "2".into(),
        occurred_at: Timestamp(2),
        sku: sku("SKU-HOT"),
        location: loc("east"),
        change: EventChange::Stock {
            change: StockChange::PickOpened(Qty::of(4)),
            kind: "pick_opened".into(),
            po_ref: None,
            order_ref: Some("order-a".into()),
        },
    });
    assert_eq!(l.apply(&pick), Outcome::Applied);
    let f = l.finish();
    let b = f.states[&sku("SKU-HOT")].at(&loc("east")).unwrap().buckets;
    // The same four units are counted once: on the pick, no longer reserved.
    assert_eq!((b.on_hand, b.picking, b.reserved), (10, 4, 0));
    assert_eq!(f.reservations["a"].status, ReservationStatus::Consumed);
}

#[test]
fn receipts_against_a_po_reduce_the_expected_receipt() {
    let e = example();
    let mut l = ledger(&e);
    let expect = Command::Stock(StockEvent {
        source: "erp".into(),
        source_event_id: "po".into(),
        occurred_at: Timestamp(1),
        sku: sku("SKU-HOT"),
        location: loc("east"),
        change: EventChange::Expected {
            po_ref: "PO-1".into(),
            qty: 10,
            eta: Timestamp(86_400_000),
        },
    });
    l.apply(&expect);
    let mut receipt = stock("r", 2, "east", StockChange::Receipt(Qty::of(4)));
    if let Command::Stock(StockEvent {
        change: EventChange::Stock { po_ref, .. },
        ..
    }) = &mut receipt
    {
        *po_ref = Some("PO-1".into());
    }
    l.apply(&receipt);
    let f = l.finish();
    let s = &f.states[&sku("SKU-HOT")];
    assert_eq!(s.expected.len(), 1);
    assert_eq!(s.expected[0].qty, 6);
    assert!(
        f.writes
            .events
            .iter()
            .any(|e| e.kind == "availability.changed")
    );
}

#[derive(Debug, Clone)]
enum Op {
    Stock(usize, StockChange),
    Snapshot(usize, i64),
    Reserve(usize, i64, Option<usize>),
    Release(usize),
    Pick(usize, usize, i64),
}

const LOCS: [&str; 3] = ["east", "west", "acme"];
const CHANS: [&str; 3] = ["web", "marketplace", "b2b"];

fn op() -> impl Strategy<Value = Op> {
    let q = 1i64..40;
    prop_oneof![
        (0..3usize, q.clone()).prop_map(|(l, q)| Op::Stock(l, StockChange::Receipt(Qty::of(q)))),
        (0..3usize, (-30i64..30).prop_filter("not 0", |q| *q != 0))
            .prop_map(|(l, q)| Op::Stock(l, StockChange::Adjustment(Delta::of(q)))),
        (0..3usize, q.clone()).prop_map(|(l, q)| Op::Stock(l, StockChange::Shipped(Qty::of(q)))),
        (0..3usize, q.clone())
            .prop_map(|(l, q)| Op::Stock(l, StockChange::TransferOut(Qty::of(q)))),
        (0..3usize, 0i64..80).prop_map(|(l, q)| Op::Snapshot(l, q)),
        (0..3usize, q.clone(), proptest::option::of(0..3usize))
            .prop_map(|(c, q, l)| Op::Reserve(c, q, l)),
        (0..64usize).prop_map(Op::Release),
        (0..64usize, 0..3usize, q).prop_map(|(r, l, q)| Op::Pick(r, l, q)),
    ]
}

proptest! {
    /// For any sequence of events and reservations: every reservation fits in what was
    /// sellable and what its channel could promise when it was taken, and the reserved
    /// buckets always equal the open reservations.
    #[test]
    fn reservations_never_exceed_what_was_sellable(ops in proptest::collection::vec(op(), 1..80)) {
        let e = example();
        let mut l = ledger(&e);
        let mut ids = Vec::new();
        for (i, op) in ops.into_iter().enumerate() {
            let at = i as i64;
            let cmd = match op {
                Op::Stock(li, change) => stock(&i.to_string(), at, LOCS[li], change),
                Op::Snapshot(li, q) => stock(&i.to_string(), at, LOCS[li],
                    StockChange::Snapshot(vec![(Bucket::OnHand, Level::of(q))])),
                Op::Reserve(ci, q, li) => {
                    let id = format!("r{i}");
                    ids.push(id.clone());
                    let mut c = reserve(&id, q, CHANS[ci]);
                    if let (Command::Reserve(r), Some(li)) = (&mut c, li) {
                        r.location = Some(loc(LOCS[li]));
                    }
                    c
                }
                Op::Release(n) if !ids.is_empty() => Command::Release {
                    id: ids[n % ids.len()].clone(), expired: false },
                Op::Pick(n, li, q) if !ids.is_empty() => {
                    let mut c = stock(&i.to_string(), at, LOCS[li], StockChange::PickOpened(Qty::of(q)));
                    if let Command::Stock(StockEvent { change: EventChange::Stock { order_ref, .. }, .. }) = &mut c {
                        *order_ref = Some(format!("order-{}", ids[n % ids.len()]));
                    }
                    c
                }
                _ => continue,
            };
            let state = l.states[&sku("SKU-HOT")].clone();
            let outcome = l.apply(&cmd);
            if let Outcome::Reserved(r) = &outcome {
                let channel = e.channel(r.channel.as_str()).unwrap();
                let ats = channel_figures(&e, &state, channel, Timestamp(0)).available_now;
                prop_assert!(r.qty <= ats, "reserved {} with only {} promisable", r.qty, ats);
                for a in &r.allocations {
                    let sellable = sellable_at(&e, &state, &a.location);
                    prop_assert!(a.qty <= sellable, "took {} at {} with {} sellable",
                        a.qty, a.location, sellable);
                }
            }
            let state = &l.states[&sku("SKU-HOT")];
            for location in LOCS {
                let open: i64 = l.reservations.values()
                    .filter(|r| r.status == ReservationStatus::Active)
                    .flat_map(|r| &r.allocations)
                    .filter(|a| a.location.as_str() == location)
                    .map(|a| a.qty - a.consumed)
                    .sum();
                let reserved = state.at(&loc(location)).map_or(0, |s| s.buckets.reserved);
                prop_assert_eq!(open, reserved, "reserved bucket drifted at {}", location);
            }
            for channel in CHANS {
                let open: i64 = l.reservations.values()
                    .filter(|r| r.status == ReservationStatus::Active && r.channel.as_str() == channel)
                    .map(Reservation::open_qty)
                    .sum();
                prop_assert_eq!(open, state.reserved_by(&chan(channel)));
            }
        }
    }
}

/// Raw quantities at and past every bound, and the limits of `i64`.
fn extreme() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        Just(1),
        Just(-1),
        Just(MAX_QTY),
        Just(MAX_QTY + 1),
        Just(-MAX_QTY),
        Just(-MAX_QTY - 1),
        Just(i64::MAX),
        Just(i64::MIN),
        Just(i64::MIN + 1),
        any::<i64>(),
    ]
}

/// Builds a change of `kind` (0..12) from an unchecked quantity, as the edge does: through
/// the bounded types, so a value out of bounds never becomes a change.
fn checked_change(kind: usize, raw: i64, bucket: usize) -> Option<StockChange> {
    let q = Qty::new(raw).ok();
    Some(match kind {
        0 => StockChange::Snapshot(vec![(Bucket::ALL[bucket], Level::new(raw).ok()?)]),
        1 => StockChange::Adjustment(Delta::new(raw).ok()?),
        2 => StockChange::Receipt(q?),
        3 => StockChange::PickOpened(q?),
        4 => StockChange::PickCancelled(q?),
        5 => StockChange::Shipped(q?),
        6 => StockChange::TransferOut(q?),
        7 => StockChange::TransferShipped(q?),
        8 => StockChange::TransferReceived(q?),
        9 => StockChange::ReturnReceived(q?),
        10 => StockChange::ReturnRestocked(q?),
        _ => StockChange::ReturnScrapped(q?),
    })
}

proptest! {
    /// Extreme quantities on every event kind and bucket, and reservations of extreme sizes:
    /// nothing wraps (tests run with overflow checks, so a wrap would panic), ATS never
    /// exceeds the units ever received, and no reservation is granted past ATS.
    #[test]
    fn extreme_quantities_never_wrap_or_oversell(
        ops in proptest::collection::vec((0..13usize, extreme(), 0..4usize, 0..3usize), 1..60)
    ) {
        let e = example();
        let mut l = ledger(&e);
        let mut received: i64 = 0;
        for (i, (kind, raw, bucket, li)) in ops.into_iter().enumerate() {
            let at = i as i64;
            let cmd = if kind == 12 {
                reserve(&format!("r{i}"), raw, CHANS[li])
            } else {
                let Some(change) = checked_change(kind, raw, bucket) else { continue };
                if let StockChange::Receipt(q) | StockChange::TransferReceived(q)
                    | StockChange::ReturnRestocked(q) = &change {
                    received = received.saturating_add(q.get());
                }
                if let StockChange::Adjustment(d) = &change {
                    received = received.saturating_add(d.get().max(0));
                }
                if let StockChange::Snapshot(v) = &change {
                    received = received.saturating_add(v[0].1.get());
                }
                stock(&i.to_string(), at, LOCS[li], change)
            };
            let state = l.states[&sku("SKU-HOT")].clone();
            let outcome = l.apply(&cmd);
            if let Outcome::Reserved(r) = &outcome {
                let channel = e.channel(r.channel.as_str()).unwrap();
                let ats = channel_figures(&e, &state, channel, Timestamp(0)).available_now;
                prop_assert!((1..=MAX_QTY).contains(&r.qty));
                prop_assert!(r.qty <= ats, "reserved {} with only {} promisable", r.qty, ats);
            }
            let state = &l.states[&sku("SKU-HOT")];
            for c in e.channels() {
                let ats = channel_figures(&e, state, c, Timestamp(0)).available_now;
                prop_assert!((0..=received).contains(&ats),
                    "{} shows {} with {} ever received", c.code, ats, received);
            }
        }
    }
}

mod intake {
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
            id: format!("ord_{external_id}"),
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
                assert_eq!(prior.order_id, first.id());
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
                order_id: "ord_old".into(),
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
}

mod fulfilment {
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
                "ord_1".to_string(),
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
            order_id: "ord_1".into(),
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
            order_id: "ord_1".into(),
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
        .with_orders([("ord_1".to_string(), now)].into());
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
                order_id: "ord_1".into(),
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
}
