//! Bindings as a use case: our keys set beside the configured connectors' ids (from the API,
//! from a CSV import, from a system's answer), listed, and looked up by the packs that need
//! a system's id for one of ours. A list is checked whole before anything is written, so an
//! import either lands or names every row that stops it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crossdock_domain::{Binding, BindingKind};
use crossdock_store::{AnyStore, BindingQuery, Store, StoredBinding};

use crate::EngineError;

/// Most bindings set in one call.
pub const MAX_PUT: usize = 1_000;

/// Sets and reads bindings. Cheap to clone.
#[derive(Clone)]
pub struct Bindings {
    store: AnyStore,
    connectors: Arc<BTreeSet<String>>,
}

/// One binding in a list that cannot be set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Its index in the list.
    pub index: usize,
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong.
    pub detail: String,
}

/// Why a list of bindings was not set.
#[derive(Debug, thiserror::Error)]
pub enum BindingsError {
    /// The list is empty or longer than [`MAX_PUT`].
    #[error("give 1 to {MAX_PUT} bindings; {0} were given")]
    Count(usize),
    /// Some bindings are not valid; none was set.
    #[error("{} of the bindings are not valid; none was set", .0.len())]
    Invalid(Vec<Refused>),
    /// The store failed; none was set.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Bindings {
    /// Bindings in `store` for the connectors named `connectors`.
    pub fn new(store: AnyStore, connectors: impl IntoIterator<Item = String>) -> Self {
        Self {
            store,
            connectors: Arc::new(connectors.into_iter().collect()),
        }
    }

    /// The connectors bindings may be set for.
    pub fn connectors(&self) -> impl Iterator<Item = &str> {
        self.connectors.iter().map(String::as_str)
    }

    /// Checks every binding in `list` (at most the first 100 faults are named).
    pub fn check(&self, list: &[Binding]) -> Result<(), BindingsError> {
        if list.is_empty() || list.len() > MAX_PUT {
            return Err(BindingsError::Count(list.len()));
        }
        let mut refused = Vec::new();
        for (index, b) in list.iter().enumerate() {
            let fault = if !self.connectors.contains(&b.connector) {
                Some(("connector", self.unknown(&b.connector)))
            } else {
                b.problem()
            };
            if let Some((field, detail)) = fault {
                refused.push(Refused {
                    index,
                    field,
                    detail,
                });
                if refused.len() == 100 {
                    break;
                }
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(BindingsError::Invalid(refused))
        }
    }

    fn unknown(&self, connector: &str) -> String {
        let known: Vec<&str> = self.connectors().collect();
        if known.is_empty() {
            format!("no connector `{connector}`: none is configured under [[connectors]]")
        } else {
            format!(
                "no connector `{connector}` is configured (configured: {})",
                known.join(", ")
            )
        }
    }

    /// Sets every binding in `list`, or none; how many changed (a binding already holding
    /// the id given is left as it is).
    pub async fn put(&self, list: Vec<Binding>) -> Result<u64, BindingsError> {
        self.check(&list)?;
        Ok(self
            .store
            .put_bindings(list, crate::now())
            .await
            .map_err(EngineError::from)?)
    }

    /// Bindings by `query`, oldest first.
    pub async fn list(&self, query: BindingQuery) -> Result<Vec<StoredBinding>, EngineError> {
        Ok(self.store.bindings(query).await?)
    }

    /// The ids `connector` binds to these keys of ours (a key nobody bound is left out).
    pub async fn bound(
        &self,
        connector: &str,
        kind: BindingKind,
        ours: impl IntoIterator<Item = String>,
    ) -> Result<BTreeMap<String, String>, EngineError> {
        let ours: BTreeSet<String> = ours.into_iter().collect();
        if ours.is_empty() {
            return Ok(BTreeMap::new());
        }
        Ok(self
            .store
            .bound(connector, kind, ours.into_iter().collect())
            .await?)
    }
}
