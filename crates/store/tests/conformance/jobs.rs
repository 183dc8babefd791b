//! The outbox: leases, retries, failures and exceptions, and order moves with their next
//! jobs, on both stores.

use super::*;

pub(crate) fn lease(
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> crossdock_store::LeaseRequest {
    crossdock_store::LeaseRequest {
        owner: owner.into(),
        systems: None,
        now: Timestamp(now),
        lease_ms,
        limit,
    }
}

pub(crate) async fn orders_with_jobs(h: &Harness, n: usize) {
    stock_for_orders(h).await;
    let commands = (0..n)
        .map(|i| place(&format!("J-{i}"), 1, None, "h"))
        .collect();
    h.run(2, commands).await;
}

pub(crate) async fn racing_workers_take_each_job_once(h: Harness) {
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

pub(crate) async fn a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_finish(h: Harness) {
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

pub(crate) async fn a_retried_job_waits_for_its_time_and_a_failed_one_stays_put(h: Harness) {
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

pub(crate) fn advance(id: &str, from: OrderState, to: OrderState, erp: Option<&str>) -> Command {
    Command::AdvanceOrder(Box::new(AdvanceOrder {
        order_id: OrderId::parse(id).unwrap(),
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

pub(crate) async fn an_order_moves_once_with_its_history_and_next_jobs(h: Harness) {
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

pub(crate) async fn a_failed_job_opens_an_exception_that_can_be_retried_and_resolved(h: Harness) {
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
    // Retried once more, it succeeds: the exception closes with it.
    h.store
        .act_on_exception(&e.id, ExceptionAction::Retry, None, Timestamp(55))
        .await
        .unwrap();
    let last = h
        .store
        .lease_jobs(lease("w", 55, 1_000, 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(
        h.store
            .finish_job(&last.id, "w", JobFinish::Done, Timestamp(58))
            .await
            .unwrap()
    );
    let closed = h.store.exception(&e.id).await.unwrap().unwrap();
    assert_eq!(
        (closed.status.as_str(), closed.updated_at),
        ("resolved", Timestamp(58))
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
