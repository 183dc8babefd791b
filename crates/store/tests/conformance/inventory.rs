//! Stock, reservations, the event log and reopening, on both stores.

use super::*;

pub(crate) async fn racing_reservations_take_exactly_the_stock(h: Harness) {
    h.items(&["SKU-HOT"]).await;
    h.run(
        1,
        vec![event(
            "seed",
            1,
            "SKU-HOT",
            "east",
            StockChange::Receipt(Qty::of(100)),
        )],
    )
    .await;
    // Each reservation of one unit races in its own transaction.
    let outcomes = h
        .race(160, |i| reserve(&format!("r{i}"), "SKU-HOT", 1, "b2b"))
        .await;
    let mut reserved = 0;
    for o in outcomes {
        match o {
            Outcome::Reserved(r) => reserved += r.qty,
            Outcome::Insufficient { .. } => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(reserved, 100, "exactly the stock is reserved");
    let s = h.state("SKU-HOT").await;
    let east = s.at(&loc("east")).unwrap().buckets;
    assert_eq!(east.reserved, 100);
    assert_eq!(s.reserved_by(&ChannelCode::parse("b2b").unwrap()), 100);
}

pub(crate) async fn racing_instances_respect_the_channel_cap(h: Harness) {
    // marketplace may show at most 50 of 200 units; reservations race from every instance.
    h.items(&["SKU-HOT"]).await;
    h.run(
        1,
        vec![
            event(
                "e",
                1,
                "SKU-HOT",
                "east",
                StockChange::Receipt(Qty::of(100)),
            ),
            event(
                "w",
                1,
                "SKU-HOT",
                "west",
                StockChange::Receipt(Qty::of(100)),
            ),
        ],
    )
    .await;
    let outcomes = h
        .race(90, |i| {
            reserve(&format!("m{i}"), "SKU-HOT", 2, "marketplace")
        })
        .await;
    let reserved: i64 = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Reserved(r) => r.qty,
            _ => 0,
        })
        .sum();
    // The cap is on what is visible at each moment: as reservations take units, the pool
    // shrinks, and the channel keeps seeing min(50, pool less the b2b fence).
    let s = h.state("SKU-HOT").await;
    let total: i64 = s.stock.iter().map(|l| l.buckets.reserved).sum();
    assert_eq!(total, reserved);
    assert_eq!(reserved, 180, "everything but the 20-unit b2b fence");
    for l in &s.stock {
        assert!(
            l.buckets.reserved <= l.buckets.on_hand,
            "oversold at {}",
            l.location
        );
    }
}

pub(crate) async fn a_storm_of_duplicate_events_applies_once(h: Harness) {
    h.items(&["SKU-1"]).await;
    let outcomes = h
        .race(50, |_| {
            event(
                "dup-1",
                5,
                "SKU-1",
                "east",
                StockChange::Receipt(Qty::of(7)),
            )
        })
        .await;
    let mut applied = 0;
    let mut duplicates = 0;
    for o in outcomes {
        match o {
            Outcome::Applied => applied += 1,
            Outcome::Duplicate => duplicates += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((applied, duplicates), (1, 49));
    assert_eq!(
        h.state("SKU-1")
            .await
            .at(&loc("east"))
            .unwrap()
            .buckets
            .on_hand,
        7
    );
    // A duplicate inside one batch is caught too.
    let again = h
        .run(
            6,
            vec![
                event(
                    "dup-2",
                    6,
                    "SKU-1",
                    "east",
                    StockChange::Receipt(Qty::of(1)),
                ),
                event(
                    "dup-2",
                    6,
                    "SKU-1",
                    "east",
                    StockChange::Receipt(Qty::of(1)),
                ),
            ],
        )
        .await;
    assert_eq!(again, vec![Outcome::Applied, Outcome::Duplicate]);
}

pub(crate) async fn events_older_than_a_snapshot_are_stale(h: Harness) {
    h.items(&["SKU-1"]).await;
    let snap = event(
        "snap",
        100,
        "SKU-1",
        "east",
        StockChange::Snapshot(vec![(Bucket::OnHand, Level::of(40))]),
    );
    let out = h
        .run(
            200,
            vec![
                snap,
                event(
                    "late",
                    50,
                    "SKU-1",
                    "east",
                    StockChange::Receipt(Qty::of(5)),
                ),
                event(
                    "new",
                    150,
                    "SKU-1",
                    "east",
                    StockChange::Receipt(Qty::of(5)),
                ),
            ],
        )
        .await;
    assert_eq!(
        out,
        vec![Outcome::Applied, Outcome::Stale, Outcome::Applied]
    );
    // The snapshot time survives a reload: a later batch still sees the late event as stale.
    let out = h
        .run(
            300,
            vec![event(
                "late-2",
                60,
                "SKU-1",
                "east",
                StockChange::Adjustment(Delta::of(-3)),
            )],
        )
        .await;
    assert_eq!(out, vec![Outcome::Stale]);
    assert_eq!(
        h.state("SKU-1")
            .await
            .at(&loc("east"))
            .unwrap()
            .buckets
            .on_hand,
        45
    );
}

pub(crate) async fn the_event_log_is_gap_free_and_filterable(h: Harness) {
    h.items(&["SKU-1", "SKU-2"]).await;
    h.race(30, |i| {
        let s = if i % 2 == 0 { "SKU-1" } else { "SKU-2" };
        event(
            &format!("g{i}"),
            1,
            s,
            "east",
            StockChange::Receipt(Qty::of(3)),
        )
    })
    .await;
    let all = h.store.events_after(0, 10_000, None).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=all.len() as i64).collect::<Vec<_>>(),
        "gap-free, in order"
    );
    assert_eq!(h.store.last_seq().await.unwrap(), all.len() as i64);
    let stock = h
        .store
        .events_after(0, 10_000, Some(vec!["stock.changed".into()]))
        .await
        .unwrap();
    assert_eq!(stock.len(), 30);
    assert!(stock.iter().all(|e| e.kind == "stock.changed"));
    let page = h.store.events_after(2, 3, None).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    let avail = h
        .store
        .events_after(0, 10_000, Some(vec!["availability.changed".into()]))
        .await
        .unwrap();
    assert!(!avail.is_empty());
    assert!(avail.iter().all(|e| {
        let channels = e.data["channels"].as_array().unwrap();
        channels.len() == 3 && channels.iter().all(|c| c["available_now"].is_i64())
    }));
}

