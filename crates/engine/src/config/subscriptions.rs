//! `[subscriptions]`: how webhooks out are delivered to the subscriptions made through
//! `/v1/subscriptions`.

use serde::Deserialize;

use super::ConfigError;

/// Most attempts a schedule may list.
pub const MAX_ATTEMPTS: usize = 20;

/// `[subscriptions]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubscriptionsConfig {
    /// Seconds to wait before each attempt at a delivery, the first one's included: by
    /// default eight attempts, at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10
    /// h. A delivery still failing after the last is given up on (and can be replayed).
    pub schedule_secs: Vec<u64>,
    /// Longest wait for an endpoint's answer, in milliseconds.
    pub timeout_ms: u64,
    /// Most deliveries in flight at once, over every subscription.
    pub concurrency: usize,
    /// How long finished deliveries and attempts are kept for `…/attempts`, in days.
    pub keep_days: u32,
    /// A PEM file of certificates trusted besides the machine's roots, for endpoints behind
    /// a private CA.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for SubscriptionsConfig {
    fn default() -> Self {
        Self {
            schedule_secs: vec![0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000],
            timeout_ms: 15_000,
            concurrency: 16,
            keep_days: 7,
            ca_file: None,
        }
    }
}

impl SubscriptionsConfig {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: format!("subscriptions.{key}"),
            message,
        };
        if self.schedule_secs.is_empty() || self.schedule_secs.len() > MAX_ATTEMPTS {
            return Err(invalid(
                "schedule_secs",
                format!("list 1 to {MAX_ATTEMPTS} waits, in seconds"),
            ));
        }
        if let Some(long) = self.schedule_secs.iter().find(|s| **s > 7 * 86_400) {
            return Err(invalid(
                "schedule_secs",
                format!("{long} is longer than a week; list shorter waits"),
            ));
        }
        if !(100..=120_000).contains(&self.timeout_ms) {
            return Err(invalid(
                "timeout_ms",
                "must be from 100 to 120000 (two minutes)".into(),
            ));
        }
        if !(1..=256).contains(&self.concurrency) {
            return Err(invalid("concurrency", "must be from 1 to 256".into()));
        }
        if !(1..=365).contains(&self.keep_days) {
            return Err(invalid("keep_days", "must be from 1 to 365".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, EXAMPLE};

    #[test]
    fn the_schedule_is_the_standard_one_unless_set_and_is_checked() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert_eq!(config.subscriptions.schedule_secs.len(), 8);
        let with = |table: &str| Config::parse(&format!("{EXAMPLE}\n[subscriptions]\n{table}\n"));
        let short = with("schedule_secs = [0, 1]\ntimeout_ms = 500").unwrap();
        assert_eq!(short.subscriptions.schedule_secs, [0, 1]);
        for (table, key) in [
            ("schedule_secs = []", "subscriptions.schedule_secs"),
            (
                "schedule_secs = [0, 999999999]",
                "subscriptions.schedule_secs",
            ),
            ("timeout_ms = 5", "subscriptions.timeout_ms"),
            ("concurrency = 0", "subscriptions.concurrency"),
            ("keep_days = 0", "subscriptions.keep_days"),
        ] {
            let err = with(table).unwrap_err().to_string();
            assert!(err.starts_with(key), "{table}: {err}");
        }
        assert!(
            with("retries = 3")
                .unwrap_err()
                .to_string()
                .contains("retries")
        );
    }
}
