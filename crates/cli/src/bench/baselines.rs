//! The baselines each figure is set beside, measured in the same run on the same disk: raw
//! batched writes of the rows the measured operation writes, with none of the deciding.

use std::time::Instant;

use crossdock_domain::ledger::Command;
use crossdock_engine::Inventory;
use crossdock_store::PgStore;
use serde_json::json;

use super::{SKUS, sku, web_order};

/// An `availability.changed` event as intake writes one: a SKU's figures on every channel.
const AVAILABILITY: &str = r#"{"sku":"SKU-00000","channels":[{"channel":"web","available_now":812,"available_backorder":0,"next_eta":null},{"channel":"marketplace","available_now":50,"available_backorder":0,"next_eta":null},{"channel":"b2b","available_now":1015,"available_backorder":0,"next_eta":null}]}"#;

/// Raw batched inserts into SQLite of the rows a reservation writes (a reservation row and
/// an event row), 1,000 to a transaction, same pragmas: what the disk and SQLite allow.
pub(super) fn sqlite_baseline(dir: &std::path::Path, n: u64) -> anyhow::Result<f64> {
    let path = dir.join(format!(
        "crossdock-bench-baseline-{}.db",
        std::process::id()
    ));
    crossdock_store::sqlite::remove_files(&path);
    let mut conn = rusqlite::Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE reservations (id TEXT PRIMARY KEY, sku TEXT NOT NULL, channel TEXT NOT NULL,
           order_ref TEXT NOT NULL, qty INTEGER NOT NULL, created_at INTEGER NOT NULL,
           expires_at INTEGER, status TEXT NOT NULL, allocations TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, sku TEXT,
           recorded_at INTEGER NOT NULL, data TEXT NOT NULL);",
    )?;
    let start = Instant::now();
    let mut i = 0u64;
    while i < n {
        let tx = conn.transaction()?;
        {
            let mut r = tx.prepare_cached(
                "INSERT INTO reservations VALUES (?1, ?2, 'b2b', ?3, 1, 0, NULL, 'active', ?4)",
            )?;
            let mut e = tx.prepare_cached(
                "INSERT INTO events VALUES (?1, 'reservation.created', ?2, 0, ?3)",
            )?;
            for _ in 0..1000.min(n - i) {
                let id = Inventory::new_reservation_id().to_string();
                let s = sku(i as usize % SKUS).to_string();
                r.execute(rusqlite::params![
                    id,
                    s,
                    format!("o{i}"),
                    r#"[{"location":"east","qty":1,"consumed":0}]"#
                ])?;
                e.execute(rusqlite::params![
                    i as i64 + 1,
                    s,
                    format!(r#"{{"id":"{id}","sku":"{s}"}}"#)
                ])?;
                i += 1;
            }
        }
        tx.commit()?;
    }
    Ok(finish_sqlite(n, start, conn, &path))
}

/// The stored body of the bench's orders of `lines` lines, for the baselines to write.
pub(super) fn order_body(estate: &crossdock_domain::Estate, lines: u64) -> anyhow::Result<String> {
    let Command::PlaceOrder(sample) = web_order(0, lines, estate) else {
        unreachable!("web_order places an order")
    };
    Ok(serde_json::to_string(&sample.order)?)
}

