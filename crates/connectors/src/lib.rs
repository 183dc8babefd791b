//! crossdock's adapters to outside systems. Each implements the engine's job
//! [`Handler`](crossdock_engine::runner::Handler) for the jobs of its system.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod connector;
pub mod hooks;
pub mod mapping;
pub mod oauth1;
pub mod packs;
pub mod remote;
pub mod signatures;
pub mod subscriptions;
pub mod tls;
pub mod workers;

pub use connector::Connector;
pub use tls::ClientError;

/// Why a connector could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Its HTTP client or credentials.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// One of its mappings.
    #[error("connector {connector} mapping {operation}: {error}")]
    Mapping {
        /// The connector.
        connector: String,
        /// The operation the mapping is for.
        operation: String,
        /// What is wrong with it.
        error: mapping::MappingError,
    },
}
