//! A system's credentials on the wire: fixed headers (a bearer token, HTTP Basic, a header of
//! the system's own); OAuth 2.0 client credentials, whose bearer token is asked of the
//! authorization server, kept until shortly before it expires and asked again when the system
//! says it no longer stands (401); or OAuth 1.0a, each request signed (NetSuite's token-based
//! authentication). Every value is marked sensitive, so it never prints.

use std::time::{Duration, Instant};

use base64::Engine;
use crossdock_engine::config::{Auth, Secret};
use crossdock_engine::runner::JobResult;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::oauth1::OAuth1Keys;
use crate::tls::ClientError;

/// A token is asked for again this long before the server said it expires, at most.
const EARLY: Duration = Duration::from_secs(60);

/// What a call carries to prove who is calling.
#[derive(Debug)]
pub enum Credentials {
    /// The same headers on every call (none, for a system without `auth`).
    Fixed(HeaderMap),
    /// A bearer token from an OAuth 2.0 token endpoint.
    OAuth2(TokenSource),
    /// OAuth 1.0a signatures, one per request (NetSuite's token-based authentication).
    OAuth1(OAuth1Keys),
}

/// Asks an OAuth 2.0 token endpoint for client-credentials tokens and keeps the current one.
#[derive(Debug)]
pub struct TokenSource {
    http: reqwest::Client,
    token_url: String,
    /// The form sent to the endpoint (holds the client secret).
    form: SensitiveForm,
    /// The token and when to stop using it. The lock is held while a token is asked for,
    /// so calls that find none wait for one request rather than each making their own.
    current: Mutex<Option<(HeaderValue, Instant)>>,
}

/// The token request's body; it prints as `SensitiveForm(..)`.
struct SensitiveForm(String);

impl std::fmt::Debug for SensitiveForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SensitiveForm(..)")
    }
}

fn reveal(system: &str, s: &Secret) -> Result<String, ClientError> {
    s.reveal().map_err(|source| ClientError::Secret {
        system: system.to_string(),
        source,
    })
}

fn header_error(system: &str, reason: impl Into<String>) -> ClientError {
    ClientError::Header {
        system: system.to_string(),
        reason: reason.into(),
    }
}

