//! The order-to-cash saga's steps that crossdock runs itself. Each step is a job; each ends
//! by moving the order (or keeping its state) and queueing the next step, in one
//! transaction, so a crash between steps loses nothing and repeats nothing.
//!
//! Order of steps: `screen_fraud` → `allocate` → `post_sales_order` (the ERP connector).
//! Fraud screening passes orders through until a fraud service is configured.

use crossdock_domain::ledger::{AdvanceOrder, Command, Outcome};
use crossdock_domain::order_state::OrderState;
use crossdock_store::Job;

use crate::Inventory;
use crate::runner::{Handler, JobResult};

/// The system name of steps crossdock runs itself.
pub const INTERNAL: &str = "saga";

/// Runs the internal steps (and fraud screening while no fraud service is configured).
pub struct InternalSteps {
    inventory: Inventory,
}

impl InternalSteps {
    /// Steps run against `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }
}

/// Outbox jobs a step queues: (kind, system).
type NextJobs = Vec<(&'static str, &'static str)>;

/// What a step does to the order: the state it expects, the state it leaves, the next jobs.
fn step(kind: &str) -> Option<(OrderState, OrderState, NextJobs)> {
    Some(match kind {
        "screen_fraud" => (
            OrderState::Accepted,
            OrderState::Accepted,
            vec![("allocate", INTERNAL)],
        ),
        "allocate" => (
            OrderState::Accepted,
            OrderState::Allocated,
            vec![("post_sales_order", "erp")],
        ),
        _ => return None,
    })
}

impl Handler for InternalSteps {
    async fn run(&self, job: &Job) -> JobResult {
        let Some((from, to, jobs)) = step(&job.kind) else {
            return JobResult::Permanent {
                code: "MAPPING_FAILED",
                error: format!("no saga step named `{}`", job.kind),
            };
        };
        let Some(order_id) = job.order_id.clone() else {
            return JobResult::Permanent {
                code: "MAPPING_FAILED",
                error: format!("{} job without an order", job.kind),
            };
        };
        let advance = AdvanceOrder {
            order_id,
            from,
            to,
            actor: job.kind.clone(),
            correlation_id: job.id.clone(),
            erp_order_id: None,
            jobs,
        };
        match self
            .inventory
            .submit_one(Command::AdvanceOrder(Box::new(advance)))
            .await
        {
            Ok(Outcome::OrderMoved { moved: true, .. }) => JobResult::Done,
            // The order moved on (held, cancelled, or this step already ran): nothing to do.
            Ok(Outcome::OrderMoved { state, .. }) => {
                tracing::info!(
                    job = job.id,
                    state = state.as_str(),
                    "saga step no longer applies"
                );
                JobResult::Done
            }
            Ok(other) => JobResult::Permanent {
                code: "MAPPING_FAILED",
                error: format!("{} could not move the order: {other:?}", job.kind),
            },
            Err(e) => JobResult::Transient {
                error: e.to_string(),
                retry_after: None,
            },
        }
    }
}
