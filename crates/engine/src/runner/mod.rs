//! The job runner: leases outbox jobs for one outside system and runs them through that
//! system's handler within its rate and concurrency limits. Transient failures are retried
//! with backoff and jitter (honouring `Retry-After`); a system that keeps failing opens its
//! circuit, and while it is open nothing is sent (the queue grows, the system is not
//! flooded). Permanent failures and exhausted retries end the job as failed. A worker that
//! dies leaves its leases to lapse, and another worker takes the jobs over.

mod backlog;
pub mod policy;
pub mod tried;

pub use backlog::BACKLOG_WARN;
use backlog::Backlog;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossdock_domain::JobOutcome;
use crossdock_store::{AnyStore, Job, JobAttempt, JobFinish, LeaseRequest, Store, TraceStore};
use tokio::sync::Semaphore;

use crate::inventory::now;
use crate::shutdown::Shutdown;
use policy::{Backoff, Breaker, BreakerState, RateLimit};

/// How one try of a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    /// Done.
    Done,
    /// Worth trying again: a timeout, a refused connection, a 5xx, a 429.
    Transient {
        /// What happened.
        error: String,
        /// How long the system asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The handler ended the job itself, as failed with its exception, in the transaction
    /// that put the order on hold (fraud, credit).
    Held,
    /// Trying again will not help: the system refused the request itself.
    Permanent {
        /// Stable business code for the exception, e.g. `ERP_REJECTED`.
        code: crossdock_domain::error::ErrorCode,
        /// What happened.
        error: String,
    },
}

/// Runs jobs of one kind of system. Implemented by connectors.
pub trait Handler: Send + Sync + 'static {
    /// Runs one try of `job`.
    fn run(&self, job: &Job) -> impl Future<Output = JobResult> + Send;
}

/// Limits and retry policy for one outside system.
#[derive(Debug, Clone)]
pub struct SystemLimits {
    /// Average calls a second.
    pub rate_per_sec: f64,
    /// Calls allowed at once above the average.
    pub burst: u32,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Retries.
    pub backoff: Backoff,
    /// Consecutive failures that open the circuit.
    pub breaker_failures: u32,
    /// How long the circuit stays open before one probe.
    pub breaker_cool_down: Duration,
    /// How long a leased job is held before another worker may take it over.
    pub lease: Duration,
    /// How often to look for due jobs when there are none.
    pub poll: Duration,
}

impl Default for SystemLimits {
    fn default() -> Self {
        Self {
            rate_per_sec: 50.0,
            burst: 5,
            concurrency: 4,
            backoff: Backoff::default(),
            breaker_failures: 5,
            // One probe a second while a system is down: it is back within a second of
            // answering again, at the cost of one call a second to a system that is not.
            breaker_cool_down: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(100),
        }
    }
}

/// What a runner has done, for reports and tests.
#[derive(Debug, Default)]
pub struct RunnerStats {
    /// Tries started.
    pub tries: AtomicU64,
    /// Jobs done.
    pub done: AtomicU64,
    /// Tries rescheduled after a transient failure.
    pub retried: AtomicU64,
    /// Jobs failed (permanent or out of retries).
    pub failed: AtomicU64,
    /// Most tries in flight at once.
    pub max_in_flight: AtomicUsize,
    in_flight: AtomicUsize,
    /// Whether the system's circuit is open (or half-open, letting one probe through): its
    /// jobs wait rather than go out.
    pub circuit_open: AtomicBool,
}

impl RunnerStats {
    /// Tries in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn note(&self, breaker: &Breaker) {
        let open = !matches!(breaker.state(), BreakerState::Closed { .. });
        self.circuit_open.store(open, Ordering::Relaxed);
    }
}

