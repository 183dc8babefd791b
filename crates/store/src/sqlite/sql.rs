//! SQLite statements: loading SKU states and reservations, writing a batch's rows.

use std::collections::{BTreeSet, HashSet};

use crossdock_domain::ledger::Reservation;
use crossdock_domain::{Sku, SkuState};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Result;
use crate::batch::WriteSet;
use crate::rows::{ExpectedRow, ReservationRow, StockRow, assemble};

const STOCK_COLS: &str = "sku, location, on_hand, picking, transfer_out, inspection, reserved, \
     on_hand_snapshot_at, picking_snapshot_at, transfer_out_snapshot_at, inspection_snapshot_at";
const RES_COLS: &str =
    "id, sku, channel, order_ref, qty, created_at, expires_at, status, allocations";

fn stock_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StockRow> {
    Ok(StockRow {
        sku: r.get(0)?,
        location: r.get(1)?,
        buckets: [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?],
        snapshot_at: [r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?],
    })
}

fn expected_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExpectedRow> {
    Ok(ExpectedRow {
        sku: r.get(0)?,
        location: r.get(1)?,
        po_ref: r.get(2)?,
        qty: r.get(3)?,
        eta: r.get(4)?,
    })
}

fn reservation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReservationRow> {
    Ok(ReservationRow {
        id: r.get(0)?,
        sku: r.get(1)?,
        channel: r.get(2)?,
        order_ref: r.get(3)?,
        qty: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        status: r.get(7)?,
        allocations: r.get(8)?,
    })
}

/// The state of each SKU in `skus` that the item master knows.
pub(super) fn load_states<'a>(
    conn: &Connection,
    skus: impl IntoIterator<Item = &'a Sku>,
) -> Result<Vec<SkuState>> {
    let mut item = conn.prepare_cached("SELECT sku FROM items WHERE sku = ?1")?;
    let mut stock =
        conn.prepare_cached(&format!("SELECT {STOCK_COLS} FROM stock WHERE sku = ?1"))?;
    let mut chan =
        conn.prepare_cached("SELECT sku, channel, qty FROM channel_reserved WHERE sku = ?1")?;
    let mut exp = conn.prepare_cached(
        "SELECT sku, location, po_ref, qty, eta FROM expected_receipts WHERE sku = ?1",
    )?;
    let (mut items, mut stocks, mut chans, mut exps) = (vec![], vec![], vec![], vec![]);
    for sku in skus {
        let s = sku.as_str();
        let Some(found) = item.query_row([s], |r| r.get::<_, String>(0)).optional()? else {
            continue;
        };
        items.push(found);
        for row in stock.query_map([s], stock_row)? {
            stocks.push(row?);
        }
        for row in chan.query_map([s], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
            chans.push(row?);
        }
        for row in exp.query_map([s], expected_row)? {
            exps.push(row?);
        }
    }
    assemble(items, stocks, chans, exps)
}

/// Every SKU in the item master.
pub(super) fn load_all_states(conn: &Connection) -> Result<Vec<SkuState>> {
    fn all<T>(
        conn: &Connection,
        sql: &str,
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt
            .query_map([], f)?
            .collect::<rusqlite::Result<Vec<T>>>()?;
        Ok(rows)
    }
    assemble(
        all(conn, "SELECT sku FROM items", |r| r.get(0))?,
        all(conn, &format!("SELECT {STOCK_COLS} FROM stock"), stock_row)?,
        all(
            conn,
            "SELECT sku, channel, qty FROM channel_reserved",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?,
        all(
            conn,
            "SELECT sku, location, po_ref, qty, eta FROM expected_receipts",
            expected_row,
        )?,
    )
}

/// Reservations by id (missing ids are skipped).
pub(super) fn reservations_by_id(conn: &Connection, ids: &[String]) -> Result<Vec<Reservation>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RES_COLS} FROM reservations WHERE id = ?1"
    ))?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(row) = stmt.query_row([id], reservation_row).optional()? {
            out.push(row.into_domain()?);
        }
    }
    Ok(out)
}

/// Active reservations of each order in `orders`.
pub(super) fn reservations_of_orders(
    conn: &Connection,
    orders: &[String],
) -> Result<Vec<Reservation>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RES_COLS} FROM reservations WHERE order_ref = ?1 AND status = 'active'"
    ))?;
    let mut out = Vec::new();
    for order in orders {
        for row in stmt.query_map([order], reservation_row)? {
            out.push(row?.into_domain()?);
        }
    }
    Ok(out)
}

/// Reservations for each (sku, order_ref) that hold or held units for picking: active ones,
/// and consumed ones whose picked units may still be waiting to ship.
pub(super) fn reservations_by_order(
    conn: &Connection,
    keys: &BTreeSet<(Sku, String)>,
) -> Result<Vec<Reservation>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RES_COLS} FROM reservations WHERE order_ref = ?2 AND sku = ?1
         AND status IN ('active', 'consumed')"
    ))?;
    let mut out = Vec::new();
    for (sku, order) in keys {
        for row in stmt.query_map(params![sku.as_str(), order], reservation_row)? {
            out.push(row?.into_domain()?);
        }
    }
    Ok(out)
}

