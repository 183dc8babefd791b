//! Intake as a use case, without HTTP (as a storefront's webhook will call it): many callers
//! racing with the same order make one order and are all told its id; the same key with
//! another body is refused; a bad body names its fields; on SQLite and PostgreSQL.

use crossdock_domain::ErrorCode;
use crossdock_engine::Config;
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::credit::Credit;
use crossdock_engine::intake::{Intake, IntakeError};
use crossdock_store::{OrderFilter, Store};
use serde_json::{Value, json};

mod common;
use common::stores;

fn order(external_id: &str, qty: i64) -> Value {
    json!({
        "channel": "web", "external_id": external_id,
        "customer": {"id": "C-1", "email": "buyer@example.com"},
        "currency": "USD",
        "lines": [{"sku": "SKU-1", "qty": qty, "unit_price": "10.00"}],
        "ship_to": {"name": "A Buyer", "line1": "1 Dock Rd", "city": "Newark",
                    "postal_code": "07105", "country": "US"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_callers_make_one_order_and_a_changed_body_is_refused() {
    for (store, path) in stores("intake").await {
        let config = Config::parse(EXAMPLE).unwrap();
        let (inventory, shutdown) = common::start(&config, store.clone(), &["SKU-1"]).await;
        let intake = Intake::new(
            inventory.clone(),
            Credit::new(inventory.clone(), None, &config.saga),
        );

        let body = order("W-RACE", 2);
        let callers: Vec<_> = (0..32)
            .map(|i| {
                let (intake, body) = (intake.clone(), body.clone());
                tokio::spawn(async move {
                    intake
                        .place(&body, None, format!("corr-{i}"))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut taken = Vec::new();
        for c in callers {
            taken.push(c.await.unwrap());
        }
        let first: Vec<_> = taken.iter().filter(|t| !t.replayed).collect();
        assert_eq!(first.len(), 1, "exactly one caller made the order");
        let id = &first[0].order_id;
        for t in &taken {
            assert_eq!(&t.order_id, id, "every caller is told the one order's id");
            // The same bytes, whether replayed from this batch or from the store.
            assert_eq!(t.answer.to_string(), first[0].answer.to_string(), "{t:?}");
        }
        let stored = store
            .orders(OrderFilter {
                external_id: Some("W-RACE".into()),
                limit: 10,
                ..OrderFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(stored.len(), 1);

        let changed = intake
            .place(&order("W-RACE", 3), None, "corr-changed".into())
            .await
            .unwrap_err();
        match changed {
            IntakeError::KeyReused { key, order_id } => {
                assert_eq!((key, order_id.as_str()), ("external_id", id.as_str()))
            }
            other => panic!("expected KeyReused, got {other:?}"),
        }

        let mut bad = order("W-BAD", 0);
        bad["channel"] = json!("nowhere");
        match intake.place(&bad, None, "corr-bad".into()).await {
            Err(IntakeError::Invalid(errors)) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                assert!(fields.contains(&"channel"), "{fields:?}");
                assert!(errors.iter().all(|e| e.code != ErrorCode::Internal));
            }
            other => panic!("expected Invalid, got {other:?}"),
        }

        shutdown.trigger();
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}
