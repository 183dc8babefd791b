//! The scale-out store: PostgreSQL, shared by several crossdock instances.
//!
//! A batch holds its SKUs still with transaction-scoped advisory locks taken in a fixed order
//! (so channel rules that read a SKU's whole pool decide on a pool nobody else is changing),
//! then reads, decides in Rust and writes everything with array-bound statements: seven round
//! trips for an intake batch (begin, locks, state, earlier intakes, rows, events, commit),
//! whatever its size. The event sequence comes from one counter row taken last, which keeps
//! the log gap-free and visible in order.

mod jobs;
mod keys;
mod orders;
mod sql;
mod subscriptions;
mod trace;
mod write;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossdock_domain::ledger::Reservation;
use crossdock_domain::{ReservationId, Sku, SkuState, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Executor};

use crate::batch::{self, WriteSet};
use crate::migrations::{self, Applied, LEDGER_TABLE, POSTGRES};
use crate::needs::Needs;
use crate::{Batch, Committed, EventRecord, Result, Store, StoreError};

/// Advisory lock key held while migrating, so instances starting together migrate once.
const MIGRATION_LOCK: i64 = 0x6372_6f73_7364_6f63;
/// Batches one instance commits at once, at most. While one holds the event sequence through
/// its commit, another waits for it and a third reads and decides; more only split the same
/// requests into smaller batches, each paying its round trips. Measured over HTTP at 64
/// connections on two cores, same hour: two writers 5,060–5,630 orders/s, three 5,660–6,090,
/// four 5,320–5,420 (in a slower hour: two 3,100–3,400, four 2,700–2,800, eight 2,250).
const WRITERS: usize = 3;
/// Times a batch is retried after a deadlock, serialisation failure or a duplicate key
/// written by another instance at the same moment.
const RETRIES: usize = 5;

/// The PostgreSQL store. Cloning shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    writers: usize,
}

impl PgStore {
    /// Connects to `url`, applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        Self::connect_with(options, 8).await
    }

    /// Connects to `url` with every table in `schema` (created if missing); for tests and for
    /// several hubs sharing one database.
    pub async fn connect_in_schema(url: &str, schema: &str, max_connections: u32) -> Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        let mut conn = options.connect().await?;
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Setup(format!(
                "schema name `{schema}`: use letters, digits and _"
            )));
        }
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        conn.execute(sqlx::AssertSqlSafe(create)).await?;
        drop(conn);
        let options = options.options([("search_path", schema)]);
        Self::connect_with(options, max_connections).await
    }

    /// Connects with explicit options and pool size, applies pending migrations.
    pub async fn connect_with(options: PgConnectOptions, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        migrate(&pool).await?;
        Ok(Self {
            pool,
            writers: (max_connections as usize / 2).clamp(1, WRITERS),
        })
    }

    /// How many batches this instance commits at once.
    pub fn writers(&self) -> usize {
        self.writers
    }

    /// The connection pool, for tools that need raw access.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn try_commit(&self, batch: &Batch) -> Result<Committed> {
        let mut tx = self.pool.begin().await?;
        let release_ids = Needs::release_ids(&batch.commands);
        let cancelled = Needs::cancelled_orders(&batch.commands);
        let mut released = sql::reservations_by_id(&mut tx, &release_ids).await?;
        released.extend(sql::reservations_of_orders(&mut tx, &cancelled).await?);
        let needs = Needs::of(&batch.commands, &released);
        sql::lock(&mut tx, &needs).await?;
        let states = sql::load_states(&mut tx, Some(&needs.skus)).await?;
        // Re-read under the locks: another instance may have changed them meanwhile.
        let mut reservations = sql::reservations_by_id(&mut tx, &release_ids).await?;
        for r in sql::reservations_of_orders(&mut tx, &cancelled).await? {
            if !reservations.iter().any(|x| x.id == r.id) {
                reservations.push(r);
            }
        }
        for r in sql::reservations_by_order(&mut tx, &needs.order_refs).await? {
            if !reservations.iter().any(|x| x.id == r.id) {
                reservations.push(r);
            }
        }
        let seen = sql::seen_events(&mut tx, &needs.event_keys).await?;
        let priors = orders::priors(&mut tx, &needs).await?;
        let orders = orders::orders_now(&mut tx, &needs.order_ids).await?;
        let (outcomes, finished) = batch::run(batch, states, reservations, seen, priors, orders);
        let writes = WriteSet::of(&finished, batch.now.0);
        let seqs = write::write(&mut tx, &writes, batch.now.0).await?;
        tx.commit().await?;
        Ok(Committed {
            outcomes,
            states: batch::touched_states(&finished),
            seqs,
        })
    }
}

