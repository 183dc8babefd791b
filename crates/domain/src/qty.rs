//! Bounded quantities: every count of units that crosses the edge is one of these.
//!
//! The bound ([`MAX_QTY`]) is far below `i64::MAX`, so no sum of a few of them can wrap, and a
//! value is checked once, when it is parsed, with comparisons that cannot overflow. The ledger
//! still adds them with saturating arithmetic as a second net.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most units one event, reservation or order line may carry.
pub const MAX_QTY: i64 = 1_000_000_000;

/// Why a quantity was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be {what} from {min} to {max}, got {got}")]
pub struct QtyError {
    what: &'static str,
    min: i64,
    max: i64,
    got: i64,
}

macro_rules! bounded {
    ($(#[$doc:meta])* $name:ident, $what:literal, $min:expr, not_zero: $not_zero:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Checks `n` and wraps it.
            pub const fn new(n: i64) -> Result<Self, QtyError> {
                if $min <= n && n <= MAX_QTY && !($not_zero && n == 0) {
                    Ok(Self(n))
                } else {
                    Err(QtyError { what: $what, min: $min, max: MAX_QTY, got: n })
                }
            }

            /// A value known to be in bounds (a constant, a test). Panics otherwise.
            #[track_caller]
            pub const fn of(n: i64) -> Self {
                match Self::new(n) {
                    Ok(q) => q,
                    Err(_) => panic!("quantity out of bounds"),
                }
            }

            /// The number of units.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = QtyError;
            fn try_from(n: i64) -> Result<Self, QtyError> {
                Self::new(n)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(i64::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

bounded!(
    /// A positive count of units, 1 to [`MAX_QTY`]: what a delta moves or an order holds.
    Qty,
    "a whole number",
    1,
    not_zero: true
);

bounded!(
    /// A level a snapshot sets a bucket to, 0 to [`MAX_QTY`].
    Level,
    "a whole number",
    0,
    not_zero: false
);

bounded!(
    /// A signed correction, -[`MAX_QTY`] to [`MAX_QTY`] and not 0.
    Delta,
    "a non-zero whole number",
    -MAX_QTY,
    not_zero: true
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_hold_at_their_edges_and_at_the_limits_of_i64() {
        for n in [
            i64::MIN,
            i64::MIN + 1,
            -MAX_QTY - 1,
            0,
            MAX_QTY + 1,
            i64::MAX,
        ] {
            assert!(Qty::new(n).is_err(), "Qty {n}");
            assert!(Delta::new(n).is_err(), "Delta {n}");
        }
        for n in [1, MAX_QTY] {
            assert_eq!(Qty::new(n).unwrap().get(), n);
            assert_eq!(Delta::new(-n).unwrap().get(), -n);
        }
        assert!(Level::new(0).is_ok() && Level::new(-1).is_err());
        assert!(Level::new(MAX_QTY).is_ok() && Level::new(MAX_QTY + 1).is_err());
    }

    #[test]
    fn an_out_of_bounds_value_is_refused_while_deserializing() {
        let err = serde_json::from_str::<Delta>("-9223372036854775808").unwrap_err();
        assert!(
            err.to_string().contains("-1000000000 to 1000000000"),
            "{err}"
        );
        assert_eq!(serde_json::from_str::<Qty>("7").unwrap(), Qty::of(7));
    }
}
