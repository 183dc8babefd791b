//! Webhooks in: what `POST /v1/hooks/{connector}` does with a delivery, and what a
//! `take_inbound` job does when an operator retries one.
//!
//! A delivery's signature is checked first, in constant time on the raw body, by the
//! connector's pack; one that does not check out is refused (401 `SIGNATURE_INVALID`) and kept
//! with its raw body for an operator to inspect. A signed delivery is never bounced for a
//! business reason (Shopify removes a subscription that keeps failing): it is mapped by its
//! topic and taken in (an order placed, an order cancelled, a shipment booked, stock events
//! applied), and what cannot be taken in (a mapping that fails, an unknown SKU, an order that
//! is not there yet) is answered 200 and parked in the exception queue with its payload, from
//! where a retry takes it in once the cause is mended, or an edit of the payload is retried.
//! Redeliveries are taken in once: orders by their natural key, shipments and stock events by
//! their source's event id, and a parked delivery is the same job however often it comes.

mod kept;
mod take;

use std::collections::BTreeMap;
use std::sync::Arc;

use crossdock_domain::{ErrorCode, JobId, Timestamp};
use crossdock_engine::config::ConnectorConfig;
use crossdock_engine::fulfilment::Fulfilment;
use crossdock_engine::intake::Intake;
use crossdock_engine::runner::{Handler, JobResult};
use crossdock_engine::stock_events::StockEvents;
use crossdock_engine::{Config, EngineError, Inventory};
use crossdock_store::{Job, ParkedJob, Rejection, Store};
use serde_json::{Value, json};

use crate::mapping::MappingError;
use crate::packs::{Delivery, Headers, HookPack, InboundMappings};
use crate::signatures::SignatureError;
use take::Failure;

/// One connector whose webhooks come in, or whose records are pulled.
struct HookConnector {
    name: String,
    /// The pack that checks its deliveries and the signing secret, read once at start;
    /// `None` for a connector whose records are pulled, not pushed.
    signed: Option<(HookPack, String)>,
    channel: Option<String>,
    /// The business unit of its orders, where their mapping names none.
    business_unit: Option<String>,
    mappings: InboundMappings,
    /// How many refused deliveries are being kept.
    kept: kept::Kept,
}

/// Takes connectors' webhooks in. Cheap to clone.
#[derive(Clone)]
pub struct Hooks {
    inner: Arc<Inner>,
}

struct Inner {
    connectors: BTreeMap<String, HookConnector>,
    inventory: Inventory,
    intake: Intake,
    fulfilment: Fulfilment,
    stock_events: StockEvents,
    owners: crossdock_engine::owners::Owners,
}

/// Why the hooks could not be set up from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum HookSetupError {
    /// A connector's webhook secret cannot be read on this machine.
    #[error("connectors[{index}].webhook_secret: {reason}")]
    Secret {
        /// The connector's place under `[[connectors]]`.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A mapping does not load or compile.
    #[error("connector {connector} mapping {topic}: {error}")]
    Mapping {
        /// The connector.
        connector: String,
        /// The topic it maps.
        topic: String,
        /// Why.
        error: MappingError,
    },
}

/// Why a delivery was not answered 200.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// No connector of that name takes webhooks.
    #[error("no connector `{0}` takes webhooks here")]
    UnknownConnector(String),
    /// The signature did not check out; the delivery was kept for inspection.
    #[error("{0}")]
    Signature(SignatureError),
    /// The store could not take the delivery in or park it: the sender should deliver again.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// What became of a signed delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Took {
    /// An order was placed (or had been, for a redelivery).
    Order {
        /// crossdock's id for it.
        order_id: String,
        /// True when it had been taken in before.
        replayed: bool,
    },
    /// An order was cancelled (or already was).
    Cancelled {
        /// crossdock's id for it.
        order_id: String,
    },
    /// A shipment was booked (or had been).
    Shipment {
        /// The order it ships.
        order_id: String,
        /// True when it had been booked before.
        duplicate: bool,
    },
    /// Stock events were applied; seen and stale ones left alone.
    Stock {
        /// Events that changed stock.
        applied: usize,
        /// Events seen before.
        duplicates: usize,
        /// Events older than a snapshot.
        stale: usize,
    },
    /// Nothing to take in.
    Ignored(String),
    /// Could not be taken in: kept in the exception queue.
    Parked {
        /// The exception to look at.
        exception_id: String,
        /// Why, as a stable code.
        code: ErrorCode,
        /// Why, for a person.
        detail: String,
    },
}

