//! Prices out to Shopify: each SKU's price as its variant's `price`
//! (`productVariantsBulkUpdate`, one call per product, up to [`PER_CALL`] variants). A SKU's
//! variant and product come from the shop's answer to a lookup by SKU, kept for the life of
//! the publisher; a SKU the shop does not sell is refused without a call. A variant the
//! mutation answers with at the new price is acknowledged; a `userErrors` entry whose `field`
//! names a variant's index refuses that variant, one naming none the product's whole call.
//! Shopify keeps a variant's price in the shop's currency: the amount is set as given, not
//! converted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crossdock_domain::money::Money;
use crossdock_engine::runner::JobResult;
use crossdock_store::PushOutcome;
use serde_json::{Value, json};

use super::admin::{ShopifyAdmin, quoted};
use crate::packs::price_out::{PriceList, PriceTarget};
use crate::packs::publish::Pace;

/// Variants a call sets at most.
pub const PER_CALL: usize = 250;

/// SKUs looked up in one call.
const LOOKUP: usize = 50;

/// The variant and product of the variants with these SKUs (`$query`: `sku:A OR sku:B …`).
const VARIANT_IDS_BY_SKU: &str = "query VariantIdsBySku($query: String!, $first: Int!) { \
     productVariants(first: $first, query: $query) { nodes { id sku product { id } } } }";

const VARIANT_PRICES: &str = "mutation VariantPrices($productId: ID!, \
     $variants: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: \
     $productId, variants: $variants) { productVariants { id price } \
     userErrors { field message } } }";

/// A variant, as prices are set on it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Variant {
    id: String,
    product: String,
}

impl ShopifyAdmin {
    /// The variant of each of `skus` that the shop sells (those it does not are left out).
    async fn variants(&self, skus: &[&str]) -> Result<BTreeMap<String, Variant>, JobResult> {
        let query: Vec<String> = skus.iter().map(|s| format!("sku:{}", quoted(s))).collect();
        let variables = json!({"query": query.join(" OR "), "first": skus.len().max(1)});
        let data = self.graphql(VARIANT_IDS_BY_SKU, variables).await?;
        let mut found = BTreeMap::new();
        for v in data["productVariants"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let (Some(sku), Some(id), Some(product)) = (
                v["sku"].as_str(),
                v["id"].as_str(),
                v["product"]["id"].as_str(),
            ) {
                let variant = Variant {
                    id: id.to_string(),
                    product: product.to_string(),
                };
                found.insert(sku.to_string(), variant);
            }
        }
        Ok(found)
    }

    /// Sets the price of each (variant, amount) of `product`; the mutation's answer.
    async fn set_prices(&self, product: &str, prices: &[(&str, &str)]) -> Result<Value, JobResult> {
        let variants: Vec<Value> = (prices.iter())
            .map(|(id, amount)| json!({"id": id, "price": amount}))
            .collect();
        let variables = json!({"productId": product, "variants": variants});
        let data = self.graphql(VARIANT_PRICES, variables).await?;
        Ok(data["productVariantsBulkUpdate"].clone())
    }
}

