//! The item master as a use case: SKUs added (or found already there) in one commit, each
//! item read on its own so one that does not read is refused without failing the rest. The
//! API's `POST /v1/items` calls it, and so will every ERP connector that syncs items.

use crossdock_domain::Sku;
use crossdock_domain::ledger::{Command, Outcome};
use serde::Deserialize;
use serde_json::Value;

use crate::{EngineError, Inventory};

/// Longest description kept, in characters.
pub const MAX_DESCRIPTION: usize = 500;

/// Adds items. Cheap to clone.
#[derive(Clone)]
pub struct Items {
    inventory: Inventory,
}

/// What became of a list of items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upserted {
    /// Items added.
    pub created: usize,
    /// Items already in the item master, left as they were.
    pub existing: usize,
    /// Items refused (`VALIDATION_FAILED`), by their index in the list, with what is wrong.
    pub rejected: Vec<(usize, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemIn {
    sku: String,
    description: Option<String>,
}

fn parse_item(raw: Value) -> Result<Command, String> {
    let item = serde_json::from_value::<ItemIn>(raw).map_err(|e| e.to_string())?;
    let sku = Sku::parse(&item.sku).map_err(|e| format!("sku: {e}"))?;
    if item
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(format!(
            "description must be at most {MAX_DESCRIPTION} characters"
        ));
    }
    Ok(Command::UpsertItem {
        sku,
        description: item.description,
    })
}

impl Items {
    /// The item master on `inventory`.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }

    /// Adds each of `items` (`{"sku", "description"}`) that is not there yet.
    pub async fn upsert(&self, items: Vec<Value>) -> Result<Upserted, EngineError> {
        let mut upserted = Upserted::default();
        let mut commands = Vec::new();
        for (index, raw) in items.into_iter().enumerate() {
            match parse_item(raw) {
                Ok(c) => commands.push(c),
                Err(detail) => upserted.rejected.push((index, detail)),
            }
        }
        let outcomes = self.inventory.submit(commands).await?;
        upserted.created = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::ItemCreated))
            .count();
        upserted.existing = outcomes.len() - upserted.created;
        Ok(upserted)
    }
}
