//! Subscriptions on PostgreSQL. Several instances may deliver at once: a lease takes due
//! deliveries with `FOR UPDATE SKIP LOCKED`, and a cursor moves only from where it was read.

use super::*;
use crate::subscriptions::sql;
use crate::subscriptions::{Attempt, AttemptQuery, DueDelivery, Subscription};

impl crate::SubscriptionStore for PgStore {
    async fn create_subscription(&self, s: Subscription) -> Result<()> {
        let types = serde_json::to_string(&s.event_types).expect("names serialise");
        sqlx::query(sql::CREATE)
            .bind(&s.id)
            .bind(&s.url)
            .bind(types)
            .bind(&s.secret)
            .bind(s.created_at.0)
            .bind(s.cursor)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn subscriptions(&self) -> Result<Vec<Subscription>> {
        let rows: Vec<sql::Row> = sqlx::query_as(sql::LIST).fetch_all(&self.pool).await?;
        rows.into_iter().map(sql::from_row).collect()
    }

    async fn followed(&self) -> Result<Vec<crate::subscriptions::Followed>> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as(sql::FOLLOWED).fetch_all(&self.pool).await?;
        rows.into_iter().map(sql::followed_from_row).collect()
    }

    async fn delete_subscription(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let mut gone = None;
        for statement in sql::DELETE {
            let rows = sqlx::query(statement)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            gone.get_or_insert(rows);
        }
        tx.commit().await?;
        Ok(gone > Some(0))
    }

    async fn queue_deliveries(
        &self,
        id: &str,
        from: i64,
        to: i64,
        seqs: Vec<i64>,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(sql::MOVE_CURSOR)
            .bind(id)
            .bind(from)
            .bind(to)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        if !seqs.is_empty() {
            sqlx::query(
                "INSERT INTO deliveries (subscription_id, seq, state, attempts, next_at, \
                 updated_at) SELECT $1, u.seq, 'pending', 0, $3, $3 FROM unnest($2::bigint[]) \
                 AS u(seq) ON CONFLICT (subscription_id, seq) DO UPDATE SET state = 'pending', \
                 attempts = 0, next_at = excluded.next_at, updated_at = excluded.updated_at",
            )
            .bind(id)
            .bind(&seqs)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn replay(&self, id: &str, after: i64) -> Result<bool> {
        Ok(sqlx::query(sql::REPLAY)
            .bind(id)
            .bind(after)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    async fn lease_deliveries(
        &self,
        now: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> Result<Vec<DueDelivery>> {
        type Leased = (String, String, String, i64, i32, String, i64, String);
        let rows: Vec<Leased> = sqlx::query_as(
            "WITH due AS (
               SELECT d.subscription_id, d.seq FROM deliveries d
               JOIN subscriptions s ON s.id = d.subscription_id
               WHERE d.state = 'pending' AND d.next_at <= $1 AND s.disabled_at IS NULL
               ORDER BY d.next_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED),
             leased AS (
               UPDATE deliveries d SET next_at = $2 FROM due
               WHERE d.subscription_id = due.subscription_id AND d.seq = due.seq
               RETURNING d.subscription_id, d.seq, d.attempts)
             SELECT l.subscription_id, s.url, s.secret, l.seq, l.attempts, e.type,
                    e.recorded_at, e.data::text
             FROM leased l JOIN subscriptions s ON s.id = l.subscription_id
             JOIN events e ON e.seq = l.seq ORDER BY l.seq",
        )
        .bind(now.0)
        .bind(until.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(subscription, url, secret, seq, attempts, event_type, at, data)| DueDelivery {
                    subscription,
                    url,
                    secret,
                    seq,
                    attempts,
                    event_type,
                    recorded_at: Timestamp(at),
                    data,
                },
            )
            .collect())
    }

    async fn finish_delivery(&self, a: Attempt) -> Result<bool> {
        let (state, next_at) = sql::finish_params(&a);
        let mut tx = self.pool.begin().await?;
        let finished = sqlx::query(sql::FINISH)
            .bind(&a.subscription)
            .bind(a.seq)
            .bind(a.attempt)
            .bind(state)
            .bind(next_at)
            .bind(a.at.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if finished == 0 {
            return Ok(false);
        }
        sqlx::query(sql::RECORD_ATTEMPT)
            .bind(&a.subscription)
            .bind(a.seq)
            .bind(a.attempt)
            .bind(a.at.0)
            .bind(a.status.map(i32::from))
            .bind(&a.error)
            .bind(a.duration_ms)
            .bind(a.outcome.as_str())
            .bind(a.next_at.map(|t| t.0))
            .execute(&mut *tx)
            .await?;
        if a.outcome == crate::AttemptOutcome::Disabled {
            sqlx::query(sql::DISABLE)
                .bind(&a.subscription)
                .bind(a.at.0)
                .bind(&a.error)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn attempts(&self, q: AttemptQuery) -> Result<Vec<Attempt>> {
        let rows: Vec<sql::AttemptRow> = sqlx::query_as(sql::ATTEMPTS)
            .bind(q.subscription)
            .bind(q.seq)
            .bind(q.after)
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(sql::attempt_from_row).collect()
    }

    async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        let mut gone = 0;
        for statement in sql::PRUNE {
            gone += sqlx::query(statement)
                .bind(before.0)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(gone)
    }
}
