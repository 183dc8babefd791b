//! The one writer thread: batches committed in arrival order, everything waiting merged into
//! one transaction (group commit), and the job runner's writes beside them.

use std::any::Any;

use super::*;

pub(super) type Reply = oneshot::Sender<Result<Committed>>;

/// What the writer thread is asked to do.
pub(super) enum Msg {
    /// Commit a batch (merged with whatever else is waiting).
    Commit(Batch, Reply),
    /// Lease or finish outbox jobs.
    Jobs(JobOp, oneshot::Sender<Result<JobReply>>),
    /// Copy the WAL back into the database and truncate it.
    Checkpoint(oneshot::Sender<Result<Checkpoint>>),
}

pub(super) enum JobOp {
    Lease(crate::LeaseRequest),
    Finish(String, String, crate::JobFinish, Timestamp),
    Act(
        String,
        crate::ExceptionAction,
        Option<serde_json::Value>,
        Timestamp,
    ),
    PurgeKeys(Timestamp),
    Hasten(String, Timestamp),
    RecordCredit(String, String, Timestamp),
    Park(Box<crate::ParkedJob>, Timestamp),
    Reject(Box<crate::Rejection>),
    SetCursor(String, i64, Timestamp),
    /// Any other write, answered with whatever it returns (see [`SqliteStore::write`]).
    Call(Call),
}

/// A write run on the writer's transaction; its answer goes back as [`JobReply::Any`].
pub(super) type Call = Box<dyn FnOnce(&Connection) -> Result<Box<dyn Any + Send>> + Send>;

pub(super) enum JobReply {
    Leased(Vec<crate::Job>),
    Finished(bool),
    Acted(Option<Box<crate::Exception>>),
    Purged(u64),
    Recorded,
    Any(Box<dyn Any + Send>),
}

pub(super) type JobReplyTx = oneshot::Sender<Result<JobReply>>;

pub(super) fn job_op(tx: &Connection, op: JobOp) -> Result<JobReply> {
    Ok(match op {
        JobOp::Lease(req) => JobReply::Leased(jobs::lease(tx, &req)?),
        JobOp::Finish(id, owner, f, now) => {
            JobReply::Finished(jobs::finish(tx, &id, &owner, &f, now)?)
        }
        JobOp::PurgeKeys(before) => JobReply::Purged(tx.execute(
            "DELETE FROM idempotency_keys WHERE created_at < ?1",
            [before.0],
        )? as u64),
        JobOp::Hasten(system, now) => JobReply::Purged(
            tx.prepare_cached(crate::jobs::HASTEN)?
                .execute(rusqlite::named_params! {"$1": system, "$2": now.0})? as u64,
        ),
        JobOp::RecordCredit(account, status, at) => {
            tx.prepare_cached(crate::jobs::RECORD_CREDIT)?
                .execute(rusqlite::named_params! {"$1": account, "$2": status, "$3": at.0})?;
            JobReply::Recorded
        }
        JobOp::Act(id, action, payload, now) => {
            JobReply::Acted(jobs::act(tx, &id, action, payload.as_ref(), now)?.map(Box::new))
        }
        JobOp::Park(job, now) => {
            jobs::park(tx, &job, now)?;
            JobReply::Recorded
        }
        JobOp::Reject(rejection) => {
            jobs::reject(tx, &rejection)?;
            JobReply::Recorded
        }
        JobOp::SetCursor(connector, seq, now) => {
            tx.prepare_cached(crate::inbound::SET_CURSOR)?
                .execute(rusqlite::named_params! {"$1": connector, "$2": seq, "$3": now.0})?;
            JobReply::Recorded
        }
        JobOp::Call(call) => JobReply::Any(call(tx)?),
    })
}