/// Raw batched statements into SQLite, on crossdock's own schema, of the rows one order of
/// `lines` lines writes at intake: the order, one history row, per line a reservation, a
/// stock and a channel counter updated, one job, and events (accepted, then per line its
/// reservation and its SKU's availability change: five for two lines); 1,000 orders to a
/// transaction. What SQLite allows for the same rows, with none of the deciding.
pub(super) fn sqlite_order_baseline(
    dir: &std::path::Path,
    n: u64,
    lines: u64,
    body: &str,
) -> anyhow::Result<f64> {
    let path = dir.join(format!("crossdock-bench-orders-{}.db", std::process::id()));
    crossdock_store::sqlite::remove_files(&path);
    let mut conn = rusqlite::Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.set_prepared_statement_cache_capacity(64);
    crossdock_store::sqlite::create_schema(&mut conn)?;
    for i in 0..SKUS {
        conn.execute(
            "INSERT INTO stock VALUES (?1, 'east', 1000000, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0)",
            [sku(i).to_string()],
        )?;
    }
    let plans: Vec<serde_json::Value> = (0..lines)
        .map(|k| {
            json!({"line": k, "sku": sku(500 * k as usize).as_str(), "qty": 1,
                   "reservation_id": format!("res_01jf7z3k9q2w8e4r6t5y7u1i0{k}"),
                   "allocations": [{"location": "east", "qty": 1}], "available": null})
        })
        .collect();
    let response =
        json!({"id": "ord_01jf7z3k9q2w8e4r6t5y7u1i0o", "channel": "b2b", "state": "accepted",
               "external_id": "B-0", "reason": "east fills every line", "lines": plans,
               "created_at": "2026-11-27T10:00:00Z"})
        .to_string();
    let plans = serde_json::to_string(&plans)?;
    let start = Instant::now();
    let mut i = 0u64;
    let mut seq = 0i64;
    while i < n {
        let tx = conn.transaction()?;
        for _ in 0..1000.min(n - i) {
            let id = Inventory::new_order_id().to_string();
            tx.prepare_cached(
                "INSERT INTO orders (id, channel, external_id, state, business_unit, customer_id,
                    body, lines, reason, request_hash, response, correlation_id, created_at,
                    updated_at) VALUES (?1, 'b2b', ?2, 'accepted', NULL, 'C-1', ?3, ?4,
                    'east fills every line', ?5, ?6, ?7, 0, 0)",
            )?
            .execute(rusqlite::params![
                id,
                format!("B-{i}"),
                body,
                plans,
                "0".repeat(64),
                response,
                Inventory::new_correlation_id()
            ])?;
            tx.prepare_cached(
                "INSERT INTO order_history VALUES (?1, 1, NULL, 'accepted', 0, 'intake', 'c')",
            )?
            .execute([&id])?;
            for line in (0..lines).map(|k| i + 500 * k) {
                let s = sku(line as usize % SKUS).to_string();
                tx.prepare_cached(
                    "INSERT INTO reservations VALUES (?1, ?2, 'b2b', ?3, 1, 0, NULL, 'active', ?4)",
                )?
                .execute(rusqlite::params![
                    Inventory::new_reservation_id().to_string(),
                    s,
                    id,
                    r#"[{"location":"east","qty":1,"consumed":0}]"#
                ])?;
                tx.prepare_cached(
                    "UPDATE stock SET reserved = reserved + 1 WHERE sku = ?1 AND location = 'east'",
                )?
                .execute([&s])?;
                tx.prepare_cached(
                    "INSERT INTO channel_reserved VALUES (?1, 'b2b', 1)
                     ON CONFLICT (sku, channel) DO UPDATE SET qty = qty + 1",
                )?
                .execute([&s])?;
            }
            tx.prepare_cached(
                "INSERT INTO jobs (id, kind, system, order_id, state, attempts, run_at, created_at)
                 VALUES (?1, 'screen_fraud', 'fraud', ?2, 'ready', 0, 0, 0)",
            )?
            .execute(rusqlite::params![format!("job_{id}"), id])?;
            let mut event = |kind: &str, data: &str| -> rusqlite::Result<usize> {
                seq += 1;
                tx.prepare_cached("INSERT INTO events VALUES (?1, ?2, 'SKU-00000', 0, ?3)")?
                    .execute(rusqlite::params![seq, kind, data])
            };
            event("order.accepted", &response)?;
            for _ in 0..lines {
                event(
                    "reservation.created",
                    r#"{"id":"res_01jf7z3k9q2w8e4r6t5y7u1i0o","sku":"SKU-00000","channel":"b2b","order_ref":"ord_01jf7z3k9q2w8e4r6t5y7u1i0o","qty":1,"allocations":[{"location":"east","qty":1}]}"#,
                )?;
            }
            for _ in 0..lines {
                event("availability.changed", AVAILABILITY)?;
            }
            i += 1;
        }
        tx.commit()?;
    }
    Ok(finish_sqlite(n, start, conn, &path))
}

