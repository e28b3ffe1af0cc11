//! The on-disk backend, on fjall 3 (a log-structured merge tree with a write-ahead journal).
//!
//! Data flow:
//! - One fjall keyspace (`data`) holds every key; the engine prefixes keys itself, so one
//!   ordered keyspace is all this layer needs, and every commit is one journal batch.
//! - The open fjall database and keyspace form a *generation*, shared through an `Arc`.
//!   Normally there is one generation for the life of the store; after a write failure
//!   fjall refuses every later write ("poisoned"), and the backend replaces the generation
//!   by reopening the directory (see "Failures" below).
//! - [`Storage::snapshot`] is a fjall snapshot of the current generation: a sequence-number
//!   view of the LSM tree. It holds no lock; commits proceed while it is open.
//! - [`Storage::begin_write`] takes this crate's writer lock (serializing write
//!   transactions), then a fjall snapshot, which is therefore the latest committed state.
//!   `put` and `delete` go to a private ordered overlay (see `overlay`); `get` and `range`
//!   read the overlay merged over the snapshot (read-your-own-writes, including deletes).
//! - `commit` turns the overlay into one fjall write batch: a single checksummed journal
//!   record, then memtable inserts under one sequence number that is published only after
//!   all of them, so readers see all of the commit or none of it; fjall's recovery drops a
//!   journal batch whose end marker or checksum is missing. Dropping the transaction drops
//!   the overlay: nothing was written.
//!
//! This is what fjall's own `SingleWriterTxDatabase` does (mutex, snapshot, private
//! memtable, batch commit), rebuilt here because its transaction holds a
//! `std::sync::MutexGuard` and so is not `Send`, while our [`WriteTransaction`] must be.
//!
//! Durability:
//! - [`Durability::Process`]: every batch commits with `PersistMode::Buffer`, so the journal
//!   record has left fjall's in-process buffer for the operating system (`write(2)`) before
//!   `commit` returns. A `kill -9` after that loses nothing; a power loss may.
//! - [`Durability::Sync`]: the same, then group commit (see `group_commit`): after its
//!   journal write and after releasing the writer lock, a commit waits for an fdatasync
//!   that started after it, and N concurrent committers share one. One caveat from fjall:
//!   its `persist` holds the journal mutex during the fdatasync, so a commit whose journal
//!   write arrives mid-sync waits for that sync to end; since such a commit must wait for
//!   the next sync anyway, this costs little latency and no sharing.
//! - [`Storage::flush`] persists the journal with `PersistMode::SyncAll`.
//!
//! Failures (measured behaviour of fjall 3.1 in docs/storage.md, "Disk full"): any I/O
//! error on fjall's write path — appending to the journal, writing a table file in a
//! memtable flush or a compaction (background threads, which then exit), fsync — poisons
//! the whole database: every later write fails, reads keep working, and only closing and
//! reopening the directory clears it. The backend therefore:
//! - records a fault (logged once; reported by [`Storage::health`] until a write succeeds
//!   again; see `faults`);
//! - keeps the poisoned generation for reads, and when a write comes, reopens the directory
//!   under the writer lock: new snapshots wait for the swap, the ones still open on the old
//!   generation are waited for (a bounded time), then the old generation closes and the new
//!   one opens. Attempts are spaced by `reopen_interval` and made only when at least
//!   `reopen_min_free_bytes` are free, so a full disk is not hammered with reopens;
//! - retries, on the reopened generation, a commit that fjall refused without writing
//!   anything of it (the transaction read a state that the reopened database still has:
//!   nothing can commit while the writer lock is held);
//! - takes back a commit whose journal append failed half-way, if fjall writes the rest of
//!   its record when the old generation closes (see `faults::Undo`);
//! - never reopens after a failed fsync of the journal, its own or one that a background
//!   thread ran (see `faults::JournalWatch`): writes stay refused until a restart, because a
//!   retried fsync can succeed without having written the data.
//!
//! Start-up: fjall reads its version marker and table manifests, then replays the active
//! journal (the one still being appended to). Opening a directory with a few thousand keys
//! takes ~6-10 ms on this machine. Replay reads every record since the journal was last
//! rotated, at roughly 1 µs per record (~5 ms per MB of small records), whether or not the
//! record was already flushed to a table; fjall rotates the journal only once it exceeds
//! 64 MB (hard-coded), so after heavy write traffic a reopen can take a few hundred ms
//! (measured: 40 MB of 200-byte records, ~200 ms). fjall 3.1 offers no public call to rotate
//! the journal at shutdown. Creating a new directory is slower than opening one: fjall
//! creates a 64 MB journal (sparse: `set_len`, no blocks are reserved) and issues ~30
//! fsyncs (10-100 ms here, depending on load).
//!
//! fjall settings (see [`DiskOptions`]): worker threads `min(cores, 2)`: one can flush a
//! memtable while another compacts, and on a 2-core server the request threads keep a
//! core; block cache 64 MiB (fjall's default is 32 MiB; decompressed blocks of hot items and
//! index blocks stay in process, the OS page cache holds the rest; see `CACHE_BYTES`);
//! memtables of 16 MiB (fjall's default is 64 MiB; see `MEMTABLE_BYTES`); leveled
//! compaction with an L0 trigger of 8 tables (fjall's default is 4; see `L0_THRESHOLD`);
//! everything else is fjall's default (LZ4 for deeper levels, bloom filters). A smaller memtable would not
//! bound start-up: replay reads the whole active journal either way.

