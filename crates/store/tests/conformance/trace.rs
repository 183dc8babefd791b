//! Following one transaction: jobs carry the correlation id of the transaction that queued
//! them (through the jobs that queued them), their tries are kept, and a trace gathers the
//! order, its moves and the tries; the queue is counted by system and kind; on both stores.

use super::*;
use crossdock_domain::JobOutcome;
use crossdock_store::{JobAttempt, TraceStore};

fn tried(job: &crossdock_store::Job, at: i64, outcome: JobOutcome, status: u16) -> JobAttempt {
    JobAttempt {
        job_id: job.id.clone(),
        attempt: job.attempts,
        kind: job.kind,
        system: job.system.clone(),
        order_id: job.order_id.clone(),
        correlation_id: job.correlation_id.clone(),
        started_at: Timestamp(at),
        duration_ms: 12,
        outcome,
        http_status: Some(status),
        error: (outcome != JobOutcome::Done).then(|| format!("answered {status}")),
    }
}

pub(crate) async fn jobs_carry_their_transaction_and_a_trace_gathers_it(h: Harness) {
    orders_with_jobs(&h, 1).await;
    let s = &h.store;
    let waiting = s.waiting_jobs(Timestamp(i64::MAX / 2)).await.unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].count, 1);
    assert!(waiting[0].oldest_due.is_some(), "due by then");
    let early = s.waiting_jobs(Timestamp(0)).await.unwrap();
    assert_eq!(
        (early[0].count, early[0].oldest_due),
        (1, None),
        "waiting, not yet due"
    );
    let first = h
        .store
        .lease_jobs(lease("w", 10, 60_000, 10))
        .await
        .unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    let first = &first[0];
    assert_eq!(
        first.correlation_id.as_deref(),
        Some("corr-1"),
        "the request's"
    );
    let order_id = first.order_id.clone().unwrap();

    // The job moves the order, naming itself; the job it queues carries the transaction.
    let moved = Command::AdvanceOrder(Box::new(AdvanceOrder {
        order_id: order_id.clone(),
        from: OrderState::Accepted,
        to: OrderState::Allocated,
        actor: first.kind.to_string(),
        correlation_id: first.id.to_string(),
        erp_order_id: None,
        erp_status: None,
        jobs: vec![NewJob::new(JobKind::PostSalesOrder)],
        fail_job: None,
    }));
    h.run(1, vec![moved]).await;
    let done = JobFinish::Done;
    assert!(
        h.store
            .finish_job(&first.id, "w", done, Timestamp(20))
            .await
            .unwrap()
    );
    let next = h
        .store
        .lease_jobs(lease("w", 30, 60_000, 10))
        .await
        .unwrap();
    let waiting = s.waiting_jobs(Timestamp(i64::MAX / 2)).await.unwrap();
    let kinds: Vec<_> = waiting.iter().map(|w| (w.kind, w.count)).collect();
    assert_eq!(
        kinds,
        [(JobKind::PostSalesOrder, 1)],
        "leased counts; done does not"
    );
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0].kind, JobKind::PostSalesOrder);
    assert_eq!(
        next[0].correlation_id.as_deref(),
        Some("corr-1"),
        "inherited from the job that queued it, not that job's id"
    );

    s.record_attempt(tried(first, 15, JobOutcome::Done, 200))
        .await
        .unwrap();
    s.record_attempt(tried(&next[0], 31, JobOutcome::Retry, 503))
        .await
        .unwrap();
    // A second record of the same try is ignored.
    s.record_attempt(tried(&next[0], 99, JobOutcome::Done, 200))
        .await
        .unwrap();

    let trace = s.trace("corr-1").await.unwrap();
    assert_eq!(trace.orders.len(), 1);
    assert_eq!(trace.orders[0].id, order_id);
    assert_eq!(trace.orders[0].state, OrderState::Allocated);
    let attempts: Vec<_> = (trace.attempts.iter())
        .map(|a| (a.kind, a.outcome, a.http_status, a.started_at.0))
        .collect();
    assert_eq!(
        attempts,
        [
            (first.kind, JobOutcome::Done, Some(200), 15),
            (JobKind::PostSalesOrder, JobOutcome::Retry, Some(503), 31)
        ]
    );
    let last = trace.steps.last().unwrap();
    assert_eq!(
        (last.from, last.to),
        (Some(OrderState::Accepted), OrderState::Allocated)
    );
    assert_eq!(
        last.correlation_id,
        first.id.as_str(),
        "made by the transaction's job"
    );
    assert!(trace.steps.iter().all(|s| s.order_id == order_id));
    assert!(
        trace.steps.len() >= 2,
        "intake's steps too: {:?}",
        trace.steps
    );

    // The post, leased and not done, is late once its clock passes the line.
    let post = &next[0];
    let late = |before| {
        s.late_jobs(
            JobKind::PostSalesOrder,
            Timestamp(0),
            Timestamp(before),
            false,
        )
    };
    assert_eq!(late(i64::MAX).await.unwrap(), 1);
    assert_eq!(
        late(post.run_at.0).await.unwrap(),
        0,
        "its clock started then"
    );
    let none = s.flow_times(JobKind::PostSalesOrder, Timestamp(0), false);
    assert!(none.await.unwrap().is_empty(), "not done yet");
    // Its second try succeeds: it took from being queued (or from its order's intake) to the
    // end of that try.
    let mut second = tried(post, 40, JobOutcome::Done, 201);
    second.attempt = 2;
    s.record_attempt(second).await.unwrap();
    let done = JobFinish::Done;
    assert!(
        s.finish_job(&post.id, "w", done, Timestamp(52))
            .await
            .unwrap()
    );
    let times = s
        .flow_times(JobKind::PostSalesOrder, Timestamp(0), false)
        .await
        .unwrap();
    assert_eq!(times, [52 - post.run_at.0]);
    let from_order = s
        .flow_times(JobKind::PostSalesOrder, Timestamp(0), true)
        .await
        .unwrap();
    assert_eq!(from_order, [52 - trace.orders[0].created_at.0]);
    let since_later = s
        .flow_times(JobKind::PostSalesOrder, Timestamp(41), false)
        .await
        .unwrap();
    assert!(since_later.is_empty(), "the try began before the window");
    assert_eq!(late(i64::MAX).await.unwrap(), 0, "done is not late");

    assert_eq!(s.trace("corr-nobody").await.unwrap(), Default::default());
    assert_eq!(s.purge_attempts(Timestamp(20)).await.unwrap(), 1);
    assert_eq!(s.trace("corr-1").await.unwrap().attempts.len(), 2);
}
