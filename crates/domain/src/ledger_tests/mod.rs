use proptest::prelude::*;

use super::*;
use crate::ats::sellable_at;
use crate::estate::fixtures::example;
use crate::ids::{ChannelCode, OrderId, ReservationId};
use crate::job::JobKind;
use crate::qty::{Delta, Level, MAX_QTY, Qty};
use crate::stock::Bucket;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}
fn loc(s: &str) -> LocationCode {
    LocationCode::parse(s).unwrap()
}
/// A reservation id made of `s` (tests name reservations briefly).
fn res(s: &str) -> ReservationId {
    ReservationId::with_unique(s)
}

fn ord(s: &str) -> OrderId {
    OrderId::parse(s).unwrap()
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
        id: res(id),
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
        id: res("a"),
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
    assert_eq!(f.reservations["res_a"].status, ReservationStatus::Consumed);
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
                    id: res(&ids[n % ids.len()]), expired: false },
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

mod fulfilment;
mod intake;
