//! Orders: `POST /v1/orders` (intake, idempotent twice over), `GET /v1/orders/{id}`,
//! `GET /v1/orders?state=&channel=&since=&limit=`.
//!
//! Intake makes no call to any outside system: the order, its reservations, its history, an
//! event and its first outbox job are written in one transaction, and the answer says
//! `accepted`, `backordered` or `rejected`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crossdock_domain::ErrorCode;
use crossdock_domain::Timestamp;
use crossdock_domain::ledger::JsonText;
use crossdock_domain::order::FieldError;
use crossdock_domain::order_state::OrderState;
use crossdock_engine::Inventory;
use crossdock_engine::intake::{CancelError, Intake, IntakeError};
use crossdock_store::OrderFilter;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::metrics::{self, Metrics};
use crate::openapi;
use crate::problem::Problem;
use crossdock_store::ErpAssignments;

/// Longest `Idempotency-Key` accepted.
pub const MAX_KEY_LEN: usize = 255;
/// What to do about an order that failed validation.
const FIX_ORDER: &str = "Correct the listed fields and send the order again; nothing was stored.";
/// Most orders per list page.
pub const MAX_LIST: i64 = 500;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders", get(list).post(create))
        .route("/v1/orders/{id}", get(show))
        .route("/v1/orders/{id}/cancel", axum::routing::post(cancel))
}

pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, Problem> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => {
            let text = v
                .to_str()
                .ok()
                .filter(|t| !t.trim().is_empty() && t.len() <= MAX_KEY_LEN)
                .ok_or_else(|| {
                    Problem::invalid(format!(
                        "{name} must be visible ASCII, 1 to {MAX_KEY_LEN} characters"
                    ))
                })?;
            Ok(Some(text.to_string()))
        }
    }
}

/// The request's `X-Correlation-Id`, or a fresh one.
pub(crate) fn correlation_id(headers: &HeaderMap) -> Result<String, Problem> {
    Ok(header_text(headers, "x-correlation-id")?.unwrap_or_else(Inventory::new_correlation_id))
}

/// 422 naming every field that failed, with what to do.
pub(crate) fn invalid(errors: Vec<FieldError>, remediation: &str) -> Problem {
    let code = match errors.as_slice() {
        [one] => one.code,
        _ => ErrorCode::ValidationFailed,
    };
    let detail = match errors.as_slice() {
        [one] => one.message.clone(),
        many => format!("{} fields failed validation", many.len()),
    };
    Problem::in_body(code, detail)
        .with("errors", serde_json::to_value(&errors).unwrap_or_default())
        .remediation(remediation)
}

fn answer(id: &str, response: JsonText, replayed: bool, correlation_id: &str) -> Response {
    let json = [(header::CONTENT_TYPE, "application/json")];
    let mut res = (StatusCode::CREATED, json, response.to_string()).into_response();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/orders/{id}")) {
        headers.insert(header::LOCATION, v);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        headers.insert("x-correlation-id", v);
    }
    res
}

