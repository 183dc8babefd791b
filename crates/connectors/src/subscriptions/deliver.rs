//! The sender of webhooks out. It follows the event log for each enabled subscription,
//! queueing a delivery per event of its types, and posts due deliveries, at most
//! `[subscriptions] concurrency` at once:
//!
//! - the body is `{"type","timestamp","data"}`: the event's type, when it was recorded, and
//!   its payload;
//! - `webhook-id` is the event's id (`evt_` and its sequence number), the same on every
//!   attempt; `webhook-timestamp` is the attempt's time, and `webhook-signature` signs both
//!   with the body under the subscription's secret;
//! - any 2xx delivers it; 410 Gone disables the subscription; anything else, or no answer,
//!   is tried again after the schedule's next wait, or after the endpoint's `Retry-After`
//!   when that is longer, until the schedule ends and the delivery is given up on.
//!
//! Every attempt is recorded for `GET /v1/subscriptions/{id}/attempts`. Leases make each
//! delivery go to one sender even when several instances share a PostgreSQL store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossdock_domain::Timestamp;
use crossdock_engine::Shutdown;
use crossdock_engine::config::SubscriptionsConfig;
use crossdock_store::{
    AnyStore, Attempt, AttemptOutcome, DueDelivery, Followed, Store, StoreError, SubscriptionStore,
    TYPED_SCAN,
};
use tokio::sync::Semaphore;

use crate::ClientError;
use crate::signatures::sign_standard;

/// How often the sender looks for new events and due deliveries.
pub const TICK: Duration = Duration::from_millis(100);

/// Most events queued for one subscription in one look at the log.
const PAGE: i64 = 1_000;

/// Most pages of the log read for one subscription per tick, so that one far behind does
/// not hold up the others' deliveries.
const PAGES_PER_TICK: usize = 8;

/// The longest `Retry-After` honoured; a longer one waits this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3_600);

/// How much of an endpoint's refusal is kept with its attempt.
const ERROR_CHARS: usize = 300;

/// How often finished deliveries past `keep_days` are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(3_600);

/// The id a delivery of event `seq` carries as `webhook-id`.
pub fn event_id(seq: i64) -> String {
    format!("evt_{seq}")
}

/// The body of a delivery of `d`.
pub fn body(d: &DueDelivery) -> String {
    let kind = serde_json::to_string(&d.event_type).expect("a string serialises");
    format!(
        r#"{{"type":{kind},"timestamp":"{}","data":{}}}"#,
        d.recorded_at, d.data
    )
}

/// Starts the sender; it ends after `shutdown`, once the attempts in flight are recorded.
pub fn start(
    store: AnyStore,
    config: &SubscriptionsConfig,
    shutdown: Shutdown,
) -> Result<tokio::task::JoinHandle<()>, ClientError> {
    let timeout = Duration::from_millis(config.timeout_ms);
    let sender = Arc::new(Sender {
        client: crate::tls::client("subscriptions", timeout, config.ca_file.as_deref())?,
        store,
        schedule: config.schedule_secs.clone(),
        keep: Duration::from_secs(u64::from(config.keep_days) * 86_400),
        lease: timeout + Duration::from_secs(30),
    });
    let slots = Arc::new(Semaphore::new(config.concurrency));
    Ok(tokio::spawn(sender.run(slots, shutdown)))
}

struct Sender {
    client: reqwest::Client,
    store: AnyStore,
    schedule: Vec<u64>,
    keep: Duration,
    lease: Duration,
}

