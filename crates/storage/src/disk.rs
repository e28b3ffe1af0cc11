//! The on-disk backend, on fjall 3 (a log-structured merge tree with a write-ahead journal).
//!
//! Data flow:
//! - One fjall keyspace (`data`) holds every key; the engine prefixes keys itself, so one
//!   ordered keyspace is all this layer needs, and every commit is one journal batch.
//! - [`Storage::snapshot`] is a fjall snapshot: a sequence-number view of the LSM tree. It
//!   holds no lock; commits proceed while it is open.
//! - [`Storage::begin_write`] takes this crate's writer lock (serializing write
//!   transactions), then a fjall snapshot, which is therefore the latest committed state.
//!   `put` and `delete` go to a private ordered overlay (see `overlay`); `get` and `range`
//!   read the overlay merged over the snapshot (read-your-own-writes, including deletes).
//! - `commit` turns the overlay into one fjall write batch: a single checksummed journal
//!   record, then memtable inserts under one sequence number that is published only after
//!   all of them, so readers see all of the commit or none of it; fjall's recovery drops a
//!   journal batch whose end marker or checksum is missing. Dropping the transaction drops the overlay: nothing was written.
//!
//! This is what fjall's own `SingleWriterTxDatabase` does (mutex, snapshot, private
//! memtable, batch commit), rebuilt here because its transaction holds a
//! `std::sync::MutexGuard` and so is not `Send`, while our [`WriteTransaction`] must be.
//!
//! Durability:
//! - [`Durability::Process`]: every batch commits with `PersistMode::Buffer`, so the journal
//!   record has left fjall's in-process buffer for the operating system (`write(2)`) before
//!   `commit` returns. A `kill -9` after that loses nothing; a power loss may.
//! - [`Durability::Sync`]: the same, then group commit. Each commit takes a number from a
//!   monotonic counter *after* its journal write and after releasing the writer lock; it
//!   then waits until a `PersistMode::SyncData` (fdatasync) that started after that number
//!   was taken has finished. Whoever finds no sync running becomes the leader: it reads the
//!   counter, syncs, publishes the counter value as synced and wakes the waiters (mutex +
//!   condvar, no polling). Commits that arrive during a sync are covered by the next one, so
//!   N concurrent committers share one fdatasync. One caveat from fjall: its `persist` holds
//!   the journal mutex during the fdatasync, so a commit whose journal write arrives
//!   mid-sync waits for that sync to end; since such a commit must wait for the next sync
//!   anyway, this costs little latency and no sharing. An fsync failure is permanent (fjall
//!   poisons the database, and after a failed fsync the kernel may have dropped the dirty
//!   pages, so retrying could falsely succeed): every later `Sync` commit fails.
//! - [`Storage::flush`] persists the journal with `PersistMode::SyncAll`.
//!
//! Start-up: fjall reads its version marker and table manifests, then replays the active
//! journal (the one still being appended to). Opening a directory with a few thousand keys
//! takes ~6-10 ms on this machine. Replay reads every record since the journal was last
//! rotated, at roughly 1 µs per record (~5 ms per MB of small records), whether or not the
//! record was already flushed to a table; fjall rotates the journal only once it exceeds
//! 64 MB (hard-coded), so after heavy write traffic a reopen can take a few hundred ms
//! (measured: 40 MB of 200-byte records, ~200 ms). fjall 3.1 offers no public call to rotate
//! the journal at shutdown. Creating a new directory is slower than opening one: fjall
//! preallocates a 64 MB journal and issues ~30 fsyncs (10-100 ms here, depending on load).
//!
//! fjall settings (see `open`): worker threads `min(cores, 2)`: one can flush a memtable
//! while another compacts, and on a 2-core server the request threads keep a core; block
//! cache 64 MiB (fjall's default is 32 MiB; decompressed blocks of hot items and index
//! blocks stay in process, the OS page cache holds the rest); memtables of 32 MiB (fjall's
//! default is 64 MiB; see `MEMTABLE_BYTES`); everything else is fjall's default (leveled
//! compaction, LZ4 for deeper levels, bloom filters). A smaller memtable would not bound start-up: replay
//! reads the whole active journal either way.

use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable};

use crate::overlay::{Lookup, Overlay};
use crate::writer_lock::{WriterGuard, WriterLock};
use crate::{
    check_key, range_is_empty, Bytes, Direction, Durability, RangeIter, Reader, Snapshot, Storage,
    StorageError, WriteTransaction,
};

