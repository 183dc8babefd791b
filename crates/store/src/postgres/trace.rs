//! Tries and traces on PostgreSQL.

use super::*;
use crate::trace::{self, JobAttempt, Trace};
use crossdock_domain::JobKind;

impl crate::TraceStore for PgStore {
    async fn record_attempt(&self, a: JobAttempt) -> Result<()> {
        sqlx::query(trace::RECORD)
            .bind(a.job_id.as_str())
            .bind(a.attempt)
            .bind(a.kind.as_str())
            .bind(&a.system)
            .bind(a.order_id.as_ref().map(|o| o.as_str()))
            .bind(&a.correlation_id)
            .bind(a.started_at.0)
            .bind(a.duration_ms)
            .bind(a.outcome.as_str())
            .bind(a.http_status.map(i64::from))
            .bind(&a.error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn trace(&self, correlation_id: &str) -> Result<Trace> {
        let rows: Vec<trace::OrderRow> = sqlx::query_as(trace::ORDERS)
            .bind(correlation_id)
            .bind(trace::TRACE_ORDERS)
            .fetch_all(&self.pool)
            .await?;
        let orders = rows
            .into_iter()
            .map(trace::order)
            .collect::<Result<Vec<_>>>()?;
        let rows: Vec<trace::AttemptRow> = sqlx::query_as(trace::ATTEMPTS)
            .bind(correlation_id)
            .bind(trace::TRACE_ATTEMPTS)
            .fetch_all(&self.pool)
            .await?;
        let attempts = (rows.into_iter().map(trace::attempt)).collect::<Result<Vec<_>>>()?;
        let mut steps = Vec::new();
        for order in trace::traced_order_ids(&orders, &attempts) {
            let rows: Vec<trace::StepRow> = sqlx::query_as(trace::STEPS)
                .bind(correlation_id)
                .bind(order)
                .fetch_all(&self.pool)
                .await?;
            for row in rows {
                steps.push(trace::step(row)?);
            }
        }
        Ok(Trace {
            orders,
            steps,
            attempts,
        })
    }

    async fn flow_times(
        &self,
        kind: JobKind,
        since: Timestamp,
        from_order: bool,
    ) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(trace::FLOW_TIMES)
            .bind(kind.as_str())
            .bind(since.0)
            .bind(i64::from(from_order))
            .fetch_all(&self.pool)
            .await?)
    }

    async fn late_jobs(
        &self,
        kind: JobKind,
        since: Timestamp,
        late_before: Timestamp,
        from_order: bool,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(trace::LATE_JOBS)
            .bind(kind.as_str())
            .bind(since.0)
            .bind(late_before.0)
            .bind(i64::from(from_order))
            .fetch_one(&self.pool)
            .await?)
    }

    async fn purge_attempts(&self, before: Timestamp) -> Result<u64> {
        let n = sqlx::query(trace::PURGE)
            .bind(before.0)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n)
    }
}
