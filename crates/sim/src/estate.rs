//! The source document's estate, simulated: a Shopify shop selling on channel `shopify` for
//! business unit `east`, whose books NetSuite keeps; an Adobe Commerce store selling on
//! `adobe` for `west`, whose books Business Central keeps (posting shipments with their
//! invoices); a 3PL signing its webhooks by Standard Webhooks; NetSuite owning pricing.
//! [`SimEstate::start`] starts the vendors' systems, writes the secrets their connectors
//! read, and gives the configuration (`[[channels]]`, `[ownership]`, `[[connectors]]`) to
//! add to a hub's.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::{SimAdobeCommerce, SimBusinessCentral, SimNetSuite, SimShopify};

/// The Shopify app's Admin API token.
pub const SHOP_TOKEN: &str = "shpat_estate_admin_token";
/// The Shopify app's secret, its webhooks' signing key.
pub const SHOP_SECRET: &str = "shpss_estate_app_secret";
/// The Adobe Commerce integration's token.
pub const MAGE_TOKEN: &str = "estate_adobe_integration_token";
/// The 3PL's Standard Webhooks secret (the specification's example key).
pub const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The Business Central company.
pub const COMPANY: &str = "c04c550b-593f-ee11-be74-6045bdc8c285";
/// The Shopify location stock is set at.
pub const LOCATION: &str = "gid://shopify/Location/1";
/// The Adobe Commerce source stock is set at.
pub const SOURCE: &str = "default";
/// The storefronts' channels: Shopify's, Adobe Commerce's.
pub const CHANNELS: [&str; 2] = ["shopify", "adobe"];

/// The estate's systems, running.
pub struct SimEstate {
    /// The Shopify shop.
    pub shop: SimShopify,
    /// The Adobe Commerce store.
    pub mage: SimAdobeCommerce,
    /// NetSuite, for east.
    pub ns: SimNetSuite,
    /// Business Central, for west.
    pub bc: SimBusinessCentral,
    /// Where the connectors' secrets are kept while it runs.
    dir: PathBuf,
    /// What to add to a hub's configuration.
    pub config: String,
}

/// NetSuite's item id for the `i`-th SKU.
fn netsuite_item(i: usize) -> String {
    format!("{}", 2000 + i)
}

/// Business Central's item number for the `i`-th SKU.
fn bc_item(i: usize) -> String {
    format!("{}-S", 1000 + i)
}

impl SimEstate {
    /// Starts the systems, each selling (or keeping) `skus`, and writes the secrets.
    pub async fn start(skus: &[String]) -> std::io::Result<Self> {
        let shop = SimShopify::new(SHOP_TOKEN);
        let mage = SimAdobeCommerce::new(MAGE_TOKEN);
        let ns = SimNetSuite::new("1234567", "estate-ck", "estate-ti");
        ns.add_customer("9001", "AUTO");
        let bc = SimBusinessCentral::new("crossdock", "estate-bc-secret", COMPANY);
        bc.add_customer("10000", " ");
        for (i, sku) in skus.iter().enumerate() {
            shop.add_variant(sku);
            mage.add_product(sku);
            ns.add_item(&netsuite_item(i));
            bc.add_item(&bc_item(i));
        }
        let (shop_url, _) = shop.start().await?;
        let (mage_url, _) = mage.start().await?;
        let (ns_url, _) = ns.start().await?;
        let (bc_url, token_url, _) = bc.start().await?;
        mage.set_clock("2026-12-01 09:00:00");

        let dir = std::env::temp_dir().join(format!(
            "crossdock-estate-{}-{}",
            std::process::id(),
            shop_url.rsplit(':').next().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir)?;
        for (name, value) in [
            ("shop-token", SHOP_TOKEN),
            ("shop-secret", SHOP_SECRET),
            ("mage", MAGE_TOKEN),
            ("3pl", WHSEC),
            ("ns-ck", "estate-ck"),
            ("ns-cs", "estate-cs"),
            ("ns-ti", "estate-ti"),
            ("ns-ts", "estate-ts"),
            ("bc", "estate-bc-secret"),
        ] {
            std::fs::write(dir.join(name), value)?;
        }
        let f = |name: &str| format!("file:{}", dir.join(name).display());
        let config = format!(
            r#"
[[channels]]
code = "shopify"
locations = ["east", "west"]

[[channels]]
code = "adobe"
locations = ["east", "west"]

[ownership]
pricing = "netsuite"

[[connectors]]
name = "shop-us"
kind = "shopify"
channel = "shopify"
business_unit = "east"
url = "{shop_url}"
api_version = "2025-10"
location_id = "{LOCATION}"
rate_per_sec = 200
auth = {{ kind = "header", name = "X-Shopify-Access-Token", value = "{shop_token}" }}
webhook_secret = "{shop_secret}"

[[connectors]]
name = "mage"
kind = "adobe_commerce"
channel = "adobe"
business_unit = "west"
url = "{mage_url}"
location_id = "{SOURCE}"
poll_secs = 1
pull_since = "2026-12-01T08:00:00Z"
rate_per_sec = 200
auth = {{ kind = "bearer", token = "{mage}" }}

[[connectors]]
name = "threepl"
kind = "standard_webhooks"
url = "https://3pl.example.com"
webhook_secret = "{threepl}"

[[connectors]]
name = "netsuite"
kind = "netsuite"
url = "{ns_url}"
business_units = ["east"]
default_customer = "9001"
rate_per_sec = 200
concurrency = 8
auth = {{ kind = "netsuite_tba", account = "1234567", consumer_key = "{ck}", consumer_secret = "{cs}", token_id = "{ti}", token_secret = "{ts}" }}

[[connectors]]
name = "bc"
kind = "business_central"
url = "{bc_url}"
company_id = "{COMPANY}"
business_units = ["west"]
default_customer = "10000"
ship_and_invoice = true
rate_per_sec = 200
concurrency = 8
auth = {{ kind = "oauth2_client_credentials", token_url = "{token_url}", client_id = "crossdock", client_secret = "{bc}" }}
"#,
            shop_token = f("shop-token"),
            shop_secret = f("shop-secret"),
            mage = f("mage"),
            threepl = f("3pl"),
            ck = f("ns-ck"),
            cs = f("ns-cs"),
            ti = f("ns-ti"),
            ts = f("ns-ts"),
            bc = f("bc"),
        );
        Ok(Self {
            shop,
            mage,
            ns,
            bc,
            dir,
            config,
        })
    }

    /// `POST /v1/bindings`'s body binding each of `skus` to NetSuite's and Business
    /// Central's items, as [`SimEstate::start`] made them.
    pub fn item_bindings(skus: &[String]) -> Value {
        let mut bindings = Vec::new();
        for (i, sku) in skus.iter().enumerate() {
            bindings.push(json!({"connector": "netsuite", "kind": "item", "ours": sku,
                                 "theirs": netsuite_item(i)}));
            bindings.push(json!({"connector": "bc", "kind": "item", "ours": sku,
                                 "theirs": bc_item(i)}));
        }
        json!({"bindings": bindings})
    }
}

impl Drop for SimEstate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
