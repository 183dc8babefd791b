//! A JSON body extractor whose failures are problem+json: 400 for malformed JSON, 413 for a
//! body over the limit, 415 without a JSON content type, 422 for a well-formed body of the
//! wrong shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use crossdock_domain::ErrorCode;
use serde::de::DeserializeOwned;

use crate::json_keys::check_unique_keys;
use crate::problem::Problem;
use crate::server::BodyTimeout;

/// Like `axum::Json`, answering problems.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(problem(JsonRejection::MissingJsonContentType(
                Default::default(),
            )));
        }
        let limit = req.extensions().get::<BodyTimeout>().map(|t| t.0);
        let read = axum::body::Bytes::from_request(req, state);
        let read = match limit {
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .map_err(|_| too_slow(limit))?,
            None => read.await,
        };
        let bytes = read.map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            _ => Problem::new(ErrorCode::MalformedJson, e.body_text()),
        })?;
        check_unique_keys(&bytes).map_err(Problem::invalid)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(problem(rejection)),
        }
    }
}

/// `application/json` or any `+json` type, as axum's own extractor accepts.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence.starts_with("application/") && essence.ends_with("+json")
}

fn too_slow(limit: std::time::Duration) -> Problem {
    Problem::new(
        ErrorCode::RequestTimeout,
        format!(
            "the request body did not arrive within {} ms",
            limit.as_millis()
        ),
    )
    .remediation("Send the whole body at once, or raise server.body_timeout_ms.")
}

fn too_large() -> Problem {
    Problem::new(
        ErrorCode::PayloadTooLarge,
        "the request body is larger than the server accepts",
    )
    .remediation("Send fewer items per call, or raise server.max_body_bytes.")
}

fn problem(rejection: JsonRejection) -> Problem {
    let text = rejection.body_text();
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(ErrorCode::UnsupportedMediaType, text)
            .remediation("Send the body as JSON with Content-Type: application/json."),
        StatusCode::UNPROCESSABLE_ENTITY => Problem::invalid(text),
        _ => {
            Problem::new(ErrorCode::MalformedJson, text).remediation("Send a valid JSON document.")
        }
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// Like `axum::extract::Query`, answering problems: a parameter the route does not know is
/// 400 `QUERY_INVALID` (each route's parameters are declared with `deny_unknown_fields`, so a
/// misspelt filter is never silently ignored); a value that does not parse is 422.
pub struct Query<T>(pub T);

/// The parameters of a route that takes none.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| {
                let detail = e.body_text();
                let detail = detail
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&detail);
                if detail.contains("unknown field `") {
                    Problem::new(ErrorCode::QueryInvalid, detail).remediation(
                        "Send only the parameters the route documents (GET /openapi.json).",
                    )
                } else {
                    Problem::invalid(detail)
                }
            })
    }
}
