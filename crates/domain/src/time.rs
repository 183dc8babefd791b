//! Instants: milliseconds since the Unix epoch, written and read as RFC 3339.
//!
//! The domain never reads a clock; callers pass the time in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An instant, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Why a time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 time such as 2026-11-27T08:00:00Z")]
pub struct TimeError(pub String);

const MS_PER_DAY: i64 = 86_400_000;

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

    /// Parses an RFC 3339 date-time (`2026-11-27T08:00:00Z`, `…T08:00:00.250+01:00`).
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
        parse(s.as_bytes()).ok_or_else(|| TimeError(s.chars().take(64).collect()))
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn parse(b: &[u8]) -> Option<Timestamp> {
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (h, mi, s) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days_in_month = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in_month || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start || i - start > 9 {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if b.len() == i + 1 => 0,
        sign @ (b'+' | b'-') if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (digits(b, i + 1, 2)?, digits(b, i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 60 + om;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s.min(59);
    Some(Timestamp((secs - offset_min * 60) * 1000 + millis))
}

impl fmt::Display for Timestamp {
    /// Writes `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let (h, mi, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
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
            "2026-11-27T07:42:25+0100",
            "2026-11-27T07:42:25.Z",
            "2026-11-27T07:42:25Zjunk",
            "２026-11-27T07:42:25Z",
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
