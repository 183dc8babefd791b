//! The canonical order, checked field by field from its wire form.
//!
//! Every problem is reported at once, each with the field's path (`lines[1].qty`), a stable
//! code and a sentence, so a channel can fix a rejected order in one go.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ErrorCode;
use crate::estate::Estate;
use crate::ids::{ChannelCode, Sku};
use crate::money::Money;

/// Most lines in one order.
pub const MAX_LINES: usize = 500;
/// Largest quantity on one line.
pub const MAX_LINE_QTY: i64 = 1_000_000;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path of the field, e.g. `lines[0].unit_price`.
    pub field: String,
    /// Stable code.
    pub code: ErrorCode,
    /// What is wrong, for a person.
    pub message: String,
}

/// Who is buying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The channel's customer id.
    pub id: String,
    /// The ERP account, for account (B2B) customers.
    pub account: Option<String>,
    /// Contact email.
    pub email: String,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The SKU.
    pub sku: Sku,
    /// Units ordered.
    pub qty: i64,
    /// Price per unit.
    pub unit_price: Money,
}

/// Where the order ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Recipient.
    pub name: String,
    /// Street line.
    pub line1: String,
    /// Second street line.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
}

/// A payment authorisation taken by the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The payment provider's authorisation reference.
    pub authorization: String,
    /// Amount authorised.
    pub amount: Money,
}

/// Tax as priced by the tax provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tax {
    /// Tax amount.
    pub amount: Money,
    /// The tax provider's reference.
    pub provider_ref: Option<String>,
}

/// A web order in crossdock's canonical shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalOrder {
    /// The selling channel.
    pub channel: ChannelCode,
    /// The channel's order id; with the channel, the natural key.
    pub external_id: String,
    /// Business unit, which decides the ERP the order goes to.
    pub business_unit: Option<String>,
    /// The buyer.
    pub customer: Customer,
    /// ISO 4217 currency.
    pub currency: String,
    /// Lines, in the channel's order.
    pub lines: Vec<OrderLine>,
    /// Shipping address.
    pub ship_to: Address,
    /// Payment authorisation.
    pub payment: Option<Payment>,
    /// Tax.
    pub tax: Option<Tax>,
}

impl CanonicalOrder {
    /// Sum of qty × unit price over the lines.
    pub fn merchandise_total(&self) -> Option<Money> {
        self.lines
            .iter()
            .try_fold(Money::ZERO, |sum, l| sum.plus(l.unit_price.times(l.qty)?))
    }
}

/// Collects field errors while reading a JSON object.
pub(crate) struct Reader {
    pub(crate) errors: Vec<FieldError>,
}

impl Reader {
    pub(crate) fn fail(&mut self, field: &str, code: ErrorCode, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_string(),
            code,
            message: message.into(),
        });
    }

    /// A string field: required unless `optional`, trimmed non-empty, at most `max` chars.
    pub(crate) fn text(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        key: &str,
        max: usize,
        optional: bool,
        code: ErrorCode,
    ) -> Option<String> {
        let field = join(path, key);
        match obj.get(key) {
            None | Some(Value::Null) if optional => None,
            None | Some(Value::Null) => {
                self.fail(&field, code, format!("{field} is required"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.fail(&field, code, format!("{field} must not be blank"));
                None
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                self.fail(
                    &field,
                    code,
                    format!("{field} must be at most {max} characters"),
                );
                None
            }
            Some(Value::String(s)) if s.chars().any(char::is_control) => {
                self.fail(
                    &field,
                    code,
                    format!("{field} must not contain control characters"),
                );
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(&field, code, format!("{field} must be a string"));
                None
            }
        }
    }

    pub(crate) fn money(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<Money> {
        let field = join(path, key);
        let text = self.text(obj, path, key, 32, false, ErrorCode::DecimalInvalid)?;
        match Money::parse(&text) {
            Ok(m) if m.is_negative() => {
                self.fail(
                    &field,
                    ErrorCode::DecimalInvalid,
                    format!("{field} must not be negative"),
                );
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                self.fail(&field, ErrorCode::DecimalInvalid, e.to_string());
                None
            }
        }
    }

    pub(crate) fn object<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        path: &str,
        key: &str,
        optional: bool,
    ) -> Option<&'v Map<String, Value>> {
        let field = join(path, key);
        match obj.get(key) {
            None | Some(Value::Null) if optional => None,
            Some(Value::Object(o)) => Some(o),
            _ => {
                self.fail(
                    &field,
                    ErrorCode::ValidationFailed,
                    format!("{field} must be an object"),
                );
                None
            }
        }
    }

    pub(crate) fn unknown_keys(&mut self, obj: &Map<String, Value>, path: &str, allowed: &[&str]) {
        for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
            let field = join(path, key);
            self.fail(
                &field,
                ErrorCode::ValidationFailed,
                format!("{field} is not a known field"),
            );
        }
    }
}

