//! OAuth 2.0 client credentials against a local authorization server: one token asked for
//! and kept while it lasts (however many calls race for it), asked again shortly before it
//! expires and once when the system refuses it, and a refused client named without its secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use crossdock_connectors::remote::Remote;
use crossdock_domain::ErrorCode;
use crossdock_engine::config::{Auth, Secret, SystemSettings};
use crossdock_engine::runner::JobResult;
use serde_json::{Value, json};

#[derive(Default)]
struct Server {
    /// `Authorization` headers seen at `/signed`.
    signed: std::sync::Mutex<Vec<String>>,
    /// Tokens handed out; the newest is the only one the API takes.
    issued: AtomicU64,
    /// Seconds each token lasts.
    lifetime: AtomicU64,
}

async fn token(State(s): State<Arc<Server>>, body: String) -> (StatusCode, axum::Json<Value>) {
    if !body.contains("grant_type=client_credentials") || !body.contains("client_id=crossdock") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_request"})),
        );
    }
    if !body.contains("client_secret=s3cr3t") {
        let refusal = json!({"error": "invalid_client", "error_description": "unknown client"});
        return (StatusCode::UNAUTHORIZED, axum::Json(refusal));
    }
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let lifetime = s.lifetime.load(Ordering::SeqCst);
    let answer = json!({"access_token": format!("tok-{n}"), "token_type": "Bearer",
                        "expires_in": lifetime});
    (StatusCode::OK, axum::Json(answer))
}

async fn api(State(s): State<Arc<Server>>, headers: HeaderMap) -> (StatusCode, axum::Json<Value>) {
    let newest = format!("Bearer tok-{}", s.issued.load(Ordering::SeqCst));
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(t) if t == newest => (StatusCode::OK, axum::Json(json!({"ok": true}))),
        _ => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_token"})),
        ),
    }
}

async fn signed(State(s): State<Arc<Server>>, headers: HeaderMap) -> axum::Json<Value> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    s.signed
        .lock()
        .unwrap()
        .push(auth.unwrap_or_default().to_string());
    axum::Json(json!({"ok": true}))
}

/// Revokes every token handed out so far: the next one asked for is the only one taken.
async fn revoke(State(s): State<Arc<Server>>) -> StatusCode {
    s.issued.fetch_add(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

async fn server(lifetime: u64) -> (String, Arc<Server>) {
    let state = Arc::new(Server::default());
    state.lifetime.store(lifetime, Ordering::SeqCst);
    let app = Router::new()
        .route("/token", post(token))
        .route("/api", get(api))
        .route("/revoke", post(revoke))
        .route("/signed", get(signed))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}

fn remote(base: &str, secret: &str) -> Remote {
    let dir = std::env::temp_dir().join(format!("crossdock-oauth-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("client_secret");
    std::fs::write(&path, secret).unwrap();
    let mut settings = SystemSettings::at(base.to_string());
    settings.auth = Some(Auth::OAuth2ClientCredentials {
        token_url: format!("{base}/token"),
        client_id: "crossdock".into(),
        client_secret: Secret::File(path),
        scope: Some("https://api.example.com/.default".into()),
    });
    Remote::configured("erp", &settings, Duration::from_secs(5)).unwrap()
}

fn tokens(s: &Server) -> u64 {
    s.issued.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_is_kept_while_it_lasts_and_asked_again_when_refused_or_expiring() {
    let (base, state) = server(3_600).await;
    let erp = Arc::new(remote(&base, "s3cr3t"));
    // Calls racing with no token yet wait for one request.
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let erp = erp.clone();
            tokio::spawn(async move { erp.get("/api").await })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap()["ok"], true);
    }
    assert_eq!(tokens(&state), 1, "one token for all of them");
    erp.get("/api").await.unwrap();
    assert_eq!(tokens(&state), 1, "kept while it lasts");

    // Revoked: the call is refused once, a new token is asked for, the call goes through.
    let http = crossdock_connectors::tls::builder().build().unwrap();
    http.post(format!("{base}/revoke")).send().await.unwrap();
    let revoked = tokens(&state);
    assert_eq!(erp.get("/api").await.unwrap()["ok"], true);
    assert_eq!(tokens(&state), revoked + 1);

    // A token that lasts a second is asked for again before it runs out.
    let (base, state) = server(1).await;
    let short = remote(&base, "s3cr3t");
    short.get("/api").await.unwrap();
    tokio::time::sleep(Duration::from_millis(950)).await;
    short.get("/api").await.unwrap();
    assert_eq!(tokens(&state), 2);
}

#[tokio::test]
async fn a_refused_client_is_an_exception_that_names_the_reason_not_the_secret() {
    let (base, state) = server(3_600).await;
    let erp = remote(&base, "wrong-secret");
    match erp.get("/api").await {
        Err(JobResult::Permanent { code, error }) => {
            assert_eq!(code, ErrorCode::ErpRejected);
            assert!(error.contains("invalid_client: unknown client"), "{error}");
            assert!(!error.contains("wrong-secret"), "{error}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(tokens(&state), 0);
    assert!(!format!("{erp:?}").contains("wrong-secret"));
}

#[tokio::test]
async fn netsuite_calls_are_each_signed_with_a_fresh_nonce_for_the_account() {
    let (base, state) = server(3_600).await;
    let dir = std::env::temp_dir().join(format!("crossdock-tba-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = |name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("{name}-value")).unwrap();
        Secret::File(path)
    };
    let mut settings = SystemSettings::at(base.clone());
    settings.auth = Some(Auth::NetsuiteTba {
        account: "1234567_SB1".into(),
        consumer_key: secret("ck"),
        consumer_secret: secret("cs"),
        token_id: secret("ti"),
        token_secret: secret("ts"),
    });
    let erp = Remote::configured("erp", &settings, Duration::from_secs(5)).unwrap();
    erp.get("/signed?expand=true").await.unwrap();
    erp.get("/signed?expand=true").await.unwrap();
    let seen = state.signed.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for header in &seen {
        assert!(
            header.starts_with("OAuth realm=\"1234567_SB1\", "),
            "{header}"
        );
        assert!(
            header.contains("oauth_consumer_key=\"ck-value\""),
            "{header}"
        );
        assert!(header.contains("oauth_token=\"ti-value\""), "{header}");
        assert!(
            header.contains("oauth_signature_method=\"HMAC-SHA256\""),
            "{header}"
        );
        assert!(
            !header.contains("cs-value") && !header.contains("ts-value"),
            "{header}"
        );
    }
    let nonce = |h: &str| h.split("oauth_nonce=").nth(1).map(str::to_string);
    assert_ne!(nonce(&seen[0]), nonce(&seen[1]), "a fresh nonce each time");
}