/// Runs queued job operations (leases, finishes, exception actions) in one transaction,
/// like batches: one commit for everything waiting. A failed one fails alone (savepoint).
pub(super) fn run_job_ops(conn: &mut Connection, ops: Vec<(JobOp, JobReplyTx)>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for (_, reply) in ops {
                let _ = reply.send(Err(StoreError::Setup(msg.clone())));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(ops.len());
    for (op, reply) in ops {
        let result = tx
            .execute_batch("SAVEPOINT job_op")
            .map_err(StoreError::from)
            .and_then(|()| job_op(&tx, op));
        let undo = if result.is_ok() {
            "RELEASE job_op"
        } else {
            "ROLLBACK TO job_op; RELEASE job_op"
        };
        let _ = tx.execute_batch(undo);
        answers.push((reply, result));
    }
    match tx.commit() {
        Ok(()) => {
            for (reply, result) in answers {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for (reply, _) in answers {
                let _ = reply.send(Err(StoreError::Setup(format!("job commit failed: {msg}"))));
            }
        }
    }
}

/// Most commands the writer merges into one transaction.
pub(super) const MERGE_MAX: usize = 8192;

/// Commits batches in arrival order. Everything waiting when the writer becomes free is
/// merged into one transaction (group commit); each caller gets its own outcomes.
pub(super) fn write_loop(
    mut conn: Connection,
    mut next_seq: i64,
    rx: mpsc::Receiver<Msg>,
    commits: &AtomicU64,
    mut wal: wal::WalGuard,
) {
    let mut cache = HashMap::new();
    let mut held: Option<Msg> = None;
    loop {
        let msg = match held.take() {
            Some(m) => m,
            None => match rx.recv() {
                Ok(m) => m,
                Err(_) => return,
            },
        };
        commits.fetch_add(1, Ordering::Relaxed);
        wal.after_commit(&conn);
        let first = match msg {
            Msg::Commit(batch, reply) => (batch, reply),
            Msg::Checkpoint(reply) => {
                let _ = reply.send(wal::checkpoint(&conn, "TRUNCATE").map_err(Into::into));
                continue;
            }
            Msg::Jobs(op, reply) => {
                let mut ops = vec![(op, reply)];
                while ops.len() < MERGE_MAX {
                    match rx.try_recv() {
                        Ok(Msg::Jobs(op, reply)) => ops.push((op, reply)),
                        Ok(other) => {
                            held = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                run_job_ops(&mut conn, ops);
                continue;
            }
        };
        let mut group = vec![first];
        let mut size = group[0].0.commands.len();
        while size < MERGE_MAX {
            match rx.try_recv() {
                Ok(Msg::Commit(b, r)) if Arc::ptr_eq(&b.estate, &group[0].0.estate) => {
                    size += b.commands.len();
                    group.push((b, r));
                }
                Ok(other) => {
                    held = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        let merged = Batch {
            commands: group
                .iter()
                .flat_map(|(b, _)| b.commands.iter().cloned())
                .collect(),
            estate: group[0].0.estate.clone(),
            now: group.iter().map(|(b, _)| b.now).max().unwrap_or_default(),
        };
        match commit(&mut conn, &mut cache, next_seq, &merged) {
            Ok(committed) => {
                if let Some((_, last)) = committed.seqs {
                    next_seq = last + 1;
                }
                let mut outcomes = committed.outcomes.into_iter();
                for (batch, reply) in group {
                    let _ = reply.send(Ok(Committed {
                        outcomes: outcomes.by_ref().take(batch.commands.len()).collect(),
                        states: committed.states.clone(),
                        seqs: committed.seqs,
                    }));
                }
            }
            Err(e) => {
                // The transaction rolled back; what the cache holds may not be on disk.
                cache.clear();
                if group.len() == 1 {
                    let _ = group.pop().expect("one").1.send(Err(e));
                    continue;
                }
                // One batch may have poisoned the others: commit each on its own.
                for (batch, reply) in group {
                    let result = commit(&mut conn, &mut cache, next_seq, &batch);
                    match &result {
                        Ok(c) => {
                            if let Some((_, last)) = c.seqs {
                                next_seq = last + 1;
                            }
                        }
                        Err(_) => cache.clear(),
                    }
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// SKU states as last committed by this writer.
pub(super) type Cache = HashMap<Sku, SkuState>;

pub(super) fn commit(
    conn: &mut Connection,
    cache: &mut Cache,
    first_seq: i64,
    batch: &Batch,
) -> Result<Committed> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut released = sql::reservations_by_id(&tx, &Needs::release_ids(&batch.commands))?;
    released.extend(sql::reservations_of_orders(
        &tx,
        &Needs::cancelled_orders(&batch.commands),
    )?);
    let needs = Needs::of(&batch.commands, &released);
    let mut states: Vec<SkuState> = needs.skus.iter().filter_map(|s| cache.remove(s)).collect();
    let cached: std::collections::HashSet<Sku> = states.iter().map(|s| s.sku.clone()).collect();
    states.extend(sql::load_states(
        &tx,
        needs.skus.iter().filter(|s| !cached.contains(*s)),
    )?);
    let mut reservations = released;
    for r in sql::reservations_by_order(&tx, &needs.order_refs)? {
        if !reservations.iter().any(|x| x.id == r.id) {
            reservations.push(r);
        }
    }
    let seen = sql::seen_events(&tx, &needs.event_keys)?;
    let priors = orders::priors(&tx, &needs)?;
    let orders = orders::orders_now(&tx, &needs.order_ids)?;
    let (outcomes, finished) = batch::run(batch, states, reservations, seen, priors, orders);
    let writes = WriteSet::of(&finished, batch.now.0);
    sql::write(&tx, &writes, batch.now.0, first_seq)?;
    tx.commit()?;
    let n = writes.events.len() as i64;
    let touched = batch::touched_states(&finished);
    cache.extend(finished.states);
    Ok(Committed {
        outcomes,
        states: touched,
        seqs: (n > 0).then(|| (first_seq, first_seq + n - 1)),
    })
}