mod faults;
mod group_commit;

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable};

use crate::overlay::{Lookup, Overlay};
use crate::writer_lock::{WriterGuard, WriterLock};
use crate::{
    check_key, range_is_empty, Bytes, Direction, Durability, RangeIter, Reader, Snapshot, Storage,
    StorageError, WriteTransaction,
};
use faults::{free_bytes, is_out_of_space, Fault, JournalWatch, Undo};
use group_commit::{GroupCommit, SyncFailure};

/// The one keyspace that holds all data.
const DATA_KEYSPACE: &str = "data";
/// Block cache for table blocks read from disk. It fills to capacity under any write
/// traffic, live data or not: compaction replaces table files, the cached blocks of the
/// old ones stay until evicted, and the blocks themselves cost the allocator more than
/// their size (see docs/storage.md, "Memory under DDL churn"). 64 MiB (fjall's default is
/// 32 MiB) because GetItem over the benchmark's 100 MB table follows the cache size: 32 MiB
/// cost 6-9% of GetItem throughput against the build before issue 11. What made the churn
/// soak grow with 64 MiB was the 32 MiB memtables, not the cache: with 16 MiB memtables
/// and `L0_THRESHOLD` it ends FLAT at ~176 MB.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Memtable size before a flush to a table file. fjall's default is 64 MiB. A memtable
/// costs more than its size: skiplist nodes on top of the counted bytes, and after its
/// flush fjall's version history keeps it alive until the next garbage collection of old
/// versions (at the next memtable rotation or compaction), so up to three memtables are
/// resident at once. 16 MiB bounds that to ~50 MB at the price of more, smaller flushes
/// and more table files for point reads to consult. Measured against 32 MiB (2026-12-03,
/// docs/storage.md "Memory under DDL churn"): the 30-minute churn soak ends FLAT at 16 MiB
/// and GROWING at 32 MiB; PutItem costs the same per server-CPU-second with the benchmark's
/// 100k items, and 7% more with a 20k-item working set that 32 MiB memtables hold whole.
const MEMTABLE_BYTES: u64 = 16 * 1024 * 1024;
/// Level-0 table files that trigger their merge into level 1 (fjall's default is 4; applies
/// when the keyspace is created, fjall records it). 16 MiB memtables flush twice as often
/// as 32 MiB ones, and with a trigger of 4 every other flush set off a merge that rewrites
/// L1: bulk writes (BatchWriteItem) lost ~10% to that compaction. 8 halves the merges, at
/// the price of up to 8 L0 files (bloom-filtered) for a point read to consult. fjall only
/// slows writers from 20 L0 runs on, so 8 never stalls a write.
const L0_THRESHOLD: u8 = 8;
/// Upper bound on fjall's background (flush + compaction) threads.
const MAX_WORKER_THREADS: usize = 2;
/// How long a reopen waits for snapshots of the old generation to be dropped. Snapshots
/// live for one request's reads (microseconds to milliseconds); one still open after this
/// belongs to a thread that broke the caller rule, and the reopen is put off.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a snapshot waits for a reopen in progress.
const REOPEN_WAIT: Duration = Duration::from_secs(30);
/// Successful commits between two refreshes of the journal watch.
const WATCH_REFRESH_COMMITS: u32 = 256;

