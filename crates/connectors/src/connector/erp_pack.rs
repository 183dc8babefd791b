//! An ERP that speaks its vendor's own API (a pack), in the ERP's place: the saga's sales
//! order and credit steps, and the follow-ups the pack carries.

use std::sync::Arc;

use crossdock_domain::{ErrorCode, JobKind};
use crossdock_engine::bindings::Bindings;
use crossdock_engine::config::{ConnectorConfig, ConnectorKind};
use crossdock_engine::runner::JobResult;
use crossdock_engine::saga::ErpOrder;
use crossdock_store::StoredOrder;
use serde_json::Value;

use crate::SetupError;
use crate::packs::business_central::BusinessCentral;
use crate::packs::netsuite::NetSuite;

/// An ERP pack.
#[derive(Debug, Clone)]
pub enum ErpPack {
    /// A NetSuite account.
    NetSuite(Arc<NetSuite>),
    /// A Business Central company.
    BusinessCentral(Arc<BusinessCentral>),
}

impl ErpPack {
    /// The pack connector `c` speaks, when its kind is an ERP pack.
    pub fn configured(
        c: &ConnectorConfig,
        bindings: &Bindings,
    ) -> Result<Option<Self>, SetupError> {
        Ok(match c.kind {
            ConnectorKind::Netsuite => Some(ErpPack::NetSuite(Arc::new(NetSuite::configured(
                c,
                bindings.clone(),
            )?))),
            ConnectorKind::BusinessCentral => Some(ErpPack::BusinessCentral(Arc::new(
                BusinessCentral::configured(c, bindings.clone())?,
            ))),
            _ => None,
        })
    }

    /// Whether a connector of `kind` is an ERP pack.
    pub fn speaks(kind: ConnectorKind) -> bool {
        matches!(
            kind,
            ConnectorKind::Netsuite | ConnectorKind::BusinessCentral
        )
    }

    /// Posts the order's sales order on the job's `attempt`.
    pub async fn post_sales_order(
        &self,
        order: &StoredOrder,
        attempt: i64,
    ) -> Result<ErpOrder, JobResult> {
        match self {
            ErpPack::NetSuite(ns) => ns.post_sales_order(order).await,
            ErpPack::BusinessCentral(bc) => bc.post_sales_order(order, attempt).await,
        }
    }

    /// Whether the ERP holds `account` for credit.
    pub async fn credit_hold(&self, account: &str) -> Result<bool, JobResult> {
        match self {
            ErpPack::NetSuite(ns) => ns.credit_hold(account).await,
            ErpPack::BusinessCentral(bc) => bc.credit_hold(account).await,
        }
    }

    /// A job that follows the sales order (a shipment, a return, a cancellation): the ones
    /// the pack carries, and for the others an exception asking for it to be recorded by
    /// hand.
    pub async fn follow_up(
        &self,
        kind: JobKind,
        order: &StoredOrder,
        payload: &Value,
    ) -> JobResult {
        let done = match (self, kind) {
            (ErpPack::NetSuite(ns), JobKind::PostFulfilment) => {
                ns.post_fulfilment(order, payload).await
            }
            (ErpPack::NetSuite(ns), JobKind::CancelSalesOrder) => {
                ns.cancel_sales_order(order).await
            }
            (ErpPack::BusinessCentral(bc), JobKind::PostFulfilment) => {
                bc.post_fulfilment(order).await
            }
            (ErpPack::BusinessCentral(bc), JobKind::CancelSalesOrder) => {
                bc.cancel_sales_order(order).await
            }
            (pack, kind) => {
                return JobResult::Permanent {
                    code: ErrorCode::ErpRejected,
                    error: format!(
                        "the {} pack does not send `{kind}` yet: record it in {} by hand \
                         (sales order {}), then resolve this exception",
                        pack.kind(),
                        pack.vendor(),
                        order.erp_order_id.as_deref().unwrap_or("not yet posted")
                    ),
                };
            }
        };
        match done {
            Ok(()) => JobResult::Done,
            Err(result) => result,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ErpPack::NetSuite(_) => ConnectorKind::Netsuite.as_str(),
            ErpPack::BusinessCentral(_) => ConnectorKind::BusinessCentral.as_str(),
        }
    }

    fn vendor(&self) -> &'static str {
        match self {
            ErpPack::NetSuite(_) => "NetSuite",
            ErpPack::BusinessCentral(_) => "Business Central",
        }
    }
}
