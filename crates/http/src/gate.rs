//! Who is calling, and may they: every route's scope in one table ([`access`]), checked
//! against the request's `Authorization: Bearer cdk_…` before the handler runs.
//!
//! - No valid key: 401 `UNAUTHENTICATED` (with `WWW-Authenticate: Bearer`).
//! - A key whose scopes do not cover the route: 403 `FORBIDDEN_SCOPE`.
//! - A key over its rate: 429 `RATE_LIMITED` with `Retry-After`; every keyed answer carries
//!   `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
//! - Protected mode: while no key exists, a request without one is served when it comes
//!   from a loopback address (or from inside the process), and refused otherwise.
//!
//! `/healthz`, `/readyz` and `/openapi.json` are open; `POST /v1/hooks/{connector}` is
//! authenticated by the connector's signature.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use crossdock_domain::{ErrorCode, Scope};

use crate::keys::{ApiKeys, Caller, Quota};
use crate::problem::Problem;

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nothing.
    Open,
    /// The connector's webhook signature (checked by the handler).
    Signed,
    /// A key with this scope.
    Needs(Scope),
}

/// What `method` on the route `path` (as routed, `/v1/orders/{id}`) asks; `None` for a
/// route this table does not know (the test over the OpenAPI document keeps it whole).
pub fn access(method: &Method, path: &str) -> Option<Access> {
    use Access::*;
    use Scope::*;
    let read = method == Method::GET;
    Some(match path {
        "/healthz" | "/readyz" | "/openapi.json" => Open,
        "/v1/hooks/{connector}" => Signed,
        "/v1/hooks/{connector}/rejections" | "/v1/events" => Needs(OpsRead),
        "/v1/items" | "/v1/inventory/events" => Needs(InventoryWrite),
        "/v1/availability/{sku}" | "/v1/availability/query" => Needs(AvailabilityRead),
        "/v1/prices" if read => Needs(AvailabilityRead),
        "/v1/prices" => Needs(InventoryWrite),
        "/v1/reservations" | "/v1/reservations/{id}" if read => Needs(OrdersRead),
        "/v1/reservations" | "/v1/reservations/{id}" => Needs(OrdersWrite),
        "/v1/orders" | "/v1/orders/{id}" if read => Needs(OrdersRead),
        "/v1/orders" => Needs(OrdersWrite),
        "/v1/orders/{id}/cancel" => Needs(OpsWrite),
        "/v1/shipments" | "/v1/invoices" | "/v1/returns" | "/v1/erp-statuses" => Needs(OrdersWrite),
        "/v1/jobs"
        | "/v1/jobs/retry"
        | "/v1/exceptions"
        | "/v1/exceptions/{id}"
        | "/v1/exceptions/{id}/retry"
        | "/v1/exceptions/{id}/resolve"
        | "/v1/exceptions/{id}/cancel-order"
        | "/v1/bindings"
        | "/v1/subscriptions"
        | "/v1/subscriptions/{id}"
        | "/v1/subscriptions/{id}/attempts"
        | "/v1/subscriptions/{id}/replay" => Needs(if read { OpsRead } else { OpsWrite }),
        "/v1/keys" | "/v1/keys/{name}" => Needs(Admin),
        "/v1/ops/failed-erp-orders"
        | "/v1/ops/delayed-inventory"
        | "/v1/ops/stale-pricing"
        | "/v1/ops/rate-limits"
        | "/v1/ops/slas"
        | "/v1/trace/{correlation_id}"
        | "/metrics" => Needs(OpsRead),
        _ => return None,
    })
}

/// The address a request came from, set by the listener on each connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Peer {
    /// Whether it is this machine's loopback (an IPv4-mapped IPv6 loopback too).
    pub fn is_loopback(&self) -> bool {
        match self.0.ip() {
            std::net::IpAddr::V4(v4) => v4.is_loopback(),
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }
}

/// Checks the request against [`access`]; puts the [`Caller`] (when a key was used) in its
/// extensions for the handler.
pub async fn check(State(keys): State<ApiKeys>, mut req: Request, next: Next) -> Response {
    let needed = match req.extensions().get::<MatchedPath>() {
        Some(path) => access(req.method(), path.as_str()),
        None => None,
    };
    // No route matched (the fallback's 404), or none asks for a key.
    let Some(Access::Needs(scope)) = needed else {
        return next.run(req).await;
    };
    let caller = match bearer(req.headers()) {
        Bearer::Key(key) => match keys.find(key) {
            Some(caller) => caller,
            None => return unauthenticated("the API key is not valid (unknown or revoked)"),
        },
        Bearer::Malformed => {
            return unauthenticated("Authorization must be `Bearer cdk_…`");
        }
        Bearer::Missing => {
            let local = req.extensions().get::<Peer>().is_none_or(Peer::is_loopback);
            if local && !keys.any() {
                return next.run(req).await;
            }
            return unauthenticated(if keys.any() {
                "this route needs an API key: send Authorization: Bearer cdk_…"
            } else {
                "no API key exists yet, so only loopback clients are served (protected mode)"
            });
        }
    };
    if !caller.may(scope) {
        let held: Vec<&str> = caller.scopes.iter().map(|s| s.as_str()).collect();
        return Problem::new(
            ErrorCode::ForbiddenScope,
            format!(
                "key {} has {}; this route needs {scope}",
                caller.name,
                held.join(", ")
            ),
        )
        .remediation(format!(
            "Use a key with {scope}, or make one: crossdock keys create --name NAME --scopes {scope}"
        ))
        .into_response();
    }
    let quota = match caller.take() {
        Ok(quota) => quota,
        Err(quota) => {
            let mut res = Problem::new(
                ErrorCode::RateLimited,
                format!(
                    "key {} is over its rate of {} requests a second",
                    caller.name, quota.limit
                ),
            )
            .remediation(format!(
                "Wait {} s (Retry-After) and send again; slow down, or ask for a key with a higher --rate-per-sec.",
                quota.retry_after_secs
            ))
            .into_response();
            rate_headers(res.headers_mut(), &quota);
            res.headers_mut()
                .insert(header::RETRY_AFTER, quota.retry_after_secs.into());
            return res;
        }
    };
    req.extensions_mut().insert(caller);
    let mut res = next.run(req).await;
    rate_headers(res.headers_mut(), &quota);
    res
}

