//! The job runner against a real store (SQLite, and PostgreSQL when configured), with
//! handlers that stand for an outside system: flaky, slow, refusing or down.

use crossdock_domain::JobState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossdock_domain::Qty;
use crossdock_domain::ledger::{Command, PlaceOrder};
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::runner::policy::Backoff;
use crossdock_engine::runner::{Handler, JobResult, RunnerStats, SystemLimits, run_system};
use crossdock_engine::{Config, Inventory, Shutdown};
use crossdock_store::{AnyStore, Job, JobFilter, Store};
use serde_json::json;

mod common;
use common::stores;

struct Estate {
    inventory: Inventory,
    shutdown: Shutdown,
    path: Option<std::path::PathBuf>,
}

impl Drop for Estate {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(p) = &self.path {
            crossdock_store::sqlite::remove_files(p);
        }
    }
}

/// `n` accepted orders, each with one `screen_fraud` job for the `fraud` system (configured
/// here, so its screening is a call of its own).
async fn with_jobs(store: AnyStore, path: Option<std::path::PathBuf>, n: usize) -> Estate {
    let mut config = Config::parse(EXAMPLE).unwrap();
    let fraud = crossdock_engine::config::SystemSettings::at("http://127.0.0.1:9");
    config.set_system("fraud", fraud);
    let (inventory, shutdown) = common::start(&config, store, &["SKU-1"]).await;
    inventory.submit(vec![receipt(100_000)]).await.unwrap();
    let orders = (0..n)
        .map(|i| {
            let raw = json!({"channel": "b2b", "external_id": format!("R-{i}"),
                "customer": {"id": "C", "email": "a@b.c"}, "currency": "USD",
                "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "1.00"}],
                "ship_to": {"name": "A", "line1": "1", "city": "X", "postal_code": "1", "country": "US"}});
            Command::PlaceOrder(std::sync::Arc::new(PlaceOrder {
                id: Inventory::new_order_id(),
                order: crossdock_domain::order::parse_order(&raw, inventory.estate()).unwrap(),
                request_hash: format!("h{i}"),
                idempotency_key: None,
                correlation_id: "c".into(),
                credit_hold: None,
            }))
        })
        .collect();
    inventory.submit(orders).await.unwrap();
    Estate {
        inventory,
        shutdown,
        path,
    }
}

fn sku(s: &str) -> crossdock_domain::Sku {
    crossdock_domain::Sku::parse(s).unwrap()
}

/// A receipt of `qty` units of SKU-1 at east.
fn receipt(qty: i64) -> Command {
    use crossdock_domain::ledger::{EventChange, StockEvent};
    use crossdock_domain::stock::StockChange;
    Command::Stock(StockEvent {
        source: "erp".into(),
        source_event_id: "seed".into(),
        occurred_at: crossdock_domain::Timestamp(0),
        sku: sku("SKU-1"),
        location: crossdock_domain::LocationCode::parse("east").unwrap(),
        change: EventChange::Stock {
            change: StockChange::Receipt(Qty::of(qty)),
            kind: "receipt".into(),
            po_ref: None,
            order_ref: None,
        },
    })
}

/// A stand-in for an outside system.
#[derive(Default)]
struct FakeSystem {
    /// Transient failures to give each job before it succeeds.
    flaky: usize,
    /// Fail every call transiently.
    down: bool,
    /// Fail every call transiently until then.
    down_until: Mutex<Option<Instant>>,
    /// Refuse every call permanently.
    refuse: bool,
    /// How long each call takes.
    delay: Duration,
    calls: Mutex<Vec<Instant>>,
    tries: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
}

impl Handler for FakeSystem {
    async fn run(&self, job: &Job) -> JobResult {
        self.calls.lock().unwrap().push(Instant::now());
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let n = {
            let mut tries = self.tries.lock().unwrap();
            let t = tries.entry(job.id.to_string()).or_default();
            *t += 1;
            *t
        };
        if self.refuse {
            JobResult::Permanent {
                code: crossdock_domain::ErrorCode::ErpRejected,
                error: "rejected: unknown customer".into(),
            }
        } else if self.down
            || n <= self.flaky
            || self
                .down_until
                .lock()
                .unwrap()
                .is_some_and(|t| Instant::now() < t)
        {
            JobResult::Transient {
                error: "503 Service Unavailable".into(),
                retry_after: None,
            }
        } else {
            JobResult::Done
        }
    }
}

