//! Stator's storage layer: a small transactional, ordered key-value store.
//!
//! Everything above this crate sees only the traits defined here; no backend type leaks out.
//! The engine encodes tables, items, indexes and metadata into byte keys (see the engine's
//! `keys` module) and relies on three properties that every backend must provide:
//!
//! 1. **Order.** Keys are compared as unsigned byte strings; `range` yields them in that order,
//!    forwards or backwards.
//! 2. **Snapshots.** A [`Snapshot`] sees one committed state for its whole life, whatever is
//!    committed meanwhile.
//! 3. **Serializable atomic writes.** A [`WriteTransaction`] reads committed state plus its
//!    own uncommitted writes; `commit` applies all of its writes atomically, or none. The
//!    outcome of all committed transactions is as if they had run one at a time. A
//!    transaction that is dropped without `commit` writes nothing.
//! 4. **Conflicts are reported, never hidden.** A backend may run write transactions
//!    concurrently (a shared SQL database does). When one would break serializability,
//!    `commit` (or any read or write before it) fails with [`StorageError::Conflict`] and
//!    nothing of the transaction is applied; the caller retries the whole transaction from
//!    the start (the engine does this in one place, `Engine::write`). So everything a caller
//!    does inside a transaction must be free of side effects until `commit` succeeds.
//!
//! The two embedded backends keep the simplest implementation of this contract: they
//! serialize write transactions (while one is open, `begin_write` on another thread waits),
//! so they never report a conflict; `commit` may still fail with an I/O error. Code above
//! this crate must not rely on that: it is a property of these backends, not of the trait.
//!
//! Records that every writer of a table would update (item counts, sizes) are a
//! single-writer bottleneck on a shared database. [`WriteTransaction::writer_slot`] gives
//! each concurrently open transaction its own small number, so such records are kept one
//! per slot and concurrent writers never touch the same key.
//!
//! Where writers are serialized in one process, [`WriteTransaction::writer_epoch`] offers a
//! counter that only writers move, so a caller can keep what it read inside one write
//! transaction for later ones until the counter moves (the engine's catalog check). Other
//! backends answer `None` and callers read inside every transaction.
//!
//! Rule for callers: never open a write transaction while holding a snapshot or write
//! transaction on the same thread (a backend may implement snapshots with a lock that a
//! commit waits for), and never hold either across an `.await`.
//!
//! Backends: [`MemoryStorage`] (persistent-map MVCC, see [`memory`]) and [`DiskStorage`]
//! (fjall, see [`disk`]). In both, a snapshot holds no lock: commits proceed while snapshots
//! are open, and a write transaction holds only the writer lock. The caller rule above
//! still stands, so that a future backend may take locks.
//!
//! Durability (see [`Durability`]): a commit that returned `Ok` survives a crash of the
//! process in every on-disk mode; in [`Durability::Sync`] it also survives power loss,
//! because `commit` returns only after an fsync that covers it (group commit: one fsync may
//! cover many concurrent commits).

use std::ops::Bound;

pub mod bytes;
pub mod disk;
pub mod memory;
mod overlay;
mod writer_lock;

pub use bytes::Bytes;
pub use disk::{DiskOptions, DiskStats, DiskStorage};
pub use memory::MemoryStorage;

/// A key-value pair as yielded by a range scan (shared with the store where it can be).
pub type KeyValue = (Bytes, Bytes);

/// The iterator a range scan returns. Errors are yielded in-band; after an error the
/// iterator may end.
pub type RangeIter<'a> = Box<dyn Iterator<Item = Result<KeyValue, StorageError>> + 'a>;

/// The iterator [`Reader::range_values`] returns: a range scan's values without their keys.
pub type ValueIter<'a> = Box<dyn Iterator<Item = Result<Bytes, StorageError>> + 'a>;

/// Errors from the storage layer. They are internal errors from the client's point of view.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O error: {0}")]
    Io(String),
    #[error("storage corruption: {0}")]
    Corruption(String),
    /// The transaction conflicted with a concurrent one and was not applied; running it
    /// again from the start may succeed.
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// The data directory is open in another process (its lock is held).
    #[error("{0}")]
    InUse(String),
    #[error("storage error: {0}")]
    Other(String),
}

impl StorageError {
    /// Whether the failed transaction may simply be run again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StorageError::Conflict(_))
    }
}

/// Scan direction for [`Reader::range`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Reverse,
}

/// How far an acknowledged commit is guaranteed to survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// The commit is in the operating system's buffers when `commit` returns: it survives a
    /// crash (or `kill -9`) of the process, not a crash of the machine.
    #[default]
    Process,
    /// The commit is on stable storage (fsync) when `commit` returns. Concurrent commits share
    /// fsyncs (group commit), and the fsync happens outside the write lock.
    Sync,
}

