//! The store conformance suite: every test runs against SQLite and against PostgreSQL.

mod harness;

use crossdock_domain::JobKind;
use std::collections::HashSet;

use crossdock_domain::ledger::{AdvanceOrder, Command, EventChange, NewJob, Outcome, StockEvent};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::stock::{Bucket, StockChange};
use crossdock_domain::{ChannelCode, Delta, Level, Qty, Timestamp};
use crossdock_store::{JobFinish, Store};
use harness::*;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::harness::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(h) = super::harness::postgres(3).await {
                        super::$name(h).await
                    }
                }
            )*
        }
    };
}

conformance!(
    racing_reservations_take_exactly_the_stock,
    racing_instances_respect_the_channel_cap,
    a_storm_of_duplicate_events_applies_once,
    events_older_than_a_snapshot_are_stale,
    the_event_log_is_gap_free_and_filterable,
    release_and_expiry_return_units_once,
    a_pick_consumes_the_reservation_it_names,
    expected_receipts_round_trip,
    unknown_skus_are_rejected_and_not_remembered,
    reopening_keeps_everything,
    a_storm_of_the_same_order_makes_one_order,
    an_order_is_kept_with_its_history_and_jobs,
    a_reused_idempotency_key_with_another_body_conflicts,
    expired_idempotency_keys_are_forgotten_but_natural_keys_are_not,
    racing_workers_take_each_job_once,
    a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_finish,
    a_retried_job_waits_for_its_time_and_a_failed_one_stays_put,
    a_failed_job_opens_an_exception_that_can_be_retried_and_resolved,
    an_order_moves_once_with_its_history_and_next_jobs,
    cancelling_a_posted_order_releases_stock_and_queues_the_erp_cancellation,
    a_parcel_after_a_pick_that_used_up_a_reservation_takes_the_picked_units,
    a_read_filtered_by_type_looks_at_a_bounded_window,
);

