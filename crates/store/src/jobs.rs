//! The outbox: jobs written in business transactions, leased by workers, finished once.

use crossdock_domain::Timestamp;
use crossdock_domain::{
    ErrorCode, ExceptionId, ExceptionStatus, JobId, JobKind, JobState, OrderId,
};
use serde::Serialize;

/// A unit of work for an outside system, written with the business change that needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// `job_…`
    pub id: JobId,
    /// What to do, e.g. `post_sales_order`.
    pub kind: JobKind,
    /// The outside system it targets, e.g. `erp`.
    pub system: String,
    /// The order it belongs to.
    pub order_id: Option<OrderId>,
    /// The business transaction that queued it: the request's correlation id, or the one the
    /// job that queued it carried. Every call the job makes sends it as `X-Correlation-ID`.
    pub correlation_id: Option<String>,
    /// Where it stands.
    pub state: JobState,
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
    /// What the job needs beyond its order (operators may edit it before a retry).
    pub payload: Option<serde_json::Value>,
}

/// Jobs of one kind waiting for their system: the queue's depth and its oldest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    /// The system.
    pub system: String,
    /// What they do.
    pub kind: JobKind,
    /// How many wait (ready, due or not, and leased).
    pub count: i64,
    /// When the oldest of those already due became due; none when none is due yet.
    pub oldest_due: Option<Timestamp>,
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
    /// Give up; a person must look: the job's exception is opened (or reopened).
    Failed {
        /// Stable business code, e.g. `ERP_REJECTED`.
        code: String,
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
            JobFinish::Failed { error, .. } => ("failed", None, Some(error)),
        }
    }
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only in this state.
    pub state: Option<JobState>,
    /// Only for this system.
    pub system: Option<String>,
    /// Only jobs due after this one (a page's last id: the cursor to the next page).
    pub after: Option<String>,
    /// At most this many, oldest due first.
    pub limit: i64,
}

/// A failure that needs a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exception {
    /// `exc_…`
    pub id: ExceptionId,
    /// Stable business code.
    pub code: ErrorCode,
    /// The outside system involved.
    pub system: String,
    /// The order it concerns.
    pub order_id: Option<OrderId>,
    /// The job that failed.
    pub job_id: JobId,
    /// Where it stands.
    pub status: ExceptionStatus,
    /// The first error seen.
    pub first_error: String,
    /// The latest error seen.
    pub last_error: String,
    /// Tries made.
    pub attempts: i64,
    /// What to do about it, in plain language.
    pub remediation: String,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its job's payload, which an edit and retry replaces (read with one exception, not
    /// with a list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

/// Which exceptions to list.
#[derive(Debug, Clone, Default)]
pub struct ExceptionFilter {
    /// Only with this code.
    pub code: Option<ErrorCode>,
    /// Only for this system.
    pub system: Option<String>,
    /// Only in this status.
    pub status: Option<ExceptionStatus>,
    /// Only opened at or after this time.
    pub since: Option<Timestamp>,
    /// Only exceptions older than this one (a page's last id: the cursor to the next page).
    pub after: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// What an operator does with an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionAction {
    /// Run the job again now.
    Retry,
    /// Close it: handled outside crossdock.
    Resolve,
}

/// Columns of `exceptions`, in the order the backends read them.
pub(crate) const EXCEPTION_COLS: &str = "id, code, system, order_id, job_id, status, first_error, \
     last_error, attempts, remediation, created_at, updated_at";

/// Opens (or reopens) the exception of a failed job. Parameters: job id, code, error,
/// remediation, now. The same text runs on SQLite and PostgreSQL.
pub(crate) const OPEN_EXCEPTION: &str = "INSERT INTO exceptions (id, code, system, order_id, \
     job_id, status, first_error, last_error, attempts, remediation, created_at, updated_at) \
     SELECT 'exc_' || substr(id, 5), $2, system, order_id, id, 'open', $3, $3, attempts, $4, \
     $5, $5 FROM jobs WHERE id = $1 \
     ON CONFLICT (job_id) DO UPDATE SET code = excluded.code, status = 'open', \
     last_error = excluded.last_error, attempts = excluded.attempts, \
     remediation = excluded.remediation, updated_at = excluded.updated_at";

