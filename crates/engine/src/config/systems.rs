//! The outside systems crossdock calls: `[erp]`, `[wms]`, `[payment]`, `[fraud]`, `[tax]`,
//! `[storefront]`, each with its limits and its statuses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossdock_domain::order_state::OrderState;
use serde::Deserialize;

use super::credentials::{Auth, Secret, SecretError};
use super::{Config, ConfigError};

/// Every outside system crossdock calls, by its job `system` name.
pub const SYSTEMS: [&str; 6] = ["erp", "wms", "payment", "fraud", "tax", "storefront"];

/// The systems whose jobs pass without a call when they are not configured.
pub const OPTIONAL_SYSTEMS: [&str; 2] = ["fraud", "tax"];

/// An outside system: `[erp]`, `[wms]`, `[payment]`, `[fraud]`, `[tax]`, `[storefront]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSettings {
    /// Base URL of the system's REST API.
    pub url: String,
    /// Longest wait for one answer, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Most calls a second, on average.
    #[serde(default = "default_rate")]
    pub rate_per_sec: f64,
    /// Calls allowed at once above the average.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Calls in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Tries before a call becomes an exception (`ERP_UNAVAILABLE`).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// How long a worker holds a job before another (after a crash) may take it over, in
    /// milliseconds. Longer than `timeout_ms`.
    #[serde(default = "default_lease_ms")]
    pub lease_ms: u64,
    /// The system's own statuses and the canonical states they mean, e.g. for the ERP
    /// `{ "Pending Approval" = "on_hold" }`: a sales order the ERP creates in a status that
    /// means `on_hold` holds the order (`ERP_ORDER_HELD`) until an operator retries or
    /// resolves it. Statuses the ERP pushes later (`POST /v1/erp-statuses`) read the same map.
    #[serde(default)]
    pub statuses: BTreeMap<String, OrderState>,
    /// How calls prove who is calling, e.g. `{ kind = "bearer", token = "env:ERP_TOKEN" }`.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// A PEM file of certificate authorities trusted for this system's HTTPS besides the
    /// machine's own (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// A `rest` connector's mappings, reshaping its calls by operation (not written in the
    /// `[erp]`, `[wms]`, … tables).
    #[serde(skip)]
    pub mappings: BTreeMap<String, PathBuf>,
}

impl SystemSettings {
    /// A system at `url` with the default limits.
    pub fn at(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            timeout_ms: default_timeout_ms(),
            rate_per_sec: default_rate(),
            burst: default_burst(),
            concurrency: default_concurrency(),
            max_attempts: default_attempts(),
            lease_ms: default_lease_ms(),
            statuses: BTreeMap::new(),
            auth: None,
            ca_file: None,
            mappings: BTreeMap::new(),
        }
    }

    /// The canonical state the system's `status` means, when configured.
    pub fn state_of(&self, status: &str) -> Option<OrderState> {
        self.statuses.get(status).copied()
    }
}

fn default_lease_ms() -> u64 {
    30_000
}

fn default_timeout_ms() -> u64 {
    5_000
}
fn default_rate() -> f64 {
    50.0
}
fn default_burst() -> u32 {
    5
}
fn default_concurrency() -> usize {
    4
}
fn default_attempts() -> u32 {
    10
}

impl Config {
    /// Sets outside system `name` (one of [`SYSTEMS`]); other names are ignored.
    pub fn set_system(&mut self, name: &str, settings: SystemSettings) {
        let slot = match name {
            "erp" => &mut self.erp,
            "wms" => &mut self.wms,
            "payment" => &mut self.payment,
            "fraud" => &mut self.fraud,
            "tax" => &mut self.tax,
            "storefront" => &mut self.storefront,
            _ => return,
        };
        *slot = Some(settings);
    }

    /// The settings of outside system `name` (one of [`SYSTEMS`]), when configured.
    pub fn system(&self, name: &str) -> Option<&SystemSettings> {
        match name {
            "erp" => self.erp.as_ref(),
            "wms" => self.wms.as_ref(),
            "payment" => self.payment.as_ref(),
            "fraud" => self.fraud.as_ref(),
            "tax" => self.tax.as_ref(),
            "storefront" => self.storefront.as_ref(),
            _ => None,
        }
    }

    /// Every configured outside system with its name.
    pub fn systems(&self) -> Vec<(&'static str, &SystemSettings)> {
        SYSTEMS
            .into_iter()
            .filter_map(|name| self.system(name).map(|s| (name, s)))
            .collect()
    }

    /// Refuses a secret written into the file itself, naming its key (never its value).
    pub(super) fn check_credentials(&self) -> Result<(), ConfigError> {
        for (name, sys) in self.systems() {
            let Some(auth) = &sys.auth else { continue };
            if let Auth::OAuth2ClientCredentials { token_url, .. } = auth
                && !(token_url.starts_with("https://") || token_url.starts_with("http://"))
            {
                return Err(ConfigError::Invalid {
                    key: format!("{name}.auth.token_url"),
                    message: "must start with https:// or http://".into(),
                });
            }
            for (key, secret) in auth.secrets() {
                secret.check(|| format!("{name}.auth.{key}"))?;
            }
        }
        Ok(())
    }

    /// Each secret that cannot be read on this machine, by its key, with why (the variable
    /// or file it names, never a value). `serve` would not start with one of these.
    pub fn unreadable_secrets(&self) -> Vec<(String, SecretError)> {
        let mut out = Vec::new();
        for (name, sys) in self.systems() {
            for (key, secret) in sys.auth.iter().flat_map(Auth::secrets) {
                if let Err(e) = secret.reveal() {
                    out.push((format!("{name}.auth.{key}"), e));
                }
            }
        }
        for (i, c) in self.connectors.iter().enumerate() {
            if let Some(Err(e)) = c.webhook_secret.as_ref().map(Secret::reveal) {
                out.push((format!("connectors[{i}].webhook_secret"), e));
            }
        }
        out
    }
}
