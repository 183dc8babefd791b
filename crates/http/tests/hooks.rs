//! Webhooks in, end to end over HTTP on both stores: Shopify-signed orders (redelivered, some
//! at once) taken in once, cancellations, signatures refused and kept (a storm of them only
//! in part), a delivery that cannot be taken in parked and taken in by a retry once mended,
//! and Standard Webhooks stock events.

mod common;

use std::time::Duration;

use common::hooks::*;
use common::{App, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn orders_for(app: &App, external_id: &str) -> Vec<Value> {
    let (_, list) = app
        .get(&format!("/v1/orders?channel=web&external_id={external_id}"))
        .await;
    list["orders"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shopify_order_delivered_three_times_is_taken_in_once_and_cancelled_once() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let order = fixture("shopify/fixtures/orders_create.json");
        let (headers, body) = shopify("orders/create", "evt-create-1", &order);
        // Shopify redelivers; two of the three arrive at once.
        let (a, b) = tokio::join!(
            deliver(&app, "shop-us", &headers, &body),
            deliver(&app, "shop-us", &headers, &body)
        );
        let c = deliver(&app, "shop-us", &headers, &body).await;
        for (status, answer) in [&a, &b, &c] {
            assert_eq!(*status, StatusCode::OK, "{answer}");
            assert_eq!(answer["status"], "taken", "{answer}");
            assert_eq!(answer["order_id"], a.1["order_id"]);
            assert_eq!(answer["delivery_id"], "evt-create-1");
        }
        let replays = [&a, &b, &c]
            .iter()
            .filter(|(_, x)| x["replayed"] == true)
            .count();
        assert_eq!(
            replays, 2,
            "one delivery places the order, the others replay it"
        );
        let found = orders_for(&app, "820982911946154508").await;
        assert_eq!(found.len(), 1, "{found:?}");
        let order_id = a.1["order_id"].as_str().unwrap().to_string();
        let (_, stored) = app.get(&format!("/v1/orders/{order_id}")).await;
        assert_eq!(stored["order"]["external_id"], "820982911946154508");
        assert_eq!(stored["order"]["lines"][0]["unit_price"], "199.00");
        assert_eq!(stored["order"]["ship_to"]["postal_code"], "40003");

        let cancelled = fixture("shopify/fixtures/orders_cancelled.json");
        let (headers, body) = shopify("orders/cancelled", "evt-cancel-1", &cancelled);
        for _ in 0..2 {
            let (status, answer) = deliver(&app, "shop-us", &headers, &body).await;
            assert_eq!(
                (status, answer["status"].as_str()),
                (StatusCode::OK, Some("taken")),
                "{answer}"
            );
            assert_eq!(answer["cancelled"], order_id.as_str());
        }
        let (_, stored) = app.get(&format!("/v1/orders/{order_id}")).await;
        assert_eq!(stored["state"], "cancelled");
        let (_, exceptions) = app.get("/v1/exceptions").await;
        assert_eq!(exceptions["exceptions"], json!([]), "nothing was parked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_signatures_are_refused_and_kept_for_inspection() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let order = fixture("shopify/fixtures/orders_create.json");
        let (headers, body) = shopify("orders/create", "evt-forged", &order);
        let mut tampered = body.clone();
        let at = tampered.iter().position(|b| *b == b'9').unwrap();
        tampered[at] = b'8';
        let (status, p) = deliver(&app, "shop-us", &headers, &tampered).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{p}");
        assert_eq!(p["code"], "SIGNATURE_INVALID");
        assert!(
            p["remediation"]
                .as_str()
                .unwrap()
                .contains("webhook_secret")
        );
        let (status, p) = deliver(&app, "shop-us", &headers[1..], &body).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("SIGNATURE_INVALID"))
        );
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("X-Shopify-Hmac-Sha256"),
            "{p}"
        );
        assert!(orders_for(&app, "820982911946154508").await.is_empty());

        let (status, list) = app.get("/v1/hooks/shop-us/rejections").await;
        assert_eq!(status, StatusCode::OK);
        let kept = list["rejections"].as_array().unwrap();
        assert_eq!(kept.len(), 2, "{list}");
        assert!(kept[0]["reason"].as_str().unwrap().contains("missing"));
        assert_eq!(kept[1]["reason"], "the signature does not match the body");
        assert_eq!(
            kept[1]["body"],
            String::from_utf8(tampered.clone()).unwrap()
        );
        assert_eq!(kept[1]["headers"]["x-shopify-topic"], "orders/create");

        // A storm of forged deliveries: every one refused, the first few kept.
        for _ in 0..40 {
            let (status, _) = deliver(&app, "shop-us", &headers, &tampered).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (_, list) = app.get("/v1/hooks/shop-us/rejections?limit=200").await;
        let kept = list["rejections"].as_array().unwrap().len();
        // At most 20 in ten seconds (22 if a window closed between the first two and the
        // storm); the rest only counted.
        assert!((20..=22).contains(&kept), "{kept} of 42 kept");

        // A Standard Webhooks delivery past the five minutes allowed is a replay.
        let stale = json!({"type": "stock.adjusted", "timestamp": "2026-01-01T00:00:00Z",
                           "data": {"events": []}});
        let (headers, body) = threepl_at("msg_old", &stale, crossdock_engine::now().0 / 1000 - 400);
        let (status, p) = deliver(&app, "threepl", &headers, &body).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("SIGNATURE_INVALID"))
        );

        let (status, p) = deliver(&app, "nobody", &headers, &body).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
        );
        assert!(
            p["remediation"]
                .as_str()
                .unwrap()
                .contains("shop-us, threepl"),
            "{p}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_that_cannot_be_taken_in_is_parked_then_taken_in_by_a_retry() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let mut order = fixture("shopify/fixtures/orders_create.json");
        order["id"] = json!(820982911946154509_u64);
        order["line_items"][1]["sku"] = json!("IPOD2008SILVER");
        let (headers, body) = shopify("orders/create", "evt-create-2", &order);
        let (status, first) = deliver(&app, "shop-us", &headers, &body).await;
        assert_eq!(
            (status, first["status"].as_str()),
            (StatusCode::OK, Some("parked")),
            "{first}"
        );
        assert_eq!(first["code"], "SKU_UNKNOWN");
        let (_, again) = deliver(&app, "shop-us", &headers, &body).await;
        assert_eq!(
            again["exception_id"], first["exception_id"],
            "a redelivery is the same exception"
        );
        let id = first["exception_id"].as_str().unwrap();
        let (status, exc) = app.get(&format!("/v1/exceptions/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{exc}");
        assert_eq!(exc["code"], "SKU_UNKNOWN");
        assert_eq!(exc["system"], "hooks");
        assert!(
            exc["last_error"]
                .as_str()
                .unwrap()
                .contains("IPOD2008SILVER"),
            "{exc}"
        );
        assert_eq!(
            exc["payload"]["payload"]["id"],
            json!(820982911946154509_u64),
            "{exc}"
        );
        assert!(orders_for(&app, "820982911946154509").await.is_empty());

        // The item is added to the item master; the retry takes the order in.
        app.post("/v1/items", json!({"items": [{"sku": "IPOD2008SILVER"}]}))
            .await;
        app.post(
            "/v1/inventory/events",
            json!({"events": [{"source": "erp", "source_event_id": "r-silver",
                   "occurred_at": "2026-01-01T00:00:00Z", "sku": "IPOD2008SILVER",
                   "location": "east", "kind": "receipt", "qty": 10}]}),
        )
        .await;
        let (status, _) = app
            .post(&format!("/v1/exceptions/{id}/retry"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let taken = eventually(|| orders_for(&app, "820982911946154509"), |o| !o.is_empty()).await;
        assert_eq!(taken.len(), 1, "the retry took the order in");
        let exception = format!("/v1/exceptions/{id}");
        let resolved = eventually(|| app.get(&exception), |(_, e)| e["status"] == "resolved")
            .await
            .1;
        assert_eq!(resolved["status"], "resolved", "{resolved}");
        // A mapping failure is parked the same way: a line without a SKU.
        let mut order = fixture("shopify/fixtures/orders_create.json");
        order["id"] = json!(820982911946154510_u64);
        order["line_items"][0]["sku"] = json!("");
        let (headers, body) = shopify("orders/create", "evt-create-3", &order);
        let (status, parked) = deliver(&app, "shop-us", &headers, &body).await;
        assert_eq!(
            (status, parked["code"].as_str()),
            (StatusCode::OK, Some("MAPPING_FAILED")),
            "{parked}"
        );
        assert!(
            parked["detail"].as_str().unwrap().contains("has no SKU"),
            "{parked}"
        );
        // A topic the pack does not take in is answered and left alone.
        let (headers, body) = shopify("products/update", "evt-product", &json!({"id": 1}));
        let (status, ignored) = deliver(&app, "shop-us", &headers, &body).await;
        assert_eq!(
            (status, ignored["status"].as_str()),
            (StatusCode::OK, Some("ignored"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_3pl_signing_by_standard_webhooks_moves_stock_once() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let (_, before) = app.get("/v1/availability/IPOD2008PINK").await;
        let receipt = json!({
            "type": "stock.adjusted", "timestamp": "2026-01-02T08:20:00Z",
            "data": {"events": [{"source": "wms", "source_event_id": "adj-1",
                "occurred_at": "2026-01-02T08:19:00Z", "sku": "IPOD2008PINK",
                "location": "east", "kind": "receipt", "qty": 10}]}
        });
        let (headers, body) = threepl("msg_stock_1", &receipt);
        let (status, first) = deliver(&app, "threepl", &headers, &body).await;
        assert_eq!(
            (status, first["applied"].as_i64()),
            (StatusCode::OK, Some(1)),
            "{first}"
        );
        let (_, again) = deliver(&app, "threepl", &headers, &body).await;
        assert_eq!(
            (again["applied"].as_i64(), again["duplicates"].as_i64()),
            (Some(0), Some(1)),
            "{again}"
        );
        let (_, after) = app.get("/v1/availability/IPOD2008PINK").await;
        assert_ne!(before, after, "the receipt moved availability");
    }
}

/// The source document's flow: a Shopify order in (delivered three times), one sales order
/// in the ERP, released to the warehouse, the 3PL's shipment back by Standard Webhooks
/// (delivered twice), and the tracking out to the storefront once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shopify_order_reaches_the_erp_once_and_a_3pl_shipment_brings_it_back() {
    for postgres in [false, true] {
        let sims = crossdock_sim::SimSystems::start().await.unwrap();
        let Some(app) = hub_with(postgres, &sims.urls, None, "").await else {
            continue;
        };
        let order = fixture("shopify/fixtures/orders_create.json");
        let (headers, body) = shopify("orders/create", "evt-flow-1", &order);
        let mut order_id = None;
        for _ in 0..3 {
            let (status, answer) = deliver(&app, "shop-us", &headers, &body).await;
            assert_eq!(
                (status, answer["status"].as_str()),
                (StatusCode::OK, Some("taken")),
                "{answer}"
            );
            order_id.get_or_insert(answer["order_id"].as_str().unwrap().to_string());
        }
        let order_id = order_id.unwrap();
        let released = app.wait_for_state(&order_id, "released").await;
        assert_eq!(released["state"], "released", "{released}");
        assert_eq!(sims.erp.stats().created, 1, "one sales order");

        let shipment = json!({
            "type": "shipment.created", "timestamp": "2026-01-02T08:15:00Z",
            "data": {"order_id": order_id, "source": "wms", "source_event_id": "shp-1",
                     "location": "east", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
                     "lines": [{"sku": "IPOD2008PINK", "qty": 1}, {"sku": "IPOD2008BLACK", "qty": 1}]}
        });
        let (headers, body) = threepl("msg_shp_1", &shipment);
        let (status, first) = deliver(&app, "threepl", &headers, &body).await;
        assert_eq!(
            (status, first["status"].as_str()),
            (StatusCode::OK, Some("taken")),
            "{first}"
        );
        assert_eq!(first["shipment_for"], order_id.as_str());
        let (_, again) = deliver(&app, "threepl", &headers, &body).await;
        assert_eq!(again["replayed"], true, "{again}");
        let shipped = app.wait_for_state(&order_id, "shipped").await;
        assert_eq!(shipped["state"], "shipped", "{shipped}");
        assert_eq!(
            shipped["shipments"].as_array().unwrap().len(),
            1,
            "{shipped}"
        );
        let sent = || async { sims.storefront.received("/tracking") };
        eventually(sent, |t| !t.is_empty()).await;
        // Long enough for a second call, were one made.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let tracking = sims.storefront.received("/tracking");
        assert_eq!(tracking.len(), 1, "{tracking:?}");
        assert_eq!(
            tracking[0].body["tracking_number"], "1Z999AA10123456784",
            "{:?}",
            tracking[0].body
        );
    }
}

/// Tracking goes to Shopify itself: with the Shopify connector given its Admin API token (and
/// no `[storefront]`), each parcel of a Shopify order becomes one fulfillment of the lines it
/// carries, through a throttled call; the invoice needs no call, and the order closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shopify_orders_parcels_become_fulfillments_in_shopify() {
    for postgres in [false, true] {
        let sims = crossdock_sim::SimSystems::start().await.unwrap();
        let shop = crossdock_sim::SimShopify::new(SHOP_TOKEN);
        let (shop_url, _shop_task) = shop.start().await.unwrap();
        shop.add_order(
            "820982911946154508",
            &[("IPOD2008PINK", 1), ("IPOD2008BLACK", 1)],
        );
        let systems: Vec<(&str, String)> = (sims.urls.iter())
            .filter(|(role, _)| *role != "storefront")
            .cloned()
            .collect();
        let Some(app) = hub_with(postgres, &systems, Some(&shop_url), "").await else {
            continue;
        };
        let order = fixture("shopify/fixtures/orders_create.json");
        let (headers, body) = shopify("orders/create", "evt-fulfil-1", &order);
        let (_, taken) = deliver(&app, "shop-us", &headers, &body).await;
        let order_id = taken["order_id"].as_str().unwrap().to_string();
        let released = app.wait_for_state(&order_id, "released").await;
        assert_eq!(released["state"], "released", "{released}");

        shop.throttle_next(1);
        for (n, sku) in [(1, "IPOD2008PINK"), (2, "IPOD2008BLACK")] {
            let parcel = json!({"type": "shipment.created", "timestamp": "2026-01-02T08:15:00Z",
                "data": {"order_id": order_id, "source": "wms", "source_event_id": format!("shp-{n}"),
                         "location": "east", "carrier": "UPS", "tracking_number": format!("1Z-{n}"),
                         "lines": [{"sku": sku, "qty": 1}]}});
            let (headers, body) = threepl(&format!("msg_parcel_{n}"), &parcel);
            let (status, answer) = deliver(&app, "threepl", &headers, &body).await;
            assert_eq!(
                (status, answer["status"].as_str()),
                (StatusCode::OK, Some("taken")),
                "{answer}"
            );
            let made = eventually(|| async { shop.fulfilled() }, |f| f.len() >= n).await;
            assert_eq!(made.len(), n, "{made:?}");
        }
        let made = shop.fulfilled();
        assert_eq!(made[0].number.as_deref(), Some("1Z-1"));
        assert_eq!(made[0].company.as_deref(), Some("UPS"));
        assert_eq!(made[0].lines, vec![("IPOD2008PINK".to_string(), 1)]);
        assert_eq!(made[1].lines, vec![("IPOD2008BLACK".to_string(), 1)]);
        assert!(shop.calls() >= 5, "the throttled call was made again");

        let invoice = json!({"order_id": order_id, "invoice_id": "INV-1", "amount": "418.50",
                             "currency": "USD"});
        let (status, answer) = app.post("/v1/invoices", invoice).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let closed = app.wait_for_state(&order_id, "closed").await;
        assert_eq!(closed["state"], "closed", "{closed}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(shop.fulfilled().len(), 2, "no parcel was fulfilled twice");
    }
}

/// Cancellations go to Shopify itself: an order cancelled in crossdock is cancelled in
/// Shopify (through a throttled first call), and one Shopify cancelled (`orders/cancelled`)
/// is not sent back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_cancelled_here_is_cancelled_in_shopify_and_one_cancelled_there_is_not_sent_back()
{
    for postgres in [false, true] {
        let sims = crossdock_sim::SimSystems::start().await.unwrap();
        let shop = crossdock_sim::SimShopify::new(SHOP_TOKEN);
        let (shop_url, _shop_task) = shop.start().await.unwrap();
        let ours = "820982911946154508";
        let theirs = "820982911946154509";
        for id in [ours, theirs] {
            shop.add_order(id, &[("IPOD2008PINK", 1)]);
        }
        let systems: Vec<(&str, String)> = (sims.urls.iter())
            .filter(|(role, _)| *role != "storefront")
            .cloned()
            .collect();
        let Some(app) = hub_with(postgres, &systems, Some(&shop_url), "").await else {
            continue;
        };
        let mut taken = Vec::new();
        for id in [ours, theirs] {
            let mut order = fixture("shopify/fixtures/orders_create.json");
            order["id"] = json!(id.parse::<u64>().unwrap());
            let (headers, body) = shopify("orders/create", &format!("evt-{id}"), &order);
            let (_, answer) = deliver(&app, "shop-us", &headers, &body).await;
            let order_id = answer["order_id"].as_str().unwrap().to_string();
            app.wait_for_state(&order_id, "released").await;
            taken.push(order_id);
        }

        shop.throttle_next(1);
        let (status, r) = app
            .post(&format!("/v1/orders/{}/cancel", taken[0]), json!({}))
            .await;
        assert!(status.is_success(), "{status} {r}");
        let cancelled = eventually(|| async { shop.cancelled(ours) }, |c| *c).await;
        assert!(
            cancelled,
            "the order cancelled here is cancelled in Shopify"
        );

        let gone = json!({"id": theirs.parse::<u64>().unwrap(), "cancel_reason": "customer"});
        let (headers, body) = shopify("orders/cancelled", "evt-cancel-theirs", &gone);
        let (status, answer) = deliver(&app, "shop-us", &headers, &body).await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (StatusCode::OK, Some("taken")),
            "{answer}"
        );
        let state = app.wait_for_state(&taken[1], "cancelled").await;
        assert_eq!(state["state"], "cancelled", "{state}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            shop.cancels(),
            1,
            "Shopify's own cancellation is not sent back"
        );
        assert!(!shop.cancelled(theirs), "the simulated shop was not told");
    }
}
