//! The jobs crossdock sends to outside systems, one connector per configured system. Every
//! call carries a reference the system dedupes on (the order id for the order's sales order,
//! release, screening, tax and void; the shipment for a fulfilment, capture or tracking; the
//! invoice number for an invoice), so a retry after an unknown outcome (a timeout after the
//! system committed) never does the thing twice. A later part of an order (lines a
//! backorder waited for, released after the first release went) is released and cancelled
//! under its own reference, `{order id}:part{N}`.
//!
//! | system       | jobs                                                                    |
//! |--------------|-------------------------------------------------------------------------|
//! | `erp`        | `check_credit`, `post_sales_order`, `post_fulfilment`, `post_return`, `cancel_sales_order` |
//! | `wms`        | `release_to_wms`, `release_part`, `cancel_release`                      |
//! | `payment`    | `capture_payment`, `void_authorization`                                 |
//! | `fraud`      | `screen_fraud`                                                          |
//! | `tax`        | `commit_tax`                                                            |
//! | `storefront` | `publish_tracking`, `push_invoice`, `notify_cancelled`                  |

use std::time::Duration;

use crossdock_domain::ledger::AdvanceOrder;
use crossdock_domain::order_state::OrderState;
use crossdock_domain::{ErrorCode, JobKind};
use crossdock_engine::Inventory;
use crossdock_engine::config::SystemSettings;
use crossdock_engine::credit::Credit;
use crossdock_engine::runner::{Handler, JobResult};
use crossdock_engine::saga::{self, StepJob};
use crossdock_store::{Job, StoredOrder};
use serde_json::{Value, json};

use crate::packs::storefronts::{Shops, Storefront};
use crate::remote::Remote;
use crate::tls::ClientError;
pub use erp_credit::ErpCredit;
use erp_credit::credit_hold;
pub use erp_pack::ErpPack;
use rest::{cancel_release, follow_up_call, part_of, release};

pub mod erp_credit;
mod erp_pack;
mod rest;

/// What a saga step's call decided.
enum Verdict {
    /// Go on to the next step (recording the ERP's sales order when the step learnt of it).
    Pass(Option<saga::ErpOrder>),
    /// Hold the order for a person.
    Hold(saga::Hold),
}

/// Runs one system's jobs.
pub struct Connector {
    system: &'static str,
    remote: Remote,
    inventory: Inventory,
    fraud_hold_score: u32,
    statuses: std::collections::BTreeMap<String, OrderState>,
    credit: Option<Credit>,
    /// For the storefront: the storefronts called in their vendors' APIs, which hear of
    /// their channel's orders.
    shops: Shops,
    /// False when `remote` is a shop's, not a system speaking crossdock's REST shape.
    speaks_rest: bool,
    /// For the ERP: the pack it speaks, when it speaks its vendor's own API.
    erp_pack: Option<ErpPack>,
}

impl Connector {
    /// A connector for `system` (`erp`, `wms`, `payment`, `fraud`, `tax`, `storefront`) at
    /// `base_url`, without credentials.
    pub fn new(
        system: &'static str,
        base_url: &str,
        timeout: Duration,
        inventory: Inventory,
    ) -> Result<Self, ClientError> {
        Ok(Self::over(
            system,
            Remote::new(system, base_url, timeout)?,
            inventory,
        ))
    }

    /// A connector for `system` as `settings` configure it (URL, timeout, `ca_file`, `auth`,
    /// a `rest` connector's mappings).
    pub fn configured(
        system: &'static str,
        settings: &SystemSettings,
        inventory: Inventory,
    ) -> Result<Self, crate::SetupError> {
        let timeout = Duration::from_millis(settings.timeout_ms);
        let mut remote = Remote::configured(system, settings, timeout)?;
        if let Some(shape) = crate::packs::rest::of(system, settings)? {
            remote = remote.shaped(shape);
        }
        Ok(Self::over(system, remote, inventory).with_statuses(settings.statuses.clone()))
    }

