//! API keys: made (`cdk_` and 192 random bits, shown once; only the SHA-256 kept), listed,
//! revoked, and checked on every request against an in-memory copy of the live keys, with
//! each key's token bucket.
//!
//! The copy is reloaded at once after a change made through the API, and every second
//! otherwise, so a key made or revoked by `crossdock keys` (or by another instance on the
//! same PostgreSQL) takes effect within a second. Last use is kept in memory and written on
//! the same beat, never on the request path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crossdock_domain::{Scope, Timestamp};
use crossdock_engine::Shutdown;
use crossdock_engine::inventory::now;
use crossdock_store::{AnyStore, KeyStore, StoreError, StoredKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

mod bucket;

use bucket::Bucket;
pub use bucket::{Pressure, Quota};

/// Every key begins so.
pub const PREFIX: &str = "cdk_";

/// How often the live keys are read again from the store.
const RELOAD: Duration = Duration::from_secs(1);

/// Most requests a second a key may be given.
pub const MAX_RATE: u32 = 1_000_000;

/// A key to make.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Its name: letters, digits, `.`, `_` and `-`, up to 64.
    pub name: String,
    /// What it may do; at least one.
    pub scopes: Vec<Scope>,
    /// Requests a second; none for the server's `key_rate_per_sec`.
    pub rate_per_sec: Option<u32>,
    /// The connector it writes as.
    pub system: Option<String>,
}

