//! Stable business error codes, shared by the API, exceptions and events.

use serde::Serialize;

/// A stable code that callers and operators can act on. The text form never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The request body is not valid JSON.
    MalformedJson,
    /// The request body is too large.
    PayloadTooLarge,
    /// The request body did not arrive in time.
    RequestTimeout,
    /// The server has as many connections open as it takes.
    ServerBusy,
    /// The request body is not JSON.
    UnsupportedMediaType,
    /// A field failed validation.
    ValidationFailed,
    /// A query parameter is unknown to the route or malformed.
    QueryInvalid,
    /// A quantity is not a positive whole number in range.
    QtyInvalid,
    /// A money amount is not a decimal string.
    DecimalInvalid,
    /// A currency is not an ISO 4217 code.
    CurrencyInvalid,
    /// The shipping address is incomplete or malformed.
    AddressInvalid,
    /// The SKU is not in the item master.
    SkuUnknown,
    /// The location is not configured.
    WarehouseUnknown,
    /// The channel is not configured.
    ChannelUnknown,
    /// The requested location does not feed the channel.
    LocationNotInChannel,
    /// Not enough sellable stock.
    InsufficientStock,
    /// No reservation with that id.
    ReservationNotFound,
    /// The reservation was already released, expired or consumed.
    ReservationClosed,
    /// No order with that id.
    OrderNotFound,
    /// No exception with that id.
    ExceptionNotFound,
    /// The order is too far along (shipped, closed…) to cancel.
    OrderNotCancellable,
    /// The order's state does not allow this (a shipment before release, an invoice before
    /// shipping).
    OrderStateConflict,
    /// A shipment names a SKU that is not on the order.
    SkuNotOnOrder,
    /// A shipment ships more units than the order has left to ship.
    QtyExceedsOrder,
    /// The customer's account is on credit hold in the ERP.
    CustomerOnCreditHold,
    /// The channel's return window has closed for the order.
    ReturnWindowClosed,
    /// An idempotency key (or order id) came back with a different body.
    IdempotencyKeyReused,
    /// A value from an outside system has no mapping (an ERP status not configured).
    MappingFailed,
    /// A webhook's signature is missing, malformed, stale or does not match its body.
    SignatureInvalid,
    /// Another system owns what the write would change (`[ownership]`).
    OwnershipViolation,
    /// An invoice is in another currency than its order.
    CurrencyMismatch,
    /// An invoice id came again with another order, amount or currency.
    InvoiceConflict,
    /// A shipment left from a location the order holds no stock at.
    WarehouseMismatch,
    /// The same event was delivered again.
    DuplicateEvent,
    /// The event is older than the last snapshot.
    StaleEvent,
    /// The ERP connector has no item bound to a SKU on the order.
    ItemUnknownInErp,
    /// The ERP connector has no customer bound to the order's customer, and no default.
    CustomerUnknownInErp,
    /// The ERP did not answer through every retry.
    ErpUnavailable,
    /// The ERP refused the call.
    ErpRejected,
    /// The ERP created the sales order in a status configured to mean on hold.
    ErpOrderHeld,
    /// The warehouse did not answer through every retry.
    WmsUnavailable,
    /// The warehouse refused the call.
    WmsRejected,
    /// The payment service did not answer through every retry.
    PaymentUnavailable,
    /// The payment service refused the call.
    PaymentRejected,
    /// The fraud service did not answer through every retry.
    FraudUnavailable,
    /// The fraud service refused the call.
    FraudRejected,
    /// The fraud service scored the order at or above the hold score.
    FraudSuspected,
    /// The tax service did not answer through every retry.
    TaxUnavailable,
    /// The tax service refused the call.
    TaxRejected,
    /// The storefront did not answer through every retry.
    ChannelUnavailable,
    /// The storefront refused the call.
    ChannelRejected,
    /// A shipped order's invoices do not come to its value.
    PriceMismatch,
    /// A backorder waited past its channel's horizon.
    BackorderOverdue,
    /// The store could not be reached or refused the write.
    StoreUnavailable,
    /// The request carries no valid API key.
    Unauthenticated,
    /// The API key's scopes do not cover the route.
    ForbiddenScope,
    /// The API key is over its rate.
    RateLimited,
    /// An API key of that name exists already.
    KeyNameTaken,
    /// The resource does not exist.
    NotFound,
    /// Something failed that should not have.
    Internal,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 60] = [
        ErrorCode::MalformedJson,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RequestTimeout,
        ErrorCode::ServerBusy,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ValidationFailed,
        ErrorCode::QueryInvalid,
        ErrorCode::QtyInvalid,
        ErrorCode::DecimalInvalid,
        ErrorCode::CurrencyInvalid,
        ErrorCode::AddressInvalid,
        ErrorCode::SkuUnknown,
        ErrorCode::WarehouseUnknown,
        ErrorCode::ChannelUnknown,
        ErrorCode::LocationNotInChannel,
        ErrorCode::InsufficientStock,
        ErrorCode::ReservationNotFound,
        ErrorCode::ReservationClosed,
        ErrorCode::OrderNotFound,
        ErrorCode::ExceptionNotFound,
        ErrorCode::OrderNotCancellable,
        ErrorCode::OrderStateConflict,
        ErrorCode::SkuNotOnOrder,
        ErrorCode::QtyExceedsOrder,
        ErrorCode::CustomerOnCreditHold,
        ErrorCode::ReturnWindowClosed,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::MappingFailed,
        ErrorCode::SignatureInvalid,
        ErrorCode::OwnershipViolation,
        ErrorCode::CurrencyMismatch,
        ErrorCode::InvoiceConflict,
        ErrorCode::WarehouseMismatch,
        ErrorCode::DuplicateEvent,
        ErrorCode::StaleEvent,
        ErrorCode::ItemUnknownInErp,
        ErrorCode::CustomerUnknownInErp,
        ErrorCode::ErpUnavailable,
        ErrorCode::ErpRejected,
        ErrorCode::ErpOrderHeld,
        ErrorCode::WmsUnavailable,
        ErrorCode::WmsRejected,
        ErrorCode::PaymentUnavailable,
        ErrorCode::PaymentRejected,
        ErrorCode::FraudUnavailable,
        ErrorCode::FraudRejected,
        ErrorCode::FraudSuspected,
        ErrorCode::TaxUnavailable,
        ErrorCode::TaxRejected,
        ErrorCode::ChannelUnavailable,
        ErrorCode::ChannelRejected,
        ErrorCode::PriceMismatch,
        ErrorCode::BackorderOverdue,
        ErrorCode::StoreUnavailable,
        ErrorCode::Unauthenticated,
        ErrorCode::ForbiddenScope,
        ErrorCode::RateLimited,
        ErrorCode::KeyNameTaken,
        ErrorCode::NotFound,
        ErrorCode::Internal,
    ];

    /// The code `s` names, in its wire form.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The code for an outside system (`erp`, `wms`, `payment`, `fraud`, `tax`,
    /// `storefront`, or one of several of a role, `erp:netsuite`) refusing a call;
    /// `MAPPING_FAILED` for a system with no such code.
    pub fn rejected_by(system: &str) -> ErrorCode {
        match role_of(system) {
            "erp" => ErrorCode::ErpRejected,
            "wms" => ErrorCode::WmsRejected,
            "payment" => ErrorCode::PaymentRejected,
            "fraud" => ErrorCode::FraudRejected,
            "tax" => ErrorCode::TaxRejected,
            "storefront" => ErrorCode::ChannelRejected,
            _ => ErrorCode::MappingFailed,
        }
    }

    /// The code for a system that did not answer through every retry. crossdock's own
    /// runners (the saga's in-house steps, backorders, invoices, parcels) fail that way only
    /// when the store does.
    pub fn unavailable(system: &str) -> ErrorCode {
        match role_of(system) {
            "erp" => ErrorCode::ErpUnavailable,
            "wms" => ErrorCode::WmsUnavailable,
            "payment" => ErrorCode::PaymentUnavailable,
            "fraud" => ErrorCode::FraudUnavailable,
            "tax" => ErrorCode::TaxUnavailable,
            "storefront" => ErrorCode::ChannelUnavailable,
            _ => ErrorCode::StoreUnavailable,
        }
    }

    /// The HTTP status of an answer this code is the cause of. A request body that fails
    /// validation is answered 422 whatever its one field's code (an order line's
    /// `SKU_UNKNOWN` is a field of the order, not a missing resource). The codes only
    /// exceptions carry have the status an outside call of that kind would get.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            MalformedJson | QueryInvalid => 400,
            SignatureInvalid | Unauthenticated => 401,
            OwnershipViolation | ForbiddenScope => 403,
            RequestTimeout => 408,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            SkuUnknown | ChannelUnknown | ReservationNotFound | OrderNotFound
            | ExceptionNotFound | NotFound => 404,
            InsufficientStock | ReservationClosed | OrderNotCancellable | OrderStateConflict
            | IdempotencyKeyReused | InvoiceConflict | DuplicateEvent | StaleEvent
            | ErpOrderHeld | FraudSuspected | PriceMismatch | BackorderOverdue | KeyNameTaken => {
                409
            }
            ValidationFailed | QtyInvalid | DecimalInvalid | CurrencyInvalid | AddressInvalid
            | WarehouseUnknown | LocationNotInChannel | SkuNotOnOrder | QtyExceedsOrder
            | CustomerOnCreditHold | ReturnWindowClosed | MappingFailed | CurrencyMismatch
            | WarehouseMismatch | ItemUnknownInErp | CustomerUnknownInErp => 422,
            RateLimited => 429,
            Internal => 500,
            ErpRejected | WmsRejected | PaymentRejected | FraudRejected | TaxRejected
            | ChannelRejected => 502,
            ServerBusy | StoreUnavailable | ErpUnavailable | WmsUnavailable
            | PaymentUnavailable | FraudUnavailable | TaxUnavailable | ChannelUnavailable => 503,
        }
    }

    /// A short, human title (problem+json's `title`).
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "Malformed JSON",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::RequestTimeout => "Request body too slow",
            ErrorCode::ServerBusy => "Server busy",
            ErrorCode::UnsupportedMediaType => "Unsupported media type",
            ErrorCode::ValidationFailed => "Validation failed",
            ErrorCode::QueryInvalid => "Unknown or malformed query parameter",
            ErrorCode::QtyInvalid => "Invalid quantity",
            ErrorCode::DecimalInvalid => "Invalid amount",
            ErrorCode::CurrencyInvalid => "Invalid currency",
            ErrorCode::AddressInvalid => "Invalid address",
            ErrorCode::SkuUnknown => "Unknown SKU",
            ErrorCode::WarehouseUnknown => "Unknown location",
            ErrorCode::ChannelUnknown => "Unknown channel",
            ErrorCode::LocationNotInChannel => "Location does not feed the channel",
            ErrorCode::InsufficientStock => "Insufficient stock",
            ErrorCode::ReservationNotFound => "Reservation not found",
            ErrorCode::ReservationClosed => "Reservation already closed",
            ErrorCode::OrderNotFound => "Order not found",
            ErrorCode::ExceptionNotFound => "Exception not found",
            ErrorCode::OrderNotCancellable => "Order can no longer be cancelled",
            ErrorCode::OrderStateConflict => "Order is not in a state that allows this",
            ErrorCode::SkuNotOnOrder => "SKU is not on the order",
            ErrorCode::QtyExceedsOrder => "Quantity exceeds what is left on the order",
            ErrorCode::CustomerOnCreditHold => "Customer on credit hold",
            ErrorCode::ReturnWindowClosed => "Return window closed",
            ErrorCode::IdempotencyKeyReused => "Idempotency key reused",
            ErrorCode::MappingFailed => "No mapping for a value",
            ErrorCode::SignatureInvalid => "Webhook signature invalid",
            ErrorCode::OwnershipViolation => "Another system owns this data",
            ErrorCode::CurrencyMismatch => "Currency differs from the order's",
            ErrorCode::InvoiceConflict => "Invoice number already recorded differently",
            ErrorCode::WarehouseMismatch => "Shipped from a location the order holds nothing at",
            ErrorCode::DuplicateEvent => "Duplicate event",
            ErrorCode::StaleEvent => "Stale event",
            ErrorCode::ItemUnknownInErp => "No ERP item bound to the SKU",
            ErrorCode::CustomerUnknownInErp => "No ERP customer bound to the customer",
            ErrorCode::ErpUnavailable => "ERP unavailable",
            ErrorCode::ErpRejected => "ERP refused the call",
            ErrorCode::ErpOrderHeld => "ERP holds the sales order",
            ErrorCode::WmsUnavailable => "Warehouse unavailable",
            ErrorCode::WmsRejected => "Warehouse refused the call",
            ErrorCode::PaymentUnavailable => "Payment service unavailable",
            ErrorCode::PaymentRejected => "Payment service refused the call",
            ErrorCode::FraudUnavailable => "Fraud service unavailable",
            ErrorCode::FraudRejected => "Fraud service refused the call",
            ErrorCode::FraudSuspected => "Suspected fraud",
            ErrorCode::TaxUnavailable => "Tax service unavailable",
            ErrorCode::TaxRejected => "Tax service refused the call",
            ErrorCode::ChannelUnavailable => "Storefront unavailable",
            ErrorCode::ChannelRejected => "Storefront refused the call",
            ErrorCode::PriceMismatch => "Invoices do not match the order's value",
            ErrorCode::BackorderOverdue => "Backorder overdue",
            ErrorCode::StoreUnavailable => "Store unavailable",
            ErrorCode::Unauthenticated => "No valid API key",
            ErrorCode::ForbiddenScope => "API key lacks the scope",
            ErrorCode::RateLimited => "Rate limit exceeded",
            ErrorCode::KeyNameTaken => "API key name taken",
            ErrorCode::NotFound => "Not found",
            ErrorCode::Internal => "Internal error",
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "MALFORMED_JSON",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::ServerBusy => "SERVER_BUSY",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::ValidationFailed => "VALIDATION_FAILED",
            ErrorCode::QueryInvalid => "QUERY_INVALID",
            ErrorCode::QtyInvalid => "QTY_INVALID",
            ErrorCode::DecimalInvalid => "DECIMAL_INVALID",
            ErrorCode::CurrencyInvalid => "CURRENCY_INVALID",
            ErrorCode::AddressInvalid => "ADDRESS_INVALID",
            ErrorCode::SkuUnknown => "SKU_UNKNOWN",
            ErrorCode::WarehouseUnknown => "WAREHOUSE_UNKNOWN",
            ErrorCode::ChannelUnknown => "CHANNEL_UNKNOWN",
            ErrorCode::LocationNotInChannel => "LOCATION_NOT_IN_CHANNEL",
            ErrorCode::InsufficientStock => "INSUFFICIENT_STOCK",
            ErrorCode::ReservationNotFound => "RESERVATION_NOT_FOUND",
            ErrorCode::ReservationClosed => "RESERVATION_CLOSED",
            ErrorCode::OrderNotFound => "ORDER_NOT_FOUND",
            ErrorCode::ExceptionNotFound => "EXCEPTION_NOT_FOUND",
            ErrorCode::OrderNotCancellable => "ORDER_NOT_CANCELLABLE",
            ErrorCode::OrderStateConflict => "ORDER_STATE_CONFLICT",
            ErrorCode::SkuNotOnOrder => "SKU_NOT_ON_ORDER",
            ErrorCode::QtyExceedsOrder => "QTY_EXCEEDS_ORDER",
            ErrorCode::CustomerOnCreditHold => "CUSTOMER_ON_CREDIT_HOLD",
            ErrorCode::ReturnWindowClosed => "RETURN_WINDOW_CLOSED",
            ErrorCode::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ErrorCode::MappingFailed => "MAPPING_FAILED",
            ErrorCode::SignatureInvalid => "SIGNATURE_INVALID",
            ErrorCode::OwnershipViolation => "OWNERSHIP_VIOLATION",
            ErrorCode::CurrencyMismatch => "CURRENCY_MISMATCH",
            ErrorCode::InvoiceConflict => "INVOICE_CONFLICT",
            ErrorCode::WarehouseMismatch => "WAREHOUSE_MISMATCH",
            ErrorCode::DuplicateEvent => "DUPLICATE_EVENT",
            ErrorCode::StaleEvent => "STALE_EVENT",
            ErrorCode::ItemUnknownInErp => "ITEM_UNKNOWN_IN_ERP",
            ErrorCode::CustomerUnknownInErp => "CUSTOMER_UNKNOWN_IN_ERP",
            ErrorCode::ErpUnavailable => "ERP_UNAVAILABLE",
            ErrorCode::ErpRejected => "ERP_REJECTED",
            ErrorCode::ErpOrderHeld => "ERP_ORDER_HELD",
            ErrorCode::WmsUnavailable => "WMS_UNAVAILABLE",
            ErrorCode::WmsRejected => "WMS_REJECTED",
            ErrorCode::PaymentUnavailable => "PAYMENT_UNAVAILABLE",
            ErrorCode::PaymentRejected => "PAYMENT_REJECTED",
            ErrorCode::FraudUnavailable => "FRAUD_UNAVAILABLE",
            ErrorCode::FraudRejected => "FRAUD_REJECTED",
            ErrorCode::FraudSuspected => "FRAUD_SUSPECTED",
            ErrorCode::TaxUnavailable => "TAX_UNAVAILABLE",
            ErrorCode::TaxRejected => "TAX_REJECTED",
            ErrorCode::ChannelUnavailable => "CHANNEL_UNAVAILABLE",
            ErrorCode::ChannelRejected => "CHANNEL_REJECTED",
            ErrorCode::PriceMismatch => "PRICE_MISMATCH",
            ErrorCode::BackorderOverdue => "BACKORDER_OVERDUE",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::ForbiddenScope => "FORBIDDEN_SCOPE",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::KeyNameTaken => "KEY_NAME_TAKEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of a system's queue: `erp` for `erp` and for `erp:netsuite`, one ERP of several.
pub fn role_of(system: &str) -> &str {
    system.split(':').next().unwrap_or(system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_wire_form_a_title_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(!code.title().is_empty());
            assert!((400..600).contains(&code.status()), "{code}");
        }
        assert_eq!(ErrorCode::parse("NO_SUCH_CODE"), None);
        for system in ["erp", "wms", "payment", "fraud", "tax", "storefront"] {
            assert!(
                ErrorCode::rejected_by(system)
                    .as_str()
                    .ends_with("_REJECTED")
            );
            assert!(
                ErrorCode::unavailable(system)
                    .as_str()
                    .ends_with("_UNAVAILABLE")
            );
        }
    }
}