/// The one keyspace that holds all data.
const DATA_KEYSPACE: &str = "data";
/// Block cache for table blocks read from disk.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Memtable size before a flush to a table file. fjall's default is 64 MiB; 32 MiB keeps a
/// server that has just taken 100 thousand 1 KB items under 150 MB resident (the
/// benchmark's memory target: data lives on disk, not in RAM) at the price of twice as
/// many (smaller) flushes.
const MEMTABLE_BYTES: u64 = 32 * 1024 * 1024;
/// Upper bound on fjall's background (flush + compaction) threads.
const MAX_WORKER_THREADS: usize = 2;

/// A [`Storage`] on disk, in one directory.
pub struct DiskStorage {
    // Field order is drop order: the keyspace handle goes before the database.
    data: Keyspace,
    db: Database,
    writer: WriterLock,
    durability: Durability,
    group: GroupCommit,
}

impl std::fmt::Debug for DiskStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskStorage")
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

impl DiskStorage {
    /// Opens the store in `path`, creating the directory and an empty store if needed.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StorageError> {
        std::fs::create_dir_all(path).map_err(|error| {
            StorageError::Io(format!("cannot create {}: {error}", path.display()))
        })?;
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, MAX_WORKER_THREADS);
        let db = Database::builder(path)
            .worker_threads(workers)
            .cache_size(CACHE_BYTES)
            .open()
            .map_err(|error| open_error(path, &error))?;
        let data = db
            .keyspace(DATA_KEYSPACE, || {
                KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES)
            })
            .map_err(|error| open_error(path, &error))?;
        Ok(Self {
            data,
            db,
            writer: WriterLock::default(),
            durability,
            group: GroupCommit::default(),
        })
    }

    /// The durability mode this store was opened with.
    pub fn durability(&self) -> Durability {
        self.durability
    }
}

fn open_error(path: &Path, error: &fjall::Error) -> StorageError {
    StorageError::Io(format!(
        "cannot open database in {}: {error}",
        path.display()
    ))
}

/// Maps a fjall error to ours; decoding and checksum failures are corruption.
fn storage_error(error: fjall::Error) -> StorageError {
    use fjall::Error as E;
    use fjall::LsmError as L;
    let text = error.to_string();
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
        Ok(Box::new(DiskSnapshot {
            snapshot: self.db.snapshot(),
            data: &self.data,
        }))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTransaction + '_>, StorageError> {
        let writer = self.writer.acquire();
        // Taken after the writer lock is ours: no commit can land between it and ours.
        let snapshot = self.db.snapshot();
        Ok(Box::new(DiskWriteTransaction {
            base: DiskSnapshot {
                snapshot,
                data: &self.data,
            },
            overlay: Overlay::default(),
            storage: self,
            _writer: writer,
        }))
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.db.persist(PersistMode::SyncAll).map_err(storage_error)
    }

    fn kind(&self) -> &'static str {
        "disk"
    }

    /// In `Sync` mode every commit waits for an fdatasync (milliseconds).
    fn calls_may_block(&self) -> bool {
        self.durability == Durability::Sync
    }
}

struct DiskSnapshot<'s> {
    snapshot: fjall::Snapshot,
    data: &'s Keyspace,
}

impl Reader for DiskSnapshot<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StorageError> {
        self.snapshot
            .get(self.data, key)
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
        let iter = self.snapshot.range::<&[u8], _>(self.data, (start, end));
        Ok(fjall_range(iter, direction))
    }
}

impl Snapshot for DiskSnapshot<'_> {}

struct DiskWriteTransaction<'s> {
    /// The committed state when the transaction began (the latest, thanks to the lock).
    base: DiskSnapshot<'s>,
    overlay: Overlay,
    storage: &'s DiskStorage,
    // Declared last: released only after the batch is applied (or the overlay dropped).
    _writer: WriterGuard<'s>,
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

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let DiskWriteTransaction {
            base,
            overlay,
            storage,
            _writer: writer,
        } = *self;
        if overlay.is_empty() {
            return Ok(());
        }
        // Buffer in both modes: the record reaches the OS inside the writer lock; Sync mode
        // adds the fdatasync below, outside it.
        let mut batch = storage.db.batch().durability(Some(PersistMode::Buffer));
        for (key, value) in overlay.into_writes() {
            match value {
                Some(value) => batch.insert(&storage.data, key, &*value),
                None => batch.remove(&storage.data, key),
            }
        }
        batch.commit().map_err(storage_error)?;
        drop(base);
        drop(writer);
        if storage.durability != Durability::Sync {
            return Ok(());
        }
        let ticket = storage.group.committed();
        storage.group.wait_synced(ticket, || {
            storage
                .db
                .persist(PersistMode::SyncData)
                .map_err(storage_error)
        })
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

