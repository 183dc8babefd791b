//! The order-to-cash saga's steps: which system runs each, the state it expects and the one
//! it leaves, and which step follows. Steps that do not apply to an order are skipped when
//! the next job is queued (no credit check without an account, no tax commit without tax),
//! so no system is called, or rate-limited, for nothing.
//!
//! accepted → `screen_fraud` → `check_credit` → `commit_tax` → `allocate` (allocated) →
//! `post_sales_order` (erp_posted) → `release_to_wms` (released). Shipments and invoices
//! come in from outside and queue the jobs that follow them.
//!
//! Steps that call no outside system (`allocate`, and the checks of optional systems that
//! are not configured, which crossdock passes itself: see [`Estate::in_house`]) are not
//! queued as jobs of their own: they run inside the transaction that makes them due (intake,
//! or the end of the step before), and only the first step that calls out is queued.

use crate::estate::Estate;
use crate::job::{JobKind, NewJob};
use crate::order::CanonicalOrder;
use crate::order_state::OrderState;

/// One step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The job kind (which names the system that runs it).
    pub kind: JobKind,
    /// The state the order must be in.
    pub from: OrderState,
    /// The state it leaves the order in.
    pub to: OrderState,
}

/// The system name of steps crossdock runs itself.
pub const INTERNAL: &str = JobKind::Allocate.system();

/// Every step, in order.
pub const STEPS: [Step; 6] = [
    Step {
        kind: JobKind::ScreenFraud,
        from: OrderState::Accepted,
        to: OrderState::Accepted,
    },
    Step {
        kind: JobKind::CheckCredit,
        from: OrderState::Accepted,
        to: OrderState::Accepted,
    },
    Step {
        kind: JobKind::CommitTax,
        from: OrderState::Accepted,
        to: OrderState::Accepted,
    },
    Step {
        kind: JobKind::Allocate,
        from: OrderState::Accepted,
        to: OrderState::Allocated,
    },
    Step {
        kind: JobKind::PostSalesOrder,
        from: OrderState::Allocated,
        to: OrderState::ErpPosted,
    },
    Step {
        kind: JobKind::ReleaseToWms,
        from: OrderState::ErpPosted,
        to: OrderState::Released,
    },
];

/// The step of jobs of `kind`.
pub fn step(kind: JobKind) -> Option<Step> {
    STEPS.iter().copied().find(|s| s.kind == kind)
}

/// The job every accepted order starts with.
pub fn first_step() -> NewJob {
    NewJob::new(STEPS[0].kind)
}

/// What decides which steps apply to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The customer buys on account (its credit is checked).
    pub account: bool,
    /// The channel priced tax (it is committed).
    pub tax: bool,
}

impl Facts {
    /// The facts of an order as taken in.
    pub fn of(order: &CanonicalOrder) -> Self {
        Self {
            account: order.customer.account.is_some(),
            tax: order.tax.is_some(),
        }
    }

    /// Whether `step` has anything to do for the order.
    pub fn apply(self, step: &Step) -> bool {
        match step.kind {
            JobKind::CheckCredit => self.account,
            JobKind::CommitTax => self.tax,
            _ => true,
        }
    }
}

/// The job to queue once `kind` is done for an order with these facts; `None` after the
/// last step.
pub fn next_job(kind: JobKind, facts: Facts) -> Option<NewJob> {
    let at = STEPS.iter().position(|s| s.kind == kind)?;
    STEPS[at + 1..]
        .iter()
        .find(|s| facts.apply(s))
        .map(|s| NewJob::new(s.kind))
}

/// How an order goes on from the step at `next` in [`STEPS`]: the steps that apply and run
/// in-house, passed at once (in order), then the job of the first step that calls an outside
/// system; `None` when none is left.
pub fn go_on(next: usize, facts: Facts, estate: &Estate) -> (Vec<Step>, Option<NewJob>) {
    let mut passed = Vec::new();
    for s in STEPS.iter().skip(next).filter(|s| facts.apply(s)) {
        if !estate.in_house(s.kind.system()) {
            return (passed, Some(NewJob::new(s.kind)));
        }
        passed.push(*s);
    }
    (passed, None)
}

/// How an order goes on once step `kind` is done (see [`go_on`]).
pub fn go_on_after(kind: JobKind, facts: Facts, estate: &Estate) -> (Vec<Step>, Option<NewJob>) {
    match STEPS.iter().position(|s| s.kind == kind) {
        Some(at) => go_on(at + 1, facts, estate),
        None => (Vec::new(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_chain_through_the_states_in_order() {
        for w in STEPS.windows(2) {
            assert_eq!(w[0].to, w[1].from, "{} then {}", w[0].kind, w[1].kind);
        }
        for s in STEPS {
            assert!(s.from == s.to || s.from.can_move_to(s.to), "{}", s.kind);
        }
    }

    #[test]
    fn steps_that_do_not_apply_are_skipped() {
        let web = Facts {
            account: false,
            tax: false,
        };
        let b2b = Facts {
            account: true,
            tax: true,
        };
        let kinds = |facts: Facts| {
            let mut out = vec![first_step().kind];
            while let Some(j) = next_job(*out.last().unwrap(), facts) {
                out.push(j.kind);
            }
            out.iter().map(|k| k.as_str()).collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(web),
            [
                "screen_fraud",
                "allocate",
                "post_sales_order",
                "release_to_wms"
            ]
        );
        assert_eq!(kinds(b2b).len(), STEPS.len());
        assert_eq!(next_job(JobKind::ReleaseToWms, b2b), None);
    }

    #[test]
    fn in_house_steps_pass_at_once_up_to_the_first_outside_call() {
        let web = Facts {
            account: false,
            tax: false,
        };
        let kinds = |steps: Vec<Step>| steps.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>();
        // Fraud configured: only the screening is queued.
        let estate = crate::estate::fixtures::example();
        let (passed, job) = go_on(0, web, &estate);
        assert_eq!((kinds(passed), job), (vec![], Some(first_step())));
        let (passed, job) = go_on_after(JobKind::ScreenFraud, web, &estate);
        assert_eq!(
            (kinds(passed), job),
            (vec!["allocate"], Some(NewJob::new(JobKind::PostSalesOrder)))
        );
        // Fraud and tax stood in for: intake goes straight to allocated; a credit check
        // still calls the ERP.
        let estate = estate.with_in_house(["fraud".to_string(), "tax".to_string()]);
        let (passed, job) = go_on(0, web, &estate);
        assert_eq!(
            (kinds(passed), job),
            (
                vec!["screen_fraud", "allocate"],
                Some(NewJob::new(JobKind::PostSalesOrder))
            )
        );
        let b2b = Facts {
            account: true,
            tax: true,
        };
        let (passed, job) = go_on(0, b2b, &estate);
        assert_eq!(
            (kinds(passed), job),
            (
                vec!["screen_fraud"],
                Some(NewJob::new(JobKind::CheckCredit))
            )
        );
        assert_eq!(
            go_on_after(JobKind::ReleaseToWms, b2b, &estate),
            (vec![], None)
        );
    }
}
