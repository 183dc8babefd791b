//! The outbox on SQLite: leases and finishes are conditional updates made by the one writer
//! thread, so no two workers ever hold the same job.

use crossdock_domain::Timestamp;
use rusqlite::{Connection, OptionalExtension, named_params, params};

use super::orders::{id, opt_id};
use crate::Result;
use crate::jobs::{
    EXCEPTION_COLS, Exception, ExceptionAction, ExceptionFilter, Job, JobFilter, JobFinish,
    LeaseRequest, OPEN_EXCEPTION, REQUEUE_JOB, SET_EXCEPTION_STATUS,
};
use crate::records;
use crossdock_domain::{ErrorCode, ExceptionId, ExceptionStatus, JobId, JobState, OrderId};

const JOB_COLS: &str = "id, kind, system, order_id, state, attempts, run_at, lease_owner, lease_until, last_error, \
     payload, correlation_id";

fn job(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let (kind, state): (String, String) = (r.get(1)?, r.get(4)?);
    Ok(Job {
        id: id(r, 0, JobId::parse)?,
        kind: super::orders::typed(1, records::job_kind(&kind))?,
        system: r.get(2)?,
        order_id: opt_id(r, 3, OrderId::parse)?,
        state: super::orders::typed(4, records::job_state(&state))?,
        attempts: r.get(5)?,
        run_at: Timestamp(r.get(6)?),
        lease_owner: r.get(7)?,
        lease_until: r.get::<_, Option<i64>>(8)?.map(Timestamp),
        last_error: r.get(9)?,
        payload: r
            .get::<_, Option<String>>(10)?
            .and_then(|p| serde_json::from_str(&p).ok()),
        correlation_id: r.get(11)?,
    })
}

/// Leases due jobs and jobs whose lease lapsed (on the write connection), system by system,
/// each found through its own index entries.
pub(super) fn lease(conn: &Connection, req: &LeaseRequest) -> Result<Vec<Job>> {
    let Some(systems) = &req.systems else {
        return lease_any(conn, req);
    };
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE jobs SET state = 'leased', lease_owner = ?1, lease_until = ?2,
            attempts = attempts + 1
         WHERE id IN (
            SELECT id FROM (SELECT id FROM jobs WHERE state = 'ready' AND system = ?4
                AND run_at <= ?3 ORDER BY run_at LIMIT ?5)
            UNION ALL
            SELECT id FROM (SELECT id FROM jobs WHERE state = 'leased' AND system = ?4
                AND lease_until <= ?3 ORDER BY lease_until LIMIT ?5)
            LIMIT ?5)
         RETURNING {JOB_COLS}"
    ))?;
    let mut jobs = Vec::new();
    for system in systems {
        let left = req.limit - jobs.len() as i64;
        if left <= 0 {
            break;
        }
        let lease_until = req.now.0 + req.lease_ms;
        let params = params![req.owner, lease_until, req.now.0, system, left];
        for j in stmt.query_map(params, job)? {
            jobs.push(j?);
        }
    }
    Ok(jobs)
}

/// Leases due jobs of every system, oldest first.
fn lease_any(conn: &Connection, req: &LeaseRequest) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE jobs SET state = 'leased', lease_owner = ?1, lease_until = ?2,
            attempts = attempts + 1
         WHERE id IN (
            SELECT id FROM jobs
            WHERE (state = 'ready' AND run_at <= ?3) OR (state = 'leased' AND lease_until <= ?3)
            ORDER BY run_at LIMIT ?4)
         RETURNING {JOB_COLS}"
    ))?;
    let jobs = stmt
        .query_map(
            params![req.owner, req.now.0 + req.lease_ms, req.now.0, req.limit],
            job,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(jobs)
}

/// Ends a leased job, if `owner` still holds it (on the write connection, in the caller's
/// transaction); a failure opens the job's exception.
pub(super) fn finish(
    conn: &Connection,
    id: &str,
    owner: &str,
    f: &JobFinish,
    now: Timestamp,
) -> Result<bool> {
    let (state, run_at, error) = f.columns();
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET state = ?3, run_at = COALESCE(?4, run_at),
            last_error = COALESCE(?5, last_error), lease_owner = NULL, lease_until = NULL
         WHERE id = ?1 AND lease_owner = ?2 AND state = 'leased'",
        )?
        .execute(params![id, owner, state, run_at, error])?;
    match (n, f) {
        (1, JobFinish::Failed { code, error }) => {
            conn.prepare_cached(OPEN_EXCEPTION)?
                .execute(named_params! {
                    "$1": id,
                    "$2": code,
                    "$3": error,
                    "$4": crossdock_domain::remediation::remediation(code),
                    "$5": now.0,
                })?;
        }
        (1, JobFinish::Done) => {
            conn.prepare_cached(crate::jobs::RESOLVE_RETRIED)?
                .execute(named_params! {"$1": id, "$2": now.0})?;
        }
        _ => {}
    }
    Ok(n == 1)
}

fn exception(r: &rusqlite::Row<'_>) -> rusqlite::Result<Exception> {
    let (code, status): (String, String) = (r.get(1)?, r.get(5)?);
    Ok(Exception {
        id: id(r, 0, ExceptionId::parse)?,
        code: super::orders::typed(1, records::error_code(&code))?,
        system: r.get(2)?,
        order_id: opt_id(r, 3, OrderId::parse)?,
        job_id: id(r, 4, JobId::parse)?,
        status: super::orders::typed(5, records::exception_status(&status))?,
        first_error: r.get(6)?,
        last_error: r.get(7)?,
        attempts: r.get(8)?,
        remediation: r.get(9)?,
        created_at: Timestamp(r.get(10)?),
        updated_at: Timestamp(r.get(11)?),
        payload: None,
    })
}

