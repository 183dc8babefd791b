//! Bindings: our keys beside each outside system's ids, per connector (the binder of a
//! connector, as Odoo's OCA connector framework names it). A NetSuite item's internal id
//! beside our SKU, a customer's entity id beside our account, a Shopify location beside ours,
//! the ERP's sales order beside our order.

use serde::{Deserialize, Serialize};

/// What a binding binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingKind {
    /// Our SKU beside the system's item.
    Item,
    /// Our customer (its account, else its id) beside the system's customer.
    Customer,
    /// Our location beside the system's.
    Location,
    /// Our order beside the system's record of it (an ERP's sales order).
    Order,
}

impl BindingKind {
    /// Every kind.
    pub const ALL: &'static [BindingKind] = &[
        BindingKind::Item,
        BindingKind::Customer,
        BindingKind::Location,
        BindingKind::Order,
    ];

    /// The stored and wire form, e.g. `item`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BindingKind::Item => "item",
            BindingKind::Customer => "customer",
            BindingKind::Location => "location",
            BindingKind::Order => "order",
        }
    }

    /// The kind written as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }

    /// What our side of it is called in messages (`SKU`, `customer`, …).
    pub const fn ours_named(self) -> &'static str {
        match self {
            BindingKind::Item => "SKU",
            BindingKind::Customer => "customer",
            BindingKind::Location => "location",
            BindingKind::Order => "order",
        }
    }
}

impl std::fmt::Display for BindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest key on either side of a binding, in characters.
pub const MAX_KEY_CHARS: usize = 200;

/// One of our keys beside one system's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The connector whose system the id is of.
    pub connector: String,
    /// What it binds.
    pub kind: BindingKind,
    /// Our key: a SKU, a customer's account, a location's code, an order's id.
    pub ours: String,
    /// The system's id for it.
    pub theirs: String,
}

impl Binding {
    /// What is wrong with it, if anything: a key that is empty, too long or holds control
    /// characters, named by the field it is in.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        for (field, value) in [("ours", &self.ours), ("theirs", &self.theirs)] {
            if value.is_empty() {
                return Some((field, "must not be empty".into()));
            }
            if value.chars().count() > MAX_KEY_CHARS {
                return Some((field, format!("must be at most {MAX_KEY_CHARS} characters")));
            }
            if value.chars().any(char::is_control) {
                return Some((field, "must not hold control characters".into()));
            }
            if value.starts_with(' ') || value.ends_with(' ') {
                return Some((field, "must not begin or end with spaces".into()));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(ours: &str, theirs: &str) -> Binding {
        Binding {
            connector: "netsuite".into(),
            kind: BindingKind::Item,
            ours: ours.into(),
            theirs: theirs.into(),
        }
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in BindingKind::ALL {
            assert_eq!(BindingKind::parse(kind.as_str()), Some(*kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
        }
        assert_eq!(BindingKind::parse("items"), None);
    }

    #[test]
    fn keys_must_be_plain_text() {
        assert_eq!(binding("SKU-1", "1042").problem(), None);
        assert_eq!(binding("", "1042").problem().unwrap().0, "ours");
        assert_eq!(binding("SKU-1", " ").problem().unwrap().0, "theirs");
        assert_eq!(binding("SKU-1", &"é".repeat(MAX_KEY_CHARS)).problem(), None);
        assert_eq!(binding("SKU-1\n", "1").problem().unwrap().0, "ours");
        assert_eq!(binding(" SKU-1", "1").problem().unwrap().0, "ours");
        let long = "x".repeat(MAX_KEY_CHARS + 1);
        assert_eq!(binding("SKU-1", &long).problem().unwrap().0, "theirs");
    }
}
