//! API keys on PostgreSQL.

use super::*;
use crate::keys::{self, StoredKey};

impl crate::KeyStore for PgStore {
    async fn create_key(&self, k: StoredKey) -> Result<bool> {
        let rows = sqlx::query(keys::CREATE)
            .bind(&k.name)
            .bind(&k.hash)
            .bind(&k.prefix)
            .bind(keys::scopes_text(&k.scopes))
            .bind(k.rate_per_sec.map(i64::from))
            .bind(&k.system)
            .bind(k.created_at.0)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(rows == 1)
    }

    async fn keys(&self) -> Result<Vec<StoredKey>> {
        self.listed(keys::LIST).await
    }

    async fn live_keys(&self) -> Result<Vec<StoredKey>> {
        self.listed(keys::LIST_LIVE).await
    }

    async fn revoke_key(&self, name: &str, at: Timestamp) -> Result<bool> {
        let rows = sqlx::query(keys::REVOKE)
            .bind(name)
            .bind(at.0)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(rows > 0)
    }

    async fn mark_keys_used(&self, used: Vec<(String, Timestamp)>) -> Result<()> {
        let (hashes, ats): (Vec<String>, Vec<i64>) =
            used.into_iter().map(|(h, t)| (h, t.0)).unzip();
        sqlx::query(
            "UPDATE api_keys k SET last_used_at = u.at FROM UNNEST($1::TEXT[], $2::BIGINT[]) \
             AS u(hash, at) WHERE k.hash = u.hash AND (k.last_used_at IS NULL OR k.last_used_at < u.at)",
        )
        .bind(hashes)
        .bind(ats)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl PgStore {
    /// The keys `sql` (one of the listings) selects.
    async fn listed(&self, sql: &'static str) -> Result<Vec<StoredKey>> {
        let rows: Vec<keys::Row> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(keys::from_row).collect()
    }
}
