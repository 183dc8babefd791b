//! What an outbox job does and where it stands, and where the exception of a failed job
//! stands. Every kind has one system that runs it: an
//! outside system's role (`erp`, `wms`, `payment`, `fraud`, `tax`, `storefront`) or one of
//! crossdock's own runners (`saga`, `backorders`, `invoices`, `shipments`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{JobId, OrderId};

macro_rules! job_kinds {
    ($($(#[$doc:meta])* $kind:ident = $name:literal by $system:literal,)+) => {
        /// What a job does. Its stored and wire form is its snake_case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum JobKind {
            $($(#[$doc])* $kind,)+
        }

        impl JobKind {
            /// Every kind.
            pub const ALL: &'static [JobKind] = &[$(JobKind::$kind,)+];

            /// The stored and wire form, e.g. `post_sales_order`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(JobKind::$kind => $name,)+
                }
            }

            /// What it does, in words (`post sales order`): the name of its log span.
            pub fn action(self) -> String {
                self.as_str().replace('_', " ")
            }

            /// The system that runs jobs of this kind.
            pub const fn system(self) -> &'static str {
                match self {
                    $(JobKind::$kind => $system,)+
                }
            }
        }
    };
}

job_kinds! {
    /// The saga asks the fraud service to score the order.
    ScreenFraud = "screen_fraud" by "fraud",
    /// The saga asks the ERP whether the account is on credit hold.
    CheckCredit = "check_credit" by "erp",
    /// The saga commits the channel's priced tax with the tax service.
    CommitTax = "commit_tax" by "tax",
    /// The saga assigns the order to its warehouses (in-house).
    Allocate = "allocate" by "saga",
    /// The saga creates the sales order in the ERP.
    PostSalesOrder = "post_sales_order" by "erp",
    /// The saga releases the order to the warehouse.
    ReleaseToWms = "release_to_wms" by "wms",
    /// A later part of a backordered order goes to the warehouse.
    ReleasePart = "release_part" by "wms",
    /// A cancelled order's sales order is cancelled in the ERP.
    CancelSalesOrder = "cancel_sales_order" by "erp",
    /// A cancelled order's release (or a part of it) is cancelled in the warehouse.
    CancelRelease = "cancel_release" by "wms",
    /// A cancelled order's payment authorisation is voided.
    VoidAuthorization = "void_authorization" by "payment",
    /// The storefront hears its order was cancelled.
    NotifyCancelled = "notify_cancelled" by "storefront",
    /// A shipment is posted to the ERP as a fulfilment.
    PostFulfilment = "post_fulfilment" by "erp",
    /// A shipment captures its part of the payment.
    CapturePayment = "capture_payment" by "payment",
    /// The storefront gets a shipment's tracking.
    PublishTracking = "publish_tracking" by "storefront",
    /// The storefront gets the ERP's invoice.
    PushInvoice = "push_invoice" by "storefront",
    /// A return is posted to the ERP.
    PostReturn = "post_return" by "erp",
    /// A backorder is checked at its channel's horizon.
    BackorderDue = "backorder_due" by "backorders",
    /// A shipped order's invoices are matched against its value.
    MatchInvoice = "match_invoice" by "invoices",
    /// A parcel for an order that holds nothing at its location is reviewed.
    ReviewShipment = "review_shipment" by "shipments",
    /// A connector's inbound payload (a webhook) that could not be taken in when it came,
    /// kept with its exception and taken in again on retry.
    TakeInbound = "take_inbound" by "hooks",
}

impl JobKind {
    /// The kind named `s`, in its stored form.
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An enum whose stored and wire form is each variant's snake_case name, with every value,
/// the text of each, and the value named by a text.
macro_rules! named_states {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and wire form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value named `s`, in its stored form.
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|k| k.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_states! {
    /// Where a job stands.
    JobState {
        /// Waiting for its time and a worker.
        Ready = "ready",
        /// A worker holds it until its lease lapses.
        Leased = "leased",
        /// Finished.
        Done = "done",
        /// Out of attempts or refused for good: an exception stands for it.
        Failed = "failed",
    }
}

named_states! {
    /// How one try of a job ended.
    JobOutcome {
        /// The system did what was asked; the job is done.
        Done = "done",
        /// Worth trying again (a timeout, a 5xx, a 429): the job waits for its next try.
        Retry = "retry",
        /// Refused for good, or out of tries: the job's exception is open.
        Failed = "failed",
        /// The answer put the order on hold (fraud, credit): the job's exception is open.
        Held = "held",
    }
}

named_states! {
    /// Where an exception stands.
    ExceptionStatus {
        /// Waiting for a person.
        Open = "open",
        /// Its job runs again; it closes when the job succeeds, or opens again when it fails.
        Retrying = "retrying",
        /// Closed: the job succeeded, or a person handled it.
        Resolved = "resolved",
    }
}

/// An outbox job to create with a batch's writes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What to do; the kind names the system that does it.
    pub kind: JobKind,
    /// Tells apart jobs of one kind queued by one move (a shipment's id).
    pub key: Option<String>,
    /// What the job needs beyond the order (a shipment's lines, an amount to capture).
    pub payload: Option<Value>,
    /// How long after it is written the job becomes due, in milliseconds.
    pub delay_ms: i64,
}

impl NewJob {
    /// The system that runs it, e.g. `erp`.
    pub fn system(&self) -> &'static str {
        self.kind.system()
    }

    /// A job with no key and no payload, due at once.
    pub fn new(kind: JobKind) -> Self {
        Self {
            kind,
            key: None,
            payload: None,
            delay_ms: 0,
        }
    }

    /// The same job, due `delay_ms` after it is written.
    pub fn after(mut self, delay_ms: i64) -> Self {
        self.delay_ms = delay_ms;
        self
    }

    /// The job's id when order `order_id` queues it at history step `seq` (`None` at
    /// intake): the same on every try, so a batch retried after a lost answer makes it once.
    pub fn id_for(&self, order_id: &str, seq: Option<i64>) -> JobId {
        let mut id = order_id.trim_start_matches(OrderId::PREFIX).to_string();
        if let Some(seq) = seq {
            id.push_str(&format!("_{seq}"));
        }
        id.push_str(&format!("_{}", self.kind));
        if let Some(key) = &self.key {
            id.push_str(&format!("_{key}"));
        }
        JobId::with_unique(&id)
    }

    /// The same job, told apart by `key` and carrying `payload`.
    pub fn keyed(mut self, key: impl Into<String>, payload: Value) -> Self {
        self.key = Some(key.into());
        self.payload = Some(payload);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_read_back_from_their_stored_form() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(*state));
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(json, format!("\"{state}\""));
        }
        for status in ExceptionStatus::ALL {
            assert_eq!(ExceptionStatus::parse(status.as_str()), Some(*status));
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        assert_eq!(JobKind::parse("no_such_job"), None);
        assert_eq!(JobKind::BackorderDue.system(), "backorders");
    }
}
