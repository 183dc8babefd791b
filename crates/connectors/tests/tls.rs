//! Outbound HTTPS: a system behind a private CA is reached when its `ca_file` names the CA and
//! refused, saying why, when it does not; the configured credentials arrive as headers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossdock_connectors::remote::Remote;
use crossdock_engine::config::{Auth, Secret, SystemSettings};
use crossdock_engine::runner::JobResult;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A test CA and a certificate it signed for `localhost`.
struct Pki {
    ca_pem: String,
    leaf: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "crossdock test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        leaf: leaf.der().clone(),
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
    }
}

/// An HTTPS server on localhost answering `{"ok":true}` to everything; returns its port and
/// the request heads it saw.
async fn https_server(pki: &Pki) -> (u16, Arc<Mutex<Vec<String>>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.leaf.clone()], pki.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let heads = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, heads) = (acceptor.clone(), heads.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate gives up in the handshake.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                heads
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).to_lowercase());
                let body = br#"{"ok":true}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, seen)
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crossdock-tls-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn settings(port: u16, ca_file: Option<&Path>, auth: Option<Auth>) -> SystemSettings {
    let mut s = SystemSettings::at(format!("https://localhost:{port}"));
    s.ca_file = ca_file.map(Path::to_path_buf);
    s.auth = auth;
    s
}

#[tokio::test]
async fn a_private_ca_is_trusted_when_named_and_refused_clearly_when_not() {
    let pki = pki();
    let (port, seen) = https_server(&pki).await;
    let ca = temp_file("ca.pem", &pki.ca_pem);
    let token = temp_file("token", "s3cr3t-token\n");
    let auth = Auth::Bearer {
        token: Secret::File(token.clone()),
    };
    let wait = Duration::from_secs(5);

    let trusted = Remote::configured("erp", &settings(port, Some(&ca), Some(auth)), wait).unwrap();
    let answer = trusted.get("/ping").await.unwrap();
    assert_eq!(answer["ok"], true);
    let head = seen.lock().unwrap().pop().unwrap();
    assert!(head.starts_with("get /ping http/1.1"), "{head}");
    assert!(
        head.contains("authorization: bearer s3cr3t-token"),
        "{head}"
    );
    // The credential never prints with the client.
    assert!(!format!("{trusted:?}").contains("s3cr3t"));

    let untrusted = Remote::configured("erp", &settings(port, None, None), wait).unwrap();
    match untrusted.get("/ping").await {
        Err(JobResult::Transient { error, .. }) => {
            assert!(error.contains("certificate"), "{error}");
            assert!(error.starts_with("ERP unreachable"), "{error}");
        }
        other => panic!("expected a refused certificate, got {other:?}"),
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing was sent without trust"
    );
}

#[tokio::test]
async fn basic_and_header_credentials_are_sent_and_a_missing_one_stops_the_start() {
    let pki = pki();
    let (port, seen) = https_server(&pki).await;
    let ca = temp_file("ca.pem", &pki.ca_pem);
    let password = temp_file("password", "s3cr3t");
    let wait = Duration::from_secs(5);
    let basic = Auth::Basic {
        user: "svc".into(),
        password: Secret::File(password.clone()),
    };
    let remote = Remote::configured("erp", &settings(port, Some(&ca), Some(basic)), wait).unwrap();
    remote.get("/a").await.unwrap();
    // base64("svc:s3cr3t")
    let head = seen.lock().unwrap().pop().unwrap();
    assert!(
        head.contains("authorization: basic c3zjonmzy3izda=="),
        "{head}"
    );

    let header = Auth::Header {
        name: "X-Shopify-Access-Token".into(),
        value: Secret::File(password.clone()),
    };
    let remote =
        Remote::configured("storefront", &settings(port, Some(&ca), Some(header)), wait).unwrap();
    remote.get("/b").await.unwrap();
    let head = seen.lock().unwrap().pop().unwrap();
    assert!(head.contains("x-shopify-access-token: s3cr3t"), "{head}");

    let unset = Auth::Bearer {
        token: Secret::Env("CROSSDOCK_TEST_TOKEN_THAT_IS_NOT_SET".into()),
    };
    let e = Remote::configured("erp", &settings(port, Some(&ca), Some(unset)), wait).unwrap_err();
    assert!(
        e.to_string()
            .contains("CROSSDOCK_TEST_TOKEN_THAT_IS_NOT_SET"),
        "{e}"
    );
    let missing_ca = PathBuf::from("/nonexistent/ca.pem");
    let e = Remote::configured("erp", &settings(port, Some(&missing_ca), None), wait).unwrap_err();
    assert!(e.to_string().contains("ca_file /nonexistent/ca.pem"), "{e}");
}