/// How to open a [`DiskStorage`]. `Default` is what the server uses; the sizes are settable
/// so that tests can reach a memtable flush or a full disk quickly.
#[derive(Clone, Debug)]
pub struct DiskOptions {
    pub durability: Durability,
    /// Memtable size before a flush to a table file (applies when the keyspace is created;
    /// fjall keeps the setting of an existing one).
    pub memtable_bytes: u64,
    /// fjall's block cache.
    pub cache_bytes: u64,
    /// Least time between two attempts to reopen a database that failed.
    pub reopen_interval: Duration,
    /// A failed database is reopened only when at least this much space is free.
    pub reopen_min_free_bytes: u64,
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions {
            durability: Durability::Process,
            memtable_bytes: MEMTABLE_BYTES,
            cache_bytes: CACHE_BYTES,
            reopen_interval: Duration::from_secs(1),
            reopen_min_free_bytes: 1024 * 1024,
        }
    }
}

/// What [`DiskStorage::stats`] reports (fjall's accounting: key and value bytes plus a
/// fixed per-entry size, not allocator bytes).
#[derive(Clone, Debug, Default)]
pub struct DiskStats {
    /// Memtable bytes fjall counts against its write buffer (active and sealed memtables).
    pub write_buffer_bytes: u64,
    /// Bytes of every memtable still referenced by a version in fjall's version history
    /// (what its memtables really keep alive; more than `write_buffer_bytes` when old
    /// versions hold memtables that were already flushed).
    pub memtables_retained_bytes: u64,
    /// Versions in the history (one per flush or compaction not yet garbage-collected).
    pub versions: usize,
    pub sealed_memtables: usize,
    /// Block cache in use and its capacity.
    pub cache_bytes: u64,
    pub cache_capacity: u64,
    pub table_files: usize,
    pub journals: usize,
    pub disk_bytes: u64,
}

/// A [`Storage`] on disk, in one directory.
pub struct DiskStorage {
    path: PathBuf,
    options: DiskOptions,
    writer: WriterLock,
    group: GroupCommit,
    slot: Mutex<Slot>,
    slot_changed: Condvar,
    /// Fast path: whether `health.fault` is set, read by every successful commit.
    faulty: AtomicBool,
    health: Mutex<HealthState>,
}

/// The current generation, or why there is none.
enum Slot {
    Open(Arc<Generation>),
    /// The writer-lock holder is closing the old generation and opening a new one.
    Reopening,
    /// Reopening failed (the reason); the next write tries again.
    Closed(String),
}

/// One open fjall database.
struct Generation {
    // Field order is drop order: the keyspace handle goes before the database.
    data: Keyspace,
    db: Database,
    /// fjall refused a write here: the next write reopens.
    broken: AtomicBool,
    /// Successful commits, for the journal watch's refresh.
    commits: AtomicU32,
}

#[derive(Default)]
struct HealthState {
    fault: Option<Fault>,
    last_reopen: Option<Instant>,
    undo: Option<Undo>,
    watch: JournalWatch,
}

