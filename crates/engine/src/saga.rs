//! Running the order-to-cash saga's steps (the table is in `crossdock_domain::saga`). Each
//! step is a job; each ends by moving the order (or keeping its state) and queueing the next
//! step, in one transaction, so a crash between steps loses nothing and repeats nothing.
//!
//! Connectors call outside systems and then [`complete`] or [`hold`] the step. Steps whose
//! system is not configured and that may pass unchecked (fraud, tax), and the steps crossdock
//! runs itself (`allocate`), are run by [`InternalSteps`].

use crossdock_domain::ledger::{AdvanceOrder, Command, FailedJob, NewJob, Outcome};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::saga::{Facts, Step, go_on_after, step};
use crossdock_domain::{JobKind, OrderId};
use crossdock_store::{Exception, Job, StoredOrder};

use crate::Inventory;
use crate::runner::{Handler, JobResult};

pub use crossdock_domain::saga::INTERNAL;

/// A step's job with what it concerns.
pub struct StepJob {
    /// The step.
    pub step: Step,
    /// The order, as stored now.
    pub order: StoredOrder,
    /// An operator approved the order past this check (resolving its hold).
    pub approved: bool,
}

/// What a step's job concerns, or how the job ends without running: it names no step or
/// order (an exception), or the order has moved on (held, cancelled, or the step already
/// ran: done, nothing to do).
pub async fn load(inventory: &Inventory, job: &Job) -> Result<StepJob, JobResult> {
    let Some(step) = step(job.kind) else {
        return Err(mapping(format!("no saga step named `{}`", job.kind)));
    };
    let order = load_order(inventory, job).await?;
    if order.state != step.from {
        tracing::debug!(
            job = %job.id,
            state = order.state.as_str(),
            "saga step no longer applies"
        );
        return Err(JobResult::Done);
    }
    let approved = job
        .payload
        .as_ref()
        .is_some_and(|p| p["approved"] == serde_json::Value::Bool(true));
    Ok(StepJob {
        step,
        order,
        approved,
    })
}

/// The order a job belongs to.
pub async fn load_order(inventory: &Inventory, job: &Job) -> Result<StoredOrder, JobResult> {
    let Some(order_id) = &job.order_id else {
        return Err(mapping(format!("{} job without an order", job.kind)));
    };
    match inventory.order(order_id).await {
        Ok(Some(o)) => Ok(o),
        Ok(None) => Err(mapping(format!("order {order_id} does not exist"))),
        Err(e) => Err(JobResult::Transient {
            error: e.to_string(),
            retry_after: None,
        }),
    }
}

fn mapping(error: String) -> JobResult {
    JobResult::Permanent {
        code: crossdock_domain::ErrorCode::MappingFailed,
        error,
    }
}

/// The ERP's sales order for an order, as the ERP answered a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpOrder {
    /// The ERP's id.
    pub id: String,
    /// The ERP's own status, when it said.
    pub status: Option<String>,
}

/// Ends a step: moves the order to the step's next state (recording the ERP's sales order
/// when the step learnt of it) and queues the next step. If the order was cancelled while the step
/// changed an outside system, queues the compensation instead.
pub async fn complete(
    inventory: &Inventory,
    job: &Job,
    s: &StepJob,
    erp: Option<ErpOrder>,
) -> JobResult {
    let (erp_order_id, erp_status) = erp.map_or((None, None), |e| (Some(e.id), e.status));
    let step = |from, to, actor: JobKind| AdvanceOrder {
        order_id: s.order.id.clone(),
        from,
        to,
        actor: actor.to_string(),
        correlation_id: job.id.to_string(),
        erp_order_id: None,
        erp_status: None,
        jobs: vec![],
        fail_job: None,
    };
    let mut moves = vec![AdvanceOrder {
        erp_order_id,
        erp_status,
        ..step(s.step.from, s.step.to, job.kind)
    }];
    // The steps after it that call no outside system pass in the same transaction.
    let facts = Facts::of(&s.order.order);
    let (passed, next) = go_on_after(s.step.kind, facts, inventory.estate());
    for p in passed.iter().filter(|p| p.from != p.to) {
        moves.push(step(p.from, p.to, p.kind));
    }
    if let Some(last) = moves.last_mut() {
        last.jobs.extend(next);
    }
    match submit_all(inventory, moves).await {
        Ok((true, _)) => JobResult::Done,
        Ok((false, state)) if state == s.step.to => JobResult::Done,
        Ok((false, OrderState::Cancelled)) => compensate(inventory, job, &s.order.id).await,
        Ok((false, state)) => {
            tracing::debug!(job = %job.id, state = state.as_str(), "order moved on");
            JobResult::Done
        }
        Err(result) => result,
    }
}

/// The job that undoes what `kind` did outside, for an order cancelled while it ran.
fn compensation(kind: JobKind) -> Option<NewJob> {
    match kind {
        JobKind::PostSalesOrder => Some(NewJob::new(JobKind::CancelSalesOrder)),
        JobKind::ReleaseToWms => Some(NewJob::new(JobKind::CancelRelease)),
        _ => None,
    }
}

