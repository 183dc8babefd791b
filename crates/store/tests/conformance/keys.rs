//! API keys: made, named once among live keys, listed, marked used and revoked, on both
//! stores.

use crossdock_domain::{Scope, Timestamp};
use crossdock_store::{KeyStore, StoredKey};

use super::harness::Harness;

fn key(name: &str, hash: &str) -> StoredKey {
    StoredKey {
        name: name.into(),
        hash: hash.into(),
        prefix: format!("cdk_{}", &hash[..8]),
        scopes: vec![Scope::OrdersWrite, Scope::OpsRead],
        rate_per_sec: Some(50),
        system: Some("netsuite".into()),
        created_at: Timestamp(10),
        last_used_at: None,
        revoked_at: None,
    }
}

pub async fn keys_are_made_named_once_marked_used_and_revoked(h: Harness) {
    let s = &h.store;
    assert!(s.create_key(key("shop", "aaaaaaaa01")).await.unwrap());
    assert!(
        !s.create_key(key("shop", "aaaaaaaa02")).await.unwrap(),
        "a live key has that name"
    );
    assert!(s.create_key(key("ops", "bbbbbbbb01")).await.unwrap());
    let all = s.keys().await.unwrap();
    assert_eq!(
        all,
        vec![key("shop", "aaaaaaaa01"), key("ops", "bbbbbbbb01")]
    );

    s.mark_keys_used(vec![
        ("aaaaaaaa01".into(), Timestamp(30)),
        ("nosuchhash".into(), Timestamp(30)),
    ])
    .await
    .unwrap();
    s.mark_keys_used(vec![("aaaaaaaa01".into(), Timestamp(20))])
        .await
        .unwrap();
    let shop = &s.keys().await.unwrap()[0];
    assert_eq!(shop.last_used_at, Some(Timestamp(30)), "never moves back");

    assert!(s.revoke_key("shop", Timestamp(40)).await.unwrap());
    assert!(!s.revoke_key("shop", Timestamp(41)).await.unwrap());
    assert!(!s.revoke_key("nobody", Timestamp(41)).await.unwrap());
    // The name is free again; the revoked row stays.
    assert!(s.create_key(key("shop", "cccccccc01")).await.unwrap());
    let all = s.keys().await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].revoked_at, Some(Timestamp(40)));
    assert_eq!((all[2].name.as_str(), all[2].revoked_at), ("shop", None));
    let live: Vec<String> = (s.live_keys().await.unwrap())
        .into_iter()
        .map(|k| k.hash)
        .collect();
    assert_eq!(
        live,
        ["bbbbbbbb01", "cccccccc01"],
        "the revoked key is not live"
    );
}
