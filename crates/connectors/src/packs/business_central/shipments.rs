//! Shipments to Business Central. Its API posts a sales order's shipment only together with
//! its invoice (`Microsoft.NAV.shipAndInvoice`, the one posting action it has), so this is
//! done only for a connector with `ship_and_invoice = true`; without it each parcel opens an
//! exception saying to record it by hand.
//!
//! Posting brings Business Central up to what crossdock has recorded: each line's
//! `shipQuantity` and `invoiceQuantity` are set to the units of its item that the order's
//! recorded parcels shipped beyond the line's `shippedQuantity` (0 for the other lines,
//! `PATCH …/salesOrderLines({id})`), then the order is posted, and read again until nothing
//! is left. Postings of one order take turns within an instance (Business Central sets a
//! line's units to ship back to what is left after each posting, so two at once could ship
//! twice); a retry, a parcel whose job runs after a later one's, or another instance's job
//! finding nothing left to post is done.

use std::collections::BTreeMap;

use crossdock_domain::ErrorCode;
use crossdock_engine::runner::JobResult;
use crossdock_store::StoredOrder;
use reqwest::Method;
use serde_json::{Value, json};

use super::{BusinessCentral, key};

/// Postings of orders that may run at once, by stripe.
pub(super) const STRIPES: usize = 64;

/// The posting stripe of sales order `id`.
fn stripe(id: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    (h.finish() % STRIPES as u64) as usize
}

/// A sales order line as posting reads it.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    id: String,
    item: String,
    quantity: f64,
    shipped: f64,
}

