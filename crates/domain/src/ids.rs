//! Checked names (SKUs, location and channel codes) and crossdock's own prefixed ids
//! (orders, reservations, jobs, exceptions).
//!
//! Everything that crosses the edge is parsed into one of these once, so the rest of the code
//! never sees an unchecked string.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a code or SKU was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The value was empty.
    #[error("must not be empty")]
    Empty,
    /// The value was longer than the limit.
    #[error("must be at most {max} characters, got {len}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length seen.
        len: usize,
    },
    /// The value held a character that is not allowed.
    #[error("must not contain {0:?}; use letters, digits and . _ - / : #")]
    BadChar(char),
}

fn check_name(value: &str, max: usize) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::Empty);
    }
    let len = value.chars().count();
    if len > max {
        return Err(NameError::TooLong { max, len });
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '#')))
    {
        return Err(NameError::BadChar(c));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Longest value accepted.
            pub const MAX_LEN: usize = $max;

            /// Checks `value` and wraps it.
            pub fn parse(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                check_name(&value, $max)?;
                Ok(Self(value))
            }

            /// The checked text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(s).map_err(serde::de::Error::custom)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// A stock-keeping unit as the item master spells it.
    Sku,
    64
);
name_type!(
    /// A location's code: a warehouse, store, 3PL or drop-ship supplier.
    LocationCode,
    32
);
name_type!(
    /// A sales channel's code: a storefront, marketplace or B2B portal.
    ChannelCode,
    32
);

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not {what} id, which starts with `{prefix}`")]
pub struct IdError {
    /// What was read (at most 64 characters of it).
    pub value: String,
    /// The kind of id expected.
    pub what: &'static str,
    /// Its prefix.
    pub prefix: &'static str,
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// The id made of the prefix and `unique` (a lower-case ULID when crossdock mints
            /// one).
            pub fn with_unique(unique: &str) -> Self {
                Self(format!("{}{unique}", $prefix))
            }

            /// Checks that `value` is an id of this kind: the prefix, then at most 512
            /// characters and no control character (a job's id carries the key that tells it
            /// apart, which may be an outside system's own id).
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                let ok = value.strip_prefix($prefix).is_some_and(|rest| {
                    !rest.is_empty()
                        && rest.chars().count() <= 512
                        && !rest.chars().any(char::is_control)
                });
                if ok {
                    Ok(Self(value))
                } else {
                    Err(IdError { value: value.chars().take(64).collect(), what: $what, prefix: $prefix })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(
    /// An order: `ord_…`.
    OrderId, "ord_", "an order"
);
prefixed_id!(
    /// A reservation: `res_…`.
    ReservationId, "res_", "a reservation"
);
prefixed_id!(
    /// An outbox job: `job_…`.
    JobId, "job_", "a job"
);
prefixed_id!(
    /// An exception, the failure of one job that needs a person: `exc_…`.
    ExceptionId, "exc_", "an exception"
);

impl JobId {
    /// The id of the exception this job opens when it fails: its own, under `exc_`.
    pub fn exception_id(&self) -> ExceptionId {
        ExceptionId::with_unique(&self.0[JobId::PREFIX.len()..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_ids_are_checked_and_a_job_names_its_exception() {
        let job = JobId::parse("job_01jd_allocate").unwrap();
        assert_eq!(job.exception_id().as_str(), "exc_01jd_allocate");
        assert!(OrderId::parse("ord_01jdx").is_ok());
        for bad in ["", "ord_", "res_01jd", "ord_01\njd", "ORD_01"] {
            assert!(OrderId::parse(bad).is_err(), "{bad}");
        }
        let id: OrderId = serde_json::from_str("\"ord_abc\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"ord_abc\"");
        assert!(serde_json::from_str::<OrderId>("\"abc\"").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(Sku::parse("SKU-1").is_ok());
        assert!(Sku::parse("ACME/BOLT:M8#10").is_ok());
        assert_eq!(Sku::parse(""), Err(NameError::Empty));
        assert_eq!(Sku::parse("a b"), Err(NameError::BadChar(' ')));
        assert!(matches!(
            Sku::parse("x".repeat(65)),
            Err(NameError::TooLong { max: 64, len: 65 })
        ));
    }

    #[test]
    fn names_deserialize_through_parse() {
        let ok: ChannelCode = serde_json::from_str("\"web\"").unwrap();
        assert_eq!(ok.as_str(), "web");
        assert!(serde_json::from_str::<ChannelCode>("\"we b\"").is_err());
    }
}