/// Runs `system`'s jobs with `handler` until `shutdown`, then lets the tries in flight end.
pub async fn run_system<H: Handler>(
    store: AnyStore,
    system: String,
    handler: Arc<H>,
    limits: SystemLimits,
    shutdown: Shutdown,
    stats: Arc<RunnerStats>,
) {
    let owner = format!("{system}-{}", ulid::Ulid::new().to_string().to_lowercase());
    let slots = Arc::new(Semaphore::new(limits.concurrency.max(1)));
    let breaker = Arc::new(Mutex::new(Breaker::new(
        limits.breaker_failures,
        limits.breaker_cool_down,
    )));
    let clock = std::time::Instant::now();
    let micros = move || clock.elapsed().as_micros() as i64;
    let mut rate = RateLimit::new(limits.rate_per_sec, limits.burst, micros());
    let pause = |d: Duration| {
        let shutdown = shutdown.clone();
        async move {
            tokio::select! {
                _ = shutdown.wait() => {}
                _ = tokio::time::sleep(d) => {}
            }
        }
    };
    let mut backlog = Backlog::default();
    while !shutdown.is_triggered() {
        backlog.look(&store, &system).await;
        let free = slots.available_permits();
        if free == 0 {
            let _ = slots.clone().acquire_owned().await.map(drop);
            continue;
        }
        let allowed = {
            let mut b = breaker.lock().expect("breaker poisoned");
            let allow = b.allow(now().0);
            stats.note(&b);
            match allow {
                false => None,
                // A half-open circuit sends one probe.
                true if b.state() == BreakerState::HalfOpen => Some(1),
                true => Some(free),
            }
        };
        let Some(limit) = allowed else {
            pause(limits.poll).await;
            continue;
        };
        let request = LeaseRequest {
            owner: owner.clone(),
            systems: Some(vec![system.clone()]),
            now: now(),
            lease_ms: limits.lease.as_millis() as i64,
            limit: limit as i64,
        };
        let jobs = match store.lease_jobs(request).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(system, error = %e, "cannot lease jobs");
                pause(limits.poll).await;
                continue;
            }
        };
        if jobs.is_empty() {
            let probing = {
                let mut b = breaker.lock().expect("breaker poisoned");
                let probing = b.state() == BreakerState::HalfOpen;
                if probing {
                    b.probe_later(now().0);
                }
                probing
            };
            // Nothing due to probe with: make the backlog due (the open circuit still holds
            // it back) so the next probe need not wait out a backoff.
            if probing && store.hasten_jobs(&system, now()).await.unwrap_or(0) > 0 {
                continue;
            }
            pause(limits.poll).await;
            continue;
        }
        let probing = limit == 1;
        for job in jobs {
            // The circuit may have opened while this lease's earlier jobs ran: hand the rest
            // back for after the cool-down rather than call a system that is down.
            let open = !probing && !allows(&breaker, now().0);
            if open {
                let later = JobFinish::Retry {
                    at: now().plus_millis(limits.breaker_cool_down.as_millis() as i64),
                    error: "circuit open: the system kept failing".into(),
                };
                let _ = store.finish_job(&job.id, &owner, later, now()).await;
                continue;
            }
            pace(&mut rate, micros).await;
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (store, handler, breaker, stats, owner, limits) = (
                store.clone(),
                handler.clone(),
                breaker.clone(),
                stats.clone(),
                owner.clone(),
                limits.clone(),
            );
            // Every line the try logs names its business action and its transaction.
            let corr = job.correlation_id.as_deref().unwrap_or(job.id.as_str());
            let span = tracing::info_span!("job", action = job.kind.action(), system = %job.system,
                correlation_id = corr, job = %job.id, order = job.order_id.as_deref());
            let try_one = async move {
                run_one(&store, &*handler, &breaker, &stats, &owner, &limits, job).await;
                drop(slot);
            };
            tokio::spawn(tracing::Instrument::instrument(try_one, span));
        }
    }
    // Let the tries in flight finish.
    let _ = slots.acquire_many(limits.concurrency.max(1) as u32).await;
}

