//! Configuration: one TOML file, every field documented, unknown keys refused, checked after
//! loading. `CROSSDOCK_STORE_URL` and `CROSSDOCK_LISTEN` override the file.

use std::path::Path;

use crossdock_domain::estate::EstateError;
use serde::Deserialize;

mod connectors;
mod credentials;
mod erp_routes;
mod estate;
mod ownership;
mod pack_checks;
mod runtime;
mod slas;
mod subscriptions;
mod summary;
mod systems;

pub use connectors::{ConnectorConfig, ConnectorKind};
pub use credentials::{Auth, Secret, SecretError};
pub use erp_routes::{ErpRoutes, ErpTarget};
pub use estate::{BackorderPolicy, ChannelConfig, CreditCheck, LocationConfig, SafetyStockConfig};
pub use ownership::{Domain, Owners, Ownership};
pub use runtime::{InventoryConfig, ServerConfig, StoreConfig, redact_url};
pub use slas::{Flow, MAX_WINDOW_MINUTES, SlaConfig};
pub use subscriptions::SubscriptionsConfig;
pub use systems::{OPTIONAL_SYSTEMS, SYSTEMS, SystemSettings};

/// Why a configuration was refused. The message names the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has a wrong or unknown key.
    #[error("{0}")]
    Parse(String),
    /// A value is out of range.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, as written in the file.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Locations and channels do not agree.
    #[error("{0}")]
    Estate(#[from] EstateError),
}

