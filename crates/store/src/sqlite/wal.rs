//! Keeps the write-ahead log bounded, under load and at rest.
//!
//! A passive checkpoint copies the WAL back into the database without waiting for anyone,
//! but it can never let the WAL start over while readers keep reading: under a steady mix of
//! commits and reads the file grows without end. So:
//! - a thread of its own checkpoints passively every tick (the copying, off the writer);
//! - the writer, between two commits, looks at the WAL's size now and then
//!   ([`WalGuard`]); past its target ([`WAL_TARGET`] by default) it takes a `RESTART`
//!   checkpoint itself: that waits (within the busy timeout) for readers to move to the
//!   newest snapshot, and the WAL then starts over from its beginning, `journal_size_limit`
//!   cutting the file back to the target. Taken from another connection, the same checkpoint
//!   would queue for the write lock behind a writer that never lets go under load;
//! - when no commit came during a tick, the thread truncates the WAL to nothing;
//! - on stop, it truncates it too, so a clean stop leaves no WAL behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::BUSY_TIMEOUT;

/// Past this size the WAL is made to start over, unless the store is opened with another.
pub(super) const WAL_TARGET: u64 = 64 * 1024 * 1024;

/// How often the checkpointer looks.
const TICK: Duration = Duration::from_millis(250);

/// The checkpoint thread, and what it watches.
pub(super) struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How a checkpoint went, as SQLite reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// True when it could not finish (a reader or writer held on past the busy timeout).
    pub busy: bool,
    /// Frames in the WAL.
    pub log_frames: i64,
    /// Frames copied back into the database.
    pub checkpointed: i64,
}

/// Runs `PRAGMA wal_checkpoint(MODE)` on `conn`.
pub(super) fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<Checkpoint> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok(Checkpoint {
            busy: r.get::<_, i64>(0)? != 0,
            log_frames: r.get(1)?,
            checkpointed: r.get(2)?,
        })
    })
}

/// The size of the WAL beside database file `db`, 0 when there is none.
pub fn wal_size(db: &Path) -> u64 {
    let mut p = db.as_os_str().to_owned();
    p.push("-wal");
    std::fs::metadata(PathBuf::from(p)).map_or(0, |m| m.len())
}

impl Checkpointer {
    /// Starts the thread on a connection of its own; `commits` counts the writer's commits.
    pub(super) fn spawn(path: &Path, commits: Arc<AtomicU64>) -> Option<Self> {
        let conn = Connection::open(path).ok()?;
        conn.busy_timeout(BUSY_TIMEOUT).ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("crossdock-sqlite-checkpoint".into())
            .spawn({
                let stop = stop.clone();
                move || run(&conn, &path, &commits, &stop)
            })
            .ok()?;
        Some(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(conn: &Connection, path: &Path, commits: &AtomicU64, stop: &AtomicBool) {
    let mut seen = commits.load(Ordering::Relaxed);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        let now = commits.load(Ordering::Relaxed);
        let idle = now == seen;
        seen = now;
        let size = wal_size(path);
        let mode = if idle && size > 0 {
            "TRUNCATE"
        } else {
            "PASSIVE"
        };
        let started = Instant::now();
        match checkpoint(conn, mode) {
            Ok(c) if mode != "PASSIVE" => tracing::debug!(
                mode,
                wal_bytes = size,
                busy = c.busy,
                frames = c.log_frames,
                ms = started.elapsed().as_millis() as u64,
                "WAL checkpoint"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(mode, error = %e, "WAL checkpoint failed"),
        }
    }
    if let Err(e) = checkpoint(conn, "TRUNCATE") {
        tracing::warn!(error = %e, "cannot truncate the WAL on stop");
    }
}

/// How often the writer looks at the WAL's size.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// The writer's side: between commits, makes a WAL past its target start over.
pub(super) struct WalGuard {
    path: PathBuf,
    target: u64,
    looked: Instant,
}

impl WalGuard {
    pub(super) fn new(path: &Path, target: u64) -> Self {
        Self {
            path: path.to_path_buf(),
            target,
            looked: Instant::now(),
        }
    }

    /// Called by the writer after a commit, on its own connection.
    pub(super) fn after_commit(&mut self, conn: &Connection) {
        if self.looked.elapsed() < LOOK_EVERY {
            return;
        }
        self.looked = Instant::now();
        let size = wal_size(&self.path);
        if size <= self.target {
            return;
        }
        match checkpoint(conn, "RESTART") {
            Ok(c) => tracing::debug!(
                wal_bytes = size,
                busy = c.busy,
                frames = c.log_frames,
                ms = self.looked.elapsed().as_millis() as u64,
                "WAL restarted"
            ),
            Err(e) => tracing::warn!(error = %e, "WAL restart failed"),
        }
    }
}
