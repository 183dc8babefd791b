//! The `rest` pack: a connector's calls (a `crossdock` one's too, when it has mappings),
//! reshaped by its mappings. crossdock makes the call of each
//! operation as its own REST shape has it (the `crossdock` kind's: path, method and body);
//! the mapping named after the operation (`post_sales_order`) turns that call into the one
//! the system takes, and the mapping named `OPERATION.answer` turns the system's answer into
//! what crossdock reads of it (for `post_sales_order`, `{"erp_order_id", "status"}`; for
//! `screen_fraud`, `{"score"}`; for `check_credit`, `{"status": "hold" | "ok"}`). An
//! operation without a mapping goes as crossdock's own shape has it.
//!
//! A request mapping reads `{"operation", "method", "path", "body"}` and gives `{"path",
//! "method", "body"}` (`path` from the connector's `url`, starting with `/`; `method`
//! crossdock's when left out; no `body`, or `null`, for none). An answer mapping reads
//! `{"operation", "request", "status", "answer"}`. A mapping that fails, or gives something
//! that is not a call, fails the job as `MAPPING_FAILED` with jq's message.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossdock_domain::ErrorCode;
use crossdock_engine::runner::JobResult;
use reqwest::Method;
use serde_json::{Value, json};

use crate::mapping::{Mapping, MappingError};

/// The suffix that names an operation's answer mapping.
pub const ANSWER: &str = ".answer";

/// A connector's request and answer mappings, by operation.
#[derive(Debug, Default)]
pub struct Shape {
    requests: BTreeMap<String, Mapping>,
    answers: BTreeMap<String, Mapping>,
}

/// One call, as crossdock makes it or as a mapping reshaped it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The HTTP method.
    pub method: Method,
    /// From the connector's URL, starting with `/`.
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

fn failed(error: impl std::fmt::Display) -> JobResult {
    JobResult::Permanent {
        code: ErrorCode::MappingFailed,
        error: error.to_string(),
    }
}

/// The shape `settings` give `system` (a `rest` connector's mappings), if any.
pub fn of(
    system: &str,
    settings: &crossdock_engine::config::SystemSettings,
) -> Result<Option<std::sync::Arc<Shape>>, crate::SetupError> {
    if settings.mappings.is_empty() {
        return Ok(None);
    }
    let shape = Shape::load(&settings.mappings).map_err(|(operation, error)| {
        crate::SetupError::Mapping {
            connector: system.to_string(),
            operation,
            error,
        }
    })?;
    Ok(Some(std::sync::Arc::new(shape)))
}

/// Longest input quoted in a mapping's failure, in characters.
const QUOTED: usize = 2_000;

/// `error` with the input the mapping read (its start, when long), so the exception shows
/// what the mapping was given.
fn read_from(error: MappingError, input: &Value) -> String {
    let text = input.to_string();
    let quoted: String = text.chars().take(QUOTED).collect();
    let more = if quoted.len() < text.len() {
        " …"
    } else {
        ""
    };
    format!("{error}; it read {quoted}{more}")
}

impl Shape {
    /// Loads `mappings` (operation, or `OPERATION.answer`, → jq file); none is empty.
    pub fn load(mappings: &BTreeMap<String, PathBuf>) -> Result<Self, (String, MappingError)> {
        let mut shape = Self::default();
        for (name, file) in mappings {
            let mapping = Mapping::load(file).map_err(|e| (name.clone(), e))?;
            match name.strip_suffix(ANSWER) {
                Some(op) => shape.answers.insert(op.to_string(), mapping),
                None => shape.requests.insert(name.clone(), mapping),
            };
        }
        Ok(shape)
    }

