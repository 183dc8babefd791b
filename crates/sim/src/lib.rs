//! Simulated outside systems that speak HTTP like real ones and can be told to misbehave:
//! the demo, the tests and the benchmarks run against them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod erp;

pub use erp::{Faults, SimErp};
