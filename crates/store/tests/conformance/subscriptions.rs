//! Subscriptions: deliveries queued from the event log, leased to one sender each, finished,
//! replayed and disabled, on both stores.

use std::collections::HashSet;

use crossdock_domain::Timestamp;
use crossdock_store::{
    AnyStore, Attempt, AttemptOutcome, AttemptQuery, Store, Subscription, SubscriptionStore,
};

use super::harness::Harness;

fn subscription(id: &str) -> Subscription {
    Subscription {
        id: id.into(),
        url: "http://127.0.0.1:9/hook".into(),
        event_types: vec!["item.created".into()],
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        created_at: Timestamp(1),
        cursor: 0,
        disabled_at: None,
        disabled_reason: None,
        pending: 0,
        failed: 0,
    }
}

fn attempt(sub: &str, seq: i64, n: i32, outcome: AttemptOutcome, at: i64) -> Attempt {
    Attempt {
        id: 0,
        subscription: sub.into(),
        seq,
        attempt: n,
        at: Timestamp(at),
        status: Some(if outcome == AttemptOutcome::Delivered {
            204
        } else {
            500
        }),
        error: (outcome != AttemptOutcome::Delivered).then(|| "the endpoint failed".into()),
        duration_ms: 3,
        outcome,
        next_at: (outcome == AttemptOutcome::Retrying).then_some(Timestamp(at + 100)),
    }
}

async fn one(s: &AnyStore, id: &str) -> Subscription {
    let all = s.subscriptions().await.unwrap();
    all.into_iter()
        .find(|x| x.id == id)
        .expect("the subscription exists")
}

/// Queues every event so far to `id` from its cursor; the seqs queued.
async fn queue_all(s: &AnyStore, id: &str, now: i64) -> Vec<i64> {
    let from = one(s, id).await.cursor;
    let seqs: Vec<i64> = s
        .events_after(from, 1_000, None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    let to = s.last_seq().await.unwrap();
    assert!(
        s.queue_deliveries(id, from, to, seqs.clone(), Timestamp(now))
            .await
            .unwrap()
    );
    seqs
}

pub async fn deliveries_are_queued_leased_finished_and_replayed(h: Harness) {
    h.items(&["SKU-1", "SKU-2", "SKU-3"]).await;
    let s = &h.store;
    s.create_subscription(subscription("sub_a")).await.unwrap();
    let seqs = queue_all(s, "sub_a", 100).await;
    assert_eq!(seqs.len(), 3);
    // A cursor moves only from where it was read.
    assert!(
        !s.queue_deliveries("sub_a", 0, 3, vec![1], Timestamp(100))
            .await
            .unwrap()
    );
    assert_eq!(one(s, "sub_a").await.pending, 3);

    // Not due before its time; once leased, not leased again until the lease lapses.
    assert!(
        s.lease_deliveries(Timestamp(99), Timestamp(200), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let leased = s
        .lease_deliveries(Timestamp(100), Timestamp(200), 10)
        .await
        .unwrap();
    assert_eq!(leased.iter().map(|d| d.seq).collect::<Vec<_>>(), seqs);
    let first = &leased[0];
    assert_eq!(
        (first.attempts, first.event_type.as_str()),
        (0, "item.created")
    );
    let data: serde_json::Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(data["sku"], "SKU-1");
    assert_eq!(first.secret, subscription("sub_a").secret);
    assert!(
        s.lease_deliveries(Timestamp(150), Timestamp(250), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The first fails and waits; the second is delivered; the third's lease lapses.
    let (a, b, c) = (seqs[0], seqs[1], seqs[2]);
    assert!(
        s.finish_delivery(attempt("sub_a", a, 1, AttemptOutcome::Retrying, 160))
            .await
            .unwrap()
    );
    assert!(
        !s.finish_delivery(attempt("sub_a", a, 1, AttemptOutcome::Delivered, 161))
            .await
            .unwrap()
    );
    assert!(
        s.finish_delivery(attempt("sub_a", b, 1, AttemptOutcome::Delivered, 170))
            .await
            .unwrap()
    );
    let again = s
        .lease_deliveries(Timestamp(201), Timestamp(300), 10)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|d| d.seq).collect::<Vec<_>>(), vec![c]);
    let retried = s
        .lease_deliveries(Timestamp(260), Timestamp(400), 10)
        .await
        .unwrap();
    assert_eq!((retried[0].seq, retried[0].attempts), (a, 1));
    assert!(
        s.finish_delivery(attempt("sub_a", a, 2, AttemptOutcome::Failed, 270))
            .await
            .unwrap()
    );
    let sub = one(s, "sub_a").await;
    assert_eq!((sub.pending, sub.failed), (1, 1));

    // Attempts, newest first, a page at a time and by event.
    let q = |after, seq| AttemptQuery {
        subscription: "sub_a".into(),
        seq,
        after,
        limit: 2,
    };
    let page = s.attempts(q(None, None)).await.unwrap();
    assert_eq!(
        page.iter().map(|x| (x.seq, x.attempt)).collect::<Vec<_>>(),
        [(a, 2), (b, 1)]
    );
    assert_eq!(page[0].outcome, AttemptOutcome::Failed);
    let next = s.attempts(q(Some(page[1].id), None)).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].outcome, next[0].next_at),
        (AttemptOutcome::Retrying, Some(Timestamp(260)))
    );
    assert_eq!(s.attempts(q(None, Some(b))).await.unwrap().len(), 1);

    // A replay moves the cursor back: the delivered and the failed are due again, afresh.
    assert!(s.replay("sub_a", 0).await.unwrap());
    assert!(!s.replay("sub_nobody", 0).await.unwrap());
    assert_eq!(one(s, "sub_a").await.cursor, 0);
    queue_all(s, "sub_a", 500).await;
    let replayed = s
        .lease_deliveries(Timestamp(500), Timestamp(600), 10)
        .await
        .unwrap();
    assert_eq!(replayed.len(), 3);
    assert!(replayed.iter().all(|d| d.attempts == 0));

    // Gone: an endpoint that answers 410 disables its subscription until a replay.
    assert!(
        s.finish_delivery(attempt("sub_a", a, 1, AttemptOutcome::Disabled, 510))
            .await
            .unwrap()
    );
    let sub = one(s, "sub_a").await;
    assert_eq!(sub.disabled_at, Some(Timestamp(510)));
    assert_eq!(sub.disabled_reason.as_deref(), Some("the endpoint failed"));
    assert!(
        s.lease_deliveries(Timestamp(700), Timestamp(800), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.followed().await.unwrap().is_empty());
    assert!(s.replay("sub_a", 3).await.unwrap());
    let followed = s.followed().await.unwrap();
    assert_eq!((followed[0].cursor, followed[0].event_types.len()), (3, 1));
    assert_eq!(one(s, "sub_a").await.disabled_at, None);
    assert_eq!(
        s.lease_deliveries(Timestamp(700), Timestamp(800), 10)
            .await
            .unwrap()
            .len(),
        2
    );

    // Finished deliveries and old attempts are pruned; deleting takes everything.
    assert!(s.prune_deliveries(Timestamp(515)).await.unwrap() >= 5);
    assert!(
        s.attempts(q(None, None))
            .await
            .unwrap()
            .iter()
            .all(|x| x.at.0 >= 515)
    );
    assert!(s.delete_subscription("sub_a").await.unwrap());
    assert!(!s.delete_subscription("sub_a").await.unwrap());
    assert!(s.subscriptions().await.unwrap().is_empty());
    assert!(s.attempts(q(None, None)).await.unwrap().is_empty());
}

pub async fn racing_senders_lease_each_delivery_once(h: Harness) {
    let skus: Vec<String> = (0..200).map(|i| format!("SKU-{i}")).collect();
    h.items(&skus.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let s = &h.store;
    s.create_subscription(subscription("sub_race"))
        .await
        .unwrap();
    let seqs = queue_all(s, "sub_race", 10).await;
    let stores: Vec<AnyStore> = std::iter::once(s.clone())
        .chain(h.others.iter().cloned())
        .collect();
    let senders: Vec<_> = (0..8)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .lease_deliveries(Timestamp(10), Timestamp(1_000), 7)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|d| d.seq));
                }
            })
        })
        .collect();
    let mut taken = Vec::new();
    for t in senders {
        taken.extend(t.await.unwrap());
    }
    let distinct: HashSet<i64> = taken.iter().copied().collect();
    assert_eq!(taken.len(), seqs.len(), "a delivery was leased twice");
    assert_eq!(distinct, seqs.into_iter().collect());
}

