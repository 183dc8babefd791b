//! Following one business transaction: every try of a job, kept with its outcome and how long
//! it took, and a transaction's timeline gathered by its correlation id (the order it took in,
//! the order's moves it or its jobs made, and its jobs' tries). The SQL is the same on both
//! backends; each runs it in its own way.

use std::future::Future;

use crossdock_domain::order_state::OrderState;
use crossdock_domain::{JobId, JobKind, JobOutcome, OrderId, Timestamp};
use serde::Serialize;

use crate::{AnyStore, Result};

/// One try of a job, as its runner saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobAttempt {
    /// The job.
    pub job_id: JobId,
    /// Which try, from 1.
    pub attempt: i64,
    /// What the job does.
    pub kind: JobKind,
    /// The system called.
    pub system: String,
    /// The order the job belongs to.
    pub order_id: Option<OrderId>,
    /// The transaction the job carries.
    pub correlation_id: Option<String>,
    /// When the try began.
    pub started_at: Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: JobOutcome,
    /// The last HTTP status the system answered during the try; none when it did not answer.
    pub http_status: Option<u16>,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// An order a transaction took in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedOrder {
    /// `ord_…`
    pub id: OrderId,
    /// The channel it came from.
    pub channel: String,
    /// Its id at the channel.
    pub external_id: String,
    /// Where it stands now.
    pub state: OrderState,
    /// When it was taken in.
    pub created_at: Timestamp,
}

/// A move of an order made by a transaction, or by one of its jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedStep {
    /// The order.
    pub order_id: OrderId,
    /// Its place in the order's history, from 1.
    pub seq: i64,
    /// The state before (none for the first).
    pub from: Option<OrderState>,
    /// The state after.
    pub to: OrderState,
    /// When.
    pub at: Timestamp,
    /// Who or what moved it.
    pub actor: String,
    /// The request's correlation id, or the id of the job that made the move.
    pub correlation_id: String,
}

/// What one correlation id touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// Orders taken in under it, oldest first.
    pub orders: Vec<TracedOrder>,
    /// Moves of those orders, and of orders its jobs worked on, made by it or its jobs.
    pub steps: Vec<TracedStep>,
    /// Its jobs' tries, oldest first.
    pub attempts: Vec<JobAttempt>,
}

/// Storage for tries and traces. Both backends pass the same conformance suite.
pub trait TraceStore: Send + Sync + 'static {
    /// Keeps one try (a second record of the same try is ignored).
    fn record_attempt(&self, attempt: JobAttempt) -> impl Future<Output = Result<()>> + Send;

    /// What `correlation_id` touched: at most [`TRACE_ORDERS`] orders and
    /// [`TRACE_ATTEMPTS`] tries.
    fn trace(&self, correlation_id: &str) -> impl Future<Output = Result<Trace>> + Send;

    /// Forgets tries begun before `before`; returns how many.
    fn purge_attempts(&self, before: Timestamp) -> impl Future<Output = Result<u64>> + Send;

    /// How long each job of `kind` that succeeded in a try begun from `since` took, in
    /// milliseconds: from when it was queued (from when its order was taken in, with
    /// `from_order`) to the end of that try. The newest 100,000 at most, newest first.
    fn flow_times(
        &self,
        kind: JobKind,
        since: Timestamp,
        from_order: bool,
    ) -> impl Future<Output = Result<Vec<i64>>> + Send;

    /// How many jobs of `kind` whose clock (as in [`TraceStore::flow_times`]) started from
    /// `since` but before `late_before` have not succeeded yet: waiting, running or failed.
    fn late_jobs(
        &self,
        kind: JobKind,
        since: Timestamp,
        late_before: Timestamp,
        from_order: bool,
    ) -> impl Future<Output = Result<i64>> + Send;
}

/// Most orders a trace lists.
pub const TRACE_ORDERS: i64 = 100;

/// Most tries a trace lists.
pub const TRACE_ATTEMPTS: i64 = 1_000;

/// Keeps a try. Parameters: job, attempt, kind, system, order, correlation, started,
/// duration, outcome, status, error.
pub(crate) const RECORD: &str = "INSERT INTO job_attempts (job_id, attempt, kind, system, \
     order_id, correlation_id, started_at, duration_ms, outcome, http_status, error) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING";

/// Orders taken in under a correlation id. Parameters: correlation, limit.
pub(crate) const ORDERS: &str = "SELECT id, channel, external_id, state, created_at FROM orders \
     WHERE correlation_id = $1 ORDER BY created_at, id LIMIT $2";

/// Tries of a transaction's jobs. Parameters: correlation, limit.
pub(crate) const ATTEMPTS: &str = "SELECT job_id, attempt, kind, system, order_id, \
     correlation_id, started_at, duration_ms, outcome, http_status, error FROM job_attempts \
     WHERE correlation_id = $1 ORDER BY started_at, job_id, attempt LIMIT $2";

/// An order's moves made by a transaction or by a job of it. Parameters: correlation, order.
pub(crate) const STEPS: &str = "SELECT order_id, seq, from_state, to_state, at, actor, \
     correlation_id FROM order_history WHERE order_id = $2 AND (correlation_id = $1 \
     OR correlation_id IN (SELECT job_id FROM job_attempts WHERE correlation_id = $1)) \
     ORDER BY seq";