/// The caller of a request that passed the gate with a key, for the handlers that act on
/// who writes.
pub type CallerExt = Option<axum::Extension<Arc<Caller>>>;

/// Refuses a write that names `source` when the caller's key is bound to another system:
/// a bound key writes as its system only.
pub fn writes_as(caller: &CallerExt, source: &str) -> Result<(), Problem> {
    let Some(axum::Extension(caller)) = caller else {
        return Ok(());
    };
    match &caller.system {
        Some(system) if system != source => Err(Problem::new(
            ErrorCode::ForbiddenScope,
            format!(
                "key {} writes as {system}; this write names {source}",
                caller.name
            ),
        )
        .remediation(format!(
            "Send source {system}, or use the key bound to {source}."
        ))),
        _ => Ok(()),
    }
}

enum Bearer<'a> {
    Missing,
    Malformed,
    Key(&'a str),
}

fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Bearer::Missing;
    };
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
            Bearer::Key(key.trim())
        }
        _ => Bearer::Malformed,
    }
}

fn unauthenticated(detail: &str) -> Response {
    let mut res = Problem::new(ErrorCode::Unauthenticated, detail)
        .remediation(
            "Send Authorization: Bearer cdk_… with a key from `crossdock keys create` \
             (or POST /v1/keys with an admin key).",
        )
        .into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

fn rate_headers(headers: &mut HeaderMap, quota: &Quota) {
    headers.insert("ratelimit-limit", quota.limit.into());
    headers.insert("ratelimit-remaining", quota.remaining.into());
    headers.insert("ratelimit-reset", quota.reset_secs.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_v4_v6_and_mapped_v4() {
        for (addr, local) in [
            ("127.0.0.1:1", true),
            ("127.8.9.10:1", true),
            ("[::1]:1", true),
            ("[::ffff:127.0.0.1]:1", true),
            ("10.0.0.5:1", false),
            ("[::ffff:10.0.0.5]:1", false),
            ("[2001:db8::1]:1", false),
        ] {
            assert_eq!(Peer(addr.parse().unwrap()).is_loopback(), local, "{addr}");
        }
    }

    #[test]
    fn reads_need_read_scopes_and_writes_write_scopes() {
        let get = |p| access(&Method::GET, p);
        let post = |p| access(&Method::POST, p);
        assert_eq!(post("/v1/orders"), Some(Access::Needs(Scope::OrdersWrite)));
        assert_eq!(
            get("/v1/orders/{id}"),
            Some(Access::Needs(Scope::OrdersRead))
        );
        assert_eq!(
            post("/v1/exceptions/{id}/retry"),
            Some(Access::Needs(Scope::OpsWrite))
        );
        assert_eq!(get("/v1/exceptions"), Some(Access::Needs(Scope::OpsRead)));
        assert_eq!(post("/v1/hooks/{connector}"), Some(Access::Signed));
        assert_eq!(get("/healthz"), Some(Access::Open));
        assert_eq!(get("/v1/nothing"), None);
    }

    #[test]
    fn every_documented_route_is_in_the_table_and_documents_its_scope() {
        let doc: serde_json::Value = serde_json::from_str(crate::openapi::document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() > 30);
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let needs = access(&m, path).unwrap_or_else(|| panic!("{method} {path}"));
                let security = &op["security"][0]["bearer"][0];
                match needs {
                    Access::Needs(scope) => {
                        assert_eq!(security, scope.as_str(), "{method} {path}");
                        assert!(op["responses"]["429"]["headers"]["Retry-After"].is_object());
                    }
                    Access::Open | Access::Signed => assert!(security.is_null(), "{path}"),
                }
            }
        }
    }

    #[test]
    fn bearer_reads_the_scheme_in_any_case() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(matches!(
            bearer(&with("Bearer cdk_1")),
            Bearer::Key("cdk_1")
        ));
        assert!(matches!(
            bearer(&with("bearer  cdk_1 ")),
            Bearer::Key("cdk_1")
        ));
        assert!(matches!(bearer(&with("Basic abc")), Bearer::Malformed));
        assert!(matches!(bearer(&with("Bearer ")), Bearer::Malformed));
        assert!(matches!(bearer(&HeaderMap::new()), Bearer::Missing));
    }
}