/// A parse error as the line, the column, the key and what is wrong, without quoting the
/// line: the line may hold a credential.
fn parse_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let Some(span) = e.span() else {
        return ConfigError::Parse(format!("TOML parse error: {}", e.message()));
    };
    let before = &text[..span.start.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - line_start + 1;
    // The key whose value is wrong: the name before the last `=` ahead of the error.
    let key = before[line_start..].rfind('=').and_then(|eq| {
        let head = before[line_start..line_start + eq].trim_end();
        let part_of_key = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"');
        let start = head
            .char_indices()
            .rev()
            .find(|(_, c)| !part_of_key(*c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let name = head[start..].trim_matches('"');
        (!name.is_empty()).then(|| format!(" (`{name}`)"))
    });
    ConfigError::Parse(format!(
        "TOML parse error at line {line}, column {column}{}: {}",
        key.unwrap_or_default(),
        e.message()
    ))
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where state is kept.
    pub store: StoreConfig,
    /// The HTTP server.
    #[serde(default)]
    pub server: ServerConfig,
    /// Reservation and batching settings.
    #[serde(default)]
    pub inventory: InventoryConfig,
    /// Warehouses, stores, 3PLs and drop-ship suppliers.
    pub locations: Vec<LocationConfig>,
    /// Sales channels.
    pub channels: Vec<ChannelConfig>,
    /// Units held back per SKU and location.
    #[serde(default)]
    pub safety_stock: SafetyStockConfig,
    /// The outside systems by name, each with the pack that speaks its API
    /// (`[[connectors]]`).
    #[serde(default)]
    pub connectors: Vec<ConnectorConfig>,
    /// The ERP: sales orders, credit status, fulfilments, cancellations. Without it, its
    /// jobs wait in the queue.
    pub erp: Option<SystemSettings>,
    /// The warehouse system orders are released to. Without it, releases wait in the queue.
    pub wms: Option<SystemSettings>,
    /// The payment service that captures on shipment and voids on cancel. Without it, those
    /// jobs wait in the queue.
    pub payment: Option<SystemSettings>,
    /// The fraud screening service. Without it, orders pass screening unchecked.
    pub fraud: Option<SystemSettings>,
    /// The tax service orders' tax is committed to. Without it, tax commits pass.
    pub tax: Option<SystemSettings>,
    /// The storefront API that hears of tracking, invoices and cancellations. Without it,
    /// those jobs wait in the queue.
    pub storefront: Option<SystemSettings>,
    /// How the order saga decides.
    #[serde(default)]
    pub saga: SagaConfig,
    /// Which system owns each domain of data (`[ownership]`).
    #[serde(default)]
    pub ownership: Ownership,
    /// How webhooks out are delivered (`[subscriptions]`).
    #[serde(default)]
    pub subscriptions: SubscriptionsConfig,
    /// A latency target per flow (`[[slas]]`).
    #[serde(default)]
    pub slas: Vec<SlaConfig>,
}

/// `[saga]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SagaConfig {
    /// A fraud score (0–100) at or above which an order is put on hold for review.
    #[serde(default = "default_hold_score")]
    pub fraud_hold_score: u32,
    /// Longest wait for the ERP's credit answer inside an intake request (channels with
    /// `credit_check = "sync"`), in milliseconds; past it the last known status is used.
    #[serde(default = "default_credit_timeout")]
    pub credit_check_timeout_ms: u64,
    /// How long a clear credit answer from the ERP stands as a new order's credit check, in
    /// milliseconds: an order taken in on a `credit_check = "sync"` channel was checked in its
    /// request, and the saga's credit step does not ask again within this time. A hold is
    /// always asked again.
    #[serde(default = "default_credit_answer_valid")]
    pub credit_answer_valid_ms: u64,
}

fn default_credit_timeout() -> u64 {
    800
}

fn default_credit_answer_valid() -> u64 {
    5_000
}

impl Default for SagaConfig {
    fn default() -> Self {
        Self {
            fraud_hold_score: default_hold_score(),
            credit_check_timeout_ms: default_credit_timeout(),
            credit_answer_valid_ms: default_credit_answer_valid(),
        }
    }
}

fn default_hold_score() -> u32 {
    80
}

impl Config {
    /// Reads, parses and checks the file at `path`, then applies environment overrides.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = Self::parse(&text)?;
        if let Some(dir) = path.parent() {
            config.relative_to(dir);
        }
        if let Ok(url) = std::env::var("CROSSDOCK_STORE_URL") {
            config.store.url = url;
        }
        if let Ok(listen) = std::env::var("CROSSDOCK_LISTEN") {
            config.server.listen = listen.parse().map_err(|e| ConfigError::Invalid {
                key: "CROSSDOCK_LISTEN".into(),
                message: format!("`{listen}` is not an address such as 127.0.0.1:8080 ({e})"),
            })?;
        }
        Ok(config)
    }

    /// Reads connectors' mapping files and the listener's TLS files from `dir` when written
    /// relative: they are written relative to the configuration file.
    pub fn relative_to(&mut self, dir: &Path) {
        let tls = [&mut self.server.tls_cert, &mut self.server.tls_key];
        for p in tls.into_iter().flatten() {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        for c in &mut self.connectors {
            for p in c.mappings.values_mut() {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
    }

    /// Parses and checks TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| parse_error(text, &e))?;
        config.take_connectors()?;
        config.check()?;
        config.check_ownership()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.check_credentials()?;
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            key: key.to_string(),
            message: message.to_string(),
        };
        let url = &self.store.url;
        if !(url.starts_with("sqlite://")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "store.url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if self.locations.is_empty() {
            return Err(invalid("locations", "define at least one [[locations]]"));
        }
        if self.channels.is_empty() {
            return Err(invalid("channels", "define at least one [[channels]]"));
        }
        if self.inventory.idempotency_key_ttl_hours == 0 {
            return Err(invalid(
                "inventory.idempotency_key_ttl_hours",
                "must be at least 1",
            ));
        }
        if self.inventory.max_batch == 0 {
            return Err(invalid("inventory.max_batch", "must be at least 1"));
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return Err(invalid(
                "server.tls_cert",
                "set server.tls_cert and server.tls_key together (PEM files), or neither",
            ));
        }
        if !(1..=1_000_000).contains(&self.server.key_rate_per_sec) {
            return Err(invalid(
                "server.key_rate_per_sec",
                "must be from 1 to 1000000",
            ));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        for (key, ms) in [
            ("server.header_timeout_ms", self.server.header_timeout_ms),
            ("server.body_timeout_ms", self.server.body_timeout_ms),
            ("server.idle_timeout_ms", self.server.idle_timeout_ms),
        ] {
            if !(100..=3_600_000).contains(&ms) {
                return Err(invalid(key, "must be from 100 to 3600000 (one hour)"));
            }
        }
        if self.server.max_connections < 16 {
            return Err(invalid("server.max_connections", "must be at least 16"));
        }
        let routed = self.erp_routes().map(|r| r.targets).unwrap_or_default();
        let routed = routed.iter().map(|t| (t.system.as_str(), &t.settings));
        for (name, sys) in self.systems().into_iter().chain(routed) {
            let key = |field: &str| format!("{name}.{field}");
            let bad = |key: String, message: &str| ConfigError::Invalid {
                key,
                message: message.into(),
            };
            if !(sys.url.starts_with("http://") || sys.url.starts_with("https://")) {
                return Err(bad(key("url"), "must start with http:// or https://"));
            }
            if sys.lease_ms <= sys.timeout_ms {
                return Err(bad(key("lease_ms"), "must be longer than timeout_ms"));
            }
            if sys.rate_per_sec <= 0.0 || sys.concurrency == 0 || sys.max_attempts == 0 {
                return Err(bad(
                    name.to_string(),
                    "rate_per_sec, concurrency and max_attempts must be above zero",
                ));
            }
        }
        if self.saga.fraud_hold_score > 100 {
            return Err(invalid("saga.fraud_hold_score", "must be 0 to 100"));
        }
        for code in self.safety_stock.per_location.keys() {
            if !self.locations.iter().any(|l| &l.code == code) {
                return Err(ConfigError::Invalid {
                    key: format!("safety_stock.per_location.{code}"),
                    message: "names a location not defined under [[locations]]".into(),
                });
            }
        }
        self.subscriptions.check()?;
        slas::check(&self.slas)?;
        self.estate()?;
        Ok(())
    }
}

/// The example configuration from the README; `crossdock demo` and the tests run on it.
pub const EXAMPLE: &str = include_str!("../../../../crossdock.example.toml");

#[cfg(test)]
mod tests;
