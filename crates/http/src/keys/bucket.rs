//! A key's token bucket: up to one second of its rate, refilled at the rate, and how hard it
//! was pressed over the last minute or two.

use std::time::Duration;

use tokio::time::Instant;

/// A key's standing against its rate, for the `RateLimit-*` and `Retry-After` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests a second.
    pub limit: u32,
    /// Requests it may make at once now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until one more request is allowed (0 when one is).
    pub retry_after_secs: u64,
}

/// A key's use of its rate, over the last minute or two.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pressure {
    /// The highest share of its bucket in use, 0 to 1.
    pub peak_load: f64,
    /// Requests refused 429.
    pub refused: u64,
}

/// How long one window of [`Pressure`] runs; the last two are reported.
const WINDOW: Duration = Duration::from_secs(60);

/// One window of a bucket's use.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Window {
    pub(super) peak: f64,
    pub(super) refused: u64,
}

/// A token bucket holding up to one second of the rate, with how hard it was pressed.
#[derive(Debug)]
pub(super) struct Bucket {
    tokens: f64,
    at: Instant,
    window_start: Instant,
    pub(super) window: Window,
    pub(super) previous: Window,
}

impl Bucket {
    pub(super) fn full(rate: u32) -> Self {
        Self::holding(f64::from(rate), Instant::now())
    }

    fn holding(tokens: f64, at: Instant) -> Self {
        Self {
            tokens,
            at,
            window_start: at,
            window: Window::default(),
            previous: Window::default(),
        }
    }

    /// Starts a new window when this one has run its minute (forgetting the one before it,
    /// or both after a quiet spell).
    pub(super) fn roll(&mut self, now: Instant) {
        let age = now.saturating_duration_since(self.window_start);
        if age >= WINDOW {
            self.previous = if age >= 2 * WINDOW {
                Window::default()
            } else {
                self.window
            };
            self.window = Window::default();
            self.window_start = now;
        }
    }

    pub(super) fn refill(&mut self, rate: u32, now: Instant) {
        let rate = f64::from(rate);
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.at = now;
    }

    pub(super) fn take(&mut self, rate: u32, now: Instant) -> Result<Quota, Quota> {
        self.refill(rate, now);
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let per_sec = f64::from(rate);
        self.roll(now);
        let load = 1.0 - (self.tokens / per_sec).clamp(0.0, 1.0);
        self.window.peak = self.window.peak.max(if allowed { load } else { 1.0 });
        self.window.refused += u64::from(!allowed);
        let quota = Quota {
            limit: rate,
            remaining: self.tokens.floor() as u32,
            reset_secs: ((per_sec - self.tokens) / per_sec).ceil() as u64,
            retry_after_secs: if allowed {
                0
            } else {
                ((1.0 - self.tokens) / per_sec).ceil().max(1.0) as u64
            },
        };
        if allowed { Ok(quota) } else { Err(quota) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_a_second_and_refills_at_the_rate() {
        let start = Instant::now();
        let mut b = Bucket::holding(2.0, start);
        let first = b.take(2, start).unwrap();
        assert_eq!((first.limit, first.remaining, first.reset_secs), (2, 1, 1));
        b.take(2, start).unwrap();
        let refused = b.take(2, start).unwrap_err();
        assert_eq!((refused.remaining, refused.retry_after_secs), (0, 1));
        // Half a second at 2 a second gives one back; more time never gives more than 2.
        b.take(2, start + Duration::from_millis(500)).unwrap();
        b.refill(2, start + Duration::from_secs(60));
        assert_eq!(b.tokens, 2.0);
    }

    #[test]
    fn pressure_keeps_the_peak_and_the_refusals_of_the_last_two_minutes() {
        let start = Instant::now();
        let mut b = Bucket::holding(4.0, start);
        b.take(4, start).unwrap();
        assert_eq!((b.window.peak, b.window.refused), (0.25, 0));
        for _ in 0..3 {
            b.take(4, start).unwrap();
        }
        b.take(4, start).unwrap_err();
        assert_eq!((b.window.peak, b.window.refused), (1.0, 1));
        // A minute on, the last window is still counted; two quiet minutes on, nothing is.
        b.take(4, start + WINDOW).unwrap();
        assert_eq!((b.previous.peak, b.previous.refused), (1.0, 1));
        b.roll(start + WINDOW * 4);
        assert_eq!((b.window.peak, b.previous.peak), (0.0, 0.0));
    }
}