    fn over(system: &'static str, remote: Remote, inventory: Inventory) -> Self {
        Self {
            system,
            remote,
            inventory,
            fraud_hold_score: 80,
            statuses: Default::default(),
            credit: None,
            shops: Default::default(),
            speaks_rest: true,
            erp_pack: None,
        }
    }

    /// The ERP as a pack (NetSuite, Business Central): sales orders, credit and the
    /// follow-ups it carries through its vendor's API.
    pub fn with_erp_pack(mut self, pack: ErpPack) -> Self {
        self.erp_pack = Some(pack);
        self
    }

    /// The storefronts called in their vendors' APIs, by the channel each sells on: their
    /// channel's orders are told through them. Without `rest`, the connector's own remote is
    /// a shop's, and orders of other channels wait for a storefront to be configured.
    pub fn with_shops(mut self, shops: Shops, rest: bool) -> Self {
        self.shops = shops;
        self.speaks_rest = rest;
        self
    }

    /// The credit use case, for the ERP's credit step: an answer given at intake stands as
    /// the order's check, and the step's own answer is remembered for later requests.
    pub fn with_credit(mut self, credit: Credit) -> Self {
        self.credit = Some(credit);
        self
    }

    /// The system's own statuses and the canonical states they mean.
    pub fn with_statuses(
        mut self,
        statuses: std::collections::BTreeMap<String, OrderState>,
    ) -> Self {
        self.statuses = statuses;
        self
    }

    /// Orders scoring at least `score` (0–100) are held for review.
    pub fn with_fraud_hold_score(mut self, score: u32) -> Self {
        self.fraud_hold_score = score;
        self
    }

    /// POSTs `body` to `path` as crossdock's REST shape makes `kind`'s call (reshaped for a
    /// `rest` connector).
    async fn call(&self, kind: JobKind, path: &str, body: &Value) -> Result<Value, JobResult> {
        (self.remote)
            .operation(kind.as_str(), reqwest::Method::POST, path, Some(body))
            .await
    }

    /// Runs a saga step: the call, then the order's move or its hold.
    async fn step(&self, job: &Job) -> JobResult {
        let s = match saga::load(&self.inventory, job).await {
            Ok(s) => s,
            Err(result) => return result,
        };
        let verdict = match job.kind {
            JobKind::ScreenFraud if !s.approved => self.screen_fraud(&s).await,
            JobKind::CheckCredit if !s.approved => self.check_credit(&s).await,
            JobKind::CommitTax => self.commit_tax(&s).await,
            JobKind::PostSalesOrder => self.post_sales_order(&s, job.attempts).await,
            JobKind::ReleaseToWms => self.release_to_wms(&s).await,
            // Approved past a check by an operator.
            _ => Ok(Verdict::Pass(None)),
        };
        match verdict {
            Ok(Verdict::Pass(erp)) => saga::complete(&self.inventory, job, &s, erp).await,
            Ok(Verdict::Hold(hold)) => saga::hold(&self.inventory, job, &s, hold).await,
            Err(result) => result,
        }
    }

    async fn screen_fraud(&self, s: &StepJob) -> Result<Verdict, JobResult> {
        let o = &s.order;
        let c = &o.order;
        let body = json!({"reference": o.id, "customer": c.customer, "ship_to": c.ship_to,
                          "lines": c.lines, "currency": c.currency, "payment": c.payment});
        let answer = self.call(JobKind::ScreenFraud, "/screen", &body).await?;
        let score = answer["score"].as_u64().unwrap_or(0);
        Ok(if score >= u64::from(self.fraud_hold_score) {
            let why = format!(
                "fraud score {score} is at or above the hold score {}",
                self.fraud_hold_score
            );
            Verdict::Hold(saga::Hold {
                code: ErrorCode::FraudSuspected,
                error: why,
                erp: None,
            })
        } else {
            Verdict::Pass(None)
        })
    }

