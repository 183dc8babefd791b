//! Microsoft Dynamics 365 Business Central, an ERP, through its API v2.0
//! (`{url}/companies({company_id})/…`, `url` being the environment's
//! `https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0`),
//! authenticated by the connector's `auth` (OAuth 2.0 client credentials, as a rule).
//!
//! - A sales order is created with `POST …/salesOrders`, its lines inserted with it, from the
//!   `sales_order` mapping's body (the pack's own `sales_order.jq`, or the configured one),
//!   which reads the order with the connector's bindings: the customer's number and every
//!   SKU's item number (a missing one is an exception naming it before anything is sent).
//!   `externalDocumentNumber` is our order id. Business Central does not hold that number
//!   unique, so a retry (the job's second attempt on: the first may have been taken without
//!   its answer reaching us) first looks it up (`$filter=externalDocumentNumber eq '…'`) and
//!   takes the sales order it finds. The order's ERP order id is the sales order's `number`;
//!   its `id` is kept as the order's binding, which later calls go by.
//! - A cancellation deletes the sales order (`DELETE …/salesOrders({id})`); one already gone
//!   is done.
//! - A parcel is posted as shipped and invoiced ([`shipments`]) when the connector says
//!   `ship_and_invoice = true`; otherwise it is left to a person.
//! - Changes (PATCH, DELETE) carry `If-Match: *`, as Business Central requires.
//! - Credit: the customer's `blocked` (`Ship`, `Invoice` or `All` hold), else its
//!   `balanceDue` above a `creditLimit` set above zero.
//! - Refusals are read from the OData error body (`error.code`, `error.message`);
//!   `Application_TooManyRequests` and 429 are retried after `Retry-After`.

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
use crate::remote::{Refusal, Remote};

/// The pack's own mappings: (operation, name, program).
pub const MAPPINGS: &[(&str, &str, &str)] = &[(
    "sales_order",
    "business_central/sales_order.jq",
    include_str!("sales_order.jq"),
)];

/// Business Central's codes for a request worth sending again later.
const RETRY_CODES: &[&str] = &["Application_TooManyRequests", "Internal_ServerError"];

/// The longest `externalDocumentNumber` Business Central keeps (Code[35]).
pub const MAX_EXTERNAL_NUMBER: usize = 35;

/// One Business Central company.
pub struct BusinessCentral {
    name: String,
    remote: Remote,
    company: String,
    sales_order: Mapping,
    bindings: ErpBindings,
    /// Whether parcels are posted as shipped and invoiced.
    ship_and_invoice: bool,
    /// One posting of an order at a time, by stripe of its sales order id.
    posting: std::sync::Arc<[tokio::sync::Mutex<()>]>,
}

impl std::fmt::Debug for BusinessCentral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusinessCentral")
            .field("name", &self.name)
            .finish()
    }
}

/// Reads Business Central's OData error body: its code and message, and whether it is
/// worth retrying.
pub fn read_refusal(status: StatusCode, body: &Value) -> Option<Refusal> {
    let error = body.get("error")?;
    let code = error["code"].as_str().unwrap_or("Error");
    let message = error["message"].as_str().unwrap_or_default();
    Some(Refusal {
        message: format!("{code}: {message}"),
        retry: status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || RETRY_CODES.contains(&code),
    })
}