/// Why a key was not made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The request for it is not valid.
    #[error("{0}")]
    Invalid(String),
    /// A live key has the name.
    #[error("a key named {0} exists; revoke it first or choose another name")]
    NameTaken(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The SHA-256 of a key, hex: what is kept and looked up.
pub fn hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new key: `cdk_` and 192 bits from the system's random source, in hex.
pub fn generate() -> String {
    let mut bytes = [0u8; 24];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{secret}")
}

/// Makes a key in `store`: returns the key itself (to show once) and what was kept.
/// `connectors` are the systems a key may write as ([`crossdock_engine::Config::writers`]).
pub async fn create(
    store: &AnyStore,
    new: NewKey,
    connectors: &[String],
) -> Result<(String, StoredKey), KeyError> {
    create_with(store, new, connectors, generate()).await
}

/// Makes `key` a key in `store`, as [`create`] does with a fresh one; for a key agreed
/// beforehand (the benchmark's load generator holds one).
pub async fn create_with(
    store: &AnyStore,
    new: NewKey,
    connectors: &[String],
    key: String,
) -> Result<(String, StoredKey), KeyError> {
    check(&new, connectors)?;
    let stored = StoredKey {
        name: new.name.clone(),
        hash: hash(&key),
        prefix: key[..PREFIX.len() + 8].to_string(),
        scopes: new.scopes,
        rate_per_sec: new.rate_per_sec,
        system: new.system,
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    if !store.create_key(stored.clone()).await? {
        return Err(KeyError::NameTaken(new.name));
    }
    Ok((key, stored))
}

fn check(new: &NewKey, connectors: &[String]) -> Result<(), KeyError> {
    let name_ok = (1..=64).contains(&new.name.len())
        && (new.name.chars()).all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !name_ok {
        return Err(KeyError::Invalid(format!(
            "name: `{}` must be 1 to 64 letters, digits, `.`, `_` or `-`",
            new.name
        )));
    }
    if new.scopes.is_empty() {
        return Err(KeyError::Invalid(format!(
            "scopes: name at least one of {}",
            scope_names()
        )));
    }
    if let Some(rate) = new.rate_per_sec
        && !(1..=MAX_RATE).contains(&rate)
    {
        return Err(KeyError::Invalid(format!(
            "rate_per_sec must be 1 to {MAX_RATE}"
        )));
    }
    if let Some(system) = &new.system
        && !connectors.contains(system)
    {
        return Err(KeyError::Invalid(format!(
            "system: `{system}` is no connector, configured system or owner (the configuration has: {})",
            if connectors.is_empty() {
                "none".to_string()
            } else {
                connectors.join(", ")
            }
        )));
    }
    Ok(())
}

/// Every scope's name, comma-separated.
pub fn scope_names() -> String {
    let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    names.join(", ")
}

/// Who is calling: a live key, with its bucket.
#[derive(Debug)]
pub struct Caller {
    /// The key's name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The connector it writes as.
    pub system: Option<String>,
    /// Requests a second.
    pub rate: u32,
    bucket: Mutex<Bucket>,
    used_at: AtomicI64,
    flushed_at: AtomicI64,
}

impl Caller {
    fn new(key: &StoredKey, default_rate: u32) -> Self {
        let rate = key.rate_per_sec.unwrap_or(default_rate).max(1);
        let used = key.last_used_at.map_or(0, |t| t.0);
        Self {
            name: key.name.clone(),
            scopes: key.scopes.clone(),
            system: key.system.clone(),
            rate,
            bucket: Mutex::new(Bucket::full(rate)),
            used_at: AtomicI64::new(used),
            flushed_at: AtomicI64::new(used),
        }
    }

    /// Whether the key may do what `needed` allows.
    pub fn may(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|s| s.covers(needed))
    }

    /// Takes one request from the bucket: the quota left, or how long until one is free.
    pub fn take(&self) -> Result<Quota, Quota> {
        let mut bucket = self.bucket.lock().expect("a bucket is never poisoned");
        bucket.take(self.rate, Instant::now())
    }

    /// How close the key came to its rate over the last minute or two: the highest share
    /// of its bucket in use (0 to 1; 1 when it ran dry), and how many requests were refused.
    pub fn pressure(&self) -> Pressure {
        let mut bucket = self.bucket.lock().expect("a bucket is never poisoned");
        bucket.roll(Instant::now());
        let (now, before) = (&bucket.window, &bucket.previous);
        Pressure {
            peak_load: now.peak.max(before.peak),
            refused: now.refused + before.refused,
        }
    }

    fn used(&self, at: Timestamp) {
        self.used_at.fetch_max(at.0, Ordering::Relaxed);
    }
}

/// The live keys, as the gate checks them. Cheap to clone.
#[derive(Clone)]
pub struct ApiKeys {
    inner: Arc<Inner>,
}

struct Inner {
    store: AnyStore,
    default_rate: u32,
    connectors: Vec<String>,
    live: RwLock<Arc<HashMap<String, Arc<Caller>>>>,
}

impl ApiKeys {
    /// The keys in `store`, read once now; keys without a rate get `default_rate`, and a
    /// key may be bound to one of `connectors` (the systems writes come from).
    pub async fn load(
        store: AnyStore,
        default_rate: u32,
        connectors: Vec<String>,
    ) -> Result<Self, StoreError> {
        let keys = ApiKeys {
            inner: Arc::new(Inner {
                store,
                default_rate: default_rate.max(1),
                connectors,
                live: RwLock::new(Arc::default()),
            }),
        };
        keys.reload().await?;
        Ok(keys)
    }

    /// Reads the live keys again, keeping the buckets of those that stay, and writes when
    /// each was last used.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let stored = self.inner.store.live_keys().await?;
        let old = self.live();
        let mut live = HashMap::new();
        for key in &stored {
            let caller = match old.get(&key.hash) {
                Some(c) => c.clone(),
                None => Arc::new(Caller::new(key, self.inner.default_rate)),
            };
            live.insert(key.hash.clone(), caller);
        }
        *self.inner.live.write().expect("never poisoned") = Arc::new(live);
        self.flush_use(&old).await
    }

    async fn flush_use(&self, callers: &HashMap<String, Arc<Caller>>) -> Result<(), StoreError> {
        let mut used = Vec::new();
        for (hash, c) in callers {
            let at = c.used_at.load(Ordering::Relaxed);
            if c.flushed_at.swap(at, Ordering::Relaxed) < at {
                used.push((hash.clone(), Timestamp(at)));
            }
        }
        if used.is_empty() {
            return Ok(());
        }
        self.inner.store.mark_keys_used(used).await
    }

    fn live(&self) -> Arc<HashMap<String, Arc<Caller>>> {
        self.inner.live.read().expect("never poisoned").clone()
    }

    /// The rate of a key made without one.
    pub fn default_rate(&self) -> u32 {
        self.inner.default_rate
    }

    /// Whether any live key exists (if none, only loopback clients are served).
    pub fn any(&self) -> bool {
        !self.live().is_empty()
    }

    /// The live key `key` is, marked used now.
    pub fn find(&self, key: &str) -> Option<Arc<Caller>> {
        if !key.starts_with(PREFIX) {
            return None;
        }
        let caller = self.live().get(&hash(key)).cloned()?;
        caller.used(now());
        Some(caller)
    }

    /// Every live key's caller (for the rate-limit headroom).
    pub fn callers(&self) -> Vec<Arc<Caller>> {
        self.live().values().cloned().collect()
    }

    /// Makes a key; it is live when this returns.
    pub async fn create(&self, new: NewKey) -> Result<(String, StoredKey), KeyError> {
        let made = create(&self.inner.store, new, &self.inner.connectors).await?;
        self.reload().await?;
        Ok(made)
    }

    /// Every key, revoked ones too, oldest first.
    pub async fn list(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.inner.store.keys().await
    }

    /// Revokes the live key named `name`; it is refused when this returns. False when there
    /// is none.
    pub async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let revoked = self.inner.store.revoke_key(name, now()).await?;
        self.reload().await?;
        Ok(revoked)
    }

    /// Reloads the keys every second until `shutdown`, then writes last use once more.
    pub async fn follow(self, shutdown: Shutdown) {
        let mut beat = tokio::time::interval(RELOAD);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = beat.tick() => {}
            }
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "cannot read the API keys; the last ones read stay in force");
            }
        }
        let _ = self.flush_use(&self.live()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_scopes_rates_and_systems_are_checked() {
        let new = |name: &str, scopes: Vec<Scope>, rate, system: Option<&str>| NewKey {
            name: name.into(),
            scopes,
            rate_per_sec: rate,
            system: system.map(String::from),
        };
        let systems = vec!["netsuite".to_string()];
        let ok = new(
            "shop-1",
            vec![Scope::OrdersWrite],
            Some(10),
            Some("netsuite"),
        );
        assert!(check(&ok, &systems).is_ok());
        for bad in [
            new("", vec![Scope::OrdersWrite], None, None),
            new("has space", vec![Scope::OrdersWrite], None, None),
            new("shop", vec![], None, None),
            new("shop", vec![Scope::OrdersWrite], Some(0), None),
            new("shop", vec![Scope::OrdersWrite], None, Some("sap")),
        ] {
            assert!(
                matches!(check(&bad, &systems), Err(KeyError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_key_is_found_by_its_hash_only() {
        assert_eq!(hash("cdk_x"), hash("cdk_x"));
        assert_ne!(hash("cdk_x"), hash("cdk_y"));
        assert_eq!(hash("cdk_x").len(), 64);
    }
}
