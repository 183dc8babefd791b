//! PostgreSQL statements for orders: earlier intakes (for idempotency), new orders with their
//! history, idempotency keys and jobs, state moves, and reads.

use std::collections::BTreeSet;

use crossdock_domain::Timestamp;
use crossdock_domain::ledger::{PriorIntake, Priors};
use sqlx::{PgConnection, PgPool};

use crate::Result;
use crate::batch::WriteSet;

/// Earlier intakes with the natural keys or idempotency keys a batch's orders use.
pub(super) async fn priors(conn: &mut PgConnection, needs: &crate::needs::Needs) -> Result<Priors> {
    type Row = (String, String, String, sqlx::types::Json<serde_json::Value>);
    let mut priors = Priors::default();
    if !needs.order_keys.is_empty() {
        let (channels, ids): (Vec<String>, Vec<String>) = needs.order_keys.iter().cloned().unzip();
        let rows: Vec<(
            String,
            String,
            String,
            String,
            sqlx::types::Json<serde_json::Value>,
        )> = sqlx::query_as(
            "SELECT channel, external_id, id, request_hash, response FROM orders
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
                    order_id,
                    request_hash,
                    response: response.0,
                },
            );
        }
    }
    if !needs.idempotency_keys.is_empty() {
        let keys: Vec<String> = needs.idempotency_keys.iter().cloned().collect();
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT key, order_id, request_hash, response FROM idempotency_keys WHERE key = ANY($1)",
        )
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
        for (key, order_id, request_hash, response) in rows {
            priors.by_key.insert(
                key,
                PriorIntake {
                    order_id,
                    request_hash,
                    response: response.0,
                },
            );
        }
    }
    Ok(priors)
}