    async fn check_credit(&self, s: &StepJob) -> Result<Verdict, JobResult> {
        let account = s
            .order
            .order
            .customer
            .account
            .as_deref()
            .unwrap_or_default();
        if let Some(credit) = &self.credit {
            match credit.checked_at_intake(account, s.order.created_at).await {
                Ok(true) => return Ok(Verdict::Pass(None)),
                Ok(false) => {}
                Err(e) => tracing::warn!(account, error = %e, "cannot read the credit status"),
            }
        }
        let on_hold = match &self.erp_pack {
            Some(pack) => pack.credit_hold(account).await?,
            None => credit_hold(&self.remote, account).await?,
        };
        // Remembered for intake requests that cannot wait for the ERP.
        if let Some(credit) = &self.credit
            && let Err(e) = credit.record(account, on_hold).await
        {
            tracing::warn!(account, error = %e, "cannot remember the credit status");
        }
        Ok(if on_hold {
            let why = format!("the ERP has account `{account}` on credit hold");
            Verdict::Hold(saga::Hold {
                code: ErrorCode::CustomerOnCreditHold,
                error: why,
                erp: None,
            })
        } else {
            Verdict::Pass(None)
        })
    }

    async fn commit_tax(&self, s: &StepJob) -> Result<Verdict, JobResult> {
        let o = &s.order;
        let tax = o.order.tax.as_ref();
        let body = json!({"reference": o.id, "amount": tax.map(|t| t.amount),
                          "provider_ref": tax.and_then(|t| t.provider_ref.as_deref()),
                          "currency": o.order.currency});
        self.call(JobKind::CommitTax, "/transactions/commit", &body)
            .await?;
        Ok(Verdict::Pass(None))
    }

    async fn release_to_wms(&self, s: &StepJob) -> Result<Verdict, JobResult> {
        (self.call(JobKind::ReleaseToWms, "/releases", &release(&s.order, 1))).await?;
        Ok(Verdict::Pass(None))
    }

    /// Releases a later part of an order: not for an order cancelled before it went, and
    /// cancelled again at once for one cancelled while it went (the cancellation queued then
    /// may have reached the warehouse first).
    async fn release_part(&self, job: &Job, order: &StoredOrder, part: u32) -> JobResult {
        match order.state {
            OrderState::Cancelled => return JobResult::Done,
            OrderState::OnHold => {
                return JobResult::Transient {
                    error: format!("order {} is on hold; part {part} waits", order.id),
                    retry_after: Some(Duration::from_secs(30)),
                };
            }
            _ => {}
        }
        let body = release(order, part);
        if let Err(result) = self.call(JobKind::ReleasePart, "/releases", &body).await {
            return result;
        }
        match saga::load_order(&self.inventory, job).await {
            Ok(now) if now.state == OrderState::Cancelled => {
                let (path, body) = cancel_release(order, part);
                match self.call(JobKind::CancelRelease, &path, &body).await {
                    Ok(_) => JobResult::Done,
                    Err(result) => result,
                }
            }
            _ => JobResult::Done,
        }
    }

    /// Posts the sales order (the ERP finds the first one by reference on a repeat). A
    /// status the ERP created it in that is configured to mean `on_hold` holds the order,
    /// unless an operator approved it.
    async fn post_sales_order(&self, s: &StepJob, attempt: i64) -> Result<Verdict, JobResult> {
        let erp = match &self.erp_pack {
            Some(pack) => pack.post_sales_order(&s.order, attempt).await?,
            None => self.post_rest_sales_order(s).await?,
        };
        let status = erp.status.as_deref();
        let held = status.and_then(|s| self.statuses.get(s)) == Some(&OrderState::OnHold);
        if !s.approved && held {
            let why = format!(
                "the ERP created sales order {} in status `{}`",
                erp.id,
                status.unwrap_or_default()
            );
            return Ok(Verdict::Hold(saga::Hold {
                code: ErrorCode::ErpOrderHeld,
                error: why,
                erp: Some(erp),
            }));
        }
        Ok(Verdict::Pass(Some(erp)))
    }

