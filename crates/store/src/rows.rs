//! Rows as both backends read and write them, and their conversion to domain types.

use std::collections::BTreeMap;

use crossdock_domain::ledger::{Reservation, ReservationStatus, ReservedAt};
use crossdock_domain::stock::{Buckets, LocationStock};
use crossdock_domain::{
    ChannelCode, ExpectedReceipt, LocationCode, ReservationId, Sku, SkuState, Timestamp,
};

use crate::{Result, StoreError};

/// One `stock` row.
pub(crate) struct StockRow {
    pub sku: String,
    pub location: String,
    pub buckets: [i64; 5],
    pub snapshot_at: [Option<i64>; 4],
}

impl StockRow {
    pub fn from_state(sku: &Sku, s: &LocationStock) -> Self {
        let b = s.buckets;
        let snap = |t: Timestamp| (t != Timestamp::MIN).then_some(t.0);
        Self {
            sku: sku.to_string(),
            location: s.location.to_string(),
            buckets: [
                b.on_hand,
                b.picking,
                b.transfer_out,
                b.inspection,
                b.reserved,
            ],
            snapshot_at: s.snapshot_at.map(snap),
        }
    }
}

/// One `expected_receipts` row.
pub(crate) struct ExpectedRow {
    pub sku: String,
    pub location: String,
    pub po_ref: String,
    pub qty: i64,
    pub eta: i64,
}

/// One `reservations` row.
pub(crate) struct ReservationRow {
    pub id: String,
    pub sku: String,
    pub channel: String,
    pub order_ref: String,
    pub qty: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub status: String,
    pub allocations: String,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn sku(s: &str) -> Result<Sku> {
    Sku::parse(s).map_err(|e| corrupt(format!("sku `{s}`: {e}")))
}

fn location(s: &str) -> Result<LocationCode> {
    LocationCode::parse(s).map_err(|e| corrupt(format!("location `{s}`: {e}")))
}

impl ReservationRow {
    pub fn from_domain(r: &Reservation) -> Self {
        Self {
            id: r.id.to_string(),
            sku: r.sku.to_string(),
            channel: r.channel.to_string(),
            order_ref: r.order_ref.clone(),
            qty: r.qty,
            created_at: r.created_at.0,
            expires_at: r.expires_at.map(|t| t.0),
            status: r.status.as_str().to_string(),
            allocations: serde_json::to_string(&r.allocations).expect("plain data serialises"),
        }
    }

    pub fn into_domain(self) -> Result<Reservation> {
        let allocations: Vec<ReservedAt> = serde_json::from_str(&self.allocations)
            .map_err(|e| corrupt(format!("reservation {} allocations: {e}", self.id)))?;
        Ok(Reservation {
            sku: sku(&self.sku)?,
            channel: ChannelCode::parse(&self.channel)
                .map_err(|e| corrupt(format!("channel `{}`: {e}", self.channel)))?,
            status: ReservationStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("reservation status `{}`", self.status)))?,
            order_ref: self.order_ref,
            qty: self.qty,
            created_at: Timestamp(self.created_at),
            expires_at: self.expires_at.map(Timestamp),
            allocations,
            id: ReservationId::parse(self.id)?,
        })
    }
}

/// Builds SKU states from the rows of the item master, stock, channel totals and expected
/// receipts. SKUs not in `items` are left out.
pub(crate) fn assemble(
    items: Vec<String>,
    stock: Vec<StockRow>,
    channel_reserved: Vec<(String, String, i64)>,
    expected: Vec<ExpectedRow>,
) -> Result<Vec<SkuState>> {
    let mut states: BTreeMap<String, SkuState> = BTreeMap::new();
    for s in items {
        let state = SkuState::new(sku(&s)?);
        states.insert(s, state);
    }
    for row in stock {
        let Some(state) = states.get_mut(&row.sku) else {
            continue;
        };
        let [on_hand, picking, transfer_out, inspection, reserved] = row.buckets;
        let mut ls = LocationStock::empty(location(&row.location)?);
        ls.buckets = Buckets {
            on_hand,
            picking,
            transfer_out,
            inspection,
            reserved,
        };
        ls.snapshot_at = row.snapshot_at.map(|t| t.map_or(Timestamp::MIN, Timestamp));
        state.stock.push(ls);
    }
    for (s, channel, qty) in channel_reserved {
        if let Some(state) = states.get_mut(&s) {
            let code = ChannelCode::parse(&channel)
                .map_err(|e| corrupt(format!("channel `{channel}`: {e}")))?;
            state.channel_reserved.insert(code, qty);
        }
    }
    for row in expected {
        if let Some(state) = states.get_mut(&row.sku) {
            state.expected.push(ExpectedReceipt {
                location: location(&row.location)?,
                po_ref: row.po_ref,
                qty: row.qty,
                eta: Timestamp(row.eta),
            });
        }
    }
    let mut out: Vec<SkuState> = states.into_values().collect();
    for s in &mut out {
        s.stock.sort_by(|a, b| a.location.cmp(&b.location));
    }
    Ok(out)
}
