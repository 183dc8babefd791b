//! Prices: set through the ledger with their `price.changed` events, listed by channel and
//! SKU, pushes and acknowledgements kept per channel.

use crossdock_domain::ledger::{Command, Outcome, SetPrice};
use crossdock_domain::money::Money;
use crossdock_domain::{ChannelCode, ErrorCode, Timestamp};
use crossdock_store::{PricePush, PriceQuery, PushOutcome, Store};

use crate::harness::{Harness, sku};

fn price(s: &str, channel: &str, amount: &str) -> Command {
    Command::SetPrice(Box::new(SetPrice {
        sku: sku(s),
        channel: ChannelCode::parse(channel).unwrap(),
        currency: "USD".into(),
        amount: Money::parse(amount).unwrap(),
        source: "netsuite".into(),
    }))
}

fn all(limit: i64) -> PriceQuery {
    PriceQuery {
        limit,
        ..Default::default()
    }
}

pub async fn prices_are_set_pushed_acknowledged_and_paged(h: Harness) {
    h.items(&["SKU-1", "SKU-2"]).await;
    let before = h.store.last_seq().await.unwrap();
    let outcomes = h
        .run(
            100,
            vec![
                price("SKU-1", "web", "19.99"),
                price("SKU-1", "web", "18.50"),
                price("SKU-1", "marketplace", "21"),
                price("SKU-2", "web", "5.00"),
                price("SKU-9", "web", "1.00"),
                price("SKU-2", "nowhere", "1.00"),
            ],
        )
        .await;
    assert!(
        outcomes[..4].iter().all(|o| *o == Outcome::Applied),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            &outcomes[4],
            Outcome::Rejected {
                code: ErrorCode::SkuUnknown,
                ..
            }
        ),
        "{:?}",
        outcomes[4]
    );
    assert!(
        matches!(
            &outcomes[5],
            Outcome::Rejected {
                code: ErrorCode::ChannelUnknown,
                ..
            }
        ),
        "{:?}",
        outcomes[5]
    );
    let events = (h.store)
        .events_after(before, 100, Some(vec!["price.changed".into()]))
        .await
        .unwrap();
    assert_eq!(events.len(), 4, "one event per price set");
    assert_eq!(events[1].data["amount"], "18.50");

    let listed = h.store.prices(all(10)).await.unwrap();
    let keys: Vec<(&str, &str, &str)> = (listed.iter())
        .map(|p| (p.channel.as_str(), p.sku.as_str(), p.amount.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("marketplace", "SKU-1", "21.00"),
            ("web", "SKU-1", "18.50"),
            ("web", "SKU-2", "5.00")
        ],
        "the newest of one channel and SKU wins"
    );
    assert!(
        listed
            .iter()
            .all(|p| p.set_at == Timestamp(100) && !p.current)
    );

    let push = |s: &str, amount: &str, outcome| PricePush {
        sku: s.into(),
        currency: "USD".into(),
        amount: amount.into(),
        outcome,
    };
    (h.store)
        .record_price_pushes(
            "web",
            vec![
                push("SKU-1", "18.50", PushOutcome::Acknowledged),
                push(
                    "SKU-2",
                    "5.00",
                    PushOutcome::Refused("price below cost".into()),
                ),
            ],
            Timestamp(200),
        )
        .await
        .unwrap();
    let pending = (h.store)
        .prices(PriceQuery {
            pending: true,
            ..all(10)
        })
        .await
        .unwrap();
    let pending: Vec<(&str, &str)> = (pending.iter())
        .map(|p| (p.channel.as_str(), p.sku.as_str()))
        .collect();
    assert_eq!(pending, [("marketplace", "SKU-1"), ("web", "SKU-2")]);
    let web = (h.store)
        .prices(PriceQuery {
            channel: Some("web".into()),
            ..all(10)
        })
        .await
        .unwrap();
    assert!(web[0].current);
    assert_eq!(web[0].acknowledged.as_ref().unwrap().at, Timestamp(200));
    assert_eq!(web[1].refused.as_deref(), Some("price below cost"));
    assert_eq!(web[1].pushed.as_ref().unwrap().amount, "5.00");
    assert!(web[1].acknowledged.is_none());

    // A new price is pending again though an older one was acknowledged; the same price sent
    // again keeps its time.
    h.run(
        300,
        vec![price("SKU-1", "web", "17"), price("SKU-2", "web", "5")],
    )
    .await;
    let web = (h.store)
        .prices(PriceQuery {
            channel: Some("web".into()),
            ..all(10)
        })
        .await
        .unwrap();
    assert!(!web[0].current && web[0].set_at == Timestamp(300));
    assert_eq!(web[0].acknowledged.as_ref().unwrap().amount, "18.50");
    assert_eq!(
        web[1].set_at,
        Timestamp(100),
        "an unchanged price keeps its time"
    );

    // Paging by channel then SKU.
    let first = h.store.prices(all(2)).await.unwrap();
    let last = first.last().unwrap();
    let rest = (h.store)
        .prices(PriceQuery {
            after: Some((last.channel.clone(), last.sku.clone())),
            ..all(2)
        })
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 3);
    assert_eq!(rest[0].sku, "SKU-2");
}