fn sensitive(system: &str, value: &str) -> Result<HeaderValue, ClientError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| header_error(system, "the secret holds characters a header cannot carry"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// `application/x-www-form-urlencoded` (the WHATWG rules RFC 6749 uses).
fn form(pairs: &[(&str, &str)]) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'*')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_');
    pairs
        .iter()
        .map(|(k, v)| {
            let v = percent_encoding::utf8_percent_encode(v, KEEP).to_string();
            format!("{k}={}", v.replace("%20", "+"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Credentials {
    /// The credentials `auth` configures for `system`, read now (a missing secret is an
    /// error here, at start, not at the first call). `http` asks for tokens.
    pub fn new(
        system: &str,
        auth: Option<&Auth>,
        http: &reqwest::Client,
    ) -> Result<Self, ClientError> {
        let fixed = |name: HeaderName, value: String| -> Result<Self, ClientError> {
            let mut headers = HeaderMap::new();
            headers.insert(name, sensitive(system, &value)?);
            Ok(Credentials::Fixed(headers))
        };
        match auth {
            None => Ok(Credentials::Fixed(HeaderMap::new())),
            Some(Auth::Header { name, value }) => fixed(
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| header_error(system, format!("`{name}` is not a header name")))?,
                reveal(system, value)?,
            ),
            Some(Auth::Bearer { token }) => {
                fixed(AUTHORIZATION, format!("Bearer {}", reveal(system, token)?))
            }
            Some(Auth::Basic { user, password }) => {
                let pair = format!("{user}:{}", reveal(system, password)?);
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                fixed(AUTHORIZATION, format!("Basic {encoded}"))
            }
            Some(Auth::OAuth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            }) => {
                let secret = reveal(system, client_secret)?;
                let mut pairs = vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.as_str()),
                ];
                if let Some(scope) = scope {
                    pairs.push(("scope", scope.as_str()));
                }
                Ok(Credentials::OAuth2(TokenSource {
                    http: http.clone(),
                    token_url: token_url.clone(),
                    form: SensitiveForm(form(&pairs)),
                    current: Mutex::new(None),
                }))
            }
            Some(Auth::NetsuiteTba {
                account,
                consumer_key,
                consumer_secret,
                token_id,
                token_secret,
            }) => Ok(Credentials::OAuth1(OAuth1Keys {
                realm: account.clone(),
                consumer_key: reveal(system, consumer_key)?,
                consumer_secret: reveal(system, consumer_secret)?,
                token: reveal(system, token_id)?,
                token_secret: reveal(system, token_secret)?,
            })),
        }
    }

    /// The headers for a call of `method` to `url`. `name` (e.g. `ERP`) and `rejected`
    /// (its `…_REJECTED` code) word a token endpoint's refusal.
    pub async fn headers(
        &self,
        method: &reqwest::Method,
        url: &reqwest::Url,
        name: &str,
        rejected: crossdock_domain::ErrorCode,
    ) -> Result<HeaderMap, JobResult> {
        match self {
            Credentials::Fixed(headers) => Ok(headers.clone()),
            Credentials::OAuth1(keys) => {
                let timestamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let nonce = ulid::Ulid::new().to_string();
                let header = keys.authorization(method.as_str(), url, timestamp, &nonce);
                let mut value =
                    HeaderValue::from_str(&header).map_err(|_| JobResult::Permanent {
                        code: rejected,
                        error: format!("{name}: the OAuth 1.0a header cannot be sent"),
                    })?;
                value.set_sensitive(true);
                let mut headers = HeaderMap::new();
                headers.insert(AUTHORIZATION, value);
                Ok(headers)
            }
            Credentials::OAuth2(source) => {
                let token = source.token(name, rejected).await?;
                let mut headers = HeaderMap::new();
                headers.insert(AUTHORIZATION, token);
                Ok(headers)
            }
        }
    }

    /// After a 401 to a call that carried `used`: forgets that token (unless another call
    /// has already replaced it), and says whether asking for a new one may help.
    pub async fn refused(&self, used: &HeaderMap) -> bool {
        match self {
            Credentials::Fixed(_) | Credentials::OAuth1(_) => false,
            Credentials::OAuth2(source) => {
                let mut current = source.current.lock().await;
                if current.as_ref().map(|(token, _)| token) == used.get(AUTHORIZATION) {
                    *current = None;
                }
                true
            }
        }
    }
}

impl TokenSource {
    async fn token(
        &self,
        name: &str,
        rejected: crossdock_domain::ErrorCode,
    ) -> Result<HeaderValue, JobResult> {
        let mut current = self.current.lock().await;
        if let Some((token, until)) = &*current
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let transient = |error: String| JobResult::Transient {
            error,
            retry_after: None,
        };
        let res = self
            .http
            .post(&self.token_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(self.form.0.clone())
            .send()
            .await
            .map_err(|e| transient(format!("{name}'s token endpoint unreachable: {e}")))?;
        let status = res.status();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(transient(format!(
                "{name}'s token endpoint answered {status}"
            )));
        }
        // RFC 6749 §5.2: `error` and `error_description` say why, and hold no secret.
        let refused = |why: String| JobResult::Permanent {
            code: rejected,
            error: format!("{name}'s token endpoint refused the client credentials: {why}"),
        };
        if !status.is_success() {
            let why = [&answer["error"], &answer["error_description"]]
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(": ");
            return Err(refused(format!("{status} {why}")));
        }
        let Some(access) = answer["access_token"].as_str() else {
            return Err(refused("the answer has no access_token".into()));
        };
        let lifetime = Duration::from_secs(answer["expires_in"].as_u64().unwrap_or(3_600));
        let early = EARLY.min(lifetime / 10);
        let mut token = HeaderValue::from_str(&format!("Bearer {access}"))
            .map_err(|_| refused("the access_token cannot be sent as a header".into()))?;
        token.set_sensitive(true);
        *current = Some((token.clone(), Instant::now() + lifetime - early));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_url_encoded() {
        assert_eq!(
            form(&[("grant_type", "client_credentials"), ("scope", "a b/c&d=é")]),
            "grant_type=client_credentials&scope=a+b%2Fc%26d%3D%C3%A9"
        );
    }
}
