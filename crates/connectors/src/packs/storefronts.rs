//! The storefront connectors crossdock calls in their vendors' own APIs (Shopify, Adobe
//! Commerce), by the channel each sells on: a channel's orders are told of their tracking,
//! invoice and cancellation through its storefront's pack.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossdock_domain::JobKind;
use crossdock_engine::Config;
use crossdock_engine::config::{ConnectorConfig, ConnectorKind};
use crossdock_engine::runner::JobResult;
use crossdock_store::StoredOrder;
use serde_json::Value;

use super::adobe_commerce::AdobeCommerce;
use super::shopify::admin::ShopifyAdmin;
use crate::tls::ClientError;

/// A storefront called in its vendor's API.
#[derive(Debug, Clone)]
pub enum Storefront {
    /// A Shopify shop's Admin API.
    Shopify(Arc<ShopifyAdmin>),
    /// An Adobe Commerce store's REST API.
    AdobeCommerce(Arc<AdobeCommerce>),
}

/// Storefronts by the channel each sells on.
pub type Shops = BTreeMap<String, Storefront>;

impl Storefront {
    /// Runs a storefront job for one of the channel's orders. True when the order may close.
    pub async fn follow_up(
        &self,
        kind: JobKind,
        order: &StoredOrder,
        payload: &Value,
    ) -> Result<bool, JobResult> {
        match self {
            Storefront::Shopify(shop) => shop.follow_up(kind, order, payload).await,
            Storefront::AdobeCommerce(store) => store.follow_up(kind, order, payload).await,
        }
    }
}

/// The storefront connectors that are called in their vendor's API (a Shopify shop given
/// `auth`; every Adobe Commerce store), each with its client.
pub fn storefronts(config: &Config) -> Result<Vec<(&ConnectorConfig, Storefront)>, ClientError> {
    let mut shops = Vec::new();
    for c in &config.connectors {
        if c.channel.is_none() {
            continue;
        }
        let shop = match c.kind {
            ConnectorKind::Shopify => {
                ShopifyAdmin::configured(c)?.map(|a| Storefront::Shopify(Arc::new(a)))
            }
            ConnectorKind::AdobeCommerce => Some(Storefront::AdobeCommerce(Arc::new(
                AdobeCommerce::configured(c)?,
            ))),
            _ => None,
        };
        if let Some(shop) = shop {
            shops.push((c, shop));
        }
    }
    Ok(shops)
}
