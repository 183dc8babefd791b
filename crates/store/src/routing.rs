//! Jobs routed to one of several ERPs: a job waiting in the `erp` queue is moved to the
//! queue of the ERP its order is assigned to, the assignment made by the first such move
//! and kept (an order stays with the ERP it was posted to).

use std::future::Future;

use crossdock_domain::Timestamp;

use crate::{AnyStore, PgStore, Result, SqliteStore};

/// Storage for ERP assignments. Both backends pass the same conformance suite.
pub trait ErpAssignments: Send + Sync + 'static {
    /// Moves the job `id` leased by `owner` to the queue of its order's ERP, due now: the
    /// system `order` is assigned to, else `target`, which it is then assigned to (a job
    /// with no order goes to `target`). The system it went to; `None` when the lease was
    /// lost.
    fn route_job(
        &self,
        id: &str,
        owner: &str,
        order: Option<&str>,
        target: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<String>>> + Send;

    /// The ERP system the order is assigned to, if it is.
    fn erp_of(&self, order: &str) -> impl Future<Output = Result<Option<String>>> + Send;
}

/// Parameters: order, system, now.
const ASSIGN: &str = "INSERT INTO erp_assignments (order_id, system, assigned_at) \
     VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING";

/// Parameters: order.
const ASSIGNED: &str = "SELECT system FROM erp_assignments WHERE order_id = $1";

/// Parameters: system, now, job, owner. A lease taken once more than the job ran: the move
/// takes its attempt back.
const MOVE: &str = "UPDATE jobs SET system = $1, state = 'ready', run_at = $2, \
     lease_owner = NULL, lease_until = NULL, attempts = attempts - 1 \
     WHERE id = $3 AND lease_owner = $4 AND state = 'leased'";

impl ErpAssignments for SqliteStore {
    async fn route_job(
        &self,
        id: &str,
        owner: &str,
        order: Option<&str>,
        target: &str,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let (id, owner) = (id.to_string(), owner.to_string());
        let (order, target) = (order.map(str::to_string), target.to_string());
        self.write(move |c| {
            let system = match &order {
                Some(order) => {
                    c.prepare_cached(ASSIGN)?.execute(rusqlite::named_params! {
                        "$1": order, "$2": target, "$3": now.0,
                    })?;
                    c.prepare_cached(ASSIGNED)?
                        .query_row(rusqlite::named_params! {"$1": order}, |r| r.get(0))?
                }
                None => target,
            };
            let moved = c.prepare_cached(MOVE)?.execute(rusqlite::named_params! {
                "$1": system, "$2": now.0, "$3": id, "$4": owner,
            })?;
            Ok((moved == 1).then_some(system))
        })
        .await
    }

    async fn erp_of(&self, order: &str) -> Result<Option<String>> {
        let order = order.to_string();
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            Ok(c.prepare_cached(ASSIGNED)?
                .query_row(rusqlite::named_params! {"$1": order}, |r| r.get(0))
                .optional()?)
        })
        .await
    }
}

impl ErpAssignments for PgStore {
    async fn route_job(
        &self,
        id: &str,
        owner: &str,
        order: Option<&str>,
        target: &str,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let mut tx = self.pool().begin().await?;
        let system = match order {
            Some(order) => {
                sqlx::query(ASSIGN)
                    .bind(order)
                    .bind(target)
                    .bind(now.0)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query_scalar(ASSIGNED)
                    .bind(order)
                    .fetch_one(&mut *tx)
                    .await?
            }
            None => target.to_string(),
        };
        let moved = sqlx::query(MOVE)
            .bind(&system)
            .bind(now.0)
            .bind(id)
            .bind(owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((moved == 1).then_some(system))
    }

    async fn erp_of(&self, order: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(ASSIGNED)
            .bind(order)
            .fetch_optional(self.pool())
            .await?)
    }
}

impl ErpAssignments for AnyStore {
    async fn route_job(
        &self,
        id: &str,
        owner: &str,
        order: Option<&str>,
        target: &str,
        now: Timestamp,
    ) -> Result<Option<String>> {
        delegate!(self, s => s.route_job(id, owner, order, target, now))
    }

    async fn erp_of(&self, order: &str) -> Result<Option<String>> {
        delegate!(self, s => s.erp_of(order))
    }
}
