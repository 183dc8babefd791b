//! Prices: `POST /v1/prices` takes a price list from the system that owns pricing
//! (`{"source", "prices":[{"sku","channel"?,"currency","amount"}]}`, a price without a
//! channel for every channel; each price checked on its own, a bad one refused by index), and
//! `GET /v1/prices?channel=&sku=&pending=&after=&limit=` lists them by channel and SKU with
//! what was last pushed to the channel and what it acknowledged (`pending=true`: only those
//! the channel has not acknowledged), `next_after` the cursor to the next page.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use crossdock_domain::ErrorCode;
use crossdock_engine::prices::{PriceIn, Prices, PricesError};
use crossdock_store::PriceQuery;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{Json, Query};
use crate::gate::{self, CallerExt};
use crate::openapi;
use crate::problem::Problem;

/// Most prices per page.
pub const MAX_LIST: i64 = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/prices", get(list).post(set))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PricesIn {
    /// the system the prices come from, e.g. netsuite
    #[schema(value_type = openapi::NonBlank)]
    source: String,
    #[schema(value_type = Vec<openapi::PriceIn>, min_items = 1, max_items = 1000)]
    prices: Vec<PriceIn>,
}

impl From<PricesError> for Problem {
    fn from(e: PricesError) -> Self {
        match e {
            PricesError::Count(_) => Problem::invalid(e.to_string())
                .remediation("Send 1 to 1,000 prices a call; split a longer list."),
            PricesError::NotOwner(why) => Problem::new(ErrorCode::OwnershipViolation, why),
            PricesError::Engine(e) => Problem::from(e),
        }
    }
}

/// Set prices from the system that owns pricing; each storefront connector publishes them to its channel
///
/// Up to 1,000 prices a call. Each price is checked on its own (a SKU in the item master, a channel of the estate, an ISO 4217 currency, a decimal amount not below zero) and a bad one is refused by index without failing the rest; a price without a channel is set on every channel. When [ownership] pricing names a system, only that source may set prices: another is refused whole (403 OWNERSHIP_VIOLATION) and kept as an ownership.violated event.
#[utoipa::path(
    post,
    path = "/v1/prices",
    request_body = PricesIn,
    responses(
        (status = 200, description = "How many prices were received and set (one a channel), and those refused by index", body = openapi::PricesResult),
        (status = 403, description = "OWNERSHIP_VIOLATION: [ownership] pricing names another system; or FORBIDDEN_SCOPE: the key is bound to a system other than source; nothing was set"),
        (status = 422, description = "VALIDATION_FAILED: no source, or no prices or more than 1,000; nothing was set"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn set(
    State(prices): State<Prices>,
    caller: CallerExt,
    Json(body): Json<PricesIn>,
) -> Result<Json<Value>, Problem> {
    if body.source.trim().is_empty() {
        return Err(Problem::invalid(
            "source: name the system the prices come from",
        ));
    }
    gate::writes_as(&caller, &body.source)?;
    let received = body.prices.len();
    let done = prices.set(&body.source, body.prices).await?;
    let rejected: Vec<Value> = (done.rejected.into_iter())
        .map(|(index, code, detail)| json!({"index": index, "code": code, "detail": detail}))
        .collect();
    Ok(Json(
        json!({"received": received, "set": done.set, "rejected": rejected}),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Params {
    /// only this channel's
    channel: Option<String>,
    /// only this SKU's
    sku: Option<String>,
    /// only prices the channel has not acknowledged
    #[param(default = false)]
    pending: Option<bool>,
    /// the previous page's next_after (CHANNEL:SKU)
    #[param(pattern = "^[^:]*:.*$")]
    after: Option<String>,
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
}

/// Prices by channel and SKU, with what each channel was pushed and acknowledged
#[utoipa::path(
    get,
    path = "/v1/prices",
    params(Params),
    responses(
        (status = 200, description = "A page of prices", body = openapi::PricePage),
        (status = 422, description = "VALIDATION_FAILED (limit out of range, after not CHANNEL:SKU)"),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
async fn list(
    State(prices): State<Prices>,
    Query(p): Query<Params>,
) -> Result<Json<Value>, Problem> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(Problem::invalid(format!("limit must be 1 to {MAX_LIST}")));
    }
    let after = match p.after {
        None => None,
        Some(a) => match a.split_once(':') {
            Some((channel, sku)) => Some((channel.to_string(), sku.to_string())),
            None => {
                return Err(Problem::invalid(
                    "after must be CHANNEL:SKU, as a page's next_after gives it",
                ));
            }
        },
    };
    let query = PriceQuery {
        channel: p.channel,
        sku: p.sku,
        pending: p.pending.unwrap_or(false),
        after,
        limit,
    };
    let page = prices.list(query).await?;
    let next_after = super::next_page(&page, limit, |p| format!("{}:{}", p.channel, p.sku));
    Ok(Json(json!({"prices": page, "next_after": next_after})))
}
