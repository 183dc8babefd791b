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
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::openapi;
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SubscriptionIn)]
struct NewIn {
    /// an http:// or https:// URL
    #[schema(format = "uri", max_length = 2000)]
    url: String,
    #[schema(value_type = Vec<openapi::EventType>, min_items = 1)]
    event_types: Vec<String>,
}

/// Subscribe a URL to events of the given types (webhooks out)
///
/// Every event of the types named that is appended from now on is posted to `url` as `{"type","timestamp","data"}`, signed by the Standard Webhooks scheme (`webhook-id` = `evt_` and the event's sequence number, the same on every attempt; `webhook-timestamp`; `webhook-signature: v1,<base64>`) with the `whsec_` secret this answer carries, once. A 2xx answer delivers it; 410 Gone disables the subscription; anything else is tried again on `[subscriptions] schedule_secs` (at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), or after the endpoint's `Retry-After` when longer. Deliveries come in no set order. At most 100 subscriptions.
#[utoipa::path(
    post,
    path = "/v1/subscriptions",
    request_body = NewIn,
    responses(
        (status = 201, description = "The subscription, with its secret (given only here)", body = openapi::SubscriptionCreated),
        (status = 422, description = "VALIDATION_FAILED: the URL is not http(s) with a host, an event type is not one the hub appends (the types are listed), or the hub holds 100 subscriptions already; `field` names the field"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
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

/// Every subscription, oldest first, with its pending and failed deliveries (never its secret)
#[utoipa::path(
    get,
    path = "/v1/subscriptions",
    responses(
        (status = 200, description = "The subscriptions", body = openapi::SubscriptionList),
    )
)]
async fn list(
    State(subs): State<Subscriptions>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!({"subscriptions": subs.list().await?})))
}

fn one(sub: Subscription) -> Json<Value> {
    Json(serde_json::to_value(sub).unwrap_or_default())
}

/// One subscription
#[utoipa::path(
    get,
    path = "/v1/subscriptions/{id}",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The subscription", body = openapi::Subscription),
        (status = 404, description = "NOT_FOUND: no such subscription"),
    )
)]
async fn show(
    State(subs): State<Subscriptions>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    Ok(one(subs.get(&id).await?))
}

/// Delete a subscription: nothing more is sent to it, and its attempts are forgotten
#[utoipa::path(
    delete,
    path = "/v1/subscriptions/{id}",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "NOT_FOUND: no such subscription"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn delete(
    State(subs): State<Subscriptions>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<StatusCode, Problem> {
    subs.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AttemptParams {
    /// only attempts at this event
    seq: Option<i64>,
    /// a page's `next_after`: attempts older than that one
    after: Option<i64>,
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
}

/// Every attempt at the subscription's deliveries, newest first, by page
#[utoipa::path(
    get,
    path = "/v1/subscriptions/{id}/attempts",
    params(("id" = String, Path), AttemptParams),
    responses(
        (status = 200, description = "A page of attempts", body = openapi::AttemptPage),
        (status = 404, description = "NOT_FOUND: no such subscription"),
        (status = 422, description = "VALIDATION_FAILED: limit out of range"),
    )
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplayIn {
    /// the sequence number to re-send after (0: from the log's start)
    #[schema(minimum = 0)]
    after: i64,
}

/// Send every event of the subscription's types after a sequence number again
///
/// Moves the subscription back to `after`: each later event of its types is delivered again, under its own `webhook-id`, so a receiver that kept ids can tell a replay from news. A subscription disabled by a 410 is enabled again.
#[utoipa::path(
    post,
    path = "/v1/subscriptions/{id}/replay",
    params(("id" = String, Path)),
    request_body = ReplayIn,
    responses(
        (status = 202, description = "Replaying; the subscription as it now stands", body = openapi::ReplayAnswer),
        (status = 404, description = "NOT_FOUND: no such subscription"),
        (status = 422, description = "VALIDATION_FAILED: after below 0"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn replay(
    State(subs): State<Subscriptions>,
    Path(id): Path<String>,
    Json(body): Json<ReplayIn>,
) -> Result<Response, Problem> {
    let sub = subs.replay(&id, body.after).await?;
    let answer = json!({"subscription": sub, "after": body.after});
    Ok((StatusCode::ACCEPTED, axum::Json(answer)).into_response())
}