async fn racing_reservations_take_exactly_the_stock(h: Harness) {
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

async fn racing_instances_respect_the_channel_cap(h: Harness) {
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

async fn a_storm_of_duplicate_events_applies_once(h: Harness) {
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

async fn events_older_than_a_snapshot_are_stale(h: Harness) {
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

async fn the_event_log_is_gap_free_and_filterable(h: Harness) {
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

async fn release_and_expiry_return_units_once(h: Harness) {
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
        Vec::<String>::new()
    );
    let due = h
        .store
        .due_reservations(Timestamp(1_000), 10)
        .await
        .unwrap();
    assert_eq!(due, vec!["exp".to_string()]);
    let out = h
        .run(
            1_000,
            vec![
                Command::Release {
                    id: "exp".into(),
                    expired: true,
                },
                Command::Release {
                    id: "exp".into(),
                    expired: true,
                },
                Command::Release {
                    id: "nope".into(),
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
    let stored = h.store.reservation("exp").await.unwrap().unwrap();
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

async fn a_pick_consumes_the_reservation_it_names(h: Harness) {
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
    let r = h.store.reservation("a").await.unwrap().unwrap();
    assert_eq!(r.allocations[0].consumed, 3);
    assert_eq!(r.status.as_str(), "active");
}

async fn expected_receipts_round_trip(h: Harness) {
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

async fn unknown_skus_are_rejected_and_not_remembered(h: Harness) {
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

async fn reopening_keeps_everything(h: Harness) {
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
async fn a_second_process_cannot_write_the_same_sqlite_file() {
    let path = std::env::temp_dir().join(format!("crossdock-lock-{}.db", ulid::Ulid::new()));
    let first = crossdock_store::SqliteStore::open(&path).await.unwrap();
    let second = crossdock_store::SqliteStore::open(&path).await;
    let err = second.err().expect("the file is locked").to_string();
    assert!(err.contains("another crossdock process"), "{err}");
    drop(first);
    crossdock_store::sqlite::remove_files(&path);
}

/// A pick ticket opened at east for `qty` SKU-HOT of `order`.
fn pick_for(event: &str, at: i64, qty: i64, order: &str) -> Command {
    Command::Stock(StockEvent {
        source: "wms".into(),
        source_event_id: event.into(),
        occurred_at: Timestamp(at),
        sku: sku("SKU-HOT"),
        location: loc("east"),
        change: EventChange::Stock {
            change: StockChange::PickOpened(Qty::of(qty)),
            kind: "pick_opened".into(),
            po_ref: None,
            order_ref: Some(order.into()),
        },
    })
}

fn place(external_id: &str, qty: i64, key: Option<&str>, hash: &str) -> Command {
    let raw = serde_json::json!({
        "channel": "b2b", "external_id": external_id,
        "customer": {"id": "C-1", "email": "buyer@example.com"}, "currency": "USD",
        "lines": [{"sku": "SKU-HOT", "qty": qty, "unit_price": "4.50"},
                  {"sku": "SKU-1", "qty": 1, "unit_price": "1.00"}],
        "ship_to": {"name": "A", "line1": "1 Dock Rd", "city": "Newark", "postal_code": "07105",
                    "country": "US"}
    });
    let order = crossdock_domain::order::parse_order(&raw, &estate()).unwrap();
    Command::PlaceOrder(std::sync::Arc::new(crossdock_domain::ledger::PlaceOrder {
        id: format!("ord_{}", ulid::Ulid::new().to_string().to_lowercase()),
        order,
        request_hash: hash.to_string(),
        idempotency_key: key.map(str::to_string),
        correlation_id: "corr-1".into(),
        credit_hold: None,
    }))
}

async fn stock_for_orders(h: &Harness) {
    h.items(&["SKU-HOT", "SKU-1"]).await;
    h.run(
        1,
        vec![
            event(
                "o1",
                1,
                "SKU-HOT",
                "east",
                StockChange::Receipt(Qty::of(50)),
            ),
            event("o2", 1, "SKU-1", "east", StockChange::Receipt(Qty::of(50))),
        ],
    )
    .await;
}

async fn a_storm_of_the_same_order_makes_one_order(h: Harness) {
    stock_for_orders(&h).await;
    // The same webhook, delivered 50 times at once; every other delivery carries a key.
    let outcomes = h
        .race(50, |i| {
            place("W-1", 3, (i % 2 == 0).then_some("key-W-1"), "same-body")
        })
        .await;
    let placed: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::OrderPlaced(n) => Some(n.id().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(placed.len(), 1, "one order: {outcomes:?}");
    for o in &outcomes {
        match o {
            Outcome::OrderPlaced(_) => {}
            Outcome::Replayed(prior) => assert_eq!(prior.order_id, placed[0]),
            other => panic!("unexpected {other:?}"),
        }
    }
    let s = h.state("SKU-HOT").await;
    assert_eq!(
        s.at(&loc("east")).unwrap().buckets.reserved,
        3,
        "one reservation set"
    );
    let listed = h
        .store
        .orders(crossdock_store::OrderFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

async fn an_order_is_kept_with_its_history_and_jobs(h: Harness) {
    stock_for_orders(&h).await;
    let out = h.run(2, vec![place("K-1", 2, None, "h1")]).await;
    let Outcome::OrderPlaced(placed) = &out[0] else {
        panic!("{out:?}")
    };
    let stored = h.store.order(placed.id()).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "accepted");
    assert_eq!(stored.external_id, "K-1");
    assert_eq!(stored.order.lines[0].unit_price.to_string(), "4.50");
    let path: Vec<&str> = stored.history.iter().map(|t| t.to.as_str()).collect();
    assert_eq!(path, vec!["accepted"], "one transition for intake");
    assert_eq!(stored.history[0].from, None);
    assert!(stored.history.iter().all(|t| t.correlation_id == "corr-1"));
    // Both lines are held, against the order's id.
    let r1 = stored.lines[0].reservation_id.as_deref().unwrap();
    let r = h.store.reservation(r1).await.unwrap().unwrap();
    assert_eq!(
        (r.order_ref.as_str(), r.qty, r.expires_at),
        (placed.id(), 2, None)
    );
    // Too much for a channel without backorders: rejected, kept, nothing held.
    let out = h.run(3, vec![place("K-2", 500, None, "h2")]).await;
    let Outcome::OrderPlaced(rejected) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(rejected.state.as_str(), "rejected");
    let stored = h.store.order(rejected.id()).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "rejected");
    assert_eq!(
        h.state("SKU-HOT")
            .await
            .at(&loc("east"))
            .unwrap()
            .buckets
            .reserved,
        2
    );
    let filtered = h
        .store
        .orders(crossdock_store::OrderFilter {
            state: Some("rejected".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        filtered
            .iter()
            .map(|o| o.external_id.as_str())
            .collect::<Vec<_>>(),
        vec!["K-2"]
    );
    let events = h
        .store
        .events_after(
            0,
            1000,
            Some(vec!["order.accepted".into(), "order.rejected".into()]),
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
}

async fn a_reused_idempotency_key_with_another_body_conflicts(h: Harness) {
    stock_for_orders(&h).await;
    h.run(2, vec![place("I-1", 1, Some("key-I"), "body-a")])
        .await;
    let out = h
        .run(3, vec![place("I-2", 1, Some("key-I"), "body-b")])
        .await;
    assert!(
        matches!(
            &out[0],
            Outcome::KeyReused {
                key: "idempotency_key",
                ..
            }
        ),
        "{out:?}"
    );
    let out = h.run(4, vec![place("I-1", 1, None, "body-c")]).await;
    assert!(
        matches!(
            &out[0],
            Outcome::KeyReused {
                key: "external_id",
                ..
            }
        ),
        "{out:?}"
    );
    let out = h
        .run(5, vec![place("I-1", 1, Some("key-I"), "body-a")])
        .await;
    assert!(matches!(&out[0], Outcome::Replayed(_)), "{out:?}");
}

fn lease(owner: &str, now: i64, lease_ms: i64, limit: i64) -> crossdock_store::LeaseRequest {
    crossdock_store::LeaseRequest {
        owner: owner.into(),
        systems: None,
        now: Timestamp(now),
        lease_ms,
        limit,
    }
}

async fn orders_with_jobs(h: &Harness, n: usize) {
    stock_for_orders(h).await;
    let commands = (0..n)
        .map(|i| place(&format!("J-{i}"), 1, None, "h"))
        .collect();
    h.run(2, commands).await;
}

async fn racing_workers_take_each_job_once(h: Harness) {
    orders_with_jobs(&h, 40).await;
    let stores: Vec<crossdock_store::AnyStore> = std::iter::once(h.store.clone())
        .chain(h.others.iter().cloned())
        .collect();
    let mut workers = Vec::new();
    for w in 0..6 {
        let store = stores[w % stores.len()].clone();
        workers.push(tokio::spawn(async move {
            let owner = format!("worker-{w}");
            let mut taken = Vec::new();
            loop {
                let jobs = store
                    .lease_jobs(lease(&owner, 10, 60_000, 3))
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    return taken;
                }
                for j in jobs {
                    assert_eq!(j.lease_owner.as_deref(), Some(owner.as_str()));
                    assert!(
                        store
                            .finish_job(&j.id, &owner, JobFinish::Done, Timestamp(20))
                            .await
                            .unwrap()
                    );
                    taken.push(j.id);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: HashSet<&crossdock_domain::JobId> = all.iter().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (40, 40),
        "every job leased exactly once"
    );
    let done = h
        .store
        .jobs(crossdock_store::JobFilter {
            state: Some(crossdock_domain::JobState::Done),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(done.len(), 40);
    assert!(
        done.iter()
            .all(|j| j.kind == JobKind::ScreenFraud && j.attempts == 1)
    );
}

async fn a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_finish(h: Harness) {
    orders_with_jobs(&h, 1).await;
    let a = h
        .store
        .lease_jobs(lease("a", 100, 1_000, 10))
        .await
        .unwrap();
    assert_eq!(a.len(), 1);
    // Held: nobody else gets it before the lease lapses.
    let other = h.others.first().cloned().unwrap_or_else(|| h.store.clone());
    assert!(
        other
            .lease_jobs(lease("b", 500, 1_000, 10))
            .await
            .unwrap()
            .is_empty()
    );
    // Worker a crashed; at 1,100 its lease has lapsed and b takes the job over.
    let b = other
        .lease_jobs(lease("b", 1_100, 1_000, 10))
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].id.as_str(), b[0].attempts), (a[0].id.as_str(), 2));
    assert!(
        !h.store
            .finish_job(&a[0].id, "a", JobFinish::Done, Timestamp(20))
            .await
            .unwrap(),
        "a lost its lease"
    );
    assert!(
        other
            .finish_job(&b[0].id, "b", JobFinish::Done, Timestamp(20))
            .await
            .unwrap()
    );
    assert!(
        !other
            .finish_job(&b[0].id, "b", JobFinish::Done, Timestamp(20))
            .await
            .unwrap(),
        "finished once"
    );
}

async fn a_retried_job_waits_for_its_time_and_a_failed_one_stays_put(h: Harness) {
    orders_with_jobs(&h, 1).await;
    let j = h
        .store
        .lease_jobs(lease("w", 10, 1_000, 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let retry = JobFinish::Retry {
        at: Timestamp(5_000),
        error: "ERP timed out".into(),
    };
    assert!(
        h.store
            .finish_job(&j.id, "w", retry, Timestamp(20))
            .await
            .unwrap()
    );
    assert!(
        h.store
            .lease_jobs(lease("w", 4_999, 1_000, 1))
            .await
            .unwrap()
            .is_empty()
    );
    let again = h
        .store
        .lease_jobs(lease("w", 5_000, 1_000, 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(again.last_error.as_deref(), Some("ERP timed out"));
    assert_eq!(again.attempts, 2);
    let fail = JobFinish::Failed {
        code: "ERP_REJECTED".into(),
        error: "ERP rejected the order".into(),
    };
    assert!(
        h.store
            .finish_job(&again.id, "w", fail, Timestamp(20))
            .await
            .unwrap()
    );
    assert!(
        h.store
            .lease_jobs(lease("w", 999_999, 1_000, 10))
            .await
            .unwrap()
            .is_empty()
    );
    let failed = h
        .store
        .jobs(crossdock_store::JobFilter {
            state: Some(crossdock_domain::JobState::Failed),
            system: Some("fraud".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("ERP rejected the order")
    );
}

fn advance(id: &str, from: OrderState, to: OrderState, erp: Option<&str>) -> Command {
    Command::AdvanceOrder(Box::new(AdvanceOrder {
        order_id: id.into(),
        from,
        to,
        actor: "screen_fraud".into(),
        correlation_id: "corr-9".into(),
        erp_order_id: erp.map(str::to_string),
        erp_status: None,
        jobs: vec![NewJob::new(JobKind::PostSalesOrder)],
        fail_job: None,
    }))
}

async fn an_order_moves_once_with_its_history_and_next_jobs(h: Harness) {
    orders_with_jobs(&h, 1).await;
    let id = h
        .store
        .orders(crossdock_store::OrderFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id
        .clone();
    // Ten workers race to move the same order: one does, the others see where it is now.
    let outcomes = h
        .race(10, |_| {
            advance(&id, OrderState::Accepted, OrderState::Allocated, None)
        })
        .await;
    let moved = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::OrderMoved { moved: true, .. }))
        .count();
    assert_eq!(moved, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(
        o,
        Outcome::OrderMoved {
            state: OrderState::Allocated,
            ..
        }
    )));
    let erp_jobs = h
        .store
        .jobs(crossdock_store::JobFilter {
            system: Some("erp".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        erp_jobs.len(),
        1,
        "the next job is written once, with the move"
    );
    assert_eq!(erp_jobs[0].kind.as_str(), "post_sales_order");

    let out = h
        .run(
            5,
            vec![advance(
                &id,
                OrderState::Allocated,
                OrderState::ErpPosted,
                Some("SO-77"),
            )],
        )
        .await;
    assert_eq!(
        out,
        vec![Outcome::OrderMoved {
            moved: true,
            state: OrderState::ErpPosted
        }]
    );
    let stored = h.store.order(&id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state.as_str(), stored.erp_order_id.as_deref()),
        ("erp_posted", Some("SO-77"))
    );
    let last = stored.history.last().unwrap();
    assert_eq!(
        (last.from.map(|f| f.as_str()), last.to.as_str()),
        (Some("allocated"), "erp_posted")
    );
    assert_eq!(
        (last.actor.as_str(), last.correlation_id.as_str()),
        ("screen_fraud", "corr-9")
    );
    assert_eq!(stored.history.len(), 3, "accepted, allocated, erp_posted");

    let out = h
        .run(
            6,
            vec![advance(
                &id,
                OrderState::ErpPosted,
                OrderState::Accepted,
                None,
            )],
        )
        .await;
    assert!(
        matches!(&out[0], Outcome::Rejected { code, .. } if code.as_str() == "VALIDATION_FAILED")
    );
    let out = h
        .run(
            6,
            vec![advance(
                "ord_nope",
                OrderState::Accepted,
                OrderState::Allocated,
                None,
            )],
        )
        .await;
    assert!(
        matches!(&out[0], Outcome::Rejected { code, .. } if code.as_str() == "ORDER_NOT_FOUND")
    );
    let moves = h
        .store
        .events_after(0, 1000, Some(vec!["order.state_changed".into()]))
        .await
        .unwrap();
    assert_eq!(moves.len(), 2);
}

async fn a_failed_job_opens_an_exception_that_can_be_retried_and_resolved(h: Harness) {
    use crossdock_store::{ExceptionAction, ExceptionFilter};
    orders_with_jobs(&h, 1).await;
    let j = h
        .store
        .lease_jobs(lease("w", 10, 1_000, 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let fail = |error: &str| JobFinish::Failed {
        code: "ERP_REJECTED".into(),
        error: error.into(),
    };
    assert!(
        h.store
            .finish_job(&j.id, "w", fail("customer C-1 unknown"), Timestamp(30))
            .await
            .unwrap()
    );
    let open = h
        .store
        .exceptions(ExceptionFilter {
            status: Some(crossdock_domain::ExceptionStatus::Open),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    let e = &open[0];
    assert_eq!(
        (e.code.as_str(), e.system.as_str(), e.attempts),
        ("ERP_REJECTED", "fraud", 1)
    );
    assert_eq!(e.order_id, j.order_id);
    assert_eq!(e.first_error, "customer C-1 unknown");
    assert!(e.remediation.contains("ERP refused"));
    // Retry (with an edited payload) puts the job back in the queue now.
    let edited = serde_json::json!({"customer": "C-2"});
    let retried = h
        .store
        .act_on_exception(
            &e.id,
            ExceptionAction::Retry,
            Some(edited.clone()),
            Timestamp(40),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried.status.as_str(), "retrying");
    let again = h
        .store
        .lease_jobs(lease("w", 40, 1_000, 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(again.id, j.id);
    assert_eq!(again.payload, Some(edited));
    // It fails again: the same exception reopens, keeping its first error.
    assert!(
        h.store
            .finish_job(&again.id, "w", fail("still unknown"), Timestamp(50))
            .await
            .unwrap()
    );
    let reopened = h.store.exception(&e.id).await.unwrap().unwrap();
    assert_eq!((reopened.status.as_str(), reopened.attempts), ("open", 2));
    assert_eq!(
        (reopened.first_error.as_str(), reopened.last_error.as_str()),
        ("customer C-1 unknown", "still unknown")
    );
    let resolved = h
        .store
        .act_on_exception(&e.id, ExceptionAction::Resolve, None, Timestamp(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.status.as_str(), "resolved");
    assert!(
        h.store
            .act_on_exception("exc_nope", ExceptionAction::Resolve, None, Timestamp(60))
            .await
            .unwrap()
            .is_none()
    );
    let by_code = h
        .store
        .exceptions(ExceptionFilter {
            code: Some(crossdock_domain::ErrorCode::ErpRejected),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_code.len(), 1);
}

async fn expired_idempotency_keys_are_forgotten_but_natural_keys_are_not(h: Harness) {
    stock_for_orders(&h).await;
    h.run(100, vec![place("T-1", 1, Some("key-T"), "body-a")])
        .await;
    assert_eq!(
        h.store
            .purge_idempotency_keys(Timestamp(100))
            .await
            .unwrap(),
        0,
        "not yet due"
    );
    assert_eq!(
        h.store
            .purge_idempotency_keys(Timestamp(101))
            .await
            .unwrap(),
        1
    );
    // The key is free for a new order now...
    let out = h
        .run(200, vec![place("T-2", 1, Some("key-T"), "body-b")])
        .await;
    assert!(matches!(&out[0], Outcome::OrderPlaced(_)), "{out:?}");
    // ...while the first order's natural key still answers its first response.
    let out = h.run(300, vec![place("T-1", 1, None, "body-a")]).await;
    assert!(matches!(&out[0], Outcome::Replayed(_)), "{out:?}");
}

async fn cancelling_a_posted_order_releases_stock_and_queues_the_erp_cancellation(h: Harness) {
    use crossdock_domain::ledger::CancelOrder;
    orders_with_jobs(&h, 1).await;
    let id = h
        .store
        .orders(crossdock_store::OrderFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .id
        .clone();
    assert_eq!(
        h.state("SKU-HOT")
            .await
            .at(&loc("east"))
            .unwrap()
            .buckets
            .reserved,
        1
    );
    h.run(
        3,
        vec![
            advance(&id, OrderState::Accepted, OrderState::Allocated, None),
            advance(
                &id,
                OrderState::Allocated,
                OrderState::ErpPosted,
                Some("SO-1"),
            ),
        ],
    )
    .await;
    let cancel = |n: &str| {
        Command::CancelOrder(Box::new(CancelOrder {
            order_id: id.to_string(),
            actor: n.into(),
            from_system: None,
            correlation_id: "corr-c".into(),
        }))
    };
    // Two cancellations race from every instance: one cancels, the rest see it cancelled.
    let outcomes = h.race(6, |i| cancel(&format!("op-{i}"))).await;
    let moved = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::OrderMoved { moved: true, .. }))
        .count();
    assert_eq!(moved, 1, "{outcomes:?}");
    assert_eq!(
        h.state("SKU-HOT")
            .await
            .at(&loc("east"))
            .unwrap()
            .buckets
            .reserved,
        0
    );
    assert_eq!(
        h.state("SKU-1")
            .await
            .at(&loc("east"))
            .unwrap()
            .buckets
            .reserved,
        0
    );
    let erp = h
        .store
        .jobs(crossdock_store::JobFilter {
            system: Some("erp".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = erp.iter().map(|j| j.kind.as_str()).collect();
    assert!(kinds.contains(&"cancel_sales_order"), "{kinds:?}");
    let stored = h.store.order(&id).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "cancelled");
}

/// Two lines of one SKU make two reservations; a pick that uses up the first leaves it
/// consumed, and the parcel that follows must still find those units on the pick ticket.
async fn a_parcel_after_a_pick_that_used_up_a_reservation_takes_the_picked_units(h: Harness) {
    stock_for_orders(&h).await;
    let raw = serde_json::json!({
        "channel": "b2b", "external_id": "TWO-LINES",
        "customer": {"id": "C-1", "email": "buyer@example.com"}, "currency": "USD",
        "lines": [{"sku": "SKU-HOT", "qty": 3, "unit_price": "1.00"},
                  {"sku": "SKU-HOT", "qty": 2, "unit_price": "1.00"}],
        "ship_to": {"name": "A", "line1": "1 Dock Rd", "city": "Newark", "postal_code": "07105",
                    "country": "US"}
    });
    let order = crossdock_domain::order::parse_order(&raw, &estate()).unwrap();
    let id = "ord_01twolines".to_string();
    let placed = Command::PlaceOrder(std::sync::Arc::new(crossdock_domain::ledger::PlaceOrder {
        id: id.clone(),
        order,
        request_hash: "h".into(),
        idempotency_key: None,
        correlation_id: "corr-1".into(),
        credit_hold: None,
    }));
    let out = h.run(2, vec![placed]).await;
    assert!(matches!(&out[0], Outcome::OrderPlaced(_)), "{out:?}");
    h.run(
        3,
        vec![advance(
            &id,
            OrderState::Accepted,
            OrderState::Allocated,
            None,
        )],
    )
    .await;
    h.run(
        4,
        vec![advance(
            &id,
            OrderState::Allocated,
            OrderState::ErpPosted,
            Some("SO-1"),
        )],
    )
    .await;
    let pick = pick_for("pick-3", 5, 3, &id);
    assert_eq!(h.run(5, vec![pick]).await, vec![Outcome::Applied]);
    let b = h.state("SKU-HOT").await.at(&loc("east")).unwrap().buckets;
    assert_eq!((b.on_hand, b.picking, b.reserved), (50, 3, 2));
    let parcel = |n: usize, qty: i64| {
        Command::RecordShipment(Box::new(crossdock_domain::ledger::RecordShipment {
            id: format!("shp_{n}"),
            order_id: id.clone(),
            source: "wms".into(),
            source_event_id: format!("ship-{n}"),
            location: loc("east"),
            lines: vec![(sku("SKU-HOT"), qty)],
            carrier: "UPS".into(),
            tracking_number: "1Z".into(),
            shipped_at: Timestamp(6),
            correlation_id: "corr-2".into(),
        }))
    };
    // The first parcel carries two of the picked units.
    h.run(6, vec![parcel(1, 2)]).await;
    let b = h.state("SKU-HOT").await.at(&loc("east")).unwrap().buckets;
    assert_eq!(
        (b.on_hand, b.picking, b.reserved),
        (48, 1, 2),
        "two units off the pick ticket; the unpicked two still held"
    );
    let out = h.run(7, vec![parcel(2, 3)]).await;
    assert!(
        matches!(
            &out[0],
            Outcome::ShipmentRecorded {
                state: OrderState::Shipped,
                ..
            }
        ),
        "{out:?}"
    );
    let b = h.state("SKU-HOT").await.at(&loc("east")).unwrap().buckets;
    assert_eq!((b.on_hand, b.picking, b.reserved), (45, 0, 0));
}

async fn a_read_filtered_by_type_looks_at_a_bounded_window(h: Harness) {
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