pub(crate) async fn release_and_expiry_return_units_once(h: Harness) {
    h.items(&["SKU-HOT"]).await;
    h.run(
        1,
        vec![event(
            "s",
            1,
            "SKU-HOT",
            "east",
            StockChange::Receipt(Qty::of(10)),
        )],
    )
    .await;
    let mut soon = reserve("exp", "SKU-HOT", 3, "b2b");
    if let Command::Reserve(r) = &mut soon {
        r.expires_at = Some(Timestamp(1_000));
    }
    h.run(2, vec![soon, reserve("keep", "SKU-HOT", 2, "b2b")])
        .await;
    assert_eq!(
        h.store.due_reservations(Timestamp(999), 10).await.unwrap(),
        Vec::<ReservationId>::new()
    );
    let due = h
        .store
        .due_reservations(Timestamp(1_000), 10)
        .await
        .unwrap();
    let exp = ReservationId::parse("res_exp").unwrap();
    assert_eq!(due, vec![exp.clone()]);
    let out = h
        .run(
            1_000,
            vec![
                Command::Release {
                    id: exp.clone(),
                    expired: true,
                },
                Command::Release {
                    id: exp,
                    expired: true,
                },
                Command::Release {
                    id: ReservationId::parse("res_nope").unwrap(),
                    expired: false,
                },
            ],
        )
        .await;
    assert!(matches!(&out[0], Outcome::Released(r) if r.status.as_str() == "expired"));
    assert!(matches!(&out[1], Outcome::AlreadyClosed(_)));
    assert!(matches!(&out[2], Outcome::Rejected { .. }));
    assert!(
        h.store
            .due_reservations(Timestamp(5_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = h.store.reservation("res_exp").await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "expired");
    assert_eq!(
        h.state("SKU-HOT")
            .await
            .at(&loc("east"))
            .unwrap()
            .buckets
            .reserved,
        2
    );
}

pub(crate) async fn a_pick_consumes_the_reservation_it_names(h: Harness) {
    h.items(&["SKU-HOT"]).await;
    h.run(
        1,
        vec![event(
            "s",
            1,
            "SKU-HOT",
            "east",
            StockChange::Receipt(Qty::of(10)),
        )],
    )
    .await;
    h.run(2, vec![reserve("a", "SKU-HOT", 4, "b2b")]).await;
    let pick = pick_for("pick-1", 3, 3, "order-a");
    assert_eq!(h.run(3, vec![pick]).await, vec![Outcome::Applied]);
    let b = h.state("SKU-HOT").await.at(&loc("east")).unwrap().buckets;
    assert_eq!((b.on_hand, b.picking, b.reserved), (10, 3, 1));
    let r = h.store.reservation("res_a").await.unwrap().unwrap();
    assert_eq!(r.allocations[0].consumed, 3);
    assert_eq!(r.status.as_str(), "active");
}

pub(crate) async fn expected_receipts_round_trip(h: Harness) {
    h.items(&["SKU-1"]).await;
    let day = 86_400_000;
    let expect = Command::Stock(StockEvent {
        source: "erp".into(),
        source_event_id: "po-1".into(),
        occurred_at: Timestamp(1),
        sku: sku("SKU-1"),
        location: loc("east"),
        change: EventChange::Expected {
            po_ref: "PO-1".into(),
            qty: 30,
            eta: Timestamp(3 * day),
        },
    });
    h.run(1, vec![expect]).await;
    let s = h.state("SKU-1").await;
    assert_eq!(s.expected.len(), 1);
    assert_eq!(
        (s.expected[0].qty, s.expected[0].eta),
        (30, Timestamp(3 * day))
    );
    let mut receipt = event("rcv", 2, "SKU-1", "east", StockChange::Receipt(Qty::of(30)));
    if let Command::Stock(StockEvent {
        change: EventChange::Stock { po_ref, .. },
        ..
    }) = &mut receipt
    {
        *po_ref = Some("PO-1".into());
    }
    h.run(2, vec![receipt]).await;
    let s = h.state("SKU-1").await;
    assert!(s.expected.is_empty(), "a fully received PO line is closed");
    assert_eq!(s.at(&loc("east")).unwrap().buckets.on_hand, 30);
}

pub(crate) async fn unknown_skus_are_rejected_and_not_remembered(h: Harness) {
    let out = h
        .run(
            1,
            vec![event(
                "u1",
                1,
                "SKU-NEW",
                "east",
                StockChange::Receipt(Qty::of(5)),
            )],
        )
        .await;
    assert!(matches!(&out[0], Outcome::Rejected { code, .. } if code.as_str() == "SKU_UNKNOWN"));
    // Once the item exists, the same event is accepted: the rejection did not record it.
    h.items(&["SKU-NEW"]).await;
    let out = h
        .run(
            2,
            vec![event(
                "u1",
                1,
                "SKU-NEW",
                "east",
                StockChange::Receipt(Qty::of(5)),
            )],
        )
        .await;
    assert_eq!(out, vec![Outcome::Applied]);
}

pub(crate) async fn reopening_keeps_everything(h: Harness) {
    h.items(&["SKU-1", "SKU-2"]).await;
    h.run(
        1,
        vec![
            event("a", 1, "SKU-1", "east", StockChange::Receipt(Qty::of(9))),
            event(
                "b",
                1,
                "SKU-2",
                "west",
                StockChange::ReturnReceived(Qty::of(4)),
            ),
        ],
    )
    .await;
    let all = h.store.load_states(None).await.unwrap();
    let skus: HashSet<String> = all.iter().map(|s| s.sku.to_string()).collect();
    assert_eq!(
        skus,
        HashSet::from(["SKU-1".to_string(), "SKU-2".to_string()])
    );
    let last = h.store.last_seq().await.unwrap();
    // Another instance (or a restart) sees the same data and continues the same sequence.
    let other = h.others.first().cloned().unwrap_or_else(|| h.store.clone());
    assert_eq!(other.load_states(None).await.unwrap(), all);
    run_on(
        &other,
        &h.estate,
        2,
        vec![event(
            "c",
            2,
            "SKU-1",
            "east",
            StockChange::Receipt(Qty::of(1)),
        )],
    )
    .await;
    let next = h.store.events_after(last, 100, None).await.unwrap();
    assert_eq!(next.first().map(|e| e.seq), Some(last + 1));
}

#[tokio::test]
pub(crate) async fn a_second_process_cannot_write_the_same_sqlite_file() {
    let path = std::env::temp_dir().join(format!("crossdock-lock-{}.db", ulid::Ulid::new()));
    let first = crossdock_store::SqliteStore::open(&path).await.unwrap();
    let second = crossdock_store::SqliteStore::open(&path).await;
    let err = second.err().expect("the file is locked").to_string();
    assert!(err.contains("another crossdock process"), "{err}");
    drop(first);
    crossdock_store::sqlite::remove_files(&path);
}

pub(crate) async fn a_read_filtered_by_type_looks_at_a_bounded_window(h: Harness) {
    use crossdock_store::TYPED_SCAN;
    h.items(&["SKU-1"]).await;
    // Enough receipts to push the log past one window, then one event of a rare type.
    let mut batch = 0;
    while h.store.last_seq().await.unwrap() <= TYPED_SCAN {
        let receipts = (0..500)
            .map(|i| {
                let id = format!("w{batch}-{i}");
                event(&id, 1, "SKU-1", "east", StockChange::Receipt(Qty::of(1)))
            })
            .collect();
        h.run(1, receipts).await;
        batch += 1;
    }
    let expect = Command::Stock(StockEvent {
        source: "erp".into(),
        source_event_id: "po-rare".into(),
        occurred_at: Timestamp(2),
        sku: sku("SKU-1"),
        location: loc("east"),
        change: EventChange::Expected {
            po_ref: "PO-RARE".into(),
            qty: 5,
            eta: Timestamp(10),
        },
    });
    h.run(2, vec![expect]).await;
    let rare = || Some(vec!["receipt.expected".to_string()]);
    let first = h.store.events_after(0, 10, rare()).await.unwrap();
    assert!(first.is_empty(), "past the first window: {first:?}");
    let next = h.store.events_after(TYPED_SCAN, 10, rare()).await.unwrap();
    assert_eq!(next.len(), 1, "{next:?}");
    assert!(next[0].seq > TYPED_SCAN && next[0].kind == "receipt.expected");
    // Unfiltered pages are not windowed.
    let all = h.store.events_after(0, 100, None).await.unwrap();
    assert_eq!(all.len(), 100);
}
