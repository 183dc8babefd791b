//! The `shipments` system's one job, `review_shipment`: a parcel the hub refused (see
//! `WAREHOUSE_MISMATCH`), kept as the warehouse sent it. Retrying its exception offers the
//! parcel again; the ledger books it or, still refusing, reopens the exception itself.

use crossdock_domain::inbound::parse_shipment;
use crossdock_domain::ledger::{Command, Outcome};
use crossdock_store::Job;

use crate::inventory::{Inventory, now};
use crate::runner::{Handler, JobResult};

/// Runs `review_shipment` jobs.
pub struct ShipmentReview {
    inventory: Inventory,
}

impl ShipmentReview {
    /// A handler over `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }
}

impl Handler for ShipmentReview {
    async fn run(&self, job: &Job) -> JobResult {
        let Some(parcel) = &job.payload else {
            return JobResult::Done;
        };
        let id = Inventory::new_shipment_id();
        let record = match parse_shipment(parcel, id, job.id.to_string(), now()) {
            Ok(r) => r,
            Err(errors) => {
                return JobResult::Permanent {
                    code: crossdock_domain::ErrorCode::ValidationFailed,
                    error: format!("the kept parcel no longer reads: {errors:?}"),
                };
            }
        };
        match self
            .inventory
            .submit_one(Command::RecordShipment(Box::new(record)))
            .await
        {
            Ok(Outcome::ShipmentRecorded { .. } | Outcome::Duplicate) => JobResult::Done,
            // Refused again: the ledger failed this job and reopened its exception itself.
            Ok(Outcome::Rejected {
                code: crossdock_domain::ErrorCode::WarehouseMismatch,
                ..
            }) => JobResult::Held,
            Ok(Outcome::Rejected { code, detail }) => JobResult::Permanent {
                code,
                error: detail,
            },
            Ok(other) => JobResult::Permanent {
                code: crossdock_domain::ErrorCode::Internal,
                error: format!("unexpected outcome {other:?}"),
            },
            Err(e) => JobResult::Transient {
                error: e.to_string(),
                retry_after: None,
            },
        }
    }
}
