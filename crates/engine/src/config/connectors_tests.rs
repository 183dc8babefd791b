//! `[[connectors]]` read key for key, and each mistake named by its key.

use super::super::EXAMPLE;
use super::*;

fn with(connectors: &str) -> Result<Config, String> {
    Config::parse(&format!("{EXAMPLE}\n{connectors}")).map_err(|e| e.to_string())
}

#[test]
fn a_crossdock_connector_takes_its_roles_place() {
    let config = with(
        r#"
[[connectors]]
name = "erp-east"
kind = "crossdock"
role = "erp"
url = "https://erp.example.com/api"
rate_per_sec = 20
auth = { kind = "bearer", token = "env:ERP_TOKEN" }
statuses = { "Pending Approval" = "on_hold" }
"#,
    )
    .unwrap();
    let erp = config.system("erp").unwrap();
    assert_eq!(erp.url, "https://erp.example.com/api");
    assert_eq!(erp.rate_per_sec, 20.0);
    assert_eq!(erp.timeout_ms, SystemSettings::at("x").timeout_ms);
    assert!(matches!(erp.auth, Some(Auth::Bearer { .. })));
    assert_eq!(erp.state_of("Pending Approval"), Some(OrderState::OnHold));
}

/// The example of the connector model reads key for key: a Shopify connector is taken
/// (its webhooks come in; it does not take the storefront's place), a NetSuite connector
/// takes the ERP's, and each pack's own settings are checked.
#[test]
fn shopify_netsuite_and_business_central_connectors_are_taken_and_other_packs_are_refused_by_name()
{
    let shopify = r#"
[[connectors]]
name = "shop-us"
kind = "shopify"
channel = "web"
url = "https://acme.myshopify.com"
api_version = "2025-10"
auth = { kind = "header", name = "X-Shopify-Access-Token", value = "env:SHOPIFY_TOKEN" }
webhook_secret = "env:SHOPIFY_WEBHOOK_SECRET"
location_id = "gid://shopify/Location/1"
"#;
    let config = with(shopify).unwrap();
    assert_eq!(config.connectors[0].kind, ConnectorKind::Shopify);
    assert_eq!(config.connectors[0].role(), Some("storefront"));
    assert!(config.system("storefront").is_none());
    let unversioned = shopify.replace("api_version = \"2025-10\"\n", "");
    let e = with(&unversioned).unwrap_err();
    assert!(e.contains("connectors[0].api_version"), "{e}");
    let unsigned = shopify.replace("webhook_secret = \"env:SHOPIFY_WEBHOOK_SECRET\"\n", "");
    let e = with(&unsigned).unwrap_err();
    assert!(
        e.contains("connectors[0].webhook_secret") && e.contains("env:SHOP_US_WEBHOOK_SECRET"),
        "{e}"
    );
    let netsuite = r#"
[[connectors]]
name = "netsuite"
kind = "netsuite"
url = "https://1234567.suitetalk.api.netsuite.com/services/rest"
default_customer = "9001"
auth = { kind = "netsuite_tba", account = "1234567", consumer_key = "env:NS_CK", consumer_secret = "env:NS_CS", token_id = "env:NS_TI", token_secret = "env:NS_TS" }
"#;
    let config = with(netsuite).unwrap();
    let erp = config
        .system("erp")
        .expect("NetSuite takes the ERP's place");
    assert!(erp.url.ends_with("/services/rest"));
    assert!(matches!(erp.auth, Some(Auth::NetsuiteTba { .. })));
    let e = with(&format!("[erp]\nurl = \"http://127.0.0.1:9\"\n{netsuite}")).unwrap_err();
    assert!(e.contains("`erp` is already configured"), "{e}");
    let unsigned: Vec<&str> = netsuite
        .lines()
        .filter(|l| !l.starts_with("auth"))
        .collect();
    let e = with(&unsigned.join("\n")).unwrap_err();
    assert!(e.contains("connectors[0].auth"), "{e}");
    let units = netsuite.replace(
        "default_customer",
        "business_units = [\"east\"]\ndefault_customer",
    );
    let routed = with(&units).unwrap();
    assert!(
        routed.system("erp").is_none(),
        "an ERP of some units is routed to"
    );
    let routes = routed.erp_routes().unwrap();
    assert_eq!(routes.route(Some("east")).unwrap().system, "erp:netsuite");
    let bc = r#"
[[connectors]]
name = "bc"
kind = "business_central"
url = "https://api.businesscentral.dynamics.com/v2.0/tenant-1/production/api/v2.0"
company_id = "c04c550b-593f-ee11-be74-6045bdc8c285"
auth = { kind = "oauth2_client_credentials", token_url = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", client_id = "crossdock", client_secret = "env:BC_SECRET", scope = "https://api.businesscentral.dynamics.com/.default" }
"#;
    let config = with(bc).unwrap();
    assert_eq!(config.connectors[0].role(), Some("erp"));
    assert!(
        config.system("erp").is_some(),
        "Business Central takes the ERP's place"
    );
    let e = with(&bc.replace("company_id", "# company_id")).unwrap_err();
    assert!(e.contains("connectors[0].company_id"), "{e}");
    let e = with(&netsuite.replace("default_customer", "company_id = \"x\"\ndefault_customer"))
        .unwrap_err();
    assert!(e.contains("only a business_central"), "{e}");
    let adobe = "[[connectors]]\nname = \"mage\"\nkind = \"adobe_commerce\"\n\
                 url = \"https://shop.example.com/rest/default\"\nchannel = \"web\"\n\
                 auth = { kind = \"bearer\", token = \"env:ADOBE_TOKEN\" }\n\
                 location_id = \"default\"\npoll_secs = 30\npull_since = \"2026-11-01T00:00:00Z\"\n";
    let config = with(adobe).unwrap();
    assert_eq!(config.connectors[0].poll_secs(), 30);
    assert!(
        config.system("storefront").is_none(),
        "an Adobe Commerce store stands beside the [storefront], not in its place"
    );
    for (change, key) in [
        (("auth = ", "# auth = "), "connectors[0].auth"),
        (
            ("poll_secs = 30", "poll_secs = 0"),
            "connectors[0].poll_secs",
        ),
        (
            ("2026-11-01T00:00:00Z", "last week"),
            "connectors[0].pull_since",
        ),
        (
            ("poll_secs = 30", "webhook_secret = \"env:X\""),
            "connectors[0].webhook_secret",
        ),
    ] {
        let e = with(&adobe.replace(change.0, change.1)).unwrap_err();
        assert!(e.contains(key), "{key}: {e}");
    }
    let e =
        with(&netsuite.replace("default_customer", "poll_secs = 5\ndefault_customer")).unwrap_err();
    assert!(e.contains("only an adobe_commerce connector pulls"), "{e}");
}

#[test]
fn each_mistake_is_named_by_its_key() {
    let entry = |extra: &str| {
        format!("[[connectors]]\nname = \"a\"\nkind = \"crossdock\"\nurl = \"http://x\"\n{extra}\n")
    };
    for (extra, key, says) in [
        ("", "connectors[0].role", "names its role"),
        ("role = \"crm\"", "connectors[0].role", "not one of"),
        (
            "role = \"erp\"\nchannel = \"web\"",
            "connectors[0].channel",
            "only a storefront",
        ),
        (
            "role = \"storefront\"\nchannel = \"moon\"",
            "connectors[0].channel",
            "not defined",
        ),
        (
            "role = \"wms\"\nbusiness_units = [\"east\"]",
            "connectors[0].business_units",
            "only an ERP",
        ),
        (
            "role = \"erp\"\nship_and_invoice = true",
            "connectors[0].ship_and_invoice",
            "only Business Central",
        ),
        (
            "role = \"erp\"\nbusiness_unit = \"east\"",
            "connectors[0].business_unit",
            "business_units",
        ),
        (
            "role = \"storefront\"\nchannel = \"web\"\nbusiness_unit = \" \"",
            "connectors[0].business_unit",
            "name the unit",
        ),
        (
            "role = \"erp\"\nauth = { kind = \"bearer\", token = \"sk_live_hunter2\" }",
            "connectors[0].auth.token",
            "env:NAME",
        ),
        (
            "role = \"erp\"\nwebhook_secret = \"hunter2\"",
            "connectors[0].webhook_secret",
            "env:NAME",
        ),
    ] {
        let e = with(&entry(extra)).unwrap_err();
        assert!(e.contains(key) && e.contains(says), "{extra}: {e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
    let ftp = entry("role = \"erp\"").replace("http://x", "ftp://x");
    assert!(with(&ftp).unwrap_err().contains("connectors[0].url"));
    let twice = format!("{}{}", entry("role = \"erp\""), entry("role = \"wms\""));
    assert!(with(&twice).unwrap_err().contains("used twice"));
    let shopify_role = "[[connectors]]\nname = \"s\"\nkind = \"shopify\"\nrole = \"erp\"\nurl = \"https://s\"\nchannel = \"web\"\n";
    assert!(with(shopify_role).unwrap_err().contains("implied"));
    let bad_name = entry("role = \"erp\"").replace("name = \"a\"", "name = \"Shop US\"");
    assert!(with(&bad_name).unwrap_err().contains("connectors[0].name"));
    let e = with("[erp]\nurl = \"http://e\"\n").map(|_| ());
    assert!(e.is_ok(), "{e:?}");
    let both = format!("[erp]\nurl = \"http://e\"\n\n{}", entry("role = \"erp\""));
    assert!(with(&both).unwrap_err().contains("already configured"));
}

/// A `rest` connector takes its role's place as a crossdock one does, with its mappings
/// kept for its calls; a mapping must name one of its role's operations (or its answer).
#[test]
fn a_rest_connector_reshapes_its_roles_operations() {
    let rest = r#"
[[connectors]]
name = "house-wms"
kind = "rest"
role = "wms"
url = "https://wms.example.com"
mappings = { release_to_wms = "release.jq", "release_to_wms.answer" = "released.jq" }
"#;
    let config = with(rest).unwrap();
    let wms = config.system("wms").unwrap();
    assert_eq!(wms.url, "https://wms.example.com");
    assert_eq!(wms.mappings.len(), 2);
    let e = with(&rest.replace("release_to_wms =", "post_sales_order =")).unwrap_err();
    assert!(
        e.contains("connectors[0].mappings") && e.contains("release_to_wms, release_part"),
        "{e}"
    );
    let e =
        with(&rest.replace("\"release_to_wms.answer\"", "\"release_to_wms.reply\"")).unwrap_err();
    assert!(e.contains("release_to_wms.reply"), "{e}");
    let crossdock = with(&rest.replace("kind = \"rest\"", "kind = \"crossdock\"")).unwrap();
    assert_eq!(
        crossdock.system("wms").unwrap().mappings.len(),
        2,
        "a crossdock connector with mappings is reshaped the same way"
    );
    let plain = with(&rest.replace(
        "mappings = { release_to_wms = \"release.jq\", \"release_to_wms.answer\" = \"released.jq\" }",
        "",
    ))
    .unwrap();
    assert!(plain.system("wms").unwrap().mappings.is_empty());
}