/// Read access shared by snapshots and write transactions.
pub trait Reader {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StorageError>;

    /// All pairs whose keys lie within the bounds, in key order (or reverse key order).
    fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<RangeIter<'a>, StorageError>;

    /// The values of [`Reader::range`], in the same order, without their keys. A Query or
    /// Scan page reads only values, and a backend that need not produce the keys may answer
    /// more cheaply: the memory backend then leaves each key's shared buffer untouched (two
    /// atomic reference-count updates and a cache miss per entry, ~6% of a Query's server
    /// CPU). The default takes the values from `range`.
    fn range_values<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<ValueIter<'a>, StorageError> {
        let pairs = self.range(start, end, direction)?;
        Ok(Box::new(pairs.map(|entry| entry.map(|(_, value)| value))))
    }
}

/// A consistent read-only view of the committed state at the moment it was taken.
pub trait Snapshot: Reader + Send {}

/// A serializable read-write transaction. Reads see the committed state plus this
/// transaction's own writes (including in `range`).
pub trait WriteTransaction: Reader + Send {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError>;
    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError>;
    /// Applies every write of this transaction atomically, or fails with nothing applied
    /// ([`StorageError::Conflict`] when running it again may succeed).
    fn commit(self: Box<Self>) -> Result<(), StorageError>;
    /// A number that no other write transaction open at the same time has. Backends that
    /// serialize writers answer 0; a backend with concurrent writers answers, say, its
    /// connection's index within a range that it leases for this process. Records that many
    /// writers update are kept one per slot and summed by readers.
    fn writer_slot(&self) -> u32 {
        0
    }
    /// For a backend whose write transactions run one at a time and which no other process
    /// writes (memory, disk): the writers' epoch, a number kept in this process that changes
    /// only when a transaction calls [`WriteTransaction::advance_writer_epoch`] (and never
    /// while another transaction is open). What it counts is the caller's business: the
    /// engine advances it with every catalog change, so a table's metadata read inside a
    /// write transaction stays current for later transactions that see the same epoch,
    /// without reading it again. `None` (the default) where writers run concurrently or
    /// other processes write (a shared database): callers must then read what they rely on
    /// inside each transaction.
    fn writer_epoch(&self) -> Option<u64> {
        None
    }
    /// Moves the writers' epoch on, at once and whether or not this transaction then
    /// commits (an extra advance only costs the caller a re-read). Does nothing where
    /// [`WriteTransaction::writer_epoch`] is `None`.
    fn advance_writer_epoch(&mut self) {}
}

/// True when no key can lie within the bounds: the start is above the end, or they meet
/// at a key that one of them excludes. Both backends answer such a range with an empty
/// iterator (the standard `BTreeMap::range` would panic on it; an engine may compute such
/// bounds from client input, e.g. a `BETWEEN` whose low value is above its high value).
pub(crate) fn range_is_empty(start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e))
        | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
    }
}

/// The longest key any backend accepts (fjall's limit, kept by every backend alike).
pub const MAX_KEY_BYTES: usize = u16::MAX as usize;

/// Rejects keys some backend cannot store: empty, or longer than [`MAX_KEY_BYTES`].
/// DynamoDB's own limits are far smaller, so hitting this is an engine bug, reported as an
/// error instead of a panic or a failed commit later. Every backend checks, so that code
/// tested on the memory backend behaves the same on disk.
pub(crate) fn check_key(key: &[u8]) -> Result<(), StorageError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(StorageError::Other(format!(
            "key length {} outside 1..={MAX_KEY_BYTES}",
            key.len()
        )));
    }
    Ok(())
}

/// A storage backend.
pub trait Storage: Send + Sync + 'static {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StorageError>;
    fn begin_write(&self) -> Result<Box<dyn WriteTransaction + '_>, StorageError>;
    /// Makes every commit so far durable on stable storage (used at shutdown).
    fn flush(&self) -> Result<(), StorageError>;
    /// A short name for logs and docs: "memory" or "disk".
    fn kind(&self) -> &'static str;
    /// Whether a call may wait for I/O for long (an fsync, a network round trip). The
    /// server runs engine calls on a blocking thread pool when this is true, so that one
    /// slow call never stalls the connections that share its async worker thread.
    fn calls_may_block(&self) -> bool {
        false
    }
    /// `Err(reason)` when the store cannot currently do its job (for instance, the disk is
    /// full and writes fail); the server's health answer and log report it.
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
}
