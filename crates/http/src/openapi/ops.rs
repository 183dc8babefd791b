//! Shapes of the answers to the four operations questions (`/v1/ops/*`). For the document
//! only, never built.
#![allow(dead_code)]

use utoipa::ToSchema;

use super::*;

/// an order the ERP did not create, with its exception
#[derive(ToSchema)]
pub(crate) struct FailedErpOrder {
    order_id: Option<String>,
    /// `exc_…`
    exception_id: String,
    /// `erp`, or `erp:NAME` with several ERPs
    system: String,
    code: ErrorCode,
    status: ExceptionStatus,
    attempts: i64,
    last_error: String,
    #[schema(format = DateTime)]
    opened_at: String,
    /// the exception's remediation, then the call that retries, resolves or cancels
    next_action: String,
}

/// an order whose post to the ERP is failing while the runner tries again
#[derive(ToSchema)]
pub(crate) struct FailingErpOrder {
    order_id: Option<String>,
    job_id: String,
    system: String,
    attempts: i64,
    last_error: Option<String>,
    #[schema(format = DateTime)]
    next_attempt_at: String,
    next_action: String,
}

#[derive(ToSchema)]
pub(crate) struct FailedErpOrders {
    #[schema(format = DateTime)]
    since: String,
    failed: Vec<FailedErpOrder>,
    failing: Vec<FailingErpOrder>,
    /// failed orders by code
    #[schema(value_type = Object)]
    by_code: AnyValue,
}

/// a stock event that reached the hub late
#[derive(ToSchema)]
pub(crate) struct LateEvent {
    seq: i64,
    source: String,
    source_event_id: String,
    sku: String,
    /// when it happened, by its source
    #[schema(format = DateTime)]
    occurred_at: String,
    /// when the hub recorded it
    #[schema(format = DateTime)]
    recorded_at: String,
    delay_secs: f64,
}

/// one location's stock events since `since`
#[derive(ToSchema)]
pub(crate) struct LocationDelay {
    location: String,
    events: i64,
    late: i64,
    #[schema(nullable = false)]
    p50_delay_secs: Option<f64>,
    #[schema(nullable = false)]
    p95_delay_secs: Option<f64>,
    #[schema(nullable = false)]
    max_delay_secs: Option<f64>,
    #[schema(format = DateTime)]
    last_event_at: Option<String>,
    /// the latest first, at most 20
    #[schema(nullable = false)]
    late_events: Option<Vec<LateEvent>>,
    next_action: String,
}

#[derive(ToSchema)]
pub(crate) struct DelayedInventory {
    #[schema(format = DateTime)]
    since: String,
    late_after_secs: i64,
    /// the locations with the most late events first
    locations: Vec<LocationDelay>,
}

/// a price the channel has not acknowledged
#[derive(ToSchema)]
pub(crate) struct StalePrice {
    sku: String,
    currency: String,
    amount: String,
    source: String,
    #[schema(format = DateTime)]
    set_at: String,
    pushed: Option<PriceSeen>,
    acknowledged: Option<PriceSeen>,
    /// never pushed, pushed and not acknowledged, or the channel's refusal
    why: String,
}

#[derive(ToSchema)]
pub(crate) struct ChannelStalePrices {
    channel: String,
    stale: i64,
    refused: i64,
    prices: Vec<StalePrice>,
    next_action: String,
}

#[derive(ToSchema)]
pub(crate) struct StalePricing {
    older_than_secs: i64,
    channels: Vec<ChannelStalePrices>,
}

/// an API key near or over its rate
#[derive(ToSchema)]
pub(crate) struct PressedKey {
    name: String,
    rate_per_sec: i64,
    /// the highest share of its bucket in use in the window, 0 to 1
    peak_load: f64,
    /// requests refused 429 in the window
    refused: i64,
    next_action: String,
}

#[derive(ToSchema)]
pub(crate) struct RateLimits {
    above: f64,
    window_secs: i64,
    /// the most pressed first
    keys: Vec<PressedKey>,
}

/// one `[[slas]]` over its window
#[derive(ToSchema)]
pub(crate) struct SlaStandingDoc {
    /// order_ingestion, inventory_propagation, shipment_updates or financial_posting
    flow: String,
    target_ms: i64,
    percent: f64,
    window_minutes: i64,
    /// done within the window
    done: i64,
    /// of those, within the target
    on_time: i64,
    /// not done yet and past the target already
    late_waiting: i64,
    /// the share within the target, in percent; null when the window held nothing
    #[schema(required = true)]
    compliance: Option<f64>,
    /// true while the compliance is under the percent
    breached: bool,
    /// what to look at, for a breached SLA; null otherwise
    #[schema(required = true)]
    next_action: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Slas {
    slas: Vec<SlaStandingDoc>,
}
