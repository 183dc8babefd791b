//! Reservations and fulfilment as use cases, without HTTP (as a storefront or warehouse
//! connector will call them), on SQLite and PostgreSQL: callers racing for the last units
//! hold exactly what is available and no more; a release gives units back once; shipments
//! and returns for orders that do not exist, or that do not read, are refused and change
//! nothing.

use crossdock_domain::ErrorCode;
use crossdock_engine::Config;
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::fulfilment::{Fulfilment, FulfilmentError};
use crossdock_engine::reservations::{Hold, ReleaseError, Reservations, ReserveError};
use crossdock_engine::stock_events::StockEvents;
use serde_json::json;

mod common;
use common::stores;

fn hold(i: usize) -> Hold {
    Hold {
        sku: "SKU-1".into(),
        qty: 1,
        channel: "marketplace".into(),
        order_ref: format!("cart-{i}"),
        location: None,
        ship_region: None,
        ttl_seconds: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_holds_take_what_is_available_and_no_more() {
    for (store, path) in stores("reservations").await {
        let config = Config::parse(EXAMPLE).unwrap();
        let (inventory, shutdown) = common::start(&config, store.clone(), &["SKU-1"]).await;
        let receipt = json!({"source": "wms", "source_event_id": "r-1",
            "occurred_at": "2026-01-01T00:00:00Z", "sku": "SKU-1", "location": "east",
            "kind": "receipt", "qty": 40});
        let recorded = StockEvents::new(inventory.clone(), Default::default())
            .record(vec![receipt])
            .await
            .unwrap();
        assert_eq!(recorded.applied, 1, "{recorded:?}");
        let available = inventory
            .availability("SKU-1", "marketplace")
            .unwrap()
            .available_now;
        assert!(
            available > 0 && available < 64,
            "{:?}",
            inventory.availability("SKU-1", "marketplace")
        );

        let reservations = Reservations::new(inventory.clone());
        let callers: Vec<_> = (0..64)
            .map(|i| {
                let reservations = reservations.clone();
                tokio::spawn(async move { reservations.reserve(hold(i)).await })
            })
            .collect();
        let (mut held, mut short) = (Vec::new(), 0);
        for c in callers {
            match c.await.unwrap() {
                Ok(r) => held.push(r),
                Err(ReserveError::Insufficient {
                    requested: 1,
                    available: 0,
                    ..
                }) => short += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(
            held.len() as i64,
            available,
            "exactly the available units held"
        );
        assert_eq!(held.len() + short, 64);
        let after = inventory.availability("SKU-1", "marketplace").unwrap();
        assert_eq!(after.available_now, 0);

        let first = &held[0];
        let stored = reservations.get(&first.id).await.unwrap().unwrap();
        assert_eq!(stored.order_ref, first.order_ref);
        reservations.release(&first.id).await.unwrap();
        match reservations.release(&first.id).await {
            Err(ReleaseError::Closed(r)) => assert_eq!(r.id, first.id),
            other => panic!("expected Closed, got {other:?}"),
        }
        let again = inventory.availability("SKU-1", "marketplace").unwrap();
        assert_eq!(again.available_now, 1, "a release gives its unit back once");

        let mut elsewhere = hold(99);
        elsewhere.location = Some("moon".into());
        match reservations.reserve(elsewhere).await {
            Err(ReserveError::Refused { code, .. }) => {
                assert_eq!(code, ErrorCode::WarehouseUnknown)
            }
            other => panic!("expected WAREHOUSE_UNKNOWN, got {other:?}"),
        }
        let mut none = hold(100);
        none.qty = 0;
        assert!(matches!(
            reservations.reserve(none).await,
            Err(ReserveError::Invalid(_))
        ));

        let fulfilment = Fulfilment::new(inventory.clone());
        let shipment = json!({"order_id": "ord_nothing", "source_event_id": "s-1",
            "location": "east", "carrier": "UPS", "tracking_number": "1Z",
            "lines": [{"sku": "SKU-1", "qty": 1}]});
        match fulfilment.record_shipment(&shipment, "corr-s".into()).await {
            Err(FulfilmentError::Refused { code, .. }) => {
                assert_eq!(code, ErrorCode::OrderNotFound)
            }
            other => panic!("expected ORDER_NOT_FOUND, got {other:?}"),
        }
        match fulfilment
            .open_return(&json!({"lines": []}), None, "corr-r".into())
            .await
        {
            Err(FulfilmentError::Invalid(errors)) => {
                assert!(errors.iter().any(|e| e.field == "order_id"), "{errors:?}")
            }
            other => panic!("expected Invalid, got {other:?}"),
        }

        shutdown.trigger();
        if let Some(p) = path {
            crossdock_store::sqlite::remove_files(&p);
        }
    }
}
