//! Out to Shopify, through the GraphQL Admin API (`{url}/admin/api/{api_version}/graphql.json`,
//! authenticated by the connector's `auth`, Shopify's `X-Shopify-Access-Token` header): a
//! shipment's tracking as a fulfillment of the order's open fulfillment-order lines
//! (`fulfillmentCreate`). A retry after an unknown outcome looks first: a fulfillment already
//! carrying the shipment's tracking number is the one it made. A cancellation made elsewhere
//! than in Shopify as `orderCancel`, unless the order is cancelled there already. Throttling (`THROTTLED`) waits
//! as long as the bucket needs to refill for the call; `userErrors` become the exception's
//! message.

use std::collections::BTreeMap;
use std::time::Duration;

use crossdock_domain::{ErrorCode, JobKind};
use crossdock_engine::config::ConnectorConfig;
use crossdock_engine::runner::JobResult;
use crossdock_store::StoredOrder;
use serde_json::{Value, json};

use crate::remote::Remote;
use crate::tls::ClientError;

/// The order's fulfillment orders (their open lines, by SKU) and its fulfillments' tracking.
const FULFILLMENT_ORDERS: &str = "query FulfillmentOrders($id: ID!) { order(id: $id) { \
     fulfillments(first: 50) { trackingInfo(first: 5) { number } } \
     fulfillmentOrders(first: 20) { nodes { id status lineItems(first: 100) { nodes { id \
     remainingQuantity lineItem { sku } } } } } } }";

const FULFILLMENT_CREATE: &str = "mutation FulfillmentCreate($fulfillment: FulfillmentInput!) \
     { fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } \
     userErrors { field message } } }";

/// Whether the order is cancelled already (a retry after an unknown outcome asks first).
const ORDER_CANCELLED: &str = "query OrderCancelled($id: ID!) { order(id: $id) { cancelledAt } }";

const ORDER_CANCEL: &str = "mutation OrderCancel($orderId: ID!, $notifyCustomer: Boolean, \
     $refundMethod: OrderCancelRefundMethodInput!, $restock: Boolean!, \
     $reason: OrderCancelReason!, $staffNote: String) { orderCancel(orderId: $orderId, \
     notifyCustomer: $notifyCustomer, refundMethod: $refundMethod, restock: $restock, \
     reason: $reason, staffNote: $staffNote) { job { id done } \
     orderCancelUserErrors { field message code } } }";

/// The inventory items of the variants with these SKUs (`$query`: `sku:A OR sku:B …`).
const VARIANTS_BY_SKU: &str = "query VariantsBySku($query: String!, $first: Int!) { \
     productVariants(first: $first, query: $query) { nodes { sku inventoryItem { id } } } }";

const INVENTORY_SET: &str = "mutation InventorySet($input: InventorySetQuantitiesInput!) { \
     inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { reason } \
     userErrors { field message code } } }";

/// A Shopify shop's Admin API.
#[derive(Debug, Clone)]
pub struct ShopifyAdmin {
    remote: Remote,
    path: String,
    shop: String,
}

impl ShopifyAdmin {
    /// The Admin API of connector `c`, when it is given credentials to call it with.
    pub fn configured(c: &ConnectorConfig) -> Result<Option<Self>, ClientError> {
        let (Some(_), Some(version)) = (&c.auth, &c.api_version) else {
            return Ok(None);
        };
        let settings = c.settings();
        let timeout = Duration::from_millis(settings.timeout_ms);
        Ok(Some(Self {
            remote: Remote::configured("storefront", &settings, timeout)?,
            path: format!("/admin/api/{version}/graphql.json"),
            shop: c.name.clone(),
        }))
    }

