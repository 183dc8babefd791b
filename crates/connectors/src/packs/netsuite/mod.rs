//! NetSuite, an ERP, through its REST record API (`{url}/record/v1/…`, `url` being the
//! account's `…/services/rest`), authenticated by the connector's `auth` (token-based
//! authentication, OAuth 1.0a with HMAC-SHA256, as a rule).
//!
//! - A sales order is upserted with `PUT /record/v1/salesOrder/eid:{order id}`: the external id
//!   makes a repeat after an unknown outcome an update of the same record in NetSuite itself,
//!   never a second order. Its body is the `sales_order` mapping's (the pack's own
//!   `sales_order.jq`, or the configured one), which reads the order with the connector's
//!   bindings: the customer's entity id and every SKU's item id. A missing one is an exception
//!   naming it (`ITEM_UNKNOWN_IN_ERP`, `CUSTOMER_UNKNOWN_IN_ERP`) before anything is sent. The
//!   internal id NetSuite answers in the `Location` of its 204 is kept as the order's binding
//!   and as its ERP order id.
//! - A shipment becomes an item fulfillment, transformed from the sales order
//!   (`POST /record/v1/salesOrder/{id}/!transform/itemFulfillment`) with the `fulfilment`
//!   mapping's body over the sales order's own lines (read first, as NetSuite numbers them)
//!   and the shipment. Its external id is `{order id}:{shipment id}`; a repeat after an
//!   unknown outcome looks it up first (`GET /record/v1/itemFulfillment/eid:…`) and takes
//!   the fulfillment it finds.
//! - A cancellation closes the sales order as NetSuite does: every line `isClosed`
//!   (`PATCH /record/v1/salesOrder/{id}`), which a repeat leaves as it is.
//! - Credit: the customer record's `creditHoldOverride` (`ON` holds, `OFF` clears); on `AUTO`,
//!   a customer whose `balance` is above its `creditLimit` is on hold.
//! - Refusals are read from NetSuite's error body (`o:errorDetails[].o:errorCode` and
//!   `detail`); a concurrency-limit answer, as 429 or as 400 with NetSuite's limit codes, is
//!   retried after its `Retry-After`.

use std::time::Duration;

use crossdock_domain::{BindingKind, ErrorCode};
use crossdock_engine::bindings::Bindings;
use crossdock_engine::config::ConnectorConfig;
use crossdock_engine::runner::JobResult;
use crossdock_engine::saga::ErpOrder;
use crossdock_store::StoredOrder;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::SetupError;
use crate::mapping::Mapping;
use crate::packs::erp_bindings::ErpBindings;
use crate::remote::{Refusal, Remote, segment};

/// The pack's own mappings: (operation, name, program).
pub const MAPPINGS: &[(&str, &str, &str)] = &[
    (
        "sales_order",
        "netsuite/sales_order.jq",
        include_str!("sales_order.jq"),
    ),
    (
        "fulfilment",
        "netsuite/fulfilment.jq",
        include_str!("fulfilment.jq"),
    ),
];

/// NetSuite's codes for a request refused because the account's concurrency limit is
/// reached: worth retrying.
const LIMIT_CODES: &[&str] = &[
    "CONCURRENCY_LIMIT_EXCEEDED",
    "SSS_REQUEST_LIMIT_EXCEEDED",
    "WS_REQUEST_BLOCKED",
    "REQUEST_LIMIT_EXCEEDED",
];

/// One NetSuite account.
pub struct NetSuite {
    name: String,
    remote: Remote,
    sales_order: Mapping,
    fulfilment: Mapping,
    bindings: ErpBindings,
}

impl std::fmt::Debug for NetSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSuite")
            .field("name", &self.name)
            .finish()
    }
}