fn retryable(e: &StoreError) -> bool {
    let StoreError::Postgres(sqlx::Error::Database(db)) = e else {
        return false;
    };
    matches!(db.code().as_deref(), Some("40P01" | "40001" | "23505"))
}

async fn migrate(pool: &PgPool) -> Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    let result = async {
        sqlx::raw_sql(LEDGER_TABLE).execute(&mut *conn).await?;
        sqlx::raw_sql("ALTER TABLE crossdock_migrations ADD COLUMN IF NOT EXISTS checksum TEXT")
            .execute(&mut *conn)
            .await?;
        let applied: Vec<Applied> = sqlx::query_as::<_, (i64, String, Option<String>)>(
            "SELECT version, name, checksum FROM crossdock_migrations ORDER BY version",
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(version, name, checksum)| Applied {
            version,
            name,
            checksum,
        })
        .collect();
        let unrecorded = migrations::check("postgres", POSTGRES, &applied)?;
        for (version, checksum) in &unrecorded {
            sqlx::query("UPDATE crossdock_migrations SET checksum = $2 WHERE version = $1")
                .bind(version)
                .bind(checksum)
                .execute(&mut *conn)
                .await?;
        }
        migrations::recorded(unrecorded.len());
        for m in migrations::pending(POSTGRES, &applied) {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::raw_sql(m.sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration {
                    version: m.version,
                    name: m.name(),
                    source: Box::new(e.into()),
                })?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            sqlx::query(
                "INSERT INTO crossdock_migrations (version, name, applied_at, checksum)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(m.version)
            .bind(m.name())
            .bind(now)
            .bind(m.checksum())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(
                version = m.version,
                name = m.name(),
                "applied postgres migration"
            );
        }
        Ok::<_, StoreError>(())
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    result
}

impl Store for PgStore {
    async fn commit(&self, batch: Batch) -> Result<Committed> {
        let mut attempt = 0;
        loop {
            match self.try_commit(&batch).await {
                Err(e) if retryable(&e) && attempt < RETRIES => {
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, "retrying batch");
                }
                other => return other,
            }
        }
    }

    async fn load_states(&self, skus: Option<Vec<Sku>>) -> Result<Vec<SkuState>> {
        let mut conn = self.pool.acquire().await?;
        let skus = skus.map(|s| s.into_iter().collect());
        sql::load_states(&mut conn, skus.as_ref()).await
    }

    async fn events_after(
        &self,
        after: i64,
        limit: i64,
        types: Option<Vec<String>>,
    ) -> Result<Vec<EventRecord>> {
        sql::events_after(&self.pool, after, limit, types).await
    }

    async fn last_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT last FROM event_seq WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn reservation(&self, id: &str) -> Result<Option<Reservation>> {
        let mut conn = self.pool.acquire().await?;
        Ok(sql::reservations_by_id(&mut conn, &[id.to_string()])
            .await?
            .pop())
    }

    async fn order(&self, id: &str) -> Result<Option<crate::StoredOrder>> {
        orders::order(&self.pool, id).await
    }

    async fn orders(&self, filter: crate::OrderFilter) -> Result<Vec<crate::StoredOrder>> {
        orders::orders(&self.pool, &filter).await
    }

    async fn lease_jobs(&self, req: crate::LeaseRequest) -> Result<Vec<crate::Job>> {
        jobs::lease(&self.pool, &req).await
    }

    async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        finish: crate::JobFinish,
        now: Timestamp,
    ) -> Result<bool> {
        jobs::finish(&self.pool, id, owner, &finish, now).await
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn backlog(&self, system: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(crate::jobs::BACKLOG)
            .bind(system)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn waiting_jobs(&self, now: Timestamp) -> Result<Vec<crate::Waiting>> {
        let rows: Vec<crate::jobs::WaitingRow> = sqlx::query_as(crate::jobs::WAITING)
            .bind(now.0)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(crate::jobs::waiting).collect()
    }

    async fn hasten_jobs(&self, system: &str, now: Timestamp) -> Result<u64> {
        let done = sqlx::query(crate::jobs::HASTEN)
            .bind(system)
            .bind(now.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn credit_status(&self, account: &str) -> Result<Option<(String, Timestamp)>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT status, checked_at FROM credit_status WHERE account = $1")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(s, at)| (s, Timestamp(at))))
    }

    async fn park_job(&self, job: crate::ParkedJob, now: Timestamp) -> Result<()> {
        jobs::park(&self.pool, &job, now).await
    }

    async fn record_rejection(&self, rejection: crate::Rejection) -> Result<()> {
        jobs::reject(&self.pool, &rejection).await
    }

    async fn rejections(
        &self,
        connector: Option<String>,
        limit: i64,
    ) -> Result<Vec<crate::Rejection>> {
        jobs::rejections(&self.pool, connector.as_deref(), limit).await
    }

    async fn cursor(&self, connector: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as(crate::inbound::CURSOR)
            .bind(connector)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(seq,)| seq))
    }

    async fn set_cursor(&self, connector: &str, seq: i64, now: Timestamp) -> Result<()> {
        sqlx::query(crate::inbound::SET_CURSOR)
            .bind(connector)
            .bind(seq)
            .bind(now.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn put_bindings(
        &self,
        bindings: Vec<crossdock_domain::Binding>,
        now: Timestamp,
    ) -> Result<u64> {
        let bindings = crate::bindings::in_key_order(bindings);
        let mut tx = self.pool.begin().await?;
        let mut changed = 0;
        for b in &bindings {
            changed += sqlx::query(crate::bindings::PUT_BINDING)
                .bind(&b.connector)
                .bind(b.kind.as_str())
                .bind(&b.ours)
                .bind(&b.theirs)
                .bind(now.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn bindings(&self, q: crate::BindingQuery) -> Result<Vec<crate::StoredBinding>> {
        let rows: Vec<crate::bindings::Row> = sqlx::query_as(crate::bindings::LIST_BINDINGS)
            .bind(q.connector)
            .bind(q.kind.map(|k| k.as_str()))
            .bind(q.ours)
            .bind(q.theirs)
            .bind(q.after)
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(crate::bindings::from_row)
            .collect())
    }

    async fn prices(&self, q: crate::PriceQuery) -> Result<Vec<crate::StoredPrice>> {
        let (after_channel, after_sku) = q.after.unzip();
        let rows: Vec<crate::prices::FlatRow> = sqlx::query_as(crate::prices::LIST_PRICES)
            .bind(q.channel)
            .bind(q.sku)
            .bind(q.pending)
            .bind(after_channel)
            .bind(after_sku)
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| crate::prices::from_row(crate::prices::nest(r)))
            .collect())
    }

    async fn record_price_pushes(
        &self,
        channel: &str,
        pushes: Vec<crate::PricePush>,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for p in &pushes {
            let (acked, refused) = p.outcome.parts();
            sqlx::query(crate::prices::RECORD_PUSH)
                .bind(channel)
                .bind(&p.sku)
                .bind(&p.currency)
                .bind(&p.amount)
                .bind(at.0)
                .bind(acked)
                .bind(refused)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn bound(
        &self,
        connector: &str,
        kind: crossdock_domain::BindingKind,
        ours: Vec<String>,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT ours, theirs FROM bindings WHERE connector = $1 AND kind = $2 \
             AND ours = ANY($3)",
        )
        .bind(connector)
        .bind(kind.as_str())
        .bind(ours)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    async fn record_credit_status(&self, account: &str, status: &str, at: Timestamp) -> Result<()> {
        sqlx::query(crate::jobs::RECORD_CREDIT)
            .bind(account)
            .bind(status)
            .bind(at.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn exceptions(&self, filter: crate::ExceptionFilter) -> Result<Vec<crate::Exception>> {
        jobs::exceptions(&self.pool, &filter).await
    }

    async fn exception(&self, id: &str) -> Result<Option<crate::Exception>> {
        jobs::exception_by_id(&self.pool, id).await
    }

    async fn act_on_exception(
        &self,
        id: &str,
        action: crate::ExceptionAction,
        payload: Option<serde_json::Value>,
        now: Timestamp,
    ) -> Result<Option<crate::Exception>> {
        jobs::act(&self.pool, id, action, payload.as_ref(), now).await
    }

    async fn jobs(&self, filter: crate::JobFilter) -> Result<Vec<crate::Job>> {
        jobs::list(&self.pool, &filter).await
    }

    async fn due_reservations(&self, now: Timestamp, limit: i64) -> Result<Vec<ReservationId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM reservations WHERE status = 'active' AND expires_at IS NOT NULL
             AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(now.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids
            .into_iter()
            .map(ReservationId::parse)
            .collect::<std::result::Result<_, _>>()?)
    }
}
