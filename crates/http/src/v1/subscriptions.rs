//! Webhooks out: `POST /v1/subscriptions` (`{"url","event_types"}`; the answer carries the
//! `whsec_` secret, once), `GET /v1/subscriptions`, `GET` and `DELETE
//! /v1/subscriptions/{id}`, `GET /v1/subscriptions/{id}/attempts?seq=&after=&limit=` (newest
//! first) and `POST /v1/subscriptions/{id}/replay` (`{"after": SEQ}`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossdock_connectors::subscriptions::{
    MAX_SUBSCRIPTIONS, NewSubscription, Subscriptions, SubscriptionsError,
};
use crossdock_domain::ErrorCode;
use crossdock_store::{AttemptQuery, Subscription};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::problem::Problem;

/// Most attempts per page.
pub const MAX_ATTEMPTS_LISTED: i64 = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/subscriptions", get(list).post(create))
        .route("/v1/subscriptions/{id}", get(show).delete(delete))
        .route("/v1/subscriptions/{id}/attempts", get(attempts))
        .route("/v1/subscriptions/{id}/replay", post(replay))
}

impl From<SubscriptionsError> for Problem {
    fn from(e: SubscriptionsError) -> Self {
        match e {
            SubscriptionsError::Invalid { field, .. } => {
                Problem::invalid(e.to_string()).with("field", field)
            }
            SubscriptionsError::NotFound(_) => Problem::new(ErrorCode::NotFound, e.to_string())
                .remediation("GET /v1/subscriptions lists the subscriptions there are."),
            SubscriptionsError::TooMany => Problem::invalid(e.to_string()).remediation(format!(
                "Delete a subscription no longer needed (at most {MAX_SUBSCRIPTIONS} are kept)."
            )),
            SubscriptionsError::Engine(e) => Problem::from(e),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewIn {
    url: String,
    event_types: Vec<String>,
}

async fn create(
    State(subs): State<Subscriptions>,
    Json(body): Json<NewIn>,
) -> Result<Response, Problem> {
    let sub = subs
        .create(NewSubscription {
            url: body.url,
            event_types: body.event_types,
        })
        .await?;
    let mut answer = serde_json::to_value(&sub).unwrap_or_default();
    answer["secret"] = Value::String(sub.secret.clone());
    let location = format!("/v1/subscriptions/{}", sub.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(answer),
    )
        .into_response())
}

async fn list(
    State(subs): State<Subscriptions>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!({"subscriptions": subs.list().await?})))
}

fn one(sub: Subscription) -> Json<Value> {
    Json(serde_json::to_value(sub).unwrap_or_default())
}

async fn show(
    State(subs): State<Subscriptions>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    Ok(one(subs.get(&id).await?))
}

async fn delete(
    State(subs): State<Subscriptions>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<StatusCode, Problem> {
    subs.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttemptParams {
    seq: Option<i64>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn attempts(
    State(subs): State<Subscriptions>,
    Path(id): Path<String>,
    Query(p): Query<AttemptParams>,
) -> Result<Json<Value>, Problem> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=MAX_ATTEMPTS_LISTED).contains(&limit) {
        return Err(Problem::invalid(format!(
            "limit must be 1 to {MAX_ATTEMPTS_LISTED}"
        )));
    }
    let query = AttemptQuery {
        subscription: id,
        seq: p.seq,
        after: p.after,
        limit,
    };
    let page = subs.attempts(query).await?;
    let next_after = super::next_page(&page, limit, |a| a.id);
    Ok(Json(json!({"attempts": page, "next_after": next_after})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayIn {
    after: i64,
}

async fn replay(
    State(subs): State<Subscriptions>,
    Path(id): Path<String>,
    Json(body): Json<ReplayIn>,
) -> Result<Response, Problem> {
    let sub = subs.replay(&id, body.after).await?;
    let answer = json!({"subscription": sub, "after": body.after});
    Ok((StatusCode::ACCEPTED, axum::Json(answer)).into_response())
}
