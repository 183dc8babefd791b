//! Taking a delivery's payload in: mapped by its topic, then placed, cancelled, booked or
//! applied through the use case it asks for; what fails is said as the exception it becomes.

use crossdock_domain::ErrorCode;
use crossdock_domain::order_state::OrderState;
use crossdock_engine::EngineError;
use crossdock_engine::config::Domain;
use crossdock_engine::fulfilment::{Booked, FulfilmentError};
use crossdock_engine::intake::{CancelError, IntakeError};
use crossdock_store::OrderFilter;
use serde_json::Value;

use super::{HookConnector, Hooks, Took};
use crate::packs::{Inbound, envelope};

/// Why a payload could not be taken in: what its exception says.
pub(super) struct Failure {
    pub(super) code: ErrorCode,
    pub(super) error: String,
}

impl Failure {
    pub(super) fn new(code: ErrorCode, error: impl Into<String>) -> Self {
        Self {
            code,
            error: error.into(),
        }
    }
}

/// The domain an inbound write touches, with its scope (a channel) and what identifies it,
/// for `[ownership]`; stock events are checked one by one where they are recorded.
fn owned(inbound: &Inbound, channel: Option<&str>) -> Option<(Domain, String, Value)> {
    match inbound {
        Inbound::Order(order) => {
            let on = order["channel"].as_str().or(channel).unwrap_or_default();
            let write = serde_json::json!({"external_id": order["external_id"]});
            Some((Domain::Orders, on.to_string(), write))
        }
        Inbound::Cancel {
            channel: named,
            external_id,
            ..
        } => {
            let on = named.as_deref().or(channel).unwrap_or_default();
            let write = serde_json::json!({"cancel": external_id});
            Some((Domain::Orders, on.to_string(), write))
        }
        Inbound::Shipment(s) => {
            let write = serde_json::json!({"order_id": s["order_id"],
                                           "source_event_id": s["source_event_id"]});
            Some((Domain::Shipments, String::new(), write))
        }
        Inbound::StockEvents(_) | Inbound::Ignore(_) => None,
    }
}

/// What taking a payload in came to: taken, failed (to park), or the store was not there.
pub(super) type Taking = Result<Result<Took, Failure>, EngineError>;

