//! Prices out to Adobe Commerce: each SKU's base price on the default scope
//! (`POST /V1/products/base-prices`, `store_id` 0), up to [`PER_CALL`] a call. The store
//! answers the items it refused (a SKU it does not have, a price it will not take), each
//! with a message whose `parameters` name the SKU; every other price was taken. Adobe
//! Commerce keeps a base price in the store's base currency: the amount is set as given,
//! not converted.

use std::sync::Arc;
use std::time::Duration;

use crossdock_engine::runner::JobResult;
use crossdock_store::PushOutcome;
use serde_json::{Value, json};

use super::{AdobeCommerce, fill};
use crate::packs::price_out::{PriceList, PriceTarget};
use crate::packs::publish::Pace;

/// Prices a call sets at most.
pub const PER_CALL: usize = 500;

/// A store's base prices.
pub struct AdobePrices {
    client: Arc<AdobeCommerce>,
}

impl AdobePrices {
    /// Base prices of `client`'s store.
    pub fn new(client: Arc<AdobeCommerce>) -> Self {
        Self { client }
    }
}

impl AdobeCommerce {
    /// Sets base prices on the default scope; the items the store refused, as it answered.
    pub async fn set_base_prices(&self, prices: &[(&str, &str)]) -> Result<Vec<Value>, JobResult> {
        let body = base_prices(prices);
        let answer = self.remote.post("/V1/products/base-prices", &body).await?;
        Ok(answer.as_array().cloned().unwrap_or_default())
    }
}

/// The body of `POST /V1/products/base-prices`.
fn base_prices(prices: &[(&str, &str)]) -> Value {
    let items: Vec<Value> = (prices.iter())
        .map(|(sku, amount)| {
            // Adobe Commerce takes a JSON number; the decimal string reads exactly as one.
            let price: Value = serde_json::from_str(amount).unwrap_or(Value::Null);
            json!({"price": price, "store_id": 0, "sku": sku})
        })
        .collect();
    json!({"prices": items})
}

/// Each SKU of `sent` and what the store said: refused with its message when an answered
/// item's parameters name it, else taken.
fn outcomes(sent: &[(&str, &str)], refused: &[Value]) -> Vec<(String, PushOutcome)> {
    (sent.iter())
        .map(|(sku, _)| {
            let names = |item: &&Value| match &item["parameters"] {
                Value::Array(list) => list.iter().any(|v| v == *sku),
                Value::Object(named) => named.values().any(|v| v == *sku),
                _ => false,
            };
            let outcome = match refused.iter().find(names) {
                Some(item) => {
                    let message = item["message"].as_str().unwrap_or("refused");
                    PushOutcome::Refused(fill(message, &item["parameters"]))
                }
                None => PushOutcome::Acknowledged,
            };
            (sku.to_string(), outcome)
        })
        .collect()
}

impl PriceTarget for AdobePrices {
    async fn set(
        &mut self,
        pace: &Pace,
        prices: &PriceList,
    ) -> Result<Vec<(String, PushOutcome)>, Option<Duration>> {
        let sent: Vec<(&str, &str)> = (prices.iter())
            .map(|(sku, price)| (sku.as_str(), price.amount.as_str()))
            .collect();
        let mut answers = Vec::new();
        for chunk in sent.chunks(PER_CALL) {
            match pace.attempt(self.client.set_base_prices(chunk)).await {
                Ok(refused) => answers.extend(outcomes(chunk, &refused)),
                Err(JobResult::Permanent { error, .. }) => answers.extend(
                    (chunk.iter())
                        .map(|(sku, _)| (sku.to_string(), PushOutcome::Refused(error.clone()))),
                ),
                Err(other) => return Err(pace.wait(other)),
            }
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_go_as_numbers_on_the_default_scope() {
        let body = base_prices(&[("24-MB01", "34.00"), ("24-MB04", "32.5")]);
        assert_eq!(
            body,
            json!({"prices": [{"price": 34.0, "store_id": 0, "sku": "24-MB01"},
                              {"price": 32.5, "store_id": 0, "sku": "24-MB04"}]})
        );
    }

    #[test]
    fn an_answered_item_refuses_the_sku_its_parameters_name() {
        let sent = [("24-MB01", "34.00"), ("NOPE", "1.00")];
        let refused = [json!({
            "message": "Requested product doesn't exist. SKU: %sku.",
            "parameters": {"sku": "NOPE"}
        })];
        assert_eq!(
            outcomes(&sent, &refused),
            vec![
                ("24-MB01".to_string(), PushOutcome::Acknowledged),
                (
                    "NOPE".to_string(),
                    PushOutcome::Refused("Requested product doesn't exist. SKU: NOPE.".into())
                ),
            ]
        );
    }

    proptest::proptest! {
        /// No answer makes reading what Adobe Commerce refused panic.
        #[test]
        fn no_answer_panics_the_reading(answer in crate::packs::tests::arb_json()) {
            let refused = answer.as_array().cloned().unwrap_or_else(|| vec![answer]);
            proptest::prop_assert_eq!(outcomes(&[("A", "1.00")], &refused).len(), 1);
        }
    }
}
