//! The background worker: deletes the data of dropped tables and indexes, and backfills new
//! global secondary indexes.
//!
//! Both jobs work in bounded batches, one write transaction each, so a job never holds the
//! storage writer lock for long and foreground requests interleave with it. Both are
//! restartable: a dropped storage id keeps its `00 'd'` marker until its data is gone, and an
//! index stays `CREATING` in the catalog until its backfill has finished, so [`Engine::open`]
//! re-queues whatever a previous run left unfinished.

use std::ops::Bound;
use std::sync::{mpsc, Arc};

use stator_storage::Direction;

use crate::error::DynamoError;
use crate::indexes::{adjust_stats, encode_entry, entry_for};
use crate::items::decode_stored;
use crate::keys;
use crate::schema::IndexStatus;
use crate::Engine;

/// Entries handled per write transaction.
const BATCH: usize = 1000;

/// Work for the background thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    /// Delete every key of a dropped table or index, then its stats and marker.
    Drop(u32),
    /// Build the entries of a `CREATING` index from the table's existing items.
    Backfill {
        table: String,
        index_storage_id: u32,
    },
}

/// Starts the worker thread with the jobs a previous run left unfinished.
pub(crate) fn start(engine: &Arc<Engine>, pending: Vec<Job>) {
    let (sender, receiver) = mpsc::channel::<Job>();
    for job in pending {
        let _ = sender.send(job);
    }
    if let Ok(mut slot) = engine.worker.lock() {
        *slot = Some(sender);
    }
    let weak = Arc::downgrade(engine);
    let spawned = std::thread::Builder::new()
        .name("stator-background".into())
        .spawn(move || {
            while let Ok(job) = receiver.recv() {
                let Some(engine) = weak.upgrade() else { return };
                // A failed job leaves its marker (or CREATING status) in place; it is retried
                // at the next start.
                let _ = match job {
                    Job::Drop(id) => drop_storage_id(&engine, id),
                    Job::Backfill {
                        table,
                        index_storage_id,
                    } => backfill(&engine, &table, index_storage_id),
                };
            }
        });
    if spawned.is_err() {
        if let Ok(mut slot) = engine.worker.lock() {
            slot.take();
        }
    }
}

impl Engine {
    /// Queues a background job (a no-op after shutdown: markers make it resume next start).
    pub(crate) fn schedule(&self, job: Job) {
        if let Ok(worker) = self.worker.lock() {
            if let Some(sender) = worker.as_ref() {
                let _ = sender.send(job);
            }
        }
    }
}

fn drop_storage_id(engine: &Engine, storage_id: u32) -> Result<(), DynamoError> {
    for prefix in keys::data_prefixes(storage_id) {
        let end = keys::prefix_end(&prefix);
        loop {
            let mut txn = engine.storage.begin_write()?;
            let batch: Vec<Vec<u8>> = {
                let end_bound = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                txn.range(Bound::Included(&prefix), end_bound, Direction::Forward)?
                    .take(BATCH)
                    .map(|entry| entry.map(|(k, _)| k))
                    .collect::<Result<_, _>>()?
            };
            for key in &batch {
                txn.delete(key)?;
            }
            txn.commit()?;
            if batch.len() < BATCH {
                break;
            }
        }
    }
    let mut txn = engine.storage.begin_write()?;
    txn.delete(&keys::table_stats(storage_id))?;
    txn.delete(&keys::dropped_table(storage_id))?;
    txn.commit()?;
    Ok(())
}

/// Walks the table's items in key order, writing the index entry of each item that has one
/// and is not indexed yet (a concurrent write may have indexed it already: writes maintain
/// `CREATING` indexes). Each batch is one write transaction, so it cannot interleave with a
/// write to the same items. When the walk ends, the index becomes `ACTIVE`.
fn backfill(engine: &Engine, table: &str, index_storage_id: u32) -> Result<(), DynamoError> {
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let Some(meta) = engine.table(table) else {
            return Ok(());
        };
        let Some(index) = meta
            .global_indexes
            .iter()
            .find(|i| i.storage_id == index_storage_id && i.status == IndexStatus::Creating)
        else {
            return Ok(());
        };
        let prefix = keys::table_items_prefix(meta.storage_id);
        let end = keys::prefix_end(&prefix);
        let mut txn = engine.storage.begin_write()?;
        let items: Vec<(Vec<u8>, Vec<u8>)> = {
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
                    txn.put(&entry.key, &encode_entry(&entry))?;
                    adjust_stats(
                        txn.as_mut(),
                        index.storage_id,
                        1,
                        entry.size as i64 + crate::indexes::INDEX_ENTRY_OVERHEAD,
                    )?;
                }
            }
        }
        txn.commit()?;
        cursor = items.last().map(|(k, _)| k.clone());
        if items.len() < BATCH {
            return engine.finish_backfill(table, index_storage_id);
        }
    }
}
