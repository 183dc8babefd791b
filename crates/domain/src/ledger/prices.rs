//! Prices from the system that owns pricing: one price a SKU per channel and currency's
//! list, kept beside the stock it sells, and appended as `price.changed` for each
//! storefront's publisher to carry to its channel.

use serde_json::json;

use super::{Ledger, NewEvent, Outcome, json_text};
use crate::error::ErrorCode;
use crate::ids::{ChannelCode, Sku};
use crate::money::Money;

/// A SKU's price on one channel, as the owner of pricing set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPrice {
    /// The SKU.
    pub sku: Sku,
    /// The channel it sells at this price on.
    pub channel: ChannelCode,
    /// ISO 4217 currency.
    pub currency: String,
    /// The price of one unit.
    pub amount: Money,
    /// The system that set it.
    pub source: String,
}

impl Ledger<'_> {
    pub(super) fn set_price(&mut self, p: &SetPrice) -> Outcome {
        if !self.states.contains_key(&p.sku) {
            return Outcome::Rejected {
                code: ErrorCode::SkuUnknown,
                detail: format!("SKU `{}` is not in the item master; add it first", p.sku),
            };
        }
        if self.estate.channel(p.channel.as_str()).is_none() {
            return Outcome::Rejected {
                code: ErrorCode::ChannelUnknown,
                detail: format!("channel `{}` is not in the estate", p.channel),
            };
        }
        self.writes.prices.push(p.clone());
        self.writes.events.push(NewEvent {
            kind: "price.changed",
            sku: Some(p.sku.clone()),
            data: json_text(&json!({
                "sku": p.sku, "channel": p.channel, "currency": p.currency,
                "amount": p.amount.to_string(), "source": p.source,
            })),
        });
        Outcome::Applied
    }
}
