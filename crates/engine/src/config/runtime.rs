//! `[store]`, `[server]` and `[inventory]`: where state is kept, how the API serves, and how
//! reservations and commits are tuned.

use std::net::SocketAddr;

use serde::Deserialize;

/// `[store]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` (embedded, the default) or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

/// Hides the password in a store URL, for logs and summaries.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Longest wait for a request's headers, in milliseconds; then the connection is closed.
    pub header_timeout_ms: u64,
    /// Longest wait for a request's whole body, in milliseconds; then 408
    /// `REQUEST_TIMEOUT` and the connection is closed.
    pub body_timeout_ms: u64,
    /// A connection with nothing sent either way for this long, in milliseconds, is closed.
    pub idle_timeout_ms: u64,
    /// Most connections open at once; one more is answered 503 `SERVER_BUSY` and closed.
    pub max_connections: usize,
    /// Requests a second an API key made without `--rate-per-sec` may make; past it, 429
    /// `RATE_LIMITED`.
    pub key_rate_per_sec: u32,
    /// The listener's certificate chain (PEM); with `tls_key`, the API is served over
    /// HTTPS only.
    pub tls_cert: Option<std::path::PathBuf>,
    /// The private key of `tls_cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<std::path::PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 2 * 1024 * 1024,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: 4_096,
            key_rate_per_sec: 1_000,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// `[inventory]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryConfig {
    /// Lifetime of a reservation made without `ttl_seconds` (an unpaid cart), in seconds.
    pub default_ttl_seconds: u64,
    /// How often expired reservations are looked for, in milliseconds.
    pub expiry_sweep_ms: u64,
    /// Most commands committed in one transaction (group commit).
    pub max_batch: usize,
    /// How often another instance's commits are looked for, in milliseconds (PostgreSQL).
    pub refresh_ms: u64,
    /// How long an order's `Idempotency-Key` is remembered, in hours (at least 24 is
    /// advised). Natural keys (channel, external_id) are kept forever.
    pub idempotency_key_ttl_hours: u64,
    /// How often backordered orders are looked at again against the stock now sellable, in
    /// milliseconds.
    pub backorder_sweep_ms: u64,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            default_ttl_seconds: 1800,
            expiry_sweep_ms: 1000,
            max_batch: 1024,
            refresh_ms: 200,
            idempotency_key_ttl_hours: 24,
            backorder_sweep_ms: 1000,
        }
    }
}
