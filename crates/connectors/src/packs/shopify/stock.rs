//! Availability out to Shopify: a shop with `auth` and a `location_id` sets each SKU's
//! `available` quantity at its location to the channel's `available_now`
//! (`inventorySetQuantities`, up to 250 SKUs a call), as the [`publish`](super::super::publish)
//! publisher hands the figures over. A SKU's inventory item is its item binding for the
//! connector, else the shop's answer to a lookup by SKU, kept as the binding; a SKU the shop
//! does not sell is passed over, once noted in the log.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crossdock_domain::{Binding, BindingKind};
use crossdock_engine::Inventory;
use crossdock_store::Store;

use super::admin::ShopifyAdmin;
use crate::packs::publish::{Figures, Pace, StockTarget};

/// SKUs a call sets at most.
const PER_CALL: usize = 250;

/// A shop's location, as stock is set there.
pub struct ShopifyStock {
    connector: String,
    location: String,
    admin: Arc<ShopifyAdmin>,
    inventory: Inventory,
    /// Inventory items by SKU, as the shop answered; `None` for a SKU it does not sell.
    items: BTreeMap<String, Option<String>>,
}

impl ShopifyStock {
    /// Stock at `location` of `admin`'s shop, as `connector`.
    pub fn new(
        connector: &str,
        location: &str,
        admin: Arc<ShopifyAdmin>,
        inventory: Inventory,
    ) -> Self {
        Self {
            connector: connector.to_string(),
            location: location.to_string(),
            admin,
            inventory,
            items: BTreeMap::new(),
        }
    }

    /// The inventory items of `skus` the connector's item bindings name.
    async fn bound(&mut self, skus: &[&str]) -> Result<(), Option<Duration>> {
        let store = self.inventory.store();
        let keys = skus.iter().map(|s| s.to_string()).collect();
        match store.bound(&self.connector, BindingKind::Item, keys).await {
            Ok(bound) => {
                for (sku, item) in bound {
                    self.items.insert(sku, Some(item));
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(connector = self.connector, error = %e, "cannot read item bindings");
                Err(None)
            }
        }
    }

    /// Keeps the inventory items the shop named as the connector's item bindings, so an
    /// operator sees them (`GET /v1/bindings`) and a restart need not ask again.
    async fn keep(&self, found: &BTreeMap<String, String>) {
        let bindings: Vec<Binding> = (found.iter())
            .map(|(sku, item)| Binding {
                connector: self.connector.clone(),
                kind: BindingKind::Item,
                ours: sku.clone(),
                theirs: item.clone(),
            })
            .filter(|b| b.problem().is_none())
            .collect();
        if bindings.is_empty() {
            return;
        }
        let store = self.inventory.store();
        if let Err(e) = store.put_bindings(bindings, crossdock_engine::now()).await {
            tracing::warn!(connector = self.connector, error = %e, "cannot keep item bindings");
        }
    }

    /// Sets `figures` (units by SKU) in the shop. A SKU's inventory item is its item binding,
    /// else the shop's answer to a lookup by SKU (then kept as its binding).
    async fn publish(&mut self, pace: &Pace, figures: &Figures) -> Result<(), Option<Duration>> {
        let unknown = |items: &BTreeMap<String, Option<String>>| -> Vec<String> {
            (figures.keys())
                .filter(|s| !items.contains_key(s.as_str()))
                .cloned()
                .collect()
        };
        let first = unknown(&self.items);
        if !first.is_empty() {
            let skus: Vec<&str> = first.iter().map(String::as_str).collect();
            self.bound(&skus).await?;
        }
        let unknown = unknown(&self.items);
        let unknown: Vec<&str> = unknown.iter().map(String::as_str).collect();
        for chunk in unknown.chunks(50) {
            let found = pace.call(self.admin.inventory_items(chunk)).await?;
            self.keep(&found).await;
            for sku in chunk {
                let item = found.get(*sku).cloned();
                if item.is_none() {
                    tracing::info!(
                        connector = self.connector,
                        sku,
                        "the shop does not sell this SKU; its stock is not published there"
                    );
                }
                self.items.insert(sku.to_string(), item);
            }
        }
        let quantities: Vec<(String, i64)> = figures
            .iter()
            .filter_map(|(sku, qty)| Some((self.items.get(sku)?.clone()?, *qty)))
            .collect();
        for chunk in quantities.chunks(PER_CALL) {
            let refused = (pace.call(self.admin.set_available(&self.location, chunk))).await?;
            if !refused.is_empty() {
                let skus: BTreeSet<&str> = figures.keys().map(String::as_str).collect();
                tracing::warn!(connector = self.connector, refused = ?refused, skus = skus.len(),
                               "the shop refused some stock figures");
            }
        }
        Ok(())
    }
}

impl StockTarget for ShopifyStock {
    async fn set(&mut self, pace: &Pace, figures: &Figures) -> Result<(), Option<Duration>> {
        self.publish(pace, figures).await
    }
}
