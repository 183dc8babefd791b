//! Status changes the ERP pushes for its sales orders, after it answered the posting.
//!
//! The ERP's status maps to a canonical state through `[erp] statuses` (a canonical state's
//! own name means itself). What follows from it:
//! - `cancelled`: the order is cancelled here too, with every compensation but the ERP's own
//!   (it already cancelled its sales order);
//! - `on_hold`, for an order in the ERP but not yet released to the warehouse: the order is
//!   held here too, so its release waits (a release already queued finds it held and stops);
//! - any other state, for an order held by the ERP: the hold was lifted there. Held by such a
//!   status pushed here, the order goes back to `erp_posted` and its release is queued; held
//!   because the ERP created its sales order in such a status (`ERP_ORDER_HELD`), the
//!   exception is retried, which reads the status again and goes on;
//! - otherwise the status is recorded on the order (`erp_status`) and announced as an
//!   `order.erp_status_changed` event, and nothing else changes.
//!
//! Every status is recorded on the order, whatever follows from it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossdock_domain::inbound::ErpStatusChange;
use crossdock_domain::ledger::{AdvanceOrder, CancelOrder, Command, Outcome};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::saga::{Facts, next_job};
use crossdock_domain::{ErrorCode, ExceptionStatus, JobId, JobKind};
use crossdock_store::ExceptionAction;

use crate::{EngineError, Inventory};

/// The actor of moves the ERP's pushed statuses make.
const ERP_ACTOR: &str = "erp";

/// What a status change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErpStatusAction {
    /// The order was cancelled.
    Cancelled,
    /// The order was put on hold.
    Held,
    /// The order's `ERP_ORDER_HELD` hold was lifted and its posting retried.
    HoldReleased,
    /// Recorded on the order only.
    Recorded,
}

impl ErpStatusAction {
    /// The name in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErpStatusAction::Cancelled => "cancelled",
            ErpStatusAction::Held => "held",
            ErpStatusAction::HoldReleased => "hold_released",
            ErpStatusAction::Recorded => "recorded",
        }
    }
}

/// The answer to a status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpStatusApplied {
    /// The canonical state the ERP's status means.
    pub means: OrderState,
    /// What was done.
    pub action: ErpStatusAction,
    /// The order's state now.
    pub state: OrderState,
}

/// Why a status change was refused.
#[derive(Debug, Clone)]
pub enum ErpStatusError {
    /// Refused with a stable code and a message.
    Refused(ErrorCode, String),
    /// The store failed.
    Engine(EngineError),
}

impl From<EngineError> for ErpStatusError {
    fn from(e: EngineError) -> Self {
        ErpStatusError::Engine(e)
    }
}

/// The canonical state `status` means under `statuses`: its mapping, else the canonical
/// state of that name.
pub fn state_meant(statuses: &BTreeMap<String, OrderState>, status: &str) -> Option<OrderState> {
    statuses
        .get(status)
        .copied()
        .or_else(|| OrderState::parse(status))
}

/// The ERP status use case: the ERP's statuses and the canonical states they mean
/// (`[erp] statuses`), applied to the orders they name. Cheap to clone.
#[derive(Clone)]
pub struct ErpStatuses {
    inventory: Inventory,
    statuses: Arc<BTreeMap<String, OrderState>>,
}

impl ErpStatuses {
    /// Applies `statuses` to `inventory`'s orders.
    pub fn new(inventory: Inventory, statuses: BTreeMap<String, OrderState>) -> Self {
        Self {
            inventory,
            statuses: Arc::new(statuses),
        }
    }