    /// Whether it reshapes nothing.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() && self.answers.is_empty()
    }

    /// The call of `operation` that crossdock's shape makes as `call`, as the system takes it.
    pub fn request(&self, operation: &str, call: Call) -> Result<Call, JobResult> {
        let Some(mapping) = self.requests.get(operation) else {
            return Ok(call);
        };
        let input = json!({"operation": operation, "method": call.method.as_str(),
                           "path": call.path, "body": call.body});
        let out = mapping
            .run(&input)
            .map_err(|e| failed(read_from(e, &input)))?;
        let path = out["path"]
            .as_str()
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| {
                failed(format!(
                    "{mapping:?} gave no path starting with / (it gave {out})"
                ))
            })?;
        let method = match out["method"].as_str() {
            None => call.method,
            Some(m) => match m.to_ascii_uppercase().as_str() {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "PATCH" => Method::PATCH,
                "DELETE" => Method::DELETE,
                other => {
                    return Err(failed(format!(
                        "{mapping:?} gave method `{other}`: one of GET, POST, PUT, PATCH, DELETE"
                    )));
                }
            },
        };
        let body = out.get("body").filter(|b| !b.is_null()).cloned();
        Ok(Call {
            method,
            path: path.to_string(),
            body,
        })
    }

    /// What crossdock reads of the system's `answer` (with `status`) to `request`.
    pub fn answer(
        &self,
        operation: &str,
        request: &Call,
        status: u16,
        answer: Value,
    ) -> Result<Value, JobResult> {
        let Some(mapping) = self.answers.get(operation) else {
            return Ok(answer);
        };
        let input = json!({"operation": operation, "status": status, "answer": answer,
            "request": {"method": request.method.as_str(), "path": request.path,
                        "body": request.body}});
        mapping
            .run(&input)
            .map_err(|e| failed(read_from(e, &input)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(named: &[(&str, &str)]) -> Shape {
        let mut shape = Shape::default();
        for (name, code) in named {
            let mapping = Mapping::compile(name, code).unwrap();
            match name.strip_suffix(ANSWER) {
                Some(op) => shape.answers.insert(op.to_string(), mapping),
                None => shape.requests.insert(name.to_string(), mapping),
            };
        }
        shape
    }

    fn call() -> Call {
        Call {
            method: Method::POST,
            path: "/sales-orders".into(),
            body: Some(json!({"external_ref": "ord_1", "lines": [{"sku": "A", "qty": 2}]})),
        }
    }

    #[test]
    fn a_mapping_reshapes_the_call_and_its_answer() {
        let s = shape(&[
            (
                "post_sales_order",
                r#"{method: "PUT", path: "/api/orders/\(.body.external_ref)",
                    body: {items: [.body.lines[] | {code: .sku, n: .qty}]}}"#,
            ),
            (
                "post_sales_order.answer",
                r#"{erp_order_id: .answer.order.number, status: .answer.order.state}"#,
            ),
        ]);
        let made = s.request("post_sales_order", call()).unwrap();
        assert_eq!(made.method, Method::PUT);
        assert_eq!(made.path, "/api/orders/ord_1");
        assert_eq!(made.body, Some(json!({"items": [{"code": "A", "n": 2}]})));
        let read = s
            .answer(
                "post_sales_order",
                &made,
                201,
                json!({"order": {"number": "SO-9", "state": "open"}}),
            )
            .unwrap();
        assert_eq!(read, json!({"erp_order_id": "SO-9", "status": "open"}));
    }

    #[test]
    fn an_operation_without_a_mapping_goes_as_crossdock_makes_it() {
        let s = shape(&[]);
        assert_eq!(s.request("post_fulfilment", call()).unwrap(), call());
        assert_eq!(
            s.answer("post_fulfilment", &call(), 200, json!({"a": 1}))
                .unwrap(),
            json!({"a": 1})
        );
    }

    #[test]
    fn what_is_not_a_call_fails_as_a_mapping() {
        for code in [
            r#"{path: "no-slash"}"#,
            r#"{path: "/x", method: "BREW"}"#,
            r#"error("no")"#,
        ] {
            let s = shape(&[("post_sales_order", code)]);
            match s.request("post_sales_order", call()) {
                Err(JobResult::Permanent { code, .. }) => {
                    assert_eq!(code, ErrorCode::MappingFailed)
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
