//! The estate act's tables: what each connector carried, and how long a stock move and a
//! price took to show in each storefront.

use super::Act;
use crate::report::{percentile_ms, table, thousands};

fn p50_p99(lags: &[u64]) -> String {
    if lags.is_empty() {
        return "none".into();
    }
    format!(
        "{:.0} ms / {:.0} ms",
        percentile_ms(lags, 50.0),
        percentile_ms(lags, 99.0)
    )
}

/// The act's tables.
pub fn print(a: &Act) {
    let n = |x: usize| thousands(x as f64);
    let rows = vec![
        vec![
            "shop-us: Shopify, channel shopify, east".into(),
            format!(
                "{} from {} signed webhooks ({} answered 200)",
                n(a.shopify_orders),
                thousands(a.shopify_sent as f64),
                thousands(a.shopify_deliveries as f64)
            ),
            format!(
                "{} fulfillments for {} parcels; {} stock calls",
                n(a.shopify_fulfilments),
                n(a.parcels.0),
                a.stock_calls.0
            ),
        ],
        vec![
            "mage: Adobe Commerce, channel adobe, west".into(),
            format!("{} pulled by updated_at", n(a.adobe_orders)),
            format!(
                "{} shipments for {} parcels; {} source-item calls",
                n(a.adobe_shipments),
                n(a.parcels.1),
                a.stock_calls.1
            ),
        ],
        vec![
            "netsuite: NetSuite, east".into(),
            format!(
                "{} sales orders (upserted by external id)",
                n(a.netsuite_orders)
            ),
            format!("{} item fulfillments", n(a.netsuite_fulfilments)),
        ],
        vec![
            "bc: Business Central, west".into(),
            format!(
                "{} sales orders, {} duplicates",
                n(a.bc_orders),
                n(a.bc_duplicates)
            ),
            format!("{} shipments posted with their invoices", n(a.bc_postings)),
        ],
    ];
    println!("{}", table(&["connector", "orders", "sent back"], rows));
    let mut rows = Vec::new();
    for ((channel, lag), (_, acked, refused, price_lag)) in a.stock_lag.iter().zip(&a.prices) {
        rows.push(vec![
            channel.to_string(),
            p50_p99(lag),
            format!("{acked} acknowledged, {refused} refused"),
            p50_p99(price_lag),
        ]);
    }
    println!(
        "{}",
        table(
            &[
                "channel",
                "stock event → storefront shows it, p50 / p99",
                "prices",
                "price set → acknowledged"
            ],
            rows
        )
    );
}
