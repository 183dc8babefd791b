//! Stock buckets at one location and how stock events move them.
//!
//! Deltas and snapshots are applied bucket by bucket: a snapshot replaces a bucket as of its
//! time, and any event older than the last snapshot applied to a bucket leaves that bucket alone
//! (the snapshot already counted it).

use serde::{Deserialize, Serialize};

use crate::ids::LocationCode;
use crate::qty::{Delta, Level, Qty};
use crate::time::Timestamp;

/// The buckets kept for one SKU at one location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buckets {
    /// Physical units, including those on open picks and outbound transfers.
    pub on_hand: i64,
    /// Units on open pick tickets.
    pub picking: i64,
    /// Units committed to outbound transfers.
    pub transfer_out: i64,
    /// Returned units awaiting inspection; not part of `on_hand`.
    pub inspection: i64,
    /// Units held by crossdock for reservations not yet picked.
    pub reserved: i64,
}

/// A bucket that outside systems report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// See [`Buckets::on_hand`].
    OnHand,
    /// See [`Buckets::picking`].
    Picking,
    /// See [`Buckets::transfer_out`].
    TransferOut,
    /// See [`Buckets::inspection`].
    Inspection,
}

impl Bucket {
    /// Every reported bucket.
    pub const ALL: [Bucket; 4] = [
        Bucket::OnHand,
        Bucket::Picking,
        Bucket::TransferOut,
        Bucket::Inspection,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

impl Buckets {
    fn get_mut(&mut self, bucket: Bucket) -> &mut i64 {
        match bucket {
            Bucket::OnHand => &mut self.on_hand,
            Bucket::Picking => &mut self.picking,
            Bucket::TransferOut => &mut self.transfer_out,
            Bucket::Inspection => &mut self.inspection,
        }
    }

    /// Units that may be promised: `max(0, on_hand - picking - transfer_out - reserved -
    /// safety_stock)`, computed without wrapping whatever the buckets hold.
    pub fn sellable(&self, safety_stock: i64) -> i64 {
        self.on_hand
            .saturating_sub(self.picking)
            .saturating_sub(self.transfer_out)
            .saturating_sub(self.reserved)
            .saturating_sub(safety_stock)
            .max(0)
    }
}

/// One SKU's stock at one location: buckets and when each was last replaced by a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationStock {
    /// The location.
    pub location: LocationCode,
    /// Current buckets.
    pub buckets: Buckets,
    /// Time of the last snapshot applied to each reported bucket (`Bucket` order).
    pub snapshot_at: [Timestamp; 4],
}

impl LocationStock {
    /// An empty row for `location`.
    pub fn empty(location: LocationCode) -> Self {
        Self {
            location,
            buckets: Buckets::default(),
            snapshot_at: [Timestamp::MIN; 4],
        }
    }

    /// Applies a change of stock that happened at `at`. Returns what happened.
    pub fn apply(&mut self, change: &StockChange, at: Timestamp) -> Applied {
        let mut applied = 0;
        let mut stale = 0;
        let mut touch = |this: &mut Self, bucket: Bucket, f: &dyn Fn(i64) -> i64| {
            if at < this.snapshot_at[bucket.index()] {
                stale += 1;
            } else {
                let b = this.buckets.get_mut(bucket);
                *b = f(*b);
                applied += 1;
            }
        };
        let floor0 = |v: i64| v.max(0);
        let up = |q: Qty| move |v: i64| v.saturating_add(q.get());
        let down = |q: Qty| move |v: i64| v.saturating_sub(q.get());
        match *change {
            StockChange::Snapshot(ref values) => {
                for (bucket, value) in values {
                    if at < self.snapshot_at[bucket.index()] {
                        stale += 1;
                    } else {
                        *self.buckets.get_mut(*bucket) = value.get();
                        self.snapshot_at[bucket.index()] = at;
                        applied += 1;
                    }
                }
            }
            StockChange::Receipt(q) | StockChange::TransferReceived(q) => {
                touch(self, Bucket::OnHand, &up(q))
            }
            StockChange::Adjustment(d) => {
                touch(self, Bucket::OnHand, &|v| v.saturating_add(d.get()))
            }
            StockChange::PickOpened(q) => touch(self, Bucket::Picking, &up(q)),
            StockChange::PickCancelled(q) => touch(self, Bucket::Picking, &|v| floor0(down(q)(v))),
            StockChange::Shipped(q) => {
                touch(self, Bucket::OnHand, &down(q));
                touch(self, Bucket::Picking, &|v| floor0(down(q)(v)));
            }
            StockChange::TransferOut(q) => touch(self, Bucket::TransferOut, &up(q)),
            StockChange::TransferShipped(q) => {
                touch(self, Bucket::OnHand, &down(q));
                touch(self, Bucket::TransferOut, &|v| floor0(down(q)(v)));
            }
            StockChange::ReturnReceived(q) => touch(self, Bucket::Inspection, &up(q)),
            StockChange::ReturnRestocked(q) => {
                touch(self, Bucket::Inspection, &|v| floor0(down(q)(v)));
                touch(self, Bucket::OnHand, &up(q));
            }
            StockChange::ReturnScrapped(q) => {
                touch(self, Bucket::Inspection, &|v| floor0(down(q)(v)))
            }
        }
        if applied == 0 && stale > 0 {
            Applied::Stale
        } else {
            Applied::Changed
        }
    }
}

/// What applying a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// At least one bucket moved (or would have, had the value differed).
    Changed,
    /// Every bucket it touched had a newer snapshot: nothing changed.
    Stale,
}