impl std::fmt::Debug for DiskStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskStorage")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every value guarded here is updated in single assignments that a panic cannot tear.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DiskStorage {
    /// Opens the store in `path`, creating the directory and an empty store if needed.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StorageError> {
        Self::open_with(
            path,
            DiskOptions {
                durability,
                ..DiskOptions::default()
            },
        )
    }

    /// Opens the store in `path` with explicit settings.
    pub fn open_with(path: &Path, options: DiskOptions) -> Result<Self, StorageError> {
        std::fs::create_dir_all(path).map_err(|error| {
            StorageError::Io(format!("cannot create {}: {error}", path.display()))
        })?;
        let generation = open_generation(path, &options)?;
        let mut health = HealthState::default();
        health.watch.refresh(path);
        Ok(Self {
            path: path.to_path_buf(),
            options,
            writer: WriterLock::default(),
            group: GroupCommit::default(),
            slot: Mutex::new(Slot::Open(Arc::new(generation))),
            slot_changed: Condvar::new(),
            faulty: AtomicBool::new(false),
            health: Mutex::new(health),
        })
    }

    /// The durability mode this store was opened with.
    pub fn durability(&self) -> Durability {
        self.options.durability
    }

    /// fjall's own numbers about the open database (memory held, files), for diagnostics.
    pub fn stats(&self) -> Result<DiskStats, StorageError> {
        use fjall::AbstractTree;
        let generation = self.generation()?;
        let (versions, retained) = {
            let history = generation.data.tree.get_version_history_lock();
            (history.len(), history.memtable_size_sum())
        };
        Ok(DiskStats {
            write_buffer_bytes: generation.db.write_buffer_size(),
            memtables_retained_bytes: retained,
            versions,
            sealed_memtables: generation.data.tree.sealed_memtable_count(),
            cache_bytes: generation.db.cache_size(),
            cache_capacity: generation.db.cache_capacity(),
            table_files: generation.data.tree.table_count(),
            journals: generation.db.journal_count(),
            disk_bytes: generation.db.disk_space().unwrap_or(0),
        })
    }

    /// The current generation; waits while one is being opened.
    fn generation(&self) -> Result<Arc<Generation>, StorageError> {
        let deadline = Instant::now() + REOPEN_WAIT;
        let mut slot = lock(&self.slot);
        loop {
            match &*slot {
                Slot::Open(generation) => return Ok(Arc::clone(generation)),
                Slot::Closed(reason) => {
                    return Err(StorageError::Io(format!(
                        "the database is closed after a failure: {reason}"
                    )))
                }
                Slot::Reopening => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(StorageError::Io("the database is being reopened".into()));
                    }
                    slot = self
                        .slot_changed
                        .wait_timeout(slot, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    fn set_slot(&self, value: Slot) {
        *lock(&self.slot) = value;
        self.slot_changed.notify_all();
    }

    /// Records that writes fail, logging it if it is a new problem.
    fn record_fault(&self, reason: String, permanent: bool) {
        let mut health = lock(&self.health);
        match &mut health.fault {
            None => {
                tracing::error!(
                    path = %self.path.display(),
                    "storage writes are failing: {reason}"
                );
                health.fault = Some(Fault::new(reason, permanent));
                self.faulty.store(true, Ordering::SeqCst);
            }
            Some(fault) if permanent && !fault.permanent => {
                tracing::error!(
                    path = %self.path.display(),
                    "storage writes are refused until restart: {reason}"
                );
                *fault = Fault::new(reason, true);
            }
            Some(_) => {}
        }
    }

    /// A commit succeeded: a recoverable fault is over.
    fn write_succeeded(&self, generation: &Generation) {
        let commits = generation.commits.fetch_add(1, Ordering::Relaxed);
        if commits % WATCH_REFRESH_COMMITS == WATCH_REFRESH_COMMITS - 1 {
            lock(&self.health).watch.refresh(&self.path);
        }
        if !self.faulty.load(Ordering::SeqCst) {
            return;
        }
        let mut health = lock(&self.health);
        if health.fault.as_ref().is_some_and(|fault| !fault.permanent) {
            if let Some(fault) = health.fault.take() {
                tracing::info!(
                    path = %self.path.display(),
                    "storage writes succeed again, after {:.1} s of: {}",
                    fault.duration().as_secs_f64(),
                    fault.reason
                );
            }
            self.faulty.store(false, Ordering::SeqCst);
        }
    }

    /// The error a refused write reports: the current fault, or `fallback`.
    fn fault_error(&self, fallback: &str) -> StorageError {
        let health = lock(&self.health);
        StorageError::Io(
            health
                .fault
                .as_ref()
                .map_or_else(|| fallback.to_string(), Fault::describe),
        )
    }

    /// What to say when fjall refused a write because a background thread failed (fjall
    /// keeps the cause in its own log).
    fn background_failure_reason(&self) -> String {
        match free_bytes(&self.path) {
            Some(free)
                if free
                    < self
                        .options
                        .memtable_bytes
                        .max(self.options.reopen_min_free_bytes) =>
            {
                format!(
                    "disk full: a background memtable flush or compaction failed, {free} bytes free"
                )
            }
            _ => "storage write failure: a background memtable flush or compaction failed \
                  and the database refuses writes"
                .to_string(),
        }
    }

    /// A journal append failed: record the fault and how to take the batch back.
    fn record_write_failure(
        &self,
        generation: &Generation,
        overlay: &Overlay,
        error: &fjall::Error,
    ) {
        generation.broken.store(true, Ordering::SeqCst);
        let reason = match error {
            fjall::Error::Io(io) | fjall::Error::Storage(fjall::LsmError::Io(io))
                if is_out_of_space(io) =>
            {
                format!("disk full: cannot append to the journal: {io}")
            }
            other => format!(
                "storage write failure: cannot append to the journal: {}",
                describe(other)
            ),
        };
        self.record_fault(reason, false);
        match capture_undo(generation, overlay) {
            Ok(undo) => lock(&self.health).undo = Some(undo),
            Err(read_error) => tracing::error!(
                "cannot record how to take back a failed commit ({read_error}); it may \
                 reappear after the database is reopened"
            ),
        }
    }

    /// A healthy generation for the writer-lock holder: the current one, or a reopened one
    /// if the current one is broken (subject to the reopen rules; see the module doc).
    fn writable_generation(
        &self,
        writer: &WriterGuard<'_>,
    ) -> Result<Arc<Generation>, StorageError> {
        if self.faulty.load(Ordering::SeqCst) {
            let health = lock(&self.health);
            if let Some(fault) = health.fault.as_ref().filter(|fault| fault.permanent) {
                return Err(StorageError::Io(fault.describe()));
            }
        }
        let current = match &*lock(&self.slot) {
            Slot::Open(generation) if !generation.broken.load(Ordering::SeqCst) => {
                Some(Arc::clone(generation))
            }
            _ => None,
        };
        match current {
            Some(generation) => Ok(generation),
            None => self.reopen(writer, false),
        }
    }

    /// Replaces a broken (or missing) generation with a freshly opened one. The caller holds
    /// the writer lock, so no write transaction is open and none can start. `force` skips
    /// the spacing and free-space rules (used before closing, to settle a pending undo).
    fn reopen(
        &self,
        writer: &WriterGuard<'_>,
        force: bool,
    ) -> Result<Arc<Generation>, StorageError> {
        let mut health = lock(&self.health);
        if let Some(fault) = health.fault.as_ref().filter(|fault| fault.permanent) {
            return Err(StorageError::Io(fault.describe()));
        }
        if !force
            && health
                .last_reopen
                .is_some_and(|at| at.elapsed() < self.options.reopen_interval)
        {
            drop(health);
            return Err(self.fault_error("the database refuses writes"));
        }
        health.last_reopen = Some(Instant::now());
        health.watch.refresh(&self.path);
        let free = free_bytes(&self.path);
        if !force && free.is_some_and(|free| free < self.options.reopen_min_free_bytes) {
            drop(health);
            return Err(self.fault_error("the disk is full"));
        }
        if let Err(error) = health.watch.check() {
            drop(health);
            self.record_fault(fsync_failed(&error), true);
            return Err(self.fault_error("fsync failed"));
        }
        let undo = health.undo.take();
        drop(health);

        let old = match std::mem::replace(&mut *lock(&self.slot), Slot::Reopening) {
            Slot::Open(generation) => Some(generation),
            Slot::Closed(_) | Slot::Reopening => None,
        };
        if let Some(old) = old {
            let deadline = Instant::now() + DRAIN_TIMEOUT;
            while Arc::strong_count(&old) > 1 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if Arc::strong_count(&old) > 1 {
                self.set_slot(Slot::Open(old));
                lock(&self.health).undo = undo;
                return Err(self.fault_error("the database refuses writes"));
            }
            // Closing: fjall's background threads stop, its journal buffer is flushed.
            drop(old);
        }
        let generation = match open_generation(&self.path, &self.options) {
            Ok(generation) => Arc::new(generation),
            Err(error) => {
                tracing::debug!("reopening the database failed: {error}");
                self.set_slot(Slot::Closed(error.to_string()));
                lock(&self.health).undo = undo;
                return Err(self.fault_error(&error.to_string()));
            }
        };
        if let Some(undo) = undo {
            if generation.db.seqno() > undo.seqno {
                if let Err(error) = self.apply_undo(&generation, &undo) {
                    // Readers must not see the failed commit: no generation until the next
                    // reopen has taken it back.
                    drop(generation);
                    self.set_slot(Slot::Closed(error.to_string()));
                    lock(&self.health).undo = Some(undo);
                    return Err(error);
                }
                tracing::warn!(
                    "a commit that had failed was written by fjall when the database closed; \
                     it has been taken back"
                );
            }
        }
        lock(&self.health).watch.refresh(&self.path);
        // What callers kept from earlier write transactions is not trusted across a
        // reopen, even though a failed commit is taken back above.
        writer.advance_epoch();
        self.set_slot(Slot::Open(Arc::clone(&generation)));
        tracing::debug!("database reopened");
        Ok(generation)
    }

    /// Commits the values a failed commit's keys had before it.
    fn apply_undo(&self, generation: &Generation, undo: &Undo) -> Result<(), StorageError> {
        let mode = match self.options.durability {
            Durability::Process => PersistMode::Buffer,
            Durability::Sync => PersistMode::SyncData,
        };
        let mut batch = generation.db.batch().durability(Some(mode));
        for (key, value) in &undo.writes {
            match value {
                Some(value) => batch.insert(&generation.data, key.as_slice(), value.as_slice()),
                None => batch.remove(&generation.data, key.as_slice()),
            }
        }
        batch.commit().map_err(storage_error)
    }

    /// Makes sure an undo still pending is applied before the store closes: closing flushes
    /// fjall's journal buffer, which may complete the failed batch.
    fn settle_undo(&self) {
        if lock(&self.health).undo.is_none() {
            return;
        }
        let writer = self.writer.acquire();
        if let Err(error) = self.reopen(&writer, true) {
            tracing::error!(
                "a failed commit could not be made sure of before closing ({error}); it may \
                 reappear at the next start"
            );
        }
    }

    /// The group-commit leader's sync.
    fn sync_journal(&self) -> Result<(), SyncFailure> {
        let generation = self.generation().map_err(SyncFailure::Transient)?;
        match generation.db.persist(PersistMode::SyncData) {
            Ok(()) => Ok(()),
            // fjall refuses to sync once it refuses writes, but the commits waiting here
            // are in the journal files already (each left fjall's buffer before taking its
            // ticket): sync those files through the watch's own descriptors instead, which
            // also reports a sync that failed in a background thread.
            Err(fjall::Error::Poisoned) => {
                generation.broken.store(true, Ordering::SeqCst);
                self.record_fault(self.background_failure_reason(), false);
                let checked = {
                    let mut health = lock(&self.health);
                    health.watch.refresh(&self.path);
                    health.watch.check()
                };
                checked.map_err(|error| {
                    self.record_fault(fsync_failed(&error), true);
                    SyncFailure::Permanent(StorageError::Io(error))
                })
            }
            Err(error) => {
                generation.broken.store(true, Ordering::SeqCst);
                self.record_fault(fsync_failed(&describe(&error)), true);
                Err(SyncFailure::Permanent(storage_error(error)))
            }
        }
    }
}

impl Drop for DiskStorage {
    fn drop(&mut self) {
        self.settle_undo();
    }
}

fn open_generation(path: &Path, options: &DiskOptions) -> Result<Generation, StorageError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_WORKER_THREADS);
    let memtable = options.memtable_bytes;
    let db = Database::builder(path)
        .worker_threads(workers)
        .cache_size(options.cache_bytes)
        .open()
        .map_err(|error| open_error(path, &error))?;
    let data = db
        .keyspace(DATA_KEYSPACE, || {
            KeyspaceCreateOptions::default()
                .max_memtable_size(memtable)
                .compaction_strategy(Arc::new(
                    fjall::compaction::Leveled::default().with_l0_threshold(L0_THRESHOLD),
                ))
        })
        .map_err(|error| open_error(path, &error))?;
    Ok(Generation {
        data,
        db,
        broken: AtomicBool::new(false),
        commits: AtomicU32::new(0),
    })
}

