//! Everything known about one SKU's stock: per-location buckets, what each channel holds
//! reserved, and expected receipts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelCode, LocationCode, Sku};
use crate::stock::LocationStock;
use crate::time::Timestamp;

/// An open purchase order line or inbound transfer, expected at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedReceipt {
    /// Where it will arrive.
    pub location: LocationCode,
    /// The purchase order (or transfer) reference.
    pub po_ref: String,
    /// Units still expected.
    pub qty: i64,
    /// Expected arrival.
    pub eta: Timestamp,
}

/// One SKU's whole stock picture. The unit of locking and of the in-memory projection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuState {
    /// The SKU.
    pub sku: Sku,
    /// Stock per location, sorted by location code; a location never touched has no row.
    pub stock: Vec<LocationStock>,
    /// Units each channel holds in open reservations (for ring fences).
    pub channel_reserved: BTreeMap<ChannelCode, i64>,
    /// Open expected receipts.
    pub expected: Vec<ExpectedReceipt>,
}

impl SkuState {
    /// A SKU with no stock anywhere.
    pub fn new(sku: Sku) -> Self {
        Self {
            sku,
            stock: Vec::new(),
            channel_reserved: BTreeMap::new(),
            expected: Vec::new(),
        }
    }

    /// The stock row at `location`, if any.
    pub fn at(&self, location: &LocationCode) -> Option<&LocationStock> {
        self.stock.iter().find(|s| &s.location == location)
    }

    /// The stock row at `location`, created empty if missing.
    pub fn at_mut(&mut self, location: &LocationCode) -> &mut LocationStock {
        match self.stock.binary_search_by(|s| s.location.cmp(location)) {
            Ok(i) => &mut self.stock[i],
            Err(i) => {
                self.stock.insert(i, LocationStock::empty(location.clone()));
                &mut self.stock[i]
            }
        }
    }

    /// Units `channel` holds in open reservations.
    pub fn reserved_by(&self, channel: &ChannelCode) -> i64 {
        self.channel_reserved.get(channel).copied().unwrap_or(0)
    }

    /// Adds `delta` to what `channel` holds reserved.
    pub fn add_channel_reserved(&mut self, channel: &ChannelCode, delta: i64) {
        let v = self.channel_reserved.entry(channel.clone()).or_insert(0);
        *v = v.saturating_add(delta).max(0);
    }
}
