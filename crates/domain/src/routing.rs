//! Routing: which locations fill a reservation.
//!
//! One location that fills the whole quantity (by priority, then region, then code), else a
//! split across locations in that order. Drop-ship suppliers always come last.

use serde::Serialize;

use crate::ats::sellable_at;
use crate::estate::{Channel, Estate, LocationKind};
use crate::ids::LocationCode;
use crate::sku::SkuState;

/// Units taken from one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Allocated {
    /// The location.
    pub location: LocationCode,
    /// Units taken there.
    pub qty: i64,
}

/// A routing decision and why it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Where the units come from.
    pub allocations: Vec<Allocated>,
    /// Why: `single_location`, `split` or `requested_location`.
    pub reason: &'static str,
}

/// Not enough stock: `available` units could have been had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// Units that could have been allocated.
    pub available: i64,
}

/// Plans `qty` units of this SKU for `channel`.
///
/// `location` pins the reservation to one location; `ship_region` prefers a location in the
/// same region among equal priorities.
pub fn plan(
    estate: &Estate,
    state: &SkuState,
    channel: &Channel,
    qty: i64,
    location: Option<&LocationCode>,
    ship_region: Option<&str>,
) -> Result<Plan, Shortfall> {
    if let Some(l) = location {
        let sellable = sellable_at(estate, state, l);
        return if sellable >= qty {
            Ok(Plan {
                allocations: vec![Allocated {
                    location: l.clone(),
                    qty,
                }],
                reason: "requested_location",
            })
        } else {
            Err(Shortfall {
                available: sellable,
            })
        };
    }
    let mut candidates: Vec<(&crate::estate::Location, i64)> = channel
        .locations
        .iter()
        .filter_map(|code| estate.location(code.as_str()))
        .map(|l| (l, sellable_at(estate, state, &l.code)))
        .collect();
    candidates.sort_by_key(|(l, _)| {
        (
            l.kind == LocationKind::Dropship,
            l.priority,
            ship_region.is_some() && l.region.as_deref() != ship_region,
            l.code.clone(),
        )
    });
    if let Some((l, _)) = candidates.iter().find(|(_, s)| *s >= qty) {
        return Ok(Plan {
            allocations: vec![Allocated {
                location: l.code.clone(),
                qty,
            }],
            reason: "single_location",
        });
    }
    let total: i64 = candidates.iter().map(|(_, s)| s).sum();
    if total < qty {
        return Err(Shortfall { available: total });
    }
    let mut left = qty;
    let mut allocations = Vec::new();
    for (l, sellable) in candidates {
        if left == 0 {
            break;
        }
        let take = sellable.min(left);
        if take > 0 {
            allocations.push(Allocated {
                location: l.code.clone(),
                qty: take,
            });
            left -= take;
        }
    }
    Ok(Plan {
        allocations,
        reason: "split",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::fixtures::example;
    use crate::ids::Sku;

    fn state(east: i64, west: i64, acme: i64) -> SkuState {
        let mut s = SkuState::new(Sku::parse("SKU-HOT").unwrap()); // no safety stock
        for (l, q) in [("east", east), ("west", west), ("acme", acme)] {
            s.at_mut(&LocationCode::parse(l).unwrap()).buckets.on_hand = q;
        }
        s
    }

    fn route(s: &SkuState, qty: i64) -> Result<Vec<(String, i64)>, Shortfall> {
        let e = example();
        plan(&e, s, e.channel("web").unwrap(), qty, None, None).map(|p| {
            p.allocations
                .into_iter()
                .map(|a| (a.location.to_string(), a.qty))
                .collect()
        })
    }

    #[test]
    fn one_location_that_fills_wins_by_priority() {
        assert_eq!(
            route(&state(10, 10, 10), 5).unwrap(),
            vec![("east".into(), 5)]
        );
        assert_eq!(
            route(&state(3, 10, 10), 5).unwrap(),
            vec![("west".into(), 5)]
        );
    }

    #[test]
    fn a_single_location_beats_a_split_even_at_lower_priority() {
        assert_eq!(
            route(&state(3, 3, 10), 5).unwrap(),
            vec![("acme".into(), 5)]
        );
    }

    #[test]
    fn splits_in_priority_order_with_dropship_last() {
        assert_eq!(
            route(&state(3, 3, 2), 8).unwrap(),
            vec![("east".into(), 3), ("west".into(), 3), ("acme".into(), 2)]
        );
        assert_eq!(route(&state(3, 3, 2), 9), Err(Shortfall { available: 8 }));
    }
}