impl Sender {
    async fn run(self: Arc<Self>, slots: Arc<Semaphore>, shutdown: Shutdown) {
        let total = slots.available_permits();
        let mut pruned = Instant::now();
        while !shutdown.is_triggered() {
            // With no subscription enabled nothing can be due: the store's writer is left
            // alone (a lease is a write).
            let enabled = match self.follow().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "subscriptions: cannot follow the event log");
                    1
                }
            };
            if enabled > 0
                && let Err(e) = self.send_due(&slots).await
            {
                tracing::warn!(error = %e, "subscriptions: cannot lease deliveries");
            }
            if pruned.elapsed() >= PRUNE_EVERY {
                pruned = Instant::now();
                let before = Timestamp(crossdock_engine::now().0 - self.keep.as_millis() as i64);
                if let Err(e) = self.store.prune_deliveries(before).await {
                    tracing::warn!(error = %e, "subscriptions: cannot prune old deliveries");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.wait() => {}
            }
        }
        // The attempts in flight finish and are recorded before the store closes.
        let _ = slots.acquire_many(total as u32).await;
    }

    /// Queues the events each enabled subscription has not yet been given; how many
    /// subscriptions are enabled.
    async fn follow(&self) -> Result<usize, StoreError> {
        let subs = self.store.followed().await?;
        let enabled = subs.len();
        if subs.is_empty() {
            return Ok(0);
        }
        let last = self.store.last_seq().await?;
        let due = crossdock_engine::now().plus_secs(self.wait_before(1));
        for mut sub in subs {
            for _ in 0..PAGES_PER_TICK {
                if sub.cursor >= last {
                    break;
                }
                let (to, seqs) = self.next_page(&sub, last).await?;
                if !self
                    .store
                    .queue_deliveries(&sub.id, sub.cursor, to, seqs, due)
                    .await?
                {
                    // Another instance, or a replay, moved it: the next tick reads it again.
                    break;
                }
                sub.cursor = to;
            }
        }
        Ok(enabled)
    }

    /// The events of `sub`'s types after its cursor, with where the cursor goes: a read by
    /// type looks at a bounded window of the log, so the cursor may move past events that
    /// are not its types without returning any.
    async fn next_page(&self, sub: &Followed, last: i64) -> Result<(i64, Vec<i64>), StoreError> {
        let events = self
            .store
            .events_after(sub.cursor, PAGE, Some(sub.event_types.clone()))
            .await?;
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let read_to = match seqs.last() {
            Some(&seq) if seqs.len() as i64 == PAGE => seq,
            end => sub
                .cursor
                .saturating_add(TYPED_SCAN)
                .min(last)
                .max(end.copied().unwrap_or(0)),
        };
        Ok((read_to.max(sub.cursor), seqs))
    }

    /// Leases what is due and sends it, as far as free slots allow.
    async fn send_due(self: &Arc<Self>, slots: &Arc<Semaphore>) -> Result<(), StoreError> {
        let free = slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let now = crossdock_engine::now();
        let until = now.plus_millis(self.lease.as_millis() as i64);
        let due = self.store.lease_deliveries(now, until, free as i64).await?;
        for d in due {
            let permit = slots.clone().acquire_owned().await.expect("never closed");
            let sender = self.clone();
            tokio::spawn(async move {
                let seq = d.seq;
                let attempt = sender.attempt(d).await;
                if let Err(e) = sender.store.finish_delivery(attempt).await {
                    tracing::warn!(error = %e, seq, "subscriptions: cannot record an attempt");
                }
                drop(permit);
            });
        }
        Ok(())
    }

    /// Seconds to wait before attempt `n` (1-based); 0 past the schedule's end.
    fn wait_before(&self, n: i32) -> i64 {
        let i = usize::try_from(n - 1).unwrap_or(0);
        self.schedule.get(i).map_or(0, |s| *s as i64)
    }

    /// Posts `d` once and says how it went.
    async fn attempt(&self, d: DueDelivery) -> Attempt {
        let n = d.attempts + 1;
        let at = crossdock_engine::now();
        let started = Instant::now();
        let sent = self.post(&d, at).await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status, error, retry_after) = match sent {
            Ok(Answer::Taken(status)) => (Some(status), None, None),
            Ok(Answer::Refused {
                status,
                error,
                retry_after,
            }) => (Some(status), Some(error), retry_after),
            Err(error) => (None, Some(error), None),
        };
        let (outcome, next_at) = match (status, error.is_none()) {
            (_, true) => (AttemptOutcome::Delivered, None),
            (Some(410), _) => (AttemptOutcome::Disabled, None),
            _ if (n as usize) >= self.schedule.len() => (AttemptOutcome::Failed, None),
            _ => {
                let wait = Duration::from_secs(self.wait_before(n + 1) as u64)
                    .max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER));
                let next = crossdock_engine::now().plus_millis(wait.as_millis() as i64);
                (AttemptOutcome::Retrying, Some(next))
            }
        };
        let error = match outcome {
            AttemptOutcome::Disabled => Some(format!(
                "{}: the endpoint answered 410 Gone, so the subscription is disabled; replay \
                 it once the endpoint takes deliveries again",
                error.unwrap_or_default()
            )),
            AttemptOutcome::Failed => Some(format!(
                "{}; that was the schedule's last attempt: replay the subscription to send it \
                 again",
                error.unwrap_or_default()
            )),
            _ => error,
        };
        match outcome {
            AttemptOutcome::Disabled | AttemptOutcome::Failed => tracing::warn!(
                subscription = %d.subscription, seq = d.seq, attempt = n,
                error = error.as_deref().unwrap_or(""), "subscription delivery given up"
            ),
            _ => {}
        }
        Attempt {
            id: 0,
            subscription: d.subscription,
            seq: d.seq,
            attempt: n,
            at,
            status,
            error,
            duration_ms,
            outcome,
            next_at,
        }
    }

    async fn post(&self, d: &DueDelivery, at: Timestamp) -> Result<Answer, String> {
        let body = body(d);
        let id = event_id(d.seq);
        let timestamp = at.0.div_euclid(1000);
        let signature = sign_standard(&d.secret, &id, timestamp, body.as_bytes())
            .map_err(|e| format!("cannot sign: {e}"))?;
        let res = self
            .client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = res.status();
        if status.is_success() {
            return Ok(Answer::Taken(status.as_u16()));
        }
        let retry_after = crate::remote::retry_after(res.headers());
        let text = res.text().await.unwrap_or_default();
        let text: String = text.trim().chars().take(ERROR_CHARS).collect();
        Ok(Answer::Refused {
            status: status.as_u16(),
            error: match text.is_empty() {
                true => format!("the endpoint answered {status}"),
                false => format!("the endpoint answered {status}: {text}"),
            },
            retry_after,
        })
    }
}

const USER_AGENT: &str = concat!("crossdock/", env!("CARGO_PKG_VERSION"));

enum Answer {
    Taken(u16),
    Refused {
        status: u16,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// A failed call in words: what kind of failure, then reqwest's own account.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "the call failed"
    };
    let mut text = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text.chars().take(ERROR_CHARS).collect()
}
