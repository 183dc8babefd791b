//! Webhook subscriptions at rest: each subscription with how far it has followed the event
//! log, one delivery per event due to it (pending, delivered or failed), and every attempt at
//! one. The SQL is shared where both backends speak it; each backend runs it in its own way.

use std::future::Future;

use crossdock_domain::Timestamp;
use serde::Serialize;

use crate::{AnyStore, Result};

/// A subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    /// `sub_…`.
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The event types delivered.
    pub event_types: Vec<String>,
    /// The `whsec_…` secret deliveries are signed with; never listed.
    #[serde(skip)]
    pub secret: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// The event log has been followed for it up to this sequence number.
    pub cursor: i64,
    /// When it was disabled (the endpoint answered 410 Gone); deliveries wait meanwhile.
    pub disabled_at: Option<Timestamp>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Deliveries not yet made (due or waiting out a retry).
    pub pending: i64,
    /// Deliveries given up on after the last attempt of the schedule.
    pub failed: i64,
}

/// A subscription as the sender follows the event log for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    /// The subscription.
    pub id: String,
    /// The event types delivered.
    pub event_types: Vec<String>,
    /// The event log has been followed for it up to this sequence number.
    pub cursor: i64,
}

/// A delivery leased to a sender, with what it needs to post it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    /// The subscription.
    pub subscription: String,
    /// Its URL.
    pub url: String,
    /// Its secret.
    pub secret: String,
    /// The event's sequence number.
    pub seq: i64,
    /// Attempts made so far.
    pub attempts: i32,
    /// The event's type.
    pub event_type: String,
    /// When the event was recorded.
    pub recorded_at: Timestamp,
    /// The event's payload, as JSON text.
    pub data: String,
}

/// How an attempt ended, and so what became of its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The endpoint took it (2xx): the delivery is done.
    Delivered,
    /// It failed and is tried again at `next_at`.
    Retrying,
    /// It failed on the schedule's last attempt: the delivery is given up on.
    Failed,
    /// The endpoint answered 410 Gone: the subscription is disabled.
    Disabled,
}

impl AttemptOutcome {
    /// Every outcome.
    pub const ALL: [AttemptOutcome; 4] = [
        AttemptOutcome::Delivered,
        AttemptOutcome::Retrying,
        AttemptOutcome::Failed,
        AttemptOutcome::Disabled,
    ];

    /// Its name at rest and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retrying => "retrying",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Disabled => "disabled",
        }
    }

    /// The outcome named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// The state its delivery is left in.
    pub(crate) fn delivery_state(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retrying => "pending",
            AttemptOutcome::Failed | AttemptOutcome::Disabled => "failed",
        }
    }
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// Its position among attempts (set by the store; 0 before it is recorded).
    pub id: i64,
    /// The subscription.
    pub subscription: String,
    /// The event's sequence number.
    pub seq: i64,
    /// 1 for the first attempt at this delivery, 2 for the next…
    pub attempt: i32,
    /// When it was made.
    pub at: Timestamp,
    /// The endpoint's HTTP status; none when no answer came.
    pub status: Option<u16>,
    /// What went wrong, when something did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// When the next attempt is due (for [`AttemptOutcome::Retrying`]).
    pub next_at: Option<Timestamp>,
}

/// Which attempts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AttemptQuery {
    /// The subscription's.
    pub subscription: String,
    /// Only at this event.
    pub seq: Option<i64>,
    /// Only attempts older than this one (a page's last id: the cursor to the next page).
    pub after: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Storage for subscriptions and their deliveries. Both backends pass the same conformance
/// suite.
pub trait SubscriptionStore: Send + Sync + 'static {
    /// Records a new subscription.
    fn create_subscription(&self, s: Subscription) -> impl Future<Output = Result<()>> + Send;

    /// Every subscription, oldest first.
    fn subscriptions(&self) -> impl Future<Output = Result<Vec<Subscription>>> + Send;

    /// The enabled subscriptions with their cursors, for following the event log (cheaper
    /// than [`SubscriptionStore::subscriptions`]: no counts).
    fn followed(&self) -> impl Future<Output = Result<Vec<Followed>>> + Send;

    /// Forgets a subscription with its deliveries and attempts; false when there was none.
    fn delete_subscription(&self, id: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Moves the subscription's cursor from `from` to `to` and makes the events `seqs` due
    /// to it now (again, when one was delivered before), all or nothing. False, and nothing
    /// written, when the cursor is no longer at `from` (another instance moved it, or a
    /// replay moved it back) or the subscription is gone.
    fn queue_deliveries(
        &self,
        id: &str,
        from: i64,
        to: i64,
        seqs: Vec<i64>,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Moves the subscription's cursor back to `after` (when it is past it), so every event
    /// after it is delivered again, and enables it if it was disabled; false when there is
    /// no such subscription.
    fn replay(&self, id: &str, after: i64) -> impl Future<Output = Result<bool>> + Send;

    /// Leases up to `limit` deliveries due by `now` to enabled subscriptions, oldest due
    /// first, until `until`: each goes to one sender, and comes back due if that sender
    /// never finishes it.
    fn lease_deliveries(
        &self,
        now: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<DueDelivery>>> + Send;

    /// Records an attempt and what it makes of its delivery (and, for
    /// [`AttemptOutcome::Disabled`], of its subscription). False, and nothing written, when
    /// the delivery was finished already by an attempt of the same number (a lease that
    /// lapsed) or is gone.
    fn finish_delivery(&self, attempt: Attempt) -> impl Future<Output = Result<bool>> + Send;

    /// Attempts by `query`, newest first.
    fn attempts(&self, query: AttemptQuery) -> impl Future<Output = Result<Vec<Attempt>>> + Send;

    /// Forgets finished deliveries and attempts older than `before`; how many rows went.
    fn prune_deliveries(&self, before: Timestamp) -> impl Future<Output = Result<u64>> + Send;
}

pub(crate) mod sql;

impl SubscriptionStore for AnyStore {
    async fn create_subscription(&self, sub: Subscription) -> Result<()> {
        delegate!(self, s => s.create_subscription(sub))
    }
    async fn subscriptions(&self) -> Result<Vec<Subscription>> {
        delegate!(self, s => s.subscriptions())
    }
    async fn followed(&self) -> Result<Vec<Followed>> {
        delegate!(self, s => s.followed())
    }
    async fn delete_subscription(&self, id: &str) -> Result<bool> {
        delegate!(self, s => s.delete_subscription(id))
    }
    async fn queue_deliveries(
        &self,
        id: &str,
        from: i64,
        to: i64,
        seqs: Vec<i64>,
        now: Timestamp,
    ) -> Result<bool> {
        delegate!(self, s => s.queue_deliveries(id, from, to, seqs, now))
    }
    async fn replay(&self, id: &str, after: i64) -> Result<bool> {
        delegate!(self, s => s.replay(id, after))
    }
    async fn lease_deliveries(
        &self,
        now: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> Result<Vec<DueDelivery>> {
        delegate!(self, s => s.lease_deliveries(now, until, limit))
    }
    async fn finish_delivery(&self, attempt: Attempt) -> Result<bool> {
        delegate!(self, s => s.finish_delivery(attempt))
    }
    async fn attempts(&self, query: AttemptQuery) -> Result<Vec<Attempt>> {
        delegate!(self, s => s.attempts(query))
    }
    async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        delegate!(self, s => s.prune_deliveries(before))
    }
}
