//! Reservations as one use case: a hold asked for by reference (a SKU, a quantity, a channel,
//! the caller's order reference), read against the estate, placed through the one committer
//! and released again. `POST` and `DELETE /v1/reservations` call it, and so will every
//! storefront connector that holds stock for a cart.

use crossdock_domain::ledger::{Command, Outcome, Reservation, ReserveRequest};
use crossdock_domain::wire::check_ref;
use crossdock_domain::{ChannelCode, ErrorCode, LocationCode, Qty, ReservationId, Sku};

use crate::inventory::now;
use crate::{EngineError, Inventory};

/// Places and releases reservations. Cheap to clone.
#[derive(Clone)]
pub struct Reservations {
    inventory: Inventory,
}

/// A hold asked for, as the caller wrote it.
#[derive(Debug, Clone)]
pub struct Hold {
    /// The SKU.
    pub sku: String,
    /// Units, at least one.
    pub qty: i64,
    /// The channel's code.
    pub channel: String,
    /// The caller's reference (a cart, an order).
    pub order_ref: String,
    /// A location to take it from, instead of routing.
    pub location: Option<String>,
    /// The region it ships to, for routing.
    pub ship_region: Option<String>,
    /// Seconds until it lapses: none for the default, zero for never.
    pub ttl_seconds: Option<u64>,
}

/// Why no stock was held. Nothing was stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReserveError {
    /// A field does not read (`VALIDATION_FAILED`).
    #[error("{0}")]
    Invalid(String),
    /// Fewer units than asked for are available to the channel.
    #[error("{requested} units of {sku} requested for {channel}, {available} available")]
    Insufficient {
        /// The SKU.
        sku: String,
        /// The channel.
        channel: String,
        /// Units asked for.
        requested: i64,
        /// Units the channel could have had.
        available: i64,
    },
    /// Refused with a code: an unknown location, an item not sold on the channel.
    #[error("{detail}")]
    Refused {
        /// Why, as a stable code.
        code: ErrorCode,
        /// Why, for a person.
        detail: String,
    },
    /// The inventory service could not take it (an unknown channel or SKU among them).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The ledger answered something a reservation never asks for.
    #[error("unexpected outcome: {0}")]
    Unexpected(String),
}

/// Why a reservation was not released.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReleaseError {
    /// It was already released, lapsed or consumed; here as it stands.
    #[error("reservation `{}` is already {}", .0.id, .0.status.as_str())]
    Closed(Box<Reservation>),
    /// Refused with a code (an unknown reservation).
    #[error("{detail}")]
    Refused {
        /// Why, as a stable code.
        code: ErrorCode,
        /// Why, for a person.
        detail: String,
    },
    /// The inventory service could not take it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The ledger answered something a release never asks for.
    #[error("unexpected outcome: {0}")]
    Unexpected(String),
}

impl Reservations {
    /// Reservations on `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }

    /// Holds `hold.qty` units of `hold.sku` for `hold.channel`.
    pub async fn reserve(&self, hold: Hold) -> Result<Reservation, ReserveError> {
        let estate = self.inventory.estate();
        let channel = estate
            .channel(&hold.channel)
            .ok_or_else(|| EngineError::ChannelUnknown(hold.channel.clone()))?;
        let sku = Sku::parse(&hold.sku).map_err(|e| ReserveError::Invalid(format!("sku: {e}")))?;
        let qty = Qty::new(hold.qty).map_err(|e| ReserveError::Invalid(format!("qty {e}")))?;
        check_ref("order_ref", &hold.order_ref).map_err(ReserveError::Invalid)?;
        let location = match &hold.location {
            None => None,
            Some(l) => Some(
                LocationCode::parse(l)
                    .ok()
                    .filter(|c| estate.location(c.as_str()).is_some())
                    .ok_or_else(|| ReserveError::Refused {
                        code: ErrorCode::WarehouseUnknown,
                        detail: format!("location `{l}` is not configured"),
                    })?,
            ),
        };
        let request = ReserveRequest {
            id: Inventory::new_reservation_id(),
            sku,
            qty: qty.get(),
            channel: ChannelCode::clone(&channel.code),
            order_ref: hold.order_ref,
            location,
            ship_region: hold.ship_region,
            expires_at: self.inventory.expiry(now(), hold.ttl_seconds),
        };
        match self.inventory.submit_one(Command::Reserve(request)).await? {
            Outcome::Reserved(r) => Ok(r),
            Outcome::Insufficient { available } => Err(ReserveError::Insufficient {
                sku: hold.sku,
                channel: hold.channel,
                requested: hold.qty,
                available,
            }),
            Outcome::Rejected { code, detail } => Err(ReserveError::Refused { code, detail }),
            other => Err(ReserveError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Gives the units of reservation `id` back to the channel.
    pub async fn release(&self, id: &str) -> Result<Reservation, ReleaseError> {
        // A text that is not a reservation id names no reservation.
        let Ok(id) = ReservationId::parse(id) else {
            return Err(ReleaseError::Refused {
                code: ErrorCode::ReservationNotFound,
                detail: format!("no reservation `{id}`"),
            });
        };
        let command = Command::Release { id, expired: false };
        match self.inventory.submit_one(command).await? {
            Outcome::Released(r) => Ok(r),
            Outcome::AlreadyClosed(r) => Err(ReleaseError::Closed(Box::new(r))),
            Outcome::Rejected { code, detail } => Err(ReleaseError::Refused { code, detail }),
            other => Err(ReleaseError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Reservation `id` as the store has it.
    pub async fn get(&self, id: &str) -> Result<Option<Reservation>, EngineError> {
        self.inventory.reservation(id).await
    }
}