impl Took {
    /// The answer's body: `status`, and what the status names.
    pub fn body(&self, connector: &str, delivery: &Delivery) -> Value {
        let mut body = match self {
            Took::Order { order_id, replayed } => {
                json!({"status": "taken", "order_id": order_id, "replayed": replayed})
            }
            Took::Cancelled { order_id } => json!({"status": "taken", "cancelled": order_id}),
            Took::Shipment {
                order_id,
                duplicate,
            } => json!({"status": "taken", "shipment_for": order_id, "replayed": duplicate}),
            Took::Stock {
                applied,
                duplicates,
                stale,
            } => json!({"status": "taken", "applied": applied, "duplicates": duplicates,
                        "stale": stale}),
            Took::Ignored(why) => json!({"status": "ignored", "detail": why}),
            Took::Parked {
                exception_id,
                code,
                detail,
            } => json!({"status": "parked", "exception_id": exception_id, "code": code,
                        "detail": detail}),
        };
        body["connector"] = json!(connector);
        body["topic"] = json!(delivery.topic);
        body["delivery_id"] = json!(delivery.id);
        body
    }
}

impl Hooks {
    /// The hooks of every connector whose pack takes webhooks in, with its secret read and its
    /// mappings compiled.
    pub fn new(
        config: &Config,
        inventory: Inventory,
        intake: Intake,
        fulfilment: Fulfilment,
        stock_events: StockEvents,
    ) -> Result<Self, HookSetupError> {
        let mut connectors = BTreeMap::new();
        for (index, c) in config.connectors.iter().enumerate() {
            if let Some(hc) = HookConnector::of(index, c)? {
                connectors.insert(c.name.clone(), hc);
            }
        }
        let ownership = Arc::new(config.ownership.clone());
        let owners = crossdock_engine::owners::Owners::new(inventory.clone(), ownership);
        Ok(Self {
            inner: Arc::new(Inner {
                connectors,
                owners,
                inventory,
                intake,
                fulfilment,
                stock_events,
            }),
        })
    }

    /// The connectors that take webhooks, by name.
    pub fn names(&self) -> Vec<&str> {
        (self.inner.connectors.values())
            .filter(|c| c.signed.is_some())
            .map(|c| c.name.as_str())
            .collect()
    }

    fn signed(&self, connector: &str) -> Result<(&HookConnector, HookPack, &str), HookError> {
        match self.inner.connectors.get(connector) {
            Some(
                c @ HookConnector {
                    signed: Some((pack, secret)),
                    ..
                },
            ) => Ok((c, *pack, secret)),
            _ => Err(HookError::UnknownConnector(connector.to_string())),
        }
    }

    /// The deliveries to `connector` refused for their signature, newest first.
    pub async fn rejections(
        &self,
        connector: &str,
        limit: i64,
    ) -> Result<Vec<Rejection>, HookError> {
        self.signed(connector)?;
        let store = self.inner.inventory.store();
        Ok(store
            .rejections(Some(connector.to_string()), limit)
            .await
            .map_err(EngineError::from)?)
    }

    /// Takes one delivery to `connector` in.
    pub async fn receive(
        &self,
        connector: &str,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        correlation_id: String,
    ) -> Result<(Delivery, Took), HookError> {
        let inner = &self.inner;
        let (c, pack, secret) = self.signed(connector)?;
        let now = crossdock_engine::now();
        let delivery = match pack.verify(secret, headers, body, now.0 / 1000) {
            Ok(d) => d,
            Err(e) => {
                let headers_kept: serde_json::Map<String, Value> = (pack.kept_headers().iter())
                    .filter_map(|h| headers.get(h).map(|v| (h.to_string(), json!(v))))
                    .collect();
                let (keep, passed_over) = c.kept.admit(std::time::Instant::now());
                if passed_over > 0 {
                    tracing::warn!(
                        connector = c.name,
                        passed_over,
                        "refused deliveries not kept: more than {} in {:?}",
                        kept::KEPT_PER_WINDOW,
                        kept::WINDOW
                    );
                }
                if keep {
                    let rejection = Rejection::new(
                        &c.name,
                        e.to_string(),
                        now,
                        Value::Object(headers_kept),
                        body,
                    );
                    inner
                        .inventory
                        .store()
                        .record_rejection(rejection)
                        .await
                        .map_err(EngineError::from)?;
                }
                tracing::warn!(connector = c.name, reason = %e, "webhook refused: signature");
                return Err(HookError::Signature(e));
            }
        };
        let payload = match serde_json::from_slice::<Value>(body) {
            Ok(p) => p,
            Err(e) => {
                let raw = json!({"raw": String::from_utf8_lossy(body)});
                let failure = Failure::new(
                    ErrorCode::MalformedJson,
                    format!("the body is not JSON: {e}"),
                );
                let took = self.park(c, &delivery, raw, failure, now).await?;
                return Ok((delivery, took));
            }
        };
        let took = self
            .take_or_park(c, &delivery, payload, &correlation_id)
            .await?;
        Ok((delivery, took))
    }