/// What the shop said of each of `sent` ((SKU, variant, amount), in the call's order), from
/// the mutation's answer.
fn outcomes(sent: &[(&str, &str, &str)], answer: &Value) -> Vec<(String, PushOutcome)> {
    let errors: Vec<&Value> = answer["userErrors"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let at_index = |i: usize| {
        (errors.iter()).find(|e| {
            (e["field"].as_array()).is_some_and(|f| {
                f.first().is_some_and(|v| v == "variants")
                    && f.get(1)
                        .is_some_and(|n| n.as_str() == Some(&i.to_string()) || *n == i)
            })
        })
    };
    let general: Vec<&str> = (errors.iter())
        .filter(|e| (e["field"].as_array()).is_none_or(|f| f.len() <= 1))
        .filter_map(|e| e["message"].as_str())
        .collect();
    let priced: BTreeMap<&str, Option<Money>> = (answer["productVariants"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some((
                v["id"].as_str()?,
                v["price"].as_str().and_then(|p| Money::parse(p).ok()),
            ))
        })
        .collect();
    (sent.iter().enumerate())
        .map(|(i, (sku, variant, amount))| {
            let outcome = if let Some(e) = at_index(i) {
                PushOutcome::Refused(e["message"].as_str().unwrap_or("refused").to_string())
            } else if !general.is_empty() {
                PushOutcome::Refused(general.join("; "))
            } else if priced.get(variant).copied().flatten() == Money::parse(amount).ok() {
                PushOutcome::Acknowledged
            } else {
                PushOutcome::Refused("Shopify did not answer with the new price".into())
            };
            (sku.to_string(), outcome)
        })
        .collect()
}

/// A shop's variant prices.
pub struct ShopifyPrices {
    connector: String,
    admin: Arc<ShopifyAdmin>,
    /// Variants by SKU, as the shop answered; `None` for a SKU it does not sell.
    variants: BTreeMap<String, Option<Variant>>,
}

impl ShopifyPrices {
    /// Prices of `admin`'s shop, as `connector`.
    pub fn new(connector: &str, admin: Arc<ShopifyAdmin>) -> Self {
        Self {
            connector: connector.to_string(),
            admin,
            variants: BTreeMap::new(),
        }
    }

    /// Looks up the variants of the SKUs of `prices` not looked up yet.
    async fn look_up(&mut self, pace: &Pace, prices: &PriceList) -> Result<(), Option<Duration>> {
        let unknown: Vec<&str> = (prices.keys())
            .filter(|s| !self.variants.contains_key(*s))
            .map(String::as_str)
            .collect();
        for chunk in unknown.chunks(LOOKUP) {
            let found = pace.call(self.admin.variants(chunk)).await?;
            for sku in chunk {
                let variant = found.get(*sku).cloned();
                if variant.is_none() {
                    tracing::info!(
                        connector = self.connector,
                        sku,
                        "the shop does not sell this SKU; its price is not published there"
                    );
                }
                self.variants.insert(sku.to_string(), variant);
            }
        }
        Ok(())
    }
}

impl PriceTarget for ShopifyPrices {
    async fn set(
        &mut self,
        pace: &Pace,
        prices: &PriceList,
    ) -> Result<Vec<(String, PushOutcome)>, Option<Duration>> {
        self.look_up(pace, prices).await?;
        let mut answers = Vec::new();
        let mut by_product: BTreeMap<&str, Vec<(&str, &str, &str)>> = BTreeMap::new();
        for (sku, price) in prices {
            match self.variants.get(sku).and_then(Option::as_ref) {
                Some(v) => {
                    (by_product.entry(&v.product).or_default()).push((sku, &v.id, &price.amount))
                }
                None => answers.push((
                    sku.clone(),
                    PushOutcome::Refused("the shop sells no variant with this SKU".into()),
                )),
            }
        }
        for (product, variants) in by_product {
            for chunk in variants.chunks(PER_CALL) {
                let prices: Vec<(&str, &str)> = chunk.iter().map(|(_, v, a)| (*v, *a)).collect();
                match pace.attempt(self.admin.set_prices(product, &prices)).await {
                    Ok(answer) => answers.extend(outcomes(chunk, &answer)),
                    Err(JobResult::Permanent { error, .. }) => {
                        answers.extend((chunk.iter()).map(|(sku, ..)| {
                            (sku.to_string(), PushOutcome::Refused(error.clone()))
                        }))
                    }
                    Err(other) => return Err(pace.wait(other)),
                }
            }
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_is_acknowledged_at_its_new_price_or_refused_by_its_index() {
        let sent = [
            ("IPOD2008PINK", "gid://shopify/ProductVariant/1", "199.00"),
            ("IPOD2008BLACK", "gid://shopify/ProductVariant/2", "-1.00"),
            ("IPOD2008GREEN", "gid://shopify/ProductVariant/3", "205.5"),
        ];
        let answer = json!({
            "productVariants": [
                {"id": "gid://shopify/ProductVariant/1", "price": "199.00"},
                {"id": "gid://shopify/ProductVariant/3", "price": "200.00"}
            ],
            "userErrors": [{"field": ["variants", "1", "price"], "message": "Price must be greater than or equal to 0"}]
        });
        let said = outcomes(&sent, &answer);
        assert_eq!(said[0].1, PushOutcome::Acknowledged);
        assert_eq!(
            said[1].1,
            PushOutcome::Refused("Price must be greater than or equal to 0".into())
        );
        assert!(
            matches!(said[2].1, PushOutcome::Refused(_)),
            "answered at another price"
        );
    }

    #[test]
    fn an_error_naming_no_variant_refuses_the_whole_call() {
        let sent = [("A", "gid://shopify/ProductVariant/1", "1.00")];
        let answer = json!({"productVariants": null,
                            "userErrors": [{"field": ["productId"], "message": "Product does not exist"}]});
        assert_eq!(
            outcomes(&sent, &answer)[0].1,
            PushOutcome::Refused("Product does not exist".into())
        );
    }

    proptest::proptest! {
        /// No answer makes reading what Shopify said of a price call panic.
        #[test]
        fn no_answer_panics_the_reading(answer in crate::packs::tests::arb_json()) {
            let sent = [("A", "gid://shopify/ProductVariant/1", "1.00")];
            let said = outcomes(&sent, &answer);
            proptest::prop_assert_eq!(said.len(), 1);
        }
    }
}