impl Hooks {
    /// Maps a payload by its topic and takes in what the mapping gives.
    pub(super) async fn take(
        &self,
        c: &HookConnector,
        topic: &str,
        payload: Value,
        correlation_id: &str,
    ) -> Taking {
        let Some(mapping) = c.mappings.for_topic(topic) else {
            return Ok(Ok(Took::Ignored(format!(
                "connector {} has no mapping for {topic}",
                c.name
            ))));
        };
        let input = envelope(&c.name, c.channel.as_deref(), topic, payload);
        let inbound = match mapping.run(&input).map(Inbound::read) {
            Ok(Ok(Inbound::Order(mut order))) => {
                if let (Some(unit), Some(o)) = (&c.business_unit, order.as_object_mut())
                    && o.get("business_unit").is_none_or(Value::is_null)
                {
                    o.insert("business_unit".into(), Value::String(unit.clone()));
                }
                Inbound::Order(order)
            }
            Ok(Ok(inbound)) => inbound,
            Ok(Err(why)) => {
                let error = format!("{mapping:?} gave what crossdock cannot take in: {why}");
                return Ok(Err(Failure::new(ErrorCode::MappingFailed, error)));
            }
            Err(e) => return Ok(Err(Failure::new(ErrorCode::MappingFailed, e.to_string()))),
        };
        let inner = &self.inner;
        let corr = correlation_id.to_string();
        if let Some((domain, scope, write)) = owned(&inbound, c.channel.as_deref()) {
            let checked = inner.owners.check(domain, &scope, &c.name, write).await?;
            if let Err(why) = checked {
                return Ok(Err(Failure::new(ErrorCode::OwnershipViolation, why)));
            }
        }
        match inbound {
            Inbound::Ignore(why) => Ok(Ok(Took::Ignored(why))),
            Inbound::Order(order) => match inner.intake.place(&order, None, corr).await {
                Ok(t) => Ok(Ok(Took::Order {
                    order_id: t.order_id.to_string(),
                    replayed: t.replayed,
                })),
                // The channel's order is in already; this delivery says it again differently.
                Err(IntakeError::KeyReused { order_id, .. }) => Ok(Ok(Took::Order {
                    order_id: order_id.to_string(),
                    replayed: true,
                })),
                Err(IntakeError::Invalid(errors)) => Ok(Err(fields_failed(&errors))),
                Err(IntakeError::CreditHold(detail)) => {
                    Ok(Err(Failure::new(ErrorCode::CustomerOnCreditHold, detail)))
                }
                Err(IntakeError::Engine(e)) => Err(e),
                Err(IntakeError::Unexpected(e)) => Ok(Err(Failure::new(ErrorCode::Internal, e))),
            },
            Inbound::Cancel {
                channel,
                external_id,
                reason,
            } => {
                let Some(channel) = channel.or_else(|| c.channel.clone()) else {
                    let error = "the mapping named no channel to cancel the order on";
                    return Ok(Err(Failure::new(ErrorCode::MappingFailed, error)));
                };
                self.cancel(c, &channel, &external_id, reason, corr).await
            }
            Inbound::Shipment(shipment) => {
                match inner.fulfilment.record_shipment(&shipment, corr).await {
                    Ok(r) => Ok(Ok(Took::Shipment {
                        order_id: r.order_id.to_string(),
                        duplicate: matches!(r.booked, Booked::Duplicate { .. }),
                    })),
                    Err(FulfilmentError::Invalid(errors)) => Ok(Err(fields_failed(&errors))),
                    Err(FulfilmentError::Refused { code, detail }) => {
                        Ok(Err(Failure::new(code, detail)))
                    }
                    Err(FulfilmentError::Engine(e)) => Err(e),
                    Err(FulfilmentError::Unexpected(e)) => {
                        Ok(Err(Failure::new(ErrorCode::Internal, e)))
                    }
                }
            }
            Inbound::StockEvents(events) => {
                let r = inner
                    .stock_events
                    .record_from(events, Some(&c.name))
                    .await?;
                match r.rejected.first() {
                    None => Ok(Ok(Took::Stock {
                        applied: r.applied,
                        duplicates: r.duplicates,
                        stale: r.stale,
                    })),
                    Some((_, code, _)) => {
                        let each: Vec<String> = (r.rejected.iter())
                            .map(|(i, code, detail)| format!("events[{i}]: {code}: {detail}"))
                            .collect();
                        let error = format!(
                            "{} of the events were refused ({} applied; a retry applies the \
                             rest once): {}",
                            r.rejected.len(),
                            r.applied,
                            each.join("; ")
                        );
                        Ok(Err(Failure::new(*code, error)))
                    }
                }
            }
        }
    }

    /// Cancels the channel's order `external_id`, as its storefront's own cancellation (the
    /// storefront is not told back); an order already cancelled stays so.
    async fn cancel(
        &self,
        c: &HookConnector,
        channel: &str,
        external_id: &str,
        reason: Option<String>,
        correlation_id: String,
    ) -> Taking {
        let filter = OrderFilter {
            channel: Some(channel.to_string()),
            external_id: Some(external_id.to_string()),
            limit: 1,
            ..Default::default()
        };
        let found = self.inner.inventory.orders(filter).await?;
        let Some(order) = found.into_iter().next() else {
            if c.signed.is_none() {
                // Pulled: the order was cancelled before crossdock ever read it.
                return Ok(Ok(Took::Ignored(format!(
                    "order {external_id} was cancelled in {} before it was taken in",
                    c.name
                ))));
            }
            let error = format!(
                "no order {external_id} on channel {channel} to cancel (yet): retry once the \
                 order is in"
            );
            return Ok(Err(Failure::new(ErrorCode::OrderNotFound, error)));
        };
        let order_id = order.id.to_string();
        if order.state == OrderState::Cancelled {
            return Ok(Ok(Took::Cancelled { order_id }));
        }
        let actor = match reason {
            Some(why) => format!("{} ({why})", c.name),
            None => c.name.clone(),
        };
        match self
            .inner
            .intake
            .cancel_from(&order_id, Some("storefront"), actor, correlation_id)
            .await
        {
            Ok(()) => Ok(Ok(Took::Cancelled { order_id })),
            Err(CancelError::Refused { code, detail }) => Ok(Err(Failure::new(code, detail))),
            Err(CancelError::Engine(e)) => Err(e),
            Err(CancelError::Unexpected(e)) => Ok(Err(Failure::new(ErrorCode::Internal, e))),
        }
    }
}

/// The failure of a payload whose fields did not read: the one field's code, or
/// `VALIDATION_FAILED`, naming each.
fn fields_failed(errors: &[crossdock_domain::order::FieldError]) -> Failure {
    let code = match errors {
        [one] => one.code,
        _ => ErrorCode::ValidationFailed,
    };
    let each: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    Failure::new(code, each.join("; "))
}
