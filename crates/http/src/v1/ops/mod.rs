//! The four questions operations ask, one call each, every answer naming the records and the
//! next action:
//!
//! - `GET /v1/ops/failed-erp-orders?since=1h`: orders whose sales order the ERP did not
//!   create (an exception stands for each), and those it is still refusing while the runner
//!   tries again.
//! - `GET /v1/ops/delayed-inventory?group_by=location&since=1h&late=5m`: by location, how long
//!   stock events took from happening to reaching the hub, the late ones, and the locations
//!   that sent none.
//! - `GET /v1/ops/stale-pricing?older_than=15m`: by channel, prices the channel has not
//!   acknowledged for that long, and why.
//! - `GET /v1/ops/rate-limits?above=0.8`: API keys that came within that share of their rate
//!   in the last minute or two, or were refused for it.
//!
//! And `GET /v1/ops/slas`: where each `[[slas]]` stands over its window.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use crossdock_domain::error::role_of;
use crossdock_domain::{ExceptionStatus, JobKind, JobState, Timestamp};
use crossdock_engine::{Inventory, now};
use crossdock_store::{ExceptionFilter, JobFilter, PriceQuery};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::{Json, Query};
use crate::keys::ApiKeys;
use crate::openapi;
use crate::problem::Problem;

pub(crate) mod delays;

/// Most records a question reads of each list (exceptions, jobs, prices, events a page).
const MOST: i64 = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/ops/failed-erp-orders", get(failed_erp_orders))
        .route("/v1/ops/delayed-inventory", get(delays::delayed_inventory))
        .route("/v1/ops/stale-pricing", get(stale_pricing))
        .route("/v1/ops/rate-limits", get(rate_limits))
        .route("/v1/ops/slas", get(slas))
}

/// A span of time as `90s`, `30m`, `1h` or `2d`, in milliseconds.
fn span(param: &str, text: &str) -> Result<i64, Problem> {
    let bad = || {
        Problem::invalid(format!(
            "{param}: `{text}` is not a span such as 90s, 30m, 1h or 2d"
        ))
    };
    let Some(unit_at) = text.char_indices().last().map(|(i, _)| i) else {
        return Err(bad());
    };
    let (digits, unit) = text.split_at(unit_at);
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    if !(1..=366 * 86_400).contains(&n) {
        return Err(bad());
    }
    Ok(n * unit_ms)
}

