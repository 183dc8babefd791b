//! `[[slas]]`: a latency target per flow, met by a share of its work over a rolling window.
//!
//! ```toml
//! [[slas]]
//! flow = "order_ingestion"   # or inventory_propagation, shipment_updates, financial_posting
//! target_ms = 60000          # each within a minute…
//! percent = 99.0             # …99% of them…
//! window_minutes = 60        # …over the last hour
//! ```

use crossdock_domain::JobKind;
use serde::Deserialize;

use super::ConfigError;

/// A flow the hub carries, whose latency an SLA can bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// An order taken in until its sales order exists in the ERP.
    OrderIngestion,
    /// A stock move committed until each storefront has the new figure.
    InventoryPropagation,
    /// A shipment recorded until the storefront has its tracking and the ERP its fulfilment.
    ShipmentUpdates,
    /// A payment capture, an invoice pushed to the storefront, a return posted to the ERP:
    /// each from when it was queued until the system took it.
    FinancialPosting,
}

impl Flow {
    /// Every flow.
    pub const ALL: [Flow; 4] = [
        Flow::OrderIngestion,
        Flow::InventoryPropagation,
        Flow::ShipmentUpdates,
        Flow::FinancialPosting,
    ];

    /// Its name in `[[slas]] flow`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Flow::OrderIngestion => "order_ingestion",
            Flow::InventoryPropagation => "inventory_propagation",
            Flow::ShipmentUpdates => "shipment_updates",
            Flow::FinancialPosting => "financial_posting",
        }
    }

    /// The jobs whose tries carry the flow (none for inventory propagation, timed by the
    /// storefronts' publishers).
    pub const fn kinds(self) -> &'static [JobKind] {
        match self {
            Flow::OrderIngestion => &[JobKind::PostSalesOrder],
            Flow::InventoryPropagation => &[],
            Flow::ShipmentUpdates => &[JobKind::PublishTracking, JobKind::PostFulfilment],
            Flow::FinancialPosting => &[
                JobKind::CapturePayment,
                JobKind::PushInvoice,
                JobKind::PostReturn,
            ],
        }
    }
}

/// `[[slas]]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    /// The flow.
    pub flow: Flow,
    /// How long each may take, in milliseconds.
    pub target_ms: u64,
    /// The share that must be within the target, in percent.
    #[serde(default = "default_percent")]
    pub percent: f64,
    /// How far back the share is taken, in minutes.
    #[serde(default = "default_window")]
    pub window_minutes: u64,
}

fn default_percent() -> f64 {
    99.0
}

fn default_window() -> u64 {
    60
}

/// The longest window: tries of jobs are kept a week.
pub const MAX_WINDOW_MINUTES: u64 = 7 * 24 * 60;

pub(super) fn check(slas: &[SlaConfig]) -> Result<(), ConfigError> {
    for (i, sla) in slas.iter().enumerate() {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            key: format!("slas[{i}].{field}"),
            message,
        };
        if slas[..i].iter().any(|s| s.flow == sla.flow) {
            return Err(invalid(
                "flow",
                format!(
                    "{} has an SLA already; give each flow one",
                    sla.flow.as_str()
                ),
            ));
        }
        if !(1..=MAX_WINDOW_MINUTES * 60_000).contains(&sla.target_ms) {
            return Err(invalid(
                "target_ms",
                "must be from 1 ms to a week (604800000)".into(),
            ));
        }
        if !(sla.percent > 0.0 && sla.percent <= 100.0) {
            return Err(invalid("percent", "must be above 0 and at most 100".into()));
        }
        if !(1..=MAX_WINDOW_MINUTES).contains(&sla.window_minutes) {
            return Err(invalid(
                "window_minutes",
                format!(
                    "must be from 1 to {MAX_WINDOW_MINUTES} (a week: tries are kept that long)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<SlaConfig>, String> {
        #[derive(Deserialize)]
        struct Doc {
            slas: Vec<SlaConfig>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| e.to_string())?;
        check(&doc.slas).map_err(|e| e.to_string())?;
        Ok(doc.slas)
    }

    #[test]
    fn slas_read_with_their_defaults_and_bad_ones_are_named() {
        let slas = parsed("[[slas]]\nflow = \"order_ingestion\"\ntarget_ms = 60000\n").unwrap();
        assert_eq!((slas[0].percent, slas[0].window_minutes), (99.0, 60));
        for (text, key) in [
            ("flow = \"order_ingestion\"\ntarget_ms = 0", "target_ms"),
            (
                "flow = \"shipment_updates\"\ntarget_ms = 5\npercent = 120.0",
                "percent",
            ),
            (
                "flow = \"financial_posting\"\ntarget_ms = 5\nwindow_minutes = 0",
                "window_minutes",
            ),
        ] {
            let e = parsed(&format!("[[slas]]\n{text}\n")).unwrap_err();
            assert!(e.contains(key), "{e}");
        }
        let twice = "[[slas]]\nflow = \"order_ingestion\"\ntarget_ms = 5\n\
                     [[slas]]\nflow = \"order_ingestion\"\ntarget_ms = 9\n";
        assert!(parsed(twice).unwrap_err().contains("slas[1].flow"));
        assert!(parsed("[[slas]]\nflow = \"lunch\"\ntarget_ms = 5\n").is_err());
    }
}
