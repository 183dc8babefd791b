//! Jobs routed to one of several ERPs: moved to the queue of the ERP their order is assigned
//! to, the first move choosing it for good, on both stores.

use super::*;
use crossdock_store::ErpAssignments;

pub(crate) async fn an_order_stays_with_the_erp_its_first_job_was_routed_to(h: Harness) {
    orders_with_jobs(&h, 2).await;
    let s = &h.store;
    let jobs = s.lease_jobs(lease("router", 10, 60_000, 10)).await.unwrap();
    assert_eq!(jobs.len(), 2);
    let (a, b) = (&jobs[0], &jobs[1]);
    let order_a = a.order_id.as_ref().unwrap().to_string();
    // A move by a router whose lease lapsed does nothing.
    assert_eq!(
        s.route_job(
            &a.id,
            "someone-else",
            Some(&order_a),
            "erp:east",
            Timestamp(11)
        )
        .await
        .unwrap(),
        None
    );
    let went = s
        .route_job(&a.id, "router", Some(&order_a), "erp:east", Timestamp(11))
        .await
        .unwrap();
    assert_eq!(went.as_deref(), Some("erp:east"));
    assert_eq!(
        s.erp_of(&order_a).await.unwrap().as_deref(),
        Some("erp:east")
    );
    // Due in its new queue at once, its attempt given back.
    let east = crossdock_store::LeaseRequest {
        systems: Some(vec!["erp:east".into()]),
        ..lease("east", 11, 60_000, 10)
    };
    let moved = s.lease_jobs(east).await.unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!((&moved[0].id, moved[0].attempts), (&a.id, 1));

    // The unit moved to another ERP: the order's next job still goes where it went first.
    let went = s
        .route_job(&a.id, "east", Some(&order_a), "erp:west", Timestamp(12))
        .await
        .unwrap();
    assert_eq!(went.as_deref(), Some("erp:east"));
    // Another order takes the new choice; a job with no order goes where it is sent.
    let order_b = b.order_id.as_ref().unwrap().to_string();
    let went = s
        .route_job(&b.id, "router", Some(&order_b), "erp:west", Timestamp(12))
        .await
        .unwrap();
    assert_eq!(went.as_deref(), Some("erp:west"));
    assert_eq!(s.erp_of("ord_nobody").await.unwrap(), None);
}
