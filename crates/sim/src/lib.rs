//! Simulated outside systems that speak HTTP like real ones and can be told to misbehave:
//! the demo, the tests and the benchmarks run against them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod erp;
pub mod service;

pub use erp::{Faults, SimErp};
pub use service::{Kind, SimService};

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
    /// Starts them all.
    pub async fn start() -> std::io::Result<Self> {
        let erp = SimErp::default();
        let (erp_url, erp_task) = erp.start().await?;
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
        for (name, service) in [
            ("wms", sims.wms.clone()),
            ("payment", sims.payment.clone()),
            ("fraud", sims.fraud.clone()),
            ("tax", sims.tax.clone()),
            ("storefront", sims.storefront.clone()),
        ] {
            let (url, task) = service.start().await?;
            sims.urls.push((name, url));
            sims.tasks.push(task);
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