impl Reader {
    /// `path.sku`: required, a valid SKU.
    pub(crate) fn sku(&mut self, obj: &Map<String, Value>, path: &str) -> Option<Sku> {
        self.text(obj, path, "sku", 64, false, ErrorCode::SkuUnknown)
            .and_then(|s| match Sku::parse(&s) {
                Ok(sku) => Some(sku),
                Err(e) => {
                    self.fail(
                        &format!("{path}.sku"),
                        ErrorCode::ValidationFailed,
                        format!("{path}.sku: {e}"),
                    );
                    None
                }
            })
    }

    /// `path.qty`: a whole number from 1 to [`MAX_LINE_QTY`].
    pub(crate) fn qty(&mut self, obj: &Map<String, Value>, path: &str) -> Option<i64> {
        match obj.get("qty").and_then(crate::wire::whole) {
            Some(q) if (1..=MAX_LINE_QTY).contains(&q) => Some(q),
            _ => {
                self.fail(
                    &format!("{path}.qty"),
                    ErrorCode::QtyInvalid,
                    format!("{path}.qty must be a whole number from 1 to {MAX_LINE_QTY}"),
                );
                None
            }
        }
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn upper_letters(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Checks a wire order against the estate (channel known). SKUs are checked against the item
/// master when the order is placed.
pub fn parse_order(raw: &Value, estate: &Estate) -> Result<CanonicalOrder, Vec<FieldError>> {
    let mut r = Reader { errors: Vec::new() };
    let Some(obj) = raw.as_object() else {
        r.fail(
            "",
            ErrorCode::ValidationFailed,
            "the order must be a JSON object",
        );
        return Err(r.errors);
    };
    r.unknown_keys(
        obj,
        "",
        &[
            "channel",
            "external_id",
            "business_unit",
            "customer",
            "currency",
            "lines",
            "ship_to",
            "payment",
            "tax",
        ],
    );
    let channel = r
        .text(obj, "", "channel", 32, false, ErrorCode::ValidationFailed)
        .and_then(|c| {
            match ChannelCode::parse(&c)
                .ok()
                .filter(|code| estate.channel(code.as_str()).is_some())
            {
                Some(code) => Some(code),
                None => {
                    r.fail(
                        "channel",
                        ErrorCode::ChannelUnknown,
                        format!("channel `{c}` is not configured"),
                    );
                    None
                }
            }
        });
    let external_id = r.text(
        obj,
        "",
        "external_id",
        128,
        false,
        ErrorCode::ValidationFailed,
    );
    let business_unit = r.text(
        obj,
        "",
        "business_unit",
        64,
        true,
        ErrorCode::ValidationFailed,
    );
    let currency = r.text(obj, "", "currency", 3, false, ErrorCode::CurrencyInvalid);
    if let Some(c) = &currency
        && !crate::money::is_currency(c)
    {
        r.fail(
            "currency",
            ErrorCode::CurrencyInvalid,
            format!("currency `{c}` is not an ISO 4217 code such as USD"),
        );
    }
    let customer = r.object(obj, "", "customer", false).map(|c| {
        r.unknown_keys(c, "customer", &["id", "account", "email"]);
        let id = r.text(c, "customer", "id", 128, false, ErrorCode::ValidationFailed);
        let account = r.text(
            c,
            "customer",
            "account",
            64,
            true,
            ErrorCode::ValidationFailed,
        );
        let email = r.text(
            c,
            "customer",
            "email",
            254,
            false,
            ErrorCode::ValidationFailed,
        );
        if let Some(e) = &email
            && !(e.contains('@') && !e.starts_with('@') && !e.ends_with('@'))
        {
            r.fail(
                "customer.email",
                ErrorCode::ValidationFailed,
                "customer.email is not an email address",
            );
        }
        (id, account, email)
    });
    let ship_to = r.object(obj, "", "ship_to", false).map(|a| {
        let p = "ship_to";
        r.unknown_keys(
            a,
            p,
            &[
                "name",
                "line1",
                "line2",
                "city",
                "region",
                "postal_code",
                "country",
            ],
        );
        let code = ErrorCode::AddressInvalid;
        let name = r.text(a, p, "name", 128, false, code);
        let line1 = r.text(a, p, "line1", 128, false, code);
        let line2 = r.text(a, p, "line2", 128, true, code);
        let city = r.text(a, p, "city", 64, false, code);
        let region = r.text(a, p, "region", 64, true, code);
        let postal_code = r.text(a, p, "postal_code", 16, false, code);
        let country = r.text(a, p, "country", 2, false, code);
        if let Some(c) = &country
            && !upper_letters(c, 2)
        {
            r.fail(
                "ship_to.country",
                code,
                format!("country `{c}` is not an ISO 3166-1 alpha-2 code such as US"),
            );
        }
        (name, line1, line2, city, region, postal_code, country)
    });
    let lines = match obj.get("lines") {
        Some(Value::Array(items)) if items.is_empty() => {
            r.fail(
                "lines",
                ErrorCode::ValidationFailed,
                "an order needs at least one line",
            );
            None
        }
        Some(Value::Array(items)) if items.len() > MAX_LINES => {
            r.fail(
                "lines",
                ErrorCode::ValidationFailed,
                format!("at most {MAX_LINES} lines per order"),
            );
            None
        }
        Some(Value::Array(items)) => {
            let mut lines = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let p = format!("lines[{i}]");
                let Some(l) = item.as_object() else {
                    r.fail(
                        &p,
                        ErrorCode::ValidationFailed,
                        format!("{p} must be an object"),
                    );
                    continue;
                };
                r.unknown_keys(l, &p, &["sku", "qty", "unit_price"]);
                let sku = r.sku(l, &p);
                let qty = r.qty(l, &p);
                let unit_price = r.money(l, &p, "unit_price");
                if let (Some(sku), Some(qty), Some(unit_price)) = (sku, qty, unit_price) {
                    lines.push(OrderLine {
                        sku,
                        qty,
                        unit_price,
                    });
                }
            }
            Some(lines)
        }
        _ => {
            r.fail(
                "lines",
                ErrorCode::ValidationFailed,
                "lines is required: a list of {sku, qty, unit_price}",
            );
            None
        }
    };
    let payment = r.object(obj, "", "payment", true).map(|p| {
        r.unknown_keys(p, "payment", &["authorization", "amount"]);
        (
            r.text(
                p,
                "payment",
                "authorization",
                128,
                false,
                ErrorCode::ValidationFailed,
            ),
            r.money(p, "payment", "amount"),
        )
    });
    let tax = r.object(obj, "", "tax", true).map(|t| {
        r.unknown_keys(t, "tax", &["amount", "provider_ref"]);
        (
            r.money(t, "tax", "amount"),
            r.text(
                t,
                "tax",
                "provider_ref",
                128,
                true,
                ErrorCode::ValidationFailed,
            ),
        )
    });
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    // No errors were recorded, so every required part is present.
    let (Some(channel), Some(external_id), Some(currency), Some(lines)) =
        (channel, external_id, currency, lines)
    else {
        return Err(vec![FieldError {
            field: String::new(),
            code: ErrorCode::ValidationFailed,
            message: "incomplete order".into(),
        }]);
    };
    let Some((Some(id), account, Some(email))) = customer else {
        return Err(vec![FieldError {
            field: "customer".into(),
            code: ErrorCode::ValidationFailed,
            message: "customer is required".into(),
        }]);
    };
    let Some((
        Some(name),
        Some(line1),
        line2,
        Some(city),
        region,
        Some(postal_code),
        Some(country),
    )) = ship_to
    else {
        return Err(vec![FieldError {
            field: "ship_to".into(),
            code: ErrorCode::AddressInvalid,
            message: "ship_to is required".into(),
        }]);
    };
    let payment = match payment {
        Some((Some(authorization), Some(amount))) => Some(Payment {
            authorization,
            amount,
        }),
        _ => None,
    };
    let tax = match tax {
        Some((Some(amount), provider_ref)) => Some(Tax {
            amount,
            provider_ref,
        }),
        _ => None,
    };
    Ok(CanonicalOrder {
        channel,
        external_id,
        business_unit,
        customer: Customer { id, account, email },
        currency,
        lines,
        ship_to: Address {
            name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
        },
        payment,
        tax,
    })
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
