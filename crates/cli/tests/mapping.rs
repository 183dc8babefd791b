//! `crossdock mapping test` and `check-config` on a connector's jq mapping, as a user runs
//! them: the output printed, jq's own error named, a program that does not compile refused.

use std::path::Path;
use std::process::Command;

fn crossdock(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
        crossdock(&[
            "mapping",
            "test",
            "--config",
            &config,
            "--connector",
            "erp-main",
            "--operation",
            operation,
            "--input",
            &input.display().to_string(),
        ])
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
