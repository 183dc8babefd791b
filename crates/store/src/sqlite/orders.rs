//! SQLite statements for orders: earlier intakes (for idempotency), new orders with their
//! history, idempotency keys and jobs, state moves, and reads.

use std::collections::BTreeSet;

use crossdock_domain::ledger::{PriorIntake, Priors};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, named_params, params};

use crossdock_domain::OrderId;

use crate::Result;
use crate::batch::WriteSet;
use crate::records::{self, InvoiceRow, ReturnRow, ShipmentRow};

/// Earlier intakes with the natural keys or idempotency keys a batch's orders use.
pub(super) fn priors(conn: &Connection, needs: &crate::needs::Needs) -> Result<Priors> {
    let mut priors = Priors::default();
    if !needs.order_keys.is_empty() {
        let mut stmt = conn.prepare_cached(
            "SELECT id, request_hash, response FROM orders WHERE channel = ?1 AND external_id = ?2",
        )?;
        for (channel, external_id) in &needs.order_keys {
            if let Some(p) = stmt
                .query_row(params![channel, external_id], prior_row)
                .optional()?
            {
                priors
                    .by_external_id
                    .insert((channel.clone(), external_id.clone()), p);
            }
        }
    }
    if !needs.idempotency_keys.is_empty() {
        let mut stmt = conn.prepare_cached(
            "SELECT order_id, request_hash, response FROM idempotency_keys WHERE key = ?1",
        )?;
        for key in &needs.idempotency_keys {
            if let Some(p) = stmt.query_row([key], prior_row).optional()? {
                priors.by_key.insert(key.clone(), p);
            }
        }
    }
    Ok(priors)
}

fn prior_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PriorIntake> {
    let response: String = r.get(2)?;
    Ok(PriorIntake {
        order_id: id(r, 0, OrderId::parse)?,
        request_hash: r.get(1)?,
        response: response.into(),
    })
}

