//! PostgreSQL statements for orders: earlier intakes (for idempotency), new orders with their
//! history, idempotency keys and jobs, state moves, and reads.

use std::collections::BTreeSet;

use crossdock_domain::ledger::{LinePlan, PriorIntake, Priors};
use crossdock_domain::order::CanonicalOrder;
use crossdock_domain::{OrderId, Timestamp};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};

use crate::Result;
use crate::batch::WriteSet;
use crate::records::{self, InvoiceRow, ReturnRow, ShipmentRow};

/// Earlier intakes with the natural keys or idempotency keys a batch's orders use.
pub(super) async fn priors(conn: &mut PgConnection, needs: &crate::needs::Needs) -> Result<Priors> {
    type Row = (String, String, String, String);
    let mut priors = Priors::default();
    if !needs.order_keys.is_empty() {
        let (channels, ids): (Vec<String>, Vec<String>) = needs.order_keys.iter().cloned().unzip();
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT channel, external_id, id, request_hash, COALESCE(answer, response::text)
             FROM orders
                 WHERE (channel, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        )
        .bind(&channels)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        for (channel, external_id, order_id, request_hash, response) in rows {
            priors.by_external_id.insert(
                (channel, external_id),
                PriorIntake {
                    order_id: OrderId::parse(order_id)?,
                    request_hash,
                    response: response.into(),
                },
            );
        }
    }
    if !needs.idempotency_keys.is_empty() {
        let keys: Vec<String> = needs.idempotency_keys.iter().cloned().collect();
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT key, order_id, request_hash, COALESCE(answer, response::text)
             FROM idempotency_keys
             WHERE key = ANY($1)",
        )
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
        for (key, order_id, request_hash, response) in rows {
            priors.by_key.insert(
                key,
                PriorIntake {
                    order_id: OrderId::parse(order_id)?,
                    request_hash,
                    response: response.into(),
                },
            );
        }
    }
    Ok(priors)
}

