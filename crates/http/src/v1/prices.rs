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

use crate::AppState;
use crate::extract::{Json, Query};
use crate::problem::Problem;

/// Most prices per page.
pub const MAX_LIST: i64 = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/prices", get(list).post(set))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesIn {
    source: String,
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

async fn set(
    State(prices): State<Prices>,
    Json(body): Json<PricesIn>,
) -> Result<Json<Value>, Problem> {
    if body.source.trim().is_empty() {
        return Err(Problem::invalid(
            "source: name the system the prices come from",
        ));
    }
    let received = body.prices.len();
    let done = prices.set(&body.source, body.prices).await?;
    let rejected: Vec<Value> = (done.rejected.into_iter())
        .map(|(index, code, detail)| json!({"index": index, "code": code, "detail": detail}))
        .collect();
    Ok(Json(
        json!({"received": received, "set": done.set, "rejected": rejected}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    channel: Option<String>,
    sku: Option<String>,
    pending: Option<bool>,
    after: Option<String>,
    limit: Option<i64>,
}

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
