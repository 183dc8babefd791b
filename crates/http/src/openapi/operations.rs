//! Shapes of the operations routes' bodies: problems, exceptions, jobs, webhooks in,
//! bindings, subscriptions and prices.
//!
//! These types describe what the handlers read field by field or write as JSON; they are
//! for the document only, never built.
#![allow(dead_code)]

use serde_json::Value;
use utoipa::ToSchema;

use super::*;

#[derive(ToSchema)]
pub(crate) struct ProblemErrors {
    #[schema(nullable = false)]
    field: Option<String>,
    #[schema(nullable = false)]
    code: Option<String>,
    #[schema(nullable = false)]
    message: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Problem {
    r#type: String,
    title: String,
    status: i64,
    code: ErrorCode,
    detail: String,
    #[schema(nullable = false)]
    remediation: Option<String>,
    #[schema(inline, nullable = false)]
    errors: Option<Vec<ProblemErrors>>,
}

#[derive(ToSchema)]
pub(crate) struct Exception {
    #[schema(nullable = false)]
    id: Option<String>,
    #[schema(nullable = false)]
    code: Option<String>,
    #[schema(nullable = false)]
    system: Option<String>,
    /// the order it concerns; null for a connector's parked delivery
    order_id: Option<String>,
    #[schema(nullable = false)]
    job_id: Option<String>,
    #[schema(nullable = false)]
    status: Option<ExceptionStatus>,
    #[schema(nullable = false)]
    first_error: Option<String>,
    #[schema(nullable = false)]
    last_error: Option<String>,
    #[schema(nullable = false)]
    attempts: Option<i64>,
    #[schema(nullable = false)]
    remediation: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    created_at: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    updated_at: Option<String>,
    /// the job's payload, which an edit and retry replaces (on GET /v1/exceptions/{id}); for a parked webhook {connector, topic, delivery_id, payload}
    #[schema(value_type = Object, required = false)]
    payload: Option<Value>,
}

#[derive(ToSchema)]
pub(crate) enum HookAnswerStatus {
    #[serde(rename = "taken")]
    Taken,
    #[serde(rename = "ignored")]
    Ignored,
    #[serde(rename = "parked")]
    Parked,
}

#[derive(ToSchema)]
pub(crate) struct HookAnswer {
    status: HookAnswerStatus,
    connector: String,
    /// Shopify's X-Shopify-Topic, or a Standard Webhooks body's type
    topic: String,
    /// the sender's event id (X-Shopify-Event-Id, webhook-id), the same on a redelivery
    delivery_id: String,
    /// taken: the order placed (or placed before: replayed)
    #[schema(nullable = false)]
    order_id: Option<String>,
    #[schema(nullable = false)]
    replayed: Option<bool>,
    /// taken: the order cancelled
    #[schema(nullable = false)]
    cancelled: Option<String>,
    /// taken: the order a shipment was booked for
    #[schema(nullable = false)]
    shipment_for: Option<String>,
    #[schema(nullable = false)]
    applied: Option<i64>,
    #[schema(nullable = false)]
    duplicates: Option<i64>,
    #[schema(nullable = false)]
    stale: Option<i64>,
    /// parked: the exception holding the delivery
    #[schema(nullable = false)]
    exception_id: Option<String>,
    /// parked: why, as a stable code
    #[schema(nullable = false)]
    code: Option<String>,
    #[schema(nullable = false)]
    detail: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct HookRejection {
    #[schema(nullable = false)]
    id: Option<i64>,
    #[schema(nullable = false)]
    connector: Option<String>,
    #[schema(nullable = false)]
    reason: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    received_at: Option<String>,
    /// the signature scheme's headers and the sender's identification
    #[schema(value_type = Object, required = false)]
    headers: Option<Value>,
    /// the raw body as received, up to 64 KiB
    #[schema(nullable = false)]
    body: Option<String>,
    #[schema(nullable = false)]
    body_bytes: Option<i64>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BindingIn {
    /// a connector's name under [[connectors]]
    #[schema(pattern = "^[a-z0-9-]{1,40}$")]
    connector: String,
    kind: BindingKind,
    /// our key: a SKU, a customer's account (else its id), a location's code, an order's id; no control characters, no space at either end, at most 200 characters
    #[schema(
        pattern = "^[^ \\u0000-\\u001f\\u007f-\\u009f]([^\\u0000-\\u001f\\u007f-\\u009f]*[^ \\u0000-\\u001f\\u007f-\\u009f])?$",
        max_length = 200,
        min_length = 1
    )]
    ours: String,
    /// the system's id for it; no control characters, no space at either end, at most 200 characters
    #[schema(
        pattern = "^[^ \\u0000-\\u001f\\u007f-\\u009f]([^\\u0000-\\u001f\\u007f-\\u009f]*[^ \\u0000-\\u001f\\u007f-\\u009f])?$",
        max_length = 200,
        min_length = 1
    )]
    theirs: String,
}

#[derive(ToSchema)]
pub(crate) struct Binding {
    /// its position among bindings: the cursor for `after`
    id: i64,
    connector: String,
    kind: BindingKind,
    ours: String,
    theirs: String,
    /// when the system's id was last set
    #[schema(format = DateTime)]
    updated_at: String,
}

