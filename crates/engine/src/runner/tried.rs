//! What a try of a job carries to the calls it makes: the correlation id of the job's
//! transaction, which every outbound call sends as `X-Correlation-ID`, and the last HTTP status
//! the system answered, which is kept with the try. Set by the runner around each try; the
//! connectors' HTTP client reads and writes it without the job being passed down.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

tokio::task_local! {
    static TRY: Arc<Try>;
}

struct Try {
    correlation_id: String,
    status: AtomicU16,
}

/// The correlation id of the try running on this task; none outside a try.
pub fn correlation_id() -> Option<String> {
    TRY.try_with(|t| t.correlation_id.clone()).ok()
}

/// Notes that the system answered `status` to a call of the try running on this task.
pub fn answered(status: u16) {
    let _ = TRY.try_with(|t| t.status.store(status, Ordering::Relaxed));
}

/// Runs `work` as a try carrying `correlation_id`: its output and the last status answered.
pub async fn within<F: Future>(correlation_id: String, work: F) -> (F::Output, Option<u16>) {
    let t = Arc::new(Try {
        correlation_id,
        status: AtomicU16::new(0),
    });
    let out = TRY.scope(t.clone(), work).await;
    let status = t.status.load(Ordering::Relaxed);
    (out, (status != 0).then_some(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_try_carries_its_id_and_keeps_the_last_status() {
        assert_eq!(correlation_id(), None, "outside a try");
        answered(500); // ignored outside a try
        let (seen, status) = within("corr_1".into(), async {
            answered(503);
            answered(201);
            correlation_id()
        })
        .await;
        assert_eq!((seen.as_deref(), status), (Some("corr_1"), Some(201)));
        let (_, status) = within("corr_2".into(), async {}).await;
        assert_eq!(status, None, "no call answered");
    }
}
