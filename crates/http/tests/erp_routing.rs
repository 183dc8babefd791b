//! Several ERPs, one per business unit, end to end over HTTP on both stores: NetSuite keeps
//! the books of `east`, Business Central of `west`; each order's sales order reaches its
//! unit's ERP; a unit nobody keeps is an exception naming it; and `east` moved to Business
//! Central while its orders flow loses none and posts none twice, each order staying with
//! the ERP it was first routed to. A portal's credit check inside the request asks the ERP
//! that keeps the order's unit's books.

mod common;

use std::collections::BTreeSet;

use common::{App, spawn_app_tuned};
use crossdock_engine::Config;
use crossdock_sim::{SimBusinessCentral, SimNetSuite};
use reqwest::StatusCode;
use serde_json::{Value, json};

const COMPANY: &str = "c04c550b-593f-ee11-be74-6045bdc8c285";

fn order(external_id: &str, unit: &str) -> Value {
    json!({
        "channel": "web", "external_id": external_id, "business_unit": unit,
        "customer": {"id": "C-1", "account": "ACME", "email": "buyer@example.com"},
        "currency": "USD", "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "9.50"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

/// The two ERP connectors, NetSuite keeping `ns_units` and Business Central `bc_units`.
fn connectors(
    ns_url: &str,
    bc: (&str, &str),
    dir: &std::path::Path,
    ns_units: &str,
    bc_units: &str,
) -> String {
    let file = |name: &str| format!("file:{}", dir.join(name).display());
    format!(
        "[[connectors]]\nname = \"netsuite\"\nkind = \"netsuite\"\nurl = \"{ns_url}\"\n\
         business_units = {ns_units}\ntimeout_ms = 2000\n\
         auth = {{ kind = \"netsuite_tba\", account = \"1234567\", consumer_key = \"{}\", \
         consumer_secret = \"{}\", token_id = \"{}\", token_secret = \"{}\" }}\n\n\
         [[connectors]]\nname = \"bc\"\nkind = \"business_central\"\nurl = \"{}\"\n\
         company_id = \"{COMPANY}\"\nbusiness_units = {bc_units}\ntimeout_ms = 2000\n\
         auth = {{ kind = \"oauth2_client_credentials\", token_url = \"{}\", \
         client_id = \"crossdock\", client_secret = \"{}\" }}\n",
        file("ck"),
        file("cs"),
        file("ti"),
        file("ts"),
        bc.0,
        bc.1,
        file("bc"),
    )
}

struct Estate {
    app: App,
    ns: SimNetSuite,
    bc: SimBusinessCentral,
    /// The configuration with `east` moved to Business Central.
    moved: Config,
}

async fn hub(postgres: bool) -> Option<Estate> {
    let ns = SimNetSuite::new("1234567", "ck-1", "ti-1");
    ns.add_customer("9001", "AUTO");
    ns.add_customer("9002", "ON");
    ns.add_item("101");
    let bc = SimBusinessCentral::new("crossdock", "bc-secret", COMPANY);
    bc.add_customer("10000", " ");
    bc.add_item("1896-S");
    let (ns_url, _) = ns.start().await.unwrap();
    let (bc_url, token_url, _) = bc.start().await.unwrap();
    let wms = crossdock_sim::SimService::new(crossdock_sim::Kind::Wms);
    let (wms_url, _) = wms.start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("crossdock-routing-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, value) in [
        ("ck", "ck-1"),
        ("cs", "cs"),
        ("ti", "ti-1"),
        ("ts", "ts"),
        ("bc", "bc-secret"),
    ] {
        std::fs::write(dir.join(name), value).unwrap();
    }
    let parse = |ns_units: &str, bc_units: &str| {
        let text = connectors(&ns_url, (&bc_url, &token_url), &dir, ns_units, bc_units);
        Config::parse(&format!("{}\n{text}", crossdock_engine::config::EXAMPLE)).unwrap()
    };
    let config = parse("[\"east\"]", "[\"west\"]");
    let moved = parse("[\"south\"]", "[\"west\", \"east\"]");
    let app = spawn_app_tuned(postgres, &[("wms", wms_url)], |c| {
        c.connectors = config.connectors
    })
    .await?;
    app.post("/v1/items", json!({"items": [{"sku": "SKU-1"}]}))
        .await;
    app.events(json!([{"source": "erp", "source_event_id": "s-1",
        "occurred_at": "2026-01-01T00:00:00Z", "sku": "SKU-1", "location": "east",
        "kind": "receipt", "qty": 10000}]))
        .await;
    let bindings = json!({"bindings": [
        {"connector": "netsuite", "kind": "customer", "ours": "ACME", "theirs": "9001"},
        {"connector": "netsuite", "kind": "item", "ours": "SKU-1", "theirs": "101"},
        {"connector": "bc", "kind": "customer", "ours": "ACME", "theirs": "10000"},
        {"connector": "bc", "kind": "item", "ours": "SKU-1", "theirs": "1896-S"},
        {"connector": "netsuite", "kind": "customer", "ours": "HOLDCO", "theirs": "9002"},
        {"connector": "bc", "kind": "customer", "ours": "HOLDCO", "theirs": "10000"},
    ]});
    let (status, answer) = app.post("/v1/bindings", bindings).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    Some(Estate { app, ns, bc, moved })
}

async fn place(app: &App, external_id: &str, unit: &str) -> String {
    let (status, placed) = app.post("/v1/orders", order(external_id, unit)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    placed["id"].as_str().unwrap().to_string()
}

/// The orders posted to each ERP, by our order id.
fn posted(e: &Estate) -> (BTreeSet<String>, BTreeSet<String>) {
    let ns: BTreeSet<String> = e.ns.sales_orders().into_keys().collect();
    let bc: BTreeSet<String> = (e.bc.sales_orders().into_iter())
        .map(|o| o.external_document_number)
        .collect();
    (ns, bc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_unit_posts_to_its_erp_and_a_moved_unit_loses_and_doubles_nothing() {
    for postgres in [false, true] {
        let Some(e) = hub(postgres).await else {
            continue;
        };
        let app = &e.app;
        let east = place(app, "E-1", "east").await;
        let west = place(app, "W-1", "west").await;
        for id in [&east, &west] {
            let o = app.wait_for_state(id, "released").await;
            assert_eq!(o["state"], "released", "{o}");
        }
        let (ns, bc) = posted(&e);
        assert!(ns.contains(&east) && !bc.contains(&east), "east → NetSuite");
        assert!(
            bc.contains(&west) && !ns.contains(&west),
            "west → Business Central"
        );
        let (_, o) = app.get(&format!("/v1/orders/{east}")).await;
        assert_eq!(o["erp_connector"], "netsuite", "{o}");

        // A unit no ERP keeps: an exception naming it.
        let north = place(app, "N-1", "north").await;
        let mut named = None;
        for _ in 0..600 {
            let (_, list) = app
                .get("/v1/exceptions?status=open&code=MAPPING_FAILED")
                .await;
            named = list["exceptions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["order_id"] == north.as_str())
                .cloned();
            if named.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let named = named.expect("an exception for the unit nobody keeps");
        assert!(
            named["last_error"]
                .as_str()
                .unwrap()
                .contains("business unit `north`"),
            "{named}"
        );

        // East moves to Business Central while its orders flow.
        let router = app.erp_router.clone().expect("a router between the ERPs");
        let flow: Vec<_> = (0..40)
            .map(|i| {
                let app = app.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(i * 10)).await;
                    place(&app, &format!("E-flow-{i}"), "east").await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let summary = router.reload(&e.moved).unwrap();
        assert!(summary.contains("east → bc"), "{summary}");
        let mut ids = Vec::new();
        for t in flow {
            ids.push(t.await.unwrap());
        }
        for id in &ids {
            let o = app.wait_for_state(id, "released").await;
            assert_eq!(o["state"], "released", "{o}");
        }
        let (ns, bc) = posted(&e);
        assert!(
            ns.is_disjoint(&bc),
            "no order posted to both: {:?}",
            ns.intersection(&bc).collect::<Vec<_>>()
        );
        for id in &ids {
            assert!(ns.contains(id) || bc.contains(id), "{id} was posted");
            let (_, o) = app.get(&format!("/v1/orders/{id}")).await;
            let went = if ns.contains(id) { "netsuite" } else { "bc" };
            assert_eq!(o["erp_connector"], went, "the order remembers its ERP: {o}");
        }
        assert_eq!(
            e.bc.sales_orders().len(),
            bc.len(),
            "one sales order per order in Business Central"
        );
        let (before, after) = (
            ids.iter().filter(|i| ns.contains(*i)).count(),
            ids.iter().filter(|i| bc.contains(*i)).count(),
        );
        assert!(
            after > 0,
            "orders after the move went to Business Central ({before} before)"
        );
        let late = place(app, "E-late", "east").await;
        app.wait_for_state(&late, "released").await;
        assert!(
            posted(&e).1.contains(&late),
            "a new east order goes to Business Central"
        );

        // An order posted to NetSuite before the move keeps going there: its cancellation
        // closes its NetSuite sales order, and Business Central is not asked.
        let (status, _) = app
            .post(&format!("/v1/orders/{east}/cancel"), json!({}))
            .await;
        assert!(status.is_success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while e.ns.sales_orders()[&east].closed.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the cancellation did not reach NetSuite"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(e.bc.deleted().is_empty(), "Business Central was not asked");
    }
}

/// The B2B portal checks credit inside the request: an account NetSuite holds is refused for
/// an east order and taken for a west one, which Business Central clears.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_credit_check_in_the_request_asks_the_units_own_erp() {
    for postgres in [false, true] {
        let Some(e) = hub(postgres).await else {
            continue;
        };
        let b2b = |external_id: &str, unit: &str| {
            let mut o = order(external_id, unit);
            o["channel"] = json!("b2b");
            o["customer"] = json!({"id": "C-9", "account": "HOLDCO", "email": "ap@holdco.example"});
            o
        };
        let (status, refused) = e.app.post("/v1/orders", b2b("P-1", "east")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["code"], "CUSTOMER_ON_CREDIT_HOLD", "{refused}");
        let (status, taken) = e.app.post("/v1/orders", b2b("P-2", "west")).await;
        assert_eq!(status, StatusCode::CREATED, "{taken}");
    }
}