/// Which of `keys` were recorded before.
pub(super) fn seen_events(
    conn: &Connection,
    keys: &BTreeSet<(String, String)>,
) -> Result<HashSet<(String, String)>> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM source_events WHERE source = ?1 AND source_event_id = ?2")?;
    let mut seen = HashSet::new();
    for (source, id) in keys {
        if stmt.exists(params![source, id])? {
            seen.insert((source.clone(), id.clone()));
        }
    }
    Ok(seen)
}

/// Writes a batch's rows; events take sequence numbers from `first_seq` on.
pub(super) fn write(conn: &Connection, w: &WriteSet, now: i64, first_seq: i64) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO items (sku, description, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (sku) DO NOTHING",
    )?;
    for (sku, description) in &w.items {
        stmt.execute(params![sku, description, now])?;
    }
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO stock ({STOCK_COLS}, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (sku, location) DO UPDATE SET
           on_hand = excluded.on_hand, picking = excluded.picking,
           transfer_out = excluded.transfer_out, inspection = excluded.inspection,
           reserved = excluded.reserved, on_hand_snapshot_at = excluded.on_hand_snapshot_at,
           picking_snapshot_at = excluded.picking_snapshot_at,
           transfer_out_snapshot_at = excluded.transfer_out_snapshot_at,
           inspection_snapshot_at = excluded.inspection_snapshot_at,
           updated_at = excluded.updated_at"
    ))?;
    for r in &w.stock {
        let [a, b, c, d, e] = r.buckets;
        let [s1, s2, s3, s4] = r.snapshot_at;
        stmt.execute(params![
            r.sku, r.location, a, b, c, d, e, s1, s2, s3, s4, now
        ])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO channel_reserved (sku, channel, qty) VALUES (?1, ?2, ?3)
         ON CONFLICT (sku, channel) DO UPDATE SET qty = excluded.qty",
    )?;
    for (sku, channel, qty) in &w.channel_reserved {
        stmt.execute(params![sku, channel, qty])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO expected_receipts (sku, location, po_ref, qty, eta) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (sku, location, po_ref) DO UPDATE SET qty = excluded.qty, eta = excluded.eta",
    )?;
    for e in &w.expected_upsert {
        stmt.execute(params![e.sku, e.location, e.po_ref, e.qty, e.eta])?;
    }
    let mut stmt = conn.prepare_cached(
        "DELETE FROM expected_receipts WHERE sku = ?1 AND location = ?2 AND po_ref = ?3",
    )?;
    for (sku, location, po_ref) in &w.expected_delete {
        stmt.execute(params![sku, location, po_ref])?;
    }
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO reservations ({RES_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?;
    for r in &w.new_reservations {
        stmt.execute(params![
            r.id,
            r.sku,
            r.channel,
            r.order_ref,
            r.qty,
            r.created_at,
            r.expires_at,
            r.status,
            r.allocations
        ])?;
    }
    let mut stmt =
        conn.prepare_cached("UPDATE reservations SET status = ?2, allocations = ?3 WHERE id = ?1")?;
    for r in &w.changed_reservations {
        stmt.execute(params![r.id, r.status, r.allocations])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO source_events (source, source_event_id, occurred_at, recorded_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (source, id, at) in &w.source_events {
        stmt.execute(params![source, id, at, now])?;
    }
    super::orders::write_orders(conn, w, now)?;
    if !w.prices.is_empty() {
        let mut stmt = conn.prepare_cached(concat!(
            "INSERT INTO prices (channel, sku, currency, amount, source, set_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ",
            crate::prices::on_price_conflict!()
        ))?;
        for p in &w.prices {
            stmt.execute(params![
                p.channel, p.sku, p.currency, p.amount, p.source, now
            ])?;
        }
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO events (seq, type, sku, recorded_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, (kind, sku, data)) in w.events.iter().enumerate() {
        stmt.execute(params![first_seq + i as i64, kind, sku, now, data])?;
    }
    Ok(())
}

/// Events after `after`, oldest first.
pub(super) fn events_after(
    conn: &Connection,
    after: i64,
    limit: i64,
    types: Option<&[String]>,
) -> Result<Vec<crate::EventRecord>> {
    let mut out = Vec::new();
    let mut push = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
        let data: String = r.get(4)?;
        out.push(crate::EventRecord {
            seq: r.get(0)?,
            kind: r.get(1)?,
            sku: r.get(2)?,
            occurred_at: crossdock_domain::Timestamp(r.get(3)?),
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
        });
        Ok(())
    };
    const COLS: &str = "seq, type, sku, recorded_at, data";
    match types {
        None => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            let mut rows = stmt.query(params![after, limit])?;
            while let Some(r) = rows.next()? {
                push(r)?;
            }
        }
        Some(types) => {
            let json = serde_json::to_string(types).expect("strings serialise");
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM events WHERE seq > ?1 AND seq - ?1 <= ?4
                 AND type IN (SELECT value FROM json_each(?3)) ORDER BY seq LIMIT ?2"
            ))?;
            let mut rows = stmt.query(params![after, limit, json, crate::TYPED_SCAN])?;
            while let Some(r) = rows.next()? {
                push(r)?;
            }
        }
    }
    Ok(out)
}
