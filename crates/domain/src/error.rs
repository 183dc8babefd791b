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
    /// The store could not be reached or refused the write.
    StoreUnavailable,
    /// The resource does not exist.
    NotFound,
    /// Something failed that should not have.
    Internal,
}

impl ErrorCode {
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
            ErrorCode::CurrencyMismatch => "CURRENCY_MISMATCH",
            ErrorCode::InvoiceConflict => "INVOICE_CONFLICT",
            ErrorCode::WarehouseMismatch => "WAREHOUSE_MISMATCH",
            ErrorCode::DuplicateEvent => "DUPLICATE_EVENT",
            ErrorCode::StaleEvent => "STALE_EVENT",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_matches_serde() {
        for code in [ErrorCode::InsufficientStock, ErrorCode::WarehouseUnknown] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
