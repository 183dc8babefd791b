//! `GET /metrics` (scope `ops:read`), in the Prometheus text format (OpenMetrics 1.0):
//!
//! - `crossdock_orders_received_total{channel,outcome}` and `crossdock_order_intake_seconds`
//!   (a histogram by channel): every `POST /v1/orders`, by what became of it (`accepted`,
//!   `backordered`, `rejected`, `replayed`, `invalid`, `refused`), and how long the answer took.
//! - `crossdock_jobs_waiting{system,kind}` and `crossdock_job_oldest_due_seconds{system,kind}`:
//!   the outbox queue's depth, and how long its oldest due job has waited.
//! - `crossdock_job_tries_total{system,outcome}` (`done`, `retry`, `failed`),
//!   `crossdock_job_tries_in_flight{system}` and `crossdock_circuit_open{system}` (1 while the
//!   system's circuit holds its jobs back): each runner's own counters.
//! - `crossdock_propagation_seconds{connector,feed}`: a histogram of how long each storefront's
//!   figures (`availability.changed` after a stock event, `price.changed`) took from the commit
//!   that changed them to the storefront taking them.
//! - `crossdock_sla_compliance_ratio{flow}` and `crossdock_sla_breached{flow}`: each
//!   `[[slas]]`'s share within its target over its window, and whether it is under its percent.
//! - `crossdock_api_key_load{key}` (the highest share of its rate a key used in the last two
//!   minutes), `crossdock_api_key_refused{key}` (its 429s in that time) and
//!   `crossdock_api_key_rate_per_sec{key}`: how close each consumer is to its limit.
//!
//! Intake is counted as it happens; the rest is read when scraped (the queue from the store).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crossdock_connectors::packs::publish::Propagation;
use crossdock_domain::ErrorCode;
use crossdock_engine::config::SlaConfig;
use crossdock_engine::runner::RunnerStats;
use crossdock_engine::{Inventory, now};
use crossdock_store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::extract::{NoParams, Query};
use crate::keys::ApiKeys;
use crate::problem::Problem;

mod sla;
pub use sla::SLA_CHECK;

/// What became of an order sent to `POST /v1/orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    /// Taken in, every line reserved.
    Accepted,
    /// Taken in, waiting for stock.
    Backordered,
    /// Taken in as rejected (not enough stock).
    Rejected,
    /// The same order again: its first answer.
    Replayed,
    /// Failed validation; nothing stored.
    Invalid,
    /// Refused for another reason (a reused key, a credit hold, the store); nothing stored.
    Refused,
}

