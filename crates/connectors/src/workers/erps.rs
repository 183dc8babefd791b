//! Several ERPs, one per business unit: a runner per ERP on its own queue (`erp:{name}`),
//! each with that ERP's limits and circuit, and the router that moves the saga's ERP jobs
//! from `erp` to the queue of their order's ERP.

use std::sync::Arc;

use crossdock_engine::bindings::Bindings;
use crossdock_engine::credit::Credit;
use crossdock_engine::erp_router::ErpRouter;
use crossdock_engine::{Config, Inventory, Shutdown};

use super::{Workers, limits};
use crate::SetupError;
use crate::connector::{Connector, ErpPack};

impl Workers {
    /// Starts a runner for each ERP `router` routes to, and the router.
    pub(super) fn route_erps(
        &mut self,
        router: Arc<ErpRouter>,
        config: &Config,
        inventory: &Inventory,
        credit: &Credit,
        bindings: &Bindings,
        shutdown: &Shutdown,
    ) -> Result<(), SetupError> {
        for target in &router.routes().targets {
            let mut connector = Connector::configured("erp", &target.settings, inventory.clone())?
                .with_fraud_hold_score(config.saga.fraud_hold_score)
                .with_credit(credit.clone());
            if let Some(c) = &target.connector
                && let Some(pack) = ErpPack::configured(c, bindings)?
            {
                connector = connector.with_erp_pack(pack);
            }
            let limits = limits(&target.settings);
            self.spawn(
                inventory,
                &target.system,
                Arc::new(connector),
                limits,
                shutdown,
            );
        }
        self.tasks.push(tokio::spawn(
            router.clone().run(inventory.clone(), shutdown.clone()),
        ));
        self.erp_router = Some(router);
        Ok(())
    }
}