/// `since` as a span back from now (`1h`) or an RFC 3339 time; `default` when absent.
fn since(text: Option<&str>, default: &str) -> Result<Timestamp, Problem> {
    let text = text.unwrap_or(default);
    if let Ok(t) = Timestamp::parse_rfc3339(text) {
        return Ok(t);
    }
    Ok(now().plus_millis(-span("since", text)?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SinceParams {
    /// how far back: a span (`90s`, `30m`, `1h`, `2d`) or an RFC 3339 time
    #[param(default = "1h", value_type = Option<openapi::Since>)]
    since: Option<String>,
}

/// Which orders failed ERP creation: one call
///
/// Orders whose sales order the ERP did not create since `since`: each open exception of a post_sales_order job (its code, the ERP's last error, tries, and what to do), and each order whose post is failing now while the runner tries again. Counts by code. Reads the newest 1,000 exceptions and jobs.
#[utoipa::path(
    get,
    path = "/v1/ops/failed-erp-orders",
    params(SinceParams),
    responses(
        (status = 200, description = "The failed and the failing, with the next action for each", body = openapi::FailedErpOrders),
        (status = 422, description = "VALIDATION_FAILED: since is neither a span nor a time"),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
async fn failed_erp_orders(
    State(inv): State<Inventory>,
    Query(p): Query<SinceParams>,
) -> Result<Json<Value>, Problem> {
    let since = since(p.since.as_deref(), "1h")?;
    let filter = ExceptionFilter {
        since: Some(since),
        limit: MOST,
        ..Default::default()
    };
    let exceptions: Vec<_> = (inv.exceptions(filter).await?.into_iter())
        .filter(|e| role_of(&e.system) == "erp" && e.status != ExceptionStatus::Resolved)
        .collect();
    let mut jobs = Vec::new();
    for state in [JobState::Failed, JobState::Ready, JobState::Leased] {
        let filter = JobFilter {
            state: Some(state),
            system: None,
            after: None,
            limit: MOST,
        };
        let posts = (inv.jobs(filter).await?.into_iter())
            .filter(|j| j.kind == JobKind::PostSalesOrder && role_of(&j.system) == "erp");
        jobs.extend(posts);
    }
    let posting = |id: &str| jobs.iter().any(|j| j.id.as_str() == id);
    let mut by_code = BTreeMap::new();
    let failed: Vec<Value> = (exceptions.iter())
        .filter(|e| posting(e.job_id.as_str()))
        .map(|e| {
            *by_code.entry(e.code.as_str()).or_insert(0) += 1;
            json!({
                "order_id": e.order_id, "exception_id": e.id, "system": e.system,
                "code": e.code, "status": e.status, "attempts": e.attempts,
                "last_error": e.last_error, "opened_at": e.created_at,
                "next_action": format!("{} Then POST /v1/exceptions/{}/retry (or /resolve, or /cancel-order).", e.remediation, e.id),
            })
        })
        .collect();
    let failing: Vec<Value> = (jobs.iter())
        .filter(|j| j.state != JobState::Failed && j.attempts > 0 && j.last_error.is_some())
        .map(|j| {
            json!({
                "order_id": j.order_id, "job_id": j.id, "system": j.system,
                "attempts": j.attempts, "last_error": j.last_error, "next_attempt_at": j.run_at,
                "next_action": format!(
                    "None yet: the runner tries again at next_attempt_at. If {} is down, POST /v1/jobs/retry?system={} once it is back.",
                    j.system, j.system
                ),
            })
        })
        .collect();
    Ok(Json(json!({
        "since": since, "failed": failed, "failing": failing, "by_code": by_code,
    })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StaleParams {
    /// a price not acknowledged this long after it was set is stale
    #[param(default = "15m", value_type = Option<openapi::Span>)]
    older_than: Option<String>,
}

/// Which channels are receiving stale pricing: one call
///
/// For each channel, the prices it has not acknowledged `older_than` after they were set (reading the first 1,000 not acknowledged): each with what was set, what was last pushed and what the channel last acknowledged, and why it refuses, if it does.
#[utoipa::path(
    get,
    path = "/v1/ops/stale-pricing",
    params(StaleParams),
    responses(
        (status = 200, description = "By channel: the stale prices and the next action", body = openapi::StalePricing),
        (status = 422, description = "VALIDATION_FAILED: older_than does not read"),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
async fn stale_pricing(
    State(prices): State<crossdock_engine::prices::Prices>,
    Query(p): Query<StaleParams>,
) -> Result<Json<Value>, Problem> {
    let older_ms = span("older_than", p.older_than.as_deref().unwrap_or("15m"))?;
    let cutoff = now().plus_millis(-older_ms);
    let query = PriceQuery {
        pending: true,
        limit: MOST,
        ..Default::default()
    };
    let mut by_channel: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for price in prices
        .list(query)
        .await?
        .into_iter()
        .filter(|p| p.set_at <= cutoff)
    {
        let why = match (&price.refused, &price.pushed) {
            (Some(reason), _) => format!("the channel refuses it: {reason}"),
            (None, None) => "never pushed: the channel's connector has not sent it".to_string(),
            (None, Some(_)) => "pushed, not acknowledged".to_string(),
        };
        by_channel
            .entry(price.channel.clone())
            .or_default()
            .push(json!({
                "sku": price.sku, "currency": price.currency, "amount": price.amount,
                "source": price.source, "set_at": price.set_at, "pushed": price.pushed,
                "acknowledged": price.acknowledged, "why": why,
            }));
    }
    let channels: Vec<Value> = by_channel
        .into_iter()
        .map(|(channel, stale)| {
            let refused = stale.iter().filter(|s| s["why"].as_str().is_some_and(|w| w.starts_with("the channel refuses"))).count();
            let next_action = if refused > 0 {
                format!("{refused} refused by {channel}: fix what each `why` names (the SKU's listing, the currency), then set the price again with POST /v1/prices.")
            } else {
                format!("Check {channel}'s connector: GET /v1/jobs?system={channel} and its exceptions; its prices are sent again when it answers.")
            };
            json!({"channel": channel, "stale": stale.len(), "refused": refused, "prices": stale, "next_action": next_action})
        })
        .collect();
    Ok(Json(json!({
        "older_than_secs": older_ms / 1000, "channels": channels,
    })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RateParams {
    /// list keys whose peak use of their rate reached this share (0 to 1)
    #[param(default = 0.8, minimum = 0, maximum = 1)]
    above: Option<f64>,
}

/// Which API consumers are approaching their rate limits: one call
///
/// Each live API key whose bucket came within `above` of empty in the last minute or two (its peak load, 1 when it ran dry), or that was refused 429 in that time, the most pressed first.
#[utoipa::path(
    get,
    path = "/v1/ops/rate-limits",
    params(RateParams),
    responses(
        (status = 200, description = "The keys near or over their rate, with the next action", body = openapi::RateLimits),
        (status = 422, description = "VALIDATION_FAILED: above is not from 0 to 1"),
    )
)]
async fn rate_limits(
    State(keys): State<ApiKeys>,
    Query(p): Query<RateParams>,
) -> Result<Json<Value>, Problem> {
    let above = p.above.unwrap_or(0.8);
    if !(0.0..=1.0).contains(&above) {
        return Err(Problem::invalid("above must be from 0 to 1"));
    }
    let mut pressed: Vec<(f64, Value)> = Vec::new();
    for caller in keys.callers() {
        let pressure = caller.pressure();
        if pressure.peak_load < above && pressure.refused == 0 {
            continue;
        }
        let next_action = if pressure.refused > 0 {
            format!(
                "{} was refused {} times: ask its owner to slow down and honour Retry-After, or make it a key with a higher --rate-per-sec than {}.",
                caller.name, pressure.refused, caller.rate
            )
        } else {
            format!(
                "{} is near its rate of {}/s: watch it; raise its rate before it is refused.",
                caller.name, caller.rate
            )
        };
        pressed.push((
            pressure.peak_load + pressure.refused as f64,
            json!({
                "name": caller.name, "rate_per_sec": caller.rate,
                "peak_load": (pressure.peak_load * 1000.0).round() / 1000.0,
                "refused": pressure.refused, "next_action": next_action,
            }),
        ));
    }
    pressed.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    let keys: Vec<Value> = pressed.into_iter().map(|(_, k)| k).collect();
    Ok(Json(
        json!({"above": above, "window_secs": 120, "keys": keys}),
    ))
}

/// Where each SLA stands
///
/// Each `[[slas]]` (order_ingestion: an order taken in until its sales order exists in the ERP; inventory_propagation: a stock move committed until each storefront has the figure; shipment_updates: a shipment recorded until its tracking and fulfilment are out; financial_posting: a capture, an invoice or a return from queued until taken), over its window: what was done, how much within the target, what is late and not done yet (it counts against the SLA), the share within the target, whether it is under its percent, and for a breached one what to look at. An empty list when none is configured.
#[utoipa::path(
    get,
    path = "/v1/ops/slas",
    responses(
        (status = 200, description = "Each SLA's standing", body = openapi::Slas),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
async fn slas(
    State(inv): State<Inventory>,
    State(metrics): State<crate::metrics::Metrics>,
    _: Query<crate::extract::NoParams>,
) -> Result<Json<Value>, Problem> {
    let standings = metrics.slas(&inv).await?;
    let listed: Vec<Value> = (standings.into_iter())
        .map(|s| {
            let next_action = s.breached.then_some(match s.flow {
                "order_ingestion" => "GET /v1/ops/failed-erp-orders names the orders the ERP has not taken and why; GET /v1/jobs?system=erp shows what waits.",
                "inventory_propagation" => "GET /metrics crossdock_propagation_seconds shows which storefront is slow; GET /v1/jobs and the connector's log show why.",
                _ => "GET /v1/jobs?state=ready shows what waits for which system; GET /v1/exceptions what failed.",
            });
            let mut v = serde_json::to_value(&s).unwrap_or_default();
            v["next_action"] = json!(next_action);
            v
        })
        .collect();
    Ok(Json(json!({ "slas": listed })))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_text_is_a_span_or_a_refusal_never_a_panic(text in "\\PC{0,12}") {
            let _ = span("since", &text);
            let _ = since(Some(&text), "1h");
        }

        #[test]
        fn every_written_span_reads_back(n in 1i64..=999_999, unit in "[smhd]") {
            let ms = span("s", &format!("{n}{unit}")).unwrap();
            let per = match unit.as_str() { "s" => 1_000, "m" => 60_000, "h" => 3_600_000, _ => 86_400_000 };
            proptest::prop_assert_eq!(ms, n * per);
        }
    }

    #[test]
    fn spans_read_seconds_minutes_hours_and_days() {
        assert_eq!(span("s", "90s").unwrap(), 90_000);
        assert_eq!(span("s", "30m").unwrap(), 1_800_000);
        assert_eq!(span("s", "1h").unwrap(), 3_600_000);
        assert_eq!(span("s", "2d").unwrap(), 172_800_000);
        for bad in [
            "",
            "h",
            "1",
            "1w",
            "-1h",
            "0m",
            "1.5h",
            "99999999d",
            "\u{80}",
            "1\u{e9}",
        ] {
            assert!(span("s", bad).is_err(), "{bad}");
        }
    }
}
