//! The outbox on PostgreSQL: workers lease with `FOR UPDATE SKIP LOCKED`, so several workers
//! in several instances never take the same job, and a lapsed lease is taken over.

use crossdock_domain::Timestamp;
use sqlx::{AssertSqlSafe, PgPool};

use crate::Result;
use crate::jobs::{Job, JobFilter, JobFinish, LeaseRequest};

const JOB_COLS: &str =
    "id, kind, system, order_id, state, attempts, run_at, lease_owner, lease_until, last_error";

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
);

fn job(t: JobTuple) -> Job {
    Job {
        id: t.0,
        kind: t.1,
        system: t.2,
        order_id: t.3,
        state: t.4,
        attempts: t.5,
        run_at: Timestamp(t.6),
        lease_owner: t.7,
        lease_until: t.8.map(Timestamp),
        last_error: t.9,
    }
}

/// Leases due jobs and jobs whose lease lapsed.
pub(super) async fn lease(pool: &PgPool, req: &LeaseRequest) -> Result<Vec<Job>> {
    let rows: Vec<JobTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE jobs SET state = 'leased', lease_owner = $1, lease_until = $2,
            attempts = attempts + 1
         WHERE id IN (
            SELECT id FROM jobs
            WHERE ((state = 'ready' AND run_at <= $3) OR (state = 'leased' AND lease_until <= $3))
              AND ($4::text[] IS NULL OR system = ANY($4))
            ORDER BY run_at LIMIT $5
            FOR UPDATE SKIP LOCKED)
         RETURNING {JOB_COLS}"
    )))
    .bind(&req.owner)
    .bind(req.now.0 + req.lease_ms)
    .bind(req.now.0)
    .bind(&req.systems)
    .bind(req.limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(job).collect())
}

/// Ends a leased job, if `owner` still holds it.
pub(super) async fn finish(pool: &PgPool, id: &str, owner: &str, f: &JobFinish) -> Result<bool> {
    let (state, run_at, error) = f.columns();
    let done = sqlx::query(
        "UPDATE jobs SET state = $3, run_at = COALESCE($4, run_at),
            last_error = COALESCE($5, last_error), lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND lease_owner = $2 AND state = 'leased'",
    )
    .bind(id)
    .bind(owner)
    .bind(state)
    .bind(run_at)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs matching a filter, oldest due first.
pub(super) async fn list(pool: &PgPool, f: &JobFilter) -> Result<Vec<Job>> {
    let rows: Vec<JobTuple> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {JOB_COLS} FROM jobs
         WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR system = $2)
         ORDER BY run_at, id LIMIT $3"
    )))
    .bind(&f.state)
    .bind(&f.system)
    .bind(f.limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(job).collect())
}