/// Reads NetSuite's error body: every detail with its code, and whether it is the
/// concurrency limit.
pub fn read_refusal(status: StatusCode, body: &Value) -> Option<Refusal> {
    let details = body["o:errorDetails"].as_array()?;
    let mut codes = Vec::new();
    let mut parts = Vec::new();
    for d in details {
        let code = d["o:errorCode"].as_str().unwrap_or("ERROR");
        let detail = d["detail"].as_str().unwrap_or_default();
        let path = d["o:errorPath"]
            .as_str()
            .map(|p| format!(" (at {p})"))
            .unwrap_or_default();
        parts.push(format!("{code}: {detail}{path}"));
        codes.push(code);
    }
    if parts.is_empty() {
        return None;
    }
    let limited =
        status == StatusCode::TOO_MANY_REQUESTS || codes.iter().any(|c| LIMIT_CODES.contains(c));
    Some(Refusal {
        message: parts.join("; "),
        retry: limited || status.is_server_error(),
    })
}

/// The last path segment of a record's `Location`: its internal id.
fn internal_id(location: &str) -> Option<&str> {
    let id = location.trim_end_matches('/').rsplit('/').next()?;
    (!id.is_empty() && !id.starts_with("eid:")).then_some(id)
}

impl NetSuite {
    /// The NetSuite account of connector `c`, reading its bindings from `bindings`.
    pub fn configured(c: &ConnectorConfig, bindings: Bindings) -> Result<Self, SetupError> {
        let settings = c.settings();
        let timeout = Duration::from_millis(settings.timeout_ms);
        let remote = Remote::configured("erp", &settings, timeout)?
            .speaking(&format!("NetSuite ({})", c.name), read_refusal);
        let failed = |operation: &str, error| SetupError::Mapping {
            connector: c.name.clone(),
            operation: operation.to_string(),
            error,
        };
        let mapping = |operation: &str| {
            let (_, name, code) = MAPPINGS
                .iter()
                .find(|(op, ..)| *op == operation)
                .expect("the pack maps the operation");
            match c.mappings.get(operation) {
                Some(file) => Mapping::load(file),
                None => Mapping::compile(name, code),
            }
            .map_err(|e| failed(operation, e))
        };
        Ok(Self {
            name: c.name.clone(),
            remote,
            sales_order: mapping("sales_order")?,
            fulfilment: mapping("fulfilment")?,
            bindings: ErpBindings::new(&c.name, "NetSuite", c.default_customer.clone(), bindings),
        })
    }

    /// What the `sales_order` mapping reads for `order`, its bindings found.
    pub async fn sales_order_input(&self, order: &StoredOrder) -> Result<Value, JobResult> {
        self.bindings.sales_order_input(order).await
    }