/// Writes new orders, their history, idempotency keys and jobs.
pub(super) async fn write_orders(conn: &mut PgConnection, w: &WriteSet, now: i64) -> Result<()> {
    if !w.order_updates.is_empty() {
        let u = &w.order_updates;
        sqlx::query(
            "UPDATE orders o SET state = u.s, erp_order_id = COALESCE(u.e, o.erp_order_id),
                updated_at = u.t
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) AS u(i, s, e, t)
             WHERE o.id = u.i",
        )
        .bind(u.iter().map(|x| x.0.clone()).collect::<Vec<_>>())
        .bind(u.iter().map(|x| x.1.to_string()).collect::<Vec<_>>())
        .bind(u.iter().map(|x| x.2.clone()).collect::<Vec<_>>())
        .bind(u.iter().map(|x| x.3).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    let o = &w.orders;
    if !o.is_empty() {
        sqlx::query(
            "INSERT INTO orders (id, channel, external_id, state, business_unit, customer_id, body,
            lines, reason, request_hash, response, correlation_id, created_at, updated_at)
         SELECT i, c, e, s, b, cu, bo::jsonb, l::jsonb, r, h, re::jsonb, co, t, t
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
            $13::int8[]) AS u(i, c, e, s, b, cu, bo, l, r, h, re, co, t)",
        )
        .bind(o.iter().map(|x| x.id.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.channel.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.external_id.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.state.to_string()).collect::<Vec<_>>())
        .bind(
            o.iter()
                .map(|x| x.business_unit.clone())
                .collect::<Vec<_>>(),
        )
        .bind(o.iter().map(|x| x.customer_id.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.body.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.lines.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.reason.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.request_hash.clone()).collect::<Vec<_>>())
        .bind(o.iter().map(|x| x.response.clone()).collect::<Vec<_>>())
        .bind(
            o.iter()
                .map(|x| x.correlation_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(o.iter().map(|x| x.created_at).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    let h = &w.history;
    if !h.is_empty() {
        sqlx::query(
        "INSERT INTO order_history (order_id, seq, from_state, to_state, at, actor, correlation_id)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::int8[],
            $6::text[], $7::text[])",
    )
    .bind(h.iter().map(|x| x.order_id.clone()).collect::<Vec<_>>())
    .bind(h.iter().map(|x| x.seq).collect::<Vec<_>>())
    .bind(
        h.iter()
            .map(|x| x.from_state.map(str::to_string))
            .collect::<Vec<_>>(),
    )
    .bind(h.iter().map(|x| x.to_state.to_string()).collect::<Vec<_>>())
    .bind(h.iter().map(|x| x.at).collect::<Vec<_>>())
    .bind(h.iter().map(|x| x.actor.clone()).collect::<Vec<_>>())
    .bind(
        h.iter()
            .map(|x| x.correlation_id.clone())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    }
    if !w.idempotency.is_empty() {
        let k = &w.idempotency;
        sqlx::query(
            "INSERT INTO idempotency_keys (key, order_id, request_hash, response, created_at)
             SELECT k, o, h, r::jsonb, $5 FROM unnest($1::text[], $2::text[], $3::text[],
                $4::text[]) AS u(k, o, h, r)",
        )
        .bind(k.iter().map(|x| x.0.clone()).collect::<Vec<_>>())
        .bind(k.iter().map(|x| x.1.clone()).collect::<Vec<_>>())
        .bind(k.iter().map(|x| x.2.clone()).collect::<Vec<_>>())
        .bind(k.iter().map(|x| x.3.clone()).collect::<Vec<_>>())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    if !w.jobs.is_empty() {
        let j = &w.jobs;
        sqlx::query(
            "INSERT INTO jobs (id, kind, system, order_id, state, attempts, run_at, created_at)
             SELECT i, k, s, o, 'ready', 0, t, t FROM unnest($1::text[], $2::text[], $3::text[],
                $4::text[], $5::int8[]) AS u(i, k, s, o, t)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(j.iter().map(|x| x.id.clone()).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.kind.to_string()).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.system.to_string()).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.order_id.clone()).collect::<Vec<_>>())
        .bind(j.iter().map(|x| x.run_at).collect::<Vec<_>>())
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
    sqlx::types::Json<serde_json::Value>,
    sqlx::types::Json<serde_json::Value>,
    i64,
    i64,
    Option<String>,
);

fn stored_order(t: OrderTuple) -> crate::StoredOrder {
    crate::StoredOrder {
        id: t.0,
        channel: t.1,
        external_id: t.2,
        state: t.3,
        reason: t.4,
        order: t.5.0,
        lines: t.6.0,
        erp_order_id: t.9,
        history: Vec::new(),
        created_at: Timestamp(t.7),
        updated_at: Timestamp(t.8),
    }
}

/// An order with its history.
pub(super) async fn order(pool: &PgPool, id: &str) -> Result<Option<crate::StoredOrder>> {
    let row: Option<OrderTuple> = sqlx::query_as(
        "SELECT id, channel, external_id, state, reason, body, lines, created_at, updated_at,
            erp_order_id FROM orders WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(mut order) = row.map(stored_order) else {
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
        .map(|(from, to, at, actor, correlation_id)| crate::Transition {
            from,
            to,
            at: Timestamp(at),
            actor,
            correlation_id,
        })
        .collect();
    Ok(Some(order))
}

/// Orders matching a filter, newest first.
pub(super) async fn orders(
    pool: &PgPool,
    f: &crate::OrderFilter,
) -> Result<Vec<crate::StoredOrder>> {
    let rows: Vec<OrderTuple> = sqlx::query_as(
        "SELECT id, channel, external_id, state, reason, body, lines, created_at, updated_at,
            erp_order_id
         FROM orders
         WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR channel = $2)
           AND ($3::int8 IS NULL OR created_at >= $3)
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(&f.state)
    .bind(&f.channel)
    .bind(f.since.map(|t| t.0))
    .bind(f.limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(stored_order).collect())
}

/// The current state and number of transitions of each order in `ids`.
pub(super) async fn orders_now(
    conn: &mut PgConnection,
    ids: &BTreeSet<String>,
) -> Result<std::collections::HashMap<String, crossdock_domain::ledger::OrderNow>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let ids: Vec<String> = ids.iter().cloned().collect();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT o.id, o.state, (SELECT COUNT(*) FROM order_history h WHERE h.order_id = o.id)
         FROM orders o WHERE o.id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    let mut out = std::collections::HashMap::new();
    for (id, state, transitions) in rows {
        let state = crossdock_domain::order_state::OrderState::parse(&state)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("order state `{state}`")))?;
        out.insert(
            id,
            crossdock_domain::ledger::OrderNow { state, transitions },
        );
    }
    Ok(out)
}
