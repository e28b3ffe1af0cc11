//! The queue of background work: what DDL leaves to be done after it commits.
//!
//! DDL only queues a [`Job`]; the worker that runs jobs lives in [`crate::background`],
//! above every operation. Jobs are restartable from stored state alone — a dropped storage
//! id keeps its `00 'd'` marker until its data is gone, an index stays `CREATING` until its
//! backfill has finished — so a job lost with a crashed or stopped process is found again
//! by `Engine::open`.

use crate::Engine;

/// Work for the background worker.
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

impl Engine {
    /// Queues a background job (a no-op after shutdown: stored state makes it resume at
    /// the next start).
    pub(crate) fn schedule(&self, job: Job) {
        if let Ok(worker) = self.worker.lock() {
            if let Some(sender) = worker.as_ref() {
                // The receiver is gone only when the worker has stopped (shutdown).
                let _ = sender.send(job);
            }
        }
    }
}