/// The same rows into PostgreSQL with array-bound inserts, 1,000 to a transaction.
pub(super) async fn pg_baseline(store: &PgStore, n: u64) -> anyhow::Result<f64> {
    let pool = store.pool();
    sqlx::raw_sql(
        "CREATE TABLE baseline_reservations (id TEXT PRIMARY KEY, sku TEXT NOT NULL,
           channel TEXT NOT NULL, order_ref TEXT NOT NULL, qty BIGINT NOT NULL,
           created_at BIGINT NOT NULL, expires_at BIGINT, status TEXT NOT NULL,
           allocations TEXT NOT NULL);
         CREATE TABLE baseline_events (seq BIGINT PRIMARY KEY, type TEXT NOT NULL, sku TEXT,
           recorded_at BIGINT NOT NULL, data JSONB NOT NULL);",
    )
    .execute(pool)
    .await?;
    let start = Instant::now();
    let mut i = 0u64;
    while i < n {
        let k = 1000.min(n - i);
        let ids: Vec<String> = (0..k)
            .map(|_| Inventory::new_reservation_id().to_string())
            .collect();
        let skus: Vec<String> = (i..i + k)
            .map(|j| sku(j as usize % SKUS).to_string())
            .collect();
        let orders: Vec<String> = (i..i + k).map(|j| format!("o{j}")).collect();
        let seqs: Vec<i64> = (i..i + k).map(|j| j as i64 + 1).collect();
        let data: Vec<String> = ids
            .iter()
            .zip(&skus)
            .map(|(id, s)| format!(r#"{{"id":"{id}","sku":"{s}"}}"#))
            .collect();
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO baseline_reservations SELECT id, s, 'b2b', o, 1, 0, NULL, 'active',
               '[{\"location\":\"east\",\"qty\":1,\"consumed\":0}]'
             FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, s, o)",
        )
        .bind(&ids)
        .bind(&skus)
        .bind(&orders)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO baseline_events SELECT q, 'reservation.created', s, 0, d::jsonb
             FROM unnest($1::int8[], $2::text[], $3::text[]) AS t(q, s, d)",
        )
        .bind(&seqs)
        .bind(&skus)
        .bind(&data)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        i += k;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// The rows of [`sqlite_order_baseline`] into PostgreSQL tables of the same shape, each