pub async fn deleting_while_senders_finish_leaves_nothing_behind(h: Harness) {
    let skus: Vec<String> = (0..40).map(|i| format!("SKU-{i}")).collect();
    h.items(&skus.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let s = &h.store;
    let stores: Vec<AnyStore> = std::iter::once(s.clone())
        .chain(h.others.iter().cloned())
        .collect();
    for round in 0..10 {
        let id = format!("sub_gone_{round}");
        s.create_subscription(subscription(&id)).await.unwrap();
        queue_all(s, &id, 10).await;
        let leased = s
            .lease_deliveries(Timestamp(10), Timestamp(1_000), 100)
            .await
            .unwrap();
        assert_eq!(leased.len(), skus.len());
        // Every delivery is finished by its own task while another instance deletes.
        let finishing: Vec<_> = leased
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let store = stores[i % stores.len()].clone();
                let id = id.clone();
                tokio::spawn(async move {
                    store
                        .finish_delivery(attempt(&id, d.seq, 1, AttemptOutcome::Delivered, 20))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let deleter = stores[round % stores.len()].clone();
        assert!(deleter.delete_subscription(&id).await.unwrap());
        for t in finishing {
            t.await.unwrap();
        }
        let left = s
            .attempts(AttemptQuery {
                subscription: id.clone(),
                seq: None,
                after: None,
                limit: 1_000,
            })
            .await
            .unwrap();
        assert!(
            left.is_empty(),
            "round {round}: {} attempts outlived their subscription",
            left.len()
        );
        assert!(
            s.lease_deliveries(Timestamp(2_000), Timestamp(3_000), 100)
                .await
                .unwrap()
                .is_empty(),
            "round {round}: a delivery outlived its subscription"
        );
    }
}
