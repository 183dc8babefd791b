//! Available-to-sell: what each location can sell and what each channel may promise.
//!
//! `sellable(s,l) = max(0, on_hand - picking - transfer_out - reserved - safety_stock(s,l))`.
//! A channel's pool is the sum of `sellable` over its locations, less the ring fences of other
//! channels still unreserved (each at most what is sellable at the locations it shares with
//! the fencing channel); then its own rule applies (`share`, `cap`).

use serde::Serialize;

use crate::estate::{Allocation, Channel, Estate};
use crate::ids::{ChannelCode, LocationCode};
use crate::sku::SkuState;
use crate::time::Timestamp;

/// Sellable units of this SKU at `location`.
pub fn sellable_at(estate: &Estate, state: &SkuState, location: &LocationCode) -> i64 {
    let safety = estate.safety_stock().for_sku_at(&state.sku, location);
    state.at(location).map_or(0, |s| s.buckets.sellable(safety))
}

/// One location's contribution to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationSellable {
    /// The location.
    pub location: LocationCode,
    /// Its sellable units.
    pub sellable: i64,
}

/// What a channel may promise for one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelAvailability {
    /// The channel.
    pub channel: ChannelCode,
    /// Units it may sell now.
    pub available_now: i64,
    /// Units expected within its backorder horizon (0 if it takes no backorders).
    pub available_backorder: i64,
    /// Earliest expected arrival within the horizon.
    pub next_eta: Option<Timestamp>,
    /// Sellable units per location that feeds the channel.
    pub locations: Vec<LocationSellable>,
}

/// The figures published as `availability.changed` when they move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Units the channel may sell now.
    pub available_now: i64,
    /// Units expected within its backorder horizon.
    pub available_backorder: i64,
    /// Earliest expected arrival within the horizon.
    pub next_eta: Option<Timestamp>,
}

/// What `channel` may promise for this SKU at `now`, without the per-location detail.
pub fn channel_figures(
    estate: &Estate,
    state: &SkuState,
    channel: &Channel,
    now: Timestamp,
) -> Figures {
    let pool = channel
        .locations
        .iter()
        .map(|l| sellable_at(estate, state, l))
        .fold(0i64, i64::saturating_add);
    let fenced = estate.fences_against(
        channel,
        |c| state.reserved_by(c),
        |fencing| {
            channel
                .locations
                .iter()
                .filter(|l| fencing.locations.contains(l))
                .map(|l| sellable_at(estate, state, l))
                .fold(0, i64::saturating_add)
        },
    );
    let pool = pool.saturating_sub(fenced).max(0);
    let available_now = match channel.allocation {
        Allocation::All | Allocation::RingFence { .. } => pool,
        // pct is at most 100, so the share never exceeds the pool.
        Allocation::Share { pct } => {
            i64::try_from(i128::from(pool) * i128::from(pct) / 100).unwrap_or(pool)
        }
        Allocation::Cap { units } => pool.min(units),
    };
    let (available_backorder, next_eta) = match channel.backorder_horizon_days {
        None => (0, None),
        Some(days) => {
            let horizon = now.plus_days(i64::from(days));
            let due = state.expected.iter().filter(|e| {
                e.qty > 0 && e.eta <= horizon && channel.locations.contains(&e.location)
            });
            due.fold((0, None), |(sum, eta): (i64, Option<Timestamp>), e| {
                (
                    sum.saturating_add(e.qty),
                    Some(eta.map_or(e.eta, |t| t.min(e.eta))),
                )
            })
        }
    };
    Figures {
        available_now,
        available_backorder,
        next_eta,
    }
}

/// What `channel` may promise for this SKU at `now`, with each location's sellable units.
pub fn channel_availability(
    estate: &Estate,
    state: &SkuState,
    channel: &Channel,
    now: Timestamp,
) -> ChannelAvailability {
    let f = channel_figures(estate, state, channel, now);
    ChannelAvailability {
        channel: channel.code.clone(),
        available_now: f.available_now,
        available_backorder: f.available_backorder,
        next_eta: f.next_eta,
        locations: channel
            .locations
            .iter()
            .map(|l| LocationSellable {
                location: l.clone(),
                sellable: sellable_at(estate, state, l),
            })
            .collect(),
    }
}

/// Every channel's figures for this SKU, in configuration order.
pub fn all_figures(estate: &Estate, state: &SkuState, now: Timestamp) -> Vec<Figures> {
    estate
        .channels()
        .iter()
        .map(|c| channel_figures(estate, state, c, now))
        .collect()
}

