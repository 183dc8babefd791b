//! Where each `[[slas]]` stands: of the flow's work whose clock started within the window,
//! the share done within the target. Work not done yet counts against the SLA once it is past
//! the target, so an ERP that is down breaches order ingestion while its orders wait, not only
//! after they are posted. A flow's job is timed from when it was queued to the end of the try
//! that succeeded (a sales order from when its order was taken in); inventory propagation
//! from the commit that changed a figure to the storefront taking it.

use crossdock_domain::Timestamp;
use crossdock_store::{AnyStore, StoreError, TraceStore};
use serde::Serialize;

use crate::config::{Flow, SlaConfig};

/// One SLA over its window, as of a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaStanding {
    /// The flow.
    pub flow: &'static str,
    /// How long each may take, in milliseconds.
    pub target_ms: u64,
    /// The share that must be within it, in percent.
    pub percent: f64,
    /// The window, in minutes.
    pub window_minutes: u64,
    /// Done within the window.
    pub done: u64,
    /// Of those, done within the target.
    pub on_time: u64,
    /// Not done yet, and past the target already.
    pub late_waiting: u64,
    /// The share within the target, in percent, of what was done and what is late; none
    /// when the window held nothing.
    pub compliance: Option<f64>,
    /// True when the compliance is under the percent.
    pub breached: bool,
}

impl SlaStanding {
    /// `sla`'s standing from the times (ms) of what was done and the count of what is late.
    pub fn of(sla: &SlaConfig, times: &[i64], late_waiting: u64) -> Self {
        let target = i64::try_from(sla.target_ms).unwrap_or(i64::MAX);
        let on_time = times.iter().filter(|t| **t <= target).count() as u64;
        let counted = times.len() as u64 + late_waiting;
        let compliance = (counted > 0).then(|| on_time as f64 * 100.0 / counted as f64);
        SlaStanding {
            flow: sla.flow.as_str(),
            target_ms: sla.target_ms,
            percent: sla.percent,
            window_minutes: sla.window_minutes,
            done: times.len() as u64,
            on_time,
            late_waiting,
            compliance,
            breached: compliance.is_some_and(|c| c < sla.percent),
        }
    }
}

/// Where `sla` stands at `now`. `propagated` holds, for inventory propagation, each figure's
/// (when the storefront took it, how long it took) in milliseconds, as the publishers keep
/// them.
pub async fn standing(
    store: &AnyStore,
    sla: &SlaConfig,
    now: Timestamp,
    propagated: &[(i64, i64)],
) -> Result<SlaStanding, StoreError> {
    let window_ms = i64::try_from(sla.window_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
    let since = Timestamp(now.0.saturating_sub(window_ms));
    if sla.flow == Flow::InventoryPropagation {
        let times: Vec<i64> = (propagated.iter())
            .filter(|(at, _)| *at >= since.0)
            .map(|(_, took)| *took)
            .collect();
        return Ok(SlaStanding::of(sla, &times, 0));
    }
    let from_order = sla.flow == Flow::OrderIngestion;
    let late_before = Timestamp(now.0.saturating_sub(sla.target_ms as i64));
    let (mut times, mut late) = (Vec::new(), 0);
    for kind in sla.flow.kinds() {
        times.extend(store.flow_times(*kind, since, from_order).await?);
        late += store
            .late_jobs(*kind, since, late_before, from_order)
            .await?;
    }
    Ok(SlaStanding::of(sla, &times, late.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_counts_what_is_late_and_not_done() {
        let sla = SlaConfig {
            flow: Flow::OrderIngestion,
            target_ms: 100,
            percent: 90.0,
            window_minutes: 60,
        };
        let s = SlaStanding::of(&sla, &[10, 100, 101], 0);
        assert_eq!((s.done, s.on_time), (3, 2));
        assert!(s.breached, "{s:?}");
        let met = SlaStanding::of(&sla, &[10; 9], 0);
        assert_eq!((met.compliance, met.breached), (Some(100.0), false));
        let waiting = SlaStanding::of(&sla, &[10; 9], 1);
        assert_eq!((waiting.compliance, waiting.breached), (Some(90.0), false));
        let down = SlaStanding::of(&sla, &[10; 9], 2);
        assert!(
            down.breached,
            "two orders waiting past the target: {down:?}"
        );
        let quiet = SlaStanding::of(&sla, &[], 0);
        assert_eq!((quiet.compliance, quiet.breached), (None, false));
    }
}