/// Exceptions matching a filter, newest first.
pub(super) fn exceptions(conn: &Connection, f: &ExceptionFilter) -> Result<Vec<Exception>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EXCEPTION_COLS} FROM exceptions
         WHERE (?1 IS NULL OR code = ?1) AND (?2 IS NULL OR system = ?2)
           AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR created_at >= ?4)
           AND (?6 IS NULL OR (created_at, id) < (SELECT created_at, id FROM exceptions
                WHERE id = ?6))
         ORDER BY created_at DESC, id DESC LIMIT ?5"
    ))?;
    let rows = stmt
        .query_map(
            params![
                f.code.map(ErrorCode::as_str),
                f.system,
                f.status.map(ExceptionStatus::as_str),
                f.since.map(|t| t.0),
                f.limit,
                f.after
            ],
            exception,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One exception.
pub(super) fn exception_by_id(conn: &Connection, id: &str) -> Result<Option<Exception>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EXCEPTION_COLS} FROM exceptions WHERE id = ?1"
    ))?;
    let Some(mut e) = stmt.query_row([id], exception).optional()? else {
        return Ok(None);
    };
    let payload: Option<Option<String>> = conn
        .prepare_cached("SELECT payload FROM jobs WHERE id = ?1")?
        .query_row([e.job_id.as_str()], |r| r.get(0))
        .optional()?;
    e.payload = payload
        .flatten()
        .and_then(|t| serde_json::from_str(&t).ok());
    Ok(Some(e))
}

/// Retries or resolves an exception (on the write connection, in the caller's transaction).
pub(super) fn act(
    conn: &Connection,
    id: &str,
    action: ExceptionAction,
    payload: Option<&serde_json::Value>,
    now: Timestamp,
) -> Result<Option<Exception>> {
    if action == ExceptionAction::Retry {
        conn.prepare_cached(REQUEUE_JOB)?
            .execute(named_params! {"$1": id, "$2": now.0})?;
        if let Some(p) = payload {
            conn.prepare_cached(
                "UPDATE jobs SET payload = ?2 WHERE id = (SELECT job_id FROM exceptions
                 WHERE id = ?1)",
            )?
            .execute(params![id, p.to_string()])?;
        }
    }
    conn.prepare_cached(SET_EXCEPTION_STATUS)?
        .execute(named_params! {
            "$1": id,
            "$2": action.status().as_str(),
            "$3": now.0,
        })?;
    exception_by_id(conn, id)
}

/// Jobs matching a filter, oldest due first.
pub(super) fn list(conn: &Connection, f: &JobFilter) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLS} FROM jobs WHERE (?1 IS NULL OR state = ?1)
           AND (?2 IS NULL OR system = ?2)
           AND (?4 IS NULL OR (run_at, id) > (SELECT run_at, id FROM jobs WHERE id = ?4))
         ORDER BY run_at, id LIMIT ?3"
    ))?;
    let jobs = stmt
        .query_map(
            params![f.state.map(JobState::as_str), f.system, f.limit, f.after],
            job,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(jobs)
}

/// Keeps an inbound payload as a failed job with its exception (in the caller's transaction).
pub(super) fn park(conn: &Connection, job: &crate::ParkedJob, now: Timestamp) -> Result<()> {
    let written = conn
        .prepare_cached(crate::inbound::PARK_JOB)?
        .execute(named_params! {
            "$1": job.id.as_str(),
            "$2": job.kind.as_str(),
            "$3": job.kind.system(),
            "$4": job.payload.to_string(),
            "$5": job.error,
            "$6": now.0,
        })?;
    if written > 0 {
        conn.prepare_cached(OPEN_EXCEPTION)?
            .execute(named_params! {
                "$1": job.id.as_str(),
                "$2": job.code.as_str(),
                "$3": job.error,
                "$4": job.code.steps(),
                "$5": now.0,
            })?;
    }
    Ok(())
}

/// Keeps a refused delivery, forgetting the connector's oldest beyond those kept.
pub(super) fn reject(conn: &Connection, r: &crate::Rejection) -> Result<()> {
    conn.prepare_cached(crate::inbound::RECORD_REJECTION)?
        .execute(named_params! {
            "$1": r.connector,
            "$2": r.reason,
            "$3": r.received_at.0,
            "$4": r.headers.to_string(),
            "$5": r.body,
            "$6": r.body_bytes,
        })?;
    conn.prepare_cached(crate::inbound::FORGET_REJECTIONS)?
        .execute(named_params! {"$1": r.connector, "$2": crate::inbound::REJECTIONS_KEPT})?;
    Ok(())
}

/// Rejections, newest first.
pub(super) fn rejections(
    conn: &Connection,
    connector: Option<&str>,
    limit: i64,
) -> Result<Vec<crate::Rejection>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, connector, reason, received_at, headers, body, body_bytes
         FROM hook_rejections WHERE (?1 IS NULL OR connector = ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![connector, limit], |r| {
        let headers: String = r.get(4)?;
        Ok(crate::Rejection {
            id: r.get(0)?,
            connector: r.get(1)?,
            reason: r.get(2)?,
            received_at: Timestamp(r.get(3)?),
            headers: serde_json::from_str(&headers).unwrap_or(serde_json::Value::Null),
            body: r.get(5)?,
            body_bytes: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