/// Flow times of a kind's succeeded jobs. Parameters: kind, since, from order (0 or 1).
pub(crate) const FLOW_TIMES: &str = "SELECT a.started_at + a.duration_ms - (CASE WHEN $3 = 1 \
     THEN COALESCE(o.created_at, j.created_at) ELSE j.created_at END) \
     FROM job_attempts a JOIN jobs j ON j.id = a.job_id LEFT JOIN orders o ON o.id = a.order_id \
     WHERE a.started_at >= $2 AND a.kind = $1 AND a.outcome = 'done' \
     ORDER BY a.started_at DESC LIMIT 100000";

/// A kind's jobs late and not done, found through the partial indexes of ready and leased
/// jobs and through open exceptions. Parameters: kind, since, late before, from order.
pub(crate) const LATE_JOBS: &str = "SELECT COUNT(*) FROM \
     (SELECT order_id, created_at FROM jobs WHERE state = 'ready' AND kind = $1 \
      UNION ALL SELECT order_id, created_at FROM jobs WHERE state = 'leased' AND kind = $1 \
      UNION ALL SELECT j.order_id, j.created_at FROM exceptions e JOIN jobs j ON j.id = e.job_id \
        WHERE e.status = 'open' AND j.state = 'failed' AND j.kind = $1) AS w \
     LEFT JOIN orders o ON o.id = w.order_id \
     WHERE (CASE WHEN $4 = 1 THEN COALESCE(o.created_at, w.created_at) ELSE w.created_at END) \
       >= $2 \
       AND (CASE WHEN $4 = 1 THEN COALESCE(o.created_at, w.created_at) ELSE w.created_at END) \
       < $3";

/// Forgets old tries. Parameters: before.
pub(crate) const PURGE: &str = "DELETE FROM job_attempts WHERE started_at < $1";

/// A try as kept: job, attempt, kind, system, order, correlation, started, duration,
/// outcome, status, error.
pub(crate) type AttemptRow = (
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    String,
    Option<i64>,
    Option<String>,
);

/// An order as kept: id, channel, external id, state, created.
pub(crate) type OrderRow = (String, String, String, String, i64);

/// A move as kept: order, seq, from, to, at, actor, correlation.
pub(crate) type StepRow = (String, i64, Option<String>, String, i64, String, String);

pub(crate) fn attempt(row: AttemptRow) -> Result<JobAttempt> {
    let (job, attempt, kind, system, order, corr, started, duration, outcome, status, error) = row;
    Ok(JobAttempt {
        job_id: JobId::parse(job)?,
        attempt,
        kind: crate::records::job_kind(&kind)?,
        system,
        order_id: order.map(OrderId::parse).transpose()?,
        correlation_id: corr,
        started_at: Timestamp(started),
        duration_ms: duration,
        outcome: JobOutcome::parse(&outcome).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("job attempt: no outcome {outcome}"))
        })?,
        http_status: status.and_then(|s| u16::try_from(s).ok()),
        error,
    })
}

pub(crate) fn order(row: OrderRow) -> Result<TracedOrder> {
    let (id, channel, external_id, state, created) = row;
    Ok(TracedOrder {
        id: OrderId::parse(id)?,
        channel,
        external_id,
        state: crate::records::state(&state)?,
        created_at: Timestamp(created),
    })
}

pub(crate) fn step(row: StepRow) -> Result<TracedStep> {
    let (order, seq, from, to, at, actor, correlation_id) = row;
    Ok(TracedStep {
        order_id: OrderId::parse(order)?,
        seq,
        from: from.as_deref().map(crate::records::state).transpose()?,
        to: crate::records::state(&to)?,
        at: Timestamp(at),
        actor,
        correlation_id,
    })
}

/// The orders whose moves a trace looks at: those it took in, then those its tries worked
/// on, each once.
pub(crate) fn traced_order_ids(orders: &[TracedOrder], attempts: &[JobAttempt]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let taken = orders.iter().map(|o| &o.id);
    let worked = attempts.iter().filter_map(|a| a.order_id.as_ref());
    for id in taken.chain(worked) {
        if !ids.iter().any(|i| i == id.as_str()) {
            ids.push(id.to_string());
        }
    }
    ids
}

impl TraceStore for AnyStore {
    async fn record_attempt(&self, attempt: JobAttempt) -> Result<()> {
        delegate!(self, s => s.record_attempt(attempt))
    }
    async fn trace(&self, correlation_id: &str) -> Result<Trace> {
        delegate!(self, s => s.trace(correlation_id))
    }
    async fn purge_attempts(&self, before: Timestamp) -> Result<u64> {
        delegate!(self, s => s.purge_attempts(before))
    }
    async fn flow_times(
        &self,
        kind: JobKind,
        since: Timestamp,
        from_order: bool,
    ) -> Result<Vec<i64>> {
        delegate!(self, s => s.flow_times(kind, since, from_order))
    }
    async fn late_jobs(
        &self,
        kind: JobKind,
        since: Timestamp,
        late_before: Timestamp,
        from_order: bool,
    ) -> Result<i64> {
        delegate!(self, s => s.late_jobs(kind, since, late_before, from_order))
    }
}