/// Writes what moves change in orders already stored (state, lines). New orders are written
/// after these, with the rows every batch writes.
pub(super) async fn write_moves(conn: &mut PgConnection, w: &WriteSet, now: i64) -> Result<()> {
    if !w.order_updates.is_empty() {
        let u = &w.order_updates;
        sqlx::query(
            "UPDATE orders o SET state = u.s, erp_order_id = COALESCE(u.e, o.erp_order_id),
                erp_status = COALESCE(u.es, o.erp_status), updated_at = u.t
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[])
                AS u(i, s, e, es, t)
             WHERE o.id = u.i",
        )
        .bind(u.iter().map(|x| x.id.as_str()).collect::<Vec<_>>())
        .bind(u.iter().map(|x| x.state).collect::<Vec<_>>())
        .bind(
            u.iter()
                .map(|x| x.erp_order_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            u.iter()
                .map(|x| x.erp_status.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(u.iter().map(|x| x.at).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !w.order_lines.is_empty() {
        let l = &w.order_lines;
        sqlx::query(
            "UPDATE orders o SET lines = u.l::jsonb, reason = u.r, waiting = u.w, parts = u.p,
                updated_at = $6
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[])
                AS u(i, l, r, w, p) WHERE o.id = u.i",
        )
        .bind(l.iter().map(|x| x.order_id.as_str()).collect::<Vec<_>>())
        .bind(l.iter().map(|x| &*x.lines).collect::<Vec<_>>())
        .bind(l.iter().map(|x| x.reason.as_str()).collect::<Vec<_>>())
        .bind(l.iter().map(|x| x.waiting).collect::<Vec<_>>())
        .bind(l.iter().map(|x| i64::from(x.parts)).collect::<Vec<_>>())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Writes shipments, invoices, and jobs a move ended as failed (with their exceptions),
/// after the batch's new jobs: a job may be made and failed in one batch.
pub(super) async fn write_fulfilment(
    conn: &mut PgConnection,
    w: &WriteSet,
    now: i64,
) -> Result<()> {
    for s in &w.shipments {
        sqlx::query(
            "INSERT INTO shipments (id, order_id, source, source_event_id, location, carrier,
                tracking_number, capture_micros, shipped_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&s.id)
        .bind(s.order_id.as_str())
        .bind(&s.source)
        .bind(&s.source_event_id)
        .bind(s.location.as_str())
        .bind(&s.carrier)
        .bind(&s.tracking_number)
        .bind(s.capture.micros())
        .bind(s.shipped_at.0)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO shipment_lines (shipment_id, order_id, sku, qty)
             SELECT $1, $2, k, q FROM unnest($3::text[], $4::int8[]) AS u(k, q)",
        )
        .bind(&s.id)
        .bind(s.order_id.as_str())
        .bind(s.lines.iter().map(|l| l.0.to_string()).collect::<Vec<_>>())
        .bind(s.lines.iter().map(|l| l.1).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    for i in &w.invoices {
        sqlx::query(
            "INSERT INTO invoices (invoice_id, order_id, amount, currency, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&i.invoice_id)
        .bind(i.order_id.as_str())
        .bind(i.amount.to_string())
        .bind(&i.currency)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    for r in &w.returns {
        sqlx::query(
            "INSERT INTO returns (id, order_id, reason, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&r.id)
        .bind(r.order_id.as_str())
        .bind(&r.reason)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO return_lines (rma_id, order_id, sku, qty, received)
             SELECT $1, $2, k, q, 0 FROM unnest($3::text[], $4::int8[]) AS u(k, q)",
        )
        .bind(&r.id)
        .bind(r.order_id.as_str())
        .bind(r.lines.iter().map(|l| l.0.to_string()).collect::<Vec<_>>())
        .bind(r.lines.iter().map(|l| l.1).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    for l in &w.return_receipts {
        sqlx::query("UPDATE return_lines SET received = $3 WHERE rma_id = $1 AND sku = $2")
            .bind(&l.rma_id)
            .bind(l.sku.as_str())
            .bind(l.received)
            .execute(&mut *conn)
            .await?;
    }
    for (order_id, code) in &w.outgrown {
        sqlx::query(crate::jobs::RESOLVE_OUTGROWN)
            .bind(order_id)
            .bind(*code)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    for (job_id, code, error, remediation) in &w.failed_jobs {
        sqlx::query(crate::jobs::FAIL_JOB)
            .bind(job_id)
            .bind(error)
            .execute(&mut *conn)
            .await?;
        sqlx::query(crate::jobs::OPEN_EXCEPTION)
            .bind(job_id)
            .bind(code)
            .bind(error)
            .bind(*remediation)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

type OrderTuple = (
    String,
    String,
    String,
    String,
    String,
    Json<CanonicalOrder>,
    Json<Vec<LinePlan>>,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

fn stored_order(t: OrderTuple) -> Result<crate::StoredOrder> {
    Ok(crate::StoredOrder {
        id: crossdock_domain::OrderId::parse(t.0)?,
        channel: t.1,
        external_id: t.2,
        state: records::state(&t.3)?,
        reason: t.4,
        order: t.5.0,
        lines: t.6.0,
        erp_order_id: t.9,
        erp_status: t.10,
        history: Vec::new(),
        shipments: Vec::new(),
        invoices: Vec::new(),
        returns: Vec::new(),
        created_at: Timestamp(t.7),
        updated_at: Timestamp(t.8),
    })
}

/// An order with its history.
pub(super) async fn order(pool: &PgPool, id: &str) -> Result<Option<crate::StoredOrder>> {
    let row: Option<OrderTuple> = sqlx::query_as(
        "SELECT id, channel, external_id, state, reason, body, lines, created_at, updated_at,
            erp_order_id, erp_status FROM orders WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(mut order) = row.map(stored_order).transpose()? else {
        return Ok(None);
    };
    let history: Vec<(Option<String>, String, i64, String, String)> = sqlx::query_as(
        "SELECT from_state, to_state, at, actor, correlation_id FROM order_history
         WHERE order_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    order.history = history
        .into_iter()
        .map(|(from, to, at, actor, correlation_id)| {
            Ok(crate::Transition {
                from: from.as_deref().map(records::state).transpose()?,
                to: records::state(&to)?,
                at: Timestamp(at),
                actor,
                correlation_id,
            })
        })
        .collect::<Result<_>>()?;
    let shipments: Vec<Json<ShipmentRow>> = sqlx::query_scalar(
        "SELECT jsonb_build_object('id', s.id, 'source', s.source, 'source_event_id',
            s.source_event_id, 'location', s.location, 'carrier', s.carrier, 'tracking_number',
            s.tracking_number, 'capture_micros', s.capture_micros, 'shipped_at', s.shipped_at,
            'lines', (SELECT COALESCE(jsonb_agg(jsonb_build_object('sku', l.sku, 'qty', l.qty)
                ORDER BY l.sku), '[]'::jsonb) FROM shipment_lines l WHERE l.shipment_id = s.id))
         FROM shipments s WHERE s.order_id = $1 ORDER BY s.shipped_at, s.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    order.shipments = shipments.into_iter().map(|j| j.0.into()).collect();
    let invoices: Vec<Json<InvoiceRow>> = sqlx::query_scalar(
        "SELECT jsonb_build_object('invoice_id', invoice_id, 'amount', amount, 'currency',
            currency, 'received_at', created_at) FROM invoices WHERE order_id = $1
         ORDER BY created_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    order.invoices = invoices.into_iter().map(|j| j.0.into()).collect();
    let returns: Vec<Json<ReturnRow>> = sqlx::query_scalar(
        "SELECT jsonb_build_object('rma_id', id, 'reason', reason, 'opened_at', created_at,
            'lines', (SELECT COALESCE(jsonb_agg(jsonb_build_object('sku', l.sku, 'qty', l.qty,
                'received', l.received) ORDER BY l.sku), '[]'::jsonb)
                FROM return_lines l WHERE l.rma_id = r.id))
         FROM returns r WHERE order_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    order.returns = returns.into_iter().map(|j| j.0.into()).collect();
    Ok(Some(order))
}

/// Orders matching a filter, newest first.
pub(super) async fn orders(
    pool: &PgPool,
    f: &crate::OrderFilter,
) -> Result<Vec<crate::StoredOrder>> {
    let (past, order) = if f.oldest_first {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let waiting = crate::waiting_clause(f);
    let rows: Vec<OrderTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, channel, external_id, state, reason, body, lines, created_at, updated_at,
            erp_order_id, erp_status
         FROM orders
         WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR channel = $2)
           AND ($3::int8 IS NULL OR created_at >= $3) AND ($5::text IS NULL OR external_id = $5)
           AND ($6::text IS NULL OR (created_at, id) {past} (SELECT created_at, id FROM orders
                WHERE id = $6))
           {waiting}
         ORDER BY created_at {order}, id {order} LIMIT $4"
    )))
    .bind(&f.state)
    .bind(&f.channel)
    .bind(f.since.map(|t| t.0))
    .bind(f.limit)
    .bind(&f.external_id)
    .bind(&f.after)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(stored_order).collect()
}

/// The current state, number of transitions and detail of each order in `ids`.
pub(super) async fn orders_now(
    conn: &mut PgConnection,
    ids: &BTreeSet<String>,
) -> Result<std::collections::HashMap<OrderId, crossdock_domain::ledger::OrderNow>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    type Json = sqlx::types::Json<serde_json::Value>;
    let ids: Vec<String> = ids.iter().cloned().collect();
    let rows = sqlx::query(
        "SELECT o.id, o.state, (SELECT COUNT(*) FROM order_history h WHERE h.order_id = o.id),
            o.body,
            (SELECT COALESCE(jsonb_object_agg(sku, n), '{}'::jsonb) FROM (SELECT sku,
                SUM(qty)::int8 AS n FROM shipment_lines l WHERE l.order_id = o.id
                GROUP BY sku) x),
            (SELECT COALESCE(SUM(capture_micros), 0)::int8 FROM shipments s
                WHERE s.order_id = o.id),
            (SELECT MAX(shipped_at) FROM shipments s WHERE s.order_id = o.id),
            (SELECT COALESCE(jsonb_agg(jsonb_build_object('rma_id', rma_id, 'sku', sku,
                'qty', qty, 'received', received)), '[]'::jsonb)
                FROM return_lines r WHERE r.order_id = o.id),
            o.erp_order_id,
            (SELECT COALESCE(jsonb_agg(jsonb_build_object('invoice_id', invoice_id,
                'amount', amount, 'currency', currency)), '[]'::jsonb) FROM invoices i
                WHERE i.order_id = o.id),
            o.parts::int8, CASE WHEN o.waiting > 0 THEN o.lines END,
            CASE WHEN o.waiting > 0 THEN o.reason END
         FROM orders o WHERE o.id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    let mut out = std::collections::HashMap::new();
    for r in rows {
        let json = |i: usize| r.try_get::<Json, _>(i).map(|j| j.0);
        let row = crate::batch::OrderRowNow {
            state: r.try_get(1)?,
            transitions: r.try_get(2)?,
            body: json(3)?,
            shipped: json(4)?,
            captured: r.try_get(5)?,
            last_shipped_at: r.try_get(6)?,
            returns: json(7)?,
            erp_order_id: r.try_get(8)?,
            invoiced: json(9)?,
            parts: r.try_get(10)?,
            routing: match r.try_get::<Option<Json>, _>(11)? {
                Some(lines) => Some((lines.0, r.try_get(12)?)),
                None => None,
            },
        };
        out.insert(
            OrderId::parse(r.try_get::<String, _>(0)?)?,
            crate::batch::order_now(row)?,
        );
    }
    Ok(out)
}