    /// Posts the sales order in crossdock's REST shape.
    async fn post_rest_sales_order(&self, s: &StepJob) -> Result<saga::ErpOrder, JobResult> {
        let o = &s.order;
        let body = json!({
            "external_ref": o.id,
            "channel": o.channel,
            "channel_order_id": o.external_id,
            "business_unit": o.order.business_unit,
            "customer": o.order.customer,
            "currency": o.order.currency,
            "lines": o.order.lines,
            "ship_to": o.order.ship_to,
        });
        let answer = self
            .call(JobKind::PostSalesOrder, "/sales-orders", &body)
            .await?;
        let Some(id) = answer["erp_order_id"].as_str() else {
            return Err(JobResult::Permanent {
                code: ErrorCode::ErpRejected,
                error: format!("ERP answered without erp_order_id: {answer}"),
            });
        };
        Ok(saga::ErpOrder {
            id: id.to_string(),
            status: answer["status"].as_str().map(str::to_string),
        })
    }

    /// Jobs that follow a shipment, an invoice or a cancellation: one call each.
    async fn follow_up(&self, job: &Job) -> JobResult {
        let order = match saga::load_order(&self.inventory, job).await {
            Ok(o) => o,
            Err(result) => return result,
        };
        let mut payload = job.payload.clone().unwrap_or(Value::Null);
        if job.kind == JobKind::ReleasePart {
            return self.release_part(job, &order, part_of(&payload)).await;
        }
        if let Some(pack) = &self.erp_pack {
            return pack.follow_up(job.kind, &order, &payload).await;
        }
        if self.system == "storefront" {
            if let Some(shop) = self.shops.get(order.channel.as_str()) {
                return self.to_shop(shop, job, &order, &payload).await;
            }
            if !self.speaks_rest {
                return JobResult::Transient {
                    error: format!(
                        "no storefront connector speaks for channel {}: configure [storefront] \
                         or a connector with channel = \"{}\"",
                        order.channel, order.channel
                    ),
                    retry_after: Some(Duration::from_secs(300)),
                };
            }
            // The channel hears of its order in its own terms: in the state the event left it
            // in (a parcel: partially shipped or shipped), else the state it is in now.
            let state = payload["state"]
                .as_str()
                .and_then(OrderState::parse)
                .unwrap_or(order.state);
            let status = self
                .inventory
                .estate()
                .channel(&order.channel)
                .map(|c| c.orders.status_name(state).to_string());
            match payload.as_object_mut() {
                Some(fields) => drop(fields.remove("state")),
                None => payload = json!({}),
            }
            payload["status"] = json!(status);
        }
        let Some((path, body)) = follow_up_call(job.kind, &order, &payload) else {
            return JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: format!(
                    "the {} connector has no job named `{}`",
                    self.system, job.kind
                ),
            };
        };
        if let Err(result) = self.call(job.kind, &path, &body).await {
            return result;
        }
        if job.kind == JobKind::PushInvoice {
            return self.close(job, &order).await;
        }
        JobResult::Done
    }

    /// Tells a storefront of its order, closing it once the storefront has its invoice.
    async fn to_shop(
        &self,
        shop: &Storefront,
        job: &Job,
        order: &StoredOrder,
        payload: &Value,
    ) -> JobResult {
        match shop.follow_up(job.kind, order, payload).await {
            Ok(true) => self.close(job, order).await,
            Ok(false) => JobResult::Done,
            Err(result) => result,
        }
    }

    /// Closes an invoiced order once its invoice reached the channel.
    async fn close(&self, job: &Job, order: &StoredOrder) -> JobResult {
        let advance = AdvanceOrder {
            order_id: order.id.clone(),
            from: OrderState::Invoiced,
            to: OrderState::Closed,
            actor: job.kind.to_string(),
            correlation_id: job.id.to_string(),
            erp_order_id: None,
            erp_status: None,
            jobs: vec![],
            fail_job: None,
        };
        match saga::submit(&self.inventory, advance).await {
            Ok(_) => JobResult::Done,
            Err(result) => result,
        }
    }
}

impl Handler for Connector {
    async fn run(&self, job: &Job) -> JobResult {
        if crossdock_domain::saga::step(job.kind).is_some() {
            self.step(job).await
        } else {
            self.follow_up(job).await
        }
    }
}
