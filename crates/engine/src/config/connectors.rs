//! `[[connectors]]`: each outside system by name, with the pack (`kind`) that speaks its API,
//! the role it plays, its URL, credentials and limits. A vendor pack's kind implies its role;
//! `rest` and `crossdock` (crossdock's own REST shape, which the simulated systems speak)
//! name theirs. The `[erp]`, `[wms]`, … tables are the same thing written the older way:
//! `crossdock`-kind connectors named after their role.
//!
//! This build runs `crossdock`-kind and `rest` connectors, one per role, their calls
//! reshaped by their mappings when they have them, and a `netsuite` or `business_central` connector
//! as the ERP (in the ERP's place, or per business unit), takes in the webhooks of `shopify`
//! and `standard_webhooks` connectors, pulls the orders of `adobe_commerce` ones (every
//! `poll_secs`), and sends a Shopify connector with `auth` or an Adobe Commerce one its
//! channel's stock, prices, tracking and cancellations (the storefront's jobs for that
//! channel).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crossdock_domain::order_state::OrderState;
use serde::Deserialize;

use super::pack_checks::{check_adobe_commerce, check_rest_mappings};

use super::credentials::{Auth, Secret};
use super::systems::{SYSTEMS, SystemSettings};
use super::{Config, ConfigError};

/// How often a pulled storefront's orders are read when `poll_secs` is not given.
pub const DEFAULT_POLL_SECS: u64 = 60;

/// The pack that speaks a connector's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// Shopify (a storefront).
    Shopify,
    /// Adobe Commerce (a storefront).
    AdobeCommerce,
    /// NetSuite (an ERP).
    Netsuite,
    /// Microsoft Dynamics 365 Business Central (an ERP).
    BusinessCentral,
    /// Any sender signing by the Standard Webhooks scheme (a 3PL, a WMS).
    StandardWebhooks,
    /// A REST API described by its mappings.
    Rest,
    /// crossdock's own REST shape (the simulated systems speak it).
    Crossdock,
}

impl ConnectorKind {
    /// The kind as the configuration writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Shopify => "shopify",
            ConnectorKind::AdobeCommerce => "adobe_commerce",
            ConnectorKind::Netsuite => "netsuite",
            ConnectorKind::BusinessCentral => "business_central",
            ConnectorKind::StandardWebhooks => "standard_webhooks",
            ConnectorKind::Rest => "rest",
            ConnectorKind::Crossdock => "crossdock",
        }
    }

    /// True for the packs whose webhooks `POST /v1/hooks/{connector}` takes in. They do not
    /// take their role's place as `crossdock`-kind connectors do: a Shopify shop with `auth`
    /// hears of its own channel's orders beside any `[storefront]`.
    pub fn takes_hooks(self) -> bool {
        matches!(
            self,
            ConnectorKind::Shopify | ConnectorKind::StandardWebhooks
        )
    }

    /// The role a vendor pack plays; `None` for the kinds that name theirs.
    pub fn implied_role(self) -> Option<&'static str> {
        match self {
            ConnectorKind::Shopify | ConnectorKind::AdobeCommerce => Some("storefront"),
            ConnectorKind::Netsuite | ConnectorKind::BusinessCentral => Some("erp"),
            ConnectorKind::StandardWebhooks => Some("wms"),
            ConnectorKind::Rest | ConnectorKind::Crossdock => None,
        }
    }
}

/// One `[[connectors]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorConfig {
    /// Its name, used in URLs, logs and exceptions: lower case letters, digits and `-`.
    pub name: String,
    /// The pack that speaks its API.
    pub kind: ConnectorKind,
    /// `erp`, `wms`, `payment`, `fraud`, `tax` or `storefront`; implied by a vendor pack.
    #[serde(default)]
    pub role: Option<String>,
    /// Base URL of its API.
    pub url: String,
    /// The sales channel a storefront sells on (one of `[[channels]]`).
    #[serde(default)]
    pub channel: Option<String>,
    /// The business units an ERP keeps the books of (none: the rest).
    #[serde(default)]
    pub business_units: Vec<String>,
    /// The business unit of the orders a storefront (or a sender of orders) takes in, where
    /// their mapping names none.
    #[serde(default)]
    pub business_unit: Option<String>,
    /// The vendor API's version, e.g. Shopify's `2025-10`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// The system's own location that stock is published to, e.g. a Shopify location's id.
    #[serde(default)]
    pub location_id: Option<String>,
    /// The system's customer that web orders of customers nobody bound are booked to.
    #[serde(default)]
    pub default_customer: Option<String>,
    /// How often a pulled storefront's orders are read (Adobe Commerce), in seconds.
    #[serde(default)]
    pub poll_secs: Option<u64>,
    /// Where a pulled storefront's first read starts (RFC 3339; the first start's moment
    /// when not given).
    #[serde(default)]
    pub pull_since: Option<String>,
    /// Business Central's company (its id) that every call is made in.
    #[serde(default)]
    pub company_id: Option<String>,
    /// Whether Business Central posts each parcel as shipped and invoiced (`shipAndInvoice`,
    /// its API's one posting action); without it a parcel is left to record by hand.
    #[serde(default)]
    pub ship_and_invoice: Option<bool>,
    /// How calls prove who is calling.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// The secret its webhooks are signed with.
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
    /// Trusted certificate authorities besides the machine's own (PEM).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// jq programs replacing the pack's own, by operation.
    #[serde(default)]
    pub mappings: BTreeMap<String, PathBuf>,
    /// Longest wait for one answer, in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Most calls a second, on average.
    #[serde(default)]
    pub rate_per_sec: Option<f64>,
    /// Calls allowed at once above the average.
    #[serde(default)]
    pub burst: Option<u32>,
    /// Calls in flight at once.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Tries before a call becomes an exception.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// How long a worker holds a job before another may take it over, in milliseconds.
    #[serde(default)]
    pub lease_ms: Option<u64>,
    /// The system's own statuses and the canonical states they mean.
    #[serde(default)]
    pub statuses: BTreeMap<String, OrderState>,
}

