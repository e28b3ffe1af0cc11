//! Shared test fixtures: a fresh store of each backend, and a macro that runs a test body
//! once per backend (one `#[test]` each, so a failure names the backend).
#![allow(dead_code, clippy::unwrap_used)]

use std::ops::Bound;

use stator_storage::{DiskStorage, Durability, MemoryStorage, Reader, Storage, WriteTransaction};

/// A pair as the tests compare them: owned bytes.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// `Reader::get` with the answer as owned bytes.
pub fn get(reader: &dyn Reader, key: &[u8]) -> Option<Vec<u8>> {
    reader
        .get(key)
        .unwrap()
        .map(stator_storage::Bytes::into_vec)
}
use tempfile::TempDir;

/// A store plus whatever must outlive it (the disk backend's directory).
pub struct Fixture {
    // Dropped first: the database closes before its directory is removed.
    pub storage: Box<dyn Storage>,
    pub dir: Option<TempDir>,
}

pub fn memory() -> Fixture {
    Fixture {
        storage: Box::new(MemoryStorage::new()),
        dir: None,
    }
}

pub fn disk() -> Fixture {
    disk_with(Durability::Process)
}

pub fn disk_with(durability: Durability) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage = DiskStorage::open(&dir.path().join("db"), durability).unwrap();
    Fixture {
        storage: Box::new(storage),
        dir: Some(dir),
    }
}

/// Generates `mod memory` and `mod disk`, each with one `#[test]` per listed function; every
/// function takes `&dyn Storage`.
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $name() {
                    let fixture = $crate::common::memory();
                    super::$name(&*fixture.storage);
                }
            )*
        }
        mod disk {
            $(
                #[test]
                fn $name() {
                    let fixture = $crate::common::disk();
                    super::$name(&*fixture.storage);
                }
            )*
        }
    };
}

/// Commits `pairs` as puts in one transaction.
pub fn put_all(storage: &dyn Storage, pairs: &[(&[u8], &[u8])]) {
    let mut tx = storage.begin_write().unwrap();
    for (key, value) in pairs {
        tx.put(key, value).unwrap();
    }
    tx.commit().unwrap();
}

/// Collects a range scan, panicking on a storage error.
pub fn scan(
    reader: &dyn Reader,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    direction: stator_storage::Direction,
) -> Vec<KeyValue> {
    reader
        .range(start, end, direction)
        .unwrap()
        .map(|pair| pair.map(|(k, v)| (k.into_vec(), v.into_vec())))
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Every pair of a reader, forwards.
pub fn scan_all(reader: &dyn Reader) -> Vec<KeyValue> {
    scan(
        reader,
        Bound::Unbounded,
        Bound::Unbounded,
        stator_storage::Direction::Forward,
    )
}

/// The committed state, read through a fresh snapshot.
pub fn committed(storage: &dyn Storage) -> Vec<KeyValue> {
    let snapshot = storage.snapshot().unwrap();
    scan_all(&*snapshot)
}

/// Pairs of a model map within bounds, in the given direction: the expected scan result.
pub fn model_range(
    model: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    direction: stator_storage::Direction,
) -> Vec<KeyValue> {
    let in_range = |key: &[u8]| {
        let above = match start {
            Bound::Unbounded => true,
            Bound::Included(s) => key >= s,
            Bound::Excluded(s) => key > s,
        };
        let below = match end {
            Bound::Unbounded => true,
            Bound::Included(e) => key <= e,
            Bound::Excluded(e) => key < e,
        };
        above && below
    };
    // Filtering instead of BTreeMap::range keeps the model independent of the code under
    // test (and BTreeMap::range panics on inverted bounds).
    let mut pairs: Vec<KeyValue> = model
        .iter()
        .filter(|(key, _)| in_range(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if direction == stator_storage::Direction::Reverse {
        pairs.reverse();
    }
    pairs
}

/// Applies a write to a transaction and to its model at once.
pub fn write_both(
    tx: &mut dyn WriteTransaction,
    model: &mut std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    key: &[u8],
    value: Option<&[u8]>,
) {
    match value {
        Some(value) => {
            tx.put(key, value).unwrap();
            model.insert(key.to_vec(), value.to_vec());
        }
        None => {
            tx.delete(key).unwrap();
            model.remove(key);
        }
    }
}
