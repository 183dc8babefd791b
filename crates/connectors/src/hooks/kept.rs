//! How many refused deliveries a connector keeps: at most [`KEPT_PER_WINDOW`] in each
//! [`WINDOW`]. Beyond that a delivery is still refused (401) but only counted, so a sender
//! hammering with a wrong secret cannot make the store write a row per request; how many
//! were passed over is logged when the window closes.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Rejections kept per connector in one window.
pub const KEPT_PER_WINDOW: u32 = 20;

/// The window.
pub const WINDOW: Duration = Duration::from_secs(10);

/// One connector's count in the current window.
#[derive(Debug)]
pub(super) struct Kept(Mutex<Window>);

#[derive(Debug)]
struct Window {
    start: Instant,
    kept: u32,
    passed_over: u64,
}

impl Kept {
    pub(super) fn new(now: Instant) -> Self {
        Kept(Mutex::new(Window {
            start: now,
            kept: 0,
            passed_over: 0,
        }))
    }

    /// Whether to keep one more rejection at `now`, and how many the window that closed (if
    /// one did) passed over.
    pub(super) fn admit(&self, now: Instant) -> (bool, u64) {
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut closed = 0;
        if now.duration_since(w.start) >= WINDOW {
            closed = std::mem::take(&mut w.passed_over);
            w.start = now;
            w.kept = 0;
        }
        if w.kept < KEPT_PER_WINDOW {
            w.kept += 1;
            (true, closed)
        } else {
            w.passed_over += 1;
            (false, closed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_keeps_its_share_and_counts_the_rest() {
        let t0 = Instant::now();
        let kept = Kept::new(t0);
        let admitted = (0..50).filter(|_| kept.admit(t0).0).count();
        assert_eq!(admitted, KEPT_PER_WINDOW as usize);
        // The next window keeps again, and says how many the last one passed over.
        assert_eq!(kept.admit(t0 + WINDOW), (true, 30));
        assert_eq!(kept.admit(t0 + WINDOW), (true, 0));
    }
}