    /// Takes in one record pulled from `connector` (a pack that reads its system's records
    /// rather than hearing of them), as a delivery of `topic` identified by `id` would be.
    pub async fn take_pulled(
        &self,
        connector: &str,
        topic: &str,
        id: String,
        payload: Value,
        correlation_id: String,
    ) -> Result<Took, HookError> {
        let c = (self.inner.connectors.get(connector))
            .filter(|c| c.signed.is_none())
            .ok_or_else(|| HookError::UnknownConnector(connector.to_string()))?;
        let delivery = Delivery {
            id,
            topic: topic.to_string(),
        };
        Ok(self
            .take_or_park(c, &delivery, payload, &correlation_id)
            .await?)
    }

    /// Takes a delivery's payload in, or parks it with what failed.
    async fn take_or_park(
        &self,
        c: &HookConnector,
        delivery: &Delivery,
        payload: Value,
        correlation_id: &str,
    ) -> Result<Took, EngineError> {
        match self
            .take(c, &delivery.topic, payload.clone(), correlation_id)
            .await?
        {
            Ok(took) => Ok(took),
            Err(failure) => {
                let now = crossdock_engine::now();
                self.park(c, delivery, payload, failure, now).await
            }
        }
    }

    /// Keeps a payload that could not be taken in as a failed job with its exception.
    async fn park(
        &self,
        c: &HookConnector,
        delivery: &Delivery,
        payload: Value,
        failure: Failure,
        now: Timestamp,
    ) -> Result<Took, EngineError> {
        let id = JobId::with_unique(&format!(
            "in_{}_{}",
            c.name,
            crate::packs::body_digest(delivery.id.as_bytes())
        ));
        let exception_id = id.exception_id().to_string();
        let job = ParkedJob {
            id,
            kind: crossdock_domain::JobKind::TakeInbound,
            payload: json!({"connector": c.name, "topic": delivery.topic,
                            "delivery_id": delivery.id, "payload": payload}),
            code: failure.code,
            error: failure.error.clone(),
        };
        self.inner.inventory.store().park_job(job, now).await?;
        tracing::info!(connector = c.name, topic = delivery.topic, code = %failure.code,
                       exception_id, "webhook parked: {}", failure.error);
        Ok(Took::Parked {
            exception_id,
            code: failure.code,
            detail: failure.error,
        })
    }
}

impl HookConnector {
    /// The inbound side of configured connector `c` (the `index`th), if its pack takes
    /// webhooks in or pulls records.
    fn of(index: usize, c: &ConnectorConfig) -> Result<Option<Self>, HookSetupError> {
        let Some(defaults) = crate::packs::inbound_mappings(c.kind) else {
            return Ok(None);
        };
        let mappings =
            InboundMappings::compile(defaults, &c.mappings).map_err(|(topic, error)| {
                HookSetupError::Mapping {
                    connector: c.name.clone(),
                    topic,
                    error,
                }
            })?;
        let signed = match HookPack::of(c.kind) {
            Some(pack) => Some((pack, Self::secret(index, c)?)),
            None => None,
        };
        Ok(Some(Self {
            name: c.name.clone(),
            signed,
            channel: c.channel.clone(),
            business_unit: c.business_unit.clone(),
            mappings,
            kept: kept::Kept::new(std::time::Instant::now()),
        }))
    }

    /// The webhook secret of `c` (the `index`th connector), read.
    fn secret(index: usize, c: &ConnectorConfig) -> Result<String, HookSetupError> {
        c.webhook_secret
            .as_ref()
            .ok_or_else(|| HookSetupError::Secret {
                index,
                reason: "is required".into(),
            })?
            .reveal()
            .map_err(|e| HookSetupError::Secret {
                index,
                reason: e.to_string(),
            })
    }
}

/// Runs `take_inbound` jobs: a parked delivery taken in again, as it is now (its payload as
/// an operator may have edited it, the bindings, items and mappings as they are now).
impl Handler for Hooks {
    async fn run(&self, job: &Job) -> JobResult {
        let permanent = |code: ErrorCode, error: String| JobResult::Permanent { code, error };
        let Some(p) = job.payload.as_ref() else {
            return permanent(ErrorCode::Internal, "the job has no payload".into());
        };
        let (Some(name), Some(topic)) = (p["connector"].as_str(), p["topic"].as_str()) else {
            let error = "the payload names no connector and topic".to_string();
            return permanent(ErrorCode::MappingFailed, error);
        };
        let Some(c) = self.inner.connectors.get(name) else {
            let error = format!("connector {name} no longer takes webhooks here");
            return permanent(ErrorCode::MappingFailed, error);
        };
        let correlation_id = crossdock_engine::Inventory::new_correlation_id();
        match self
            .take(c, topic, p["payload"].clone(), &correlation_id)
            .await
        {
            Ok(Ok(_)) => JobResult::Done,
            Ok(Err(f)) => permanent(f.code, f.error),
            Err(e) => JobResult::Transient {
                error: e.to_string(),
                retry_after: None,
            },
        }
    }
}
