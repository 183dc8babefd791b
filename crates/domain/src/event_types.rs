//! The types of event the log holds, by name: what a subscription may ask for.

/// Every event type the hub appends, in name order.
pub const EVENT_TYPES: [&str; 21] = [
    "availability.changed",
    "invoice.recorded",
    "item.created",
    "order.accepted",
    "order.backorder_allocated",
    "order.backordered",
    "order.erp_status_changed",
    "order.rejected",
    "order.state_changed",
    "ownership.violated",
    "price.changed",
    "receipt.expected",
    "reservation.consumed",
    "reservation.created",
    "reservation.expired",
    "reservation.released",
    "return.authorized",
    "shipment.recorded",
    "sla.breached",
    "sla.recovered",
    "stock.changed",
];

/// Whether the hub appends events of type `name`.
pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_sorted_and_answers_by_name() {
        assert!(EVENT_TYPES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_event_type("order.accepted"));
        assert!(!is_event_type("order.*"));
    }
}
