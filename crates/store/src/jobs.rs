//! The outbox: jobs written in business transactions, leased by workers, finished once.

use crossdock_domain::Timestamp;
use serde::Serialize;

/// A unit of work for an outside system, written with the business change that needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// `job_…`
    pub id: String,
    /// What to do, e.g. `post_sales_order`.
    pub kind: String,
    /// The outside system it targets, e.g. `erp`.
    pub system: String,
    /// The order it belongs to.
    pub order_id: Option<String>,
    /// `ready`, `leased`, `done` or `failed`.
    pub state: String,
    /// Times it has been leased.
    pub attempts: i64,
    /// Not before this time.
    pub run_at: Timestamp,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// When the lease lapses and another worker may take the job over.
    pub lease_until: Option<Timestamp>,
    /// The last error, for operators.
    pub last_error: Option<String>,
}

/// Which jobs a worker wants.
#[derive(Debug, Clone)]
pub struct LeaseRequest {
    /// The worker, recorded on the jobs it takes.
    pub owner: String,
    /// Only jobs for these systems (all when `None`).
    pub systems: Option<Vec<String>>,
    /// The time now: jobs due by then, and leases lapsed by then, are taken.
    pub now: Timestamp,
    /// How long the lease lasts.
    pub lease_ms: i64,
    /// At most this many.
    pub limit: i64,
}

/// How a leased job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobFinish {
    /// Done; never runs again.
    Done,
    /// Run it again at `at`.
    Retry {
        /// When.
        at: Timestamp,
        /// Why this try failed.
        error: String,
    },
    /// Give up; a person must look.
    Failed {
        /// Why.
        error: String,
    },
}

impl JobFinish {
    /// (state, run_at, error) to store.
    pub(crate) fn columns(&self) -> (&'static str, Option<i64>, Option<&str>) {
        match self {
            JobFinish::Done => ("done", None, None),
            JobFinish::Retry { at, error } => ("ready", Some(at.0), Some(error)),
            JobFinish::Failed { error } => ("failed", None, Some(error)),
        }
    }
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only in this state.
    pub state: Option<String>,
    /// Only for this system.
    pub system: Option<String>,
    /// At most this many, oldest due first.
    pub limit: i64,
}
