//! A batch's writes on PostgreSQL. Every statement binds arrays, so a batch costs the same
//! few round trips whatever its size, and the rows nearly every batch writes (stock, channel
//! totals, reservations, orders with their history, keys and jobs) go in one statement of
//! data-modifying `WITH` parts, each a table of its own: one round trip instead of seven.
//! The event sequence is taken last, with the events in a statement of their own, so the
//! counter row is held only from there to the commit.

use sqlx::PgConnection;

use crate::Result;
use crate::batch::WriteSet;

/// Writes a batch's rows and appends its events; returns their sequence numbers.
pub(super) async fn write(
    conn: &mut PgConnection,
    w: &WriteSet,
    now: i64,
) -> Result<Option<(i64, i64)>> {
    write_rare(conn, w, now).await?;
    super::orders::write_moves(conn, w, now).await?;
    write_rows(conn, w, now).await?;
    super::orders::write_fulfilment(conn, w, now).await?;
    write_prices(conn, w, now).await?;
    append_events(conn, w, now).await
}

/// Items, expected receipts, changed reservations and source events: written by stock
/// events and releases, not by intake.
async fn write_rare(conn: &mut PgConnection, w: &WriteSet, now: i64) -> Result<()> {
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
    if !w.expected_upsert.is_empty() {
        let e = &w.expected_upsert;
        sqlx::query(
            "INSERT INTO expected_receipts (sku, location, po_ref, qty, eta)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[])
             ON CONFLICT (sku, location, po_ref) DO UPDATE SET qty = excluded.qty,
               eta = excluded.eta",
        )
        .bind(e.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.location.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|r| r.po_ref.as_str()).collect::<Vec<_>>())
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
        .bind(d.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
        .bind(d.iter().map(|r| r.1.as_str()).collect::<Vec<_>>())
        .bind(d.iter().map(|r| r.2.as_str()).collect::<Vec<_>>())
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
        .bind(r.iter().map(|x| x.id.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.status.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.allocations.as_str()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !w.source_events.is_empty() {
        let s = &w.source_events;
        sqlx::query(
            "INSERT INTO source_events (source, source_event_id, occurred_at, recorded_at)
             SELECT *, $4 FROM unnest($1::text[], $2::text[], $3::int8[])",
        )
        .bind(s.iter().map(|x| x.0.as_str()).collect::<Vec<_>>())
        .bind(s.iter().map(|x| x.1.as_str()).collect::<Vec<_>>())
        .bind(s.iter().map(|x| x.2).collect::<Vec<_>>())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The rows nearly every batch writes, in one statement. Each part writes a table no other
/// part touches (the parts of one statement do not see each other's rows); what updates a
/// stored order is written before, and what fails a job (perhaps one made here) after.
const WRITE_ROWS: &str = "WITH
  stock_rows AS (
    INSERT INTO stock (sku, location, on_hand, picking, transfer_out, inspection, reserved,
        on_hand_snapshot_at, picking_snapshot_at, transfer_out_snapshot_at,
        inspection_snapshot_at, updated_at)
    SELECT *, $1 FROM unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[],
        $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[])
    ON CONFLICT (sku, location) DO UPDATE SET
      on_hand = excluded.on_hand, picking = excluded.picking,
      transfer_out = excluded.transfer_out, inspection = excluded.inspection,
      reserved = excluded.reserved, on_hand_snapshot_at = excluded.on_hand_snapshot_at,
      picking_snapshot_at = excluded.picking_snapshot_at,
      transfer_out_snapshot_at = excluded.transfer_out_snapshot_at,
      inspection_snapshot_at = excluded.inspection_snapshot_at,
      updated_at = excluded.updated_at),
  channel_rows AS (
    INSERT INTO channel_reserved (sku, channel, qty)
    SELECT * FROM unnest($13::text[], $14::text[], $15::int8[])
    ON CONFLICT (sku, channel) DO UPDATE SET qty = excluded.qty),
  reservation_rows AS (
    INSERT INTO reservations (id, sku, channel, order_ref, qty, created_at, expires_at, status,
        allocations)
    SELECT * FROM unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::int8[],
        $21::int8[], $22::int8[], $23::text[], $24::text[])),
  order_rows AS (
    INSERT INTO orders (id, channel, external_id, state, business_unit, customer_id, body,
        lines, reason, request_hash, answer, correlation_id, created_at, updated_at,
        waiting)
    SELECT i, c, e, s, b, cu, bo::jsonb, l::jsonb, r, h, re, co, t, t, w
    FROM unnest($25::text[], $26::text[], $27::text[], $28::text[], $29::text[],
        $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::text[],
        $36::text[], $37::int8[], $38::int4[]) AS u(i, c, e, s, b, cu, bo, l, r, h, re, co, t, w)),
  history_rows AS (
    INSERT INTO order_history (order_id, seq, from_state, to_state, at, actor, correlation_id)
    SELECT * FROM unnest($39::text[], $40::int8[], $41::text[], $42::text[], $43::int8[],
        $44::text[], $45::text[])),
  key_rows AS (
    INSERT INTO idempotency_keys (key, order_id, request_hash, answer, created_at)
    SELECT k, o, h, r, $1 FROM unnest($46::text[], $47::text[], $48::text[],
        $49::text[]) AS u(k, o, h, r)),
  job_rows AS (
    INSERT INTO jobs (id, kind, system, order_id, state, attempts, run_at, created_at, payload,
        correlation_id)
    SELECT i, k, s, o, 'ready', 0, t, c, p::jsonb,
        COALESCE((SELECT j.correlation_id FROM jobs j WHERE j.id = co), co)
    FROM unnest($50::text[], $51::text[], $52::text[], $53::text[], $54::int8[], $55::text[],
        $56::int8[], $57::text[]) AS u(i, k, s, o, t, p, c, co)
    ON CONFLICT (id) DO NOTHING)
SELECT 1";

async fn write_rows(conn: &mut PgConnection, w: &WriteSet, now: i64) -> Result<()> {
    let nothing = w.stock.is_empty()
        && w.channel_reserved.is_empty()
        && w.new_reservations.is_empty()
        && w.orders.is_empty()
        && w.history.is_empty()
        && w.idempotency.is_empty()
        && w.jobs.is_empty();
    if nothing {
        return Ok(());
    }
    let (st, ch, re, o, h, k, j) = (
        &w.stock,
        &w.channel_reserved,
        &w.new_reservations,
        &w.orders,
        &w.history,
        &w.idempotency,
        &w.jobs,
    );
    let bucket = |i: usize| st.iter().map(|r| r.buckets[i]).collect::<Vec<i64>>();
    let snap = |i: usize| st.iter().map(|r| r.snapshot_at[i]).collect::<Vec<_>>();
    sqlx::query(WRITE_ROWS)
        .bind(now)
        // stock
        .bind(st.iter().map(|r| r.sku.as_str()).collect::<Vec<_>>())
        .bind(st.iter().map(|r| r.location.as_str()).collect::<Vec<_>>())
        .bind(bucket(0))
        .bind(bucket(1))
        .bind(bucket(2))
        .bind(bucket(3))
        .bind(bucket(4))
        .bind(snap(0))
        .bind(snap(1))
        .bind(snap(2))
        .bind(snap(3))
        // channel totals
        .bind(ch.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
        .bind(ch.iter().map(|r| r.1.as_str()).collect::<Vec<_>>())
        .bind(ch.iter().map(|r| r.2).collect::<Vec<_>>())
        // reservations
        .bind(re.iter().map(|x| x.id.as_str()).collect::<Vec<_>>())
        .bind(re.iter().map(|x| x.sku.as_str()).collect::<Vec<_>>())
        .bind(re.iter().map(|x| x.channel.as_str()).collect::<Vec<_>>())
        .bind(re.iter().map(|x| x.order_ref.as_str()).collect::<Vec<_>>())
        .bind(re.iter().map(|x| x.qty).collect::<Vec<_>>())
        .bind(re.iter().map(|x| x.created_at).collect::<Vec<_>>())
        .bind(re.iter().map(|x| x.expires_at).collect::<Vec<_>>())
        .bind(re.iter().map(|x| x.status.as_str()).collect::<Vec<_>>())
        .bind(
            re.iter()
                .map(|x| x.allocations.as_str())
                .collect::<Vec<_>>(),
        )
        // orders
        .bind(o.iter().map(|x| x.id()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.channel()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.external_id()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.state()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.business_unit()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.customer_id()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.body.as_str()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.lines.as_str()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.reason()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.request_hash()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.response()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.correlation_id()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.created_at()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.new.waiting() as i32).collect::<Vec<_>>())
        // history
        .bind(h.iter().map(|x| x.order_id.as_str()).collect::<Vec<_>>())
        .bind(h.iter().map(|x| x.seq).collect::<Vec<_>>())
        .bind(h.iter().map(|x| x.from_state).collect::<Vec<_>>())
        .bind(h.iter().map(|x| x.to_state).collect::<Vec<_>>())
        .bind(h.iter().map(|x| x.at).collect::<Vec<_>>())
        .bind(h.iter().map(|x| x.actor.as_str()).collect::<Vec<_>>())
        .bind(
            h.iter()
                .map(|x| x.correlation_id.as_str())
                .collect::<Vec<_>>(),
        )
        // idempotency keys
        .bind(k.iter().map(|x| x.0.as_str()).collect::<Vec<_>>())
        .bind(k.iter().map(|x| x.1.as_str()).collect::<Vec<_>>())
        .bind(k.iter().map(|x| x.2.as_str()).collect::<Vec<_>>())
        .bind(k.iter().map(|x| &*x.3).collect::<Vec<_>>())
        // jobs
        .bind(j.iter().map(|x| x.id.as_str()).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.kind).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.system).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.order_id.as_str()).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.run_at).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.payload.as_deref()).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.created_at).collect::<Vec<_>>())
        .bind(
            j.iter()
                .map(|x| x.correlation_id.as_str())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Prices the owner of pricing set.
async fn write_prices(conn: &mut PgConnection, w: &WriteSet, now: i64) -> Result<()> {
    if w.prices.is_empty() {
        return Ok(());
    }
    let p = &w.prices;
    sqlx::query(concat!(
        "INSERT INTO prices (channel, sku, currency, amount, source, set_at)
         SELECT c, s, cu, a, so, $6
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
           AS t(c, s, cu, a, so) ",
        crate::prices::on_price_conflict!()
    ))
    .bind(p.iter().map(|x| x.channel.as_str()).collect::<Vec<_>>())
    .bind(p.iter().map(|x| x.sku.as_str()).collect::<Vec<_>>())
    .bind(p.iter().map(|x| x.currency.as_str()).collect::<Vec<_>>())
    .bind(p.iter().map(|x| x.amount.as_str()).collect::<Vec<_>>())
    .bind(p.iter().map(|x| x.source.as_str()).collect::<Vec<_>>())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes the next sequence numbers from the counter row (held until the commit, so the log
/// stays gap-free and becomes visible in order) and appends the batch's events.
async fn append_events(
    conn: &mut PgConnection,
    w: &WriteSet,
    now: i64,
) -> Result<Option<(i64, i64)>> {
    if w.events.is_empty() {
        return Ok(None);
    }
    let n = w.events.len() as i64;
    let last: i64 = sqlx::query_scalar(
        "WITH next AS (UPDATE event_seq SET last = last + $1 WHERE id = 1 RETURNING last),
           appended AS (
             INSERT INTO events (seq, type, sku, recorded_at, data)
             SELECT next.last - $1 + u.n, u.t, u.k, $2, u.d::jsonb
             FROM next, unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY
               AS u(t, k, d, n))
         SELECT last FROM next",
    )
    .bind(n)
    .bind(now)
    .bind(w.events.iter().map(|e| e.0).collect::<Vec<_>>())
    .bind(w.events.iter().map(|e| e.1.as_deref()).collect::<Vec<_>>())
    .bind(w.events.iter().map(|e| &*e.2).collect::<Vec<_>>())
    .fetch_one(&mut *conn)
    .await?;
    let first = last - n + 1;
    Ok(Some((first, last)))
}
