//! The order-to-cash saga's steps: which system runs each, the state it expects and the one
//! it leaves, and which step follows. Steps that do not apply to an order are skipped when
//! the next job is queued (no credit check without an account, no tax commit without tax),
//! so no system is called, or rate-limited, for nothing.
//!
//! accepted → `screen_fraud` → `check_credit` → `commit_tax` → `allocate` (allocated) →
//! `post_sales_order` (erp_posted) → `release_to_wms` (released). Shipments and invoices
//! come in from outside and queue the jobs that follow them.

use serde_json::Value;

use crate::ledger::NewJob;
use crate::order_state::OrderState;

/// One step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The job kind.
    pub kind: &'static str,
    /// The system that runs it.
    pub system: &'static str,
    /// The state the order must be in.
    pub from: OrderState,
    /// The state it leaves the order in.
    pub to: OrderState,
}

/// The system name of steps crossdock runs itself.
pub const INTERNAL: &str = "saga";

/// Every step, in order.
pub const STEPS: [Step; 6] = [
    Step {
        kind: "screen_fraud",
        system: "fraud",
        from: OrderState::Accepted,
        to: OrderState::Accepted,
    },
    Step {
        kind: "check_credit",
        system: "erp",
        from: OrderState::Accepted,
        to: OrderState::Accepted,
    },
    Step {
        kind: "commit_tax",
        system: "tax",
        from: OrderState::Accepted,
        to: OrderState::Accepted,
    },
    Step {
        kind: "allocate",
        system: INTERNAL,
        from: OrderState::Accepted,
        to: OrderState::Allocated,
    },
    Step {
        kind: "post_sales_order",
        system: "erp",
        from: OrderState::Allocated,
        to: OrderState::ErpPosted,
    },
    Step {
        kind: "release_to_wms",
        system: "wms",
        from: OrderState::ErpPosted,
        to: OrderState::Released,
    },
];

/// The step named `kind`.
pub fn step(kind: &str) -> Option<Step> {
    STEPS.iter().copied().find(|s| s.kind == kind)
}

/// The job every accepted order starts with.
pub fn first_step() -> NewJob {
    NewJob::new(STEPS[0].kind, STEPS[0].system)
}

/// Whether `step` has anything to do for `order` (the stored canonical order).
pub fn applies(step: &Step, order: &Value) -> bool {
    let present = |field: &str, inner: Option<&str>| {
        let v = &order[field];
        match inner {
            Some(f) => !v[f].is_null(),
            None => !v.is_null(),
        }
    };
    match step.kind {
        "check_credit" => present("customer", Some("account")),
        "commit_tax" => present("tax", None),
        _ => true,
    }
}

/// The job to queue once `kind` is done for `order`; `None` after the last step.
pub fn next_job(kind: &str, order: &Value) -> Option<NewJob> {
    let at = STEPS.iter().position(|s| s.kind == kind)?;
    STEPS[at + 1..]
        .iter()
        .find(|s| applies(s, order))
        .map(|s| NewJob::new(s.kind, s.system))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let web = json!({"customer": {"id": "c1", "account": null}, "tax": null});
        let b2b = json!({"customer": {"id": "c1", "account": "ACME"},
                         "tax": {"amount": "1.00"}});
        let kinds = |order: &Value| {
            let mut out = vec![first_step().kind];
            while let Some(j) = next_job(out.last().unwrap(), order) {
                out.push(j.kind);
            }
            out
        };
        assert_eq!(
            kinds(&web),
            [
                "screen_fraud",
                "allocate",
                "post_sales_order",
                "release_to_wms"
            ]
        );
        assert_eq!(kinds(&b2b).len(), STEPS.len());
        assert_eq!(next_job("release_to_wms", &b2b), None);
        assert_eq!(next_job("no_such_step", &b2b), None);
    }
}
