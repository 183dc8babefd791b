//! Bindings: `POST /v1/bindings` sets our keys beside the connectors' ids
//! (`{"bindings":[{"connector","kind","ours","theirs"}]}`, every one or none), and
//! `GET /v1/bindings?connector=&kind=&ours=&theirs=&after=&limit=` lists them, oldest first,
//! with `next_after` the cursor to the next page.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use crossdock_domain::{Binding, BindingKind, ErrorCode};
use crossdock_engine::bindings::{Bindings, BindingsError};
use crossdock_store::BindingQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::{Json, Query};
use crate::problem::Problem;

/// Most bindings per page.
pub const MAX_LIST: i64 = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/bindings", get(list).post(put))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingsIn {
    bindings: Vec<Binding>,
}

impl From<BindingsError> for Problem {
    fn from(e: BindingsError) -> Self {
        match e {
            BindingsError::Count(_) => Problem::invalid(e.to_string()),
            BindingsError::Invalid(ref refused) => {
                let errors: Vec<Value> = refused
                    .iter()
                    .map(|r| json!({"index": r.index, "field": r.field, "detail": r.detail}))
                    .collect();
                let first = &refused[0];
                Problem::invalid(format!(
                    "{e}; the first: bindings[{}].{}: {}",
                    first.index, first.field, first.detail
                ))
                .with("errors", errors)
                .remediation("Correct the bindings named in errors and send the list again.")
            }
            BindingsError::Engine(e) => Problem::from(e),
        }
    }
}

async fn put(
    State(bindings): State<Bindings>,
    Json(body): Json<BindingsIn>,
) -> Result<Json<Value>, Problem> {
    let received = body.bindings.len();
    let changed = bindings.put(body.bindings).await?;
    Ok(Json(json!({"received": received, "changed": changed})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    connector: Option<String>,
    kind: Option<String>,
    ours: Option<String>,
    theirs: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(bindings): State<Bindings>,
    Query(p): Query<Params>,
) -> Result<Json<Value>, Problem> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(Problem::invalid(format!("limit must be 1 to {MAX_LIST}")));
    }
    let kind = super::one_of(
        "kind",
        p.kind.as_deref(),
        BindingKind::ALL,
        BindingKind::as_str,
    )?;
    if let Some(c) = &p.connector
        && !bindings.connectors().any(|known| known == c)
    {
        return Err(Problem::new(
            ErrorCode::NotFound,
            format!("no connector `{c}` is configured"),
        ));
    }
    let query = BindingQuery {
        connector: p.connector,
        kind,
        ours: p.ours,
        theirs: p.theirs,
        after: p.after,
        limit,
    };
    let page = bindings.list(query).await?;
    let next_after = super::next_page(&page, limit, |b| b.id);
    Ok(Json(json!({"bindings": page, "next_after": next_after})))
}
