//! Append-only schema migrations, embedded in the binary. Never edit one that has landed: add
//! the next version. Each applied migration's checksum (SHA-256 of its text) is recorded
//! with it; a database whose applied migrations differ from the binary's, or that has one the
//! binary does not know (made by a newer build), refuses to open with a message naming the
//! file. Migrations applied before checksums were kept have theirs recorded on the next start.

use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

/// One migration.
pub(crate) struct Migration {
    pub version: i64,
    /// Its file under `migrations/<backend>/`, as `NNNN_name.sql`.
    pub file: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The name recorded with it: the file's, without its number and extension.
    pub fn name(&self) -> &'static str {
        let stem = self.file.strip_suffix(".sql").unwrap_or(self.file);
        stem.split_once('_').map_or(stem, |(_, name)| name)
    }

    /// SHA-256 of its text (line endings as LF, so a checkout that converts them still
    /// matches), in hex.
    pub fn checksum(&self) -> String {
        checksum(self.sql)
    }
}

fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.replace("\r\n", "\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A migration as the database recorded it.
pub(crate) struct Applied {
    pub version: i64,
    pub name: String,
    /// `None` when it was applied before checksums were kept.
    pub checksum: Option<String>,
}

/// Says, once the checksums of `count` migrations applied before checksums were kept have
/// been recorded, that they were.
pub(crate) fn recorded(count: usize) {
    if count > 0 {
        tracing::info!(
            migrations = count,
            "recorded the checksums of migrations applied before checksums were kept"
        );
    }
}

/// The binary's migrations the database has not applied yet, in order.
pub(crate) fn pending<'a>(
    known: &'a [Migration],
    applied: &'a [Applied],
) -> impl Iterator<Item = &'a Migration> {
    known
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
}

/// Compares what the database has applied with the binary's migrations. Returns the
/// (version, checksum) of those applied before checksums were kept, to record now; refuses
/// a database with a migration the binary lacks or one whose text has changed since.
pub(crate) fn check(
    backend: &str,
    known: &[Migration],
    applied: &[Applied],
) -> Result<Vec<(i64, String)>> {
    let mut unrecorded = Vec::new();
    for a in applied {
        let Some(m) = known.iter().find(|m| m.version == a.version) else {
            return Err(StoreError::MigrationDrift(format!(
                "this database has {backend} migration {} ({}), which this build does not \
                 have: it was written by a newer crossdock. Run that version (or newer), or \
                 restore a backup taken before it.",
                a.version, a.name
            )));
        };
        let expected = m.checksum();
        match &a.checksum {
            None => unrecorded.push((m.version, expected)),
            Some(recorded) if *recorded == expected => {}
            Some(recorded) => {
                return Err(StoreError::MigrationDrift(format!(
                    "migrations/{backend}/{} differs from the migration this database applied \
                     (checksum recorded {}, this build's {}). A migration that has landed is \
                     never edited: restore the file as it was and put the change in a new \
                     migration.",
                    m.file,
                    short(recorded),
                    short(&expected)
                )));
            }
        }
    }
    Ok(unrecorded)
}

fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}

/// Each backend's migrations, from one list of files (every migration exists for both):
/// `migrations/sqlite/…` and `migrations/postgres/…`.
macro_rules! migrations {
    ($($version:literal => $file:literal),* $(,)?) => {
        /// SQLite's migrations, in order.
        pub(crate) const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            file: $file,
            sql: include_str!(concat!("../migrations/sqlite/", $file)),
        }),*];

        /// PostgreSQL's migrations, in order.
        pub(crate) const POSTGRES: &[Migration] = &[$(Migration {
            version: $version,
            file: $file,
            sql: include_str!(concat!("../migrations/postgres/", $file)),
        }),*];
    };
}

migrations!(
    1 => "0001_inventory.sql",
    2 => "0002_orders.sql",
    3 => "0003_fulfilment.sql",
    4 => "0004_returns.sql",
    5 => "0005_credit.sql",
    6 => "0006_jobs_by_system.sql",
    7 => "0007_erp_status.sql",
    8 => "0008_reservations_by_order.sql",
    9 => "0009_waiting_lines.sql",
    10 => "0010_legacy_exception_codes.sql",
    11 => "0011_answers_as_given.sql",
    12 => "0012_hook_rejections.sql",
    13 => "0013_connector_cursors.sql",
    14 => "0014_bindings.sql",
    15 => "0015_subscriptions.sql",
    16 => "0016_erp_assignments.sql",
    17 => "0017_prices.sql",
    18 => "0018_api_keys.sql",
    19 => "0019_job_attempts.sql",
);

/// Creates the table that records applied migrations.
pub(crate) const LEDGER_TABLE: &str = "CREATE TABLE IF NOT EXISTS crossdock_migrations (
    version     BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  BIGINT NOT NULL,
    checksum    TEXT
)";

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(version: i64, checksum: Option<String>) -> Applied {
        Applied {
            version,
            name: "x".into(),
            checksum,
        }
    }

    #[test]
    fn names_versions_and_checksums_follow_the_files() {
        for list in [SQLITE, POSTGRES] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{}", m.file);
                assert!(
                    m.file.starts_with(&format!("{:04}_", m.version)),
                    "{}",
                    m.file
                );
                assert!(
                    !m.name().contains('.') && !m.name().is_empty(),
                    "{}",
                    m.file
                );
            }
        }
        assert_eq!(SQLITE[1].name(), "orders");
        assert_eq!(checksum("a\r\nb\n"), checksum("a\nb\n"));
        assert_ne!(checksum("a\nb\n"), checksum("a\nb \n"));
    }

    #[test]
    fn an_edited_or_unknown_migration_is_refused_and_an_unrecorded_one_recorded() {
        let ok: Vec<Applied> = SQLITE
            .iter()
            .map(|m| applied(m.version, Some(m.checksum())))
            .collect();
        assert!(check("sqlite", SQLITE, &ok).unwrap().is_empty());
        let old = [applied(1, None), applied(2, Some(SQLITE[1].checksum()))];
        assert_eq!(
            check("sqlite", SQLITE, &old).unwrap(),
            [(1, SQLITE[0].checksum())]
        );
        let edited = [applied(2, Some(checksum("CREATE TABLE other (x INT);")))];
        let e = check("sqlite", SQLITE, &edited).unwrap_err().to_string();
        assert!(e.contains("migrations/sqlite/0002_orders.sql"), "{e}");
        let newer = [applied(99, Some("f".into()))];
        let e = check("postgres", POSTGRES, &newer).unwrap_err().to_string();
        assert!(e.contains("migration 99") && e.contains("newer"), "{e}");
    }
}
