//! PostgreSQL reads: locks, the SKUs' state, reservations, seen events and the event log.
//! Every read binds arrays, so a batch costs the same few round trips whatever its size;
//! the writes are in `write.rs`.

use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

use crossdock_domain::ledger::Reservation;
use crossdock_domain::{Sku, SkuState, Timestamp};
// Dynamic SQL here is only ever built from the constants in this file.
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

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

/// The statement reading SKUs' state, built once: items, stock, channel totals and expected
/// receipts, each row tagged with its table, for the SKUs in `$1` (or, with `$1` null, all).
fn states_sql(by_sku: bool) -> String {
    // Each wanted SKU looked up by index on its own (the `OFFSET 0` keeps the planner from
    // turning the lookups into a join): on tables of a few thousand rows a generic plan
    // would otherwise hash-join against a full scan of each table, ten times slower.
    let from = |table: &str| match by_sku {
        true => format!(
            "unnest($1::text[]) AS wanted(key),
             LATERAL (SELECT * FROM {table} WHERE sku = wanted.key OFFSET 0) AS found"
        ),
        false => format!("{table} WHERE $1::text[] IS NULL"),
    };
    let (from_items, from_stock, from_channels, from_expected) = (
        from("items"),
        from("stock"),
        from("channel_reserved"),
        from("expected_receipts"),
    );
    format!(
        "SELECT 0, sku, NULL, NULL, NULL::int8, NULL::int8, NULL::int8, NULL::int8, NULL::int8,
                NULL::int8, NULL::int8, NULL::int8, NULL::int8
         FROM {from_items}
         UNION ALL
         SELECT 1, sku, location, NULL, on_hand, picking, transfer_out, inspection, reserved,
                on_hand_snapshot_at, picking_snapshot_at, transfer_out_snapshot_at,
                inspection_snapshot_at
         FROM {from_stock}
         UNION ALL
         SELECT 2, sku, channel, NULL, qty, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM {from_channels}
         UNION ALL
         SELECT 3, sku, location, po_ref, qty, eta, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM {from_expected}"
    )
}

static STATES_OF_SKUS: LazyLock<String> = LazyLock::new(|| states_sql(true));
static STATES_OF_ALL: LazyLock<String> = LazyLock::new(|| states_sql(false));

/// The state of the given SKUs (or of all), for those the item master knows: items, stock,
/// channel totals and expected receipts in one statement (one round trip), each row tagged
/// with the table it came from.
pub(super) async fn load_states(
    conn: &mut PgConnection,
    skus: Option<&BTreeSet<Sku>>,
) -> Result<Vec<SkuState>> {
    let names: Option<Vec<String>> = skus.map(|s| s.iter().map(|k| k.to_string()).collect());
    if names.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    type Tagged = (
        i32,
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let sql = if names.is_some() {
        &STATES_OF_SKUS
    } else {
        &STATES_OF_ALL
    };
    let rows: Vec<Tagged> = sqlx::query_as(sql.as_str())
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?;
    let (mut items, mut stock, mut chans, mut expected) = (vec![], vec![], vec![], vec![]);
    let missing = |what: &str| crate::StoreError::Corrupt(format!("{what} is null"));
    for (table, sku, a, b, n0, n1, n2, n3, n4, s0, s1, s2, s3) in rows {
        match table {
            0 => items.push(sku),
            1 => stock.push(StockRow {
                sku,
                location: a.ok_or_else(|| missing("stock.location"))?,
                buckets: [n0, n1, n2, n3, n4].map(|n| n.unwrap_or(0)),
                snapshot_at: [s0, s1, s2, s3],
            }),
            2 => chans.push((
                sku,
                a.ok_or_else(|| missing("channel_reserved.channel"))?,
                n0.unwrap_or(0),
            )),
            _ => expected.push(ExpectedRow {
                sku,
                location: a.ok_or_else(|| missing("expected_receipts.location"))?,
                po_ref: b.ok_or_else(|| missing("expected_receipts.po_ref"))?,
                qty: n0.unwrap_or(0),
                eta: n1.unwrap_or(0),
            }),
        }
    }
    assemble(items, stock, chans, expected)
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
