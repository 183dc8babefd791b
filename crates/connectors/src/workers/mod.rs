//! Starts the job runners: one per configured outside system, with that system's rate,
//! concurrency, retry and lease settings; one for the steps crossdock runs itself; and for
//! optional systems that are not configured (fraud, tax), one that passes their steps.

use std::sync::Arc;
use std::time::Duration;

use crossdock_domain::JobKind;
use crossdock_engine::backorders::BackorderDue;
use crossdock_engine::config::{ConnectorConfig, OPTIONAL_SYSTEMS, SYSTEMS, SystemSettings};
use crossdock_engine::credit::{Credit, CreditSource};
use crossdock_engine::invoices::InvoiceMatch;
use crossdock_engine::parcels::ShipmentReview;
use crossdock_engine::runner::policy::Backoff;
use crossdock_engine::runner::{Handler, RunnerStats, SystemLimits, run_system};
use crossdock_engine::saga::{INTERNAL, InternalSteps};
use crossdock_engine::{Config, Inventory, Shutdown};

use crate::SetupError;
use crate::connector::erp_credit::RoutedCredit;
use crate::connector::{Connector, ErpCredit, ErpPack};
use crate::hooks::Hooks;
use crate::packs::adobe_commerce::AdobeStock;
use crate::packs::adobe_commerce::prices::AdobePrices;
use crate::packs::adobe_commerce::pull::OrderPuller;
use crate::packs::price_out::Prices;
use crate::packs::publish::{Pace, Propagation, Publisher, Stock};
use crate::packs::shopify::prices::ShopifyPrices;
use crate::packs::shopify::stock::ShopifyStock;
use crate::packs::storefronts::{Shops, Storefront, storefronts};

mod erps;
use crossdock_engine::bindings::Bindings;
use crossdock_engine::erp_router::ErpRouter;

/// Running workers; each task ends after `shutdown` once its tries in flight finish.
pub struct Workers {
    /// One task per system.
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Counters per system.
    pub stats: Vec<(String, Arc<RunnerStats>)>,
    /// With several ERPs, the router between them (its routes reloaded on `SIGHUP`).
    pub erp_router: Option<Arc<ErpRouter>>,
    /// How long the storefronts' figures took to reach them.
    pub propagation: Propagation,
}

impl Workers {
    fn spawn<H: Handler>(
        &mut self,
        inventory: &Inventory,
        system: &str,
        handler: Arc<H>,
        limits: SystemLimits,
        shutdown: &Shutdown,
    ) {
        let stats = Arc::new(RunnerStats::default());
        self.tasks.push(tokio::spawn(run_system(
            inventory.store().clone(),
            system.to_string(),
            handler,
            limits,
            shutdown.clone(),
            stats.clone(),
        )));
        self.stats.push((system.to_string(), stats));
    }
}

