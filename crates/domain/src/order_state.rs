//! An order's canonical states and the moves allowed between them.

use serde::{Deserialize, Serialize};

/// Where an order stands. Channel and ERP statuses map to and from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Taken in, not yet checked.
    Received,
    /// Checked.
    Validated,
    /// Stock held for every line.
    Reserved,
    /// Acknowledged to the customer.
    Accepted,
    /// Assigned to warehouses.
    Allocated,
    /// The ERP has the sales order.
    ErpPosted,
    /// Released to the warehouse to pick.
    Released,
    /// Some lines shipped.
    PartiallyShipped,
    /// Every line shipped.
    Shipped,
    /// The ERP invoiced it.
    Invoiced,
    /// Done.
    Closed,
    /// Held for credit, fraud or an open exception.
    OnHold,
    /// Waiting for stock.
    Backordered,
    /// Cancelled; compensations ran.
    Cancelled,
    /// Returned after shipping.
    Returned,
    /// Refused at intake (not enough stock and no backorders).
    Rejected,
}

impl OrderState {
    /// Every state.
    pub const ALL: [OrderState; 16] = [
        OrderState::Received,
        OrderState::Validated,
        OrderState::Reserved,
        OrderState::Accepted,
        OrderState::Allocated,
        OrderState::ErpPosted,
        OrderState::Released,
        OrderState::PartiallyShipped,
        OrderState::Shipped,
        OrderState::Invoiced,
        OrderState::Closed,
        OrderState::OnHold,
        OrderState::Backordered,
        OrderState::Cancelled,
        OrderState::Returned,
        OrderState::Rejected,
    ];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Received => "received",
            OrderState::Validated => "validated",
            OrderState::Reserved => "reserved",
            OrderState::Accepted => "accepted",
            OrderState::Allocated => "allocated",
            OrderState::ErpPosted => "erp_posted",
            OrderState::Released => "released",
            OrderState::PartiallyShipped => "partially_shipped",
            OrderState::Shipped => "shipped",
            OrderState::Invoiced => "invoiced",
            OrderState::Closed => "closed",
            OrderState::OnHold => "on_hold",
            OrderState::Backordered => "backordered",
            OrderState::Cancelled => "cancelled",
            OrderState::Returned => "returned",
            OrderState::Rejected => "rejected",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True when nothing more happens to the order.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderState::Closed
                | OrderState::Cancelled
                | OrderState::Returned
                | OrderState::Rejected
        )
    }

    /// Whether an order may move from `self` to `next`.
    pub fn can_move_to(self, next: OrderState) -> bool {
        use OrderState::*;
        matches!(
            (self, next),
            (Received, Validated | Rejected | Cancelled)
                | (Validated, Reserved | Backordered | Rejected | Cancelled)
                | (Reserved, Accepted | Cancelled)
                | (Backordered, Reserved | Cancelled)
                | (Accepted, Allocated | OnHold | Cancelled)
                | (Allocated, ErpPosted | OnHold | Cancelled)
                | (
                    ErpPosted,
                    Released | PartiallyShipped | Shipped | OnHold | Cancelled
                )
                | (OnHold, Accepted | Allocated | ErpPosted | Cancelled)
                | (Released, PartiallyShipped | Shipped | Cancelled)
                | (PartiallyShipped, PartiallyShipped | Shipped)
                | (Shipped, Invoiced | Returned)
                | (Invoiced, Closed | Returned)
                | (Closed, Returned)
        )
    }
}

impl std::fmt::Display for OrderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }

    #[test]
    fn the_happy_path_is_allowed_in_order() {
        use OrderState::*;
        let path = [
            Received,
            Validated,
            Reserved,
            Accepted,
            Allocated,
            ErpPosted,
            Released,
            PartiallyShipped,
            Shipped,
            Invoiced,
            Closed,
        ];
        for w in path.windows(2) {
            assert!(w[0].can_move_to(w[1]), "{:?} -> {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn final_states_go_nowhere_but_closed_may_be_returned() {
        for s in OrderState::ALL {
            for next in OrderState::ALL {
                if s.is_final() && s.can_move_to(next) {
                    assert_eq!((s, next), (OrderState::Closed, OrderState::Returned));
                }
            }
        }
        assert!(!OrderState::Shipped.can_move_to(OrderState::Cancelled));
    }
}
