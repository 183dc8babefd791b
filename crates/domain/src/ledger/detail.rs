//! What a batch knows of an order beyond its state ([`OrderDetail`]): its lines, payment and
//! tax, what has shipped, been captured and invoiced, and its returns; loaded from the stored
//! order and kept up to date as the batch moves it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::ids::Sku;
use crate::money::Money;
use crate::time::Timestamp;

/// What a batch knows of an order beyond its state: its lines, its payment, and what has
/// shipped and been captured so far. Loaded from the stored order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderDetail {
    /// The channel it came from.
    pub channel: String,
    /// Lines: SKU, units ordered, unit price.
    pub lines: Vec<(Sku, i64, Money)>,
    /// The payment authorisation and its amount, when the channel took one.
    pub payment: Option<(String, Money)>,
    /// Units shipped so far per SKU.
    pub shipped: BTreeMap<Sku, i64>,
    /// Amount captured (or queued for capture) so far.
    pub captured: Money,
    /// When the last shipment left.
    pub last_shipped_at: Option<Timestamp>,
    /// Lines of the order's returns (RMAs).
    pub returns: Vec<ReturnLine>,
    /// The ERP's id for its sales order, once the ERP has one.
    pub erp_order_id: Option<String>,
    /// Total of the invoices recorded so far.
    pub invoiced: Money,
    /// The order's currency (ISO 4217).
    pub currency: String,
    /// The tax on the order, when the channel priced it (else the ERP does).
    pub tax: Option<Money>,
    /// The invoices recorded so far.
    pub invoices: Vec<InvoiceSeen>,
    /// The per-line routing and its reason, loaded only while lines wait for stock.
    pub routing: Option<Routing>,
    /// How many releases its lines go to the warehouse in (more than one once stock for
    /// waiting lines came after the first).
    pub parts: u32,
    /// The customer buys on account.
    pub account: bool,
}

/// An order's per-line routing as stored, and why it was routed so.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// One plan per line.
    pub plans: Vec<super::LinePlan>,
    /// The reason given.
    pub reason: String,
}

impl Routing {
    /// The lines that wait for stock.
    pub fn waiting(&self) -> impl Iterator<Item = &super::LinePlan> {
        self.plans.iter().filter(|l| l.reservation_id.is_none())
    }
}

/// An invoice recorded against an order, as a repeat is compared with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceSeen {
    /// The ERP's invoice number.
    pub invoice_id: String,
    /// Its amount.
    pub amount: Money,
    /// Its currency.
    pub currency: String,
}

/// One line of a return authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReturnLine {
    /// The RMA.
    pub rma_id: String,
    /// The SKU.
    pub sku: Sku,
    /// Units authorised.
    pub qty: i64,
    /// Units received back so far.
    pub received: i64,
}

impl OrderDetail {
    /// Reads the stored canonical order (`channel`, `lines[].sku/qty/unit_price`,
    /// `payment`), with nothing shipped yet. Returns `None` when the body is not one
    /// crossdock wrote.
    pub fn from_body(body: &Value) -> Option<Self> {
        let mut lines = Vec::new();
        for l in body.get("lines")?.as_array()? {
            let sku = Sku::parse(l.get("sku")?.as_str()?).ok()?;
            let qty = l.get("qty")?.as_i64()?;
            let price = Money::parse(l.get("unit_price")?.as_str()?).ok()?;
            lines.push((sku, qty, price));
        }
        let payment = match body.get("payment") {
            Some(p) if !p.is_null() => Some((
                p.get("authorization")?.as_str()?.to_string(),
                Money::parse(p.get("amount")?.as_str()?).ok()?,
            )),
            _ => None,
        };
        let tax = match body.get("tax").and_then(|t| t.get("amount")) {
            Some(a) if !a.is_null() => Some(Money::parse(a.as_str()?).ok()?),
            _ => None,
        };
        Some(Self {
            channel: body.get("channel")?.as_str()?.to_string(),
            currency: body.get("currency")?.as_str()?.to_string(),
            tax,
            lines,
            payment,
            parts: 1,
            account: body
                .get("customer")
                .and_then(|c| c.get("account"))
                .is_some_and(|a| !a.is_null()),
            ..Self::default()
        })
    }

    /// Units of `sku` ordered over every line.
    pub(super) fn ordered(&self, sku: &Sku) -> i64 {
        self.lines
            .iter()
            .filter(|(s, ..)| s == sku)
            .map(|(_, q, _)| q)
            .sum()
    }

    /// Units of `sku` shipped and not yet under a return.
    pub(super) fn returnable(&self, sku: &Sku) -> i64 {
        let returning: i64 = self
            .returns
            .iter()
            .filter(|r| &r.sku == sku)
            .map(|r| r.qty)
            .sum();
        self.shipped.get(sku).copied().unwrap_or(0) - returning
    }

    /// True when every unit shipped has come back.
    pub(super) fn all_returned(&self) -> bool {
        let shipped: i64 = self.shipped.values().sum();
        let received: i64 = self.returns.iter().map(|r| r.received).sum();
        shipped > 0 && received >= shipped
    }

    /// Units of `sku` still to ship.
    pub(super) fn left(&self, sku: &Sku) -> i64 {
        self.ordered(sku) - self.shipped.get(sku).copied().unwrap_or(0)
    }

    pub(super) fn unit_price(&self, sku: &Sku) -> Money {
        self.lines
            .iter()
            .find(|(s, ..)| s == sku)
            .map_or(Money::default(), |(_, _, p)| *p)
    }

    /// The goods' value: every line's units at its unit price.
    pub fn goods_value(&self) -> Money {
        self.lines
            .iter()
            .fold(Money::default(), |sum, (_, qty, price)| {
                price.times(*qty).and_then(|v| sum.plus(v)).unwrap_or(sum)
            })
    }

    /// What the order is worth as invoiced: the goods and the tax on them (as far as the
    /// order knows its tax).
    pub fn value(&self) -> Money {
        let goods = self.goods_value();
        self.tax.and_then(|t| goods.plus(t)).unwrap_or(goods)
    }

    /// True when the invoices recorded come to the order's value, give or take `tolerance`.
    /// An order that carries no tax leaves it to the ERP, whose tax (and freight) only add:
    /// then any total from the goods' value up matches.
    pub fn invoices_match(&self, tolerance: Money) -> bool {
        let (invoiced, value, tolerance) = (
            self.invoiced.micros(),
            self.value().micros(),
            tolerance.micros(),
        );
        invoiced >= value - tolerance && (self.tax.is_none() || invoiced <= value + tolerance)
    }

    /// True when the invoices recorded cover the goods' value (tax and freight only add).
    pub fn fully_invoiced(&self) -> bool {
        self.invoiced.micros() > 0 && self.invoiced >= self.goods_value()
    }

    /// True when every unit ordered has shipped.
    pub fn fully_shipped(&self) -> bool {
        self.lines.iter().all(|(sku, ..)| self.left(sku) <= 0)
    }
}