/// A value as an OData string literal inside a query (quotes doubled), percent-encoded.
fn literal(value: &str) -> String {
    let quoted = format!("'{}'", value.replace('\'', "''"));
    percent_encoding::utf8_percent_encode(&quoted, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A record's key in a path: `({id})`, the id percent-encoded.
fn key(id: &str) -> String {
    format!("({})", crate::remote::segment(id))
}

/// Whether a customer record holds its orders for credit.
fn on_hold(customer: &Value) -> bool {
    let blocked = customer["blocked"].as_str().unwrap_or_default().trim();
    if matches!(blocked, "Ship" | "Invoice" | "All") {
        return true;
    }
    match (
        customer["balanceDue"].as_f64(),
        customer["creditLimit"].as_f64(),
    ) {
        (Some(due), Some(limit)) if limit > 0.0 => due > limit,
        _ => false,
    }
}

/// The sales order a record describes: its number for people, its status, and its id.
fn sales_order(record: &Value) -> Option<(ErpOrder, String)> {
    let id = record["id"].as_str()?;
    let number = record["number"].as_str().unwrap_or(id);
    Some((
        ErpOrder {
            id: number.to_string(),
            status: record["status"].as_str().map(str::to_string),
        },
        id.to_string(),
    ))
}

impl BusinessCentral {
    /// The Business Central company of connector `c`, reading its bindings from `bindings`.
    pub fn configured(c: &ConnectorConfig, bindings: Bindings) -> Result<Self, SetupError> {
        let settings = c.settings();
        let timeout = Duration::from_millis(settings.timeout_ms);
        let remote = Remote::configured("erp", &settings, timeout)?
            .speaking(&format!("Business Central ({})", c.name), read_refusal)
            .changing_any_version();
        let sales_order = match c.mappings.get("sales_order") {
            Some(file) => Mapping::load(file),
            None => Mapping::compile(MAPPINGS[0].1, MAPPINGS[0].2),
        }
        .map_err(|error| SetupError::Mapping {
            connector: c.name.clone(),
            operation: "sales_order".into(),
            error,
        })?;
        Ok(Self {
            name: c.name.clone(),
            remote,
            company: c.company_id.clone().unwrap_or_default(),
            sales_order,
            bindings: ErpBindings::new(
                &c.name,
                "Business Central",
                c.default_customer.clone(),
                bindings,
            ),
            ship_and_invoice: c.ship_and_invoice.unwrap_or(false),
            posting: (0..shipments::STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        })
    }

    /// `/companies({company}){rest}`.
    fn path(&self, rest: &str) -> String {
        format!("/companies{}{rest}", key(&self.company))
    }

    /// What the `sales_order` mapping reads for `order`, its bindings found.
    pub async fn sales_order_input(&self, order: &StoredOrder) -> Result<Value, JobResult> {
        self.bindings.sales_order_input(order).await
    }

    /// The sales order made for `order` before, found by its external document number.
    async fn find(&self, order: &StoredOrder) -> Result<Option<(ErpOrder, String)>, JobResult> {
        let path = self.path(&format!(
            "/salesOrders?$filter=externalDocumentNumber%20eq%20{}&$select=id,number,status",
            literal(&order.id)
        ));
        let found = self.remote.get(&path).await?;
        Ok(found["value"]
            .as_array()
            .and_then(|v| v.first())
            .and_then(sales_order))
    }

    /// Creates the order's sales order, or, on the job's `attempt` past the first, takes the
    /// one an earlier attempt made; its id is kept as the order's binding.
    pub async fn post_sales_order(
        &self,
        order: &StoredOrder,
        attempt: i64,
    ) -> Result<ErpOrder, JobResult> {
        if order.id.len() > MAX_EXTERNAL_NUMBER {
            return Err(JobResult::Permanent {
                code: ErrorCode::ErpRejected,
                error: format!(
                    "order id {} is longer than Business Central's external document number \
                     ({MAX_EXTERNAL_NUMBER} characters)",
                    order.id
                ),
            });
        }
        let input = self.sales_order_input(order).await?;
        let mut body = self
            .sales_order
            .run(&input)
            .map_err(|e| JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: e.to_string(),
            })?;
        if !body.is_object() {
            return Err(JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: format!("the sales_order mapping gave {body}, not a sales order"),
            });
        }
        body["externalDocumentNumber"] = json!(order.id);
        let before = match attempt > 1 {
            true => self.find(order).await?,
            false => None,
        };
        let (erp, id) = match before {
            Some(found) => found,
            None => {
                let path = self.path("/salesOrders");
                let made = self
                    .remote
                    .exchange(Method::POST, &path, Some(&body))
                    .await?;
                sales_order(&made.body).ok_or_else(|| JobResult::Permanent {
                    code: ErrorCode::ErpRejected,
                    error: format!(
                        "Business Central ({}) took the sales order ({}) without its id: {}",
                        self.name, made.status, made.body
                    ),
                })?
            }
        };
        self.bindings.keep_order(order, &id).await;
        Ok(erp)
    }

    /// Deletes the order's sales order; one already gone is done.
    pub async fn cancel_sales_order(&self, order: &StoredOrder) -> Result<(), JobResult> {
        let id = self.bindings.sales_order(order).await?;
        let path = self.path(&format!("/salesOrders{}", key(&id)));
        self.remote.if_there(Method::DELETE, &path).await?;
        Ok(())
    }

    /// Whether Business Central holds the customer bound to `account` for credit (a
    /// customer nobody bound is not held here; the sales order's own step names it).
    pub async fn credit_hold(&self, account: &str) -> Result<bool, JobResult> {
        let Some(number) = self.bindings.one(BindingKind::Customer, account).await? else {
            return Ok(false);
        };
        let path = self.path(&format!(
            "/customers?$filter=number%20eq%20{}&$select=number,blocked,balanceDue,creditLimit",
            literal(&number)
        ));
        let found = self.remote.get(&path).await?;
        Ok(found["value"]
            .as_array()
            .and_then(|v| v.first())
            .is_some_and(on_hold))
    }
}

mod shipments;

#[cfg(test)]
mod tests;
