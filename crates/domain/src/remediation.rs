//! What an operator should do about each exception code, in plain language.

use crate::error::ErrorCode;

/// For a code no step is written for.
const GENERIC: &str =
    "Read the last error, correct the cause in the named system, then retry or resolve.";

/// Remediation steps for an exception's stored `code`.
pub fn remediation(code: &str) -> &'static str {
    ErrorCode::parse(code).map_or(GENERIC, ErrorCode::steps)
}

impl ErrorCode {
    /// What an operator should do about an exception with this code: its own steps, or
    /// general ones.
    pub fn steps(self) -> &'static str {
        self.remediation().unwrap_or(GENERIC)
    }

    /// What an operator should do about an exception with this code, where steps are
    /// written for it.
    pub fn remediation(self) -> Option<&'static str> {
        use ErrorCode::*;
        Some(match self {
            ErpUnavailable => {
                "The ERP did not answer through every retry. Check that it is up and reachable \
             (its status page, network, credentials), then retry; nothing was posted twice."
            }
            ErpRejected => {
                "The ERP refused the sales order. Read the last error for the field it named, fix \
             the order or the master data in the ERP (customer, item, price), then retry."
            }
            CustomerOnCreditHold => {
                "The customer is on credit hold. Release the hold in the ERP or take payment, \
             then retry (the credit check runs again); resolve to approve the order past the \
             check; or cancel the order."
            }
            ErpOrderHeld => {
                "The ERP created the sales order in a status configured to mean on hold (an \
             approval, a credit or pricing review there). Deal with it in the ERP, then retry \
             (the status is read again), or resolve to go on regardless, or cancel the order."
            }
            WarehouseMismatch => {
                "The warehouse reported a parcel from a location this order holds no stock at; \
             nothing was booked. Ask the warehouse where it really left from: if it reported \
             the wrong location, have it send the shipment again with the right one; if the \
             goods did leave from there, correct both locations' stock with adjustment \
             events, then retry this exception to book the parcel, or resolve it."
            }
            BackorderOverdue => {
                "The order has waited past its channel's backorder horizon and stock has not come \
             in. Check the purchase order's date with the supplier and tell the customer; \
             retry this exception to look again, resolve it to keep the order waiting, or \
             cancel the order."
            }
            FraudSuspected => {
                "The fraud service scored the order at or above the hold score. Review the \
             customer, address and payment: resolve this exception to approve the order (it \
             continues without being screened again), or cancel the order."
            }
            PriceMismatch => {
                "The ERP's invoices for this shipped order do not come to its value (goods and \
             tax, within the channel's invoice_tolerance). Confirm the price list with the \
             ERP: have it send a corrected invoice or credit note, then retry this exception \
             to compare again; or resolve it to accept the invoices as they are (the order \
             is invoiced and closes)."
            }
            AddressInvalid => "Correct the shipping address with the customer, then retry.",
            SkuUnknown => {
                "A SKU is not in the item master. Add it (POST /v1/items, or from the system \
             that owns the item master) and retry; or, if the sender wrote it wrongly, \
             correct it in the payload and retry with the edited payload."
            }
            WarehouseUnknown => {
                "A location is not known to the warehouse system. Map it in the configuration, \
             then retry."
            }
            OwnershipViolation => {
                "Another system owns this data under [ownership]: send the change from the \
             owning system. If the sender should own it, change [ownership] in the \
             configuration and restart; the ownership.violated events show what was refused."
            }
            ItemUnknownInErp => {
                "The ERP connector knows no item for a SKU on the order. Bind the SKU to the \
             ERP's item (POST /v1/bindings with kind item, or crossdock bindings import), \
             then retry."
            }
            CustomerUnknownInErp => {
                "The ERP connector knows no customer for the order's customer. Bind the \
             customer's account to the ERP's customer (POST /v1/bindings with kind customer, \
             or crossdock bindings import), or give the connector a default_customer, then \
             retry."
            }
            MappingFailed => {
                "The data could not be transformed for the target system. Fix the mapping, then \
             retry."
            }
            SignatureInvalid => {
                "The webhook's signature did not check out against the connector's \
             webhook_secret. If the sender is genuine, its secret and crossdock's differ: \
             copy the signing secret from the sender's settings into the file or variable \
             webhook_secret names and restart; the sender's retries then go through."
            }
            WmsRejected | PaymentRejected | FraudRejected | TaxRejected | ChannelRejected => {
                "The system refused the call. Read the last error for what it named, correct the \
             data there or edit the job's payload, then retry."
            }
            WmsUnavailable | PaymentUnavailable | FraudUnavailable | TaxUnavailable
            | ChannelUnavailable | StoreUnavailable => {
                "The system did not answer through every retry. Check that it is up and \
             reachable, then retry."
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_an_exception_opens_with_has_steps() {
        assert!(remediation("ERP_UNAVAILABLE").contains("retry"));
        assert!(remediation("WMS_UNAVAILABLE").contains("reachable"));
        assert_eq!(remediation("SOMETHING_NEW"), GENERIC);
        for system in ["erp", "wms", "payment", "fraud", "tax", "storefront"] {
            for code in [
                ErrorCode::rejected_by(system),
                ErrorCode::unavailable(system),
            ] {
                assert!(code.remediation().is_some(), "{code}");
            }
        }
        for code in [
            ErrorCode::CustomerOnCreditHold,
            ErrorCode::ErpOrderHeld,
            ErrorCode::FraudSuspected,
            ErrorCode::PriceMismatch,
            ErrorCode::BackorderOverdue,
            ErrorCode::WarehouseMismatch,
            ErrorCode::MappingFailed,
        ] {
            assert!(code.remediation().is_some(), "{code}");
        }
    }
}
