//! After the ERP has the order: shipments reported by the warehouse and invoices from the
//! ERP. A shipment takes its units out of stock (consuming the order's reservation where no
//! pick did), moves the order to `partially_shipped` or `shipped`, and queues what follows:
//! tracking to the channel, the fulfilment to the ERP, the capture of the payment. The types
//! of the ERP's invoices live here too; what is done with them is in `invoices`, and what a
//! batch knows of an order in `detail`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{
    AdvanceOrder, Ledger, NewEvent, NewJob, OrderDetail, Outcome, ReservationStatus, json_text,
};
use crate::error::ErrorCode;
use crate::ids::{JobId, LocationCode, OrderId, ReservationId, Sku};
use crate::job::JobKind;
use crate::money::Money;
use crate::order_state::OrderState;
use crate::qty::{Delta, Qty};
use crate::stock::StockChange;
use crate::time::Timestamp;

/// A shipment reported by the warehouse or 3PL.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordShipment {
    /// `shp_…`, chosen by the caller.
    pub id: String,
    /// The order shipped.
    pub order_id: OrderId,
    /// The reporting system (`wms`, a 3PL's name).
    pub source: String,
    /// The system's own id for the shipment: a repeat is a no-op.
    pub source_event_id: String,
    /// Where it shipped from.
    pub location: LocationCode,
    /// SKU and units shipped.
    pub lines: Vec<(Sku, i64)>,
    /// Carrier name.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// When it left.
    pub shipped_at: Timestamp,
    /// Correlation id of the request.
    pub correlation_id: String,
}

/// An invoice the ERP raised for an order.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordInvoice {
    /// The order invoiced.
    pub order_id: OrderId,
    /// The ERP's invoice number: a repeat is a no-op.
    pub invoice_id: String,
    /// Invoice total.
    pub amount: Money,
    /// ISO 4217 currency.
    pub currency: String,
    /// Correlation id of the request.
    pub correlation_id: String,
}

impl RecordInvoice {
    /// The key that makes a repeat a no-op: (source, source event id).
    pub fn key(&self) -> (String, String) {
        ("erp".to_string(), format!("invoice:{}", self.invoice_id))
    }
}

/// A shipment to write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipmentRow {
    /// `shp_…`
    pub id: String,
    /// The order.
    pub order_id: OrderId,
    /// Reporting system.
    pub source: String,
    /// Its id for the shipment.
    pub source_event_id: String,
    /// Where it shipped from.
    pub location: LocationCode,
    /// SKU and units.
    pub lines: Vec<(Sku, i64)>,
    /// Carrier.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Amount to capture for it (zero without a payment).
    pub capture: Money,
    /// When it left.
    pub shipped_at: Timestamp,
}

/// An invoice to write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceRow {
    /// The order.
    pub order_id: OrderId,
    /// The ERP's number.
    pub invoice_id: String,
    /// Total.
    pub amount: Money,
    /// Currency.
    pub currency: String,
}

/// A leased job that a move ends as failed, opening its exception in the same transaction
/// (a fraud or credit hold).
#[derive(Debug, Clone, PartialEq)]
pub struct FailedJob {
    /// The job.
    pub job_id: JobId,
    /// Stable business code, e.g. `FRAUD_SUSPECTED`.
    pub code: ErrorCode,
    /// Why, for operators.
    pub error: String,
}

fn rejected(code: ErrorCode, detail: String) -> Outcome {
    Outcome::Rejected { code, detail }
}

