//! crossdock's use cases: configuration, the inventory service (group commit, the
//! in-memory availability projection, reservation expiry), the item master, order intake,
//! reservations, stock events, fulfilment (shipments, invoices, returns), credit, the saga's
//! steps, exceptions and shutdown.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backorders;
pub mod bindings;
pub mod config;
pub mod credit;
pub mod erp_router;
pub mod erp_status;
pub mod exceptions;
pub mod fulfilment;
pub mod intake;
pub mod inventory;
pub mod invoices;
pub mod items;
pub mod owners;
pub mod parcels;
pub mod prices;
pub mod projection;
pub mod reservations;
pub mod runner;
pub mod saga;
pub mod shutdown;
pub mod slas;
pub mod stock_events;

pub use config::Config;
pub use inventory::{EngineError, Inventory, now};
pub use shutdown::Shutdown;
