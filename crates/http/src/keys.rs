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
    check(&new, connectors)?;
    let key = generate();
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

/// A key's standing against its rate, for the `RateLimit-*` and `Retry-After` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests a second.
    pub limit: u32,
    /// Requests it may make at once now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until one more request is allowed (0 when one is).
    pub retry_after_secs: u64,
}

/// A key's use of its rate, over the last minute or two.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pressure {
    /// The highest share of its bucket in use, 0 to 1.
    pub peak_load: f64,
    /// Requests refused 429.
    pub refused: u64,
}

/// How long one window of [`Pressure`] runs; the last two are reported.
const WINDOW: Duration = Duration::from_secs(60);

/// One window of a bucket's use.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    peak: f64,
    refused: u64,
}

/// A token bucket holding up to one second of the rate, with how hard it was pressed.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    window_start: Instant,
    window: Window,
    previous: Window,
}

impl Bucket {
    fn full(rate: u32) -> Self {
        Self::holding(f64::from(rate), Instant::now())
    }

    fn holding(tokens: f64, at: Instant) -> Self {
        Self {
            tokens,
            at,
            window_start: at,
            window: Window::default(),
            previous: Window::default(),
        }
    }

    /// Starts a new window when this one has run its minute (forgetting the one before it,
    /// or both after a quiet spell).
    fn roll(&mut self, now: Instant) {
        let age = now.saturating_duration_since(self.window_start);
        if age >= WINDOW {
            self.previous = if age >= 2 * WINDOW {
                Window::default()
            } else {
                self.window
            };
            self.window = Window::default();
            self.window_start = now;
        }
    }

    fn refill(&mut self, rate: u32, now: Instant) {
        let rate = f64::from(rate);
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.at = now;
    }

    fn take(&mut self, rate: u32, now: Instant) -> Result<Quota, Quota> {
        self.refill(rate, now);
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let per_sec = f64::from(rate);
        self.roll(now);
        let load = 1.0 - (self.tokens / per_sec).clamp(0.0, 1.0);
        self.window.peak = self.window.peak.max(if allowed { load } else { 1.0 });
        self.window.refused += u64::from(!allowed);
        let quota = Quota {
            limit: rate,
            remaining: self.tokens.floor() as u32,
            reset_secs: ((per_sec - self.tokens) / per_sec).ceil() as u64,
            retry_after_secs: if allowed {
                0
            } else {
                ((1.0 - self.tokens) / per_sec).ceil().max(1.0) as u64
            },
        };
        if allowed { Ok(quota) } else { Err(quota) }
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
        let stored = self.inner.store.keys().await?;
        let old = self.live();
        let mut live = HashMap::new();
        for key in stored.iter().filter(|k| k.revoked_at.is_none()) {
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
    fn a_bucket_holds_a_second_and_refills_at_the_rate() {
        let start = Instant::now();
        let mut b = Bucket::holding(2.0, start);
        let first = b.take(2, start).unwrap();
        assert_eq!((first.limit, first.remaining, first.reset_secs), (2, 1, 1));
        b.take(2, start).unwrap();
        let refused = b.take(2, start).unwrap_err();
        assert_eq!((refused.remaining, refused.retry_after_secs), (0, 1));
        // Half a second at 2 a second gives one back; more time never gives more than 2.
        b.take(2, start + Duration::from_millis(500)).unwrap();
        b.refill(2, start + Duration::from_secs(60));
        assert_eq!(b.tokens, 2.0);
    }

    #[test]
    fn pressure_keeps_the_peak_and_the_refusals_of_the_last_two_minutes() {
        let start = Instant::now();
        let mut b = Bucket::holding(4.0, start);
        b.take(4, start).unwrap();
        assert_eq!((b.window.peak, b.window.refused), (0.25, 0));
        for _ in 0..3 {
            b.take(4, start).unwrap();
        }
        b.take(4, start).unwrap_err();
        assert_eq!((b.window.peak, b.window.refused), (1.0, 1));
        // A minute on, the last window is still counted; two quiet minutes on, nothing is.
        b.take(4, start + WINDOW).unwrap();
        assert_eq!((b.previous.peak, b.previous.refused), (1.0, 1));
        b.roll(start + WINDOW * 4);
        assert_eq!((b.window.peak, b.previous.peak), (0.0, 0.0));
    }

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
