//! What an API key may do: each route needs one scope, and a key holds a set of them.

use serde::Serialize;

/// One thing an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Scope {
    /// Take orders in, cancel them through the order routes, post fulfilment.
    #[serde(rename = "orders:write")]
    OrdersWrite,
    /// Read orders.
    #[serde(rename = "orders:read")]
    OrdersRead,
    /// Post stock events, items, prices, reservations and bindings.
    #[serde(rename = "inventory:write")]
    InventoryWrite,
    /// Read availability and prices.
    #[serde(rename = "availability:read")]
    AvailabilityRead,
    /// Read jobs, exceptions, events, bindings, subscriptions and hook rejections.
    #[serde(rename = "ops:read")]
    OpsRead,
    /// Act on exceptions and jobs (retry, resolve, cancel the order), manage subscriptions.
    #[serde(rename = "ops:write")]
    OpsWrite,
    /// Everything, and the keys themselves.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 7] = [
        Scope::OrdersWrite,
        Scope::OrdersRead,
        Scope::InventoryWrite,
        Scope::AvailabilityRead,
        Scope::OpsRead,
        Scope::OpsWrite,
        Scope::Admin,
    ];

    /// Its name on the wire and at rest.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OrdersWrite => "orders:write",
            Scope::OrdersRead => "orders:read",
            Scope::InventoryWrite => "inventory:write",
            Scope::AvailabilityRead => "availability:read",
            Scope::OpsRead => "ops:read",
            Scope::OpsWrite => "ops:write",
            Scope::Admin => "admin",
        }
    }

    /// The scope named `name`.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The scopes a comma-separated list names (spaces around names allowed), each once,
    /// in [`Scope::ALL`]'s order; the first name that is no scope as the error.
    pub fn parse_list(list: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            scopes.push(Scope::parse(name).ok_or_else(|| name.to_string())?);
        }
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// Whether holding `self` allows what `needed` allows: `admin` allows everything, and a
    /// `:write` scope its own `:read` (`orders:write` reads orders, `ops:write` reads the
    /// queues it acts on).
    pub fn covers(self, needed: Scope) -> bool {
        self == needed
            || self == Scope::Admin
            || matches!(
                (self, needed),
                (Scope::OrdersWrite, Scope::OrdersRead) | (Scope::OpsWrite, Scope::OpsRead)
            )
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_lists_are_sets() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(
            Scope::parse_list(" ops:read,orders:write, ops:read,"),
            Ok(vec![Scope::OrdersWrite, Scope::OpsRead])
        );
        assert_eq!(
            Scope::parse_list("orders:write,orders:delete"),
            Err("orders:delete".into())
        );
    }

    #[test]
    fn admin_covers_all_and_write_covers_its_read_only() {
        for s in Scope::ALL {
            assert!(Scope::Admin.covers(s));
            assert!(s.covers(s));
        }
        assert!(Scope::OrdersWrite.covers(Scope::OrdersRead));
        assert!(!Scope::OrdersRead.covers(Scope::OrdersWrite));
        assert!(Scope::OpsWrite.covers(Scope::OpsRead));
        assert!(!Scope::InventoryWrite.covers(Scope::AvailabilityRead));
        assert!(!Scope::OpsWrite.covers(Scope::Admin));
    }
}