/// Every channel's availability for this SKU, in configuration order.
pub fn all_channels(estate: &Estate, state: &SkuState, now: Timestamp) -> Vec<ChannelAvailability> {
    estate
        .channels()
        .iter()
        .map(|c| channel_availability(estate, state, c, now))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::fixtures::example;
    use crate::ids::Sku;
    use crate::qty::Level;
    use crate::sku::ExpectedReceipt;
    use crate::stock::{Bucket, StockChange};

    fn loc(s: &str) -> LocationCode {
        LocationCode::parse(s).unwrap()
    }

    /// The worked example: east 100 on hand with 10 picking, west 50, acme 30.
    fn worked() -> SkuState {
        let mut s = SkuState::new(Sku::parse("SKU-1").unwrap());
        let snap = |on_hand, picking| {
            StockChange::Snapshot(vec![
                (Bucket::OnHand, Level::of(on_hand)),
                (Bucket::Picking, Level::of(picking)),
            ])
        };
        s.at_mut(&loc("east")).apply(&snap(100, 10), Timestamp(1));
        s.at_mut(&loc("west")).apply(&snap(50, 0), Timestamp(1));
        s.at_mut(&loc("acme")).apply(&snap(30, 0), Timestamp(1));
        s
    }

    fn now(estate: &Estate, s: &SkuState, channel: &str) -> i64 {
        channel_availability(estate, s, estate.channel(channel).unwrap(), Timestamp(0))
            .available_now
    }

    #[test]
    fn the_worked_example_holds() {
        let e = example();
        let s = worked();
        assert_eq!(sellable_at(&e, &s, &loc("east")), 88);
        assert_eq!(sellable_at(&e, &s, &loc("west")), 45);
        assert_eq!(sellable_at(&e, &s, &loc("acme")), 28);
        assert_eq!(now(&e, &s, "b2b"), 133);
        assert_eq!(now(&e, &s, "web"), 112);
        assert_eq!(now(&e, &s, "marketplace"), 50);
    }

    #[test]
    fn the_fence_shrinks_as_its_channel_reserves() {
        let e = example();
        let mut s = worked();
        s.add_channel_reserved(&ChannelCode::parse("b2b").unwrap(), 15);
        s.at_mut(&loc("east")).buckets.reserved = 15;
        // pool 161 - 15 reserved = 146; fence left 5; web floor(0.8 * 141) = 112.
        assert_eq!(now(&e, &s, "web"), 112);
        assert_eq!(now(&e, &s, "b2b"), 118);
    }

    #[test]
    fn the_fence_never_makes_a_pool_negative() {
        let e = example();
        let mut s = SkuState::new(Sku::parse("SKU-1").unwrap());
        s.at_mut(&loc("east")).buckets.on_hand = 12;
        assert_eq!(now(&e, &s, "marketplace"), 0);
        assert_eq!(now(&e, &s, "b2b"), 10);
    }

    #[test]
    fn a_fence_holds_nothing_back_where_its_channel_cannot_draw() {
        let e = example();
        // Stock only at the drop-ship supplier, which b2b (fencing 20) does not use.
        let mut s = SkuState::new(Sku::parse("SKU-1").unwrap());
        s.at_mut(&loc("acme")).buckets.on_hand = 30;
        // acme sells 28 (2 of safety stock).
        assert_eq!(now(&e, &s, "web"), 22, "floor(0.8 * 28): nothing fenced");
        assert_eq!(now(&e, &s, "b2b"), 0);
        // 3 sellable at east, which both use: the fence holds those 3 and no more.
        s.at_mut(&loc("east")).buckets.on_hand = 5;
        assert_eq!(now(&e, &s, "web"), 22, "floor(0.8 * (31 - 3))");
        assert_eq!(now(&e, &s, "b2b"), 3);
    }

    #[test]
    fn backorders_count_receipts_inside_the_horizon_only() {
        let e = example();
        let mut s = worked();
        let day = 86_400_000;
        for (po, qty, eta) in [
            ("PO-1", 10, 3 * day),
            ("PO-2", 7, 20 * day),
            ("PO-3", 4, day),
        ] {
            s.expected.push(ExpectedReceipt {
                location: loc("east"),
                po_ref: po.into(),
                qty,
                eta: Timestamp(eta),
            });
        }
        let web = channel_availability(&e, &s, e.channel("web").unwrap(), Timestamp(0));
        assert_eq!(web.available_backorder, 14);
        assert_eq!(web.next_eta, Some(Timestamp(day)));
        let mp = channel_availability(&e, &s, e.channel("marketplace").unwrap(), Timestamp(0));
        assert_eq!((mp.available_backorder, mp.next_eta), (0, None));
    }
}
