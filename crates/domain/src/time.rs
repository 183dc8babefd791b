//! Instants: milliseconds since the Unix epoch, written and read as RFC 3339.
//!
//! The domain never reads a clock; callers pass the time in.

use std::fmt;

use jiff::fmt::StdFmtWrite;
use jiff::fmt::temporal::{DateTimeParser, DateTimePrinter};
use serde::{Deserialize, Serialize};

/// An instant, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Why a time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 time such as 2026-11-27T08:00:00Z")]
pub struct TimeError(pub String);

impl Timestamp {
    /// The earliest instant: older than anything real.
    pub const MIN: Timestamp = Timestamp(i64::MIN);

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant plus `ms` milliseconds.
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// This instant plus `secs` seconds.
    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// This instant plus `days` days.
    pub fn plus_days(self, days: i64) -> Timestamp {
        self.plus_secs(days.saturating_mul(86_400))
    }

    /// Parses an RFC 3339 date-time (`2026-11-27T08:00:00Z`, `…T08:00:00.250+01:00`); digits
    /// past the millisecond are dropped.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
        PARSER
            .parse_timestamp(s)
            .map(|t| Timestamp(t.as_millisecond()))
            .map_err(|_| TimeError(s.chars().take(64).collect()))
    }
}

/// Writes instants as `YYYY-MM-DDTHH:MM:SS.mmmZ`: UTC, always three digits of milliseconds,
/// so that the text sorts as the instants do.
const PRINTER: DateTimePrinter = DateTimePrinter::new().precision(Some(3));

/// Reads RFC 3339 date-times, and the other unambiguous ISO 8601 forms with an offset.
const PARSER: DateTimeParser = DateTimeParser::new();

impl fmt::Display for Timestamp {
    /// Writes `YYYY-MM-DDTHH:MM:SS.mmmZ`; an instant past jiff's range (years -9999 to 9999)
    /// is written as that range's end.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = jiff::Timestamp::from_millisecond(self.0).unwrap_or(if self.0 < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        });
        PRINTER
            .print_timestamp(&t, StdFmtWrite(f))
            .map_err(|_| fmt::Error)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_instants() {
        let t = Timestamp::parse_rfc3339("2026-11-27T07:42:25Z").unwrap();
        assert_eq!(t.0, 1_795_765_345_000);
        assert_eq!(t.to_string(), "2026-11-27T07:42:25.000Z");
        let with_offset = Timestamp::parse_rfc3339("2026-11-27T08:42:25.5+01:00").unwrap();
        assert_eq!(with_offset.0, t.0 + 500);
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn malformed_times_are_refused() {
        for bad in [
            "",
            "2026-11-27",
            "2026-11-27T07:42:25",
            "2026-02-30T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T07:42:25.Z",
            "2026-11-27T07:42:25Zjunk",
            "２026-11-27T07:42:25Z",
            "2026-11-27T07:42:25.1234567891Z",
            "2026-13-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad} was accepted");
        }
    }

    proptest! {
        #[test]
        fn formatting_round_trips(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let t = Timestamp(ms);
            prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Ok(t));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = Timestamp::parse_rfc3339(&s);
        }

        #[test]
        fn parsing_near_valid_text_never_panics(
            s in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?(Z|[+-][0-9]{2}:[0-9]{2})?"
        ) {
            let _ = Timestamp::parse_rfc3339(&s);
        }
    }
}