fn read_lines(answer: &Value) -> Vec<Line> {
    (answer["value"].as_array().into_iter().flatten())
        .filter_map(|l| {
            Some(Line {
                id: l["id"].as_str()?.to_string(),
                item: l["lineObjectNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                quantity: l["quantity"].as_f64().unwrap_or(0.0),
                shipped: l["shippedQuantity"].as_f64().unwrap_or(0.0),
            })
        })
        .collect()
}

/// Units to ship now per line id: what `recorded` (units by item) holds beyond what the
/// lines of each item have shipped, spread over them in order up to each line's quantity.
fn to_post(lines: &[Line], recorded: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    let mut left: BTreeMap<&str, f64> = BTreeMap::new();
    for (item, units) in recorded {
        let shipped: f64 = (lines.iter())
            .filter(|l| l.item == *item)
            .map(|l| l.shipped)
            .sum();
        left.insert(item, (units - shipped).max(0.0));
    }
    (lines.iter())
        .map(|l| {
            let want = left.get_mut(l.item.as_str());
            let take = match want {
                Some(w) => {
                    let take = w.min((l.quantity - l.shipped).max(0.0));
                    *w -= take;
                    take
                }
                None => 0.0,
            };
            (l.id.clone(), take)
        })
        .collect()
}

impl BusinessCentral {
    /// The sales order `id`'s lines.
    async fn lines(&self, id: &str) -> Result<Vec<Line>, JobResult> {
        let path = self.path(&format!("/salesOrders{}/salesOrderLines", key(id)));
        Ok(read_lines(&self.remote.get(&path).await?))
    }

    /// Posts what the order's recorded parcels shipped and Business Central has not (a
    /// `post_fulfilment` job for one of them).
    pub async fn post_fulfilment(&self, order: &StoredOrder) -> Result<(), JobResult> {
        if !self.ship_and_invoice {
            return Err(JobResult::Permanent {
                code: ErrorCode::ErpRejected,
                error: format!(
                    "Business Central ({}) posts a shipment only with its invoice, which this \
                     connector does not do (ship_and_invoice is off): post sales order {} \
                     there by hand, then resolve this exception",
                    self.name,
                    order.erp_order_id.as_deref().unwrap_or("not yet posted")
                ),
            });
        }
        let id = self.bindings.sales_order(order).await?;
        let mut by_sku: BTreeMap<String, i64> = BTreeMap::new();
        for s in &order.shipments {
            for l in &s.lines {
                *by_sku.entry(l.sku.to_string()).or_default() += l.qty;
            }
        }
        let items = self.bindings.items(by_sku.keys().cloned()).await?;
        let mut recorded: BTreeMap<String, f64> = BTreeMap::new();
        for (sku, units) in &by_sku {
            *recorded.entry(items[sku].clone()).or_default() += *units as f64;
        }
        // One posting of an order at a time here: Business Central sets a line's units to
        // ship back to what is left after each posting, so two at once could ship twice.
        let _posting = self.posting[stripe(&id)].lock().await;
        for _ in 0..3 {
            let lines = self.lines(&id).await?;
            let post = to_post(&lines, &recorded);
            if post.values().all(|units| *units == 0.0) {
                return Ok(());
            }
            match self.post(&id, &post).await {
                // Read again: what another instance's job set meanwhile may have been posted.
                Ok(()) => continue,
                // Another instance's job posted these units (Business Central then refuses to
                // ship them again, or finds nothing to post): done when nothing is left.
                Err(JobResult::Permanent { code, error }) => {
                    let now = self.lines(&id).await?;
                    if to_post(&now, &recorded).values().all(|units| *units == 0.0) {
                        return Ok(());
                    }
                    return Err(JobResult::Permanent { code, error });
                }
                Err(other) => return Err(other),
            }
        }
        Err(JobResult::Transient {
            error: format!(
                "Business Central ({}) sales order {id} kept changing while it was posted",
                self.name
            ),
            retry_after: None,
        })
    }

    /// Sets each line's units to ship and invoice (`post`, by line id), then posts the order.
    async fn post(&self, id: &str, post: &BTreeMap<String, f64>) -> Result<(), JobResult> {
        for (line, units) in post {
            let path = self.path(&format!(
                "/salesOrders{}/salesOrderLines{}",
                key(id),
                key(line)
            ));
            let body = json!({"shipQuantity": units, "invoiceQuantity": units});
            self.remote
                .exchange(Method::PATCH, &path, Some(&body))
                .await?;
        }
        let path = self.path(&format!(
            "/salesOrders{}/Microsoft.NAV.shipAndInvoice",
            key(id)
        ));
        self.remote.exchange(Method::POST, &path, None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, item: &str, quantity: f64, shipped: f64) -> Line {
        Line {
            id: id.into(),
            item: item.into(),
            quantity,
            shipped,
        }
    }

    #[test]
    fn what_is_recorded_beyond_what_was_shipped_is_spread_over_the_items_lines() {
        let lines = [
            line("a", "1896-S", 2.0, 2.0),
            line("b", "1896-S", 3.0, 0.0),
            line("c", "1900-S", 1.0, 0.0),
        ];
        let recorded = BTreeMap::from([("1896-S".to_string(), 4.0)]);
        let post = to_post(&lines, &recorded);
        assert_eq!(post["a"], 0.0, "a line shipped in full takes nothing");
        assert_eq!(post["b"], 2.0, "the rest of the item's recorded units");
        assert_eq!(post["c"], 0.0, "an item no parcel carried ships nothing");
        let caught_up = [line("a", "1896-S", 2.0, 2.0), line("b", "1896-S", 3.0, 2.0)];
        assert!(to_post(&caught_up, &recorded).values().all(|u| *u == 0.0));
    }

    #[test]
    fn lines_are_read_from_the_odata_answer() {
        let answer = json!({"value": [{"id": "l-1", "lineObjectNumber": "1896-S", "quantity": 3,
                                       "shippedQuantity": 1, "shipQuantity": 2}]});
        assert_eq!(read_lines(&answer), vec![line("l-1", "1896-S", 3.0, 1.0)]);
    }

    proptest::proptest! {
        /// No answer makes reading a sales order's lines, or what to post of them, panic; and
        /// nothing is ever posted beyond a line's quantity.
        #[test]
        fn no_answer_panics_posting(answer in crate::packs::tests::arb_json(), units in 0.0f64..10.0) {
            let lines = read_lines(&json!({"value": [answer]}));
            let recorded = BTreeMap::from([("1896-S".to_string(), units)]);
            for (id, take) in to_post(&lines, &recorded) {
                let line = lines.iter().find(|l| l.id == id).unwrap();
                proptest::prop_assert!(take <= (line.quantity - line.shipped).max(0.0));
            }
        }
    }
}