/// A change to reported buckets. Quantities are bounded ([`Qty`], [`Level`], [`Delta`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockChange {
    /// Replaces the given buckets.
    Snapshot(Vec<(Bucket, Level)>),
    /// Goods received: on_hand up.
    Receipt(Qty),
    /// Signed correction of on_hand.
    Adjustment(Delta),
    /// A pick ticket opened: picking up.
    PickOpened(Qty),
    /// A pick ticket cancelled: picking down.
    PickCancelled(Qty),
    /// Shipped: on_hand and picking down.
    Shipped(Qty),
    /// Units committed to an outbound transfer.
    TransferOut(Qty),
    /// An outbound transfer left: on_hand and transfer_out down.
    TransferShipped(Qty),
    /// An inbound transfer arrived: on_hand up.
    TransferReceived(Qty),
    /// A return arrived: inspection up.
    ReturnReceived(Qty),
    /// Inspected and put back: inspection down, on_hand up.
    ReturnRestocked(Qty),
    /// Inspected and scrapped: inspection down.
    ReturnScrapped(Qty),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> LocationStock {
        LocationStock::empty(LocationCode::parse("east").unwrap())
    }

    #[test]
    fn deltas_older_than_a_snapshot_are_stale() {
        let mut s = row();
        s.apply(
            &StockChange::Snapshot(vec![(Bucket::OnHand, Level::of(100))]),
            Timestamp(10),
        );
        assert_eq!(
            s.apply(&StockChange::Receipt(Qty::of(5)), Timestamp(9)),
            Applied::Stale
        );
        assert_eq!(s.buckets.on_hand, 100);
        assert_eq!(
            s.apply(&StockChange::Receipt(Qty::of(5)), Timestamp(11)),
            Applied::Changed
        );
        assert_eq!(s.buckets.on_hand, 105);
    }

    #[test]
    fn an_older_snapshot_does_not_replace_a_newer_one() {
        let mut s = row();
        s.apply(
            &StockChange::Snapshot(vec![(Bucket::OnHand, Level::of(100))]),
            Timestamp(10),
        );
        let old = StockChange::Snapshot(vec![(Bucket::OnHand, Level::of(7))]);
        assert_eq!(s.apply(&old, Timestamp(5)), Applied::Stale);
        assert_eq!(s.buckets.on_hand, 100);
    }

    #[test]
    fn snapshots_are_tracked_per_bucket() {
        let mut s = row();
        s.apply(
            &StockChange::Snapshot(vec![(Bucket::Picking, Level::of(3))]),
            Timestamp(10),
        );
        // on_hand has never been snapshotted, so an old receipt still counts.
        assert_eq!(
            s.apply(&StockChange::Receipt(Qty::of(4)), Timestamp(1)),
            Applied::Changed
        );
        // shipped touches both: on_hand moves, picking (snapshotted later) does not.
        assert_eq!(
            s.apply(&StockChange::Shipped(Qty::of(2)), Timestamp(2)),
            Applied::Changed
        );
        assert_eq!((s.buckets.on_hand, s.buckets.picking), (2, 3));
    }

    #[test]
    fn returns_flow_through_inspection() {
        let mut s = row();
        s.apply(&StockChange::ReturnReceived(Qty::of(3)), Timestamp(1));
        assert_eq!((s.buckets.inspection, s.buckets.on_hand), (3, 0));
        s.apply(&StockChange::ReturnRestocked(Qty::of(2)), Timestamp(2));
        s.apply(&StockChange::ReturnScrapped(Qty::of(1)), Timestamp(3));
        assert_eq!((s.buckets.inspection, s.buckets.on_hand), (0, 2));
    }

    #[test]
    fn sellable_takes_out_picks_transfers_reservations_and_safety_stock() {
        let b = Buckets {
            on_hand: 100,
            picking: 10,
            transfer_out: 5,
            inspection: 40,
            reserved: 3,
        };
        assert_eq!(b.sellable(2), 80);
        assert_eq!(b.sellable(500), 0);
    }
}