    /// Runs one GraphQL document: its `data`, or the job's result when Shopify throttled or
    /// refused it.
    pub(super) async fn graphql(&self, query: &str, variables: Value) -> Result<Value, JobResult> {
        let answer = self
            .remote
            .post(&self.path, &json!({"query": query, "variables": variables}))
            .await?;
        let Some(errors) = answer.get("errors").filter(|e| !e.is_null()) else {
            return Ok(answer["data"].clone());
        };
        let throttled = errors
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["extensions"]["code"] == "THROTTLED"));
        if throttled {
            return Err(JobResult::Transient {
                error: format!("Shopify ({}) throttled the call", self.shop),
                retry_after: Some(refill(&answer["extensions"]["cost"])),
            });
        }
        Err(JobResult::Permanent {
            code: ErrorCode::ChannelRejected,
            error: format!("Shopify ({}) refused the call: {errors}", self.shop),
        })
    }

    /// The shop's order for `order` as `query` reads it (by `$id`), with its id.
    async fn order(&self, query: &str, order: &StoredOrder) -> Result<(String, Value), JobResult> {
        let id = format!("gid://shopify/Order/{}", order.external_id);
        let mut data = self.graphql(query, json!({"id": id})).await?;
        match data.get_mut("order").map(Value::take) {
            Some(found @ Value::Object(_)) => Ok((id, found)),
            _ => Err(JobResult::Permanent {
                code: ErrorCode::ChannelRejected,
                error: format!("Shopify ({}) has no order {id}", self.shop),
            }),
        }
    }

    /// Sends a shipment's tracking (`payload`: its `tracking_number`, `carrier` and `lines`)
    /// as a fulfillment of the order's open lines.
    pub async fn publish_tracking(
        &self,
        order: &StoredOrder,
        payload: &Value,
    ) -> Result<(), JobResult> {
        let (id, found) = self.order(FULFILLMENT_ORDERS, order).await?;
        let number = payload["tracking_number"].as_str();
        let made = found["fulfillments"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| {
                (f["trackingInfo"].as_array().into_iter().flatten())
                    .any(|t| number.is_some() && t["number"].as_str() == number)
            });
        if made {
            return Ok(());
        }
        let mut want: BTreeMap<&str, i64> = BTreeMap::new();
        for line in payload["lines"].as_array().into_iter().flatten() {
            if let (Some(sku), Some(qty)) = (line["sku"].as_str(), line["qty"].as_i64()) {
                *want.entry(sku).or_default() += qty;
            }
        }
        let by_order = fulfil(&found["fulfillmentOrders"]["nodes"], &mut want);
        if by_order.is_empty() {
            // Nothing of it is left open in Shopify: fulfilled there already.
            return Ok(());
        }
        let fulfillment = json!({
            "lineItemsByFulfillmentOrder": by_order,
            "trackingInfo": {"company": payload["carrier"], "number": payload["tracking_number"]},
            "notifyCustomer": true,
        });
        let data = self
            .graphql(FULFILLMENT_CREATE, json!({"fulfillment": fulfillment}))
            .await?;
        match said(&data["fulfillmentCreate"]["userErrors"]) {
            Some(said) => Err(JobResult::Permanent {
                code: ErrorCode::ChannelRejected,
                error: format!(
                    "Shopify ({}) refused the fulfillment of order {id}: {said}",
                    self.shop
                ),
            }),
            None => Ok(()),
        }
    }
}

impl ShopifyAdmin {
    /// Runs a storefront job for one of the shop's orders: tracking as a fulfillment; an
    /// invoice needs no call (Shopify keeps none). True when the order may close.
    pub async fn follow_up(
        &self,
        kind: JobKind,
        order: &StoredOrder,
        payload: &Value,
    ) -> Result<bool, JobResult> {
        match kind {
            JobKind::PublishTracking => self.publish_tracking(order, payload).await.map(|()| false),
            JobKind::PushInvoice => Ok(true),
            JobKind::NotifyCancelled => self.cancel(order, payload).await.map(|()| false),
            other => Err(JobResult::Permanent {
                code: ErrorCode::MappingFailed,
                error: format!("the Shopify pack has no job named `{other}`"),
            }),
        }
    }

    /// Cancels the order in Shopify (refunded to the payment methods it was paid with; not
    /// restocked, since crossdock sets the shop's stock itself), unless it is cancelled
    /// already.
    async fn cancel(&self, order: &StoredOrder, payload: &Value) -> Result<(), JobResult> {
        let (id, found) = self.order(ORDER_CANCELLED, order).await?;
        if !found["cancelledAt"].is_null() {
            return Ok(());
        }
        let why = payload["reason"]
            .as_str()
            .unwrap_or("cancelled in crossdock");
        let variables = json!({
            "orderId": id,
            "notifyCustomer": true,
            "refundMethod": {"originalPaymentMethodsRefund": true},
            "restock": false,
            "reason": "OTHER",
            "staffNote": format!("crossdock: {why}"),
        });
        let data = self.graphql(ORDER_CANCEL, variables).await?;
        match said(&data["orderCancel"]["orderCancelUserErrors"]) {
            Some(said) => Err(JobResult::Permanent {
                code: ErrorCode::ChannelRejected,
                error: format!(
                    "Shopify ({}) would not cancel order {id}: {said}; cancel it in Shopify's \
                     admin, then resolve this exception",
                    self.shop
                ),
            }),
            None => Ok(()),
        }
    }

    /// The inventory item of each of `skus` that the shop sells (those it does not are left
    /// out).
    pub async fn inventory_items(
        &self,
        skus: &[&str],
    ) -> Result<BTreeMap<String, String>, JobResult> {
        let query: Vec<String> = skus.iter().map(|s| format!("sku:{}", quoted(s))).collect();
        let variables = json!({"query": query.join(" OR "), "first": skus.len().max(1)});
        let data = self.graphql(VARIANTS_BY_SKU, variables).await?;
        let mut items = BTreeMap::new();
        for v in data["productVariants"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let (Some(sku), Some(id)) = (v["sku"].as_str(), v["inventoryItem"]["id"].as_str()) {
                items.insert(sku.to_string(), id.to_string());
            }
        }
        Ok(items)
    }

