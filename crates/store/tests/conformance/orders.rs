//! Orders: intake once, idempotency keys, cancelling, picks and parcels, on both stores.

use super::*;

/// A pick ticket opened at east for `qty` SKU-HOT of `order`.
pub(crate) fn pick_for(event: &str, at: i64, qty: i64, order: &str) -> Command {
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

pub(crate) fn place(external_id: &str, qty: i64, key: Option<&str>, hash: &str) -> Command {
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
        id: OrderId::with_unique(&ulid::Ulid::new().to_string().to_lowercase()),
        order,
        request_hash: hash.to_string(),
        idempotency_key: key.map(str::to_string),
        correlation_id: "corr-1".into(),
        credit_hold: None,
    }))
}

pub(crate) async fn stock_for_orders(h: &Harness) {
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

pub(crate) async fn a_storm_of_the_same_order_makes_one_order(h: Harness) {
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
            Outcome::Replayed(prior) => assert_eq!(prior.order_id.as_str(), placed[0]),
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

/// A replay, by natural key or by idempotency key, answers with the first answer's very
/// bytes; on PostgreSQL an answer kept before migration 11 (as JSONB) still replays.
pub(crate) async fn a_replay_answers_with_the_first_answers_bytes(h: Harness) {
    stock_for_orders(&h).await;
    let first = match &h
        .run(2, vec![place("W-B", 1, Some("key-W-B"), "body-B")])
        .await[..]
    {
        [Outcome::OrderPlaced(placed)] => placed.response.to_string(),
        other => panic!("unexpected {other:?}"),
    };
    let replays = h
        .run(
            3,
            vec![
                place("W-B", 1, None, "body-B"),
                place("W-B", 1, Some("key-W-B"), "body-B"),
            ],
        )
        .await;
    for o in &replays {
        match o {
            Outcome::Replayed(prior) => assert_eq!(prior.response.to_string(), first),
            other => panic!("unexpected {other:?}"),
        }
    }
    let crossdock_store::AnyStore::Postgres(pg) = &h.store else {
        return;
    };
    sqlx::raw_sql(
        "UPDATE orders SET response = answer::jsonb, answer = NULL;
         UPDATE idempotency_keys SET response = answer::jsonb, answer = NULL;",
    )
    .execute(pg.pool())
    .await
    .unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    for o in h
        .run(4, vec![place("W-B", 1, Some("key-W-B"), "body-B")])
        .await
    {
        match o {
            Outcome::Replayed(prior) => {
                let answer: serde_json::Value =
                    serde_json::from_str(prior.response.as_ref()).unwrap();
                assert_eq!(answer, first);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

pub(crate) async fn an_order_is_kept_with_its_history_and_jobs(h: Harness) {
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
        (placed.id().as_str(), 2, None)
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

pub(crate) async fn a_reused_idempotency_key_with_another_body_conflicts(h: Harness) {
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

pub(crate) async fn expired_idempotency_keys_are_forgotten_but_natural_keys_are_not(h: Harness) {
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

pub(crate) async fn cancelling_a_posted_order_releases_stock_and_queues_the_erp_cancellation(
    h: Harness,
) {
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
            order_id: OrderId::parse(id.as_str()).unwrap(),
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
pub(crate) async fn a_parcel_after_a_pick_that_used_up_a_reservation_takes_the_picked_units(
    h: Harness,
) {
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
    let id = OrderId::parse("ord_01twolines").unwrap();
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
