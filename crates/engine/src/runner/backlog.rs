//! Watching a system's backlog: said once when it grows past its bound, once when it is back.

use std::time::Duration;

use crossdock_store::{AnyStore, Store};

/// Jobs waiting past this many for one system are worth an operator's eye.
pub const BACKLOG_WARN: i64 = 1_000;

/// Says once when a system's backlog grows past [`BACKLOG_WARN`] and once when it is back
/// under half of it; looks every few seconds.
#[derive(Default)]
pub(super) struct Backlog {
    looked: Option<std::time::Instant>,
    over: bool,
}

impl Backlog {
    pub(super) async fn look(&mut self, store: &AnyStore, system: &str) {
        if self
            .looked
            .is_some_and(|t| t.elapsed() < Duration::from_secs(5))
        {
            return;
        }
        self.looked = Some(std::time::Instant::now());
        let Ok(waiting) = store.backlog(system).await else {
            return;
        };
        if !self.over && waiting > BACKLOG_WARN {
            self.over = true;
            tracing::warn!(
                system,
                waiting,
                bound = BACKLOG_WARN,
                "backlog over its bound"
            );
        } else if self.over && waiting < BACKLOG_WARN / 2 {
            self.over = false;
            tracing::info!(system, waiting, "backlog back under its bound");
        }
    }
}
