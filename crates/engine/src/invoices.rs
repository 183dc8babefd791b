//! The `invoices` system's one job, `match_invoice`: opened failed, with its
//! `PRICE_MISMATCH` exception, when a shipped order's invoices do not come to its value.
//! Retrying the exception compares them again (a corrected invoice may have come); resolving
//! it accepts them as they are. Either way a match invoices the order and closes it.

use crossdock_domain::ledger::{Command, MatchInvoices, Outcome};
use crossdock_store::Job;

use crate::inventory::Inventory;
use crate::runner::{Handler, JobResult};

/// Runs `match_invoice` jobs.
pub struct InvoiceMatch {
    inventory: Inventory,
}

impl InvoiceMatch {
    /// A handler over `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }
}

impl Handler for InvoiceMatch {
    async fn run(&self, job: &Job) -> JobResult {
        let Some(order_id) = job.order_id.clone() else {
            return JobResult::Done;
        };
        let approved = job
            .payload
            .as_ref()
            .is_some_and(|p| p["approved"] == serde_json::Value::Bool(true));
        let command = Command::MatchInvoices(Box::new(MatchInvoices {
            order_id,
            approved,
            actor: job.kind.to_string(),
            correlation_id: job.id.to_string(),
        }));
        match self.inventory.submit_one(command).await {
            Ok(Outcome::PriceMismatch { detail }) => JobResult::Permanent {
                code: crossdock_domain::ErrorCode::PriceMismatch,
                error: detail,
            },
            Ok(_) => JobResult::Done,
            Err(e) => JobResult::Transient {
                error: e.to_string(),
                retry_after: None,
            },
        }
    }
}
