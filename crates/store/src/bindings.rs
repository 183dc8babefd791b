//! Bindings at rest: one row per connector, kind and our key, holding the system's id. The
//! SQL is the same on both backends; each runs it in its own way.

use crossdock_domain::{Binding, BindingKind, Timestamp};
use serde::Serialize;

/// A binding as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredBinding {
    /// Its position among bindings, for paging (`after`).
    pub id: i64,
    /// The binding.
    #[serde(flatten)]
    pub binding: Binding,
    /// When the system's id was last set.
    pub updated_at: Timestamp,
}

/// Which bindings to list, oldest first.
#[derive(Debug, Clone, Default)]
pub struct BindingQuery {
    /// Only this connector's.
    pub connector: Option<String>,
    /// Only of this kind.
    pub kind: Option<BindingKind>,
    /// Only the one for this key of ours.
    pub ours: Option<String>,
    /// Only those holding this id of the system's.
    pub theirs: Option<String>,
    /// Only bindings past this one (a page's last id: the cursor to the next page).
    pub after: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Sets a binding, unless it already holds that id. Parameters: connector, kind, ours,
/// theirs, now.
pub(crate) const PUT_BINDING: &str = "INSERT INTO bindings (connector, kind, ours, theirs, \
     updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connector, kind, ours) DO UPDATE \
     SET theirs = excluded.theirs, updated_at = excluded.updated_at \
     WHERE bindings.theirs <> excluded.theirs";

/// The system's id for one key. Parameters: connector, kind, ours.
pub(crate) const BOUND: &str =
    "SELECT theirs FROM bindings WHERE connector = $1 AND kind = $2 AND ours = $3";

/// Bindings by [`BindingQuery`]. Parameters: connector, kind, ours, theirs, after, limit
/// (each filter NULL for any).
pub(crate) const LIST_BINDINGS: &str = "SELECT id, connector, kind, ours, theirs, updated_at \
     FROM bindings WHERE (CAST($1 AS TEXT) IS NULL OR connector = $1) \
     AND (CAST($2 AS TEXT) IS NULL OR kind = $2) AND (CAST($3 AS TEXT) IS NULL OR ours = $3) \
     AND (CAST($4 AS TEXT) IS NULL OR theirs = $4) AND (CAST($5 AS BIGINT) IS NULL OR id > $5) \
     ORDER BY id LIMIT $6";

/// `bindings` with the last of each key kept, in key order: concurrent writers then take
/// row locks in the same order and never wait on each other in a circle.
pub(crate) fn in_key_order(bindings: Vec<Binding>) -> Vec<Binding> {
    let mut by_key = std::collections::BTreeMap::new();
    for b in bindings {
        by_key.insert((b.connector.clone(), b.kind, b.ours.clone()), b);
    }
    by_key.into_values().collect()
}

/// A listed row: id, connector, kind, ours, theirs, updated at.
pub(crate) type Row = (i64, String, String, String, String, i64);

/// A listed row as a binding (a kind this build does not know is skipped).
pub(crate) fn from_row((id, connector, kind, ours, theirs, at): Row) -> Option<StoredBinding> {
    Some(StoredBinding {
        id,
        binding: Binding {
            connector,
            kind: BindingKind::parse(&kind)?,
            ours,
            theirs,
        },
        updated_at: Timestamp(at),
    })
}
