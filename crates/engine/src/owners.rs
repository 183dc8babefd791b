//! `[ownership]` applied to single writes: a write from a system that does not own its
//! domain is refused, and the refusal kept as an `ownership.violated` event in the event log.
//! (Stock events, which come in lists, are checked one by one where they are recorded.)

use std::sync::Arc;

use crossdock_domain::ledger::{Command, Violation};
use serde_json::Value;

use crate::config::{Domain, Ownership};
use crate::{EngineError, Inventory};

/// Checks writes against `[ownership]`. Cheap to clone.
#[derive(Clone)]
pub struct Owners {
    inventory: Inventory,
    ownership: Arc<Ownership>,
}

impl Owners {
    /// The owners `ownership` names, violations recorded through `inventory`.
    pub fn new(inventory: Inventory, ownership: Arc<Ownership>) -> Self {
        Self {
            inventory,
            ownership,
        }
    }

    /// Whether `writer` may write `domain` (for `scope`): `Ok(Err(why))` when another system
    /// owns it, the refusal of `write` recorded.
    pub async fn check(
        &self,
        domain: Domain,
        scope: &str,
        writer: &str,
        write: Value,
    ) -> Result<Result<(), String>, EngineError> {
        let Some((why, violation)) = refusal(&self.ownership, domain, scope, writer, write) else {
            return Ok(Ok(()));
        };
        (self.inventory)
            .submit(vec![Command::RecordViolation(Box::new(violation))])
            .await?;
        Ok(Err(why))
    }
}

/// Why `writer` may not write `domain` (for `scope`) under `ownership`, with the violation to
/// keep of `write`; `None` when it may.
pub(crate) fn refusal(
    ownership: &Ownership,
    domain: Domain,
    scope: &str,
    writer: &str,
    write: Value,
) -> Option<(String, Violation)> {
    let why = ownership.refuses(domain, scope, writer)?;
    let violation = Violation {
        domain: domain.as_str(),
        scope: (!scope.is_empty()).then(|| scope.to_string()),
        writer: writer.to_string(),
        owner: (ownership.owner(domain, scope))
            .unwrap_or_default()
            .to_string(),
        sku: None,
        write,
    };
    Some((why, violation))
}
