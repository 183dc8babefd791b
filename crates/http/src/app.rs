//! The composition root: [`run`] builds the store, the inventory service, the job runners and
//! the API server from one configuration. `serve`, the demo, the benchmarks and the tests all
//! start the hub through it, so there is one wiring to read and to keep right.

use std::net::SocketAddr;
use std::sync::Arc;

use crossdock_connectors::hooks::Hooks;
use crossdock_connectors::subscriptions::{Subscriptions, deliver};
use crossdock_connectors::workers::{self, Workers};
use crossdock_engine::backorders;
use crossdock_engine::bindings::Bindings;
use crossdock_engine::credit::Credit;
use crossdock_engine::erp_status::ErpStatuses;
use crossdock_engine::fulfilment::Fulfilment;
use crossdock_engine::intake::Intake;
use crossdock_engine::items::Items;
use crossdock_engine::prices::Prices;
use crossdock_engine::reservations::Reservations;
use crossdock_engine::stock_events::StockEvents;
use crossdock_engine::{Config, Inventory, Shutdown};
use crossdock_store::AnyStore;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::keys::ApiKeys;
use crate::{AppState, StartError};

/// A running hub. It stops when its [`Shutdown`] is triggered; [`Hub::stopped`] waits for that.
pub struct Hub {
    inventory: Inventory,
    workers: Workers,
    addr: SocketAddr,
    scheme: &'static str,
    server: JoinHandle<std::io::Result<()>>,
}

/// Opens the store named by `config` (applying migrations) and runs the hub on `listener`.
pub async fn run(
    config: &Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<Hub, StartError> {
    let store = AnyStore::open(&config.store.url).await?;
    run_with_store(config, store, listener, shutdown).await
}

/// [`run`] on a store already open (a test's own PostgreSQL schema, a benchmark's fresh file);
/// `config.store` is not read.
pub async fn run_with_store(
    config: &Config,
    store: AnyStore,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<Hub, StartError> {
    let tls = crate::server::tls(&config.server).map_err(StartError::Tls)?;
    let inventory = Inventory::start(
        config.estate()?,
        config.inventory.clone(),
        store,
        shutdown.clone(),
    )
    .await?;
    tokio::spawn(backorders::sweep_loop(inventory.clone(), shutdown.clone()));
    let bindings = Bindings::new(
        inventory.store().clone(),
        config.connectors.iter().map(|c| c.name.clone()),
    );
    let router = workers::erp_router(config);
    let source = workers::credit_source(config, &bindings, router.as_ref())?;
    let credit = Credit::new(inventory.clone(), source, &config.saga);
    let statuses = config.system("erp").map(|e| e.statuses.clone());
    let erp_statuses = ErpStatuses::new(inventory.clone(), statuses.unwrap_or_default());
    let intake = Intake::new(inventory.clone(), credit.clone());
    let fulfilment = Fulfilment::new(inventory.clone());
    let ownership = Arc::new(config.ownership.clone());
    let stock_events = StockEvents::new(inventory.clone(), ownership.clone());
    let prices = Prices::new(inventory.clone(), ownership);
    let hooks = Hooks::new(
        config,
        inventory.clone(),
        intake.clone(),
        fulfilment.clone(),
        stock_events.clone(),
    )?;
    let mut workers = workers::start(
        config, &inventory, &credit, &hooks, &bindings, router, &shutdown,
    )?;
    let store = inventory.store().clone();
    let sender = deliver::start(store.clone(), &config.subscriptions, shutdown.clone())
        .map_err(crossdock_connectors::SetupError::from)?;
    workers.tasks.push(sender);
    let keys = ApiKeys::load(
        store.clone(),
        config.server.key_rate_per_sec,
        config.writers(),
    )
    .await?;
    workers
        .tasks
        .push(tokio::spawn(keys.clone().follow(shutdown.clone())));
    let addr = listener.local_addr()?;
    if keys.any() {
        tracing::info!(%addr, "every /v1 request needs an API key");
    } else {
        tracing::warn!(
            %addr,
            "protected mode: no API key exists, so only loopback clients are served; \
             make one with `crossdock keys create`"
        );
    }
    let metrics = crate::metrics::Metrics::new(
        workers.stats.clone(),
        workers.propagation.clone(),
        config.slas.clone(),
    );
    let watch = metrics
        .clone()
        .watch_slas(inventory.clone(), shutdown.clone());
    workers.tasks.push(tokio::spawn(watch));
    let state = AppState {
        inventory: inventory.clone(),
        intake,
        items: Items::new(inventory.clone()),
        reservations: Reservations::new(inventory.clone()),
        fulfilment,
        stock_events,
        erp_statuses,
        hooks,
        bindings,
        subscriptions: Subscriptions::new(store),
        prices,
        keys,
        metrics,
    };
    let app = crate::router(state, config.server.max_body_bytes);
    let limits = config.server.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server =
        tokio::spawn(
            async move { crate::server::run(listener, app, &limits, tls, shutdown).await },
        );
    Ok(Hub {
        inventory,
        workers,
        addr,
        scheme,
        server,
    })
}

impl Hub {
    /// The inventory service.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The store.
    pub fn store(&self) -> &AnyStore {
        self.inventory.store()
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API's base URL, `http://host:port` (`https://` with `server.tls_cert`).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The job runners.
    pub fn workers(&self) -> &Workers {
        &self.workers
    }

    /// Waits, after the shutdown was triggered, for the server to drain its requests and the
    /// runners to finish their tries in flight, then truncates the store's WAL.
    pub async fn stopped(self) -> Result<(), StartError> {
        match self.server.await {
            Ok(served) => served?,
            Err(e) => tracing::error!(error = %e, "the API server task failed"),
        }
        for task in self.workers.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "a job runner failed");
            }
        }
        self.inventory.store().checkpoint().await?;
        Ok(())
    }
}