impl ConnectorConfig {
    /// The role it plays: its own `role`, or its pack's.
    pub fn role(&self) -> Option<&str> {
        self.kind.implied_role().or(self.role.as_deref())
    }

    /// How often its orders are pulled, in seconds.
    pub fn poll_secs(&self) -> u64 {
        self.poll_secs.unwrap_or(DEFAULT_POLL_SECS)
    }

    /// Its URL, limits and credentials, as the job runner and the HTTP client read them.
    pub fn settings(&self) -> SystemSettings {
        let mut s = SystemSettings::at(self.url.clone());
        s.timeout_ms = self.timeout_ms.unwrap_or(s.timeout_ms);
        s.rate_per_sec = self.rate_per_sec.unwrap_or(s.rate_per_sec);
        s.burst = self.burst.unwrap_or(s.burst);
        s.concurrency = self.concurrency.unwrap_or(s.concurrency);
        s.max_attempts = self.max_attempts.unwrap_or(s.max_attempts);
        s.lease_ms = self.lease_ms.unwrap_or(s.lease_ms);
        s.statuses = self.statuses.clone();
        s.auth = self.auth.clone();
        s.ca_file = self.ca_file.clone();
        if matches!(self.kind, ConnectorKind::Rest | ConnectorKind::Crossdock) {
            s.mappings = self.mappings.clone();
        }
        s
    }
}

