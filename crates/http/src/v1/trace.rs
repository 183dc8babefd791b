//! `GET /v1/trace/{correlation_id}`: one business transaction across systems, in time order:
//! the order it took in, each move of that order it or its jobs made, and every call its jobs
//! made to an outside system with the outcome, the HTTP status and how long it took. The id is
//! the `X-Correlation-ID` of the request that began it (sent back on every answer).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use crossdock_domain::order_state::OrderState;
use crossdock_domain::{ErrorCode, JobKind, JobOutcome, Timestamp};
use crossdock_engine::Inventory;
use crossdock_store::TraceStore;
use crossdock_store::trace::{JobAttempt, TRACE_ATTEMPTS, TracedOrder, TracedStep};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Json, NoParams, Query};
use crate::openapi;
use crate::problem::Problem;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/trace/{correlation_id}", get(trace))
}

/// One business transaction, in time order.
#[derive(Serialize, ToSchema)]
#[schema(as = Trace)]
pub(crate) struct TraceOut {
    correlation_id: String,
    /// the orders it took in, oldest first
    orders: Vec<OrderOut>,
    /// what happened, oldest first; at equal times, in the order it was recorded
    timeline: Vec<Entry>,
    /// true when the transaction made more calls than the 1,000 shown
    truncated: bool,
}

/// An order the transaction took in, as it stands now.
#[derive(Serialize, ToSchema)]
#[schema(as = TracedOrder)]
pub(crate) struct OrderOut {
    id: String,
    channel: String,
    external_id: String,
    #[schema(value_type = openapi::OrderState)]
    state: OrderState,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

/// One thing that happened.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = TraceEntry)]
pub(crate) enum Entry {
    /// The order came in.
    Inbound {
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
        order_id: String,
        /// the channel it came from
        system: String,
        external_id: String,
        /// in words
        summary: String,
    },
    /// The order moved.
    State {
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
        order_id: String,
        /// its place in the order's history
        seq: i64,
        #[schema(value_type = Option<openapi::OrderState>, required = true)]
        from: Option<OrderState>,
        #[schema(value_type = openapi::OrderState)]
        to: OrderState,
        /// who or what moved it (a job's kind, `api`, `operator`)
        actor: String,
        /// the request's correlation id, or the job that made the move
        by: String,
        summary: String,
    },
    /// A job called an outside system.
    Call {
        /// when the try began
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
        #[schema(required = true)]
        order_id: Option<String>,
        /// the system called
        system: String,
        job_id: String,
        #[schema(value_type = openapi::JobKind)]
        job_kind: JobKind,
        /// which try, from 1
        attempt: i64,
        #[schema(value_type = openapi::JobOutcome)]
        outcome: JobOutcome,
        /// the last HTTP status the system answered during the try; null when it did not answer
        #[schema(required = true)]
        http_status: Option<u16>,
        duration_ms: i64,
        #[schema(required = true)]
        error: Option<String>,
        summary: String,
    },
}

impl Entry {
    fn at(&self) -> Timestamp {
        match self {
            Entry::Inbound { at, .. } | Entry::State { at, .. } | Entry::Call { at, .. } => *at,
        }
    }

    fn inbound(o: &TracedOrder) -> Self {
        Entry::Inbound {
            at: o.created_at,
            order_id: o.id.to_string(),
            system: o.channel.clone(),
            external_id: o.external_id.clone(),
            summary: format!("order {} came in from {}", o.external_id, o.channel),
        }
    }

    fn state(s: TracedStep) -> Self {
        let summary = match s.from {
            Some(from) => format!("{from} → {} by {}", s.to, s.actor),
            None => format!("{} by {}", s.to, s.actor),
        };
        Entry::State {
            at: s.at,
            order_id: s.order_id.to_string(),
            seq: s.seq,
            from: s.from,
            to: s.to,
            actor: s.actor,
            by: s.correlation_id,
            summary,
        }
    }

    fn call(a: JobAttempt) -> Self {
        let answered = a
            .http_status
            .map_or("no answer".into(), |s| format!("HTTP {s}"));
        let summary = format!(
            "{} to {}, try {}: {} ({answered}, {} ms)",
            a.kind, a.system, a.attempt, a.outcome, a.duration_ms
        );
        Entry::Call {
            at: a.started_at,
            order_id: a.order_id.map(|o| o.to_string()),
            system: a.system,
            job_id: a.job_id.to_string(),
            job_kind: a.kind,
            attempt: a.attempt,
            outcome: a.outcome,
            http_status: a.http_status,
            duration_ms: a.duration_ms,
            error: a.error,
            summary,
        }
    }
}

/// Follow one business transaction across systems
///
/// Everything recorded under one correlation id (the `X-Correlation-ID` of the request that began it, or the trace id of its `traceparent`), in time order: the order it took in, each move of that order made by the request or by one of its jobs, and every call those jobs made to an outside system (the ERP, the warehouse, payment…) with its outcome, HTTP status and duration. Calls are kept for 7 days.
#[utoipa::path(
    get,
    path = "/v1/trace/{correlation_id}",
    params(("correlation_id" = String, Path, description = "the X-Correlation-ID of the request that began it")),
    responses(
        (status = 200, description = "The transaction's timeline", body = TraceOut),
        (status = 404, description = "NOT_FOUND: nothing is recorded under the id"),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
async fn trace(
    State(inv): State<Inventory>,
    Path(correlation_id): Path<String>,
    _: Query<NoParams>,
) -> Result<Json<TraceOut>, Problem> {
    let found = inv.store().trace(&correlation_id).await?;
    if found.orders.is_empty() && found.steps.is_empty() && found.attempts.is_empty() {
        return Err(Problem::new(
            ErrorCode::NotFound,
            format!("nothing is recorded under correlation id {correlation_id}"),
        )
        .remediation(
            "Every answer carries its request's id in X-Correlation-ID; an order's history \
             (GET /v1/orders/{id}) names the id of each move. Calls are kept for 7 days.",
        ));
    }
    let truncated = found.attempts.len() as i64 >= TRACE_ATTEMPTS;
    let mut timeline: Vec<Entry> = found.orders.iter().map(Entry::inbound).collect();
    timeline.extend(found.steps.into_iter().map(Entry::state));
    timeline.extend(found.attempts.into_iter().map(Entry::call));
    timeline.sort_by_key(Entry::at);
    let orders = (found.orders.into_iter())
        .map(|o| OrderOut {
            id: o.id.to_string(),
            channel: o.channel,
            external_id: o.external_id,
            state: o.state,
            created_at: o.created_at,
        })
        .collect();
    Ok(Json(TraceOut {
        correlation_id,
        orders,
        timeline,
        truncated,
    }))
}
