//! Simulated outside systems that speak HTTP like real ones and can be told to misbehave:
//! the demo, the tests and the benchmarks run against them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adobe_commerce;
pub mod business_central;
pub mod erp;
pub mod estate;
pub mod netsuite;
pub mod service;
pub mod shopify;

pub use adobe_commerce::SimAdobeCommerce;
pub use business_central::SimBusinessCentral;
pub use erp::{Faults, SimErp};
pub use estate::SimEstate;
pub use netsuite::SimNetSuite;
pub use service::{Kind, SimService};
pub use shopify::SimShopify;

use tokio::net::TcpListener;

/// Every simulated system at once, each on its own local port.
pub struct SimSystems {
    /// The ERP.
    pub erp: SimErp,
    /// The warehouse.
    pub wms: SimService,
    /// Payment.
    pub payment: SimService,
    /// Fraud screening.
    pub fraud: SimService,
    /// Tax.
    pub tax: SimService,
    /// The storefront.
    pub storefront: SimService,
    /// (system name as configured, base URL), for `[erp]`, `[wms]`, ….
    pub urls: Vec<(&'static str, String)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SimSystems {
    /// Starts them all, each on a free local port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_at("127.0.0.1", 0).await
    }

    /// Starts them all on `host`: the ERP on `first_port`, then the warehouse, payment,
    /// fraud, tax and storefront on the ports after it (every one on a free port when
    /// `first_port` is 0).
    pub async fn start_at(host: &str, first_port: u16) -> std::io::Result<Self> {
        let port = |i: u16| if first_port == 0 { 0 } else { first_port + i };
        let bind = |i: u16| TcpListener::bind((host.to_string(), port(i)));
        let erp = SimErp::default();
        let listener = bind(0).await?;
        let erp_url = format!("http://{}", listener.local_addr()?);
        let erp_task = erp.serve(listener);
        let mut sims = SimSystems {
            erp,
            wms: SimService::new(Kind::Wms),
            payment: SimService::new(Kind::Payment),
            fraud: SimService::new(Kind::Fraud),
            tax: SimService::new(Kind::Tax),
            storefront: SimService::new(Kind::Storefront),
            urls: vec![("erp", erp_url)],
            tasks: vec![erp_task],
        };
        for (i, (name, service)) in [
            ("wms", sims.wms.clone()),
            ("payment", sims.payment.clone()),
            ("fraud", sims.fraud.clone()),
            ("tax", sims.tax.clone()),
            ("storefront", sims.storefront.clone()),
        ]
        .into_iter()
        .enumerate()
        {
            let listener = bind(i as u16 + 1).await?;
            sims.urls
                .push((name, format!("http://{}", listener.local_addr()?)));
            sims.tasks.push(service.serve(listener));
        }
        Ok(sims)
    }
}

impl Drop for SimSystems {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
