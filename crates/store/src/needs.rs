//! What a batch must load before the ledger can run over it.

use std::collections::BTreeSet;

use crossdock_domain::Sku;
use crossdock_domain::ledger::{Command, EventChange, Reservation};
use crossdock_domain::stock::StockChange;

/// Keys a backend loads (under lock) for one batch.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    /// Every SKU touched, sorted: the order locks are taken in.
    pub skus: BTreeSet<Sku>,
    /// Reservations named by id.
    pub reservation_ids: BTreeSet<String>,
    /// Active reservations of (sku, order_ref), for picks that consume them.
    pub order_refs: BTreeSet<(Sku, String)>,
    /// Source event keys to check for duplicates.
    pub event_keys: BTreeSet<(String, String)>,
    /// Orders' natural keys (channel, external_id), to find earlier intakes.
    pub order_keys: BTreeSet<(String, String)>,
    /// Orders' `Idempotency-Key`s.
    pub idempotency_keys: BTreeSet<String>,
    /// Orders a batch moves.
    pub order_ids: BTreeSet<String>,
}

impl Needs {
    /// Collects the keys of `commands`. `released` are the reservations named by release
    /// commands, looked up beforehand to learn their SKUs.
    pub fn of(commands: &[Command], released: &[Reservation]) -> Self {
        let mut needs = Needs::default();
        for c in commands {
            needs.skus.extend(c.skus().into_iter().cloned());
            match c {
                Command::Release { id, .. } => {
                    needs.reservation_ids.insert(id.to_string());
                }
                Command::Stock(e) => {
                    needs.event_keys.insert(e.key());
                    if let EventChange::Stock {
                        change: StockChange::ReturnReceived(_),
                        order_ref: Some(order),
                        ..
                    } = &e.change
                    {
                        needs.order_ids.insert(order.clone());
                    }
                    if let EventChange::Stock {
                        change: StockChange::PickOpened(_),
                        order_ref: Some(order),
                        ..
                    } = &e.change
                    {
                        needs.order_refs.insert((e.sku.clone(), order.clone()));
                    }
                }
                Command::PlaceOrder(p) => {
                    needs
                        .order_keys
                        .insert((p.order.channel.to_string(), p.order.external_id.clone()));
                    needs.idempotency_keys.extend(p.idempotency_key.clone());
                }
                Command::AdvanceOrder(a) => {
                    needs.order_ids.insert(a.order_id.to_string());
                }
                Command::CancelOrder(c) => {
                    needs.order_ids.insert(c.order_id.to_string());
                }
                Command::RecordShipment(s) => {
                    needs.order_ids.insert(s.order_id.to_string());
                    needs
                        .event_keys
                        .insert((s.source.clone(), s.source_event_id.clone()));
                    for (sku, _) in &s.lines {
                        needs
                            .order_refs
                            .insert((sku.clone(), s.order_id.to_string()));
                    }
                }
                Command::OpenReturn(r) => {
                    needs.order_ids.insert(r.order_id.to_string());
                    needs.event_keys.extend(r.key());
                }
                Command::RecordInvoice(i) => {
                    needs.order_ids.insert(i.order_id.to_string());
                    needs.event_keys.insert(i.key());
                }
                Command::AllocateBackorder(a) => {
                    needs.order_ids.insert(a.order_id.to_string());
                }
                Command::MatchInvoices(m) => {
                    needs.order_ids.insert(m.order_id.to_string());
                }
                _ => {}
            }
        }
        needs.skus.extend(released.iter().map(|r| r.sku.clone()));
        needs
    }

    /// Orders that cancel commands name: their active reservations are loaded (and their
    /// SKUs locked) like released ones.
    pub fn cancelled_orders(commands: &[Command]) -> Vec<String> {
        commands
            .iter()
            .filter_map(|c| match c {
                Command::CancelOrder(c) => Some(c.order_id.to_string()),
                _ => None,
            })
            .collect()
    }

    /// Ids of reservations that release commands name.
    pub fn release_ids(commands: &[Command]) -> Vec<String> {
        commands
            .iter()
            .filter_map(|c| match c {
                Command::Release { id, .. } => Some(id.to_string()),
                _ => None,
            })
            .collect()
    }
}
