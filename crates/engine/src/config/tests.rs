//! The configuration's parsing, checks and summary.

use super::*;
use crossdock_domain::Allocation;

#[test]
fn a_secret_written_into_the_file_is_refused_by_its_key_and_never_echoed() {
    let with = |auth: &str| {
        EXAMPLE.replace(
            "[store]",
            &format!("[erp]\nurl = \"https://erp.example.com\"\nauth = {auth}\n\n[store]"),
        )
    };
    let literal = with(r#"{ kind = "bearer", token = "sk_live_hunter2" }"#);
    let e = Config::parse(&literal).unwrap_err().to_string();
    assert!(e.contains("erp.auth.token"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
    // A parse error on the same line does not quote it either.
    let typo = with(r#"{ kind = "bearr", token = "sk_live_hunter2" }"#);
    let e = Config::parse(&typo).unwrap_err().to_string();
    assert!(e.contains("bearr") && !e.contains("hunter2"), "{e}");
    let named = Config::parse(&with(r#"{ kind = "bearer", token = "env:ERP_TOKEN" }"#)).unwrap();
    let summary = named.summary();
    assert!(
        summary.contains("bearer auth from env:ERP_TOKEN"),
        "{summary}"
    );
    let unset = with(r#"{ kind = "bearer", token = "env:CROSSDOCK_TEST_UNSET_TOKEN" }"#);
    let unreadable = Config::parse(&unset).unwrap().unreadable_secrets();
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].0, "erp.auth.token");
    assert!(
        unreadable[0]
            .1
            .to_string()
            .contains("CROSSDOCK_TEST_UNSET_TOKEN")
    );
}

#[test]
fn the_example_loads() {
    let c = Config::parse(EXAMPLE).unwrap();
    assert_eq!(c.locations.len(), 3);
    assert_eq!(
        c.channels[2].allocation,
        Allocation::RingFence { units: 20 }
    );
    assert!(c.summary().contains("ring fence 20"));
}

fn error_for(edit: impl Fn(&str) -> String) -> String {
    Config::parse(&edit(EXAMPLE)).unwrap_err().to_string()
}

#[test]
fn errors_name_the_key() {
    let e = error_for(|t| t.replace("priority = 2", "priority = \"two\""));
    assert!(e.contains("priority"), "{e}");
    let e = error_for(|t| t.replace("lead_time_days = 5", "lead_time_dayz = 5"));
    assert!(e.contains("lead_time_dayz"), "{e}");
    let e = error_for(|t| t.replace("pct = 80", "pct = 180"));
    assert!(e.contains("pct must be between 0 and 100"), "{e}");
    let e = error_for(|t| t.replace("kind = \"dropship\"", "kind = \"shop\""));
    assert!(e.contains("kind") && e.contains("shop"), "{e}");
    let e = error_for(|t| t.replace("\"east\", \"west\", \"acme\"", "\"east\", \"north\""));
    assert!(e.contains("north"), "{e}");
    let e = error_for(|t| {
        t.replace(
            "per_location = { west = 5 }",
            "per_location = { south = 5 }",
        )
    });
    assert!(e.contains("safety_stock.per_location.south"), "{e}");
    let e = error_for(|t| t.replace("sqlite://crossdock.db", "mysql://x"));
    assert!(e.contains("store.url"), "{e}");
    let web = "backorder_horizon_days = 14";
    let e = error_for(|t| t.replace(web, &format!("{web}\nbackorders = \"ship_some\"")));
    assert!(
        e.contains("backorders") && e.contains("ship_available"),
        "{e}"
    );
    for policy in [
        BackorderPolicy::ShipComplete,
        BackorderPolicy::ShipAvailable,
    ] {
        let name = serde_json::to_value(policy).unwrap();
        let ok = EXAMPLE.replace(web, &format!("{web}\nbackorders = {name}"));
        let estate = Config::parse(&ok).unwrap().estate().unwrap();
        assert_eq!(estate.channel("web").unwrap().orders.backorders, policy);
    }
    let e = error_for(|t| t.replace(web, &format!("{web}\ninvoice_tolerance = \"-1\"")));
    assert!(e.contains("channels.web.invoice_tolerance"), "{e}");
    let e = error_for(|t| t.replace("[server]", "[server]\nidle_timeout_ms = 5"));
    assert!(e.contains("server.idle_timeout_ms"), "{e}");
}

#[test]
fn store_passwords_are_redacted() {
    assert_eq!(
        redact_url("postgres://app:s3cret@db:5432/hub"),
        "postgres://app:***@db:5432/hub"
    );
    let c = StoreConfig {
        url: "postgres://app:s3cret@db/hub".into(),
    };
    assert!(!format!("{c:?}").contains("s3cret"));
}
