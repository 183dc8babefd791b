//! Refuses a JSON document that names the same key twice in any object, at any depth.
//!
//! serde's derived structs refuse a repeated field, but a free-form object (an order's
//! lines, an event) would keep whichever came last: `{"qty": 1, "qty": 5}` would be read as 5
//! while the sender's own parser may have read 1. Every body is checked once, before it is
//! read, so both readings can never differ.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Checks `body`; on a repeated key, names it with its path (`lines[0].qty`).
/// A body that is not JSON passes: the reader that follows reports that.
pub fn check_unique_keys(body: &[u8]) -> Result<(), String> {
    let path = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    match (Node { path: &path }).deserialize(&mut de) {
        Ok(()) => Ok(()),
        Err(e) if e.is_data() => Err(e.to_string()),
        Err(_) => Ok(()),
    }
}

#[derive(Clone, Copy)]
struct Node<'a> {
    path: &'a RefCell<Vec<String>>,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            self.path.borrow_mut().push(format!("[{i}]"));
            if seq.next_element_seed(self)?.is_none() {
                self.path.borrow_mut().pop();
                return Ok(());
            }
            self.path.borrow_mut().pop();
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let at = self.path.borrow().iter().fold(String::new(), |mut s, p| {
                    if !s.is_empty() && !p.starts_with('[') {
                        s.push('.');
                    }
                    s.push_str(p);
                    s
                });
                let at = if at.is_empty() {
                    "the top level".to_string()
                } else {
                    at
                };
                return Err(de::Error::custom(format!(
                    "duplicate key `{key}` in {at}: name each key once"
                )));
            }
            self.path.borrow_mut().push(key);
            map.next_value_seed(self)?;
            self.path.borrow_mut().pop();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_named_with_its_path() {
        let body = br#"{"lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 1, "qty": 5}]}"#;
        let err = check_unique_keys(body).unwrap_err();
        assert!(err.contains("duplicate key `qty` in lines[1]"), "{err}");
        let err = check_unique_keys(br#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(err.contains("in the top level"), "{err}");
        let err = check_unique_keys(br#"{"a": {"b": {"c": 1, "c": 1}}}"#).unwrap_err();
        assert!(err.contains("in a.b"), "{err}");
    }

    #[test]
    fn the_same_key_in_sibling_objects_and_odd_input_pass() {
        assert!(check_unique_keys(br#"[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]"#).is_ok());
        assert!(check_unique_keys(b"{not json").is_ok());
        assert!(check_unique_keys(br#""text""#).is_ok());
    }

    fn value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z\\\"é]{0,6}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-c]{1,2}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any document serde_json writes has unique keys; the same document with one
        /// object's first key written twice is refused.
        #[test]
        fn written_documents_pass_and_a_repeated_key_anywhere_is_caught(v in value()) {
            let text = serde_json::to_string(&v).unwrap();
            proptest::prop_assert!(check_unique_keys(text.as_bytes()).is_ok(), "{}", text);
            // Repeat the first key of the first non-empty object: `{"k":` becomes `{"k":0,"k":`.
            if let Some(at) = text.find("{\"") {
                let end = at + 1 + text[at + 1..].find("\":").unwrap() + 2;
                let key = &text[at + 1..end];
                let doubled = format!("{}{}0,{}{}", &text[..at + 1], key, key, &text[end..]);
                let err = check_unique_keys(doubled.as_bytes());
                proptest::prop_assert!(err.is_err(), "{}", doubled);
            }
        }
    }
}
