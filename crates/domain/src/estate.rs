//! The estate: locations, channels and their allocation rules, and safety stock.
//!
//! This is the part of the configuration the inventory arithmetic depends on. It is plain data,
//! checked once by [`Estate::new`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelCode, LocationCode, Sku};

/// What a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    /// A distributor's own warehouse.
    Warehouse,
    /// A retail store that also ships.
    Store,
    /// A supplier that ships straight to the customer; always routed last.
    Dropship,
    /// A third-party logistics provider's warehouse.
    #[serde(rename = "3pl")]
    ThirdParty,
}

/// A place stock is held or shipped from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The location's code.
    pub code: LocationCode,
    /// What it is.
    pub kind: LocationKind,
    /// Routing preference: lower is preferred.
    pub priority: u32,
    /// Region, used to prefer a nearby location between equal priorities.
    pub region: Option<String>,
    /// Days from order to shipment (drop-ship suppliers).
    pub lead_time_days: Option<u32>,
}

/// How much of its pool a channel may sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Allocation {
    /// The whole pool.
    All,
    /// At most `pct` percent of the pool, rounded down.
    Share {
        /// Percentage, 0 to 100.
        pct: u32,
    },
    /// At most `units` units.
    Cap {
        /// The cap.
        units: i64,
    },
    /// Keeps `units` of every SKU for this channel; other channels see the pool less the fence.
    RingFence {
        /// Units held back for this channel.
        units: i64,
    },
}

/// A sales channel and the locations that feed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channel {
    /// The channel's code.
    pub code: ChannelCode,
    /// Locations whose sellable stock feeds this channel.
    pub locations: Vec<LocationCode>,
    /// The allocation rule.
    pub allocation: Allocation,
    /// When set, the channel also sees expected receipts due within this many days.
    pub backorder_horizon_days: Option<u32>,
    /// How the channel's orders are handled after intake.
    pub orders: ChannelOrders,
}

/// How a channel's orders are handled: returns, credit, and the names it uses for states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelOrders {
    /// Days after the last shipment within which a return may be opened.
    pub return_window_days: u32,
    /// Check an account customer's credit with the ERP inside the intake request.
    pub credit_check_sync: bool,
    /// The channel's own name for canonical states, where it differs.
    pub statuses: BTreeMap<crate::order_state::OrderState, String>,
    /// How far an order's invoices may differ from its value (goods and tax) and still close
    /// it; past this the order waits as `PRICE_MISMATCH`.
    pub invoice_tolerance: crate::money::Money,
    /// How a backorder ships, when the channel takes backorders.
    pub backorders: BackorderPolicy,
}

/// How a channel's backorders ship.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackorderPolicy {
    /// Every line waits until all of them can be held, then the order goes on whole.
    #[default]
    ShipComplete,
    /// The lines in stock are held and released now; the rest wait, and each group of them
    /// that stock later fills is released as a part of its own.
    ShipAvailable,
}

impl ChannelOrders {
    /// The channel's name for `state`: its own where configured, else the canonical one.
    pub fn status_name(&self, state: crate::order_state::OrderState) -> &str {
        self.statuses
            .get(&state)
            .map_or(state.as_str(), String::as_str)
    }

    /// The state a channel status names: one of its own names, or a canonical name it has
    /// not renamed.
    pub fn state_named(&self, name: &str) -> Option<crate::order_state::OrderState> {
        crate::order_state::OrderState::ALL
            .into_iter()
            .find(|s| self.status_name(*s) == name)
    }

    /// A name that two states would answer to, if any.
    fn ambiguous_status(&self) -> Option<String> {
        let all = crate::order_state::OrderState::ALL;
        all.iter().enumerate().find_map(|(i, a)| {
            all[i + 1..]
                .iter()
                .any(|b| self.status_name(*a) == self.status_name(*b))
                .then(|| self.status_name(*a).to_string())
        })
    }
}

impl Default for ChannelOrders {
    fn default() -> Self {
        Self {
            return_window_days: 30,
            credit_check_sync: false,
            statuses: BTreeMap::new(),
            invoice_tolerance: crate::money::Money::from_micros(10_000),
            backorders: BackorderPolicy::ShipComplete,
        }
    }
}

/// Safety stock held back per SKU and location: the per-SKU value wins, then the per-location
/// value, then the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SafetyStock {
    /// Applies when nothing more specific does.
    pub default: i64,
    /// Per location.
    pub per_location: BTreeMap<LocationCode, i64>,
    /// Per SKU, at every location.
    pub per_sku: BTreeMap<Sku, i64>,
}

impl SafetyStock {
    /// The safety stock for `sku` at `location`.
    pub fn for_sku_at(&self, sku: &Sku, location: &LocationCode) -> i64 {
        self.per_sku
            .get(sku)
            .or_else(|| self.per_location.get(location))
            .copied()
            .unwrap_or(self.default)
    }
}