impl Intake {
    fn as_str(self) -> &'static str {
        match self {
            Intake::Accepted => "accepted",
            Intake::Backordered => "backordered",
            Intake::Rejected => "rejected",
            Intake::Replayed => "replayed",
            Intake::Invalid => "invalid",
            Intake::Refused => "refused",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntakeLabels {
    channel: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabel {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    system: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SystemLabel {
    system: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TryLabels {
    system: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabel {
    key: String,
}

type Seconds = Family<ChannelLabel, Histogram, fn() -> Histogram>;
type Ratio = Gauge<f64, std::sync::atomic::AtomicU64>;

fn intake_seconds() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The hub's metrics: what is counted as it happens, and the runners read when scraped.
#[derive(Clone)]
pub struct Metrics {
    orders: Family<IntakeLabels, Counter>,
    intake: Seconds,
    runners: Arc<Vec<(String, Arc<RunnerStats>)>>,
    propagation: Propagation,
    slas: Arc<Vec<SlaConfig>>,
}

impl Metrics {
    /// Metrics over `runners` (system, counters), the storefronts' `propagation` and the
    /// `slas` configured.
    pub fn new(
        runners: Vec<(String, Arc<RunnerStats>)>,
        propagation: Propagation,
        slas: Vec<SlaConfig>,
    ) -> Self {
        Metrics {
            orders: Family::default(),
            intake: Family::new_with_constructor(intake_seconds),
            runners: Arc::new(runners),
            propagation,
            slas: Arc::new(slas),
        }
    }

    /// Counts an order sent on `channel` and what became of it, answered in `took`.
    pub fn order(&self, channel: &str, outcome: Intake, took: Duration) {
        let channel = channel.to_string();
        let labels = IntakeLabels {
            channel: channel.clone(),
            outcome: outcome.as_str(),
        };
        self.orders.get_or_create(&labels).inc();
        (self.intake.get_or_create(&ChannelLabel { channel })).observe(took.as_secs_f64());
    }

    /// Everything, as of now, in the text format.
    async fn render(&self, inventory: &Inventory, keys: &ApiKeys) -> Result<String, Problem> {
        let mut registry = Registry::with_prefix("crossdock");
        registry.register(
            "orders_received",
            "Orders sent to POST /v1/orders, by channel and what became of them",
            self.orders.clone(),
        );
        registry.register(
            "order_intake_seconds",
            "How long POST /v1/orders took to answer, by channel",
            self.intake.clone(),
        );
        self.propagation.register(&mut registry);
        self.queue(&mut registry, inventory).await?;
        self.tries(&mut registry);
        consumers(&mut registry, keys);
        self.register_slas(&mut registry, inventory).await?;
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry)
            .map_err(|e| Problem::new(ErrorCode::Internal, format!("metrics: {e}")))?;
        Ok(text)
    }

    async fn queue(&self, registry: &mut Registry, inventory: &Inventory) -> Result<(), Problem> {
        let at = now();
        let waiting = inventory.store().waiting_jobs(at).await?;
        let depth = Family::<QueueLabels, Gauge>::default();
        let oldest = Family::<QueueLabels, Ratio>::default();
        for w in waiting {
            let labels = QueueLabels {
                system: w.system,
                kind: w.kind.as_str(),
            };
            depth.get_or_create(&labels).set(w.count);
            let age_ms = w.oldest_due.map_or(0, |t| at.0.saturating_sub(t.0).max(0));
            oldest.get_or_create(&labels).set(age_ms as f64 / 1000.0);
        }
        registry.register(
            "jobs_waiting",
            "Outbox jobs waiting for their system (ready or running), by system and kind",
            depth,
        );
        registry.register(
            "job_oldest_due_seconds",
            "How long the oldest due job of each system and kind has waited (0 when none is due)",
            oldest,
        );
        Ok(())
    }

    fn tries(&self, registry: &mut Registry) {
        let tries = Family::<TryLabels, Counter>::default();
        let in_flight = Family::<SystemLabel, Gauge>::default();
        let open = Family::<SystemLabel, Gauge>::default();
        for (system, stats) in self.runners.iter() {
            let counts = [
                ("done", &stats.done),
                ("retry", &stats.retried),
                ("failed", &stats.failed),
            ];
            for (outcome, count) in counts {
                let labels = TryLabels {
                    system: system.clone(),
                    outcome,
                };
                tries
                    .get_or_create(&labels)
                    .inc_by(count.load(Ordering::Relaxed));
            }
            let label = SystemLabel {
                system: system.clone(),
            };
            in_flight
                .get_or_create(&label)
                .set(stats.in_flight() as i64);
            let circuit = i64::from(stats.circuit_open.load(Ordering::Relaxed));
            open.get_or_create(&label).set(circuit);
        }
        registry.register(
            "job_tries",
            "Tries of jobs by system and how they ended (failed: refused for good or out of tries)",
            tries,
        );
        registry.register(
            "job_tries_in_flight",
            "Tries under way, by system",
            in_flight,
        );
        registry.register(
            "circuit_open",
            "1 while a system's circuit is open and its jobs wait; 0 while calls go out",
            open,
        );
    }
}

fn consumers(registry: &mut Registry, keys: &ApiKeys) {
    let load = Family::<KeyLabel, Ratio>::default();
    let refused = Family::<KeyLabel, Gauge>::default();
    let rate = Family::<KeyLabel, Gauge>::default();
    for caller in keys.callers() {
        let label = KeyLabel {
            key: caller.name.clone(),
        };
        let pressure = caller.pressure();
        load.get_or_create(&label).set(pressure.peak_load);
        refused.get_or_create(&label).set(pressure.refused as i64);
        rate.get_or_create(&label).set(i64::from(caller.rate));
    }
    registry.register(
        "api_key_load",
        "The highest share of its rate each API key used in the last two minutes (1: at its limit)",
        load,
    );
    registry.register(
        "api_key_refused",
        "Requests refused 429 to each API key in the last two minutes",
        refused,
    );
    registry.register("api_key_rate_per_sec", "Each API key's rate", rate);
}

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Metrics for Prometheus
///
/// The hub's metrics in the Prometheus text format (OpenMetrics 1.0): orders received and intake latency by channel, the outbox queue's depth and oldest due job by system and kind, job tries and their outcomes, tries in flight and circuit state by system, and each API key's load against its rate.
#[utoipa::path(
    get,
    path = "/metrics",
    responses(
        (status = 200, description = "The metrics", content_type = "application/openmetrics-text", body = String),
        (status = 503, description = "Store unavailable (STORE_UNAVAILABLE)"),
    )
)]
async fn metrics(State(state): State<AppState>, _: Query<NoParams>) -> Result<Response, Problem> {
    let text = (state.metrics)
        .render(&state.inventory, &state.keys)
        .await?;
    let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, kind)], text).into_response())
}
