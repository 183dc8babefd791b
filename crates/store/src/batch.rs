//! The part of committing a batch both backends share: running the ledger over what was
//! loaded, and turning its result into rows to write.

use std::collections::HashSet;

use crossdock_domain::SkuState;
use crossdock_domain::ledger::{Finished, Ledger, Outcome, Reservation};

use crate::Batch;
use crate::rows::{ExpectedRow, ReservationRow, StockRow};

/// Rows to write for one batch.
#[derive(Default)]
pub(crate) struct WriteSet {
    pub items: Vec<(String, Option<String>)>,
    pub stock: Vec<StockRow>,
    pub channel_reserved: Vec<(String, String, i64)>,
    pub expected_upsert: Vec<ExpectedRow>,
    pub expected_delete: Vec<(String, String, String)>,
    pub new_reservations: Vec<ReservationRow>,
    pub changed_reservations: Vec<ReservationRow>,
    pub source_events: Vec<(String, String, i64)>,
    /// (type, sku, data as JSON text)
    pub events: Vec<(&'static str, Option<String>, String)>,
}

/// Runs the ledger over a loaded batch.
pub(crate) fn run(
    batch: &Batch,
    states: Vec<SkuState>,
    reservations: Vec<Reservation>,
    seen: HashSet<(String, String)>,
) -> (Vec<Outcome>, Finished) {
    let mut ledger = Ledger::new(&batch.estate, batch.now, states, reservations, seen);
    let outcomes = batch.commands.iter().map(|c| ledger.apply(c)).collect();
    (outcomes, ledger.finish())
}

impl WriteSet {
    /// The rows `finished` asks for.
    pub fn of(finished: &Finished) -> Self {
        let w = &finished.writes;
        let mut out = WriteSet {
            items: w
                .new_items
                .iter()
                .map(|(s, d)| (s.to_string(), d.clone()))
                .collect(),
            source_events: w
                .source_events
                .iter()
                .map(|(s, id, at)| (s.clone(), id.clone(), at.0))
                .collect(),
            ..Default::default()
        };
        for (sku, location) in &w.stock {
            if let Some(row) = finished.states.get(sku).and_then(|s| s.at(location)) {
                out.stock.push(StockRow::from_state(sku, row));
            }
        }
        for (sku, channel) in &w.channel_reserved {
            let qty = finished
                .states
                .get(sku)
                .map_or(0, |s| s.reserved_by(channel));
            out.channel_reserved
                .push((sku.to_string(), channel.to_string(), qty));
        }
        for (sku, location, po_ref) in &w.expected {
            let found = finished.states.get(sku).and_then(|s| {
                s.expected
                    .iter()
                    .find(|e| &e.location == location && &e.po_ref == po_ref)
            });
            match found {
                Some(e) => out.expected_upsert.push(ExpectedRow {
                    sku: sku.to_string(),
                    location: location.to_string(),
                    po_ref: po_ref.clone(),
                    qty: e.qty,
                    eta: e.eta.0,
                }),
                None => out.expected_delete.push((
                    sku.to_string(),
                    location.to_string(),
                    po_ref.clone(),
                )),
            }
        }
        let new: HashSet<&String> = w.new_reservations.iter().collect();
        for id in &w.new_reservations {
            out.new_reservations
                .push(ReservationRow::from_domain(&finished.reservations[id]));
        }
        for id in w.changed_reservations.iter().filter(|id| !new.contains(id)) {
            out.changed_reservations
                .push(ReservationRow::from_domain(&finished.reservations[id]));
        }
        out.events = w
            .events
            .iter()
            .map(|e| {
                (
                    e.kind,
                    e.sku.as_ref().map(|s| s.to_string()),
                    e.data.to_string(),
                )
            })
            .collect();
        out
    }
}

/// The states of the SKUs a batch touched, to hand to the projection.
pub(crate) fn touched_states(finished: &Finished) -> Vec<std::sync::Arc<SkuState>> {
    let touched: HashSet<_> = finished
        .writes
        .events
        .iter()
        .filter_map(|e| e.sku.as_ref())
        .collect();
    finished
        .states
        .values()
        .filter(|s| touched.contains(&s.sku))
        .map(|s| std::sync::Arc::new(s.clone()))
        .collect()
}
