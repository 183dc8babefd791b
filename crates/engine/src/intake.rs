//! Order intake, one use case for every way an order arrives (the API's `POST /v1/orders`
//! now, a storefront's webhook next): the body read against the estate, the in-request
//! credit check for channels that ask for it, and the order placed exactly once (by its
//! natural key and by its idempotency key). And cancelling an order.

use std::sync::Arc;

use crossdock_domain::ledger::{CancelOrder, Command, JsonText, Outcome, PlaceOrder};
use crossdock_domain::order::{FieldError, parse_order};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::{ErrorCode, OrderId};
use serde_json::Value;

use crate::credit::Credit;
use crate::inventory::sha256_hex;
use crate::{EngineError, Inventory};

/// Takes orders in and cancels them. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    inventory: Inventory,
    credit: Credit,
}

/// An order taken in.
#[derive(Debug, Clone)]
pub struct Taken {
    /// The order's id.
    pub order_id: OrderId,
    /// The intake answer, as first given.
    pub answer: JsonText,
    /// True when this was an earlier intake answered again.
    pub replayed: bool,
    /// What intake decided (accepted, backordered, rejected); none for a replay.
    pub decided: Option<OrderState>,
}

/// Why an order was not taken in. Nothing was stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IntakeError {
    /// Fields failed validation, each with its code.
    #[error("{} field(s) failed validation", .0.len())]
    Invalid(Vec<FieldError>),
    /// The key was used for another order with a different body.
    #[error("this {key} was used for order {order_id} with a different body")]
    KeyReused {
        /// Which key: `idempotency_key` or `external_id`.
        key: &'static str,
        /// The order the key belongs to.
        order_id: OrderId,
    },
    /// The account is on credit hold (checked in the request, on a `sync` channel).
    #[error("{0}")]
    CreditHold(String),
    /// The inventory service could not take it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The ledger answered something intake never asks for.
    #[error("unexpected outcome: {0}")]
    Unexpected(String),
}

/// Why an order was not cancelled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CancelError {
    /// The order cannot be cancelled (unknown, or past the point of no return).
    #[error("{detail}")]
    Refused {
        /// `ORDER_NOT_FOUND` or `ORDER_NOT_CANCELLABLE`.
        code: ErrorCode,
        /// Why.
        detail: String,
    },
    /// The inventory service could not take it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The ledger answered something a cancel never asks for.
    #[error("unexpected outcome: {0}")]
    Unexpected(String),
}

/// Hash of an order body, independent of key order and whitespace, to tell a replay from a
/// key reused for another order.
pub fn request_hash(body: &Value) -> String {
    // serde_json's maps are sorted, so equal documents print the same.
    sha256_hex(body.to_string().as_bytes(), 32)
}

impl Intake {
    /// Intake on `inventory`, checking credit through `credit`.
    pub fn new(inventory: Inventory, credit: Credit) -> Self {
        Self { inventory, credit }
    }

    /// Takes in the order `body` (the canonical order's JSON), once.
    pub async fn place(
        &self,
        body: &Value,
        idempotency_key: Option<String>,
        correlation_id: String,
    ) -> Result<Taken, IntakeError> {
        let order = parse_order(body, self.inventory.estate()).map_err(IntakeError::Invalid)?;
        let credit_hold = self.credit.intake_hold(&order).await?;
        let place = PlaceOrder {
            id: Inventory::new_order_id(),
            order,
            request_hash: request_hash(body),
            idempotency_key,
            correlation_id,
            credit_hold,
        };
        let outcome = self
            .inventory
            .submit_one(Command::PlaceOrder(Arc::new(place)))
            .await?;
        match outcome {
            Outcome::OrderPlaced(placed) => Ok(Taken {
                order_id: placed.id().clone(),
                answer: placed.response.clone(),
                replayed: false,
                decided: placed.history.first().map(|(state, _)| *state),
            }),
            Outcome::Replayed(prior) => Ok(Taken {
                order_id: prior.order_id,
                answer: prior.response,
                replayed: true,
                decided: None,
            }),
            Outcome::KeyReused { key, order_id } => Err(IntakeError::KeyReused { key, order_id }),
            Outcome::Invalid(errors) => Err(IntakeError::Invalid(errors)),
            Outcome::Rejected {
                code: ErrorCode::CustomerOnCreditHold,
                detail,
            } => Err(IntakeError::CreditHold(detail)),
            other => Err(IntakeError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Cancels `order_id`: releases its reservations and queues the compensations that
    /// apply. `actor` is recorded in the order's history.
    pub async fn cancel(
        &self,
        order_id: &str,
        actor: String,
        correlation_id: String,
    ) -> Result<(), CancelError> {
        self.cancel_from(order_id, None, actor, correlation_id)
            .await
    }

    /// [`Intake::cancel`] of a cancellation that came from `system` (e.g. the storefront's
    /// own): every compensation but that system's, which knows.
    pub async fn cancel_from(
        &self,
        order_id: &str,
        system: Option<&'static str>,
        actor: String,
        correlation_id: String,
    ) -> Result<(), CancelError> {
        // A text that is not an order id names no order.
        let Ok(order_id) = OrderId::parse(order_id) else {
            return Err(CancelError::Refused {
                code: ErrorCode::OrderNotFound,
                detail: format!("no order `{order_id}`"),
            });
        };
        let command = Command::CancelOrder(Box::new(CancelOrder {
            order_id,
            actor,
            from_system: system,
            correlation_id,
        }));
        match self.inventory.submit_one(command).await? {
            Outcome::OrderMoved { .. } => Ok(()),
            Outcome::Rejected { code, detail } => Err(CancelError::Refused { code, detail }),
            other => Err(CancelError::Unexpected(format!("{other:?}"))),
        }
    }
}