impl Workers {
    /// Starts a price publisher for each storefront, a stock publisher for each that names a
    /// location, and an order puller for each that is read rather than heard from.
    fn follow_storefronts(
        &mut self,
        shops: &[(&ConnectorConfig, Storefront)],
        inventory: &Inventory,
        hooks: &Hooks,
        shutdown: &Shutdown,
    ) {
        let propagation = self.propagation.clone();
        let prop = || propagation.clone();
        for (c, shop) in shops {
            if let Storefront::AdobeCommerce(client) = shop {
                let every = Duration::from_secs(c.poll_secs());
                let since = c.pull_since.as_deref().and_then(|s| {
                    crossdock_domain::Timestamp::parse_rfc3339(s)
                        .ok()
                        .map(|t| t.0 / 1000)
                });
                let store = inventory.store().clone();
                let puller =
                    OrderPuller::new(&c.name, client.clone(), hooks.clone(), store, every, since);
                self.tasks.push(tokio::spawn(puller.run(shutdown.clone())));
            }
            let Some(channel) = &c.channel else {
                continue;
            };
            let rate = c.settings().rate_per_sec;
            let store = inventory.store().clone();
            let pace = Pace::new(&c.name, rate);
            let pricing = match shop {
                Storefront::Shopify(admin) => {
                    let target =
                        Prices::new(channel, store, ShopifyPrices::new(&c.name, admin.clone()));
                    let publisher =
                        Publisher::new(channel, inventory.clone(), pace, target, prop());
                    tokio::spawn(publisher.run(shutdown.clone()))
                }
                Storefront::AdobeCommerce(client) => {
                    let target = Prices::new(channel, store, AdobePrices::new(client.clone()));
                    let publisher =
                        Publisher::new(channel, inventory.clone(), pace, target, prop());
                    tokio::spawn(publisher.run(shutdown.clone()))
                }
            };
            self.tasks.push(pricing);
            let Some(location) = &c.location_id else {
                continue;
            };
            let pace = Pace::new(&c.name, rate);
            let inventory = inventory.clone();
            let publishing = match shop {
                Storefront::Shopify(admin) => {
                    let target =
                        ShopifyStock::new(&c.name, location, admin.clone(), inventory.clone());
                    let publisher = Publisher::new(channel, inventory, pace, Stock(target), prop());
                    tokio::spawn(publisher.run(shutdown.clone()))
                }
                Storefront::AdobeCommerce(client) => {
                    let target = AdobeStock::new(location, client.clone());
                    let publisher = Publisher::new(channel, inventory, pace, Stock(target), prop());
                    tokio::spawn(publisher.run(shutdown.clone()))
                }
            };
            self.tasks.push(publishing);
        }
    }
}

/// The runner limits `settings` ask for.
pub fn limits(settings: &SystemSettings) -> SystemLimits {
    SystemLimits {
        rate_per_sec: settings.rate_per_sec,
        burst: settings.burst,
        concurrency: settings.concurrency,
        backoff: Backoff {
            max_attempts: settings.max_attempts,
            ..Backoff::default()
        },
        lease: Duration::from_millis(settings.lease_ms),
        ..SystemLimits::default()
    }
}

/// The source of credit answers inside requests: the configured ERP, or with several (one
/// per business unit, `router` routing between them) the one keeping the order's unit's
/// books; none without an ERP.
pub fn credit_source(
    config: &Config,
    bindings: &Bindings,
    router: Option<&Arc<ErpRouter>>,
) -> Result<Option<Arc<dyn CreditSource>>, SetupError> {
    if let Some(router) = router {
        let mut by_erp = std::collections::BTreeMap::new();
        for t in &router.routes().targets {
            let source = erp_credit(config, t.connector.as_ref(), &t.settings, bindings)?;
            by_erp.insert(t.name.clone(), source);
        }
        return Ok(Some(Arc::new(RoutedCredit::new(router.clone(), by_erp))));
    }
    let Some(erp) = config.system("erp") else {
        return Ok(None);
    };
    let source = erp_credit(config, erp_pack(config), erp, bindings)?;
    Ok(Some(Arc::new(source)))
}

/// One ERP's credit answers inside requests, waiting at most `[saga]`'s credit check time:
/// through its pack (`connector`'s), else crossdock's REST shape at `settings`.
fn erp_credit(
    config: &Config,
    connector: Option<&ConnectorConfig>,
    settings: &SystemSettings,
    bindings: &Bindings,
) -> Result<ErpCredit, SetupError> {
    let wait = Duration::from_millis(config.saga.credit_check_timeout_ms);
    if let Some(c) = connector {
        let mut c = c.clone();
        c.timeout_ms = Some(config.saga.credit_check_timeout_ms);
        if let Some(pack) = ErpPack::configured(&c, bindings)? {
            return Ok(ErpCredit::Pack(pack));
        }
    }
    let mut remote = crate::remote::Remote::configured("erp", settings, wait)?;
    if let Some(shape) = crate::packs::rest::of("erp", settings)? {
        remote = remote.shaped(shape);
    }
    Ok(ErpCredit::Rest(remote))
}

