//! PostgreSQL statements. Every read and write binds arrays, so a batch costs the same few
//! round trips whatever its size.

use std::collections::{BTreeSet, HashSet};

use crossdock_domain::ledger::Reservation;
use crossdock_domain::{Sku, SkuState, Timestamp};
// Dynamic SQL here is only ever built from the constants in this file.
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::batch::WriteSet;
use crate::rows::{ExpectedRow, ReservationRow, StockRow, assemble};
use crate::{EventRecord, Result};

const RES_COLS: &str =
    "id, sku, channel, order_ref, qty, created_at, expires_at, status, allocations";

type ResTuple = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    String,
    String,
);

fn reservation(t: ResTuple) -> Result<Reservation> {
    let (id, sku, channel, order_ref, qty, created_at, expires_at, status, allocations) = t;
    ReservationRow {
        id,
        sku,
        channel,
        order_ref,
        qty,
        created_at,
        expires_at,
        status,
        allocations,
    }
    .into_domain()
}

/// A stable 64-bit advisory lock key (FNV-1a), the same in every instance.
pub(super) fn lock_key(namespace: &str, name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in namespace.bytes().chain([0]).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

/// Holds still, until the transaction ends, every SKU a batch touches and every order key
/// (natural and idempotency) it takes in. Keys are locked in ascending order so two batches
/// never wait on each other in a cycle.
pub(super) async fn lock(conn: &mut PgConnection, needs: &crate::needs::Needs) -> Result<()> {
    let skus = needs.skus.iter().map(|s| lock_key("sku", s.as_str()));
    let orders = needs
        .order_keys
        .iter()
        .map(|(c, e)| lock_key("order", &format!("{c}\u{0}{e}")));
    let idem = needs
        .idempotency_keys
        .iter()
        .map(|k| lock_key("idempotency", k));
    let mut keys: Vec<i64> = skus.chain(orders).chain(idem).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    // Volatile functions in the select list run after the ORDER BY, so locks follow the order.
    sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k ORDER BY k")
        .bind(&keys)
        .execute(conn)
        .await?;
    Ok(())
}

/// The state of the given SKUs (or of all), for those the item master knows.
pub(super) async fn load_states(
    conn: &mut PgConnection,
    skus: Option<&BTreeSet<Sku>>,
) -> Result<Vec<SkuState>> {
    let names: Option<Vec<String>> = skus.map(|s| s.iter().map(|k| k.to_string()).collect());
    if names.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let filter = if names.is_some() {
        "WHERE sku = ANY($1)"
    } else {
        "WHERE $1::text[] IS NULL"
    };
    let items: Vec<String> =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT sku FROM items {filter}")))
            .bind(&names)
            .fetch_all(&mut *conn)
            .await?;
    type StockTuple = (
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let stock: Vec<StockTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT sku, location, on_hand, picking, transfer_out, inspection, reserved,
                on_hand_snapshot_at, picking_snapshot_at, transfer_out_snapshot_at,
                inspection_snapshot_at
         FROM stock {filter}"
    )))
    .bind(&names)
    .fetch_all(&mut *conn)
    .await?;
    let chans: Vec<(String, String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT sku, channel, qty FROM channel_reserved {filter}"
    )))
    .bind(&names)
    .fetch_all(&mut *conn)
    .await?;
    let expected: Vec<(String, String, String, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT sku, location, po_ref, qty, eta FROM expected_receipts {filter}"
    )))
    .bind(&names)
    .fetch_all(&mut *conn)
    .await?;
    assemble(
        items,
        stock
            .into_iter()
            .map(|t| StockRow {
                sku: t.0,
                location: t.1,
                buckets: [t.2, t.3, t.4, t.5, t.6],
                snapshot_at: [t.7, t.8, t.9, t.10],
            })
            .collect(),
        chans,
        expected
            .into_iter()
            .map(|(sku, location, po_ref, qty, eta)| ExpectedRow {
                sku,
                location,
                po_ref,
                qty,
                eta,
            })
            .collect(),
    )
}

/// Reservations by id.
pub(super) async fn reservations_by_id(
    conn: &mut PgConnection,
    ids: &[String],
) -> Result<Vec<Reservation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ResTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {RES_COLS} FROM reservations WHERE id = ANY($1)"
    )))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(reservation).collect()
}