/// Take in an order, exactly once
///
/// Idempotent twice over: the natural key (channel, external_id) and an optional Idempotency-Key header. The same key with the same body answers the first response again with `Idempotent-Replayed: true`; the same key with a different body is 409 IDEMPOTENCY_KEY_REUSED. Validation failures store nothing, so they can be retried. No outside system is called: the order, its reservations (every line or none), its history, an event and its first outbox job are written in one transaction. The answer is 201 with `state` accepted, backordered (the channel takes backorders) or rejected (code INSUFFICIENT_STOCK).
#[utoipa::path(
    post,
    path = "/v1/orders",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$"), ("X-Correlation-Id" = Option<String>, Header, nullable = false, max_length = 255)),
    request_body = openapi::CanonicalOrder,
    responses(
        (status = 201, description = "Taken in (or replayed)", body = openapi::IntakeAnswer, headers(("Location" = String), ("Idempotent-Replayed" = String), ("X-Correlation-Id" = String))),
        (status = 409, description = "IDEMPOTENCY_KEY_REUSED, with `order_id` and `key`"),
        (status = 422, description = "VALIDATION_FAILED and per-field codes; CUSTOMER_ON_CREDIT_HOLD (channels with credit_check = \"sync\"); nothing stored"),
        (status = 503, description = "STORE_UNAVAILABLE"),
    )
)]
async fn create(
    State(intake): State<Intake>,
    State(inventory): State<Inventory>,
    State(metrics): State<Metrics>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Problem> {
    let began = std::time::Instant::now();
    let idempotency_key = header_text(&headers, "idempotency-key")?;
    let correlation_id = correlation_id(&headers)?;
    let placed = intake
        .place(&body, idempotency_key, correlation_id.clone())
        .await;
    let outcome = match &placed {
        Ok(t) => match t.decided {
            None => metrics::Intake::Replayed,
            Some(OrderState::Accepted) => metrics::Intake::Accepted,
            Some(OrderState::Backordered) => metrics::Intake::Backordered,
            Some(_) => metrics::Intake::Rejected,
        },
        Err(IntakeError::Invalid(_)) => metrics::Intake::Invalid,
        Err(_) => metrics::Intake::Refused,
    };
    // Only configured channels are labels, so no request can make up new series.
    let channel = (body["channel"].as_str())
        .filter(|c| inventory.estate().channel(c).is_some())
        .unwrap_or("unknown");
    metrics.order(channel, outcome, began.elapsed());
    let taken = placed.map_err(intake_problem)?;
    Ok(answer(
        &taken.order_id,
        taken.answer,
        taken.replayed,
        &correlation_id,
    ))
}

/// The answer to an order that was not taken in.
fn intake_problem(e: IntakeError) -> Problem {
    let detail = e.to_string();
    match e {
        IntakeError::Invalid(errors) => invalid(errors, FIX_ORDER),
        IntakeError::KeyReused { key, order_id } => {
            Problem::new(ErrorCode::IdempotencyKeyReused, detail)
                .with("order_id", order_id.as_str())
                .with("key", key)
                .remediation(
                    "Send the same body to get the first answer again, or use a new key for a \
                     new order.",
                )
        }
        IntakeError::CreditHold(_) => Problem::new(ErrorCode::CustomerOnCreditHold, detail)
            .remediation(
                "Nothing was stored. Release the hold in the ERP (or take payment), then send \
                 the order again.",
            ),
        IntakeError::Engine(e) => e.into(),
        IntakeError::Unexpected(_) => Problem::new(ErrorCode::Internal, detail),
    }
}

/// An order: state, lines with routing and reservations, history of transitions
#[utoipa::path(
    get,
    path = "/v1/orders/{id}",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The order", body = openapi::Order),
        (status = 404, description = "ORDER_NOT_FOUND"),
    )
)]
async fn show(
    State(inv): State<Inventory>,
    Path(id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<Value>, Problem> {
    match inv.order(&id).await? {
        Some(o) => {
            let mut shown = view(&inv, o);
            // With several ERPs, the one the order's jobs go to (chosen once, kept).
            let assigned = inv
                .store()
                .erp_of(&id)
                .await
                .map_err(crossdock_engine::EngineError::from)?;
            if let Some(system) = assigned {
                let name = system.strip_prefix("erp:").unwrap_or(&system);
                shown["erp_connector"] = json!(name);
            }
            Ok(Json(shown))
        }
        None => Err(Problem::new(
            ErrorCode::OrderNotFound,
            format!("no order `{id}`"),
        )),
    }
}

/// An order as the API shows it, with its state in the channel's own terms.
fn view(inv: &Inventory, o: crossdock_store::StoredOrder) -> Value {
    let channel_status = inv
        .estate()
        .channel(&o.channel)
        .map(|c| c.orders.status_name(o.state).to_string());
    let mut v = serde_json::to_value(o).unwrap_or_default();
    v["channel_status"] = json!(channel_status);
    v
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    #[param(value_type = Option<openapi::OrderState>)]
    state: Option<String>,
    channel: Option<String>,
    #[param(format = DateTime)]
    since: Option<String>,
    /// Only the order with this id in its channel
    external_id: Option<String>,
    /// The `next_after` of the previous page: the items after it
    after: Option<String>,
    /// `true`: only orders with lines waiting for stock.
    waiting: Option<bool>,
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<i64>,
}

/// List orders, newest first
#[utoipa::path(
    get,
    path = "/v1/orders",
    params(ListParams),
    responses(
        (status = 200, description = "Orders (without history)", body = openapi::OrderPage),
        (status = 422, description = "VALIDATION_FAILED"),
    )
)]
async fn list(
    State(inv): State<Inventory>,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, Problem> {
    // A state may be named canonically or, with `channel`, in the channel's own terms.
    let state = match &p.state {
        None => None,
        Some(s) => {
            let named = match p.channel.as_deref().and_then(|c| inv.estate().channel(c)) {
                Some(c) => c.orders.state_named(s),
                None => crossdock_domain::order_state::OrderState::parse(s),
            };
            Some(named.ok_or_else(|| {
                Problem::invalid(format!("state `{s}` is not an order state"))
                    .remediation("Use a canonical state, or a channel's own status with channel=.")
            })?)
        }
    };
    let since = match &p.since {
        None => None,
        Some(t) => {
            Some(Timestamp::parse_rfc3339(t).map_err(|e| Problem::invalid(format!("since: {e}")))?)
        }
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(Problem::invalid(format!(
            "limit must be between 1 and {MAX_LIST}"
        )));
    }
    let orders = inv
        .orders(OrderFilter {
            state: state.map(|s| s.as_str().to_string()),
            channel: p.channel,
            since,
            external_id: p.external_id,
            after: p.after,
            waiting: p.waiting.unwrap_or(false),
            oldest_first: false,
            limit,
        })
        .await?;
    let next_after = super::next_page(&orders, limit, |o| o.id.to_string());
    let orders: Vec<Value> = orders.into_iter().map(|o| view(&inv, o)).collect();
    Ok(Json(json!({ "orders": orders, "next_after": next_after })))
}

/// Cancel an order: release its reservations now and queue the compensations that apply (void the authorisation, cancel the ERP sales order once posted and the warehouse release once released, tell the storefront)
#[utoipa::path(
    post,
    path = "/v1/orders/{id}/cancel",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The order, now cancelled", body = openapi::Order),
        (status = 404, description = "ORDER_NOT_FOUND"),
        (status = 409, description = "ORDER_NOT_CANCELLABLE (shipped, invoiced, closed, returned, rejected)"),
    )
)]
async fn cancel(
    State(inv): State<Inventory>,
    State(intake): State<Intake>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let correlation_id = correlation_id(&headers)?;
    intake
        .cancel(&id, "api".into(), correlation_id)
        .await
        .map_err(cancel_problem)?;
    show(State(inv), Path(id), Query(NoParams {})).await
}

/// The answer to a cancel that did not happen.
pub(crate) fn cancel_problem(e: CancelError) -> Problem {
    match e {
        CancelError::Refused { code, detail } => Problem::new(code, detail),
        CancelError::Engine(e) => e.into(),
        e @ CancelError::Unexpected(_) => Problem::new(ErrorCode::Internal, e.to_string()),
    }
}
