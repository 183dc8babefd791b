//! Several ERPs, one per business unit: an ERP connector that lists `business_units` keeps
//! the books of those units; the ERP without (a connector, or `[erp]`) takes the rest. Each
//! ERP's jobs run in a queue of their own, `erp:{name}`, with its own limits and circuit; the
//! saga's ERP jobs wait in `erp` until routed to their order's ERP.

use std::collections::BTreeMap;

use super::{Config, ConnectorConfig, SystemSettings};

/// One ERP among several.
#[derive(Debug, Clone)]
pub struct ErpTarget {
    /// The connector's name (`erp` for the `[erp]` table).
    pub name: String,
    /// The queue its jobs run in: `erp:{name}`.
    pub system: String,
    /// Its URL, limits and credentials.
    pub settings: SystemSettings,
    /// The connector, for a pack's own settings (none for `[erp]`).
    pub connector: Option<ConnectorConfig>,
    /// The units it keeps the books of; empty for the ERP that takes the rest.
    pub units: Vec<String>,
}

/// Which ERP keeps the books of which business unit.
#[derive(Debug, Clone)]
pub struct ErpRoutes {
    /// Every ERP, the one taking the rest (if any) last.
    pub targets: Vec<ErpTarget>,
}

impl ErpRoutes {
    /// The queue for an order of `unit` (none: the rest), or why there is none.
    pub fn route(&self, unit: Option<&str>) -> Result<&ErpTarget, String> {
        let listed =
            unit.and_then(|u| self.targets.iter().find(|t| t.units.iter().any(|x| x == u)));
        listed
            .or_else(|| self.targets.iter().find(|t| t.units.is_empty()))
            .ok_or_else(|| match unit {
                Some(u) => format!(
                    "no ERP connector keeps the books of business unit `{u}`: list it under a \
                     connector's business_units (or configure an ERP without business_units \
                     for the rest), reload, then retry this exception"
                ),
                None => "the order names no business unit and no ERP connector takes the rest: \
                         configure an ERP without business_units, reload, then retry this \
                         exception"
                    .to_string(),
            })
    }

    /// `east → netsuite; west → bc; the rest → bc`, for logs.
    pub fn summary(&self) -> String {
        let mut by_unit: BTreeMap<&str, &str> = BTreeMap::new();
        for t in &self.targets {
            for u in &t.units {
                by_unit.insert(u, &t.name);
            }
        }
        let mut parts: Vec<String> = by_unit
            .into_iter()
            .map(|(u, name)| format!("{u} → {name}"))
            .collect();
        match self.targets.iter().find(|t| t.units.is_empty()) {
            Some(rest) => parts.push(format!("the rest → {}", rest.name)),
            None => parts.push("the rest → none".into()),
        }
        parts.join("; ")
    }

    /// Whether a running hub can take `next` without a restart: the same ERPs (each with
    /// its runner), only their units moved.
    pub fn can_become(&self, next: &ErpRoutes) -> Result<(), String> {
        let names = |r: &ErpRoutes| {
            let mut n: Vec<String> = r.targets.iter().map(|t| t.name.clone()).collect();
            n.sort();
            n
        };
        let (now, then) = (names(self), names(next));
        if now != then {
            return Err(format!(
                "the ERP connectors differ ({} now, {} in the file): adding or removing an ERP \
                 takes a restart",
                now.join(", "),
                then.join(", ")
            ));
        }
        Ok(())
    }
}

impl Config {
    /// The ERPs and the units each keeps, when some ERP connector lists `business_units`;
    /// `None` when one ERP (or none) takes every order.
    pub fn erp_routes(&self) -> Option<ErpRoutes> {
        let is_erp = |c: &&ConnectorConfig| c.role() == Some("erp");
        let erps: Vec<&ConnectorConfig> = self.connectors.iter().filter(is_erp).collect();
        if erps.iter().all(|c| c.business_units.is_empty()) {
            return None;
        }
        let target = |c: &ConnectorConfig| ErpTarget {
            name: c.name.clone(),
            system: format!("erp:{}", c.name),
            settings: c.settings(),
            connector: Some(c.clone()),
            units: c.business_units.clone(),
        };
        let mut targets: Vec<ErpTarget> = (erps.iter())
            .filter(|c| !c.business_units.is_empty())
            .map(|c| target(c))
            .collect();
        match erps.iter().find(|c| c.business_units.is_empty()) {
            Some(rest) => targets.push(target(rest)),
            None => {
                if let Some(settings) = &self.erp {
                    targets.push(ErpTarget {
                        name: "erp".into(),
                        system: "erp:erp".into(),
                        settings: settings.clone(),
                        connector: None,
                        units: Vec::new(),
                    });
                }
            }
        }
        Some(ErpRoutes { targets })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, EXAMPLE};

    const NETSUITE: &str = r#"
[[connectors]]
name = "netsuite"
kind = "netsuite"
url = "https://1234567.suitetalk.api.netsuite.com/services/rest"
business_units = ["east"]
auth = { kind = "netsuite_tba", account = "1234567", consumer_key = "env:NS_CK", consumer_secret = "env:NS_CS", token_id = "env:NS_TI", token_secret = "env:NS_TS" }
"#;

    #[test]
    fn each_unit_goes_to_the_erp_that_lists_it_and_the_rest_to_the_one_without() {
        assert!(Config::parse(EXAMPLE).unwrap().erp_routes().is_none());
        let config = Config::parse(&format!(
            "{EXAMPLE}\n[erp]\nurl = \"http://127.0.0.1:9\"\n{NETSUITE}"
        ))
        .unwrap();
        let routes = config.erp_routes().unwrap();
        assert_eq!(routes.route(Some("east")).unwrap().system, "erp:netsuite");
        assert_eq!(routes.route(Some("west")).unwrap().system, "erp:erp");
        assert_eq!(routes.route(None).unwrap().system, "erp:erp");
        assert_eq!(routes.summary(), "east → netsuite; the rest → erp");

        let alone = Config::parse(&format!("{EXAMPLE}\n{NETSUITE}")).unwrap();
        let routes = alone.erp_routes().unwrap();
        let why = routes.route(Some("west")).unwrap_err();
        assert!(why.contains("business unit `west`"), "{why}");
        assert!(routes.can_become(&config.erp_routes().unwrap()).is_err());
    }

    #[test]
    fn a_unit_is_kept_by_one_erp() {
        let twice = NETSUITE.replace("name = \"netsuite\"", "name = \"ns2\"");
        let e = Config::parse(&format!("{EXAMPLE}\n{NETSUITE}\n{twice}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`east` is listed by two ERP connectors"), "{e}");
        let bad = NETSUITE.replace("[\"east\"]", "[\"east coast\"]");
        let e = Config::parse(&format!("{EXAMPLE}\n{bad}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("connectors[0].business_units"), "{e}");
    }
}
