//! `crossdock mapping test` and `check-config` on a connector's jq mapping, as a user runs
//! them: the output printed, jq's own error named, a program that does not compile refused.

use std::path::Path;
mod common;

use common::{crossdock, mapping_test};

fn estate(dir: &Path, program: &str) -> String {
    let example = crossdock_engine::config::EXAMPLE;
    let config = format!(
        "{example}\n[[connectors]]\nname = \"erp-main\"\nkind = \"crossdock\"\nrole = \"erp\"\n\
         url = \"http://127.0.0.1:9\"\nmappings = {{ post_sales_order = \"sales_order.jq\" }}\n"
    );
    std::fs::write(dir.join("hub.toml"), config).unwrap();
    std::fs::write(dir.join("sales_order.jq"), program).unwrap();
    dir.join("hub.toml").display().to_string()
}

#[test]
fn a_mapping_is_tested_from_the_command_line_and_checked_with_the_configuration() {
    let dir = std::env::temp_dir().join(format!("crossdock-mapping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = estate(
        &dir,
        r#"{externalId: .id, entity: (.customer.account // error("no account on the order"))}"#,
    );
    let good = dir.join("good.json");
    std::fs::write(&good, r#"{"id": "ord_1", "customer": {"account": "ACME"}}"#).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"id": "ord_2", "customer": {}}"#).unwrap();
    let test = |input: &Path, operation: &str| {
        mapping_test(&config, "erp-main", operation, &input.display().to_string())
    };

    let (ok, out, _) = test(&good, "post_sales_order");
    assert!(ok);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"externalId": "ord_1", "entity": "ACME"})
    );
    let (ok, _, err) = test(&bad, "post_sales_order");
    assert!(
        !ok && err.contains("failed: no account on the order"),
        "{err}"
    );
    let (ok, _, err) = test(&good, "cancel_sales_order");
    assert!(
        !ok && err.contains("its mappings: post_sales_order"),
        "{err}"
    );

    let (ok, out, _) = crossdock(&["check-config", "--config", &config]);
    assert!(ok && out.contains("mappings: 1 compiled"), "{out}");
    estate(&dir, "{ externalId: ");
    let (ok, out, err) = crossdock(&["check-config", "--config", &config]);
    assert!(!ok && !out.contains("ok:"), "{out}");
    assert!(
        err.contains("mapping post_sales_order") && err.contains("does not compile: line 1"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A webhook connector's topic is tried with the payload as the sender sends it: the pack's
/// own mapping, or the configured one in its place; check-config says where its webhooks
/// come in.
#[test]
fn a_webhook_topic_is_tested_on_the_payload_as_sent() {
    let dir = std::env::temp_dir().join(format!("crossdock-hook-mapping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let example = crossdock_engine::config::EXAMPLE;
    let config = format!(
        "{example}\n[[connectors]]\nname = \"shop-us\"\nkind = \"shopify\"\nchannel = \"web\"\n\
         url = \"https://acme.myshopify.com\"\nwebhook_secret = \"env:SHOP_US_SECRET\"\n\
         mappings = {{ \"orders/updated\" = \"updated.jq\" }}\n"
    );
    std::fs::write(dir.join("hub.toml"), config).unwrap();
    std::fs::write(
        dir.join("updated.jq"),
        r#"{ignore: "updates are read elsewhere"}"#,
    )
    .unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../connectors/src/packs/shopify/fixtures/orders_create.json"
    );
    let hub = dir.join("hub.toml").display().to_string();
    let test = |topic: &str| mapping_test(&hub, "shop-us", topic, fixture);
    let (ok, out, err) = test("orders/create");
    assert!(ok, "{err}");
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["order"]["external_id"], "820982911946154508");
    assert_eq!(value["order"]["channel"], "web");
    let (ok, out, err) = test("orders/updated");
    assert!(ok && out.contains("updates are read elsewhere"), "{err}");
    let (ok, out, _) = test("products/create");
    assert!(
        ok && out.contains("does not take in Shopify's products/create"),
        "{out}"
    );

    let (ok, out, err) = crossdock(&["check-config", "--config", &hub]);
    assert!(ok, "{err}");
    assert!(out.contains("webhooks in at /v1/hooks/shop-us"), "{out}");
    assert!(out.contains("mappings: 1 compiled"), "{out}");
    assert!(
        out.contains("connectors[0].webhook_secret"),
        "the unset secret is warned of: {out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An outbound pack's own mapping is tried by its operation, with no mapping configured.
#[test]
fn a_packs_own_outbound_mapping_is_tested_by_its_operation() {
    let dir = std::env::temp_dir().join(format!("crossdock-ns-mapping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let example = crossdock_engine::config::EXAMPLE;
    let config = format!(
        "{example}\n[[connectors]]\nname = \"netsuite\"\nkind = \"netsuite\"\n\
         url = \"https://1234567.suitetalk.api.netsuite.com/services/rest\"\n\
         auth = {{ kind = \"netsuite_tba\", account = \"1234567\", consumer_key = \"env:NS_CK\", \
         consumer_secret = \"env:NS_CS\", token_id = \"env:NS_TI\", token_secret = \"env:NS_TS\" }}\n"
    );
    std::fs::write(dir.join("hub.toml"), config).unwrap();
    let hub = dir.join("hub.toml").display().to_string();
    let input = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../connectors/src/packs/netsuite/fixtures/sales_order_input.json"
    );
    let run = |operation| mapping_test(&hub, "netsuite", operation, input);
    let (ok, out, err) = run("sales_order");
    assert!(ok, "{err}");
    let so: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(so["externalId"], "ord_01J");
    assert_eq!(so["item"]["items"][1]["item"]["id"], "102");
    let (ok, _, err) = run("fulfilment");
    assert!(
        !ok && err.contains("netsuite/fulfilment.jq failed"),
        "{err}"
    );
    let (ok, _, err) = run("cancel");
    assert!(
        !ok && err.contains("its mappings: sales_order, fulfilment"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
