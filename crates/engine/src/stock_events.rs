//! Stock events as one use case: each event read against the estate on its own, the good ones
//! applied in one commit (a repeated event once, an event older than a snapshot not at all),
//! every refusal kept with its index. The API's `POST /v1/inventory/events` calls it, and so
//! does every connector that hears of stock.
//!
//! A location whose stock `[ownership]` gives to one system takes events from it only: the
//! event's `source` over the API, the connector for a webhook's. Another's event is refused
//! (`OWNERSHIP_VIOLATION`, by index) and kept as an `ownership.violated` event.

use std::sync::Arc;

use crossdock_domain::ErrorCode;
use crossdock_domain::ledger::{Command, Outcome};
use crossdock_domain::stock_events::parse_event;
use serde_json::Value;

use crate::config::{Domain, Ownership};
use crate::owners::refusal;
use crate::{EngineError, Inventory};

/// Records stock events. Cheap to clone.
#[derive(Clone)]
pub struct StockEvents {
    inventory: Inventory,
    ownership: Arc<Ownership>,
}

/// What became of a list of events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Events that changed stock.
    pub applied: usize,
    /// Events seen before (same source and event id), left alone.
    pub duplicates: usize,
    /// Events older than a snapshot of the same stock, left alone.
    pub stale: usize,
    /// Events refused, by their index in the list, with a code and what is wrong.
    pub rejected: Vec<(usize, ErrorCode, String)>,
}

impl StockEvents {
    /// Stock events on `inventory`, each location's written only by its owner in
    /// `ownership`.
    pub fn new(inventory: Inventory, ownership: Arc<Ownership>) -> Self {
        Self {
            inventory,
            ownership,
        }
    }

    /// Reads and applies `events`, each written by its `source`; one that does not read, or
    /// whose source does not own its location's stock, is refused without failing the rest.
    pub async fn record(&self, events: Vec<Value>) -> Result<Recorded, EngineError> {
        self.record_from(events, None).await
    }

    /// [`StockEvents::record`], every event written by `writer` (a connector taking a
    /// webhook in) whatever its `source` says.
    pub async fn record_from(
        &self,
        events: Vec<Value>,
        writer: Option<&str>,
    ) -> Result<Recorded, EngineError> {
        let mut recorded = Recorded::default();
        let (mut commands, mut indexes, mut violations) = (Vec::new(), Vec::new(), Vec::new());
        for (index, raw) in events.into_iter().enumerate() {
            let e = match parse_event(raw, self.inventory.estate()) {
                Ok(e) => e,
                Err((code, detail)) => {
                    recorded.rejected.push((index, code, detail));
                    continue;
                }
            };
            let by = writer.unwrap_or(&e.source);
            let location = e.location.as_str();
            let write = serde_json::json!({"source": e.source,
                                           "source_event_id": e.source_event_id});
            let refused = refusal(&self.ownership, Domain::Inventory, location, by, write);
            if let Some((why, mut violation)) = refused {
                violation.sku = Some(e.sku.clone());
                violations.push(Command::RecordViolation(Box::new(violation)));
                recorded
                    .rejected
                    .push((index, ErrorCode::OwnershipViolation, why));
                continue;
            }
            commands.push(Command::Stock(e));
            indexes.push(index);
        }
        // The refusals are kept in the same commit, after the events (whose outcomes come
        // first, one per index).
        commands.extend(violations);
        let outcomes = self.inventory.submit(commands).await?;
        for (index, outcome) in indexes.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Applied => recorded.applied += 1,
                Outcome::Duplicate => recorded.duplicates += 1,
                Outcome::Stale => recorded.stale += 1,
                Outcome::Rejected { code, detail } => recorded.rejected.push((index, code, detail)),
                other => recorded
                    .rejected
                    .push((index, ErrorCode::Internal, format!("{other:?}"))),
            }
        }
        recorded.rejected.sort_by_key(|r| r.0);
        Ok(recorded)
    }
}
