//! What every ERP pack reads from its connector's bindings: the customer an order is booked
//! to, the ERP's item for each SKU, and the sales order the ERP made for an order. A missing
//! customer or item is an exception naming it, before anything is sent.

use std::collections::BTreeMap;

use crossdock_domain::{Binding, BindingKind, ErrorCode};
use crossdock_engine::bindings::Bindings;
use crossdock_engine::runner::JobResult;
use crossdock_store::StoredOrder;
use serde_json::{Value, json};

/// One ERP connector's bindings.
pub struct ErpBindings {
    connector: String,
    /// The ERP's name for people: `NetSuite`, `Business Central`.
    vendor: &'static str,
    default_customer: Option<String>,
    bindings: Bindings,
}

impl ErpBindings {
    /// The bindings of `connector`, an ERP of `vendor`'s.
    pub fn new(
        connector: &str,
        vendor: &'static str,
        default_customer: Option<String>,
        bindings: Bindings,
    ) -> Self {
        Self {
            connector: connector.to_string(),
            vendor,
            default_customer,
            bindings,
        }
    }

    /// The connector's name.
    pub fn connector(&self) -> &str {
        &self.connector
    }

    /// Our key for an order's customer: its account, else its id.
    pub fn customer_key(order: &StoredOrder) -> String {
        let c = &order.order.customer;
        c.account.clone().unwrap_or_else(|| c.id.clone())
    }

    async fn bound(
        &self,
        kind: BindingKind,
        ours: impl IntoIterator<Item = String>,
    ) -> Result<BTreeMap<String, String>, JobResult> {
        self.bindings
            .bound(&self.connector, kind, ours)
            .await
            .map_err(|e| JobResult::Transient {
                error: format!("cannot read {}'s bindings: {e}", self.connector),
                retry_after: None,
            })
    }

    /// The ERP's id bound to one key of ours, if one is.
    pub async fn one(&self, kind: BindingKind, ours: &str) -> Result<Option<String>, JobResult> {
        Ok(self.bound(kind, [ours.to_string()]).await?.remove(ours))
    }

    /// The ERP's customer for the order: its binding, else the connector's
    /// `default_customer`.
    pub async fn customer(&self, order: &StoredOrder) -> Result<String, JobResult> {
        let key = Self::customer_key(order);
        match self
            .one(BindingKind::Customer, &key)
            .await?
            .or_else(|| self.default_customer.clone())
        {
            Some(id) => Ok(id),
            None => Err(JobResult::Permanent {
                code: ErrorCode::CustomerUnknownInErp,
                error: format!(
                    "no {} customer for `{key}` on connector {}: add a binding (kind \
                     customer), or give the connector a default_customer",
                    self.vendor, self.connector
                ),
            }),
        }
    }

    /// The ERP's items bound to `skus`, every one, or the exception naming those nobody
    /// bound.
    pub async fn items(
        &self,
        skus: impl IntoIterator<Item = String>,
    ) -> Result<BTreeMap<String, String>, JobResult> {
        let skus: Vec<String> = skus.into_iter().collect();
        let items = self.bound(BindingKind::Item, skus.iter().cloned()).await?;
        let mut missing: Vec<&str> = (skus.iter())
            .filter(|s| !items.contains_key(*s))
            .map(String::as_str)
            .collect();
        missing.dedup();
        if missing.is_empty() {
            return Ok(items);
        }
        Err(JobResult::Permanent {
            code: ErrorCode::ItemUnknownInErp,
            error: format!(
                "no {} item for {} on connector {}: add a binding (kind item) for each",
                self.vendor,
                missing.join(", "),
                self.connector
            ),
        })
    }

    /// What a `sales_order` mapping reads for `order`: the order, and the customer and
    /// items its bindings give.
    pub async fn sales_order_input(&self, order: &StoredOrder) -> Result<Value, JobResult> {
        let customer = self.customer(order).await?;
        let items = self
            .items(order.order.lines.iter().map(|l| l.sku.to_string()))
            .await?;
        Ok(json!({
            "connector": self.connector,
            "order": {
                "id": order.id,
                "channel": order.channel,
                "external_id": order.external_id,
                "business_unit": order.order.business_unit,
                "customer": order.order.customer,
                "currency": order.order.currency,
                "lines": order.order.lines,
                "ship_to": order.order.ship_to,
                "tax": order.order.tax,
            },
            "bindings": {"customer": customer, "items": items},
        }))
    }

    /// Keeps the ERP's id for the order's sales order as the order's binding (the order
    /// keeps its ERP order id either way, so a failure here is only logged).
    pub async fn keep_order(&self, order: &StoredOrder, theirs: &str) {
        let binding = Binding {
            connector: self.connector.clone(),
            kind: BindingKind::Order,
            ours: order.id.to_string(),
            theirs: theirs.to_string(),
        };
        if let Err(e) = self.bindings.put(vec![binding]).await {
            tracing::warn!(connector = %self.connector, order = %order.id, error = %e,
                           "cannot keep the sales order's binding");
        }
    }

    /// The ERP's id for the order's sales order: its binding, else its ERP order id.
    pub async fn sales_order(&self, order: &StoredOrder) -> Result<String, JobResult> {
        if let Some(id) = self.one(BindingKind::Order, order.id.as_str()).await? {
            return Ok(id);
        }
        order
            .erp_order_id
            .clone()
            .ok_or_else(|| JobResult::Permanent {
                code: ErrorCode::ErpRejected,
                error: format!(
                    "order {} has no {} sales order on connector {}",
                    order.id, self.vendor, self.connector
                ),
            })
    }
}
