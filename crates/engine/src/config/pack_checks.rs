//! The checks of a connector that belong to its pack: an Adobe Commerce store's pulling
//! settings, a `rest` connector's mappings.

use super::connectors::ConnectorConfig;

/// A `rest` (or `crossdock`) connector's mappings name its role's operations (each, or its
/// answer as `OPERATION.answer`).
pub(super) fn check_rest_mappings(c: &ConnectorConfig, role: &str) -> Result<(), String> {
    let operations: Vec<&str> = (crossdock_domain::JobKind::ALL.iter())
        .filter(|k| k.system() == role)
        .map(|k| k.as_str())
        .collect();
    for name in c.mappings.keys() {
        let op = name.strip_suffix(".answer").unwrap_or(name);
        if !operations.contains(&op) {
            return Err(format!(
                "`{name}` is not an operation of a {role}: a rest {role} reshapes {}, each \
                 or its answer as OPERATION.answer",
                operations.join(", ")
            ));
        }
    }
    Ok(())
}

/// An Adobe Commerce connector's own settings: its token, how often it is read, and where a
/// first read starts; what is wrong as (field, message).
pub(super) fn check_adobe_commerce(c: &ConnectorConfig) -> Result<(), (&'static str, String)> {
    if c.auth.is_none() {
        return Err((
            "auth",
            "an Adobe Commerce connector calls with an integration's access token: give it \
             auth, e.g. { kind = \"bearer\", token = \"env:ADOBE_TOKEN\" }"
                .into(),
        ));
    }
    if !(1..=86_400).contains(&c.poll_secs()) {
        return Err(("poll_secs", "must be 1 to 86400 seconds".into()));
    }
    if let Some(since) = &c.pull_since
        && crossdock_domain::Timestamp::parse_rfc3339(since).is_err()
    {
        return Err((
            "pull_since",
            format!("`{since}` is not an RFC 3339 time, e.g. 2026-11-01T00:00:00Z"),
        ));
    }
    if c.webhook_secret.is_some() {
        return Err((
            "webhook_secret",
            "an Adobe Commerce connector's orders are pulled, not pushed: leave it out".into(),
        ));
    }
    Ok(())
}
