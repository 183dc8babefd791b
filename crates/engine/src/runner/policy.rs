//! How calls to an outside system are paced and retried: exponential backoff with jitter, a
//! circuit breaker, and a token-bucket rate limit. Plain values with the time passed in, so
//! each is tested without a clock.

use std::time::Duration;

/// Retries with exponential backoff and jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the second try.
    pub base: Duration,
    /// Longest delay between tries.
    pub max: Duration,
    /// Tries in all before giving up (the first counts).
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            max_attempts: 8,
        }
    }
}

impl Backoff {
    /// The wait after try number `attempt` (1-based) failed, or `None` when tries are spent.
    /// `jitter` in 0.0..1.0 spreads retries (full jitter over the upper half), and a
    /// `Retry-After` from the system is honoured when longer.
    pub fn next(
        &self,
        attempt: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exp = self
            .base
            .saturating_mul(
                1u32.checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max);
        let jittered = exp.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        Some(retry_after.map_or(jittered, |r| r.max(jittered)))
    }
}

/// Where a circuit breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; counts consecutive failures.
    Closed {
        /// Consecutive failures so far.
        failures: u32,
    },
    /// Calls are refused until the cool-down ends.
    Open {
        /// When one probe may go through (milliseconds since the epoch).
        until_ms: i64,
    },
    /// One probe is in flight; its result closes or reopens the circuit.
    HalfOpen,
}

/// Opens after `threshold` consecutive failures, probes once after `cool_down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breaker {
    /// Consecutive failures that open the circuit.
    pub threshold: u32,
    /// How long it stays open before a probe.
    pub cool_down: Duration,
    state: BreakerState,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cool_down,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    /// Where it stands.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a call may go out at `now_ms`. An open circuit past its cool-down lets exactly
    /// one probe through.
    pub fn allow(&mut self, now_ms: i64) -> bool {
        match self.state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until_ms } if now_ms >= until_ms => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// A call succeeded. True when this closed a circuit that was open or probing.
    pub fn success(&mut self) -> bool {
        let was_open = !matches!(self.state, BreakerState::Closed { .. });
        self.state = BreakerState::Closed { failures: 0 };
        was_open
    }

    /// A call failed in a way that says the system is unwell (timeout, 5xx, 429). True when
    /// this opened a closed circuit (not when a probe failed and it stays open).
    pub fn failure(&mut self, now_ms: i64) -> bool {
        let open = BreakerState::Open {
            until_ms: now_ms + self.cool_down.as_millis() as i64,
        };
        let (state, opened) = match self.state {
            BreakerState::Closed { failures } if failures + 1 < self.threshold => (
                BreakerState::Closed {
                    failures: failures + 1,
                },
                false,
            ),
            BreakerState::Closed { .. } => (open, true),
            _ => (open, false),
        };
        self.state = state;
        opened
    }

    /// A probe slot found nothing to send: the next call may probe, from `now_ms` on.
    pub fn probe_later(&mut self, now_ms: i64) {
        if self.state == BreakerState::HalfOpen {
            self.state = BreakerState::Open { until_ms: now_ms };
        }
    }
}

/// A token bucket: at most `per_sec` calls a second on average, bursts up to `burst`.
/// Time is in microseconds, so a bucket that allows a call every few milliseconds loses
/// nothing to rounding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    last_us: i64,
}

impl RateLimit {
    /// A full bucket at `now_us`.
    pub fn new(per_sec: f64, burst: u32, now_us: i64) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            per_sec: per_sec.max(0.001),
            burst,
            tokens: burst,
            last_us: now_us,
        }
    }

    /// Takes a token at `now_us`, or says how long to wait for one.
    pub fn take(&mut self, now_us: i64) -> Result<(), Duration> {
        let elapsed = (now_us - self.last_us).max(0) as f64 / 1_000_000.0;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        self.last_us = now_us.max(self.last_us);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.per_sec;
            Err(Duration::from_secs_f64(wait))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stops() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
            max_attempts: 6,
        };
        let full: Vec<u128> = (1..6)
            .map(|a| b.next(a, 1.0, None).unwrap().as_millis())
            .collect();
        assert_eq!(full, vec![100, 200, 400, 800, 1000]);
        assert_eq!(b.next(6, 1.0, None), None);
        assert_eq!(b.next(1, 0.0, None), Some(Duration::from_millis(50)));
        let honoured = b.next(1, 1.0, Some(Duration::from_secs(30)));
        assert_eq!(honoured, Some(Duration::from_secs(30)));
    }

    #[test]
    fn the_breaker_opens_probes_once_and_closes_on_success() {
        let mut br = Breaker::new(3, Duration::from_millis(1000));
        for t in 0..2 {
            br.failure(t);
            assert!(br.allow(t));
        }
        br.failure(2);
        assert_eq!(br.state(), BreakerState::Open { until_ms: 1002 });
        assert!(!br.allow(500));
        assert!(br.allow(1002), "one probe after the cool-down");
        assert!(!br.allow(1003), "only one");
        br.failure(1004);
        assert!(!br.allow(1500), "a failed probe reopens");
        assert!(br.allow(2004));
        br.success();
        assert!(br.allow(2005) && br.allow(2006));
    }

    #[test]
    fn the_bucket_refills_at_its_rate() {
        let mut rl = RateLimit::new(10.0, 2, 0);
        assert!(rl.take(0).is_ok() && rl.take(0).is_ok());
        let wait = rl.take(0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        assert!(rl.take(99_000).is_err());
        assert!(rl.take(100_000).is_ok());
    }

    proptest! {
        /// Whatever the pattern of requests, a bucket never lets through more than
        /// burst + rate × elapsed calls.
        #[test]
        fn the_bucket_never_exceeds_its_rate(gaps in prop::collection::vec(0i64..50_000, 1..400), rate in 1u32..2000, burst in 1u32..20) {
            let mut rl = RateLimit::new(f64::from(rate), burst, 0);
            let mut now = 0;
            let mut taken = 0u64;
            for g in gaps {
                now += g;
                if rl.take(now).is_ok() {
                    taken += 1;
                }
                let allowed = f64::from(burst) + f64::from(rate) * now as f64 / 1_000_000.0;
                prop_assert!(taken as f64 <= allowed + 1e-9, "{taken} calls by {now} ms");
            }
        }

        #[test]
        fn backoff_is_bounded(attempt in 1u32..100, jitter in 0.0f64..1.0) {
            let b = Backoff::default();
            if let Some(d) = b.next(attempt, jitter, None) {
                prop_assert!(d <= b.max && d >= b.base / 2);
            }
        }
    }
}
