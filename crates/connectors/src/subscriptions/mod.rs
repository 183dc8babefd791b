//! Webhooks out: subscriptions made through `/v1/subscriptions` and the sender that pushes
//! them the events they asked for, signed by the Standard Webhooks scheme ([`deliver`]).
//!
//! A subscription follows the event log from where it stood when it was made; `replay`
//! moves it back to any sequence number, and every event after it is delivered again with
//! its own `webhook-id`, so a receiver that kept the ids can tell a replay from news.

pub mod deliver;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crossdock_domain::event_types::{EVENT_TYPES, is_event_type};
use crossdock_engine::EngineError;
use crossdock_store::{
    AnyStore, Attempt, AttemptQuery, Store, StoreError, Subscription, SubscriptionStore,
};
use ring::rand::{SecureRandom, SystemRandom};

/// Most subscriptions a hub keeps.
pub const MAX_SUBSCRIPTIONS: usize = 100;

/// Longest URL a subscription may name.
pub const MAX_URL_CHARS: usize = 2_000;

/// Every subscription id starts with this.
pub const ID_PREFIX: &str = "sub_";

/// Why a subscription call failed.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionsError {
    /// A field of the request is not valid.
    #[error("{field}: {detail}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// There is no such subscription.
    #[error("no subscription `{0}`")]
    NotFound(String),
    /// The hub holds [`MAX_SUBSCRIPTIONS`] already.
    #[error("the hub holds {MAX_SUBSCRIPTIONS} subscriptions already, the most it keeps")]
    TooMany,
    /// The store failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for SubscriptionsError {
    fn from(e: StoreError) -> Self {
        SubscriptionsError::Engine(e.into())
    }
}

/// What a new subscription asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    /// Where deliveries go: an `http://` or `https://` URL.
    pub url: String,
    /// The event types to deliver, each from the catalogue.
    pub event_types: Vec<String>,
}

/// Subscriptions as a use case: made, listed, replayed, deleted, and their attempts read.
/// Cheap to clone.
#[derive(Clone)]
pub struct Subscriptions {
    store: AnyStore,
}

impl Subscriptions {
    /// Subscriptions kept in `store`.
    pub fn new(store: AnyStore) -> Self {
        Self { store }
    }

    /// Checks `new` and makes it a subscription that receives every event of its types from
    /// now on. The answer is the only place its secret is ever given.
    pub async fn create(&self, new: NewSubscription) -> Result<Subscription, SubscriptionsError> {
        let event_types = check(&new)?;
        if self.store.subscriptions().await?.len() >= MAX_SUBSCRIPTIONS {
            return Err(SubscriptionsError::TooMany);
        }
        let sub = Subscription {
            id: format!(
                "{ID_PREFIX}{}",
                ulid::Ulid::new().to_string().to_lowercase()
            ),
            url: new.url,
            event_types,
            secret: new_secret(),
            created_at: crossdock_engine::now(),
            cursor: self.store.last_seq().await?,
            disabled_at: None,
            disabled_reason: None,
            pending: 0,
            failed: 0,
        };
        self.store.create_subscription(sub.clone()).await?;
        Ok(sub)
    }

    /// Every subscription, oldest first.
    pub async fn list(&self) -> Result<Vec<Subscription>, SubscriptionsError> {
        Ok(self.store.subscriptions().await?)
    }

    /// One subscription.
    pub async fn get(&self, id: &str) -> Result<Subscription, SubscriptionsError> {
        self.list()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| SubscriptionsError::NotFound(id.to_string()))
    }

    /// Deletes a subscription: nothing more is sent to it, and its attempts are forgotten.
    pub async fn delete(&self, id: &str) -> Result<(), SubscriptionsError> {
        match self.store.delete_subscription(id).await? {
            true => Ok(()),
            false => Err(SubscriptionsError::NotFound(id.to_string())),
        }
    }

    /// Delivers every event of the subscription's types after `after` again (and enables
    /// the subscription if an endpoint's 410 had disabled it); the subscription afterwards.
    pub async fn replay(&self, id: &str, after: i64) -> Result<Subscription, SubscriptionsError> {
        if after < 0 {
            return Err(SubscriptionsError::Invalid {
                field: "after",
                detail: "must be 0 or more".into(),
            });
        }
        if !self.store.replay(id, after).await? {
            return Err(SubscriptionsError::NotFound(id.to_string()));
        }
        self.get(id).await
    }

    /// A subscription's attempts by `query`, newest first.
    pub async fn attempts(&self, query: AttemptQuery) -> Result<Vec<Attempt>, SubscriptionsError> {
        let id = query.subscription.clone();
        let attempts = self.store.attempts(query).await?;
        if attempts.is_empty() {
            // Tell an empty list from a subscription that does not exist.
            self.get(&id).await?;
        }
        Ok(attempts)
    }
}

/// The event types `new` asks for, deduplicated in catalogue order, once its URL and types
/// are found valid.
fn check(new: &NewSubscription) -> Result<Vec<String>, SubscriptionsError> {
    let invalid = |field, detail: String| SubscriptionsError::Invalid { field, detail };
    if new.url.chars().count() > MAX_URL_CHARS {
        return Err(invalid(
            "url",
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    match reqwest::Url::parse(&new.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        Ok(_) => {
            return Err(invalid(
                "url",
                "must be an http:// or https:// URL with a host".into(),
            ));
        }
        Err(e) => return Err(invalid("url", format!("is not a URL ({e})"))),
    }
    if new.event_types.is_empty() {
        return Err(invalid(
            "event_types",
            format!("name at least one of {}", EVENT_TYPES.join(", ")),
        ));
    }
    if let Some(unknown) = new.event_types.iter().find(|t| !is_event_type(t)) {
        let shown: String = unknown.chars().take(64).collect();
        return Err(invalid(
            "event_types",
            format!(
                "`{shown}` is not an event type; the types are {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    Ok(EVENT_TYPES
        .iter()
        .filter(|t| new.event_types.iter().any(|n| n == *t))
        .map(|t| t.to_string())
        .collect())
}

/// A new `whsec_` secret: 32 random bytes, base64.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    format!("whsec_{}", STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(url: &str, types: &[&str]) -> NewSubscription {
        NewSubscription {
            url: url.into(),
            event_types: types.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn urls_and_event_types_are_checked() {
        let ok = check(&new(
            "https://erp.example/hooks",
            &["stock.changed", "order.accepted", "stock.changed"],
        ))
        .unwrap();
        assert_eq!(ok, ["order.accepted", "stock.changed"]);
        for (url, types, field) in [
            ("ftp://x/y", &["order.accepted"][..], "url"),
            ("not a url", &["order.accepted"], "url"),
            ("http://", &["order.accepted"], "url"),
            ("http://x/y", &[], "event_types"),
            ("http://x/y", &["order.*"], "event_types"),
        ] {
            match check(&new(url, types)) {
                Err(SubscriptionsError::Invalid { field: f, .. }) => assert_eq!(f, field, "{url}"),
                other => panic!("{url} {types:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn secrets_are_standard_webhooks_secrets_and_differ() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let key = STANDARD.decode(a.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
        assert!(crate::signatures::sign_standard(&a, "evt_1", 1, b"{}").is_ok());
    }
}