    /// Applies a status the ERP pushed for one of its sales orders (see the module docs).
    pub async fn apply(&self, change: ErpStatusChange) -> Result<ErpStatusApplied, ErpStatusError> {
        let statuses = &*self.statuses;
        let Some(means) = state_meant(statuses, &change.status) else {
            let known: Vec<&str> = statuses.keys().map(String::as_str).collect();
            return Err(ErpStatusError::Refused(
                ErrorCode::MappingFailed,
                format!(
                    "ERP status `{}` is not in [erp] statuses (configured: {}) and is not a \
                     canonical state",
                    change.status,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        let Some(order) = self.inventory.order(&change.order_id).await? else {
            return Err(ErpStatusError::Refused(
                ErrorCode::OrderNotFound,
                format!("no order `{}`", change.order_id),
            ));
        };
        let state = order.state;
        // Held by a status pushed here (not by a step's exception): the actor says so.
        let held_by_push = order
            .history
            .iter()
            .rev()
            .find(|t| t.to == OrderState::OnHold)
            .is_some_and(|t| t.actor == ERP_ACTOR && t.from == Some(OrderState::ErpPosted));
        let (to, jobs, action) = match (means, state) {
            (OrderState::OnHold, OrderState::ErpPosted) => {
                (OrderState::OnHold, vec![], ErpStatusAction::Held)
            }
            (m, OrderState::OnHold) if m != OrderState::OnHold && held_by_push => (
                OrderState::ErpPosted,
                next_job(JobKind::PostSalesOrder, Facts::of(&order.order))
                    .into_iter()
                    .collect(),
                ErpStatusAction::HoldReleased,
            ),
            _ => (state, vec![], ErpStatusAction::Recorded),
        };
        let advance = AdvanceOrder {
            order_id: change.order_id.clone(),
            from: state,
            to,
            actor: ERP_ACTOR.into(),
            correlation_id: change.correlation_id.clone(),
            erp_order_id: change.erp_order_id.clone(),
            erp_status: Some(change.status.clone()),
            jobs,
            fail_job: None,
        };
        let moved = match self
            .inventory
            .submit_one(Command::AdvanceOrder(Box::new(advance)))
            .await?
        {
            Outcome::OrderMoved { moved, state } => moved.then_some(state),
            _ => None,
        };
        if means == OrderState::Cancelled {
            return self.cancel_for_erp(&change, means).await;
        }
        if action != ErpStatusAction::Recorded {
            return match moved {
                Some(state) => Ok(ErpStatusApplied {
                    means,
                    action,
                    state,
                }),
                None => Err(ErpStatusError::Refused(
                    ErrorCode::OrderStateConflict,
                    format!(
                        "order `{}` moved on meanwhile; send the status again",
                        change.order_id
                    ),
                )),
            };
        }
        if state == OrderState::OnHold && means != OrderState::OnHold {
            let exception = order
                .history
                .iter()
                .rev()
                .find(|t| t.to == OrderState::OnHold)
                .and_then(|t| JobId::parse(t.correlation_id.as_str()).ok())
                .map(|job| job.exception_id());
            if let Some(id) = exception
                && let Some(e) = self.inventory.exception(&id).await?
                && e.code == ErrorCode::ErpOrderHeld
                && e.status == ExceptionStatus::Open
            {
                self.inventory
                    .act_on_exception(&id, ExceptionAction::Retry, None)
                    .await?;
                let now = self.inventory.order(&change.order_id).await?;
                let state = now.map_or(state, |o| o.state);
                return Ok(ErpStatusApplied {
                    means,
                    action: ErpStatusAction::HoldReleased,
                    state,
                });
            }
        }
        Ok(ErpStatusApplied {
            means,
            action: ErpStatusAction::Recorded,
            state,
        })
    }

    async fn cancel_for_erp(
        &self,
        change: &ErpStatusChange,
        means: OrderState,
    ) -> Result<ErpStatusApplied, ErpStatusError> {
        let cancel = CancelOrder {
            order_id: change.order_id.clone(),
            actor: ERP_ACTOR.into(),
            from_system: Some("erp"),
            correlation_id: change.correlation_id.clone(),
        };
        match self
            .inventory
            .submit_one(Command::CancelOrder(Box::new(cancel)))
            .await?
        {
            Outcome::OrderMoved { state, .. } => Ok(ErpStatusApplied {
                means,
                action: ErpStatusAction::Cancelled,
                state,
            }),
            Outcome::Rejected { code, detail } => Err(ErpStatusError::Refused(code, detail)),
            other => Err(ErpStatusError::Engine(EngineError::StoreUnavailable(
                format!("unexpected outcome of a cancel: {other:?}"),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_status_wins_over_a_canonical_name() {
        let statuses: BTreeMap<String, OrderState> = [
            ("Pending Approval".to_string(), OrderState::OnHold),
            ("released".to_string(), OrderState::ErpPosted),
        ]
        .into();
        assert_eq!(
            state_meant(&statuses, "Pending Approval"),
            Some(OrderState::OnHold)
        );
        assert_eq!(
            state_meant(&statuses, "released"),
            Some(OrderState::ErpPosted)
        );
        assert_eq!(
            state_meant(&statuses, "cancelled"),
            Some(OrderState::Cancelled)
        );
        assert_eq!(state_meant(&statuses, "Billed"), None);
    }
}
