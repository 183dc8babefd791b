//! Money: decimal strings on the wire, exact integers inside. Never a float.

use std::fmt;

use serde::{Serialize, Serializer};

/// An exact decimal amount with up to six decimal places, kept in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// Why a decimal string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a decimal amount such as \"19.99\" (at most 12 digits before the point and 6 after)"
)]
pub struct MoneyError(pub String);

const SCALE: i64 = 1_000_000;

/// Whether `code` is written as an ISO 4217 currency code is: three capital letters (`USD`).
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Parses `"19.99"`, `"-0.5"`, `"100"`.
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        let err = || MoneyError(s.chars().take(40).collect());
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = match body.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (body, None),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || whole.len() > 12 {
            return Err(err());
        }
        let mut micros: i64 = whole.parse::<i64>().map_err(|_| err())? * SCALE;
        if let Some(f) = frac {
            if !digits(f) || f.len() > 6 {
                return Err(err());
            }
            let padded = format!("{f:0<6}");
            micros += padded.parse::<i64>().map_err(|_| err())?;
        }
        Ok(Money(if negative { -micros } else { micros }))
    }

    /// An amount of `micros` millionths.
    pub fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    /// The amount in millionths.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// `self × qty`, or `None` on overflow.
    pub fn times(self, qty: i64) -> Option<Money> {
        self.0.checked_mul(qty).map(Money)
    }

    /// `self + other`, or `None` on overflow.
    pub fn plus(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// True below zero.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Money {
    /// At least two decimal places, more only when needed: `19.99`, `0.125`, `100.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        let mut frac = format!("{:06}", abs % SCALE as u64);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{sign}{whole}.{frac}")
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!(Money::parse("19.99").unwrap().micros(), 19_990_000);
        assert_eq!(Money::parse("100").unwrap().to_string(), "100.00");
        assert_eq!(Money::parse("-0.125").unwrap().to_string(), "-0.125");
        assert_eq!(
            Money::parse("0.1").unwrap().times(3).unwrap().to_string(),
            "0.30"
        );
        for bad in [
            "",
            "1.",
            ".5",
            "1e3",
            "NaN",
            "1,00",
            "1.1234567",
            "1234567890123",
            "--1",
            " 1",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    proptest! {
        #[test]
        fn printing_round_trips(m in -999_999_999_999_999_999i64..999_999_999_999_999_999) {
            let money = Money(m);
            prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,30}") {
            let _ = Money::parse(&s);
        }
    }
}
