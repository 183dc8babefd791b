//! Routes the saga's ERP jobs to one of several ERPs by the order's business unit. A job
//! waits in the `erp` queue until the router moves it to its ERP's queue (`erp:{name}`),
//! where that ERP's runner takes it with that ERP's own limits and circuit. The first move
//! of an order's job assigns the order to that ERP for good, so a unit moved to another ERP
//! (a configuration reloaded on `SIGHUP`) takes only orders not yet routed: none is lost,
//! none is posted to two.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crossdock_domain::ErrorCode;
use crossdock_store::{ErpAssignments, JobFinish, LeaseRequest, Store};

use crate::config::{Config, ErpRoutes};
use crate::{Inventory, Shutdown, now};

/// The queue the saga's ERP jobs wait in to be routed.
pub const INBOX: &str = "erp";

/// Most jobs routed per look at the queue.
const BATCH: i64 = 256;

/// How long the router holds a job it is routing.
const LEASE_MS: i64 = 30_000;

/// The router, with the routes it follows now. Shared: `reload` changes them for the
/// running loop.
pub struct ErpRouter {
    routes: RwLock<Arc<ErpRoutes>>,
}

impl ErpRouter {
    /// A router following `routes`.
    pub fn new(routes: ErpRoutes) -> Arc<Self> {
        Arc::new(Self {
            routes: RwLock::new(Arc::new(routes)),
        })
    }

    /// The routes followed now.
    pub fn routes(&self) -> Arc<ErpRoutes> {
        self.routes.read().expect("routes poisoned").clone()
    }

    /// Follows `config`'s routes from now on, when they name the same ERPs; the new routes'
    /// summary, or why they were not taken (the old ones stay).
    pub fn reload(&self, config: &Config) -> Result<String, String> {
        let next = config.erp_routes().ok_or_else(|| {
            "the file lists no business_units any more: going back to one ERP takes a restart"
                .to_string()
        })?;
        self.routes().can_become(&next)?;
        let summary = next.summary();
        *self.routes.write().expect("routes poisoned") = Arc::new(next);
        Ok(summary)
    }

    /// Routes jobs until `shutdown`.
    pub async fn run(self: Arc<Self>, inventory: Inventory, shutdown: Shutdown) {
        let owner = format!(
            "erp-router-{}",
            ulid::Ulid::new().to_string().to_lowercase()
        );
        tracing::info!(routes = %self.routes().summary(), "routing ERP jobs by business unit");
        while !shutdown.is_triggered() {
            let routed = match self.route_some(&inventory, &owner).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot route ERP jobs");
                    0
                }
            };
            if routed == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = shutdown.wait() => {}
                }
            }
        }
    }

    /// Routes the jobs waiting now; how many were looked at.
    async fn route_some(
        &self,
        inventory: &Inventory,
        owner: &str,
    ) -> Result<usize, crossdock_store::StoreError> {
        let store = inventory.store();
        let jobs = store
            .lease_jobs(LeaseRequest {
                owner: owner.to_string(),
                systems: Some(vec![INBOX.to_string()]),
                now: now(),
                lease_ms: LEASE_MS,
                limit: BATCH,
            })
            .await?;
        let routes = self.routes();
        for job in &jobs {
            let order = job.order_id.as_ref().map(|o| o.to_string());
            let assigned = match &order {
                Some(o) => store.erp_of(o).await?,
                None => None,
            };
            let target = match assigned {
                Some(system) => Ok(system),
                None => {
                    let unit = match &order {
                        Some(o) => store.order(o).await?.and_then(|o| o.order.business_unit),
                        None => None,
                    };
                    routes.route(unit.as_deref()).map(|t| t.system.clone())
                }
            };
            match target {
                Ok(system) => {
                    store
                        .route_job(&job.id, owner, order.as_deref(), &system, now())
                        .await?;
                }
                Err(why) => {
                    let failed = JobFinish::Failed {
                        code: ErrorCode::MappingFailed.to_string(),
                        error: why,
                    };
                    store.finish_job(&job.id, owner, failed, now()).await?;
                }
            }
        }
        Ok(jobs.len())
    }
}
