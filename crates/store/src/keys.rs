//! API keys at rest: the SHA-256 of each key (never the key), its name, scopes, rate and the
//! system it writes as, when it was made, last used and revoked. The SQL is the same on both
//! backends; each runs it in its own way.

use std::future::Future;

use crossdock_domain::{Scope, Timestamp};
use serde::Serialize;

use crate::{AnyStore, Result, StoreError};

/// An API key as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredKey {
    /// Its name, unique among live keys.
    pub name: String,
    /// SHA-256 of the key, hex; never listed.
    #[serde(skip)]
    pub hash: String,
    /// The key's first characters (`cdk_` and 8 more), to tell keys apart without the key.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Requests a second it may make; none for the server's default.
    pub rate_per_sec: Option<u32>,
    /// The connector it writes as (`[ownership]` applies to it); none for any.
    pub system: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When a request last carried it (kept to the nearest few seconds).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked; a revoked key is refused.
    pub revoked_at: Option<Timestamp>,
}

/// Storage for API keys. Both backends pass the same conformance suite.
pub trait KeyStore: Send + Sync + 'static {
    /// Records a new key; false, and nothing written, when a live key has its name.
    fn create_key(&self, key: StoredKey) -> impl Future<Output = Result<bool>> + Send;

    /// Every key, revoked ones too, oldest first.
    fn keys(&self) -> impl Future<Output = Result<Vec<StoredKey>>> + Send;

    /// The keys not revoked, oldest first: what the server reads every second.
    fn live_keys(&self) -> impl Future<Output = Result<Vec<StoredKey>>> + Send;

    /// Revokes the live key named `name` at `at`; false when there is none.
    fn revoke_key(&self, name: &str, at: Timestamp) -> impl Future<Output = Result<bool>> + Send;

    /// Records when each key (by hash) was last used; a time older than the one kept is
    /// ignored.
    fn mark_keys_used(
        &self,
        used: Vec<(String, Timestamp)>,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Records a key. Parameters: name, hash, prefix, scopes, rate, system, created at.
pub(crate) const CREATE: &str = "INSERT INTO api_keys (name, hash, prefix, scopes, \
     rate_per_sec, system, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

/// Every key, oldest first.
pub(crate) const LIST: &str = "SELECT name, hash, prefix, scopes, rate_per_sec, system, \
     created_at, last_used_at, revoked_at FROM api_keys ORDER BY id";

/// The keys not revoked, oldest first.
pub(crate) const LIST_LIVE: &str = "SELECT name, hash, prefix, scopes, rate_per_sec, system, \
     created_at, last_used_at, revoked_at FROM api_keys WHERE revoked_at IS NULL ORDER BY id";

/// Revokes the live key of a name. Parameters: name, at.
pub(crate) const REVOKE: &str =
    "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL";

/// Moves a key's last use forward. Parameters: hash, at.
pub(crate) const MARK_USED: &str = "UPDATE api_keys SET last_used_at = $2 WHERE hash = $1 \
     AND (last_used_at IS NULL OR last_used_at < $2)";

/// A listed row: name, hash, prefix, scopes, rate, system, created, last used, revoked.
pub(crate) type Row = (
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);

/// Scopes as kept: their names, comma-separated.
pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}

/// A listed row as a key.
pub(crate) fn from_row(row: Row) -> Result<StoredKey> {
    let (name, hash, prefix, scopes, rate, system, created, used, revoked) = row;
    let scopes = Scope::parse_list(&scopes)
        .map_err(|s| StoreError::Corrupt(format!("api key {name}: no scope {s}")))?;
    Ok(StoredKey {
        name,
        hash,
        prefix,
        scopes,
        rate_per_sec: rate.and_then(|r| u32::try_from(r).ok()),
        system,
        created_at: Timestamp(created),
        last_used_at: used.map(Timestamp),
        revoked_at: revoked.map(Timestamp),
    })
}

impl KeyStore for AnyStore {
    async fn create_key(&self, key: StoredKey) -> Result<bool> {
        delegate!(self, s => s.create_key(key))
    }
    async fn keys(&self) -> Result<Vec<StoredKey>> {
        delegate!(self, s => s.keys())
    }
    async fn live_keys(&self) -> Result<Vec<StoredKey>> {
        delegate!(self, s => s.live_keys())
    }
    async fn revoke_key(&self, name: &str, at: Timestamp) -> Result<bool> {
        delegate!(self, s => s.revoke_key(name, at))
    }
    async fn mark_keys_used(&self, used: Vec<(String, Timestamp)>) -> Result<()> {
        delegate!(self, s => s.mark_keys_used(used))
    }
}