/// Why an estate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EstateError {
    /// Two locations share a code.
    #[error("location `{0}` is defined twice")]
    DuplicateLocation(LocationCode),
    /// Two channels share a code.
    #[error("channel `{0}` is defined twice")]
    DuplicateChannel(ChannelCode),
    /// A channel names a location that is not defined.
    #[error(
        "channel `{channel}` lists location `{location}`, which is not defined under [[locations]]"
    )]
    UnknownLocation {
        /// The channel.
        channel: ChannelCode,
        /// The missing location.
        location: LocationCode,
    },
    /// A channel has no locations.
    #[error("channel `{0}` must list at least one location")]
    NoLocations(ChannelCode),
    /// A channel's status name stands for two states, so it could not be read back.
    #[error("channel `{channel}`: status `{name}` stands for more than one state")]
    AmbiguousStatus {
        /// The channel.
        channel: ChannelCode,
        /// The name used twice.
        name: String,
    },
    /// A share outside 0..=100.
    #[error("channel `{0}`: allocation pct must be between 0 and 100")]
    BadShare(ChannelCode),
    /// A negative cap or fence.
    #[error("channel `{0}`: allocation units must not be negative")]
    NegativeUnits(ChannelCode),
    /// Negative safety stock.
    #[error("safety stock must not be negative")]
    NegativeSafetyStock,
}

/// Locations, channels and safety stock, checked for consistency; and which of the saga's
/// systems crossdock stands in for itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estate {
    locations: Vec<Location>,
    channels: Vec<Channel>,
    safety_stock: SafetyStock,
    in_house: BTreeSet<String>,
}

impl Estate {
    /// Checks and builds an estate.
    pub fn new(
        locations: Vec<Location>,
        channels: Vec<Channel>,
        safety_stock: SafetyStock,
    ) -> Result<Self, EstateError> {
        for (i, l) in locations.iter().enumerate() {
            if locations[..i].iter().any(|o| o.code == l.code) {
                return Err(EstateError::DuplicateLocation(l.code.clone()));
            }
        }
        for (i, c) in channels.iter().enumerate() {
            if channels[..i].iter().any(|o| o.code == c.code) {
                return Err(EstateError::DuplicateChannel(c.code.clone()));
            }
            if c.locations.is_empty() {
                return Err(EstateError::NoLocations(c.code.clone()));
            }
            if let Some(missing) = c
                .locations
                .iter()
                .find(|code| !locations.iter().any(|l| &l.code == *code))
            {
                return Err(EstateError::UnknownLocation {
                    channel: c.code.clone(),
                    location: missing.clone(),
                });
            }
            if let Some(name) = c.orders.ambiguous_status() {
                return Err(EstateError::AmbiguousStatus {
                    channel: c.code.clone(),
                    name,
                });
            }
            match c.allocation {
                Allocation::Share { pct } if pct > 100 => {
                    return Err(EstateError::BadShare(c.code.clone()));
                }
                Allocation::Cap { units } | Allocation::RingFence { units } if units < 0 => {
                    return Err(EstateError::NegativeUnits(c.code.clone()));
                }
                _ => {}
            }
        }
        let negative = safety_stock.default < 0
            || safety_stock.per_location.values().any(|v| *v < 0)
            || safety_stock.per_sku.values().any(|v| *v < 0);
        if negative {
            return Err(EstateError::NegativeSafetyStock);
        }
        Ok(Self {
            locations,
            channels,
            safety_stock,
            in_house: BTreeSet::new(),
        })
    }

    /// All locations, in configuration order.
    pub fn locations(&self) -> &[Location] {
        &self.locations
    }

    /// All channels, in configuration order.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// The same estate with crossdock standing in for `systems` (optional checks whose
    /// system is not configured, which pass unchecked): their steps need no call, so they
    /// run inside the transaction that makes them due.
    pub fn with_in_house(mut self, systems: impl IntoIterator<Item = String>) -> Self {
        self.in_house.extend(systems);
        self
    }

    /// Whether crossdock runs `system`'s saga steps itself: its own (`saga`), and the
    /// systems it was told it stands in for.
    pub fn in_house(&self, system: &str) -> bool {
        system == crate::job::JobKind::Allocate.system() || self.in_house.contains(system)
    }

    /// The safety stock rules.
    pub fn safety_stock(&self) -> &SafetyStock {
        &self.safety_stock
    }

