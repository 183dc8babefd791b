//! The ERP's answer to whether an account is on credit hold: for the saga's credit step, and
//! for the checks intake makes inside a request.

use std::future::Future;
use std::pin::Pin;

use crossdock_engine::credit::CreditSource;
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
