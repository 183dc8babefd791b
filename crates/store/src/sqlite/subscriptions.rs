//! Subscriptions on SQLite: writes on the writer thread (merged with the job runner's),
//! reads on the reader pool.

use rusqlite::named_params;

use super::*;
use crate::subscriptions::sql;
use crate::subscriptions::{Attempt, AttemptQuery, DueDelivery, Subscription};

impl crate::SubscriptionStore for SqliteStore {
    async fn create_subscription(&self, s: Subscription) -> Result<()> {
        let types = serde_json::to_string(&s.event_types).expect("names serialise");
        self.write(move |c| {
            c.prepare_cached(sql::CREATE)?.execute(named_params! {
                "$1": s.id, "$2": s.url, "$3": types, "$4": s.secret, "$5": s.created_at.0,
                "$6": s.cursor,
            })?;
            Ok(())
        })
        .await
    }

    async fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(sql::LIST)?;
            let rows = stmt.query_map([], |r| {
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
                ))
            })?;
            let rows: Vec<sql::Row> = rows.collect::<rusqlite::Result<_>>()?;
            rows.into_iter().map(sql::from_row).collect()
        })
        .await
    }

    async fn followed(&self) -> Result<Vec<crate::subscriptions::Followed>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(sql::FOLLOWED)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let rows: Vec<(String, String, i64)> = rows.collect::<rusqlite::Result<_>>()?;
            rows.into_iter().map(sql::followed_from_row).collect()
        })
        .await
    }

    async fn delete_subscription(&self, id: &str) -> Result<bool> {
        let id = id.to_string();
        self.write(move |c| {
            let mut gone = None;
            for statement in sql::DELETE {
                let rows = c
                    .prepare_cached(statement)?
                    .execute(named_params! {"$1": id})?;
                gone.get_or_insert(rows);
            }
            Ok(gone > Some(0))
        })
        .await
    }

    async fn queue_deliveries(
        &self,
        id: &str,
        from: i64,
        to: i64,
        seqs: Vec<i64>,
        now: Timestamp,
    ) -> Result<bool> {
        let id = id.to_string();
        self.write(move |c| {
            let moved = c
                .prepare_cached(sql::MOVE_CURSOR)?
                .execute(named_params! {"$1": id, "$2": from, "$3": to})?;
            if moved == 0 {
                return Ok(false);
            }
            let mut queue = c.prepare_cached(sql::QUEUE)?;
            for seq in seqs {
                queue.execute(named_params! {"$1": id, "$2": seq, "$3": now.0})?;
            }
            Ok(true)
        })
        .await
    }

    async fn replay(&self, id: &str, after: i64) -> Result<bool> {
        let id = id.to_string();
        self.write(move |c| {
            Ok(c.prepare_cached(sql::REPLAY)?
                .execute(named_params! {"$1": id, "$2": after})?
                > 0)
        })
        .await
    }

    async fn lease_deliveries(
        &self,
        now: Timestamp,
        until: Timestamp,
        limit: i64,
    ) -> Result<Vec<DueDelivery>> {
        self.write(move |c| {
            let mut due = c.prepare_cached(
                "SELECT d.subscription_id, s.url, s.secret, d.seq, d.attempts, e.type, \
                 e.recorded_at, e.data FROM deliveries d \
                 JOIN subscriptions s ON s.id = d.subscription_id JOIN events e ON e.seq = d.seq \
                 WHERE d.state = 'pending' AND d.next_at <= ?1 AND s.disabled_at IS NULL \
                 ORDER BY d.next_at LIMIT ?2",
            )?;
            let leased = due
                .query_map(params![now.0, limit], |r| {
                    Ok(DueDelivery {
                        subscription: r.get(0)?,
                        url: r.get(1)?,
                        secret: r.get(2)?,
                        seq: r.get(3)?,
                        attempts: r.get(4)?,
                        event_type: r.get(5)?,
                        recorded_at: Timestamp(r.get(6)?),
                        data: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut lease = c.prepare_cached(
                "UPDATE deliveries SET next_at = ?3 WHERE subscription_id = ?1 AND seq = ?2",
            )?;
            for d in &leased {
                lease.execute(params![d.subscription, d.seq, until.0])?;
            }
            Ok(leased)
        })
        .await
    }

    async fn finish_delivery(&self, a: Attempt) -> Result<bool> {
        self.write(move |c| {
            let (state, next_at) = sql::finish_params(&a);
            let finished = c.prepare_cached(sql::FINISH)?.execute(named_params! {
                "$1": a.subscription, "$2": a.seq, "$3": a.attempt, "$4": state,
                "$5": next_at, "$6": a.at.0,
            })?;
            if finished == 0 {
                return Ok(false);
            }
            c.prepare_cached(sql::RECORD_ATTEMPT)?
                .execute(named_params! {
                    "$1": a.subscription, "$2": a.seq, "$3": a.attempt, "$4": a.at.0,
                    "$5": a.status, "$6": a.error, "$7": a.duration_ms, "$8": a.outcome.as_str(),
                    "$9": a.next_at.map(|t| t.0),
                })?;
            if a.outcome == crate::AttemptOutcome::Disabled {
                c.prepare_cached(sql::DISABLE)?.execute(named_params! {
                    "$1": a.subscription, "$2": a.at.0, "$3": a.error,
                })?;
            }
            Ok(true)
        })
        .await
    }

    async fn attempts(&self, q: AttemptQuery) -> Result<Vec<Attempt>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(sql::ATTEMPTS)?;
            let rows = stmt.query_map(
                named_params! {"$1": q.subscription, "$2": q.seq, "$3": q.after, "$4": q.limit},
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
                    ))
                },
            )?;
            let rows: Vec<sql::AttemptRow> = rows.collect::<rusqlite::Result<_>>()?;
            rows.into_iter().map(sql::attempt_from_row).collect()
        })
        .await
    }

    async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        self.write(move |c| {
            let mut gone = 0;
            for statement in sql::PRUNE {
                gone += c
                    .prepare_cached(statement)?
                    .execute(named_params! {"$1": before.0})? as u64;
            }
            Ok(gone)
        })
        .await
    }
}