async fn run_one<H: Handler>(
    store: &AnyStore,
    handler: &H,
    breaker: &Mutex<Breaker>,
    stats: &RunnerStats,
    owner: &str,
    limits: &SystemLimits,
    job: Job,
) {
    stats.tries.fetch_add(1, Ordering::Relaxed);
    let in_flight = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    let (started, clock) = (now(), std::time::Instant::now());
    let correlation_id = (job.correlation_id.clone()).unwrap_or_else(|| job.id.to_string());
    let (result, http_status) = tried::within(correlation_id, handler.run(&job)).await;
    let duration_ms = clock.elapsed().as_millis() as i64;
    stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    let t = now();
    let system = job.system.as_str();
    let healthy = !matches!(result, JobResult::Transient { .. });
    if healthy && breaker.lock().expect("breaker poisoned").success() {
        // The system is back: its backlog need not sit out each job's own backoff.
        let due = store.hasten_jobs(system, t).await.unwrap_or(0);
        tracing::info!(
            system,
            backlog_due = due,
            "circuit closed: the system answers again"
        );
    }
    let finish = {
        let mut b = breaker.lock().expect("breaker poisoned");
        let finish = match result {
            JobResult::Held => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                None
            }
            JobResult::Done => {
                stats.done.fetch_add(1, Ordering::Relaxed);
                Some(JobFinish::Done)
            }
            JobResult::Permanent { code, error } => {
                // The system answered: it is healthy, the request was not.
                stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(system, job = %job.id, order = job.order_id.as_deref(), code = code.as_str(),
                    %error, "job failed: opened its exception");
                Some(JobFinish::Failed {
                    code: code.to_string(),
                    error,
                })
            }
            JobResult::Transient { error, retry_after } => {
                if b.failure(t.0) {
                    tracing::warn!(system, cool_down_ms = limits.breaker_cool_down.as_millis() as u64,
                        %error, "circuit opened: the system keeps failing; its jobs wait");
                }
                let attempt = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                match limits
                    .backoff
                    .next(attempt, jitter(&job.id, attempt), retry_after)
                {
                    Some(wait) => {
                        stats.retried.fetch_add(1, Ordering::Relaxed);
                        Some(JobFinish::Retry {
                            at: t.plus_millis(wait.as_millis() as i64),
                            error,
                        })
                    }
                    None => {
                        stats.failed.fetch_add(1, Ordering::Relaxed);
                        let code = crossdock_domain::error::ErrorCode::unavailable(&job.system);
                        tracing::warn!(system, job = %job.id, order = job.order_id.as_deref(),
                            code = code.as_str(), attempts = attempt, %error,
                            "job out of retries: opened its exception");
                        Some(JobFinish::Failed {
                            code: code.to_string(),
                            error: format!("gave up after {attempt} tries: {error}"),
                        })
                    }
                }
            }
        };
        stats.note(&b);
        finish
    };
    let (outcome, error) = match &finish {
        None => (JobOutcome::Held, None),
        Some(JobFinish::Done) => (JobOutcome::Done, None),
        Some(JobFinish::Retry { error, .. }) => (JobOutcome::Retry, Some(error.clone())),
        Some(JobFinish::Failed { error, .. }) => (JobOutcome::Failed, Some(error.clone())),
    };
    let attempt = JobAttempt {
        job_id: job.id.clone(),
        attempt: job.attempts,
        kind: job.kind,
        system: job.system.clone(),
        order_id: job.order_id.clone(),
        correlation_id: job.correlation_id.clone(),
        started_at: started,
        duration_ms,
        outcome,
        http_status,
        error,
    };
    if let Err(e) = store.record_attempt(attempt).await {
        tracing::warn!(job = %job.id, error = %e, "cannot keep the job's try");
    }
    let Some(finish) = finish else {
        return;
    };
    match store.finish_job(&job.id, owner, finish, t).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = %job.id, "lease lapsed before the job finished"),
        Err(e) => tracing::warn!(job = %job.id, error = %e, "cannot record the job's end"),
    }
}

/// Waits for a token. Timers wake late by up to a millisecond, which at a few milliseconds
/// between calls would waste a fifth of the system's rate; so sleep until just before the
/// token is due and yield until it is.
async fn pace(rate: &mut RateLimit, micros: impl Fn() -> i64) {
    const EARLY: Duration = Duration::from_millis(2);
    loop {
        match rate.take(micros()) {
            Ok(()) => return,
            Err(wait) if wait > EARLY => tokio::time::sleep(wait - EARLY).await,
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

fn allows(breaker: &Mutex<Breaker>, now_ms: i64) -> bool {
    breaker.lock().expect("breaker poisoned").allow(now_ms)
}

/// A spread in 0..1 that differs by job and try, so retries do not arrive together.
fn jitter(id: &str, attempt: u32) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(attempt);
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}
