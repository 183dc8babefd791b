//! What comes in through a connector's webhooks and is not simply taken in: a payload that
//! could not be taken in when it came (kept as a failed job with its exception, so an operator
//! can mend the cause or the payload and retry), and a delivery whose signature did not check
//! out (kept, with its raw body, for an operator to inspect; never taken in).

use crossdock_domain::{ErrorCode, JobId, JobKind, Timestamp};
use serde::Serialize;

/// An inbound payload to keep as a failed job with its exception.
#[derive(Debug, Clone)]
pub struct ParkedJob {
    /// The job's id, the same for every redelivery of the payload.
    pub id: JobId,
    /// What taking it in again does.
    pub kind: JobKind,
    /// What the job needs to take the payload in again (the connector, the topic, the body).
    pub payload: serde_json::Value,
    /// Why it was not taken in.
    pub code: ErrorCode,
    /// What went wrong, for operators.
    pub error: String,
}

/// A webhook delivery refused for its signature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// Its position among rejections, newest highest.
    pub id: i64,
    /// The connector it came to.
    pub connector: String,
    /// Why it was refused.
    pub reason: String,
    /// When.
    pub received_at: Timestamp,
    /// Its headers, those a signature scheme reads and the sender's identification.
    pub headers: serde_json::Value,
    /// Its body as received, cut at [`REJECTED_BODY_BYTES`] (lossy UTF-8).
    pub body: String,
    /// How long the body was.
    pub body_bytes: i64,
}

/// A rejection keeps at most this much of the body.
pub const REJECTED_BODY_BYTES: usize = 64 * 1024;

/// Rejections kept per connector; older ones are forgotten as new ones come.
pub const REJECTIONS_KEPT: i64 = 1_000;

/// Writes a parked job, failed, unless the same job is being run right now (a retry in
/// flight takes the payload in). Parameters: id, kind, system, payload (JSON text), error,
/// now.
pub(crate) const PARK_JOB: &str = "INSERT INTO jobs (id, kind, system, order_id, state, \
     attempts, run_at, created_at, payload, last_error) \
     VALUES ($1, $2, $3, NULL, 'failed', 1, $6, $6, $4, $5) \
     ON CONFLICT (id) DO UPDATE SET state = 'failed', last_error = excluded.last_error, \
     attempts = jobs.attempts + 1 WHERE jobs.state <> 'leased'";

/// Records a rejection. Parameters: connector, reason, received at, headers (JSON text),
/// body, body length.
pub(crate) const RECORD_REJECTION: &str = "INSERT INTO hook_rejections (connector, reason, \
     received_at, headers, body, body_bytes) VALUES ($1, $2, $3, $4, $5, $6)";

/// Forgets a connector's rejections beyond the newest [`REJECTIONS_KEPT`]. Parameters:
/// connector, how many to keep.
pub(crate) const FORGET_REJECTIONS: &str = "DELETE FROM hook_rejections WHERE connector = $1 \
     AND id <= (SELECT id FROM hook_rejections WHERE connector = $1 ORDER BY id DESC \
     LIMIT 1 OFFSET $2)";

impl Rejection {
    /// A rejection of `body` (kept up to [`REJECTED_BODY_BYTES`]); its id is given when
    /// stored.
    pub fn new(
        connector: &str,
        reason: String,
        received_at: Timestamp,
        headers: serde_json::Value,
        body: &[u8],
    ) -> Self {
        Rejection {
            id: 0,
            connector: connector.to_string(),
            reason,
            received_at,
            headers,
            body: String::from_utf8_lossy(&body[..body.len().min(REJECTED_BODY_BYTES)])
                .into_owned(),
            body_bytes: body.len() as i64,
        }
    }
}

/// Moves a connector's cursor forward (never back). Parameters: connector, seq, now.
pub(crate) const SET_CURSOR: &str = "INSERT INTO connector_cursors (connector, seq, updated_at) \
     VALUES ($1, $2, $3) ON CONFLICT (connector) DO UPDATE SET seq = excluded.seq, \
     updated_at = excluded.updated_at WHERE connector_cursors.seq < excluded.seq";

/// A connector's cursor. Parameter: connector.
pub(crate) const CURSOR: &str = "SELECT seq FROM connector_cursors WHERE connector = $1";