    /// Sets the `available` quantity of each (inventory item, units) at `location`, as
    /// crossdock's figures (a correction, not compared with what Shopify had); what Shopify
    /// refused, as its messages.
    pub async fn set_available(
        &self,
        location: &str,
        quantities: &[(String, i64)],
    ) -> Result<Vec<String>, JobResult> {
        let quantities: Vec<Value> = quantities
            .iter()
            .map(|(item, qty)| json!({"inventoryItemId": item, "locationId": location, "quantity": qty}))
            .collect();
        let input = json!({"name": "available", "reason": "correction",
                           "ignoreCompareQuantity": true, "quantities": quantities});
        let data = self.graphql(INVENTORY_SET, json!({"input": input})).await?;
        let errors = data["inventorySetQuantities"]["userErrors"].as_array();
        Ok(errors
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect())
    }

    /// The connector's name, for messages.
    pub fn shop(&self) -> &str {
        &self.shop
    }
}

/// The messages of a mutation's user errors, joined; `None` when it has none.
fn said(user_errors: &Value) -> Option<String> {
    let said: Vec<&str> = (user_errors.as_array().into_iter().flatten())
        .filter_map(|e| e["message"].as_str())
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// A value in Shopify's search syntax: quoted, with quotes and backslashes escaped.
pub(super) fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The open fulfillment-order lines that take `want` (units by SKU), as
/// `lineItemsByFulfillmentOrder`.
fn fulfil(fulfillment_orders: &Value, want: &mut BTreeMap<&str, i64>) -> Vec<Value> {
    let mut by_order = Vec::new();
    for fo in fulfillment_orders.as_array().into_iter().flatten() {
        if !matches!(fo["status"].as_str(), Some("OPEN" | "IN_PROGRESS")) {
            continue;
        }
        let mut items = Vec::new();
        for item in fo["lineItems"]["nodes"].as_array().into_iter().flatten() {
            let Some(sku) = item["lineItem"]["sku"].as_str() else {
                continue;
            };
            let remaining = item["remainingQuantity"].as_i64().unwrap_or(0);
            if let Some(left) = want.get_mut(sku)
                && *left > 0
                && remaining > 0
            {
                let take = remaining.min(*left);
                *left -= take;
                items.push(json!({"id": item["id"], "quantity": take}));
            }
        }
        if !items.is_empty() {
            by_order
                .push(json!({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items}));
        }
    }
    by_order
}

/// How long Shopify's bucket takes to refill for the call it throttled (at least a second).
fn refill(cost: &Value) -> Duration {
    let status = &cost["throttleStatus"];
    let requested = cost["requestedQueryCost"].as_f64().unwrap_or(50.0);
    let available = status["currentlyAvailable"].as_f64().unwrap_or(0.0);
    let rate = status["restoreRate"]
        .as_f64()
        .filter(|r| *r > 0.0)
        .unwrap_or(50.0);
    Duration::from_secs_f64(((requested - available) / rate).clamp(1.0, 60.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shipment_takes_the_open_lines_of_its_skus_and_no_more() {
        let fos = json!([
            {"id": "gid://shopify/FulfillmentOrder/1", "status": "CLOSED", "lineItems": {"nodes": [
                {"id": "a", "remainingQuantity": 0, "lineItem": {"sku": "PINK"}}]}},
            {"id": "gid://shopify/FulfillmentOrder/2", "status": "OPEN", "lineItems": {"nodes": [
                {"id": "b", "remainingQuantity": 2, "lineItem": {"sku": "PINK"}},
                {"id": "c", "remainingQuantity": 1, "lineItem": {"sku": "BLACK"}},
                {"id": "d", "remainingQuantity": 1, "lineItem": {"sku": null}}]}}
        ]);
        let mut want = BTreeMap::from([("PINK", 3), ("GREEN", 1)]);
        let by_order = fulfil(&fos, &mut want);
        assert_eq!(
            by_order,
            vec![
                json!({"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/2",
                        "fulfillmentOrderLineItems": [{"id": "b", "quantity": 2}]})
            ]
        );
        assert_eq!(want["PINK"], 1, "what Shopify has not open stays wanted");
    }

    #[test]
    fn a_throttled_call_waits_for_the_bucket_to_refill() {
        let cost = json!({"requestedQueryCost": 202,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 2, "restoreRate": 100.0}});
        assert_eq!(refill(&cost), Duration::from_secs(2));
        assert_eq!(refill(&json!({})), Duration::from_secs(1));
    }
}