    /// Upserts the order's sales order; its internal id is kept as the order's binding.
    pub async fn post_sales_order(&self, order: &StoredOrder) -> Result<ErpOrder, JobResult> {
        let input = self.sales_order_input(order).await?;
        let body = self
            .sales_order
            .run(&input)
            .map_err(|e| JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: e.to_string(),
            })?;
        let path = format!("/record/v1/salesOrder/eid:{}", segment(&order.id));
        let answer = self
            .remote
            .exchange(Method::PUT, &path, Some(&body))
            .await?;
        let Some(id) = answer.location.as_deref().and_then(internal_id) else {
            return Err(JobResult::Permanent {
                code: ErrorCode::ErpRejected,
                error: format!(
                    "NetSuite ({}) took the sales order ({}) without naming it in Location",
                    self.name, answer.status
                ),
            });
        };
        self.bindings.keep_order(order, id).await;
        Ok(ErpOrder {
            id: id.to_string(),
            status: None,
        })
    }

    /// The sales order's lines as NetSuite numbers them: `{line, item, quantity,
    /// quantity_fulfilled}`.
    async fn lines(&self, id: &str) -> Result<Vec<Value>, JobResult> {
        let path = format!(
            "/record/v1/salesOrder/{}/item?expandSubResources=true",
            segment(id)
        );
        let answer = self.remote.get(&path).await?;
        let lines = answer["items"].as_array().cloned().unwrap_or_default();
        Ok(lines
            .iter()
            .map(|l| {
                json!({"line": l["line"], "item": l["item"]["id"], "quantity": l["quantity"],
                       "quantity_fulfilled": l["quantityFulfilled"]})
            })
            .collect())
    }

    /// Records a shipment (a `post_fulfilment` job's payload) as an item fulfillment of the
    /// order's sales order.
    pub async fn post_fulfilment(
        &self,
        order: &StoredOrder,
        shipment: &Value,
    ) -> Result<(), JobResult> {
        let id = self.bindings.sales_order(order).await?;
        let skus = (shipment["lines"].as_array().into_iter().flatten())
            .filter_map(|l| l["sku"].as_str().map(str::to_string));
        let items = self.bindings.items(skus).await?;
        let lines = self.lines(&id).await?;
        let input = json!({
            "connector": self.name,
            "order": {"id": order.id, "channel": order.channel, "external_id": order.external_id},
            "shipment": shipment,
            "bindings": {"items": items},
            "sales_order": {"id": id, "lines": lines},
        });
        let mut body = self
            .fulfilment
            .run(&input)
            .map_err(|e| JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: e.to_string(),
            })?;
        if !body.is_object() {
            return Err(JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: format!("the fulfilment mapping gave {body}, not an item fulfillment"),
            });
        }
        // The external id a repeat is found by, whatever the mapping says.
        let shipment_id = shipment["shipment_id"].as_str().unwrap_or_default();
        let reference = format!("{}:{shipment_id}", order.id);
        body["externalId"] = json!(reference);
        let made = format!("/record/v1/itemFulfillment/eid:{}", segment(&reference));
        if self.remote.find(&made).await?.is_some() {
            return Ok(());
        }
        let path = format!(
            "/record/v1/salesOrder/{}/!transform/itemFulfillment",
            segment(&id)
        );
        self.remote
            .exchange(Method::POST, &path, Some(&body))
            .await?;
        Ok(())
    }

    /// Cancels the order's sales order as NetSuite closes one: every line `isClosed`
    /// (`PATCH …/salesOrder/{id}`). Closing a closed line changes nothing, so a retry is
    /// harmless; a sales order already gone is done.
    pub async fn cancel_sales_order(&self, order: &StoredOrder) -> Result<(), JobResult> {
        let id = self.bindings.sales_order(order).await?;
        let path = format!(
            "/record/v1/salesOrder/{}/item?expandSubResources=true",
            segment(&id)
        );
        let Some(answer) = self.remote.find(&path).await? else {
            return Ok(());
        };
        let items: Vec<Value> = (answer["items"].as_array().into_iter().flatten())
            .map(|l| json!({"line": l["line"], "isClosed": true}))
            .collect();
        let body = json!({"item": {"items": items}});
        let path = format!("/record/v1/salesOrder/{}", segment(&id));
        self.remote
            .exchange(Method::PATCH, &path, Some(&body))
            .await?;
        Ok(())
    }

    /// Whether NetSuite holds the customer bound to `account` for credit (a customer nobody
    /// bound is not held here: the sales order's own step names it, or books it to the
    /// connector's `default_customer`, whose credit is not the account's).
    pub async fn credit_hold(&self, account: &str) -> Result<bool, JobResult> {
        let Some(id) = self.bindings.one(BindingKind::Customer, account).await? else {
            return Ok(false);
        };
        let path = format!(
            "/record/v1/customer/{}?fields=creditHoldOverride,creditLimit,balance",
            segment(&id)
        );
        let customer = self.remote.get(&path).await?;
        Ok(on_hold(&customer))
    }
}

/// A customer record's credit hold: its override, else its balance against its limit.
fn on_hold(customer: &Value) -> bool {
    let set = &customer["creditHoldOverride"];
    let over = set["id"].as_str().or(set.as_str()).unwrap_or("AUTO");
    match over.to_ascii_uppercase().as_str() {
        "ON" => true,
        "OFF" => false,
        _ => match (
            customer["balance"].as_f64(),
            customer["creditLimit"].as_f64(),
        ) {
            (Some(balance), Some(limit)) => balance > limit,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests;
