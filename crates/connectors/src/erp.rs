//! The ERP over REST: posts sales orders, always with crossdock's order id as the external
//! reference the ERP dedupes on, so a retry after an unknown outcome (a timeout after the
//! ERP committed) finds the first sales order instead of making a second; and cancels them
//! when an order is cancelled after posting.

use std::time::Duration;

use crossdock_domain::ledger::{AdvanceOrder, Command, Outcome};
use crossdock_domain::order_state::OrderState;
use crossdock_engine::Inventory;
use crossdock_engine::runner::{Handler, JobResult};
use crossdock_store::{Job, StoredOrder};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Where the ERP is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct ErpConfig {
    /// Base URL, e.g. `http://erp.internal:8080`.
    pub base_url: String,
    /// Longest wait for one answer; past it the outcome is unknown and the call is retried.
    pub timeout: Duration,
}

/// Posts sales orders and records the ERP's id on the order.
pub struct PostSalesOrder {
    http: reqwest::Client,
    config: ErpConfig,
    inventory: Inventory,
}

impl PostSalesOrder {
    /// A handler for `post_sales_order` jobs.
    pub fn new(config: ErpConfig, inventory: Inventory) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        Ok(Self {
            http,
            config,
            inventory,
        })
    }

    async fn post(&self, order: &StoredOrder) -> Result<String, JobResult> {
        let body = payload(order);
        let url = format!(
            "{}/sales-orders",
            self.config.base_url.trim_end_matches('/')
        );
        let res =
            self.http
                .post(url)
                .json(&body)
                .send()
                .await
                .map_err(|e| JobResult::Transient {
                    error: format!("ERP unreachable or too slow: {e}"),
                    retry_after: None,
                })?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        classify(status, retry_after, &answer)?;
        answer["erp_order_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| JobResult::Permanent {
                code: "ERP_REJECTED",
                error: format!("ERP answered {status} without erp_order_id: {answer}"),
            })
    }
}

/// The sales order as the ERP takes it.
fn payload(order: &StoredOrder) -> Value {
    let o = &order.order;
    json!({
        "external_ref": order.id,
        "channel": order.channel,
        "channel_order_id": order.external_id,
        "business_unit": o["business_unit"],
        "customer": o["customer"],
        "currency": o["currency"],
        "lines": o["lines"],
        "ship_to": o["ship_to"],
    })
}

/// Sorts an ERP answer into done, worth retrying, or refused.
fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    answer: &Value,
) -> Result<(), JobResult> {
    match status {
        s if s.is_success() => Ok(()),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => Err(JobResult::Transient {
            error: format!("ERP answered {status}"),
            retry_after,
        }),
        s if s.is_server_error() => Err(JobResult::Transient {
            error: format!("ERP answered {s}: {answer}"),
            retry_after,
        }),
        s => Err(JobResult::Permanent {
            code: "ERP_REJECTED",
            error: format!("ERP refused ({s}): {answer}"),
        }),
    }
}

impl PostSalesOrder {
    /// Cancels the order's sales order in the ERP (idempotent there).
    async fn cancel(&self, order_id: &str) -> JobResult {
        let url = format!(
            "{}/sales-orders/{order_id}/cancel",
            self.config.base_url.trim_end_matches('/')
        );
        let res = match self.http.post(url).send().await {
            Ok(r) => r,
            Err(e) => {
                return JobResult::Transient {
                    error: format!("ERP unreachable or too slow: {e}"),
                    retry_after: None,
                };
            }
        };
        let status = res.status();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        match classify(status, None, &answer) {
            Ok(()) => JobResult::Done,
            Err(result) => result,
        }
    }
}

impl Handler for PostSalesOrder {
    async fn run(&self, job: &Job) -> JobResult {
        if job.kind == "cancel_sales_order" {
            return match &job.order_id {
                Some(id) => self.cancel(id).await,
                None => JobResult::Permanent {
                    code: "MAPPING_FAILED",
                    error: "cancel_sales_order job without an order".into(),
                },
            };
        }
        if job.kind != "post_sales_order" {
            return JobResult::Permanent {
                code: "MAPPING_FAILED",
                error: format!("the ERP connector has no job named `{}`", job.kind),
            };
        }
        let Some(order_id) = &job.order_id else {
            return JobResult::Permanent {
                code: "MAPPING_FAILED",
                error: "post_sales_order job without an order".into(),
            };
        };
        let order = match self.inventory.order(order_id).await {
            Ok(Some(o)) => o,
            Ok(None) => {
                return JobResult::Permanent {
                    code: "MAPPING_FAILED",
                    error: format!("order {order_id} does not exist"),
                };
            }
            Err(e) => {
                return JobResult::Transient {
                    error: e.to_string(),
                    retry_after: None,
                };
            }
        };
        if order.erp_order_id.is_some() {
            return JobResult::Done;
        }
        if order.state != OrderState::Allocated.as_str() {
            // Cancelled or held since the job was queued: nothing to post.
            tracing::info!(
                order = order.id,
                state = order.state,
                "sales order not posted"
            );
            return JobResult::Done;
        }
        let erp_order_id = match self.post(&order).await {
            Ok(id) => id,
            Err(result) => return result,
        };
        let advance = AdvanceOrder {
            order_id: order_id.clone(),
            from: OrderState::Allocated,
            to: OrderState::ErpPosted,
            actor: "post_sales_order".into(),
            correlation_id: job.id.clone(),
            erp_order_id: Some(erp_order_id),
            jobs: vec![],
        };
        match self
            .inventory
            .submit_one(Command::AdvanceOrder(Box::new(advance)))
            .await
        {
            Ok(Outcome::OrderMoved { moved: true, .. }) => JobResult::Done,
            Ok(Outcome::OrderMoved {
                state: OrderState::ErpPosted,
                ..
            }) => JobResult::Done,
            Ok(Outcome::OrderMoved { state, .. }) => JobResult::Permanent {
                code: "ERP_REJECTED",
                error: format!("posted to the ERP, but the order is now {}", state.as_str()),
            },
            Ok(other) => JobResult::Permanent {
                code: "MAPPING_FAILED",
                error: format!("cannot record the ERP order: {other:?}"),
            },
            Err(e) => JobResult::Transient {
                error: e.to_string(),
                retry_after: None,
            },
        }
    }
}
