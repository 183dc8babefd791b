//! Credit status of account customers, and the one rule for it at intake.
//!
//! The ERP owns credit status. crossdock asks as a saga step, and also inside the intake
//! request for a channel with `credit_check = "sync"`, waiting at most
//! `[saga] credit_check_timeout_ms` for the answer; past that it falls back on the last answer
//! it remembers for the account. A clear answer given while an order was being taken in is that
//! order's credit check already: the saga's step does not ask again while the answer is younger
//! than `[saga] credit_answer_valid_ms`. A hold is never taken from memory, since it may have
//! been lifted.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crossdock_domain::Timestamp;
use crossdock_domain::order::CanonicalOrder;
use crossdock_store::Store;

use crate::config::SagaConfig;
use crate::inventory::now;
use crate::{EngineError, Inventory};

/// Where credit status comes from (the ERP connector).
pub trait CreditSource: Send + Sync + 'static {
    /// Whether `account` is on credit hold in the books of business `unit` (none: the
    /// rest), or why the source could not say.
    fn on_hold<'a>(
        &'a self,
        unit: Option<&'a str>,
        account: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>>;
}

/// The credit use case: the ERP as the source, how long a request waits for it, and how long
/// a clear answer stands. Cheap to clone.
#[derive(Clone)]
pub struct Credit {
    inventory: Inventory,
    source: Option<Arc<dyn CreditSource>>,
    wait: Duration,
    valid: Duration,
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

impl Credit {
    /// Asks `source` (none: no ERP configured, requests go by the last known status alone)
    /// with `[saga]`'s settings.
    pub fn new(
        inventory: Inventory,
        source: Option<Arc<dyn CreditSource>>,
        saga: &SagaConfig,
    ) -> Self {
        Self {
            inventory,
            source,
            wait: Duration::from_millis(saga.credit_check_timeout_ms),
            valid: Duration::from_millis(saga.credit_answer_valid_ms),
        }
    }

    /// The intake check of a channel with `credit_check = "sync"`: why `order` is refused
    /// (its account is on hold, by the ERP's answer now or, past the wait, the last known
    /// one), or `None` to take it in. Orders of other channels, and orders with no account,
    /// are not checked here.
    pub async fn intake_hold(&self, order: &CanonicalOrder) -> Result<Option<String>, EngineError> {
        let sync = self
            .inventory
            .estate()
            .channel(order.channel.as_str())
            .is_some_and(|c| c.orders.credit_check_sync);
        let Some(account) = order.customer.account.as_deref().filter(|_| sync) else {
            return Ok(None);
        };
        let answer = self
            .check_now(order.business_unit.as_deref(), account)
            .await?;
        Ok((answer.on_hold == Some(true)).then(|| match answer.from {
            "erp" => format!("the ERP has account `{account}` on credit hold"),
            _ => format!(
                "account `{account}` was on credit hold when last checked (the ERP did not \
                 answer in time)"
            ),
        }))
    }

    /// Checks `account` now: the answer of the ERP keeping business `unit`'s books within
    /// the wait (remembered), else the last known status, else unknown.
    pub async fn check_now(
        &self,
        unit: Option<&str>,
        account: &str,
    ) -> Result<CreditAnswer, EngineError> {
        if let Some(source) = &self.source {
            match tokio::time::timeout(self.wait, source.on_hold(unit, account)).await {
                Ok(Ok(on_hold)) => {
                    self.record(account, on_hold).await?;
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
        let known = self.inventory.store().credit_status(account).await?;
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

    /// Whether the order taken in at `taken_at` for `account` had its credit checked clear
    /// then, so the saga's credit step need not ask the ERP again (see the module docs).
    pub async fn checked_at_intake(
        &self,
        account: &str,
        taken_at: Timestamp,
    ) -> Result<bool, EngineError> {
        let valid = i64::try_from(self.valid.as_millis()).unwrap_or(i64::MAX);
        let since = taken_at.plus_millis(-valid);
        let known = self.inventory.store().credit_status(account).await?;
        Ok(matches!(known, Some((status, at)) if status == word(false) && at > since))
    }

    /// Remembers the ERP's answer for `account`.
    pub async fn record(&self, account: &str, on_hold: bool) -> Result<(), EngineError> {
        self.inventory
            .store()
            .record_credit_status(account, word(on_hold), now())
            .await?;
        Ok(())
    }
}
