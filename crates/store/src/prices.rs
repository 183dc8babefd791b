//! Prices at rest: one row per channel and SKU, holding the price the owner of pricing set,
//! what was last pushed to the channel and what the channel last acknowledged. The SQL is the
//! same on both backends; each runs it in its own way.

use crossdock_domain::Timestamp;
use serde::Serialize;

/// A price as it was pushed to a channel or acknowledged by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceSeen {
    /// ISO 4217 currency.
    pub currency: String,
    /// The amount, as a decimal string.
    pub amount: String,
    /// When.
    pub at: Timestamp,
}

/// A SKU's price on one channel, with how far it reached the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPrice {
    /// The channel.
    pub channel: String,
    /// The SKU.
    pub sku: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// The price of one unit, as a decimal string.
    pub amount: String,
    /// The system that set it.
    pub source: String,
    /// When it was last changed.
    pub set_at: Timestamp,
    /// The price last pushed to the channel.
    pub pushed: Option<PriceSeen>,
    /// The price the channel last acknowledged.
    pub acknowledged: Option<PriceSeen>,
    /// Whether the channel acknowledged this price (not only an earlier one).
    pub current: bool,
    /// Why the channel last refused it, while it does.
    pub refused: Option<String>,
}

/// Which prices to list, by channel then SKU.
#[derive(Debug, Clone, Default)]
pub struct PriceQuery {
    /// Only this channel's.
    pub channel: Option<String>,
    /// Only this SKU's.
    pub sku: Option<String>,
    /// Only those the channel has not acknowledged.
    pub pending: bool,
    /// Only prices past this channel and SKU (a page's last: the cursor to the next page).
    pub after: Option<(String, String)>,
    /// At most this many.
    pub limit: i64,
}

/// What became of a price pushed to a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The channel acknowledged it.
    Acknowledged,
    /// The channel refused it, saying why.
    Refused(String),
}

impl PushOutcome {
    /// Whether it was acknowledged, and the refusal, as stored.
    pub(crate) fn parts(&self) -> (bool, Option<&str>) {
        match self {
            PushOutcome::Acknowledged => (true, None),
            PushOutcome::Refused(why) => (false, Some(why)),
        }
    }
}

/// A price pushed to a channel, and what the channel said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePush {
    /// The SKU.
    pub sku: String,
    /// ISO 4217 currency pushed.
    pub currency: String,
    /// The amount pushed.
    pub amount: String,
    /// What the channel said.
    pub outcome: PushOutcome,
}

/// What setting a price does to the row already there: an unchanged figure keeps its
/// `set_at`, so a price list sent again does not make its prices look new.
macro_rules! on_price_conflict {
    () => {
        "ON CONFLICT (channel, sku) DO UPDATE \
         SET set_at = CASE WHEN prices.amount = excluded.amount \
         AND prices.currency = excluded.currency THEN prices.set_at ELSE excluded.set_at END, \
         currency = excluded.currency, amount = excluded.amount, source = excluded.source"
    };
}
pub(crate) use on_price_conflict;

/// Records a push. Parameters: channel, sku, currency, amount, at, acknowledged, refused.
pub(crate) const RECORD_PUSH: &str = "UPDATE prices SET pushed_currency = $3, \
     pushed_amount = $4, pushed_at = $5, \
     acked_currency = CASE WHEN $6 THEN $3 ELSE acked_currency END, \
     acked_amount = CASE WHEN $6 THEN $4 ELSE acked_amount END, \
     acked_at = CASE WHEN $6 THEN $5 ELSE acked_at END, refused = $7 \
     WHERE channel = $1 AND sku = $2";

/// Prices by [`PriceQuery`]. Parameters: channel, sku, pending, after channel, after sku,
/// limit (each filter NULL for any).
pub(crate) const LIST_PRICES: &str = "SELECT channel, sku, currency, amount, source, set_at, \
     pushed_currency, pushed_amount, pushed_at, acked_currency, acked_amount, acked_at, \
     refused FROM prices WHERE (CAST($1 AS TEXT) IS NULL OR channel = $1) \
     AND (CAST($2 AS TEXT) IS NULL OR sku = $2) \
     AND (NOT $3 OR acked_amount IS NULL OR acked_amount <> amount \
          OR acked_currency <> currency) \
     AND (CAST($4 AS TEXT) IS NULL OR channel > $4 OR (channel = $4 AND sku > $5)) \
     ORDER BY channel, sku LIMIT $6";

/// A listed row, in [`LIST_PRICES`]'s column order: the price, what was pushed, what was
/// acknowledged, the refusal.
pub(crate) type Row = (
    (String, String, String, String, String, i64),
    Seen,
    Seen,
    Option<String>,
);

/// Currency, amount and time of a push or an acknowledgement, when there was one.
pub(crate) type Seen = (Option<String>, Option<String>, Option<i64>);

/// [`Row`] as one flat tuple, as PostgreSQL reads it.
pub(crate) type FlatRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// A flat row as a [`Row`].
pub(crate) fn nest(r: FlatRow) -> Row {
    (
        (r.0, r.1, r.2, r.3, r.4, r.5),
        (r.6, r.7, r.8),
        (r.9, r.10, r.11),
        r.12,
    )
}

fn seen((currency, amount, at): Seen) -> Option<PriceSeen> {
    Some(PriceSeen {
        currency: currency?,
        amount: amount?,
        at: Timestamp(at?),
    })
}

/// A listed row as a price.
pub(crate) fn from_row(
    ((channel, sku, currency, amount, source, set_at), pushed, acked, refused): Row,
) -> StoredPrice {
    let pushed = seen(pushed);
    let acknowledged = seen(acked);
    let current =
        (acknowledged.as_ref()).is_some_and(|a| a.amount == amount && a.currency == currency);
    StoredPrice {
        channel,
        sku,
        currency,
        amount,
        source,
        set_at: Timestamp(set_at),
        pushed,
        acknowledged,
        current,
        refused,
    }
}

/// `prices` with the last of each (channel, SKU) kept, in key order: a statement that writes
/// from a list must not name a row twice, and writers then lock rows in one order.
pub(crate) fn last_per_key(prices: &[crossdock_domain::ledger::SetPrice]) -> Vec<PriceRow> {
    let mut by_key = std::collections::BTreeMap::new();
    for p in prices {
        by_key.insert(
            (p.channel.to_string(), p.sku.to_string()),
            (p.currency.clone(), p.amount.to_string(), p.source.clone()),
        );
    }
    (by_key.into_iter())
        .map(|((channel, sku), (currency, amount, source))| PriceRow {
            channel,
            sku,
            currency,
            amount,
            source,
        })
        .collect()
}

/// One `prices` row to set.
#[derive(Debug, Clone)]
pub(crate) struct PriceRow {
    pub channel: String,
    pub sku: String,
    pub currency: String,
    pub amount: String,
    pub source: String,
}
