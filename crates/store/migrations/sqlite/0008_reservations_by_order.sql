-- An order's reservations in every status, not only active ones: a parcel that follows a
-- pick must find the reservation the pick used up, to take its units off the pick ticket.

DROP INDEX reservations_by_order;
CREATE INDEX reservations_by_order ON reservations (order_ref);
