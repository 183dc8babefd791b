//! Order to cash end to end, on SQLite and PostgreSQL, against every simulated system:
//! screening, tax, the ERP, the warehouse, shipments and invoices flowing back, payment
//! captured, the channel told; fraud and credit holds waiting for a person; and cancelling at
//! each state running exactly the compensations that apply.

mod cancelling;
#[path = "../common/mod.rs"]
mod common;
mod erp_statuses;
mod holds;
mod order_to_cash;
mod returns;

use std::time::{Duration, Instant};

use cancelling::*;
use common::{App, spawn_app_tuned};
use crossdock_sim::{Faults, SimService, SimSystems};
use crossdock_store::Store;
use erp_statuses::*;
use holds::*;
use order_to_cash::*;
use reqwest::StatusCode;
use returns::*;
use serde_json::{Value, json};

async fn setup(postgres: bool) -> Option<(App, SimSystems)> {
    setup_tuned(postgres, |_| {}).await
}

/// [`setup`] with the configuration changed by `tune` first.
async fn setup_tuned(
    postgres: bool,
    tune: impl FnOnce(&mut crossdock_engine::Config),
) -> Option<(App, SimSystems)> {
    let sims = SimSystems::start().await.unwrap();
    let systems: Vec<(&str, String)> = sims.urls.clone();
    let app = spawn_app_tuned(postgres, &systems, tune).await?;
    app.post(
        "/v1/items",
        json!({"items": [{"sku": "SKU-1"}, {"sku": "SKU-2"}]}),
    )
    .await;
    app.events(json!([
        {"source": "erp", "source_event_id": "r1", "occurred_at": "2026-01-01T00:00:00Z",
         "sku": "SKU-1", "location": "east", "kind": "receipt", "qty": 100},
        {"source": "erp", "source_event_id": "r2", "occurred_at": "2026-01-01T00:00:00Z",
         "sku": "SKU-2", "location": "east", "kind": "receipt", "qty": 100}
    ]))
    .await;
    Some((app, sims))
}

/// A web order: 2 × SKU-1 at 10.00 and 1 × SKU-2 at 27.00, tax 3.00, authorised for 50.00.
fn web_order(external_id: &str, email: &str) -> Value {
    json!({
        "channel": "web", "external_id": external_id,
        "customer": {"id": "C-1", "email": email},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "10.00"},
                  {"sku": "SKU-2", "qty": 1, "unit_price": "27.00"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"},
        "payment": {"authorization": format!("AUTH-{external_id}"), "amount": "50.00"},
        "tax": {"amount": "3.00", "provider_ref": "TX-1"}
    })
}

fn b2b_order(external_id: &str, account: &str) -> Value {
    json!({
        "channel": "b2b", "external_id": external_id,
        "customer": {"id": "C-2", "account": account, "email": "ap@trade.example"},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "9.00"}],
        "ship_to": {"name": "Trade Buyer", "line1": "2 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

async fn place(app: &App, order: Value) -> String {
    let (status, body) = app.post("/v1/orders", order).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"], "accepted", "{body}");
    body["id"].as_str().unwrap().to_string()
}

fn shipment(order_id: &str, event: &str, lines: Value) -> Value {
    json!({"order_id": order_id, "source_event_id": event, "location": "east",
           "lines": lines, "carrier": "UPS", "tracking_number": format!("1Z-{event}")})
}

/// Waits until `f` holds (or 15 s pass) and says whether it does.
async fn eventually(f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    f()
}

fn received(sim: &SimService, suffix: &str, reference: &str) -> usize {
    sim.received(suffix)
        .iter()
        .filter(|c| c.body["reference"] == reference)
        .count()
}

async fn sellable_at_east(app: &App, sku: &str) -> i64 {
    let (_, a) = app.get(&format!("/v1/availability/{sku}")).await;
    a["locations"][0]["sellable"].as_i64().unwrap()
}

fn states(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap().to_string())
        .collect()
}

/// Past `credit_answer_valid_ms`, the answer given in the request no longer stands as the
/// order's check: the saga's step asks the ERP again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_credit_answer_is_asked_again() {
    let tune = |c: &mut crossdock_engine::Config| c.saga.credit_answer_valid_ms = 0;
    let Some((app, sims)) = setup_tuned(false, tune).await else {
        return;
    };
    let id = place(&app, b2b_order("B-0", "GOOD-PAYER")).await;
    let o = app.wait_for_state(&id, "released").await;
    assert_eq!(o["state"], "released", "{o}");
    assert_eq!(sims.erp.credit_checks(), 2, "the request's and the saga's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_returns_follow_the_window() {
    returns_follow_the_window(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_returns_follow_the_window() {
    returns_follow_the_window(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_order_to_cash() {
    order_to_cash(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_order_to_cash() {
    order_to_cash(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holds_wait_for_a_person() {
    holds_wait_for_a_person(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holds_wait_for_a_person() {
    holds_wait_for_a_person(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_b2b_portal_checks_credit_in_the_request() {
    the_b2b_portal_checks_credit_in_the_request(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_b2b_portal_checks_credit_in_the_request() {
    the_b2b_portal_checks_credit_in_the_request(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_erp_statuses_map_to_canonical_states() {
    erp_statuses_map_to_canonical_states(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_erp_statuses_map_to_canonical_states() {
    erp_statuses_map_to_canonical_states(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_cancelling_compensates_at_each_state() {
    cancelling_compensates_at_each_state(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cancelling_compensates_at_each_state() {
    cancelling_compensates_at_each_state(true).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_invoices_that_do_not_match_wait_for_a_person() {
    invoices_that_do_not_match_wait_for_a_person(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_invoices_that_do_not_match_wait_for_a_person() {
    invoices_that_do_not_match_wait_for_a_person(true).await;
}
