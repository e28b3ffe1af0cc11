//! A storage wrapper that records the write set of every committed transaction, for the
//! write golden scripts: each command prints the storage writes it caused.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use stator_storage::{
    Direction, RangeIter, Reader, Snapshot, Storage, StorageError, WriteTransaction,
};

/// One committed transaction: its writes in key order (`None`: a delete).
pub type Commit = Vec<(Vec<u8>, Option<Vec<u8>>)>;

pub struct Recording {
    inner: Arc<dyn Storage>,
    log: Arc<Mutex<Vec<Commit>>>,
}

impl Recording {
    pub fn new(inner: Arc<dyn Storage>) -> Arc<Recording> {
        Arc::new(Recording {
            inner,
            log: Arc::default(),
        })
    }

    /// The commits since the last call.
    pub fn take(&self) -> Vec<Commit> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

struct Txn<'s> {
    inner: Box<dyn WriteTransaction + 's>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    log: &'s Mutex<Vec<Commit>>,
}

impl Reader for Txn<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<stator_storage::Bytes>, StorageError> {
        self.inner.get(key)
    }

    fn range<'a>(
        &'a self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<RangeIter<'a>, StorageError> {
        self.inner.range(start, end, direction)
    }
}

impl WriteTransaction for Txn<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.inner.put(key, value)?;
        self.writes.insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.inner.delete(key)?;
        self.writes.insert(key.to_vec(), None);
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let Txn { inner, writes, log } = *self;
        inner.commit()?;
        if !writes.is_empty() {
            log.lock().unwrap().push(writes.into_iter().collect());
        }
        Ok(())
    }

    fn writer_slot(&self) -> u32 {
        self.inner.writer_slot()
    }

    fn writer_epoch(&self) -> Option<u64> {
        self.inner.writer_epoch()
    }

    fn advance_writer_epoch(&mut self) {
        self.inner.advance_writer_epoch();
    }
}

impl Storage for Recording {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StorageError> {
        self.inner.snapshot()
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTransaction + '_>, StorageError> {
        Ok(Box::new(Txn {
            inner: self.inner.begin_write()?,
            writes: BTreeMap::new(),
            log: &self.log,
        }))
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush()
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}