async fn compensate(inventory: &Inventory, job: &Job, order_id: &OrderId) -> JobResult {
    let Some(undo) = compensation(job.kind) else {
        return JobResult::Done;
    };
    let advance = AdvanceOrder {
        order_id: order_id.clone(),
        from: OrderState::Cancelled,
        to: OrderState::Cancelled,
        actor: job.kind.to_string(),
        correlation_id: job.id.to_string(),
        erp_order_id: None,
        erp_status: None,
        jobs: vec![undo],
        fail_job: None,
    };
    match submit(inventory, advance).await {
        Ok(_) => JobResult::Done,
        Err(result) => result,
    }
}

/// Why a step holds its order for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The exception's code, e.g. `FRAUD_SUSPECTED`.
    pub code: crossdock_domain::ErrorCode,
    /// Why, for operators.
    pub error: String,
    /// The ERP's sales order, when the ERP already has it (so a cancel undoes it).
    pub erp: Option<ErpOrder>,
}

/// Puts the order on hold for a person (fraud score, credit hold, an ERP status): the job
/// ends as failed and its exception opens, in the same transaction as the move.
pub async fn hold(inventory: &Inventory, job: &Job, s: &StepJob, hold: Hold) -> JobResult {
    let Hold { code, error, erp } = hold;
    let (erp_order_id, erp_status) = erp.map_or((None, None), |e| (Some(e.id), e.status));
    let advance = AdvanceOrder {
        order_id: s.order.id.clone(),
        from: s.step.from,
        to: OrderState::OnHold,
        actor: job.kind.to_string(),
        correlation_id: job.id.to_string(),
        erp_order_id,
        erp_status,
        jobs: vec![],
        fail_job: Some(FailedJob {
            job_id: job.id.clone(),
            code,
            error,
        }),
    };
    let (order, step) = (s.order.id.clone(), job.kind.as_str());
    match submit(inventory, advance).await {
        Ok((true, _)) => {
            tracing::info!(
                order = %order,
                step,
                code = code.as_str(),
                "order held: opened its exception for a person"
            );
            JobResult::Held
        }
        Ok(_) => JobResult::Done,
        Err(result) => result,
    }
}

/// Submits a move; `(moved, state now)`, or how the job should end.
pub async fn submit(
    inventory: &Inventory,
    advance: AdvanceOrder,
) -> Result<(bool, OrderState), JobResult> {
    submit_all(inventory, vec![advance]).await
}

/// Submits moves that follow one another, in one transaction; `(moved, state now)` of the
/// first (the later ones move only if it did), or how the job should end.
async fn submit_all(
    inventory: &Inventory,
    moves: Vec<AdvanceOrder>,
) -> Result<(bool, OrderState), JobResult> {
    let commands = moves
        .into_iter()
        .map(|m| Command::AdvanceOrder(Box::new(m)))
        .collect();
    let first = inventory
        .submit(commands)
        .await
        .map(|o| o.into_iter().next());
    match first {
        Ok(Some(Outcome::OrderMoved { moved, state })) => Ok((moved, state)),
        Ok(other) => Err(mapping(format!("could not move the order: {other:?}"))),
        Err(e) => Err(JobResult::Transient {
            error: e.to_string(),
            retry_after: None,
        }),
    }
}

/// If `exception`'s job put its order on hold, moves the order back to the state it was
/// held from (before the job is run again). Returns whether it did.
pub async fn release_hold(
    inventory: &Inventory,
    exception: &Exception,
) -> Result<bool, crate::EngineError> {
    let Some(order_id) = &exception.order_id else {
        return Ok(false);
    };
    let Some(order) = inventory.order(order_id).await? else {
        return Ok(false);
    };
    let held_by_job = order
        .history
        .iter()
        .rev()
        .find(|t| t.to == OrderState::OnHold);
    let Some(from) = held_by_job
        .filter(|t| {
            order.state == OrderState::OnHold && t.correlation_id == exception.job_id.as_str()
        })
        .and_then(|t| t.from)
    else {
        return Ok(false);
    };
    let advance = AdvanceOrder {
        order_id: order_id.clone(),
        from: OrderState::OnHold,
        to: from,
        actor: "operator".into(),
        correlation_id: exception.id.to_string(),
        erp_order_id: None,
        erp_status: None,
        jobs: vec![],
        fail_job: None,
    };
    let outcome = inventory
        .submit_one(Command::AdvanceOrder(Box::new(advance)))
        .await?;
    Ok(matches!(outcome, Outcome::OrderMoved { moved: true, .. }))
}

/// Runs steps with no outside call: `allocate`, and the checks of optional systems that are
/// not configured (fraud screening, tax commit), which pass.
pub struct InternalSteps {
    inventory: Inventory,
}

impl InternalSteps {
    /// Steps run against `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }
}

impl Handler for InternalSteps {
    async fn run(&self, job: &Job) -> JobResult {
        match load(&self.inventory, job).await {
            Ok(s) => complete(&self.inventory, job, &s, None).await,
            Err(result) => result,
        }
    }
}