impl Config {
    /// Checks `[[connectors]]` and gives each `crossdock`-kind connector its role's place, as
    /// if written as `[erp]`, `[wms]`, …
    pub(super) fn take_connectors(&mut self) -> Result<(), ConfigError> {
        let mut names = BTreeSet::new();
        let mut units = BTreeSet::new();
        let connectors = self.connectors.clone();
        for (i, c) in connectors.iter().enumerate() {
            let key = |field: &str| format!("connectors[{i}].{field}");
            let invalid = |field: &str, message: String| ConfigError::Invalid {
                key: key(field),
                message,
            };
            let name_ok = !c.name.is_empty()
                && c.name.len() <= 40
                && c.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            if !name_ok {
                return Err(invalid(
                    "name",
                    "must be 1 to 40 lower-case letters, digits or -".into(),
                ));
            }
            if !names.insert(c.name.as_str()) {
                return Err(invalid("name", format!("`{}` is used twice", c.name)));
            }
            if !(c.url.starts_with("https://") || c.url.starts_with("http://")) {
                return Err(invalid("url", "must start with https:// or http://".into()));
            }
            if c.kind.implied_role().is_some() && c.role.is_some() {
                return Err(invalid(
                    "role",
                    format!(
                        "a {} connector's role is implied; leave role out",
                        c.kind.as_str()
                    ),
                ));
            }
            let Some(role) = c.role() else {
                return Err(invalid(
                    "role",
                    format!(
                        "a {} connector names its role: one of {}",
                        c.kind.as_str(),
                        SYSTEMS.join(", ")
                    ),
                ));
            };
            if !SYSTEMS.contains(&role) {
                return Err(invalid(
                    "role",
                    format!("`{role}` is not one of {}", SYSTEMS.join(", ")),
                ));
            }
            match (&c.channel, role) {
                (None, "storefront") if c.kind != ConnectorKind::Crossdock => {
                    return Err(invalid("channel", "a storefront names its channel".into()));
                }
                (Some(ch), "storefront")
                    if !self.channels.iter().any(|x| x.code.as_str() == ch) =>
                {
                    return Err(invalid(
                        "channel",
                        format!("`{ch}` is not defined under [[channels]]"),
                    ));
                }
                (Some(_), r) if r != "storefront" => {
                    return Err(invalid(
                        "channel",
                        "only a storefront names a channel".into(),
                    ));
                }
                _ => {}
            }
            if c.ship_and_invoice.is_some() && c.kind != ConnectorKind::BusinessCentral {
                return Err(invalid(
                    "ship_and_invoice",
                    "only Business Central posts shipments with their invoices".into(),
                ));
            }
            if let Some(unit) = &c.business_unit {
                if role != "storefront" && !c.kind.takes_hooks() {
                    return Err(invalid(
                        "business_unit",
                        "only the orders a storefront (or a webhook sender) takes in have a \
                         business unit; an ERP names the units it keeps in business_units"
                            .into(),
                    ));
                }
                if unit.trim().is_empty() || unit.chars().count() > 64 {
                    return Err(invalid(
                        "business_unit",
                        "name the unit, in at most 64 characters".into(),
                    ));
                }
            }
            if !c.business_units.is_empty() && role != "erp" {
                return Err(invalid(
                    "business_units",
                    "only an ERP keeps business units".into(),
                ));
            }
            for (field, secret) in c.auth.iter().flat_map(Auth::secrets) {
                secret.check(|| key(&format!("auth.{field}")))?;
            }
            if let Some(secret) = &c.webhook_secret {
                secret.check(|| key("webhook_secret"))?;
            }
            if c.kind.takes_hooks() {
                if c.webhook_secret.is_none() {
                    return Err(invalid(
                        "webhook_secret",
                        format!(
                            "a {} connector checks its webhooks' signatures: name the secret \
                             they are signed with, e.g. webhook_secret = \"env:{}_WEBHOOK_SECRET\"",
                            c.kind.as_str(),
                            c.name.to_uppercase().replace('-', "_")
                        ),
                    ));
                }
                if !c.business_units.is_empty() {
                    return Err(invalid(
                        "business_units",
                        "only an ERP keeps business units".into(),
                    ));
                }
                if c.kind == ConnectorKind::Shopify && c.auth.is_some() && c.api_version.is_none() {
                    return Err(invalid(
                        "api_version",
                        "a Shopify connector with auth calls the Admin API of one version: \
                         name it, e.g. api_version = \"2025-10\""
                            .into(),
                    ));
                }
                continue;
            }
            if c.kind != ConnectorKind::AdobeCommerce
                && (c.poll_secs.is_some() || c.pull_since.is_some())
            {
                let field = if c.poll_secs.is_some() {
                    "poll_secs"
                } else {
                    "pull_since"
                };
                return Err(invalid(
                    field,
                    "only an adobe_commerce connector pulls its orders".into(),
                ));
            }
            if c.kind == ConnectorKind::AdobeCommerce {
                check_adobe_commerce(c).map_err(|(field, message)| invalid(field, message))?;
                // Beside any [storefront], as a Shopify shop is: its own channel's orders.
                continue;
            }
            if matches!(c.kind, ConnectorKind::Rest | ConnectorKind::Crossdock) {
                check_rest_mappings(c, role).map_err(|m| invalid("mappings", m))?;
            }
            if c.kind == ConnectorKind::BusinessCentral {
                if c.auth.is_none() {
                    return Err(invalid(
                        "auth",
                        "a Business Central connector calls with an OAuth token: give it auth, \
                         e.g. { kind = \"oauth2_client_credentials\", token_url = \"…\", \
                         client_id = \"…\", client_secret = \"env:BC_SECRET\", scope = \
                         \"https://api.businesscentral.dynamics.com/.default\" }"
                            .into(),
                    ));
                }
                if c.company_id.is_none() {
                    return Err(invalid(
                        "company_id",
                        "a Business Central connector works in one company: name its id, e.g. \
                         company_id = \"c04c550b-593f-ee11-be74-6045bdc8c285\""
                            .into(),
                    ));
                }
            } else if c.company_id.is_some() {
                return Err(invalid(
                    "company_id",
                    "only a business_central connector works in a company".into(),
                ));
            }
            if c.kind == ConnectorKind::Netsuite && c.auth.is_none() {
                return Err(invalid(
                    "auth",
                    "a NetSuite connector signs its calls: give it auth, e.g. { kind = \
                     \"netsuite_tba\", account = \"…\", consumer_key = \"env:NS_CK\", … }"
                        .into(),
                ));
            }
            if !c.business_units.is_empty() {
                // Routed by unit (see erp_routes): its own queue, not the role's place.
                for unit in &c.business_units {
                    let ok = !unit.is_empty()
                        && unit.len() <= 64
                        && unit
                            .chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
                    if !ok {
                        return Err(invalid(
                            "business_units",
                            format!("`{unit}` must be 1 to 64 letters, digits, - or _"),
                        ));
                    }
                    if !units.insert(unit.clone()) {
                        return Err(invalid(
                            "business_units",
                            format!("business unit `{unit}` is listed by two ERP connectors"),
                        ));
                    }
                }
                continue;
            }
            if self.system(role).is_some() {
                return Err(invalid(
                    "role",
                    format!(
                        "`{role}` is already configured (as [{role}] or another connector); \
                         this build runs one connector per role (several ERPs each list their \
                         business_units)"
                    ),
                ));
            }
            self.set_system(role, c.settings());
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "connectors_tests.rs"]
mod tests;
