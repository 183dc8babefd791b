//! The outbox on PostgreSQL: workers lease with `FOR UPDATE SKIP LOCKED`, so several workers
//! in several instances never take the same job, and a lapsed lease is taken over.

use crossdock_domain::Timestamp;
use sqlx::{AssertSqlSafe, PgPool};

use crate::Result;
use crate::jobs::{
    EXCEPTION_COLS, Exception, ExceptionAction, ExceptionFilter, Job, JobFilter, JobFinish,
    LeaseRequest, OPEN_EXCEPTION, REQUEUE_JOB, SET_EXCEPTION_STATUS,
};
use crate::records;
use crossdock_domain::{ErrorCode, ExceptionId, ExceptionStatus, JobId, OrderId};

const JOB_COLS: &str = "id, kind, system, order_id, state, attempts, run_at, lease_owner, lease_until, last_error, \
     payload, correlation_id";

type JobTuple = (
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<sqlx::types::Json<serde_json::Value>>,
    Option<String>,
);

fn job(t: JobTuple) -> Result<Job> {
    Ok(Job {
        id: JobId::parse(t.0)?,
        kind: records::job_kind(&t.1)?,
        system: t.2,
        order_id: t.3.map(OrderId::parse).transpose()?,
        state: records::job_state(&t.4)?,
        attempts: t.5,
        run_at: Timestamp(t.6),
        lease_owner: t.7,
        lease_until: t.8.map(Timestamp),
        last_error: t.9,
        payload: t.10.map(|p| p.0),
        correlation_id: t.11,
    })
}

/// Leases due jobs and jobs whose lease lapsed, of each system named in turn (each found
/// through its own partial indexes, so one system's backlog never slows another's leases),
/// or of every system.
pub(super) async fn lease(pool: &PgPool, req: &LeaseRequest) -> Result<Vec<Job>> {
    let Some(systems) = &req.systems else {
        return lease_any(pool, req).await;
    };
    let mut jobs = Vec::new();
    for system in systems {
        let left = req.limit - jobs.len() as i64;
        if left <= 0 {
            break;
        }
        let rows: Vec<JobTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "WITH ready AS (
                SELECT id, run_at AS at FROM jobs
                WHERE state = 'ready' AND system = $4 AND run_at <= $3
                ORDER BY run_at LIMIT $5 FOR UPDATE SKIP LOCKED),
             lapsed AS (
                SELECT id, lease_until AS at FROM jobs
                WHERE state = 'leased' AND system = $4 AND lease_until <= $3
                ORDER BY lease_until LIMIT $5 FOR UPDATE SKIP LOCKED)
             UPDATE jobs SET state = 'leased', lease_owner = $1, lease_until = $2,
                attempts = attempts + 1
             WHERE id IN (SELECT id FROM (SELECT * FROM ready UNION ALL SELECT * FROM lapsed) d
                ORDER BY at LIMIT $5)
             RETURNING {JOB_COLS}"
        )))
        .bind(&req.owner)
        .bind(req.now.0 + req.lease_ms)
        .bind(req.now.0)
        .bind(system)
        .bind(left)
        .fetch_all(pool)
        .await?;
        for row in rows {
            jobs.push(job(row)?);
        }
    }
    Ok(jobs)
}

/// Leases due jobs of every system, oldest first.
async fn lease_any(pool: &PgPool, req: &LeaseRequest) -> Result<Vec<Job>> {
    let rows: Vec<JobTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE jobs SET state = 'leased', lease_owner = $1, lease_until = $2,
            attempts = attempts + 1
         WHERE id IN (
            SELECT id FROM jobs
            WHERE (state = 'ready' AND run_at <= $3) OR (state = 'leased' AND lease_until <= $3)
            ORDER BY run_at LIMIT $4
            FOR UPDATE SKIP LOCKED)
         RETURNING {JOB_COLS}"
    )))
    .bind(&req.owner)
    .bind(req.now.0 + req.lease_ms)
    .bind(req.now.0)
    .bind(req.limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(job).collect()
}

/// Ends a leased job, if `owner` still holds it; a failure opens the job's exception in the
/// same transaction.
pub(super) async fn finish(
    pool: &PgPool,
    id: &str,
    owner: &str,
    f: &JobFinish,
    now: Timestamp,
) -> Result<bool> {
    let (state, run_at, error) = f.columns();
    let mut tx = pool.begin().await?;
    // A job done closes the exception a retry left it (in the same statement: most jobs
    // have none, and this costs them no round trip).
    let (finished,): (i64,) = sqlx::query_as(
        "WITH j AS (UPDATE jobs SET state = $3, run_at = COALESCE($4, run_at),
                last_error = COALESCE($5, last_error), lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND lease_owner = $2 AND state = 'leased' RETURNING id),
         e AS (UPDATE exceptions SET status = 'resolved', updated_at = $6
             WHERE $3 = 'done' AND status = 'retrying' AND job_id IN (SELECT id FROM j))
         SELECT count(*) FROM j",
    )
    .bind(id)
    .bind(owner)
    .bind(state)
    .bind(run_at)
    .bind(error)
    .bind(now.0)
    .fetch_one(&mut *tx)
    .await?;
    let held = finished == 1;
    if let (true, JobFinish::Failed { code, error }) = (held, f) {
        sqlx::query(OPEN_EXCEPTION)
            .bind(id)
            .bind(code)
            .bind(error)
            .bind(crossdock_domain::remediation::remediation(code))
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(held)
}

type ExceptionTuple = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
);

