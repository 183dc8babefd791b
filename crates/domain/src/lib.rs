//! crossdock's domain: the canonical inventory model and its rules, with no IO, no async and
//! no clock. Time is passed in.
//!
//! - [`stock`]: buckets at one location and how stock events move them.
//! - [`ats`]: sellable units and what each channel may promise.
//! - [`routing`]: which locations fill a reservation.
//! - [`ledger`]: applying a batch of stock events and reservations.
//! - [`saga`]: the order-to-cash steps and their order.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ats;
pub mod binding;
pub mod error;
pub mod estate;
pub mod event_types;
pub mod ids;
pub mod inbound;
pub mod job;
pub mod ledger;
pub mod money;
pub mod order;
pub mod order_state;
pub mod privacy;
pub mod qty;
pub mod remediation;
pub mod routing;
pub mod saga;
pub mod scope;
pub mod sku;
pub mod stock;
pub mod stock_events;
pub mod time;
pub mod wire;

pub use binding::{Binding, BindingKind};
pub use error::ErrorCode;
pub use estate::{Allocation, Channel, ChannelOrders, Estate, Location, LocationKind, SafetyStock};
pub use ids::{ChannelCode, ExceptionId, JobId, LocationCode, OrderId, ReservationId, Sku};
pub use job::{ExceptionStatus, JobKind, JobOutcome, JobState};
pub use qty::{Delta, Level, MAX_QTY, Qty};
pub use scope::Scope;
pub use sku::{ExpectedReceipt, SkuState};
pub use time::Timestamp;
