//! The background worker: deletes the data of dropped tables and indexes, and backfills new
//! global secondary indexes ([`crate::jobs`]).
//!
//! Both jobs work in bounded batches, one write transaction each, so a job never holds the
//! storage writer lock for long and foreground requests interleave with it. A backfill
//! batch reads the table's metadata inside its own transaction, like any write, so it stops
//! when the index is dropped and always sees the index definition that is committed. A job
//! that fails (storage full, a storage error) is logged and tried again after a growing
//! pause (1 s, doubling up to a minute) in the same process; its stored markers also make
//! it resume after a restart.

use std::ops::Bound;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use stator_storage::{Bytes, Direction};

use crate::error::DynamoError;
use crate::indexes::{entry_for, insert_entry};
use crate::jobs::Job;
use crate::keys;
use crate::records::decode_stored;
use crate::schema::IndexStatus;
use crate::stats;
use crate::Engine;

/// Entries handled per write transaction.
const BATCH: usize = 1000;
/// Pause before the first retry of a failed job; doubled per failure up to [`MAX_RETRY_PAUSE`].
const FIRST_RETRY_PAUSE: Duration = Duration::from_secs(1);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(60);

/// Starts the worker thread with the jobs a previous run left unfinished.
pub(crate) fn start(engine: &Arc<Engine>, pending: Vec<Job>) {
    let (sender, receiver) = mpsc::channel::<Job>();
    for job in pending {
        // The receiver is alive: it is moved into the thread below.
        let _ = sender.send(job);
    }
    if let Ok(mut slot) = engine.worker.lock() {
        *slot = Some(sender);
    }
    let weak = Arc::downgrade(engine);
    let spawned = std::thread::Builder::new()
        .name("stator-background".into())
        .spawn(move || run(&weak, &receiver));
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the background worker; dropped data and new indexes wait for the next start");
        if let Ok(mut slot) = engine.worker.lock() {
            slot.take();
        }
    }
}

/// A failed job waiting for its next attempt.
struct Retry {
    job: Job,
    at: Instant,
    pause: Duration,
}

fn run(engine: &std::sync::Weak<Engine>, receiver: &mpsc::Receiver<Job>) {
    let mut retries: Vec<Retry> = Vec::new();
    loop {
        let next_retry = retries.iter().map(|r| r.at).min();
        let received = match next_retry {
            None => receiver
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some(at) => receiver.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        let (job, pause) = match received {
            Ok(job) => (job, FIRST_RETRY_PAUSE),
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let Some(due) = retries.iter().position(|r| r.at <= now) else {
                    continue;
                };
                let retry = retries.swap_remove(due);
                (retry.job, retry.pause)
            }
        };
        let Some(engine) = engine.upgrade() else {
            return;
        };
        if let Err(error) = run_job(&engine, &job) {
            tracing::error!(
                ?job,
                error = %error,
                retry_in_secs = pause.as_secs(),
                "background job failed"
            );
            retries.push(Retry {
                job,
                at: Instant::now() + pause,
                pause: (pause * 2).min(MAX_RETRY_PAUSE),
            });
        }
    }
}

fn run_job(engine: &Engine, job: &Job) -> Result<(), DynamoError> {
    match job {
        Job::Drop(id) => drop_storage_id(engine, *id),
        Job::Backfill {
            table,
            index_storage_id,
        } => backfill(engine, table, *index_storage_id),
    }
}

fn drop_storage_id(engine: &Engine, storage_id: u32) -> Result<(), DynamoError> {
    for prefix in keys::data_prefixes(storage_id) {
        let end = keys::prefix_end(&prefix);
        loop {
            let deleted = engine.write(|txn| {
                let batch: Vec<Bytes> = {
                    let end_bound = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                    txn.range(Bound::Included(&prefix), end_bound, Direction::Forward)?
                        .take(BATCH)
                        .map(|entry| entry.map(|(k, _)| k))
                        .collect::<Result<_, _>>()?
                };
                for key in &batch {
                    txn.delete(key)?;
                }
                Ok(batch.len())
            })?;
            if deleted < BATCH {
                break;
            }
        }
    }
    engine.write(|txn| {
        stats::delete_all(txn, storage_id)?;
        txn.delete(&keys::dropped_table(storage_id))?;
        Ok(())
    })
}

/// Walks the table's items in key order, writing the index entry of each item that has one
/// and is not indexed yet (a concurrent write may have indexed it already: writes maintain
/// `CREATING` indexes). Each batch is one write transaction, so it cannot interleave with a
/// write to the same items. When the walk ends, the index becomes `ACTIVE`.
fn backfill(engine: &Engine, table: &str, index_storage_id: u32) -> Result<(), DynamoError> {
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let step =
            engine.write(|txn| {
                let Some(meta) = engine.current_table_for_write(txn, table)? else {
                    return Ok(None);
                };
                let Some(index) = meta.global_indexes.iter().find(|i| {
                    i.storage_id == index_storage_id && i.status == IndexStatus::Creating
                }) else {
                    return Ok(None);
                };
                let prefix = keys::table_items_prefix(meta.storage_id);
                let end = keys::prefix_end(&prefix);
                let items: Vec<(Bytes, Bytes)> = {
                    let start = match &cursor {
                        Some(k) => Bound::Excluded(k.as_slice()),
                        None => Bound::Included(prefix.as_slice()),
                    };
                    let end_bound = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                    txn.range(start, end_bound, Direction::Forward)?
                        .take(BATCH)
                        .collect::<Result<_, _>>()?
                };
                for (_, value) in &items {
                    let stored = decode_stored(value)?;
                    if let Some(entry) = entry_for(&meta, index, &stored.item) {
                        if txn.get(&entry.key)?.is_none() {
                            insert_entry(txn, index, &entry)?;
                        }
                    }
                }
                Ok(Some((items.len(), items.last().map(|(k, _)| k.to_vec()))))
            })?;
        let Some((count, last)) = step else {
            // The table or the index is gone, or the index is no longer being built.
            return Ok(());
        };
        cursor = last;
        if count < BATCH {
            return engine.finish_backfill(table, index_storage_id);
        }
    }
}