impl Ledger<'_> {
    /// Counts `qty` consumed units of the order's reservations of `sku` at the shipment's
    /// location as shipped, oldest reservation first.
    fn mark_shipped(&mut self, s: &RecordShipment, sku: &Sku, qty: i64) {
        let mut ids: Vec<ReservationId> = self
            .reservations
            .values()
            .filter(|r| &r.sku == sku && r.order_ref == s.order_id)
            .map(|r| r.id.clone())
            .collect();
        ids.sort();
        let mut left = qty;
        for id in ids {
            let r = self.reservations.get_mut(&id).expect("listed above");
            for a in r
                .allocations
                .iter_mut()
                .filter(|a| a.location == s.location)
            {
                let take = (a.consumed - a.shipped).min(left);
                if take > 0 {
                    a.shipped += take;
                    left -= take;
                    self.writes.changed_reservations.insert(id.clone());
                }
            }
        }
    }

    pub(super) fn record_shipment(&mut self, s: &RecordShipment) -> Outcome {
        let Some(now) = self.orders.get(&s.order_id).cloned() else {
            return rejected(
                ErrorCode::OrderNotFound,
                format!("no order `{}`", s.order_id),
            );
        };
        let key = (s.source.clone(), s.source_event_id.clone());
        if self.seen.contains(&key) {
            return Outcome::Duplicate;
        }
        if !matches!(
            now.state,
            OrderState::ErpPosted | OrderState::Released | OrderState::PartiallyShipped
        ) {
            return rejected(
                ErrorCode::OrderStateConflict,
                format!(
                    "order `{}` is {}; shipments are taken once it is in the ERP and before \
                     every line has shipped",
                    s.order_id,
                    now.state.as_str()
                ),
            );
        }
        if self.estate.location(s.location.as_str()).is_none() {
            return rejected(
                ErrorCode::WarehouseUnknown,
                format!("location `{}` is not configured", s.location),
            );
        }
        let mut detail = now.detail.clone();
        let mut per_sku: BTreeMap<Sku, i64> = BTreeMap::new();
        for (sku, qty) in &s.lines {
            *per_sku.entry(sku.clone()).or_default() += qty;
        }
        for (sku, qty) in &per_sku {
            if detail.ordered(sku) == 0 {
                return rejected(
                    ErrorCode::SkuNotOnOrder,
                    format!("SKU `{sku}` is not on order `{}`", s.order_id),
                );
            }
            let left = detail.left(sku);
            if *qty > left {
                return rejected(
                    ErrorCode::QtyExceedsOrder,
                    format!("{qty} units of `{sku}` shipped but only {left} left to ship"),
                );
            }
            let held = self.held_by_order(&s.order_id, sku);
            let here = held.get(&s.location).copied().unwrap_or(0);
            if *qty > here {
                let at: Vec<String> = held
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(l, n)| format!("{n} at {l}"))
                    .collect();
                let detail = format!(
                    "{qty} units of `{sku}` shipped from {} but order `{}` holds {here} there \
                     (it holds {})",
                    s.location,
                    s.order_id,
                    if at.is_empty() {
                        "none".to_string()
                    } else {
                        at.join(", ")
                    }
                );
                self.park_shipment(s, now.state, ErrorCode::WarehouseMismatch, detail.clone());
                return rejected(ErrorCode::WarehouseMismatch, detail);
            }
        }
        self.seen.insert(key);
        self.writes
            .source_events
            .push((s.source.clone(), s.source_event_id.clone(), s.shipped_at));
        let mut value = Money::default();
        for (sku, qty) in &per_sku {
            self.ship_line(s, sku, *qty);
            *detail.shipped.entry(sku.clone()).or_default() += qty;
            value = value
                .plus(detail.unit_price(sku).times(*qty).unwrap_or_default())
                .unwrap_or(value);
        }
        let to = if detail.fully_shipped() {
            OrderState::Shipped
        } else {
            OrderState::PartiallyShipped
        };
        let capture = match &detail.payment {
            Some((_, authorised)) => {
                let left = Money::from_micros(authorised.micros() - detail.captured.micros());
                if to == OrderState::Shipped || value > left {
                    left
                } else {
                    value
                }
            }
            None => Money::default(),
        };
        let shipment = json!({
            "shipment_id": s.id, "location": s.location, "carrier": s.carrier,
            "tracking_number": s.tracking_number, "shipped_at": s.shipped_at,
            "lines": per_sku.iter().map(|(sku, qty)| json!({"sku": sku, "qty": qty}))
                .collect::<Vec<_>>(),
        });
        let mut tracking = shipment.clone();
        tracking["state"] = json!(to);
        let mut jobs = vec![
            NewJob::new(JobKind::PublishTracking).keyed(&s.id, tracking),
            NewJob::new(JobKind::PostFulfilment).keyed(&s.id, shipment.clone()),
        ];
        if let Some((authorization, _)) = &detail.payment
            && capture.micros() > 0
        {
            jobs.push(NewJob::new(JobKind::CapturePayment).keyed(
                &s.id,
                json!({"shipment_id": s.id, "authorization": authorization,
                       "amount": capture.to_string()}),
            ));
        }
        self.writes.shipments.push(ShipmentRow {
            id: s.id.clone(),
            order_id: s.order_id.clone(),
            source: s.source.clone(),
            source_event_id: s.source_event_id.clone(),
            location: s.location.clone(),
            lines: per_sku.into_iter().collect(),
            carrier: s.carrier.clone(),
            tracking_number: s.tracking_number.clone(),
            capture,
            shipped_at: s.shipped_at,
        });
        self.writes.events.push(NewEvent {
            kind: "shipment.recorded",
            sku: None,
            data: json_text(&json!({"order_id": s.order_id, "shipment": shipment})),
        });
        let invoiced = to == OrderState::Shipped && detail.fully_invoiced();
        if let Some(o) = self.orders.get_mut(&s.order_id) {
            o.detail = OrderDetail {
                captured: Money::from_micros(detail.captured.micros() + capture.micros()),
                last_shipped_at: detail.last_shipped_at.max(Some(s.shipped_at)),
                ..detail
            };
        }
        let mut advance = AdvanceOrder {
            order_id: s.order_id.clone(),
            from: now.state,
            to,
            actor: format!("shipment:{}", s.source),
            correlation_id: s.correlation_id.clone(),
            erp_order_id: None,
            erp_status: None,
            jobs,
            fail_job: None,
        };
        self.advance_order(&advance);
        if !invoiced {
            return Outcome::ShipmentRecorded {
                id: s.id.clone(),
                state: to,
            };
        }
        advance.from = OrderState::Shipped;
        let detail = &self.orders[&s.order_id].detail;
        if let Some((job, failed)) = self.price_mismatch(&s.order_id, detail) {
            // Invoiced before the last parcel, but not for what the order is worth.
            (advance.jobs, advance.fail_job) = (vec![job], Some(failed));
            self.advance_order(&advance);
            return Outcome::ShipmentRecorded {
                id: s.id.clone(),
                state: OrderState::Shipped,
            };
        }
        // Invoiced in full before the last parcel left (the invoice reaches the channel by its
        // own job): nothing more is coming, so the order is invoiced and closed now.
        advance.jobs.clear();
        for (from, to) in [
            (OrderState::Shipped, OrderState::Invoiced),
            (OrderState::Invoiced, OrderState::Closed),
        ] {
            advance.from = from;
            advance.to = to;
            self.advance_order(&advance);
        }
        Outcome::ShipmentRecorded {
            id: s.id.clone(),
            state: OrderState::Closed,
        }
    }

    /// Units of `sku` the order holds and has not shipped (reserved or on a pick ticket),
    /// per location.
    fn held_by_order(&self, order_id: &str, sku: &Sku) -> BTreeMap<LocationCode, i64> {
        let mut held = BTreeMap::new();
        let allocations = self
            .reservations
            .values()
            .filter(|r| &r.sku == sku && r.order_ref == order_id)
            .filter(|r| {
                matches!(
                    r.status,
                    ReservationStatus::Active | ReservationStatus::Consumed
                )
            })
            .flat_map(|r| &r.allocations);
        for a in allocations {
            *held.entry(a.location.clone()).or_default() += a.qty - a.shipped;
        }
        held
    }

    /// Takes `qty` units of `sku` out of stock at the shipment's location. Units of the order
    /// already on a pick ticket there (its reservation consumed by the pick, not yet shipped)
    /// come out of `picking` first; the rest come out of what the order still holds in
    /// `reserved`, and any beyond that out of `picking`.
    fn ship_line(&mut self, s: &RecordShipment, sku: &Sku, qty: i64) {
        let picked: i64 = self
            .reservations
            .values()
            .filter(|r| &r.sku == sku && r.order_ref == s.order_id)
            .flat_map(|r| &r.allocations)
            .filter(|a| a.location == s.location)
            .map(|a| a.consumed - a.shipped)
            .sum();
        let from_picks = picked.clamp(0, qty);
        let from_reservation =
            self.consume_for_pick(sku, &s.location, &s.order_id, qty - from_picks);
        self.mark_shipped(s, sku, from_picks + from_reservation);
        let state = self.states.get_mut(sku).expect("shipment SKUs are loaded");
        let row = state.at_mut(&s.location);
        if let Ok(q) = Qty::new(qty - from_reservation) {
            row.apply(&StockChange::Shipped(q), s.shipped_at);
        }
        if let Ok(d) = Delta::new(-from_reservation) {
            row.apply(&StockChange::Adjustment(d), s.shipped_at);
        }
        let buckets = row.buckets;
        self.writes.stock.insert((sku.clone(), s.location.clone()));
        self.writes.events.push(NewEvent {
            kind: "stock.changed",
            sku: Some(sku.clone()),
            data: json_text(
                &json!({"sku": sku, "location": s.location, "kind": "shipped",
                         "source": s.source, "source_event_id": s.source_event_id,
                         "order_ref": s.order_id, "occurred_at": s.shipped_at,
                         "buckets": buckets}),
            ),
        });
    }
}
