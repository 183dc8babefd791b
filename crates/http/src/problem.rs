//! Errors as RFC 9457 problem+json, each with a stable `code`. 5xx are logged here, once.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crossdock_domain::ErrorCode;
use crossdock_engine::EngineError;
use serde_json::{Map, Value, json};

/// An error answer.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    remediation: Option<String>,
    extra: Map<String, Value>,
}

impl Problem {
    /// A problem with a code (which gives the status, [`ErrorCode::status`]) and a sentence
    /// for a person.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::with_status(status, code, detail)
    }

    /// A request body that failed validation: 422, with the code of its one failing field
    /// (or `VALIDATION_FAILED` for several), whatever status that code has on its own.
    pub fn in_body(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    fn with_status(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            remediation: None,
            extra: Map::new(),
        }
    }

    /// 422 VALIDATION_FAILED.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, detail)
    }

    /// Says what to do about it.
    pub fn remediation(mut self, text: impl Into<String>) -> Self {
        self.remediation = Some(text.into());
        self
    }

    /// Adds a member to the body.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code.as_str(), detail = %self.detail, "request failed");
        }
        let mut body = json!({
            "type": format!("urn:crossdock:problem:{}", self.code.as_str().to_lowercase().replace('_', "-")),
            "title": self.code.title(),
            "status": self.status.as_u16(),
            "code": self.code.as_str(),
            "detail": self.detail,
        });
        if let Some(r) = self.remediation {
            body["remediation"] = Value::String(r);
        }
        if let Value::Object(map) = &mut body {
            map.extend(self.extra);
        }
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

impl From<crossdock_store::StoreError> for Problem {
    fn from(e: crossdock_store::StoreError) -> Self {
        Problem::from(EngineError::from(e))
    }
}

impl From<EngineError> for Problem {
    fn from(e: EngineError) -> Self {
        match &e {
            EngineError::SkuUnknown(_) => Problem::new(ErrorCode::SkuUnknown, e.to_string())
                .remediation("Add the SKU with POST /v1/items, or sync the item master."),
            EngineError::ChannelUnknown(_) => {
                Problem::new(ErrorCode::ChannelUnknown, e.to_string()).remediation(
                    "Use a channel code defined under [[channels]] in the configuration.",
                )
            }
            EngineError::StoreUnavailable(_) => {
                Problem::new(ErrorCode::StoreUnavailable, e.to_string())
                    .remediation("Nothing was written. Retry; if it persists, check the database.")
            }
            EngineError::ShuttingDown => Problem::new(ErrorCode::StoreUnavailable, e.to_string())
                .remediation("Retry against another instance or after the restart."),
        }
    }
}
