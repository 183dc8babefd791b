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
    fn delivery_state(self) -> &'static str {
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

/// Columns of a listed subscription, with its pending and failed counts.
pub(crate) const LIST: &str = "SELECT s.id, s.url, s.event_types, s.secret, s.created_at, \
     s.cursor, s.disabled_at, s.disabled_reason, \
     (SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id \
      AND d.state = 'pending'), \
     (SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id \
      AND d.state = 'failed') \
     FROM subscriptions s ORDER BY s.created_at, s.id";

/// A listed subscription's row.
pub(crate) type Row = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    i64,
);

/// A listed row as a subscription.
pub(crate) fn from_row(row: Row) -> Result<Subscription> {
    let (id, url, types, secret, created_at, cursor, disabled_at, reason, pending, failed) = row;
    let event_types = followed_from_row((id.clone(), types, cursor))?.event_types;
    Ok(Subscription {
        id,
        url,
        event_types,
        secret,
        created_at: Timestamp(created_at),
        cursor,
        disabled_at: disabled_at.map(Timestamp),
        disabled_reason: reason,
        pending,
        failed,
    })
}

/// The enabled subscriptions: id, event types (JSON), cursor.
pub(crate) const FOLLOWED: &str = "SELECT id, event_types, cursor FROM subscriptions \
     WHERE disabled_at IS NULL ORDER BY created_at, id";

/// A followed row as what the sender needs.
pub(crate) fn followed_from_row((id, types, cursor): (String, String, i64)) -> Result<Followed> {
    let event_types = serde_json::from_str(&types)
        .map_err(|e| crate::StoreError::Corrupt(format!("subscription {id}'s event types: {e}")))?;
    Ok(Followed {
        id,
        event_types,
        cursor,
    })
}

/// Parameters: id, url, event types (JSON), secret, created at, cursor.
pub(crate) const CREATE: &str = "INSERT INTO subscriptions (id, url, event_types, secret, \
     created_at, cursor) VALUES ($1, $2, $3, $4, $5, $6)";

/// Moves a cursor that is still where it was. Parameters: id, from, to.
pub(crate) const MOVE_CURSOR: &str =
    "UPDATE subscriptions SET cursor = $3 WHERE id = $1 AND cursor = $2";

/// Makes one event due to a subscription now. Parameters: id, seq, now.
pub(crate) const QUEUE: &str = "INSERT INTO deliveries (subscription_id, seq, state, attempts, \
     next_at, updated_at) VALUES ($1, $2, 'pending', 0, $3, $3) \
     ON CONFLICT (subscription_id, seq) DO UPDATE SET state = 'pending', attempts = 0, \
     next_at = excluded.next_at, updated_at = excluded.updated_at";

/// Parameters: id, after.
pub(crate) const REPLAY: &str = "UPDATE subscriptions SET \
     cursor = CASE WHEN cursor > $2 THEN $2 ELSE cursor END, \
     disabled_at = NULL, disabled_reason = NULL WHERE id = $1";

/// Ends a delivery's attempt. Parameters: id, seq, attempt number, state, next at, now.
pub(crate) const FINISH: &str = "UPDATE deliveries SET attempts = $3, state = $4, \
     next_at = $5, updated_at = $6 \
     WHERE subscription_id = $1 AND seq = $2 AND attempts = $3 - 1 AND state = 'pending'";

/// Parameters: id, seq, attempt, at, status, error, duration, outcome, next at.
pub(crate) const RECORD_ATTEMPT: &str = "INSERT INTO delivery_attempts (subscription_id, seq, \
     attempt, at, status, error, duration_ms, outcome, next_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Parameters: id, when, why.
pub(crate) const DISABLE: &str = "UPDATE subscriptions SET disabled_at = $2, \
     disabled_reason = $3 WHERE id = $1 AND disabled_at IS NULL";

/// Parameters: subscription, seq (NULL for any), after (NULL for none), limit.
pub(crate) const ATTEMPTS: &str = "SELECT id, subscription_id, seq, attempt, at, status, \
     error, duration_ms, outcome, next_at FROM delivery_attempts \
     WHERE subscription_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR seq = $2) \
     AND (CAST($3 AS BIGINT) IS NULL OR id < $3) ORDER BY id DESC LIMIT $4";

/// A listed attempt's row.
pub(crate) type AttemptRow = (
    i64,
    String,
    i64,
    i32,
    i64,
    Option<i32>,
    Option<String>,
    i64,
    String,
    Option<i64>,
);

/// A listed row as an attempt.
pub(crate) fn attempt_from_row(row: AttemptRow) -> Result<Attempt> {
    let (id, subscription, seq, attempt, at, status, error, duration_ms, outcome, next_at) = row;
    Ok(Attempt {
        id,
        subscription,
        seq,
        attempt,
        at: Timestamp(at),
        status: status.and_then(|s| u16::try_from(s).ok()),
        error,
        duration_ms,
        outcome: AttemptOutcome::parse(&outcome)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("attempt outcome `{outcome}`")))?,
        next_at: next_at.map(Timestamp),
    })
}

/// The parameters [`FINISH`] takes after the id, seq and number: state and next at.
pub(crate) fn finish_params(a: &Attempt) -> (&'static str, i64) {
    (a.outcome.delivery_state(), a.next_at.map_or(0, |t| t.0))
}

/// Statements that forget what is older than `$1`, in order.
pub(crate) const PRUNE: [&str; 2] = [
    "DELETE FROM deliveries WHERE state <> 'pending' AND updated_at < $1",
    "DELETE FROM delivery_attempts WHERE at < $1",
];

/// Statements that forget a subscription `$1`, in order (the last says whether it was).
pub(crate) const DELETE: [&str; 3] = [
    "DELETE FROM delivery_attempts WHERE subscription_id = $1",
    "DELETE FROM deliveries WHERE subscription_id = $1",
    "DELETE FROM subscriptions WHERE id = $1",
];

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
