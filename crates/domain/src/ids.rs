//! Checked names: SKUs, location and channel codes.
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

#[cfg(test)]
mod tests {
    use super::*;

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
