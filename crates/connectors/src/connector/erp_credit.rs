//! The ERP's answer to whether an account is on credit hold: for the saga's credit step, and
//! for the checks intake makes inside a request.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crossdock_engine::credit::CreditSource;
use crossdock_engine::erp_router::ErpRouter;
use crossdock_engine::runner::JobResult;

use crate::remote::{Remote, segment};

/// Asks the ERP whether `account` is on credit hold.
pub(super) async fn credit_hold(remote: &Remote, account: &str) -> Result<bool, JobResult> {
    let path = format!("/customers/{}/credit", segment(account));
    let answer = (remote.operation("check_credit", reqwest::Method::GET, &path, None)).await?;
    Ok(answer["status"] == "hold")
}

/// The ERP as the source of credit status for checks made inside requests: one speaking
/// crossdock's REST shape, or a pack.
pub enum ErpCredit {
    /// crossdock's shape (`GET /customers/{account}/credit`).
    Rest(Remote),
    /// An ERP pack.
    Pack(super::ErpPack),
}

impl CreditSource for ErpCredit {
    fn on_hold<'a>(
        &'a self,
        _unit: Option<&'a str>,
        account: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>> {
        Box::pin(async move {
            let answer = match self {
                ErpCredit::Rest(remote) => credit_hold(remote, account).await,
                ErpCredit::Pack(pack) => pack.credit_hold(account).await,
            };
            answer.map_err(|e| match e {
                JobResult::Transient { error, .. } | JobResult::Permanent { error, .. } => error,
                other => format!("{other:?}"),
            })
        })
    }
}

/// Several ERPs, one per business unit: each account is asked of the ERP that keeps the
/// order's unit's books as the router routes it now (a unit moved by a reload is asked of
/// its new ERP).
pub struct RoutedCredit {
    router: Arc<ErpRouter>,
    /// Each ERP's own source, by its name.
    by_erp: BTreeMap<String, ErpCredit>,
}

impl RoutedCredit {
    /// Credit from the ERPs `router` routes to, each asked through its source in `by_erp`.
    pub fn new(router: Arc<ErpRouter>, by_erp: BTreeMap<String, ErpCredit>) -> Self {
        Self { router, by_erp }
    }
}

impl CreditSource for RoutedCredit {
    fn on_hold<'a>(
        &'a self,
        unit: Option<&'a str>,
        account: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>> {
        Box::pin(async move {
            let routes = self.router.routes();
            let target = routes.route(unit)?;
            let source = (self.by_erp.get(&target.name))
                .ok_or_else(|| format!("no credit source for ERP {}", target.name))?;
            source.on_hold(unit, account).await
        })
    }
}
