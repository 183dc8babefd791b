//! HTTPS on the listener (`server.tls_cert`, `server.tls_key`): a client that trusts the
//! certificate is served, plain HTTP and a client that does not trust it are not, and files
//! that do not make a TLS server stop the start with their key named.

mod common;

use std::path::PathBuf;

use common::spawn_app_tuned;
use crossdock_engine::config::EXAMPLE;
use crossdock_engine::{Config, Shutdown};
use reqwest::StatusCode;
use serde_json::json;

/// A test CA's PEM, and the PEM files of a certificate it signed for localhost and
/// 127.0.0.1, in a directory of their own.
fn pki() -> (String, PathBuf, PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let leaf = rcgen::CertificateParams::new(names)
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("crossdock-tls-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("hub.crt"), dir.join("hub.key"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    (ca.pem(), cert, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_is_served_over_https_to_a_client_that_trusts_it() {
    let (ca, cert, key) = pki();
    let (c, k) = (cert.clone(), key.clone());
    let tune = move |config: &mut Config| {
        config.server.tls_cert = Some(c);
        config.server.tls_key = Some(k);
    };
    let app = spawn_app_tuned(false, &[], tune).await.unwrap();
    assert!(app.base.starts_with("https://127.0.0.1:"), "{}", app.base);
    let trusting = || {
        crossdock_connectors::tls::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
    };
    let secure = app.through(app.base.clone(), trusting().build().unwrap());
    assert_eq!(secure.get("/healthz").await.0, StatusCode::OK);
    let key = secure.make_key("tls", &["orders:read"], json!({})).await;
    let mut bearer = reqwest::header::HeaderMap::new();
    bearer.insert("authorization", format!("Bearer {key}").parse().unwrap());
    let keyed = trusting().default_headers(bearer).build().unwrap();
    let keyed = app.through(app.base.clone(), keyed);
    assert_eq!(keyed.get("/v1/orders").await.0, StatusCode::OK);
    assert_eq!(secure.get("/v1/orders").await.0, StatusCode::UNAUTHORIZED);

    // Plain HTTP to the same port gets no HTTP answer; nor does a client that does not
    // trust the certificate.
    let plain = app.base.replacen("https://", "http://", 1);
    let answered = reqwest::get(format!("{plain}/healthz")).await;
    assert!(answered.is_err(), "{answered:?}");
    let untrusting = crossdock_connectors::tls::builder().build().unwrap();
    let refused = untrusting.get(format!("{}/healthz", app.base)).send().await;
    assert!(refused.is_err(), "{refused:?}");
    std::fs::remove_dir_all(cert.parent().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_that_make_no_tls_server_stop_the_start_naming_them() {
    let (_, cert, key) = pki();
    let missing = cert.with_file_name("none.key");
    for (cert, key, named) in [
        (&cert, &missing, "server.tls_key"),
        (&key, &key, "server.tls_cert"),
        (&cert, &cert, "server.tls_key"),
    ] {
        let mut config = Config::parse(EXAMPLE).unwrap();
        config.server.tls_cert = Some(cert.clone());
        config.server.tls_key = Some(key.clone());
        let path = std::env::temp_dir().join(format!("crossdock-tls-{}.db", ulid::Ulid::new()));
        let store = crossdock_store::AnyStore::Sqlite(
            crossdock_store::SqliteStore::open(&path).await.unwrap(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shutdown = Shutdown::new();
        let started =
            crossdock_http::run_with_store(&config, store, listener, shutdown.clone()).await;
        shutdown.trigger();
        let e = started.err().expect("the start fails").to_string();
        assert!(e.contains(named), "{e}");
        crossdock_store::sqlite::remove_files(&path);
    }
    let half = Config::parse(&EXAMPLE.replace("[server]\n", "[server]\ntls_cert = \"hub.crt\"\n"));
    let e = half
        .expect_err("a cert without a key is refused")
        .to_string();
    assert!(e.contains("server.tls_key"), "{e}");
    std::fs::remove_dir_all(cert.parent().unwrap()).unwrap();
}
