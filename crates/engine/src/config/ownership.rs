//! `[ownership]`: which system owns each domain of data, so a write from another is refused.
//! Each domain names one owner (`item_master = "netsuite"`), or, for `inventory` (by
//! location) and `orders` (by channel), a table of owners (`inventory = { east = "wms",
//! acme = "acme-portal" }`); a location or channel a table leaves out has no owner, and any
//! system may write it. An owner is a connector's name or a stock event's `source`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Config, ConfigError};

/// One owner for all, or an owner per location or channel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Owners {
    /// One system owns every location (or channel).
    All(String),
    /// An owner per location (or channel).
    By(BTreeMap<String, String>),
}

impl Owners {
    /// The owner of `scope`, if it has one.
    pub fn of(&self, scope: &str) -> Option<&str> {
        match self {
            Owners::All(owner) => Some(owner),
            Owners::By(by) => by.get(scope).map(String::as_str),
        }
    }
}

/// `[ownership]`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ownership {
    /// The system that owns items (SKUs and their descriptions).
    pub item_master: Option<String>,
    /// The system that owns prices.
    pub pricing: Option<String>,
    /// The system that owns each location's stock.
    pub inventory: Option<Owners>,
    /// The system that takes in each channel's orders.
    pub orders: Option<Owners>,
    /// The system that reports shipments.
    pub shipments: Option<String>,
    /// The system that sends invoices.
    pub invoices: Option<String>,
}

/// A domain of data with an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Items.
    ItemMaster,
    /// Prices.
    Pricing,
    /// A location's stock.
    Inventory,
    /// A channel's orders.
    Orders,
    /// Shipments.
    Shipments,
    /// Invoices.
    Invoices,
}

impl Domain {
    /// The domain as `[ownership]` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::ItemMaster => "item_master",
            Domain::Pricing => "pricing",
            Domain::Inventory => "inventory",
            Domain::Orders => "orders",
            Domain::Shipments => "shipments",
            Domain::Invoices => "invoices",
        }
    }
}

impl Ownership {
    /// The owner of `domain` (for `scope`, a location or channel, where it is kept per one).
    pub fn owner(&self, domain: Domain, scope: &str) -> Option<&str> {
        match domain {
            Domain::ItemMaster => self.item_master.as_deref(),
            Domain::Pricing => self.pricing.as_deref(),
            Domain::Inventory => self.inventory.as_ref().and_then(|o| o.of(scope)),
            Domain::Orders => self.orders.as_ref().and_then(|o| o.of(scope)),
            Domain::Shipments => self.shipments.as_deref(),
            Domain::Invoices => self.invoices.as_deref(),
        }
    }

    /// Why `writer` may not write `domain` for `scope`, if it may not: another system owns it.
    pub fn refuses(&self, domain: Domain, scope: &str, writer: &str) -> Option<String> {
        let owner = self.owner(domain, scope)?;
        if owner == writer {
            return None;
        }
        let what = match domain {
            Domain::Inventory => format!("location {scope}'s stock"),
            Domain::Orders => format!("channel {scope}'s orders"),
            other => other.as_str().replace('_', " "),
        };
        Some(format!(
            "{what} is owned by {owner} ([ownership] {}); {writer} may not write it",
            domain.as_str()
        ))
    }