/// Closes a retried job's exception once the job succeeded. Parameters: job id, now.
pub(crate) const RESOLVE_RETRIED: &str = "UPDATE exceptions SET status = 'resolved', \
     updated_at = $2 WHERE job_id = $1 AND status = 'retrying'";

/// Closes an order's open exceptions of one code as resolved (the order outgrew them).
/// Parameters: order id, code, now.
pub(crate) const RESOLVE_OUTGROWN: &str = "UPDATE exceptions SET status = 'resolved', \
     updated_at = $3 WHERE order_id = $1 AND code = $2 AND status <> 'resolved'";

/// Puts an exception's failed job back in the queue. Parameters: exception id, now.
pub(crate) const REQUEUE_JOB: &str = "UPDATE jobs SET state = 'ready', run_at = $2, \
     lease_owner = NULL, lease_until = NULL \
     WHERE state = 'failed' AND id = (SELECT job_id FROM exceptions WHERE id = $1)";

/// Ends a leased job as failed without an owner check (a move that holds its order does it
/// in its own transaction). Parameters: job id, error.
pub(crate) const FAIL_JOB: &str = "UPDATE jobs SET state = 'failed', last_error = $2, \
     lease_owner = NULL, lease_until = NULL WHERE id = $1";

/// Records an account's credit status, unless a later one is already kept. Parameters:
/// account, status, checked at.
pub(crate) const RECORD_CREDIT: &str = "INSERT INTO credit_status (account, status, \
     checked_at) VALUES ($1, $2, $3) ON CONFLICT (account) DO UPDATE SET \
     status = excluded.status, checked_at = excluded.checked_at \
     WHERE credit_status.checked_at <= excluded.checked_at";

/// Makes a system's waiting jobs due now (through the per-system index of ready jobs), each
/// as of when it was first due, so the backlog goes out oldest first; a job written to run
/// later (a backorder's horizon) is left for then. Parameters: system, now.
pub(crate) const HASTEN: &str = "UPDATE jobs SET run_at = created_at \
     WHERE state = 'ready' AND system = $1 AND run_at > $2 AND created_at <= $2";

/// Counts a system's waiting jobs (through the per-system index of ready jobs). Parameter:
/// system.
pub(crate) const BACKLOG: &str = "SELECT COUNT(*) FROM jobs WHERE state = 'ready' AND system = $1";

/// Waiting jobs by system and kind, read through the partial indexes of ready and of leased
/// jobs (never the done ones). Parameter: now.
pub(crate) const WAITING: &str = "SELECT system, kind, COUNT(*), \
     MIN(CASE WHEN created_at <= $1 THEN created_at END) FROM \
     (SELECT system, kind, created_at FROM jobs WHERE state = 'ready' \
      UNION ALL SELECT system, kind, created_at FROM jobs WHERE state = 'leased') AS w \
     GROUP BY system, kind ORDER BY system, kind";

/// A waiting row: system, kind, count, oldest due.
pub(crate) type WaitingRow = (String, String, i64, Option<i64>);

pub(crate) fn waiting(row: WaitingRow) -> crate::Result<Waiting> {
    let (system, kind, count, oldest) = row;
    Ok(Waiting {
        system,
        kind: crate::records::job_kind(&kind)?,
        count,
        oldest_due: oldest.map(Timestamp),
    })
}

/// Sets an exception's status. Parameters: exception id, status, now.
pub(crate) const SET_EXCEPTION_STATUS: &str =
    "UPDATE exceptions SET status = $2, updated_at = $3 WHERE id = $1";

impl ExceptionAction {
    /// The status the action leaves the exception in.
    pub(crate) fn status(self) -> ExceptionStatus {
        match self {
            ExceptionAction::Retry => ExceptionStatus::Retrying,
            ExceptionAction::Resolve => ExceptionStatus::Resolved,
        }
    }
}
