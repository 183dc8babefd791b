//! Parcels refused for a person: a shipment the hub will not book (from a location the order
//! holds nothing at) is answered 422, and kept in the exception queue as the warehouse sent
//! it, on a `review_shipment` job born failed. Retrying the exception offers the parcel again
//! (after stock or the order was put right); resolving it closes the matter.

use serde_json::json;

use super::{AdvanceOrder, FailedJob, Ledger, NewJob, RecordShipment};
use crate::error::ErrorCode;
use crate::job::JobKind;
use crate::order_state::OrderState;

impl Ledger<'_> {
    /// Opens the exception for parcel `s`, refused with `code`, on the order (in `state`,
    /// which it stays in).
    pub(super) fn park_shipment(
        &mut self,
        s: &RecordShipment,
        state: OrderState,
        code: ErrorCode,
        error: String,
    ) {
        let lines: Vec<_> = s
            .lines
            .iter()
            .map(|(sku, qty)| json!({"sku": sku, "qty": qty}))
            .collect();
        let parcel = json!({"order_id": s.order_id, "source": s.source,
            "source_event_id": s.source_event_id, "location": s.location, "lines": lines,
            "carrier": s.carrier, "tracking_number": s.tracking_number,
            "shipped_at": s.shipped_at});
        let job = NewJob::new(JobKind::ReviewShipment).keyed(&s.source_event_id, parcel);
        // A move that keeps the state records its jobs at the order's last step.
        let seq = self.orders.get(&s.order_id).map_or(0, |o| o.transitions);
        let failed = FailedJob {
            job_id: job.id_for(&s.order_id, Some(seq)),
            code,
            error,
        };
        self.advance_order(&AdvanceOrder {
            order_id: s.order_id.clone(),
            from: state,
            to: state,
            actor: format!("shipment:{}", s.source),
            correlation_id: s.correlation_id.clone(),
            erp_order_id: None,
            erp_status: None,
            jobs: vec![job],
            fail_job: Some(failed),
        });
    }
}
