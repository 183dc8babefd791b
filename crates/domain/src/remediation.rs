//! What an operator should do about each exception code, in plain language.

/// Remediation steps for an exception `code`.
pub fn remediation(code: &str) -> &'static str {
    match code {
        "ERP_UNAVAILABLE" => {
            "The ERP did not answer through every retry. Check that it is up and reachable \
             (its status page, network, credentials), then retry; nothing was posted twice."
        }
        "ERP_REJECTED" => {
            "The ERP refused the sales order. Read the last error for the field it named, fix \
             the order or the master data in the ERP (customer, item, price), then retry."
        }
        "ITEM_UNKNOWN_IN_ERP" => {
            "An item on the order does not exist in the ERP. Create or map the item in the \
             ERP, then retry."
        }
        "CUSTOMER_ON_CREDIT_HOLD" => {
            "The customer is on credit hold. Release the hold in the ERP or take payment, \
             then retry (the credit check runs again); resolve to approve the order past the \
             check; or cancel the order."
        }
        "ERP_ORDER_HELD" => {
            "The ERP created the sales order in a status configured to mean on hold (an \
             approval, a credit or pricing review there). Deal with it in the ERP, then retry \
             (the status is read again), or resolve to go on regardless, or cancel the order."
        }
        "WAREHOUSE_MISMATCH" => {
            "The warehouse reported a parcel from a location this order holds no stock at; \
             nothing was booked. Ask the warehouse where it really left from: if it reported \
             the wrong location, have it send the shipment again with the right one; if the \
             goods did leave from there, correct both locations' stock with adjustment \
             events, then retry this exception to book the parcel, or resolve it."
        }
        "BACKORDER_OVERDUE" => {
            "The order has waited past its channel's backorder horizon and stock has not come \
             in. Check the purchase order's date with the supplier and tell the customer; \
             retry this exception to look again, resolve it to keep the order waiting, or \
             cancel the order."
        }
        "FRAUD_SUSPECTED" => {
            "The fraud service scored the order at or above the hold score. Review the \
             customer, address and payment: resolve this exception to approve the order (it \
             continues without being screened again), or cancel the order."
        }
        "PRICE_MISMATCH" => {
            "The ERP's invoices for this shipped order do not come to its value (goods and \
             tax, within the channel's invoice_tolerance). Confirm the price list with the \
             ERP: have it send a corrected invoice or credit note, then retry this exception \
             to compare again; or resolve it to accept the invoices as they are (the order \
             is invoiced and closes)."
        }
        "ADDRESS_INVALID" => "Correct the shipping address with the customer, then retry.",
        "WAREHOUSE_UNKNOWN" => {
            "A location is not known to the warehouse system. Map it in the configuration, \
             then retry."
        }
        "MAPPING_FAILED" => {
            "The data could not be transformed for the target system. Fix the mapping, then \
             retry."
        }
        code if code.ends_with("_REJECTED") => {
            "The system refused the call. Read the last error for what it named, correct the \
             data there or edit the job's payload, then retry."
        }
        code if code.ends_with("_UNAVAILABLE") => {
            "The system did not answer through every retry. Check that it is up and \
             reachable, then retry."
        }
        _ => "Read the last error, correct the cause in the named system, then retry or resolve.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_steps() {
        assert!(remediation("ERP_UNAVAILABLE").contains("retry"));
        assert!(remediation("WMS_UNAVAILABLE").contains("reachable"));
        assert!(!remediation("SOMETHING_NEW").is_empty());
    }
}
