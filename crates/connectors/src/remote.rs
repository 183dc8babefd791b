//! One outside system over REST: JSON in and out, and every answer sorted into done, worth
//! retrying (timeouts, refused connections, 5xx, 408, 429 with its `Retry-After`) or refused
//! (any other 4xx, which becomes an exception with the system's `…_REJECTED` code). A call
//! made for a job sends the job's correlation id as `X-Correlation-ID`.

use std::sync::Arc;
use std::time::Duration;

use crossdock_engine::config::SystemSettings;
use crossdock_engine::runner::{JobResult, tried};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::auth::Credentials;
use crate::tls::{self, ClientError};

/// The header every call made for a job carries its transaction's correlation id in.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// What a system answered a call it took: its status, its `Location` (where a record it
/// made lives) and its body (`null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status, a success.
    pub status: StatusCode,
    /// The `Location` header, when given.
    pub location: Option<String>,
    /// The body.
    pub body: Value,
}

/// How a system words a refusal: the message for the exception and whether retrying may
/// help (a vendor's concurrency limit answered as 400, say); `None` to sort it by status.
pub type ReadRefusal = fn(StatusCode, &Value) -> Option<Refusal>;

/// A refusal as its system's pack reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What the system said, for the exception.
    pub message: String,
    /// True when the same call may succeed later.
    pub retry: bool,
}

/// A system's base URL, how long to wait for it and the credentials it is called with.
#[derive(Debug, Clone)]
pub struct Remote {
    http: reqwest::Client,
    base: String,
    /// What every call carries to prove who is calling.
    credentials: Arc<Credentials>,
    /// Name in messages, e.g. `ERP`.
    name: String,
    /// Exception code for a refusal, e.g. `ERP_REJECTED`.
    rejected: crossdock_domain::ErrorCode,
    /// The system's own reading of its refusals.
    read_refusal: Option<ReadRefusal>,
    /// Whether a change (PATCH, DELETE) says it applies to any version of the record
    /// (`If-Match: *`), as OData services ask.
    if_match_any: bool,
    /// A `rest` connector's mappings, reshaping its operations' calls.
    shape: Option<Arc<crate::packs::rest::Shape>>,
}

impl Remote {
    /// `system` (one of the configured systems) at `base_url`, without credentials.
    pub fn new(system: &str, base_url: &str, timeout: Duration) -> Result<Self, ClientError> {
        Self::configured(system, &SystemSettings::at(base_url), timeout)
    }

    /// `system` as `settings` configure it (URL, `ca_file`, `auth`), waiting at most
    /// `timeout`. Reads the credentials now, so a missing one stops the start.
    pub fn configured(
        system: &str,
        settings: &SystemSettings,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let http = tls::client(system, timeout, settings.ca_file.as_deref())?;
        let credentials = Credentials::new(system, settings.auth.as_ref(), &http)?;
        Ok(Self {
            http,
            base: settings.url.trim_end_matches('/').to_string(),
            credentials: Arc::new(credentials),
            name: system.to_uppercase(),
            rejected: crossdock_domain::ErrorCode::rejected_by(system),
            read_refusal: None,
            if_match_any: false,
            shape: None,
        })
    }

    /// The same remote, named `name` in messages (a connector's, e.g. `NetSuite`), reading
    /// refusals with `read`.
    pub fn speaking(mut self, name: &str, read: ReadRefusal) -> Self {
        self.name = name.to_string();
        self.read_refusal = Some(read);
        self
    }