    /// Each owned domain and its owner(s), e.g. `inventory east=wms, acme=acme-portal;
    /// shipments wms`, noting which this build enforces.
    pub fn summary(&self) -> String {
        let owners = |o: &Owners| match o {
            Owners::All(owner) => owner.clone(),
            Owners::By(by) => (by.iter())
                .map(|(scope, owner)| format!("{scope}={owner}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut parts = Vec::new();
        for (domain, owner, enforced) in [
            ("item_master", self.item_master.clone(), false),
            ("pricing", self.pricing.clone(), true),
            ("inventory", self.inventory.as_ref().map(owners), true),
            ("orders", self.orders.as_ref().map(owners), true),
            ("shipments", self.shipments.clone(), true),
            ("invoices", self.invoices.clone(), false),
        ] {
            let Some(owner) = owner else { continue };
            let note = if enforced {
                ""
            } else {
                " (not enforced yet: no write names its system)"
            };
            parts.push(format!("{domain} {owner}{note}"));
        }
        parts.join("; ")
    }

    /// True when no domain has an owner.
    pub fn is_empty(&self) -> bool {
        *self == Ownership::default()
    }
}

impl Config {
    /// The systems a write can come from, and so an API key can write as: each connector,
    /// each configured system (`erp`, `wms`…), and each owner `[ownership]` names; sorted.
    pub fn writers(&self) -> Vec<String> {
        let o = &self.ownership;
        let mut names: Vec<String> = self.connectors.iter().map(|c| c.name.clone()).collect();
        for role in ["erp", "wms", "payment", "fraud", "tax", "storefront"] {
            if self.system(role).is_some() {
                names.push(role.to_string());
            }
        }
        let singles = [&o.item_master, &o.pricing, &o.shipments, &o.invoices];
        names.extend(singles.into_iter().flatten().cloned());
        for owners in [&o.inventory, &o.orders].into_iter().flatten() {
            match owners {
                Owners::All(owner) => names.push(owner.clone()),
                Owners::By(by) => names.extend(by.values().cloned()),
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// Checks `[ownership]`: every location and channel it names is configured, and no owner
    /// is empty.
    pub(super) fn check_ownership(&self) -> Result<(), ConfigError> {
        let o = &self.ownership;
        let invalid = |key: String, message: String| ConfigError::Invalid { key, message };
        let singles = [
            ("item_master", &o.item_master),
            ("pricing", &o.pricing),
            ("shipments", &o.shipments),
            ("invoices", &o.invoices),
        ];
        for (key, owner) in singles {
            if owner.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(invalid(
                    format!("ownership.{key}"),
                    "names no system".into(),
                ));
            }
        }
        let locations: Vec<&str> = self.locations.iter().map(|l| l.code.as_str()).collect();
        let channels: Vec<&str> = self.channels.iter().map(|c| c.code.as_str()).collect();
        for (key, owners, known, what) in [
            ("inventory", &o.inventory, &locations, "[[locations]]"),
            ("orders", &o.orders, &channels, "[[channels]]"),
        ] {
            let by = match owners {
                Some(Owners::All(owner)) if owner.trim().is_empty() => {
                    return Err(invalid(
                        format!("ownership.{key}"),
                        "names no system".into(),
                    ));
                }
                Some(Owners::By(by)) => by,
                _ => continue,
            };
            for (scope, owner) in by {
                if !known.contains(&scope.as_str()) {
                    return Err(invalid(
                        format!("ownership.{key}.{scope}"),
                        format!("`{scope}` is not defined under {what}"),
                    ));
                }
                if owner.trim().is_empty() {
                    return Err(invalid(
                        format!("ownership.{key}.{scope}"),
                        "names no system".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::EXAMPLE;
    use super::*;

    #[test]
    fn owners_are_read_per_domain_and_scope() {
        let config = Config::parse(&format!(
            "{EXAMPLE}\n[ownership]\nitem_master = \"netsuite\"\n\
             inventory = {{ east = \"wms\", acme = \"acme-portal\" }}\norders = \"shop-us\"\n"
        ))
        .unwrap();
        let o = &config.ownership;
        assert_eq!(o.owner(Domain::ItemMaster, ""), Some("netsuite"));
        assert_eq!(o.owner(Domain::Inventory, "east"), Some("wms"));
        assert_eq!(
            o.owner(Domain::Inventory, "west"),
            None,
            "west has no owner"
        );
        assert_eq!(o.owner(Domain::Orders, "b2b"), Some("shop-us"));
        assert_eq!(o.refuses(Domain::Inventory, "east", "wms"), None);
        let why = o.refuses(Domain::Inventory, "east", "erp").unwrap();
        assert!(
            why.contains("location east's stock is owned by wms"),
            "{why}"
        );
        assert_eq!(o.refuses(Domain::Inventory, "west", "erp"), None);
        assert!(o.refuses(Domain::Shipments, "", "anyone").is_none());
        assert_eq!(
            o.summary(),
            "item_master netsuite (not enforced yet: no write names its system); \
             inventory acme=acme-portal, east=wms; orders shop-us"
        );
    }

    #[test]
    fn unknown_scopes_and_empty_owners_are_named_by_key() {
        for (table, key) in [
            (
                "inventory = { north = \"wms\" }",
                "ownership.inventory.north",
            ),
            ("orders = { moon = \"shop\" }", "ownership.orders.moon"),
            ("shipments = \"\"", "ownership.shipments"),
            ("prices = \"erp\"", "prices"),
        ] {
            let e = Config::parse(&format!("{EXAMPLE}\n[ownership]\n{table}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{table}: {e}");
        }
    }
}