#[derive(ToSchema)]
pub(crate) struct Subscription {
    /// `sub_…`
    id: String,
    url: String,
    event_types: Vec<EventType>,
    #[schema(format = DateTime)]
    created_at: String,
    /// the event log has been followed for it up to this sequence number
    cursor: i64,
    /// when an endpoint's 410 Gone disabled it (a replay enables it again)
    #[schema(format = DateTime, required = true)]
    disabled_at: Option<String>,
    #[schema(required = true)]
    disabled_reason: Option<String>,
    /// deliveries not yet made: due, or waiting out a retry
    pending: i64,
    /// deliveries given up on after the schedule's last attempt
    failed: i64,
}

#[derive(ToSchema)]
pub(crate) struct SubscriptionCreated {
    #[serde(flatten)]
    subscription: Subscription,
    /// `whsec_…`: deliveries are signed with it by the Standard Webhooks scheme. Given here only, once.
    secret: String,
}

#[derive(ToSchema)]
pub(crate) struct DeliveryAttempt {
    /// its position among attempts: the cursor for `after`
    id: i64,
    subscription: String,
    /// the event's sequence number (its `webhook-id` is `evt_` and this)
    seq: i64,
    /// 1 for the first attempt at this delivery
    attempt: i64,
    #[schema(format = DateTime)]
    at: String,
    /// the endpoint's HTTP status; null when no answer came
    #[schema(required = true)]
    status: Option<i64>,
    #[schema(required = true)]
    error: Option<String>,
    duration_ms: i64,
    outcome: AttemptOutcome,
    /// when the next attempt is due (outcome retrying)
    #[schema(format = DateTime, required = true)]
    next_at: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PriceIn {
    /// a SKU in the item master
    sku: String,
    /// the channel the price is for; left out (or null), every channel of the estate
    channel: Option<String>,
    /// ISO 4217, e.g. USD
    currency: String,
    /// the price of one unit, decimal, not below zero, e.g. "19.99"
    amount: String,
}

/// a price as pushed to the channel or acknowledged by it, and when
#[derive(ToSchema)]
pub(crate) struct PriceSeen {
    currency: String,
    amount: String,
    #[schema(format = DateTime)]
    at: String,
}

#[derive(ToSchema)]
pub(crate) struct Price {
    channel: String,
    sku: String,
    currency: String,
    /// decimal
    amount: String,
    /// the system that set it
    source: String,
    /// when the price last changed
    #[schema(format = DateTime)]
    set_at: String,
    /// the price last pushed to the channel, and when
    #[schema(inline, required = true)]
    pushed: Option<PriceSeen>,
    /// the price the channel last acknowledged, and when
    #[schema(inline, required = true)]
    acknowledged: Option<PriceSeen>,
    /// whether the channel acknowledged this price (not only an earlier one)
    current: bool,
    /// why the channel last refused it, while it does
    #[schema(required = true)]
    refused: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Job {
    #[schema(nullable = false)]
    id: Option<String>,
    #[schema(nullable = false)]
    kind: Option<String>,
    #[schema(nullable = false)]
    system: Option<String>,
    #[schema(nullable = false)]
    order_id: Option<String>,
    /// the transaction that queued it (GET /v1/trace/{correlation_id}); sent to the system as X-Correlation-ID
    correlation_id: Option<String>,
    #[schema(nullable = false)]
    state: Option<String>,
    #[schema(nullable = false)]
    attempts: Option<i64>,
    #[schema(format = DateTime, nullable = false)]
    run_at: Option<String>,
    #[schema(nullable = false)]
    lease_owner: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    lease_until: Option<String>,
    #[schema(nullable = false)]
    last_error: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct JobPage {
    #[schema(inline, nullable = false)]
    jobs: Option<Vec<Job>>,
    /// Set when the page is full: send it as `after` for the next page
    next_after: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct JobsRetried {
    #[schema(nullable = false)]
    system: Option<String>,
    #[schema(nullable = false)]
    due: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct ExceptionPage {
    #[schema(nullable = false)]
    exceptions: Option<Vec<Exception>>,
    /// Set when the page is full: send it as `after` for the next page
    next_after: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct HookRejectionPage {
    rejections: Vec<HookRejection>,
}

#[derive(ToSchema)]
pub(crate) struct BindingsResult {
    received: i64,
    changed: i64,
}

#[derive(ToSchema)]
pub(crate) struct BindingPage {
    bindings: Vec<Binding>,
    /// send as after for the next page; null when the list ended
    #[schema(required = true)]
    next_after: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct SubscriptionList {
    subscriptions: Vec<Subscription>,
}

#[derive(ToSchema)]
pub(crate) struct AttemptPage {
    attempts: Vec<DeliveryAttempt>,
    /// send back as `after` for the next page; null at the end
    #[schema(required = true)]
    next_after: Option<i64>,
}

#[derive(ToSchema)]
pub(crate) struct ReplayAnswer {
    subscription: Subscription,
    after: i64,
}

#[derive(ToSchema)]
pub(crate) struct PricesResult {
    received: i64,
    set: i64,
    rejected: Vec<Rejection>,
}

#[derive(ToSchema)]
pub(crate) struct PricePage {
    prices: Vec<Price>,
    /// send as after for the next page; null when the list ended
    #[schema(required = true)]
    next_after: Option<String>,
}