/// Active reservations of each order in `orders`.
pub(super) async fn reservations_of_orders(
    conn: &mut PgConnection,
    orders: &[String],
) -> Result<Vec<Reservation>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ResTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {RES_COLS} FROM reservations WHERE status = 'active' AND order_ref = ANY($1)"
    )))
    .bind(orders)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(reservation).collect()
}

/// Reservations for each (sku, order_ref) that hold or held units for picking: active ones,
/// and consumed ones whose picked units may still be waiting to ship.
pub(super) async fn reservations_by_order(
    conn: &mut PgConnection,
    keys: &BTreeSet<(Sku, String)>,
) -> Result<Vec<Reservation>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (skus, orders): (Vec<String>, Vec<String>) =
        keys.iter().map(|(s, o)| (s.to_string(), o.clone())).unzip();
    let rows: Vec<ResTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {RES_COLS} FROM reservations WHERE status IN ('active', 'consumed')
         AND (sku, order_ref) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
    )))
    .bind(&skus)
    .bind(&orders)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(reservation).collect()
}

/// Which of `keys` were recorded before.
pub(super) async fn seen_events(
    conn: &mut PgConnection,
    keys: &BTreeSet<(String, String)>,
) -> Result<HashSet<(String, String)>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let (sources, ids): (Vec<String>, Vec<String>) = keys.iter().cloned().unzip();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT source, source_event_id FROM source_events
         WHERE (source, source_event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
    )
    .bind(&sources)
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Writes a batch's rows and appends its events; returns their sequence numbers.
pub(super) async fn write(
    conn: &mut PgConnection,
    w: &WriteSet,
    now: i64,
) -> Result<Option<(i64, i64)>> {
    if !w.items.is_empty() {
        let (skus, descs): (Vec<String>, Vec<Option<String>>) = w.items.iter().cloned().unzip();
        sqlx::query(
            "INSERT INTO items (sku, description, created_at)
             SELECT s, d, $3 FROM unnest($1::text[], $2::text[]) AS t(s, d)
             ON CONFLICT (sku) DO NOTHING",
        )
        .bind(&skus)
        .bind(&descs)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    if !w.stock.is_empty() {
        let col = |i: usize| w.stock.iter().map(|r| r.buckets[i]).collect::<Vec<i64>>();
        let snap = |i: usize| w.stock.iter().map(|r| r.snapshot_at[i]).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO stock (sku, location, on_hand, picking, transfer_out, inspection,
                reserved, on_hand_snapshot_at, picking_snapshot_at, transfer_out_snapshot_at,
                inspection_snapshot_at, updated_at)
             SELECT *, $12 FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[],
                $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[],
                $11::int8[])
             ON CONFLICT (sku, location) DO UPDATE SET
               on_hand = excluded.on_hand, picking = excluded.picking,
               transfer_out = excluded.transfer_out, inspection = excluded.inspection,
               reserved = excluded.reserved, on_hand_snapshot_at = excluded.on_hand_snapshot_at,
               picking_snapshot_at = excluded.picking_snapshot_at,
               transfer_out_snapshot_at = excluded.transfer_out_snapshot_at,
               inspection_snapshot_at = excluded.inspection_snapshot_at,
               updated_at = excluded.updated_at",
        )
        .bind(w.stock.iter().map(|r| r.sku.clone()).collect::<Vec<_>>())
        .bind(
            w.stock
                .iter()
                .map(|r| r.location.clone())
                .collect::<Vec<_>>(),
        )
        .bind(col(0))
        .bind(col(1))
        .bind(col(2))
        .bind(col(3))
        .bind(col(4))
        .bind(snap(0))
        .bind(snap(1))
        .bind(snap(2))
        .bind(snap(3))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    if !w.channel_reserved.is_empty() {
        sqlx::query(
            "INSERT INTO channel_reserved (sku, channel, qty)
             SELECT * FROM unnest($1::text[], $2::text[], $3::int8[])
             ON CONFLICT (sku, channel) DO UPDATE SET qty = excluded.qty",
        )
        .bind(
            w.channel_reserved
                .iter()
                .map(|r| r.0.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            w.channel_reserved
                .iter()
                .map(|r| r.1.clone())
                .collect::<Vec<_>>(),
        )
        .bind(w.channel_reserved.iter().map(|r| r.2).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !w.expected_upsert.is_empty() {
        let e = &w.expected_upsert;
        sqlx::query(
            "INSERT INTO expected_receipts (sku, location, po_ref, qty, eta)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[])
             ON CONFLICT (sku, location, po_ref) DO UPDATE SET qty = excluded.qty,
               eta = excluded.eta",
        )
        .bind(e.iter().map(|r| r.sku.clone()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.location.clone()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.po_ref.clone()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.qty).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.eta).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !w.expected_delete.is_empty() {
        let d = &w.expected_delete;
        sqlx::query(
            "DELETE FROM expected_receipts WHERE (sku, location, po_ref) IN
             (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))",
        )
        .bind(d.iter().map(|r| r.0.clone()).collect::<Vec<_>>())
        .bind(d.iter().map(|r| r.1.clone()).collect::<Vec<_>>())
        .bind(d.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !w.new_reservations.is_empty() {
        let r = &w.new_reservations;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO reservations ({RES_COLS})
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[],
                $6::int8[], $7::int8[], $8::text[], $9::text[])"
        )))
        .bind(r.iter().map(|x| x.id.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.sku.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.channel.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.order_ref.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.qty).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.created_at).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.expires_at).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.status.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.allocations.clone()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !w.changed_reservations.is_empty() {
        let r = &w.changed_reservations;
        sqlx::query(
            "UPDATE reservations r SET status = u.status, allocations = u.allocations
             FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, status, allocations)
             WHERE r.id = u.id",
        )
        .bind(r.iter().map(|x| x.id.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.status.clone()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.allocations.clone()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !w.source_events.is_empty() {
        let s = &w.source_events;
        sqlx::query(
            "INSERT INTO source_events (source, source_event_id, occurred_at, recorded_at)
             SELECT *, $4 FROM unnest($1::text[], $2::text[], $3::int8[])",
        )
        .bind(s.iter().map(|x| x.0.clone()).collect::<Vec<_>>())
        .bind(s.iter().map(|x| x.1.clone()).collect::<Vec<_>>())
        .bind(s.iter().map(|x| x.2).collect::<Vec<_>>())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    super::orders::write_orders(&mut *conn, w, now).await?;
    if w.events.is_empty() {
        return Ok(None);
    }
    let n = w.events.len() as i64;
    let last: i64 =
        sqlx::query_scalar("UPDATE event_seq SET last = last + $1 WHERE id = 1 RETURNING last")
            .bind(n)
            .fetch_one(&mut *conn)
            .await?;
    let first = last - n + 1;
    sqlx::query(
        "INSERT INTO events (seq, type, sku, recorded_at, data)
         SELECT s, t, k, $4, d::jsonb FROM unnest($1::int8[], $2::text[], $3::text[], $5::text[])
           AS u(s, t, k, d)",
    )
    .bind((first..=last).collect::<Vec<i64>>())
    .bind(w.events.iter().map(|e| e.0).collect::<Vec<_>>())
    .bind(w.events.iter().map(|e| e.1.as_deref()).collect::<Vec<_>>())
    .bind(now)
    .bind(w.events.iter().map(|e| &*e.2).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(Some((first, last)))
}

type EventTuple = (
    i64,
    String,
    Option<String>,
    i64,
    sqlx::types::Json<serde_json::Value>,
);

/// Events after `after`, oldest first.
pub(super) async fn events_after(
    pool: &PgPool,
    after: i64,
    limit: i64,
    types: Option<Vec<String>>,
) -> Result<Vec<EventRecord>> {
    let rows: Vec<EventTuple> = sqlx::query_as(
        "SELECT seq, type, sku, recorded_at, data FROM events
             WHERE seq > $1 AND ($3::text[] IS NULL OR (type = ANY($3) AND seq - $1 <= $4))
             ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .bind(&types)
    .bind(crate::TYPED_SCAN)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, kind, sku, at, data)| EventRecord {
            seq,
            kind,
            sku,
            occurred_at: Timestamp(at),
            data: data.0,
        })
        .collect())
}