fn exception(t: ExceptionTuple) -> Result<Exception> {
    Ok(Exception {
        id: ExceptionId::parse(t.0)?,
        code: records::error_code(&t.1)?,
        system: t.2,
        order_id: t.3.map(OrderId::parse).transpose()?,
        job_id: JobId::parse(t.4)?,
        status: records::exception_status(&t.5)?,
        first_error: t.6,
        last_error: t.7,
        attempts: t.8,
        remediation: t.9,
        created_at: Timestamp(t.10),
        updated_at: Timestamp(t.11),
        payload: None,
    })
}

/// Exceptions matching a filter, newest first.
pub(super) async fn exceptions(pool: &PgPool, f: &ExceptionFilter) -> Result<Vec<Exception>> {
    let rows: Vec<ExceptionTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {EXCEPTION_COLS} FROM exceptions
         WHERE ($1::text IS NULL OR code = $1) AND ($2::text IS NULL OR system = $2)
           AND ($3::text IS NULL OR status = $3) AND ($4::int8 IS NULL OR created_at >= $4)
           AND ($6::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM exceptions
                WHERE id = $6))
         ORDER BY created_at DESC, id DESC LIMIT $5"
    )))
    .bind(f.code.map(ErrorCode::as_str))
    .bind(&f.system)
    .bind(f.status.map(ExceptionStatus::as_str))
    .bind(f.since.map(|t| t.0))
    .bind(f.limit)
    .bind(&f.after)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(exception).collect()
}

/// One exception.
pub(super) async fn exception_by_id(pool: &PgPool, id: &str) -> Result<Option<Exception>> {
    let row: Option<ExceptionTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {EXCEPTION_COLS} FROM exceptions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(mut e) = row.map(exception).transpose()? else {
        return Ok(None);
    };
    let payload: Option<(Option<sqlx::types::Json<serde_json::Value>>,)> =
        sqlx::query_as("SELECT payload FROM jobs WHERE id = $1")
            .bind(e.job_id.as_str())
            .fetch_optional(pool)
            .await?;
    e.payload = payload.and_then(|(p,)| p).map(|p| p.0);
    Ok(Some(e))
}

/// Retries or resolves an exception.
pub(super) async fn act(
    pool: &PgPool,
    id: &str,
    action: ExceptionAction,
    payload: Option<&serde_json::Value>,
    now: Timestamp,
) -> Result<Option<Exception>> {
    let mut tx = pool.begin().await?;
    if action == ExceptionAction::Retry {
        sqlx::query(REQUEUE_JOB)
            .bind(id)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        if let Some(p) = payload {
            sqlx::query(
                "UPDATE jobs SET payload = $2 WHERE id = (SELECT job_id FROM exceptions
                 WHERE id = $1)",
            )
            .bind(id)
            .bind(sqlx::types::Json(p))
            .execute(&mut *tx)
            .await?;
        }
    }
    sqlx::query(SET_EXCEPTION_STATUS)
        .bind(id)
        .bind(action.status().as_str())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    exception_by_id(pool, id).await
}

/// Jobs matching a filter, oldest due first.
pub(super) async fn list(pool: &PgPool, f: &JobFilter) -> Result<Vec<Job>> {
    let rows: Vec<JobTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {JOB_COLS} FROM jobs
         WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR system = $2)
           AND ($4::text IS NULL OR (run_at, id) > (SELECT run_at, id FROM jobs WHERE id = $4))
         ORDER BY run_at, id LIMIT $3"
    )))
    .bind(f.state.map(crossdock_domain::JobState::as_str))
    .bind(&f.system)
    .bind(f.limit)
    .bind(&f.after)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(job).collect()
}

/// Keeps an inbound payload as a failed job with its exception, in one transaction.
pub(super) async fn park(pool: &PgPool, job: &crate::ParkedJob, now: Timestamp) -> Result<()> {
    let mut tx = pool.begin().await?;
    let written = sqlx::query(crate::inbound::PARK_JOB)
        .bind(job.id.as_str())
        .bind(job.kind.as_str())
        .bind(job.kind.system())
        .bind(sqlx::types::Json(&job.payload))
        .bind(&job.error)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
    if written.rows_affected() > 0 {
        sqlx::query(OPEN_EXCEPTION)
            .bind(job.id.as_str())
            .bind(job.code.as_str())
            .bind(&job.error)
            .bind(job.code.steps())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Keeps a refused delivery, forgetting the connector's oldest beyond those kept.
pub(super) async fn reject(pool: &PgPool, r: &crate::Rejection) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(crate::inbound::RECORD_REJECTION)
        .bind(&r.connector)
        .bind(&r.reason)
        .bind(r.received_at.0)
        .bind(sqlx::types::Json(&r.headers))
        .bind(&r.body)
        .bind(r.body_bytes)
        .execute(&mut *tx)
        .await?;
    sqlx::query(crate::inbound::FORGET_REJECTIONS)
        .bind(&r.connector)
        .bind(crate::inbound::REJECTIONS_KEPT)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Rejections, newest first.
pub(super) async fn rejections(
    pool: &PgPool,
    connector: Option<&str>,
    limit: i64,
) -> Result<Vec<crate::Rejection>> {
    type Row = (
        i64,
        String,
        String,
        i64,
        sqlx::types::Json<serde_json::Value>,
        String,
        i64,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, connector, reason, received_at, headers, body, body_bytes
         FROM hook_rejections WHERE ($1::text IS NULL OR connector = $1)
         ORDER BY id DESC LIMIT $2",
    )
    .bind(connector)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, connector, reason, at, headers, body, body_bytes)| crate::Rejection {
                id,
                connector,
                reason,
                received_at: Timestamp(at),
                headers: headers.0,
                body,
                body_bytes,
            },
        )
        .collect())
}
