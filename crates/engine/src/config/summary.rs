//! `check-config`'s summary: a few lines saying what a configuration sets up.

use crossdock_domain::Allocation;

use super::{BackorderPolicy, Config, ConnectorKind, OPTIONAL_SYSTEMS, SYSTEMS, redact_url};

impl Config {
    /// A few lines saying what this configuration sets up.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "store: {}\nlisten: {}\nlocations: {}\n",
            redact_url(&self.store.url),
            self.server.listen,
            self.locations.len()
        );
        for l in &self.locations {
            out.push_str(&format!(
                "  {:<12} {:<10} priority {}\n",
                l.code.as_str(),
                format!("{:?}", l.kind).to_lowercase(),
                l.priority
            ));
        }
        out.push_str(&format!("channels: {}\n", self.channels.len()));
        for c in &self.channels {
            let rule = match c.allocation {
                Allocation::All => "all".to_string(),
                Allocation::Share { pct } => format!("share {pct}%"),
                Allocation::Cap { units } => format!("cap {units}"),
                Allocation::RingFence { units } => format!("ring fence {units}"),
            };
            let locs: Vec<&str> = c.locations.iter().map(|l| l.as_str()).collect();
            let backorder = c
                .backorder_horizon_days
                .map(|d| {
                    let how = match c.backorders {
                        BackorderPolicy::ShipComplete => "shipped complete",
                        BackorderPolicy::ShipAvailable => "what is in stock ships now",
                    };
                    format!(", backorders within {d} days ({how})")
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:<12} {} from {}{}\n",
                c.code.as_str(),
                rule,
                locs.join(", "),
                backorder
            ));
        }
        for name in SYSTEMS {
            let line = match self.system(name) {
                Some(sys) => {
                    let mut line = format!(
                        "{} at most {}/s, {} at once, {} tries",
                        redact_url(&sys.url),
                        sys.rate_per_sec,
                        sys.concurrency,
                        sys.max_attempts
                    );
                    if let Some(auth) = &sys.auth {
                        let from: Vec<String> =
                            auth.secrets().iter().map(|(_, s)| s.source()).collect();
                        line.push_str(&format!(", {} auth from {}", auth.kind(), from.join(", ")));
                    }
                    if let Some(ca) = &sys.ca_file {
                        line.push_str(&format!(", trusting {}", ca.display()));
                    }
                    line
                }
                None if OPTIONAL_SYSTEMS.contains(&name) => {
                    "not configured (its steps pass without a call)".to_string()
                }
                None => "not configured (its jobs wait in the queue)".to_string(),
            };
            out.push_str(&format!("{name:<10}  {line}\n"));
        }
        for c in &self.connectors {
            out.push_str(&format!(
                "connector {}: {} as {}",
                c.name,
                c.kind.as_str(),
                c.role().unwrap_or("?")
            ));
            if c.kind.takes_hooks() {
                let secret = c.webhook_secret.as_ref().map_or("?".into(), |s| s.source());
                out.push_str(&format!(
                    ", webhooks in at /v1/hooks/{} signed with {secret}",
                    c.name
                ));
                out.push_str(match (c.kind, &c.auth) {
                    (ConnectorKind::Shopify, Some(_)) if c.location_id.is_some() => {
                        "; its channel's tracking out as fulfillments and availability to its \
                         location (Admin API)"
                    }
                    (ConnectorKind::Shopify, Some(_)) => {
                        "; its channel's tracking out as fulfillments (Admin API; name a \
                         location_id to publish availability)"
                    }
                    (ConnectorKind::Shopify, None) => {
                        "; nothing is sent to it (give it auth and api_version to send it \
                         tracking)"
                    }
                    _ => "; nothing is sent to it",
                });
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "safety stock: default {}, {} per-location, {} per-SKU\n",
            self.safety_stock.default,
            self.safety_stock.per_location.len(),
            self.safety_stock.per_sku.len()
        ));
        if !self.ownership.is_empty() {
            out.push_str(&format!("ownership: {}\n", self.ownership.summary()));
        }
        for sla in &self.slas {
            out.push_str(&format!(
                "sla {}: {}% within {} ms over {} min\n",
                sla.flow.as_str(),
                sla.percent,
                sla.target_ms,
                sla.window_minutes
            ));
        }
        out
    }
}
