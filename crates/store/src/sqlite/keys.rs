//! API keys on SQLite: writes on the writer thread, reads on the reader pool.

use rusqlite::named_params;

use super::*;
use crate::keys::{self, StoredKey};

impl crate::KeyStore for SqliteStore {
    async fn create_key(&self, k: StoredKey) -> Result<bool> {
        self.write(move |c| {
            let rows = c.prepare_cached(keys::CREATE)?.execute(named_params! {
                "$1": k.name, "$2": k.hash, "$3": k.prefix, "$4": keys::scopes_text(&k.scopes),
                "$5": k.rate_per_sec, "$6": k.system, "$7": k.created_at.0,
            })?;
            Ok(rows == 1)
        })
        .await
    }

    async fn keys(&self) -> Result<Vec<StoredKey>> {
        self.read(|c| listed(c, keys::LIST)).await
    }

    async fn live_keys(&self) -> Result<Vec<StoredKey>> {
        self.read(|c| listed(c, keys::LIST_LIVE)).await
    }

    async fn revoke_key(&self, name: &str, at: Timestamp) -> Result<bool> {
        let name = name.to_string();
        self.write(move |c| {
            let rows = (c.prepare_cached(keys::REVOKE)?)
                .execute(named_params! {"$1": name, "$2": at.0})?;
            Ok(rows > 0)
        })
        .await
    }

    async fn mark_keys_used(&self, used: Vec<(String, Timestamp)>) -> Result<()> {
        self.write(move |c| {
            let mut stmt = c.prepare_cached(keys::MARK_USED)?;
            for (hash, at) in used {
                stmt.execute(named_params! {"$1": hash, "$2": at.0})?;
            }
            Ok(())
        })
        .await
    }
}

/// The keys `sql` (one of the listings) selects.
fn listed(c: &rusqlite::Connection, sql: &str) -> Result<Vec<StoredKey>> {
    let mut stmt = c.prepare_cached(sql)?;
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
        ))
    })?;
    let rows: Vec<keys::Row> = rows.collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(keys::from_row).collect()
}