    /// The location with this code.
    pub fn location(&self, code: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.code.as_str() == code)
    }

    /// The channel with this code.
    pub fn channel(&self, code: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.code.as_str() == code)
    }

    /// Units fenced against `channel` by the other channels' ring fences. A fence holds its
    /// units only at its own channel's locations, so against `channel` it holds at most what
    /// is sellable at the locations the two share (`shared_sellable`), and never more than
    /// the fence still unreserved (`reserved_by` the fencing channel).
    pub(crate) fn fences_against(
        &self,
        channel: &Channel,
        reserved_by: impl Fn(&ChannelCode) -> i64,
        shared_sellable: impl Fn(&Channel) -> i64,
    ) -> i64 {
        self.channels
            .iter()
            .filter(|c| c.code != channel.code)
            .map(|c| match c.allocation {
                Allocation::RingFence { units } => {
                    let left = units.saturating_sub(reserved_by(&c.code)).max(0);
                    left.min(shared_sellable(c))
                }
                _ => 0,
            })
            .fold(0, i64::saturating_add)
    }
}

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    //! The example estate from the README, for tests.
    use super::*;

    fn loc(code: &str, kind: LocationKind, priority: u32, lead: Option<u32>) -> Location {
        Location {
            code: LocationCode::parse(code).unwrap(),
            kind,
            priority,
            region: None,
            lead_time_days: lead,
        }
    }

    fn chan(code: &str, locs: &[&str], allocation: Allocation, horizon: Option<u32>) -> Channel {
        Channel {
            code: ChannelCode::parse(code).unwrap(),
            locations: locs
                .iter()
                .map(|l| LocationCode::parse(*l).unwrap())
                .collect(),
            allocation,
            backorder_horizon_days: horizon,
            orders: ChannelOrders::default(),
        }
    }

    /// east (1), west (2), acme drop-ship (9); web share 80 %, marketplace cap 50, b2b fence 20.
    pub fn example() -> Estate {
        let mut per_location = BTreeMap::new();
        per_location.insert(LocationCode::parse("west").unwrap(), 5);
        let mut per_sku = BTreeMap::new();
        per_sku.insert(Sku::parse("SKU-HOT").unwrap(), 0);
        Estate::new(
            vec![
                loc("east", LocationKind::Warehouse, 1, None),
                loc("west", LocationKind::Warehouse, 2, None),
                loc("acme", LocationKind::Dropship, 9, Some(5)),
            ],
            vec![
                chan(
                    "web",
                    &["east", "west", "acme"],
                    Allocation::Share { pct: 80 },
                    Some(14),
                ),
                chan(
                    "marketplace",
                    &["east", "west"],
                    Allocation::Cap { units: 50 },
                    None,
                ),
                chan(
                    "b2b",
                    &["east", "west"],
                    Allocation::RingFence { units: 20 },
                    None,
                ),
            ],
            SafetyStock {
                default: 2,
                per_location,
                per_sku,
            },
        )
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn channel_statuses_map_both_ways_and_must_be_unambiguous() {
        use crate::order_state::OrderState;
        let mut orders = ChannelOrders::default();
        orders
            .statuses
            .insert(OrderState::Shipped, "fulfilled".to_string());
        assert_eq!(orders.status_name(OrderState::Shipped), "fulfilled");
        assert_eq!(orders.status_name(OrderState::Invoiced), "invoiced");
        assert_eq!(orders.state_named("fulfilled"), Some(OrderState::Shipped));
        assert_eq!(orders.state_named("invoiced"), Some(OrderState::Invoiced));
        assert_eq!(orders.state_named("shipped"), None, "renamed away");
        assert_eq!(orders.ambiguous_status(), None);
        orders
            .statuses
            .insert(OrderState::Closed, "invoiced".to_string());
        assert_eq!(orders.ambiguous_status().as_deref(), Some("invoiced"));
        let mut web = super::fixtures::example().channels()[0].clone();
        web.orders = orders;
        let err = Estate::new(
            super::fixtures::example().locations().to_vec(),
            vec![web],
            SafetyStock::default(),
        );
        assert!(matches!(err, Err(EstateError::AmbiguousStatus { .. })));
    }

    use super::*;

    #[test]
    fn safety_stock_prefers_sku_then_location_then_default() {
        let e = fixtures::example();
        let ss = e.safety_stock();
        let west = LocationCode::parse("west").unwrap();
        let east = LocationCode::parse("east").unwrap();
        assert_eq!(ss.for_sku_at(&Sku::parse("SKU-HOT").unwrap(), &west), 0);
        assert_eq!(ss.for_sku_at(&Sku::parse("SKU-1").unwrap(), &west), 5);
        assert_eq!(ss.for_sku_at(&Sku::parse("SKU-1").unwrap(), &east), 2);
    }

    #[test]
    fn a_channel_naming_an_unknown_location_is_refused() {
        let e = fixtures::example();
        let mut channels = e.channels().to_vec();
        channels[0]
            .locations
            .push(LocationCode::parse("north").unwrap());
        let err = Estate::new(e.locations().to_vec(), channels, SafetyStock::default());
        assert!(matches!(err, Err(EstateError::UnknownLocation { .. })));
    }
}
