//! The SLAs' side of the metrics: where each `[[slas]]` stands (for `/v1/ops/slas` and
//! `/metrics`), and the watch that appends `sla.breached` and `sla.recovered`.

use std::collections::HashSet;
use std::time::Duration;

use crossdock_domain::ledger::Command;
use crossdock_engine::slas::{self, SlaStanding};
use crossdock_engine::{Inventory, Shutdown, now};
use crossdock_store::StoreError;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{Metrics, Ratio};
use crate::problem::Problem;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowLabel {
    flow: &'static str,
}

/// How often the SLAs are looked at for a breach.
pub const SLA_CHECK: Duration = Duration::from_secs(5);

impl Metrics {
    /// Where each configured SLA stands now, in configuration order.
    pub async fn slas(&self, inventory: &Inventory) -> Result<Vec<SlaStanding>, Problem> {
        Ok(self.standings(inventory).await?)
    }

    async fn standings(&self, inventory: &Inventory) -> Result<Vec<SlaStanding>, StoreError> {
        let (at, propagated) = (now(), self.propagation.recent());
        let mut standings = Vec::with_capacity(self.slas.len());
        for sla in self.slas.iter() {
            standings.push(slas::standing(inventory.store(), sla, at, &propagated).await?);
        }
        Ok(standings)
    }

    /// Looks at the SLAs every [`SLA_CHECK`] until `shutdown`: one that falls under its
    /// percent appends an `sla.breached` event (which a subscription can be sent), and one
    /// back over it `sla.recovered`, each carrying where it stands.
    pub async fn watch_slas(self, inventory: Inventory, shutdown: Shutdown) {
        let mut breached: HashSet<&'static str> = HashSet::new();
        while !self.slas.is_empty() {
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(SLA_CHECK) => {}
            }
            let standings = match self.standings(&inventory).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot measure the SLAs");
                    continue;
                }
            };
            let mut changes = Vec::new();
            for s in standings {
                if s.breached == breached.contains(s.flow) {
                    continue;
                }
                let compliance = s.compliance.unwrap_or(100.0);
                if s.breached {
                    breached.insert(s.flow);
                    tracing::warn!(
                        flow = s.flow,
                        compliance,
                        percent = s.percent,
                        late_waiting = s.late_waiting,
                        "SLA breached: GET /v1/ops/slas"
                    );
                } else {
                    breached.remove(s.flow);
                    tracing::info!(flow = s.flow, compliance, "SLA met again");
                }
                let standing = serde_json::to_value(&s).unwrap_or_default();
                changes.push(Command::RecordSla {
                    breached: s.breached,
                    standing,
                });
            }
            if let Err(e) = inventory.submit(changes).await {
                tracing::warn!(error = %e, "cannot record an SLA's change");
            }
        }
    }

    pub(super) async fn register_slas(
        &self,
        registry: &mut Registry,
        inventory: &Inventory,
    ) -> Result<(), Problem> {
        let compliance = Family::<FlowLabel, Ratio>::default();
        let breached = Family::<FlowLabel, Gauge>::default();
        for s in self.slas(inventory).await? {
            let label = FlowLabel { flow: s.flow };
            let share = s.compliance.map_or(1.0, |c| c / 100.0);
            compliance.get_or_create(&label).set(share);
            breached.get_or_create(&label).set(i64::from(s.breached));
        }
        registry.register(
            "sla_compliance_ratio",
            "Share of each flow's work in its SLA's window done within the target (late work not done counts against it; 1 when the window held nothing)",
            compliance,
        );
        registry.register(
            "sla_breached",
            "1 while a flow's compliance is under its SLA's percent",
            breached,
        );
        Ok(())
    }
}
