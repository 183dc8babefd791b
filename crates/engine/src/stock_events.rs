//! Stock events as one use case: each event read against the estate on its own, the good ones
//! applied in one commit (a repeated event once, an event older than a snapshot not at all),
//! every refusal kept with its index. The API's `POST /v1/inventory/events` calls it, and so
//! will every connector that hears of stock.

use crossdock_domain::ErrorCode;
use crossdock_domain::ledger::{Command, Outcome};
use crossdock_domain::stock_events::parse_event;
use serde_json::Value;

use crate::{EngineError, Inventory};

/// Records stock events. Cheap to clone.
#[derive(Clone)]
pub struct StockEvents {
    inventory: Inventory,
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
    /// Stock events on `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }

    /// Reads and applies `events`; one that does not read is refused without failing the rest.
    pub async fn record(&self, events: Vec<Value>) -> Result<Recorded, EngineError> {
        let mut recorded = Recorded::default();
        let (mut commands, mut indexes) = (Vec::new(), Vec::new());
        for (index, raw) in events.into_iter().enumerate() {
            match parse_event(raw, self.inventory.estate()) {
                Ok(e) => {
                    commands.push(Command::Stock(e));
                    indexes.push(index);
                }
                Err((code, detail)) => recorded.rejected.push((index, code, detail)),
            }
        }
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