/// Group commit bookkeeping: a leader/follower scheme over two monotonic counters.
#[derive(Default)]
struct GroupCommit {
    /// Number of commits whose journal batch has reached the OS. Taken after the write, so a
    /// sync that starts after reading value `n` covers commits `1..=n`.
    commits: AtomicU64,
    state: Mutex<SyncState>,
    synced_changed: Condvar,
}

#[derive(Default)]
struct SyncState {
    /// Every commit numbered up to this is on stable storage.
    synced: u64,
    /// A leader is running a sync right now.
    syncing: bool,
    /// Set forever by the first failed sync.
    failure: Option<String>,
}

impl GroupCommit {
    /// Registers a commit whose journal write has completed; returns its ticket.
    fn committed(&self) -> u64 {
        self.commits.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn lock(&self) -> MutexGuard<'_, SyncState> {
        // The state is a few plain fields updated together; a panic cannot tear them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once a sync that covers `ticket` has completed, running it if no one else is.
    fn wait_synced(
        &self,
        ticket: u64,
        sync: impl Fn() -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let mut state = self.lock();
        loop {
            if let Some(failure) = &state.failure {
                return Err(StorageError::Io(format!(
                    "an earlier fsync failed, commits cannot be made durable: {failure}"
                )));
            }
            if state.synced >= ticket {
                return Ok(());
            }
            if state.syncing {
                state = self
                    .synced_changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Become the leader for every commit registered so far, ours included.
            state.syncing = true;
            let target = self.commits.load(Ordering::SeqCst);
            drop(state);
            let leader = LeaderGuard { group: self };
            let result = sync();
            state = self.lock();
            match result {
                Ok(()) => state.synced = state.synced.max(target),
                Err(error) => state.failure = Some(error.to_string()),
            }
            leader.finish(&mut state);
        }
    }
}

/// Ends a leader's turn on every way out, so a panicking sync cannot leave followers
/// waiting for a leader that is gone.
struct LeaderGuard<'g> {
    group: &'g GroupCommit,
}

impl LeaderGuard<'_> {
    fn finish(self, state: &mut SyncState) {
        state.syncing = false;
        self.group.synced_changed.notify_all();
        std::mem::forget(self);
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        // Only reached when the sync panicked.
        self.group.lock().syncing = false;
        self.group.synced_changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn group_commit_shares_syncs_between_waiters() {
        let group = Arc::new(GroupCommit::default());
        let syncs = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let group = Arc::clone(&group);
                let syncs = Arc::clone(&syncs);
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let ticket = group.committed();
                        group
                            .wait_synced(ticket, || {
                                syncs.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(2));
                                Ok(())
                            })
                            .unwrap();
                        assert!(group.lock().synced >= ticket);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let syncs = syncs.load(Ordering::SeqCst);
        assert!(
            syncs < 400,
            "400 commits took {syncs} syncs: none were shared"
        );
    }

    #[test]
    fn a_failed_sync_fails_every_later_commit() {
        let group = GroupCommit::default();
        let first = group.committed();
        let error = group
            .wait_synced(first, || Err(StorageError::Io("disk on fire".into())))
            .unwrap_err();
        assert!(error.to_string().contains("disk on fire"));
        let second = group.committed();
        assert!(group.wait_synced(second, || Ok(())).is_err());
    }

    #[test]
    fn a_panicking_sync_does_not_strand_followers() {
        let group = Arc::new(GroupCommit::default());
        let panicking = Arc::clone(&group);
        let outcome = std::thread::spawn(move || {
            let ticket = panicking.committed();
            let _ = panicking.wait_synced(ticket, || panic!("sync panicked"));
        })
        .join();
        assert!(outcome.is_err());
        let ticket = group.committed();
        group.wait_synced(ticket, || Ok(())).unwrap();
    }
}
