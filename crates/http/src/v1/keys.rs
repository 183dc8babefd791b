//! API keys, for the `admin` scope: `POST /v1/keys` (`{"name","scopes","rate_per_sec"?,
//! "system"?}`; the answer carries the key, once), `GET /v1/keys` (never a key, only its
//! prefix), `DELETE /v1/keys/{name}` (refused from the next request on).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use crossdock_domain::{ErrorCode, Scope, Timestamp};
use crossdock_store::StoredKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::keys::{ApiKeys, KeyError, NewKey, scope_names};
use crate::openapi;
use crate::problem::Problem;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/keys", get(list).post(create))
        .route("/v1/keys/{name}", delete(revoke))
}

impl From<KeyError> for Problem {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Invalid(_) => Problem::invalid(e.to_string()),
            KeyError::NameTaken(_) => Problem::new(ErrorCode::KeyNameTaken, e.to_string())
                .remediation("DELETE /v1/keys/{name} revokes the old key; or choose another name."),
            KeyError::Store(e) => Problem::from(e),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KeyIn)]
struct NewIn {
    /// letters, digits, `.`, `_` and `-`; unique among live keys
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    name: String,
    #[schema(value_type = Vec<openapi::ScopeName>, min_items = 1)]
    scopes: Vec<String>,
    /// requests a second (a bucket of one second's worth); without it the server's `key_rate_per_sec`
    #[schema(minimum = 1, maximum = 1_000_000)]
    rate_per_sec: Option<u32>,
    /// the connector the key writes as: `[ownership]` applies to it, and a write naming another source is refused
    system: Option<String>,
}

/// An API key as listed: never the key, only its first characters.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiKey)]
pub(crate) struct KeyOut {
    name: String,
    /// `cdk_` and the key's next 8 characters
    prefix: String,
    #[schema(value_type = Vec<openapi::ScopeName>)]
    scopes: Vec<Scope>,
    /// requests a second, its own or the server's default
    rate_per_sec: u32,
    /// the connector it writes as
    #[schema(required = true)]
    system: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// when a request last carried it (to the nearest second or so)
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    revoked_at: Option<Timestamp>,
}

impl KeyOut {
    fn new(k: StoredKey, keys: &ApiKeys) -> Self {
        KeyOut {
            rate_per_sec: k.rate_per_sec.unwrap_or(keys.default_rate()),
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            system: k.system,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key and what is kept of it.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiKeyCreated)]
pub(crate) struct Created {
    /// `cdk_…`: send it as `Authorization: Bearer`. Given here only, once; only its hash is kept.
    key: String,
    #[serde(flatten)]
    kept: KeyOut,
}

/// Every key.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiKeyList)]
pub(crate) struct KeyList {
    keys: Vec<KeyOut>,
}

/// Make an API key
///
/// The answer carries the key once; only its SHA-256 is kept. It is live when the answer comes. Scopes: orders:write, orders:read, inventory:write, availability:read, ops:read, ops:write, admin (admin covers every scope, and a :write scope its own :read).
#[utoipa::path(
    post,
    path = "/v1/keys",
    request_body = NewIn,
    responses(
        (status = 201, description = "The key (given only here) and what is kept of it", body = Created),
        (status = 409, description = "KEY_NAME_TAKEN: a live key has the name"),
        (status = 422, description = "VALIDATION_FAILED: a bad name, no scope or one that is none, a rate out of range, or a system that is no connector"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn create(State(keys): State<ApiKeys>, Json(body): Json<NewIn>) -> Result<Response, Problem> {
    let scopes = Scope::parse_list(&body.scopes.join(","))
        .map_err(|bad| Problem::invalid(format!("scopes: `{bad}` is none of {}", scope_names())))?;
    let new = NewKey {
        name: body.name,
        scopes,
        rate_per_sec: body.rate_per_sec,
        system: body.system,
    };
    let (key, kept) = keys.create(new).await?;
    let location = format!("/v1/keys/{}", kept.name);
    let answer = Created {
        key,
        kept: KeyOut::new(kept, &keys),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(answer),
    )
        .into_response())
}

/// Every API key, live and revoked, oldest first (never a key, only its prefix)
#[utoipa::path(
    get,
    path = "/v1/keys",
    responses(
        (status = 200, description = "The keys", body = KeyList),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
async fn list(State(keys): State<ApiKeys>, _: Query<NoParams>) -> Result<Json<KeyList>, Problem> {
    let stored = keys.list().await.map_err(KeyError::from)?;
    let listed = stored.into_iter().map(|k| KeyOut::new(k, &keys)).collect();
    Ok(Json(KeyList { keys: listed }))
}

/// Revoke an API key: refused from the next request on
#[utoipa::path(
    delete,
    path = "/v1/keys/{name}",
    params(("name" = String, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "NOT_FOUND: no live key has the name"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn revoke(
    State(keys): State<ApiKeys>,
    Path(name): Path<String>,
    _: Query<NoParams>,
) -> Result<StatusCode, Problem> {
    if !keys.revoke(&name).await.map_err(KeyError::from)? {
        return Err(
            Problem::new(ErrorCode::NotFound, format!("no live key is named {name}"))
                .remediation("GET /v1/keys lists the keys there are."),
        );
    }
    Ok(StatusCode::NO_CONTENT)
}
