//! Tries and traces on SQLite: tries are written on the writer thread, traces read on the
//! reader pool.

use rusqlite::named_params;

use super::*;
use crate::trace::{self, JobAttempt, Trace};
use crossdock_domain::JobKind;

impl crate::TraceStore for SqliteStore {
    async fn record_attempt(&self, a: JobAttempt) -> Result<()> {
        self.write(move |c| {
            c.prepare_cached(trace::RECORD)?.execute(named_params! {
                "$1": a.job_id.as_str(), "$2": a.attempt, "$3": a.kind.as_str(),
                "$4": a.system, "$5": a.order_id.as_ref().map(|o| o.as_str()),
                "$6": a.correlation_id, "$7": a.started_at.0, "$8": a.duration_ms,
                "$9": a.outcome.as_str(), "$10": a.http_status, "$11": a.error,
            })?;
            Ok(())
        })
        .await
    }

    async fn trace(&self, correlation_id: &str) -> Result<Trace> {
        let corr = correlation_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(trace::ORDERS)?;
            let rows = stmt
                .query_map(named_params! {"$1": corr, "$2": trace::TRACE_ORDERS}, |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
            let rows: Vec<trace::OrderRow> = rows.collect::<rusqlite::Result<_>>()?;
            let orders = rows
                .into_iter()
                .map(trace::order)
                .collect::<Result<Vec<_>>>()?;

            let mut stmt = c.prepare_cached(trace::ATTEMPTS)?;
            let rows = stmt.query_map(
                named_params! {"$1": corr, "$2": trace::TRACE_ATTEMPTS},
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                    ))
                },
            )?;
            let rows: Vec<trace::AttemptRow> = rows.collect::<rusqlite::Result<_>>()?;
            let attempts = (rows.into_iter().map(trace::attempt)).collect::<Result<Vec<_>>>()?;

            let mut steps = Vec::new();
            let mut stmt = c.prepare_cached(trace::STEPS)?;
            for order in trace::traced_order_ids(&orders, &attempts) {
                let rows = stmt.query_map(named_params! {"$1": corr, "$2": order}, |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })?;
                let rows: Vec<trace::StepRow> = rows.collect::<rusqlite::Result<_>>()?;
                for row in rows {
                    steps.push(trace::step(row)?);
                }
            }
            Ok(Trace {
                orders,
                steps,
                attempts,
            })
        })
        .await
    }

    async fn flow_times(
        &self,
        kind: JobKind,
        since: Timestamp,
        from_order: bool,
    ) -> Result<Vec<i64>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(trace::FLOW_TIMES)?;
            let params =
                named_params! {"$1": kind.as_str(), "$2": since.0, "$3": i64::from(from_order)};
            let times = stmt.query_map(params, |r| r.get(0))?;
            Ok(times.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn late_jobs(
        &self,
        kind: JobKind,
        since: Timestamp,
        late_before: Timestamp,
        from_order: bool,
    ) -> Result<i64> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(trace::LATE_JOBS)?;
            let params = named_params! {"$1": kind.as_str(), "$2": since.0, "$3": late_before.0,
            "$4": i64::from(from_order)};
            Ok(stmt.query_row(params, |r| r.get(0))?)
        })
        .await
    }

    async fn purge_attempts(&self, before: Timestamp) -> Result<u64> {
        self.write(move |c| {
            let n = c
                .prepare_cached(trace::PURGE)?
                .execute(named_params! {"$1": before.0})?;
            Ok(n as u64)
        })
        .await
    }
}