/// The connector that is the ERP speaking its vendor's API, if one is.
fn erp_pack(config: &Config) -> Option<&ConnectorConfig> {
    (config.connectors.iter()).find(|c| ErpPack::speaks(c.kind))
}

/// The router between several ERPs, when the configuration has them (one per business unit).
pub fn erp_router(config: &Config) -> Option<Arc<ErpRouter>> {
    config.erp_routes().map(ErpRouter::new)
}

/// Starts the runners; the ERP's credit step goes through `credit`, parked webhooks are
/// taken in again through `hooks`, vendor packs read and keep `bindings`, and with several
/// ERPs `router` (from [`erp_router`]) moves the saga's ERP jobs to each order's.
pub fn start(
    config: &Config,
    inventory: &Inventory,
    credit: &Credit,
    hooks: &Hooks,
    bindings: &Bindings,
    router: Option<Arc<ErpRouter>>,
    shutdown: &Shutdown,
) -> Result<Workers, SetupError> {
    let mut workers = Workers {
        tasks: Vec::new(),
        stats: Vec::new(),
        erp_router: None,
        propagation: Propagation::default(),
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
    workers.spawn(
        inventory,
        INTERNAL,
        internal.clone(),
        fast.clone(),
        shutdown,
    );
    workers.spawn(
        inventory,
        JobKind::BackorderDue.system(),
        Arc::new(BackorderDue::new(inventory.clone())),
        fast.clone(),
        shutdown,
    );
    workers.spawn(
        inventory,
        JobKind::MatchInvoice.system(),
        Arc::new(InvoiceMatch::new(inventory.clone())),
        fast.clone(),
        shutdown,
    );
    workers.spawn(
        inventory,
        JobKind::ReviewShipment.system(),
        Arc::new(ShipmentReview::new(inventory.clone())),
        fast.clone(),
        shutdown,
    );
    workers.spawn(
        inventory,
        JobKind::TakeInbound.system(),
        Arc::new(hooks.clone()),
        fast.clone(),
        shutdown,
    );
    let shops = storefronts(config)?;
    let first_shop = shops.first().map(|(c, _)| c.settings());
    let by_channel: Shops = (shops.iter())
        .filter_map(|(c, shop)| Some((c.channel.clone()?, shop.clone())))
        .collect();
    workers.follow_storefronts(&shops, inventory, hooks, shutdown);

    for system in SYSTEMS {
        if system == "erp"
            && let Some(router) = router.clone()
        {
            workers.route_erps(router, config, inventory, credit, bindings, shutdown)?;
            continue;
        }
        // The storefront's jobs go to the Shopify shop of the order's channel, else to the
        // [storefront]; with shops and no [storefront], the runner is the first shop's.
        let rest = config.system(system).is_some();
        let settings = match (config.system(system), system) {
            (None, "storefront") => first_shop.as_ref(),
            (settings, _) => settings,
        };
        match settings {
            Some(settings) => {
                let mut connector = Connector::configured(system, settings, inventory.clone())?
                    .with_fraud_hold_score(config.saga.fraud_hold_score)
                    .with_credit(credit.clone());
                if system == "storefront" {
                    connector = connector.with_shops(by_channel.clone(), rest);
                }
                if system == "erp"
                    && let Some(c) = erp_pack(config)
                    && let Some(pack) = ErpPack::configured(c, bindings)?
                {
                    connector = connector.with_erp_pack(pack);
                }
                workers.spawn(
                    inventory,
                    system,
                    Arc::new(connector),
                    limits(settings),
                    shutdown,
                );
            }
            None if OPTIONAL_SYSTEMS.contains(&system) => {
                workers.spawn(inventory, system, internal.clone(), fast.clone(), shutdown);
            }
            None => tracing::info!(system, "not configured: its jobs wait in the queue"),
        }
    }
    Ok(workers)
}
