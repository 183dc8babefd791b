//! The OpenAPI document, made from the code: each route's `#[utoipa::path]` sits on its
//! handler, the query parameters are the structs the handlers read them into, the request
//! bodies are the structs serde reads (and, for the bodies read field by field with
//! per-field errors, the shapes in this module), and every enum is listed from the domain's
//! own values. The answers every `/v1` route shares (400, and 413/415 for a JSON body) come
//! from the extractors, so they are added here once. Served at `/openapi.json`; CI runs
//! schemathesis against a running server with it.

use std::sync::LazyLock;

use serde_json::{Value, json};
use utoipa::OpenApi;

mod inventory;
mod operations;
mod ops;
mod orders;
mod words;

pub(crate) use inventory::*;
pub(crate) use operations::*;
pub(crate) use ops::*;
pub(crate) use orders::*;
pub(crate) use words::*;

use crate::v1;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "crossdock",
        description = "Self-hosted sync hub between ERP, storefronts and warehouses. Inventory \
            as a service: stock events in, available-to-sell out, reservations that never \
            oversell. Every error is application/problem+json with a stable `code`."
    ),
    paths(
        crate::healthz,
        crate::readyz,
        crate::openapi_json,
        v1::items::upsert_items,
        v1::inventory_events::post_events,
        v1::availability::sku_availability,
        v1::availability::query,
        v1::reservations::create,
        v1::reservations::show,
        v1::reservations::release,
        v1::events::list,
        v1::orders::create,
        v1::orders::list,
        v1::orders::show,
        v1::jobs::list,
        v1::jobs::retry,
        v1::exceptions::list,
        v1::exceptions::show,
        v1::exceptions::retry,
        v1::exceptions::resolve,
        v1::orders::cancel,
        v1::exceptions::cancel_order,
        v1::fulfilment::shipment,
        v1::fulfilment::invoice,
        v1::fulfilment::open_return,
        v1::fulfilment::erp_status,
        v1::hooks::receive,
        v1::hooks::rejections,
        v1::bindings::put,
        v1::bindings::list,
        v1::subscriptions::create,
        v1::subscriptions::list,
        v1::subscriptions::show,
        v1::subscriptions::delete,
        v1::subscriptions::attempts,
        v1::subscriptions::replay,
        v1::prices::set,
        v1::prices::list,
        v1::keys::create,
        v1::keys::list,
        v1::keys::revoke,
        v1::ops::failed_erp_orders,
        v1::ops::delays::delayed_inventory,
        v1::ops::stale_pricing,
        v1::ops::rate_limits,
        v1::ops::slas,
        v1::trace::trace,
        crate::metrics::metrics,
    ),
    components(schemas(
        Problem,
        ItemIn,
        StockEventIn,
        NonBlank,
        Reference,
        ItemSku,
        ErrorCode,
        ScopeName,
        Span,
        Since,
        OrderState,
        JobState,
        ExceptionStatus,
        StockEventKind,
        BindingKind,
        ReservationStatus,
        EventType,
        AttemptOutcome,
        JobKind,
        JobOutcome,
        System,
        ChannelAvailability,
        SkuAvailability
    ))
)]
struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    shared_answers(&mut doc);
    gate_answers(&mut doc);
    problems(&mut doc);
    doc.to_string()
});

/// The document, as served at `/openapi.json`.
pub fn document() -> &'static str {
    &DOCUMENT
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// Gives every error answer described without a body the problem+json body: every error is
/// one, so the handlers' `#[utoipa::path]`s name only the status and what it means.
fn problems(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let ops = paths.values_mut().filter_map(Value::as_object_mut);
    for op in ops.flat_map(|item| item.values_mut()) {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for (status, answer) in responses.iter_mut() {
            if status.as_str() >= "400" && answer.get("content").is_none() {
                let description = answer["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                *answer = problem(&description);
            }
        }
    }
}

/// Adds what the extractors answer on every `/v1` route: 400 for a query parameter the
/// route does not take (and for malformed JSON), 413 for a body over the limit, 415 for a
/// body that should be JSON and is not.
fn shared_answers(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let body = op.get("requestBody").cloned();
            let json_body = body
                .as_ref()
                .and_then(|b| b.pointer("/content/application~1json"))
                .is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let bad = if json_body {
                "QUERY_INVALID (a query parameter the route does not take or cannot read), \
                 MALFORMED_JSON"
            } else {
                "QUERY_INVALID (a query parameter the route does not take or cannot read)"
            };
            responses.entry("400").or_insert_with(|| problem(bad));
            if body.is_some() {
                responses.entry("413").or_insert_with(|| {
                    problem("The body is larger than server.max_body_bytes (PAYLOAD_TOO_LARGE)")
                });
            }
            // A webhook's body is read as bytes and checked by its signature, whatever its
            // content type.
            if json_body && !path.starts_with("/v1/hooks/") {
                responses.entry("415").or_insert_with(|| {
                    problem("The body is not sent as JSON (UNSUPPORTED_MEDIA_TYPE)")
                });
            }
        }
    }
}

/// Adds what the gate asks and answers on each route that needs a key ([`crate::gate::access`]):
/// the bearer scheme with the route's scope, 401, 403, and 429 with its headers.
fn gate_answers(doc: &mut Value) {
    use crate::gate::{Access, access};
    doc["components"]["securitySchemes"] = json!({"bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key, cdk_…, from `crossdock keys create` or POST /v1/keys. While no key \
            exists, loopback clients are served without one (protected mode)."
    }});
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let method = axum::http::Method::from_bytes(method.to_uppercase().as_bytes());
            let Some(Access::Needs(scope)) = method.ok().and_then(|m| access(&m, path)) else {
                continue;
            };
            op["security"] = json!([{"bearer": [scope.as_str()]}]);
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            responses.insert(
                "401".into(),
                problem("UNAUTHENTICATED: no key, a malformed one, or one unknown or revoked"),
            );
            let forbidden = format!("FORBIDDEN_SCOPE: the key lacks {scope}");
            match responses.get_mut("403") {
                Some(own) => {
                    let theirs = own["description"].as_str().unwrap_or_default();
                    own["description"] = Value::String(format!("{theirs}; or {forbidden}"));
                }
                None => {
                    responses.insert("403".into(), problem(&forbidden));
                }
            }
            let mut limited =
                problem("RATE_LIMITED: the key is over its rate; wait Retry-After seconds");
            let int = json!({"schema": {"type": "integer", "minimum": 0}});
            limited["headers"] = json!({
                "Retry-After": int, "RateLimit-Limit": int, "RateLimit-Remaining": int,
                "RateLimit-Reset": int,
            });
            responses.insert("429".into(), limited);
        }
    }
}