/// Writes new orders, their history, idempotency keys and jobs.
pub(super) fn write_orders(conn: &Connection, w: &WriteSet, now: i64) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE orders SET state = ?2, erp_order_id = COALESCE(?3, erp_order_id),
            erp_status = COALESCE(?4, erp_status), updated_at = ?5
         WHERE id = ?1",
    )?;
    for u in &w.order_updates {
        stmt.execute(params![u.id, u.state, u.erp_order_id, u.erp_status, u.at])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO orders (id, channel, external_id, state, business_unit, customer_id, body,
            lines, reason, request_hash, response, correlation_id, created_at, updated_at,
            waiting)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14)",
    )?;
    for o in &w.orders {
        stmt.execute(params![
            o.id(),
            o.channel(),
            o.external_id(),
            o.state(),
            o.business_unit(),
            o.customer_id(),
            o.body,
            o.lines,
            o.reason(),
            o.request_hash(),
            o.response(),
            o.correlation_id(),
            o.created_at(),
            o.new.waiting()
        ])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO order_history (order_id, seq, from_state, to_state, at, actor,
            correlation_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for h in &w.history {
        stmt.execute(params![
            h.order_id,
            h.seq,
            h.from_state,
            h.to_state,
            h.at,
            h.actor,
            h.correlation_id
        ])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO idempotency_keys (key, order_id, request_hash, response, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (key, order_id, hash, response) in &w.idempotency {
        stmt.execute(params![key, order_id, hash, &**response, now])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO jobs (id, kind, system, order_id, state, attempts, run_at, created_at,
            payload, correlation_id) VALUES (?1, ?2, ?3, ?4, 'ready', 0, ?5, ?7, ?6,
            COALESCE((SELECT j.correlation_id FROM jobs j WHERE j.id = ?8), ?8))
         ON CONFLICT (id) DO NOTHING",
    )?;
    for j in &w.jobs {
        stmt.execute(params![
            j.id,
            j.kind,
            j.system,
            j.order_id,
            j.run_at,
            j.payload,
            j.created_at,
            j.correlation_id
        ])?;
    }
    let mut stmt = conn.prepare_cached(
        "UPDATE orders SET lines = ?2, reason = ?3, waiting = ?4, parts = ?5, updated_at = ?6
         WHERE id = ?1",
    )?;
    for u in &w.order_lines {
        stmt.execute(params![
            u.order_id.as_str(),
            &*u.lines,
            u.reason,
            u.waiting,
            u.parts,
            now
        ])?;
    }
    write_fulfilment(conn, w, now)
}

/// Writes shipments, invoices, and jobs a move ended as failed (with their exceptions).
fn write_fulfilment(conn: &Connection, w: &WriteSet, now: i64) -> Result<()> {
    let mut shipment = conn.prepare_cached(
        "INSERT INTO shipments (id, order_id, source, source_event_id, location, carrier,
            tracking_number, capture_micros, shipped_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut line = conn.prepare_cached(
        "INSERT INTO shipment_lines (shipment_id, order_id, sku, qty) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for s in &w.shipments {
        shipment.execute(params![
            s.id,
            s.order_id.as_str(),
            s.source,
            s.source_event_id,
            s.location.as_str(),
            s.carrier,
            s.tracking_number,
            s.capture.micros(),
            s.shipped_at.0,
            now
        ])?;
        for (sku, qty) in &s.lines {
            line.execute(params![s.id, s.order_id.as_str(), sku.as_str(), qty])?;
        }
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO invoices (invoice_id, order_id, amount, currency, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for i in &w.invoices {
        stmt.execute(params![
            i.invoice_id,
            i.order_id.as_str(),
            i.amount.to_string(),
            i.currency,
            now
        ])?;
    }
    for r in &w.returns {
        conn.prepare_cached(
            "INSERT INTO returns (id, order_id, reason, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![r.id, r.order_id.as_str(), r.reason, now])?;
        for (sku, qty) in &r.lines {
            conn.prepare_cached(
                "INSERT INTO return_lines (rma_id, order_id, sku, qty, received)
                 VALUES (?1, ?2, ?3, ?4, 0)",
            )?
            .execute(params![r.id, r.order_id.as_str(), sku.as_str(), qty])?;
        }
    }
    for l in &w.return_receipts {
        conn.prepare_cached(
            "UPDATE return_lines SET received = ?3 WHERE rma_id = ?1 AND sku = ?2",
        )?
        .execute(params![l.rma_id, l.sku.as_str(), l.received])?;
    }
    for (order_id, code) in &w.outgrown {
        conn.prepare_cached(crate::jobs::RESOLVE_OUTGROWN)?
            .execute(named_params! {"$1": order_id, "$2": code, "$3": now})?;
    }
    for (job_id, code, error, remediation) in &w.failed_jobs {
        conn.prepare_cached(crate::jobs::FAIL_JOB)?
            .execute(named_params! {"$1": job_id, "$2": error})?;
        conn.prepare_cached(crate::jobs::OPEN_EXCEPTION)?
            .execute(named_params! {
                "$1": job_id,
                "$2": code,
                "$3": error,
                "$4": remediation,
                "$5": now,
            })?;
    }
    Ok(())
}

const ORDER_COLS: &str =
    "id, channel, external_id, state, reason, body, lines, created_at, updated_at, erp_order_id,
     erp_status";

/// A value read back from column `i`, or the column's conversion failure.
pub(super) fn typed<T>(
    i: usize,
    read: std::result::Result<T, crate::StoreError>,
) -> rusqlite::Result<T> {
    read.map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

/// An id in column `i`, checked by `parse`.
pub(super) fn id<T, E: Into<crate::StoreError>>(
    r: &rusqlite::Row<'_>,
    i: usize,
    parse: fn(String) -> std::result::Result<T, E>,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    typed(i, parse(text).map_err(Into::into))
}

/// An id in column `i` that may be NULL, checked by `parse`.
pub(super) fn opt_id<T, E: Into<crate::StoreError>>(
    r: &rusqlite::Row<'_>,
    i: usize,
    parse: fn(String) -> std::result::Result<T, E>,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| typed(i, parse(t).map_err(Into::into)))
        .transpose()
}

/// A JSON document in column `i`, read back as `T`.
fn document<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row<'_>,
    i: usize,
    what: &str,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    typed(i, records::decode(what, &text))
}

fn order_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<crate::StoredOrder> {
    let state: String = r.get(3)?;
    Ok(crate::StoredOrder {
        id: id(r, 0, OrderId::parse)?,
        channel: r.get(1)?,
        external_id: r.get(2)?,
        state: typed(3, records::state(&state))?,
        reason: r.get(4)?,
        order: document(r, 5, "order body")?,
        lines: document(r, 6, "order lines")?,
        erp_order_id: r.get(9)?,
        erp_status: r.get(10)?,
        history: Vec::new(),
        shipments: Vec::new(),
        invoices: Vec::new(),
        returns: Vec::new(),
        created_at: crossdock_domain::Timestamp(r.get(7)?),
        updated_at: crossdock_domain::Timestamp(r.get(8)?),
    })
}

/// An order with its history.
pub(super) fn order(conn: &Connection, id: &str) -> Result<Option<crate::StoredOrder>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {ORDER_COLS} FROM orders WHERE id = ?1"))?;
    let Some(mut order) = stmt.query_row([id], order_row).optional()? else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT from_state, to_state, at, actor, correlation_id FROM order_history
         WHERE order_id = ?1 ORDER BY seq",
    )?;
    order.history = stmt
        .query_map([id], |r| {
            let (from, to): (Option<String>, String) = (r.get(0)?, r.get(1)?);
            Ok(crate::Transition {
                from: from.map(|f| typed(0, records::state(&f))).transpose()?,
                to: typed(1, records::state(&to))?,
                at: crossdock_domain::Timestamp(r.get(2)?),
                actor: r.get(3)?,
                correlation_id: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT json_object('id', s.id, 'source', s.source, 'source_event_id',
            s.source_event_id, 'location', s.location, 'carrier', s.carrier, 'tracking_number',
            s.tracking_number, 'capture_micros', s.capture_micros, 'shipped_at', s.shipped_at,
            'lines', (SELECT json_group_array(json_object('sku', l.sku, 'qty', l.qty))
                FROM shipment_lines l WHERE l.shipment_id = s.id))
         FROM shipments s WHERE s.order_id = ?1 ORDER BY s.shipped_at, s.id",
    )?;
    order.shipments = stmt
        .query_map([id], |r| document::<ShipmentRow>(r, 0, "shipment"))?
        .map(|r| r.map(Into::into))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT json_object('invoice_id', invoice_id, 'amount', amount, 'currency', currency,
            'received_at', created_at) FROM invoices WHERE order_id = ?1 ORDER BY created_at",
    )?;
    order.invoices = stmt
        .query_map([id], |r| document::<InvoiceRow>(r, 0, "invoice"))?
        .map(|r| r.map(Into::into))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT json_object('rma_id', id, 'reason', reason, 'opened_at', created_at, 'lines',
            (SELECT json_group_array(json_object('sku', l.sku, 'qty', l.qty, 'received',
                l.received)) FROM return_lines l WHERE l.rma_id = r.id))
         FROM returns r WHERE order_id = ?1 ORDER BY created_at, id",
    )?;
    order.returns = stmt
        .query_map([id], |r| document::<ReturnRow>(r, 0, "return"))?
        .map(|r| r.map(Into::into))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(order))
}

/// Orders matching a filter, newest first.
pub(super) fn orders(conn: &Connection, f: &crate::OrderFilter) -> Result<Vec<crate::StoredOrder>> {
    let (past, order) = if f.oldest_first {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let waiting = crate::waiting_clause(f);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ORDER_COLS} FROM orders
         WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR channel = ?2)
           AND (?3 IS NULL OR created_at >= ?3) AND (?5 IS NULL OR external_id = ?5)
           AND (?6 IS NULL OR (created_at, id) {past} (SELECT created_at, id FROM orders
                WHERE id = ?6))
           {waiting}
         ORDER BY created_at {order}, id {order} LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(
            params![
                f.state,
                f.channel,
                f.since.map(|t| t.0),
                f.limit,
                f.external_id,
                f.after
            ],
            order_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The current state, number of transitions and detail of each order in `ids`.
pub(super) fn orders_now(
    conn: &Connection,
    ids: &BTreeSet<String>,
) -> Result<std::collections::HashMap<OrderId, crossdock_domain::ledger::OrderNow>> {
    let mut out = std::collections::HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT state, (SELECT COUNT(*) FROM order_history h WHERE h.order_id = o.id), body,
            (SELECT json_group_object(sku, n) FROM (SELECT sku, SUM(qty) AS n
                FROM shipment_lines l WHERE l.order_id = o.id GROUP BY sku)),
            (SELECT COALESCE(SUM(capture_micros), 0) FROM shipments s WHERE s.order_id = o.id),
            (SELECT MAX(shipped_at) FROM shipments s WHERE s.order_id = o.id),
            (SELECT json_group_array(json_object('rma_id', rma_id, 'sku', sku, 'qty', qty,
                'received', received)) FROM return_lines r WHERE r.order_id = o.id),
            erp_order_id,
            (SELECT json_group_array(json_object('invoice_id', invoice_id, 'amount', amount,
                'currency', currency)) FROM invoices i WHERE i.order_id = o.id),
            parts, CASE WHEN waiting > 0 THEN lines END, CASE WHEN waiting > 0 THEN reason END
         FROM orders o WHERE id = ?1",
    )?;
    for id in ids {
        let row = stmt
            .query_row([id], |r| {
                let json = |i: usize| -> rusqlite::Result<serde_json::Value> {
                    let text: String = r.get(i)?;
                    serde_json::from_str(&text).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e))
                    })
                };
                Ok(crate::batch::OrderRowNow {
                    state: r.get(0)?,
                    transitions: r.get(1)?,
                    body: json(2)?,
                    shipped: json(3)?,
                    captured: r.get(4)?,
                    last_shipped_at: r.get(5)?,
                    returns: json(6)?,
                    erp_order_id: r.get(7)?,
                    invoiced: json(8)?,
                    parts: r.get(9)?,
                    routing: match r.get::<_, Option<String>>(10)? {
                        Some(_) => Some((json(10)?, r.get(11)?)),
                        None => None,
                    },
                })
            })
            .optional()?;
        if let Some(row) = row {
            out.insert(OrderId::parse(id.clone())?, crate::batch::order_now(row)?);
        }
    }
    Ok(out)
}