/// Writes a transaction's overlay as one fjall batch.
fn write_batch(generation: &Generation, overlay: &Overlay) -> Result<(), fjall::Error> {
    // Buffer in both modes: the record reaches the OS inside the writer lock; Sync mode
    // adds the fdatasync after it, outside the lock.
    let mut batch = generation.db.batch().durability(Some(PersistMode::Buffer));
    for (key, value) in overlay.writes() {
        match value {
            Some(value) => batch.insert(&generation.data, key, value),
            None => batch.remove(&generation.data, key),
        }
    }
    batch.commit()
}

/// The values the overlay's keys have now, in a generation whose last batch failed (so the
/// visible state is the one before it, and its sequence number is that batch's).
fn capture_undo(generation: &Generation, overlay: &Overlay) -> Result<Undo, StorageError> {
    let snapshot = generation.db.snapshot();
    let writes = overlay
        .writes()
        .map(|(key, _)| {
            let before = snapshot
                .get(&generation.data, key)
                .map_err(storage_error)?
                .map(|value| value.to_vec());
            Ok((key.to_vec(), before))
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(Undo {
        seqno: snapshot.seqno(),
        writes,
    })
}

/// The reason of a permanent fault.
fn fsync_failed(error: &str) -> String {
    format!(
        "fsync of the journal failed ({error}); writes are refused until Stator restarts, \
         because a retried fsync can report success without having written the data"
    )
}

fn open_error(path: &Path, error: &fjall::Error) -> StorageError {
    if matches!(error, fjall::Error::Locked) {
        return StorageError::InUse(format!(
            "the data directory {} is in use by another running Stator (a data directory \
             can be open in one process at a time; stop that server or choose another \
             --data-dir)",
            path.display()
        ));
    }
    StorageError::Io(format!(
        "cannot open database in {}: {}",
        path.display(),
        describe(error)
    ))
}

/// A fjall error in words: the operating system's message for I/O errors (fjall's own
/// `Display` is its `Debug` form).
fn describe(error: &fjall::Error) -> String {
    match error {
        fjall::Error::Io(io) | fjall::Error::Storage(fjall::LsmError::Io(io)) => io.to_string(),
        fjall::Error::Poisoned => "the database refuses writes after an earlier failure".into(),
        other => other.to_string(),
    }
}

/// Maps a fjall error to ours; decoding and checksum failures are corruption.
fn storage_error(error: fjall::Error) -> StorageError {
    use fjall::Error as E;
    use fjall::LsmError as L;
    let text = describe(&error);
    match error {
        E::Io(_) | E::Poisoned | E::Storage(L::Io(_)) => StorageError::Io(text),
        E::JournalRecovery(_)
        | E::InvalidVersion(_)
        | E::Decompress(_)
        | E::InvalidTrailer
        | E::InvalidTag(_)
        | E::Unrecoverable
        | E::Storage(
            L::Decompress(_)
            | L::InvalidVersion(_)
            | L::Unrecoverable
            | L::ChecksumMismatch { .. }
            | L::InvalidTag(_)
            | L::InvalidTrailer
            | L::InvalidHeader(_)
            | L::Utf8(_),
        ) => StorageError::Corruption(text),
        _ => StorageError::Other(text),
    }
}

impl Storage for DiskStorage {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StorageError> {
        let generation = match self.generation() {
            Ok(generation) => generation,
            // A failed reopen left no database: try again if no writer is busy (a snapshot
            // must never wait for the writer lock).
            Err(error) => match self.writer.try_acquire() {
                Some(writer) => self.reopen(&writer, false).map_err(|_| error)?,
                None => return Err(error),
            },
        };
        Ok(Box::new(DiskSnapshot {
            snapshot: generation.db.snapshot(),
            generation,
        }))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTransaction + '_>, StorageError> {
        let writer = self.writer.acquire();
        let generation = self.writable_generation(&writer)?;
        // Taken after the writer lock is ours: no commit can land between it and ours.
        let snapshot = generation.db.snapshot();
        Ok(Box::new(DiskWriteTransaction {
            base: DiskSnapshot {
                snapshot,
                generation,
            },
            overlay: Overlay::default(),
            storage: self,
            writer,
        }))
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.settle_undo();
        self.generation()?
            .db
            .persist(PersistMode::SyncAll)
            .map_err(storage_error)
    }

    fn kind(&self) -> &'static str {
        "disk"
    }

    /// In `Sync` mode every commit waits for an fdatasync (milliseconds).
    fn calls_may_block(&self) -> bool {
        self.options.durability == Durability::Sync
    }

    /// The recorded fault, if any; otherwise whether fjall has stopped taking writes since
    /// the last one (a background flush or compaction failed while no write came).
    fn health(&self) -> Result<(), String> {
        {
            let mut health = lock(&self.health);
            // Also closes descriptors of journals fjall deleted while no commit came.
            health.watch.refresh(&self.path);
            if let Some(fault) = &health.fault {
                return Err(fault.describe());
            }
        }
        let current = match &*lock(&self.slot) {
            Slot::Open(generation) => Arc::clone(generation),
            Slot::Reopening | Slot::Closed(_) => return Ok(()),
        };
        // With nothing buffered this only checks fjall's poison flag.
        if let Err(fjall::Error::Poisoned) = current.db.persist(PersistMode::Buffer) {
            current.broken.store(true, Ordering::SeqCst);
            self.record_fault(self.background_failure_reason(), false);
            return Err(self.fault_error("the database refuses writes").to_string());
        }
        Ok(())
    }
}

struct DiskSnapshot {
    snapshot: fjall::Snapshot,
    generation: Arc<Generation>,
}

impl Reader for DiskSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StorageError> {
        self.snapshot
            .get(&self.generation.data, key)
            .map(|value| value.map(Bytes::fjall))
            .map_err(storage_error)
    }

    fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<RangeIter<'a>, StorageError> {
        if range_is_empty(start, end) {
            return Ok(Box::new(std::iter::empty()));
        }
        let iter = self
            .snapshot
            .range::<&[u8], _>(&self.generation.data, (start, end));
        Ok(fjall_range(iter, direction))
    }
}