fn fast() -> SystemLimits {
    SystemLimits {
        rate_per_sec: 10_000.0,
        burst: 100,
        concurrency: 4,
        backoff: Backoff {
            base: Duration::from_millis(2),
            max: Duration::from_millis(20),
            max_attempts: 5,
        },
        breaker_failures: 1_000,
        breaker_cool_down: Duration::from_millis(200),
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(5),
    }
}

async fn count(store: &AnyStore, state: &str) -> usize {
    store
        .jobs(JobFilter {
            state: Some(JobState::parse(state).unwrap()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

/// Runs the runner until `done` holds or ten seconds pass.
async fn run_until(
    e: &Estate,
    system: Arc<FakeSystem>,
    limits: SystemLimits,
    done: impl Fn(&RunnerStats) -> bool,
) -> (Arc<RunnerStats>, Instant) {
    let stats = Arc::new(RunnerStats::default());
    let stop = Shutdown::new();
    let started = Instant::now();
    let task = tokio::spawn(run_system(
        e.inventory.store().clone(),
        "fraud".into(),
        system,
        limits,
        stop.clone(),
        stats.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&stats) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.trigger();
    task.await.unwrap();
    (stats, started)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_until_done() {
    for (store, path) in stores("runner").await {
        let e = with_jobs(store, path, 20).await;
        let system = Arc::new(FakeSystem {
            flaky: 2,
            ..Default::default()
        });
        let (stats, _) = run_until(&e, system.clone(), fast(), |s| {
            s.done.load(Ordering::Relaxed) == 20
        })
        .await;
        assert_eq!(stats.done.load(Ordering::Relaxed), 20);
        assert_eq!(
            stats.retried.load(Ordering::Relaxed),
            40,
            "two retries each"
        );
        let store = e.inventory.store();
        assert_eq!(count(store, "done").await, 20);
        let jobs = store
            .jobs(JobFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            jobs.iter()
                .all(|j| j.attempts == 3 && j.last_error.is_some())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_and_spent_retries_fail_the_job() {
    for (store, path) in stores("runner").await {
        let e = with_jobs(store, path, 3).await;
        let refuse = Arc::new(FakeSystem {
            refuse: true,
            ..Default::default()
        });
        run_until(&e, refuse.clone(), fast(), |s| {
            s.failed.load(Ordering::Relaxed) == 3
        })
        .await;
        assert_eq!(
            refuse.calls.lock().unwrap().len(),
            3,
            "a refusal is not retried"
        );
        let failed = e
            .inventory
            .store()
            .jobs(JobFilter {
                state: Some(crossdock_domain::JobState::Failed),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            failed
                .iter()
                .all(|j| j.last_error.as_deref() == Some("rejected: unknown customer"))
        );
    }
    for (store, path) in stores("runner").await {
        let e = with_jobs(store, path, 2).await;
        let flaky = Arc::new(FakeSystem {
            flaky: 100,
            ..Default::default()
        });
        let limits = SystemLimits {
            backoff: Backoff {
                max_attempts: 3,
                ..fast().backoff
            },
            ..fast()
        };
        run_until(&e, flaky.clone(), limits, |s| {
            s.failed.load(Ordering::Relaxed) == 2
        })
        .await;
        assert_eq!(
            flaky.calls.lock().unwrap().len(),
            6,
            "three tries each, then no more"
        );
        let failed = e
            .inventory
            .store()
            .jobs(JobFilter {
                state: Some(crossdock_domain::JobState::Failed),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(failed.len(), 2);
        assert!(
            failed[0]
                .last_error
                .as_deref()
                .unwrap()
                .starts_with("gave up after 3 tries")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_never_gets_more_than_its_limits() {
    for (store, path) in stores("runner").await {
        let e = with_jobs(store, path, 60).await;
        let system = Arc::new(FakeSystem {
            delay: Duration::from_millis(3),
            ..Default::default()
        });
        let limits = SystemLimits {
            rate_per_sec: 200.0,
            burst: 5,
            concurrency: 3,
            ..fast()
        };
        let (stats, started) = run_until(&e, system.clone(), limits, |s| {
            s.done.load(Ordering::Relaxed) == 60
        })
        .await;
        assert_eq!(stats.done.load(Ordering::Relaxed), 60);
        assert!(stats.max_in_flight.load(Ordering::SeqCst) <= 3);
        let calls = system.calls.lock().unwrap().clone();
        for (i, t) in calls.iter().enumerate() {
            // Call i+1 may start no earlier than the bucket allows: burst, then 200 a second
            // from when the runner started.
            let allowed = 5.0 + 200.0 * t.duration_since(started).as_secs_f64();
            assert!(
                (i + 1) as f64 <= allowed + 1.0,
                "call {} at {:?} beats the rate",
                i + 1,
                t.duration_since(started)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_that_keeps_failing_opens_the_circuit() {
    for (store, path) in stores("runner").await {
        let e = with_jobs(store, path, 30).await;
        let down = Arc::new(FakeSystem {
            down: true,
            ..Default::default()
        });
        let limits = SystemLimits {
            concurrency: 1,
            breaker_failures: 3,
            breaker_cool_down: Duration::from_millis(300),
            backoff: Backoff {
                base: Duration::from_millis(1),
                max: Duration::from_millis(2),
                max_attempts: 1_000,
            },
            ..fast()
        };
        let started = Instant::now();
        run_until(&e, down.clone(), limits, |_| {
            started.elapsed() > Duration::from_millis(700)
        })
        .await;
        // Three failures open the circuit; then one probe per 300 ms cool-down.
        let calls = down.calls.lock().unwrap().len();
        assert!(
            (3..=6).contains(&calls),
            "{calls} calls reached a system that was down"
        );
        // Nothing failed for good: the outage is transient, the jobs wait.
        assert_eq!(count(e.inventory.store(), "failed").await, 0);
    }
}

/// Backoffs of a minute: a job that failed during the outage would sit it out. Once a probe
/// finds the system back, the circuit closes and the whole backlog is made due at once.
fn slow_to_retry() -> SystemLimits {
    SystemLimits {
        breaker_failures: 3,
        breaker_cool_down: Duration::from_millis(300),
        backoff: Backoff {
            base: Duration::from_secs(60),
            max: Duration::from_secs(60),
            max_attempts: 100,
        },
        ..fast()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_circuit_closes_the_backlog_goes_out_at_once() {
    for (store, path) in stores("runner").await {
        let e = with_jobs(store, path, 40).await;
        let system = Arc::new(FakeSystem::default());
        *system.down_until.lock().unwrap() = Some(Instant::now() + Duration::from_millis(400));
        let (stats, _) = run_until(&e, system.clone(), slow_to_retry(), |s| {
            s.done.load(Ordering::Relaxed) == 40
        })
        .await;
        // run_until gives up after 10 s, far less than the minute each failed job would
        // otherwise wait.
        assert_eq!(stats.done.load(Ordering::Relaxed), 40);
        assert!(
            stats.retried.load(Ordering::Relaxed) >= 3,
            "the outage was seen"
        );
        assert_eq!(count(e.inventory.store(), "done").await, 40);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hastening_makes_a_systems_waiting_jobs_due_now() {
    for (store, path) in stores("runner").await {
        let e = with_jobs(store, path, 10).await;
        let store = e.inventory.store().clone();
        // Every job fails once and is put off for a minute.
        let system = Arc::new(FakeSystem {
            flaky: 1,
            ..Default::default()
        });
        let limits = SystemLimits {
            breaker_failures: 1_000,
            ..slow_to_retry()
        };
        let (stats, _) = run_until(&e, system.clone(), limits.clone(), |s| {
            s.retried.load(Ordering::Relaxed) == 10
        })
        .await;
        assert_eq!(stats.done.load(Ordering::Relaxed), 0);
        let now = crossdock_engine::inventory::now();
        assert_eq!(
            store.hasten_jobs("erp", now).await.unwrap(),
            0,
            "other systems"
        );
        assert_eq!(store.hasten_jobs("fraud", now).await.unwrap(), 10);
        let due = store
            .jobs(JobFilter {
                state: Some(crossdock_domain::JobState::Ready),
                system: Some("fraud".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(due.iter().all(|j| j.run_at <= now), "all due");
        let (stats, _) =
            run_until(&e, system, limits, |s| s.done.load(Ordering::Relaxed) == 10).await;
        assert_eq!(stats.done.load(Ordering::Relaxed), 10);
    }
}
