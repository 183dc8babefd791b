//! Credit status of account customers. The ERP owns it; crossdock asks (as a saga step, or
//! inside the intake request for a channel with `credit_check = "sync"`), remembers the last
//! answer per account, and falls back on it when the ERP does not answer in time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crossdock_domain::Timestamp;
use crossdock_store::Store;

use crate::inventory::now;
use crate::{EngineError, Inventory};

/// Where credit status comes from (the ERP connector).
pub trait CreditSource: Send + Sync + 'static {
    /// Whether `account` is on credit hold, or why the source could not say.
    fn on_hold<'a>(
        &'a self,
        account: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>>;
}

/// A source and how long to wait for it inside a request.
#[derive(Clone)]
pub(crate) struct CreditLine {
    pub source: Arc<dyn CreditSource>,
    pub timeout: Duration,
}

/// The answer to a credit check made inside a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditAnswer {
    /// On hold (`Some(true)`), clear (`Some(false)`), or unknown.
    pub on_hold: Option<bool>,
    /// `erp` (answered now), `last_known` (the ERP did not answer in time) or `unknown`.
    pub from: &'static str,
}

/// The stored form of a status.
fn word(on_hold: bool) -> &'static str {
    if on_hold { "hold" } else { "ok" }
}

impl Inventory {
    /// Asks `source` for credit status in requests, waiting at most `timeout`.
    pub fn set_credit_source(&self, source: Arc<dyn CreditSource>, timeout: Duration) {
        *self.credit_line().write().expect("credit lock poisoned") =
            Some(CreditLine { source, timeout });
    }

    /// Checks `account` now: the ERP's answer within the timeout (remembered), else the
    /// last known status, else unknown.
    pub async fn check_credit_now(&self, account: &str) -> Result<CreditAnswer, EngineError> {
        let line = self
            .credit_line()
            .read()
            .expect("credit lock poisoned")
            .clone();
        if let Some(line) = line {
            match tokio::time::timeout(line.timeout, line.source.on_hold(account)).await {
                Ok(Ok(on_hold)) => {
                    self.record_credit(account, on_hold).await?;
                    return Ok(CreditAnswer {
                        on_hold: Some(on_hold),
                        from: "erp",
                    });
                }
                // Expected while the ERP is down; the answer says it fell back.
                Ok(Err(e)) => tracing::debug!(account, error = %e, "credit check failed"),
                Err(_) => tracing::debug!(account, "credit check timed out"),
            }
        }
        let known = self.store().credit_status(account).await?;
        Ok(match known {
            Some((status, _)) => CreditAnswer {
                on_hold: Some(status == "hold"),
                from: "last_known",
            },
            None => CreditAnswer {
                on_hold: None,
                from: "unknown",
            },
        })
    }

    /// Whether the ERP last said `account` is clear, no earlier than `since`. A clear answer
    /// given while an order was being taken in (the in-request check of a channel with
    /// `credit_check = "sync"`) is that order's credit check already; a hold is never taken
    /// from memory, since it may have been lifted.
    pub async fn credit_clear_since(
        &self,
        account: &str,
        since: Timestamp,
    ) -> Result<bool, EngineError> {
        let known = self.store().credit_status(account).await?;
        Ok(matches!(known, Some((status, at)) if status == word(false) && at >= since))
    }

    /// Remembers the ERP's answer for `account`.
    pub async fn record_credit(&self, account: &str, on_hold: bool) -> Result<(), EngineError> {
        self.store()
            .record_credit_status(account, word(on_hold), now())
            .await?;
        Ok(())
    }
}