impl Snapshot for DiskSnapshot {}

struct DiskWriteTransaction<'s> {
    /// The committed state when the transaction began (the latest, thanks to the lock).
    base: DiskSnapshot,
    overlay: Overlay,
    storage: &'s DiskStorage,
    // Declared last: released only after the batch is applied (or the overlay dropped).
    writer: WriterGuard<'s>,
}

impl Reader for DiskWriteTransaction<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StorageError> {
        match self.overlay.lookup(key) {
            Lookup::Written(value) => Ok(value.cloned().map(Bytes::shared)),
            Lookup::Untouched => self.base.get(key),
        }
    }

    fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<RangeIter<'a>, StorageError> {
        if range_is_empty(start, end) {
            return Ok(Box::new(std::iter::empty()));
        }
        let base = self.base.range(start, end, direction)?;
        Ok(self.overlay.merge(base, start, end, direction))
    }
}

impl WriteTransaction for DiskWriteTransaction<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        if u32::try_from(value.len()).is_err() {
            return Err(StorageError::Other(format!(
                "value length {} over 4 GiB",
                value.len()
            )));
        }
        self.overlay.put(key, value);
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        self.overlay.delete(key);
        Ok(())
    }

    fn writer_epoch(&self) -> Option<u64> {
        Some(self.writer.epoch())
    }

    fn advance_writer_epoch(&mut self) {
        self.writer.advance_epoch();
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let DiskWriteTransaction {
            base,
            overlay,
            storage,
            writer,
        } = *self;
        if overlay.is_empty() {
            return Ok(());
        }
        let mut generation = Arc::clone(&base.generation);
        // Released before any reopen, which waits for every handle on the old generation.
        drop(base);
        let mut retried = false;
        loop {
            match write_batch(&generation, &overlay) {
                Ok(()) => break,
                // Refused before anything was written (a background thread had failed):
                // the state this transaction read is still the latest, so it may run again
                // on a reopened database.
                Err(fjall::Error::Poisoned) => {
                    generation.broken.store(true, Ordering::SeqCst);
                    storage.record_fault(storage.background_failure_reason(), false);
                    drop(generation);
                    if retried {
                        return Err(storage.fault_error("the database refuses writes"));
                    }
                    retried = true;
                    generation = storage.reopen(&writer, false)?;
                }
                Err(error) => {
                    storage.record_write_failure(&generation, &overlay, &error);
                    return Err(storage.fault_error(&describe(&error)));
                }
            }
        }
        storage.write_succeeded(&generation);
        drop(generation);
        drop(writer);
        if storage.options.durability != Durability::Sync {
            return Ok(());
        }
        let ticket = storage.group.committed();
        storage.group.wait_synced(ticket, || storage.sync_journal())
    }
}

/// Turns a fjall iterator into ours, handing on fjall's shared slices without a copy.
fn fjall_range<'a>(iter: fjall::Iter, direction: Direction) -> RangeIter<'a> {
    let pair = |guard: fjall::Guard| {
        guard
            .into_inner()
            .map(|(key, value)| (Bytes::fjall(key), Bytes::fjall(value)))
            .map_err(storage_error)
    };
    match direction {
        Direction::Forward => Box::new(iter.map(pair)),
        Direction::Reverse => Box::new(iter.rev().map(pair)),
    }
}
