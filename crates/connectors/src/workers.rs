//! Starts the job runners for every system the configuration names: the saga's internal
//! steps (and fraud screening, passed through until a fraud service is configured), and the
//! ERP when `[erp]` is set.

use std::sync::Arc;
use std::time::Duration;

use crossdock_engine::runner::policy::Backoff;
use crossdock_engine::runner::{RunnerStats, SystemLimits, run_system};
use crossdock_engine::saga::{INTERNAL, InternalSteps};
use crossdock_engine::{Config, Inventory, Shutdown};

use crate::erp::{ErpConfig, PostSalesOrder};

/// Running workers; each task ends after `shutdown` once its tries in flight finish.
pub struct Workers {
    /// One task per system.
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Counters per system.
    pub stats: Vec<(String, Arc<RunnerStats>)>,
}

/// Starts the runners.
pub fn start(
    config: &Config,
    inventory: &Inventory,
    shutdown: &Shutdown,
) -> Result<Workers, reqwest::Error> {
    let mut workers = Workers {
        tasks: Vec::new(),
        stats: Vec::new(),
    };
    let internal = Arc::new(InternalSteps::new(inventory.clone()));
    let fast = SystemLimits {
        rate_per_sec: 10_000.0,
        burst: 1_000,
        concurrency: 8,
        // Internal steps take milliseconds; after a crash their jobs are taken over soon.
        lease: Duration::from_secs(5),
        poll: Duration::from_millis(50),
        ..SystemLimits::default()
    };
    for system in ["fraud", INTERNAL] {
        let stats = Arc::new(RunnerStats::default());
        workers.tasks.push(tokio::spawn(run_system(
            inventory.store().clone(),
            system.to_string(),
            internal.clone(),
            fast.clone(),
            shutdown.clone(),
            stats.clone(),
        )));
        workers.stats.push((system.to_string(), stats));
    }
    if let Some(erp) = &config.erp {
        let handler = PostSalesOrder::new(
            ErpConfig {
                base_url: erp.url.clone(),
                timeout: Duration::from_millis(erp.timeout_ms),
            },
            inventory.clone(),
        )?;
        let limits = SystemLimits {
            rate_per_sec: erp.rate_per_sec,
            burst: erp.burst,
            concurrency: erp.concurrency,
            backoff: Backoff {
                max_attempts: erp.max_attempts,
                ..Backoff::default()
            },
            lease: Duration::from_millis(erp.lease_ms),
            ..SystemLimits::default()
        };
        let stats = Arc::new(RunnerStats::default());
        workers.tasks.push(tokio::spawn(run_system(
            inventory.store().clone(),
            "erp".to_string(),
            Arc::new(handler),
            limits,
            shutdown.clone(),
            stats.clone(),
        )));
        workers.stats.push(("erp".to_string(), stats));
    } else {
        tracing::info!("no [erp] configured: post_sales_order jobs wait in the queue");
    }
    Ok(workers)
}
