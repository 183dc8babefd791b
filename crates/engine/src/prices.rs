//! Prices as a use case: a price list from the system that owns pricing (`[ownership]
//! pricing`), each price read on its own and the good ones set in one commit, a price named
//! for no channel set on every channel. The storefront connectors' publishers carry each
//! `price.changed` to their channel and record what the channel acknowledged.

use std::sync::Arc;

use crossdock_domain::ledger::{Command, Outcome, SetPrice};
use crossdock_domain::money::Money;
use crossdock_domain::{ChannelCode, ErrorCode, Sku};
use crossdock_store::{PriceQuery, Store, StoredPrice};
use serde::Deserialize;

use crate::config::{Domain, Ownership};
use crate::owners::Owners;
use crate::{EngineError, Inventory};

/// Most prices in one list.
pub const MAX_PRICES: usize = 1_000;

/// One price of a list, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceIn {
    /// The SKU.
    pub sku: String,
    /// The channel; none for every channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// ISO 4217 currency.
    pub currency: String,
    /// The price of one unit, as a decimal string.
    pub amount: String,
}

/// What became of a price list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PricesSet {
    /// Prices set (one a channel: a price for every channel counts once per channel).
    pub set: usize,
    /// Prices refused, by their index in the list, with a code and what is wrong.
    pub rejected: Vec<(usize, ErrorCode, String)>,
}

/// Why a price list was not taken at all.
#[derive(Debug, thiserror::Error)]
pub enum PricesError {
    /// The list is empty or longer than [`MAX_PRICES`].
    #[error("give 1 to {MAX_PRICES} prices; {0} were given")]
    Count(usize),
    /// Another system owns pricing; the refusal was recorded.
    #[error("{0}")]
    NotOwner(String),
    /// The store failed; nothing was set.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Sets and reads prices. Cheap to clone.
#[derive(Clone)]
pub struct Prices {
    inventory: Inventory,
    owners: Owners,
}

impl Prices {
    /// Prices on `inventory`, set only by the owner of pricing in `ownership`.
    pub fn new(inventory: Inventory, ownership: Arc<Ownership>) -> Self {
        Self {
            owners: Owners::new(inventory.clone(), ownership),
            inventory,
        }
    }

    /// Sets the prices in `list` as `source` sent them: every one that reads (a SKU in the
    /// item master, a channel of the estate, a currency and a non-negative amount), each
    /// other refused by index.
    pub async fn set(&self, source: &str, list: Vec<PriceIn>) -> Result<PricesSet, PricesError> {
        if list.is_empty() || list.len() > MAX_PRICES {
            return Err(PricesError::Count(list.len()));
        }
        let write = serde_json::json!({"source": source, "prices": list.len()});
        if let Err(why) = self
            .owners
            .check(Domain::Pricing, "", source, write)
            .await?
        {
            return Err(PricesError::NotOwner(why));
        }
        let mut done = PricesSet::default();
        let (mut commands, mut indexes) = (Vec::new(), Vec::new());
        for (index, p) in list.into_iter().enumerate() {
            match self.read(source, p) {
                Ok(set) => {
                    indexes.extend(std::iter::repeat_n(index, set.len()));
                    commands.extend(set.into_iter().map(|s| Command::SetPrice(Box::new(s))));
                }
                Err((code, detail)) => done.rejected.push((index, code, detail)),
            }
        }
        let outcomes = self.inventory.submit(commands).await?;
        let mut refused_at = None;
        for (index, outcome) in indexes.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Applied => done.set += 1,
                // A price for every channel is refused once, for its SKU.
                Outcome::Rejected { .. } if refused_at == Some(index) => {}
                Outcome::Rejected { code, detail } => {
                    refused_at = Some(index);
                    done.rejected.push((index, code, detail));
                }
                other => (done.rejected).push((index, ErrorCode::Internal, format!("{other:?}"))),
            }
        }
        done.rejected.sort_by_key(|r| r.0);
        Ok(done)
    }

    /// One price as the commands that set it (one a channel), or why it does not read.
    fn read(&self, source: &str, p: PriceIn) -> Result<Vec<SetPrice>, (ErrorCode, String)> {
        let invalid = |detail: String| (ErrorCode::ValidationFailed, detail);
        let sku = Sku::parse(p.sku.as_str()).map_err(|e| invalid(format!("sku: {e}")))?;
        if !crossdock_domain::money::is_currency(&p.currency) {
            return Err((
                ErrorCode::CurrencyInvalid,
                format!(
                    "currency `{}` is not an ISO 4217 code such as USD",
                    p.currency
                ),
            ));
        }
        let amount = Money::parse(&p.amount)
            .map_err(|e| (ErrorCode::DecimalInvalid, format!("amount: {e}")))?;
        if amount.is_negative() {
            return Err((
                ErrorCode::DecimalInvalid,
                "amount: a price is not below zero".into(),
            ));
        }
        let estate = self.inventory.estate();
        let channels: Vec<ChannelCode> = match &p.channel {
            Some(c) => match estate.channel(c) {
                Some(channel) => vec![channel.code.clone()],
                None => {
                    return Err((
                        ErrorCode::ChannelUnknown,
                        format!("channel `{c}` is not in the estate"),
                    ));
                }
            },
            None => estate.channels().iter().map(|c| c.code.clone()).collect(),
        };
        Ok((channels.into_iter())
            .map(|channel| SetPrice {
                sku: sku.clone(),
                channel,
                currency: p.currency.clone(),
                amount,
                source: source.to_string(),
            })
            .collect())
    }

    /// Prices by `query`, by channel then SKU.
    pub async fn list(&self, query: PriceQuery) -> Result<Vec<StoredPrice>, EngineError> {
        Ok(self.inventory.store().prices(query).await?)
    }
}