/// kind in one array-bound statement per 1,000 orders.
pub(super) async fn pg_order_baseline(
    store: &PgStore,
    n: u64,
    lines: u64,
    body: &str,
) -> anyhow::Result<f64> {
    let pool = store.pool();
    sqlx::raw_sql(
        "CREATE TABLE bo_orders (id TEXT PRIMARY KEY, channel TEXT NOT NULL, external_id TEXT
           NOT NULL, state TEXT NOT NULL, body JSONB NOT NULL, lines JSONB NOT NULL,
           response JSONB NOT NULL, created_at BIGINT NOT NULL, UNIQUE (channel, external_id));
         CREATE TABLE bo_history (order_id TEXT, seq BIGINT, to_state TEXT NOT NULL,
           at BIGINT NOT NULL, PRIMARY KEY (order_id, seq));
         CREATE TABLE bo_reservations (id TEXT PRIMARY KEY, sku TEXT NOT NULL,
           order_ref TEXT NOT NULL, allocations TEXT NOT NULL);
         CREATE TABLE bo_stock (sku TEXT PRIMARY KEY, reserved BIGINT NOT NULL);
         CREATE TABLE bo_channel_reserved (sku TEXT PRIMARY KEY, qty BIGINT NOT NULL);
         CREATE TABLE bo_jobs (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, state TEXT NOT NULL);
         CREATE TABLE bo_events (seq BIGINT PRIMARY KEY, type TEXT NOT NULL, data JSONB NOT NULL);
         INSERT INTO bo_stock SELECT 'SKU-' || lpad(g::text, 5, '0'), 0
           FROM generate_series(0, 999) g;",
    )
    .execute(pool)
    .await?;
    let event = AVAILABILITY;
    let start = Instant::now();
    let (mut i, mut seq) = (0u64, 0i64);
    while i < n {
        let k = 1000.min(n - i);
        let ids: Vec<String> = (0..k)
            .map(|_| Inventory::new_order_id().to_string())
            .collect();
        let ext: Vec<String> = (i..i + k).map(|j| format!("B-{j}")).collect();
        let line_skus: Vec<String> = (i..i + k)
            .flat_map(|j| (0..lines).map(move |k| j + 500 * k))
            .map(|j| sku(j as usize % SKUS).to_string())
            .collect();
        let line_orders: Vec<String> = (ids.iter())
            .flat_map(|id| std::iter::repeat_n(id.clone(), lines as usize))
            .collect();
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO bo_orders SELECT i, 'b2b', e, 'accepted', $3::jsonb, '[]'::jsonb,
               $3::jsonb, 0 FROM unnest($1::text[], $2::text[]) AS t(i, e)",
        )
        .bind(&ids)
        .bind(&ext)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO bo_history SELECT i, s, 'accepted', 0
             FROM unnest($1::text[]) AS t(i), generate_series(1, 1) s",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        let res: Vec<String> = line_skus
            .iter()
            .map(|_| Inventory::new_reservation_id().to_string())
            .collect();
        sqlx::query(
            "INSERT INTO bo_reservations SELECT r, s, o, '[{\"location\":\"east\",\"qty\":1}]'
             FROM unnest($1::text[], $2::text[], $3::text[]) AS t(r, s, o)",
        )
        .bind(&res)
        .bind(&line_skus)
        .bind(&line_orders)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE bo_stock b SET reserved = b.reserved + u.n
             FROM (SELECT s, count(*) AS n FROM unnest($1::text[]) AS t(s) GROUP BY s) u
             WHERE b.sku = u.s",
        )
        .bind(&line_skus)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO bo_channel_reserved SELECT s, count(*) FROM unnest($1::text[]) AS t(s)
             GROUP BY s ON CONFLICT (sku) DO UPDATE SET qty = bo_channel_reserved.qty + excluded.qty",
        )
        .bind(&line_skus)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO bo_jobs SELECT 'job_' || i, i, 'ready' FROM unnest($1::text[]) AS t(i)",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        let per_order = 1 + 2 * lines as i64;
        let seqs: Vec<i64> = (0..k as i64 * per_order).map(|q| seq + q + 1).collect();
        seq += k as i64 * per_order;
        sqlx::query(
            "INSERT INTO bo_events SELECT q, 'availability.changed', $2::jsonb
             FROM unnest($1::int8[]) AS t(q)",
        )
        .bind(&seqs)
        .bind(event)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        i += k;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    // Write the baseline's pages out now rather than during the next measurement (needs a
    // superuser; without one the next figure may pay for them).
    let _ = sqlx::raw_sql("DROP TABLE bo_orders, bo_history, bo_reservations, bo_stock, bo_channel_reserved, bo_jobs, bo_events; CHECKPOINT")
        .execute(pool)
        .await;
    Ok(rate)
}

/// Rows a second for `n` rows written since `start`, once the baseline's file is gone.
fn finish_sqlite(
    n: u64,
    start: Instant,
    conn: rusqlite::Connection,
    path: &std::path::Path,
) -> f64 {
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop(conn);
    crossdock_store::sqlite::remove_files(path);
    rate
}
