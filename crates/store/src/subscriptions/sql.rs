//! The SQL both backends run for subscriptions, and their rows read back.

use crossdock_domain::Timestamp;

use super::{Attempt, AttemptOutcome, Followed, Subscription};
use crate::Result;

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

/// Statements that forget a subscription `$1`, in order (the first says whether it was).
///
/// The order matters on PostgreSQL, where a sender may be finishing a delivery meanwhile:
/// the subscription goes first, so a sweep queueing for it (which moves its cursor) finds
/// nothing; then its deliveries, which waits for a finishing sender's row lock or leaves it
/// nothing to finish; the attempts last, so the statement's snapshot sees every attempt a
/// finished sender recorded.
pub(crate) const DELETE: [&str; 3] = [
    "DELETE FROM subscriptions WHERE id = $1",
    "DELETE FROM deliveries WHERE subscription_id = $1",
    "DELETE FROM delivery_attempts WHERE subscription_id = $1",
];
