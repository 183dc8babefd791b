//! Bindings: set, changed, listed by page and looked up, on both stores.

use crossdock_domain::{Binding, BindingKind, Timestamp};
use crossdock_store::{BindingQuery, Store};

use super::harness::Harness;

fn item(connector: &str, ours: &str, theirs: &str) -> Binding {
    Binding {
        connector: connector.into(),
        kind: BindingKind::Item,
        ours: ours.into(),
        theirs: theirs.into(),
    }
}

pub async fn bindings_are_set_changed_paged_and_looked_up(h: Harness) {
    let s = &h.store;
    let first = vec![
        item("netsuite", "SKU-1", "101"),
        item("netsuite", "SKU-2", "102"),
        item("bc", "SKU-1", "a1"),
        Binding {
            kind: BindingKind::Customer,
            ..item("netsuite", "ACME", "9001")
        },
    ];
    assert_eq!(
        s.put_bindings(first.clone(), Timestamp(10)).await.unwrap(),
        4
    );
    // The same again changes nothing; a new id for a key replaces the old.
    assert_eq!(s.put_bindings(first, Timestamp(11)).await.unwrap(), 0);
    let changed = vec![item("netsuite", "SKU-2", "202")];
    assert_eq!(s.put_bindings(changed, Timestamp(12)).await.unwrap(), 1);

    let bound = s
        .bound(
            "netsuite",
            BindingKind::Item,
            vec!["SKU-1".into(), "SKU-2".into(), "SKU-9".into()],
        )
        .await
        .unwrap();
    assert_eq!(bound.len(), 2, "{bound:?}");
    assert_eq!(bound["SKU-1"], "101");
    assert_eq!(bound["SKU-2"], "202");
    let other = s
        .bound("bc", BindingKind::Item, vec!["SKU-1".into()])
        .await
        .unwrap();
    assert_eq!(other["SKU-1"], "a1", "each connector keeps its own");

    let netsuite_items = BindingQuery {
        connector: Some("netsuite".into()),
        kind: Some(BindingKind::Item),
        limit: 1,
        ..Default::default()
    };
    let page = s.bindings(netsuite_items.clone()).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].binding.ours, "SKU-1");
    let next = s
        .bindings(BindingQuery {
            after: Some(page[0].id),
            ..netsuite_items
        })
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].binding.theirs, "202");
    assert_eq!(next[0].updated_at, Timestamp(12));
    let by_theirs = s
        .bindings(BindingQuery {
            theirs: Some("9001".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_theirs.len(), 1);
    assert_eq!(by_theirs[0].binding.kind, BindingKind::Customer);
    let all = s
        .bindings(BindingQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
}

/// Many writers setting the same keys at once leave one binding per key, holding one of the
/// ids written.
pub async fn racing_writers_leave_one_binding_per_key(h: Harness) {
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let s = h.store.clone();
        tasks.push(tokio::spawn(async move {
            // Each writer in its own order, as imports of differently sorted files would be.
            let mut batch: Vec<Binding> = (0..20)
                .map(|k| item("netsuite", &format!("SKU-{k}"), &format!("{writer}")))
                .collect();
            batch.rotate_left(writer as usize);
            s.put_bindings(batch, Timestamp(writer)).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = h
        .store
        .bindings(BindingQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 20, "one row per key");
    for b in all {
        let writer: i64 = b.binding.theirs.parse().unwrap();
        assert!((0..16).contains(&writer));
    }
}
