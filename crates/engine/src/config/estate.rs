//! Where stock is and who sells it: `[[locations]]`, `[[channels]]`, `[safety_stock]`, and
//! the estate the inventory rules run on, built from them.

use std::collections::BTreeMap;

use crossdock_domain::order_state::OrderState;
use crossdock_domain::{
    Allocation, Channel, ChannelCode, ChannelOrders, Estate, Location, LocationCode, LocationKind,
    SafetyStock, Sku,
};
use serde::Deserialize;

use super::{Config, ConfigError, OPTIONAL_SYSTEMS};

/// `[[locations]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    /// Unique code, as stock events name it.
    pub code: LocationCode,
    /// `warehouse`, `store`, `dropship` or `3pl`.
    pub kind: LocationKind,
    /// Routing preference: lower is preferred.
    pub priority: u32,
    /// Region, to prefer a nearby location among equal priorities.
    pub region: Option<String>,
    /// Days from order to shipment (drop-ship suppliers).
    pub lead_time_days: Option<u32>,
}

/// `[[channels]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Unique code, as requests name it.
    pub code: ChannelCode,
    /// Locations whose stock feeds this channel.
    pub locations: Vec<LocationCode>,
    /// Take backorders: an order stock cannot fill waits this many days for it (then
    /// `BACKORDER_OVERDUE`); availability also shows expected receipts due within them.
    pub backorder_horizon_days: Option<u32>,
    /// How a backorder ships: `"ship_complete"` (the default: every line waits until all
    /// can be held) or `"ship_available"` (the lines in stock go on now, the rest later as a
    /// part of their own).
    #[serde(default)]
    pub backorders: BackorderPolicy,
    /// `{ rule = "share", pct = N }`, `{ rule = "cap", units = N }`,
    /// `{ rule = "ring_fence", units = N }` or `{ rule = "all" }` (the default).
    #[serde(default = "all")]
    pub allocation: Allocation,
    /// Days after the last shipment within which a return may be opened.
    #[serde(default = "default_return_window")]
    pub return_window_days: u32,
    /// `"async"` (the default: a saga step after intake) or `"sync"` (checked with the ERP
    /// inside the intake request, for a B2B portal that must say "on hold" at once).
    #[serde(default)]
    pub credit_check: CreditCheck,
    /// The channel's names for canonical states, e.g. `{ shipped = "fulfilled" }`: used in
    /// what crossdock sends the channel and accepted in `?state=` filters.
    #[serde(default)]
    pub statuses: BTreeMap<OrderState, String>,
    /// How far an order's invoices may differ from its value (goods and tax), a decimal
    /// string such as `"0.01"` (the default); past it the order waits as `PRICE_MISMATCH`.
    #[serde(default = "default_invoice_tolerance")]
    pub invoice_tolerance: String,
}

fn default_invoice_tolerance() -> String {
    "0.01".to_string()
}

pub use crossdock_domain::estate::BackorderPolicy;

/// When an account customer's credit is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditCheck {
    /// After intake, as a saga step.
    #[default]
    Async,
    /// Inside the intake request, with a short timeout and the last known status to fall
    /// back on.
    Sync,
}

fn default_return_window() -> u32 {
    30
}

fn all() -> Allocation {
    Allocation::All
}

/// `[safety_stock]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafetyStockConfig {
    /// Units held back when nothing more specific applies.
    pub default: i64,
    /// Per location code.
    pub per_location: BTreeMap<LocationCode, i64>,
    /// Per SKU; wins over the per-location value.
    pub per_sku: BTreeMap<Sku, i64>,
}

impl Config {
    /// The estate the inventory rules run on.
    pub fn estate(&self) -> Result<Estate, ConfigError> {
        let locations = self
            .locations
            .iter()
            .map(|l| Location {
                code: l.code.clone(),
                kind: l.kind,
                priority: l.priority,
                region: l.region.clone(),
                lead_time_days: l.lead_time_days,
            })
            .collect();
        let channels =
            self.channels
                .iter()
                .map(|c| {
                    Ok(Channel {
                code: c.code.clone(),
                locations: c.locations.clone(),
                allocation: c.allocation,
                backorder_horizon_days: c.backorder_horizon_days,
                orders: ChannelOrders {
                    return_window_days: c.return_window_days,
                    credit_check_sync: c.credit_check == CreditCheck::Sync,
                    statuses: c.statuses.clone(),
                    backorders: c.backorders,
                    invoice_tolerance: crossdock_domain::money::Money::parse(&c.invoice_tolerance)
                        .ok()
                        .filter(|m| m.micros() >= 0)
                        .ok_or_else(|| ConfigError::Invalid {
                            key: format!("channels.{}.invoice_tolerance", c.code),
                            message: format!(
                                "must be a decimal amount of 0 or more such as \"0.01\", got `{}`",
                                c.invoice_tolerance
                            ),
                        })?,
                },
            })
                })
                .collect::<Result<Vec<_>, ConfigError>>()?;
        let ss = &self.safety_stock;
        Ok(Estate::new(
            locations,
            channels,
            SafetyStock {
                default: ss.default,
                per_location: ss.per_location.clone(),
                per_sku: ss.per_sku.clone(),
            },
        )?
        // Optional checks whose system is not configured pass unchecked, in-house.
        .with_in_house(
            OPTIONAL_SYSTEMS
                .iter()
                .filter(|s| self.system(s).is_none())
                .map(|s| s.to_string()),
        ))
    }
}
