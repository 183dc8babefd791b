//! Rules every inbound body shares. Whole numbers as JSON Schema reads them: `integer` is any
//! number without a fraction, so `6471.0` is the integer 6471, as a client library that
//! writes every number as a float sends it; every whole-number field read takes both forms,
//! and nothing else. And free-text references (sources, event ids, order and PO references):
//! not blank, at most 128 characters, no control characters.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Largest magnitude a float carries exactly as a whole number (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// `v` as a whole number: an integer, or a float with no fraction that is exact.
pub fn whole(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
            .map(|f| f as i64)
    })
}

fn convert<T: TryFrom<i64>, E: serde::de::Error>(v: &Value) -> Result<T, E> {
    whole(v).and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
        E::custom(format!(
            "invalid value: {v}, expected a whole number in range"
        ))
    })
}

/// For `#[serde(deserialize_with = "…")]` on a whole-number field.
pub fn whole_number<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    convert(&Value::deserialize(d)?)
}

/// For `#[serde(default, deserialize_with = "…")]` on an optional whole-number field.
pub fn whole_number_opt<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => convert(&v).map(Some),
    }
}

/// Checks a free-text reference (source, event id, order or PO reference).
pub fn check_ref(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if value.chars().count() > 128 {
        return Err(format!("{field} must be at most 128 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn integral_floats_are_whole_numbers_and_fractions_are_not() {
        assert_eq!(whole(&json!(6471)), Some(6471));
        assert_eq!(whole(&json!(6471.0)), Some(6471));
        assert_eq!(whole(&json!(-3.0)), Some(-3));
        assert_eq!(whole(&json!(6471.5)), None);
        assert_eq!(whole(&json!(1e300)), None);
        assert_eq!(whole(&json!("6471")), None);
        assert_eq!(whole(&json!(null)), None);
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Shape {
        #[serde(deserialize_with = "whole_number")]
        qty: i64,
        #[serde(default, deserialize_with = "whole_number_opt")]
        ttl: Option<u64>,
    }

    #[test]
    fn fields_take_both_forms() {
        let s: Shape = serde_json::from_value(json!({"qty": 2.0, "ttl": 30.0})).unwrap();
        assert_eq!(
            s,
            Shape {
                qty: 2,
                ttl: Some(30)
            }
        );
        let s: Shape = serde_json::from_value(json!({"qty": 2})).unwrap();
        assert_eq!(s.ttl, None);
        assert!(serde_json::from_value::<Shape>(json!({"qty": 2.5})).is_err());
        assert!(serde_json::from_value::<Shape>(json!({"qty": 1, "ttl": -1})).is_err());
    }

    proptest! {
        #[test]
        fn every_integer_reads_the_same_as_an_integral_float(n in -(1i64 << 53)..(1i64 << 53)) {
            prop_assert_eq!(whole(&json!(n as f64)), Some(n));
            prop_assert_eq!(whole(&json!(n)), Some(n));
        }
    }
}