    /// The same remote, every change (PATCH, DELETE) sent with `If-Match: *`: it applies to
    /// the record whatever its version, as an OData service (Business Central) requires.
    pub fn changing_any_version(mut self) -> Self {
        self.if_match_any = true;
        self
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(reqwest::Response, HeaderMap), JobResult> {
        let url = reqwest::Url::parse(&format!("{}{path}", self.base)).map_err(|e| {
            JobResult::Permanent {
                code: self.rejected,
                error: format!("{}: `{}{path}` is not a URL: {e}", self.name, self.base),
            }
        })?;
        let headers = self
            .credentials
            .headers(&method, &url, &self.name, self.rejected)
            .await?;
        let change = method == Method::PATCH || method == Method::DELETE;
        let mut req = self.http.request(method, url).headers(headers.clone());
        if change && self.if_match_any {
            req = req.header(reqwest::header::IF_MATCH, "*");
        }
        // The job's transaction, so the system's own logs can be matched with ours.
        if let Some(id) =
            tried::correlation_id().and_then(|id| reqwest::header::HeaderValue::from_str(&id).ok())
        {
            req = req.header(CORRELATION_HEADER, id);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.map_err(|e| JobResult::Transient {
            error: format!("{} unreachable or too slow: {}", self.name, causes(&e)),
            retry_after: None,
        })?;
        Ok((res, headers))
    }

    /// The same remote, its operations' calls reshaped by `shape` (a `rest` connector's).
    pub fn shaped(mut self, shape: Arc<crate::packs::rest::Shape>) -> Self {
        self.shape = Some(shape);
        self
    }

    /// The call of `operation` (a job's kind, e.g. `post_sales_order`) that crossdock's REST
    /// shape makes as `method` on `path` with `body`, reshaped by the connector's mappings
    /// when it has them: the answer, as the answer mapping reads it.
    pub async fn operation(
        &self,
        operation: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, JobResult> {
        let Some(shape) = &self.shape else {
            return self.call(method, path, body).await;
        };
        let asked = crate::packs::rest::Call {
            method,
            path: path.to_string(),
            body: body.cloned(),
        };
        let call = shape.request(operation, asked)?;
        let answer = self
            .exchange(call.method.clone(), &call.path, call.body.as_ref())
            .await?;
        shape.answer(operation, &call, answer.status.as_u16(), answer.body)
    }

    /// POSTs `body` to `path` (which starts with `/`; build it with [`segment`]).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, JobResult> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Result<Value, JobResult> {
        self.call(Method::GET, path, None).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, JobResult> {
        Ok(self.exchange(method, path, body).await?.body)
    }

    /// Calls `path` with `method` (and `body`): the whole answer to a call the system took.
    pub async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, JobResult> {
        let res = self.respond(method, path, body).await?;
        self.sort(res).await
    }

    /// GETs `path`, a record that may not exist: `None` when the system answers 404.
    pub async fn find(&self, path: &str) -> Result<Option<Value>, JobResult> {
        self.if_there(Method::GET, path).await
    }

    /// Calls `path` with `method` and no body, on a record that may not exist: `None` when
    /// the system answers 404 (a DELETE of a record already gone, say).
    pub async fn if_there(&self, method: Method, path: &str) -> Result<Option<Value>, JobResult> {
        let res = self.respond(method, path, None).await?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(self.sort(res).await?.body))
    }

    /// The system's response to the call, whatever its status.
    async fn respond(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::Response, JobResult> {
        let (mut res, used) = self.send(method.clone(), path, body).await?;
        // A token the system no longer takes is asked for again, once.
        if res.status() == StatusCode::UNAUTHORIZED && self.credentials.refused(&used).await {
            res = self.send(method, path, body).await?.0;
        }
        tried::answered(res.status().as_u16());
        Ok(res)
    }

    /// Sorts a response into an answer, a call worth retrying or a refusal.
    async fn sort(&self, res: reqwest::Response) -> Result<Answer, JobResult> {
        let status = res.status();
        let retry_after = retry_after(res.headers());
        let location = res
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success()
            && let Some(refusal) = self.read_refusal.and_then(|read| read(status, &answer))
        {
            let error = format!("{} refused ({status}): {}", self.name, refusal.message);
            return Err(if refusal.retry {
                JobResult::Transient { error, retry_after }
            } else {
                JobResult::Permanent {
                    code: self.rejected,
                    error,
                }
            });
        }
        match status {
            s if s.is_success() => Ok(Answer {
                status,
                location,
                body: answer,
            }),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => {
                Err(JobResult::Transient {
                    error: format!("{} answered {status}", self.name),
                    retry_after,
                })
            }
            s if s.is_server_error() => Err(JobResult::Transient {
                error: format!("{} answered {s}: {answer}", self.name),
                retry_after,
            }),
            s => Err(JobResult::Permanent {
                code: self.rejected,
                error: format!("{} refused ({s}): {answer}", self.name),
            }),
        }
    }
}

/// An error with every cause under it (`error sending request: … invalid peer certificate:
/// UnknownIssuer`), so the reason reaches the exception rather than only its first line.
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = cause.source();
    }
    text
}

/// Bytes a path segment carries as they are: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `value` made safe as one path segment (ids from channels may hold `/`, `#`, spaces).
pub fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, UNRESERVED).to_string()
}

/// How long an answer's `Retry-After` asks to wait: a number of seconds, or an HTTP date
/// (a date already past asks for no wait).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_escape_everything_but_unreserved() {
        assert_eq!(segment("ord_01ABC"), "ord_01ABC");
        assert_eq!(segment("W/1001 #2"), "W%2F1001%20%232");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date() {
        let with = |v: &str| {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(reqwest::header::RETRY_AFTER, v.parse().unwrap());
            retry_after(&h)
        };
        assert_eq!(with("120"), Some(Duration::from_secs(120)));
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(600);
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&soon)
            .unwrap();
        let wait = with(&date).unwrap();
        assert!(
            wait > Duration::from_secs(590) && wait <= Duration::from_secs(600),
            "{date}"
        );
        assert_eq!(with("soon"), None);
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new()), None);
    }
}
