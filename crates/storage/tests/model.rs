//! Property test: random transactions applied to a backend and to a `BTreeMap` model must
//! agree on every read, inside transactions (read-your-own-writes) and after them, in both
//! scan directions. Keys come from a tiny alphabet with 0x00 and 0xFF so that overwrites,
//! deletes of present keys and prefix neighbours are common.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use common::{model_range, scan, write_both};
use proptest::prelude::*;
use stator_storage::{Direction, DiskStorage, Durability, MemoryStorage, Storage};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Debug, Clone)]
enum BoundSpec {
    Unbounded,
    Included(Vec<u8>),
    Excluded(Vec<u8>),
}

impl BoundSpec {
    fn as_bound(&self) -> Bound<&[u8]> {
        match self {
            Self::Unbounded => Bound::Unbounded,
            Self::Included(key) => Bound::Included(key),
            Self::Excluded(key) => Bound::Excluded(key),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    Get(Vec<u8>),
    Range(BoundSpec, BoundSpec, Direction),
}

#[derive(Debug, Clone)]
struct Txn {
    ops: Vec<Op>,
    commit: bool,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![0x00, 0x01, b'a', b'b', 0xfe, 0xff]),
        1..4,
    )
}

fn bound() -> impl Strategy<Value = BoundSpec> {
    prop_oneof![
        1 => Just(BoundSpec::Unbounded),
        2 => key().prop_map(BoundSpec::Included),
        2 => key().prop_map(BoundSpec::Excluded),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let direction = prop_oneof![Just(Direction::Forward), Just(Direction::Reverse)];
    prop_oneof![
        4 => (key(), prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(k, v)| Op::Put(k, v)),
        2 => key().prop_map(Op::Delete),
        1 => key().prop_map(Op::Get),
        2 => (bound(), bound(), direction).prop_map(|(s, e, d)| Op::Range(s, e, d)),
    ]
}

fn txns() -> impl Strategy<Value = Vec<Txn>> {
    let txn = (
        prop::collection::vec(op(), 0..12),
        prop::bool::weighted(0.8),
    )
        .prop_map(|(ops, commit)| Txn { ops, commit });
    prop::collection::vec(txn, 1..12)
}

fn check_committed(storage: &dyn Storage, model: &Model) -> Result<(), TestCaseError> {
    let snapshot = storage.snapshot().unwrap();
    for direction in [Direction::Forward, Direction::Reverse] {
        prop_assert_eq!(
            scan(&*snapshot, Bound::Unbounded, Bound::Unbounded, direction),
            model_range(model, Bound::Unbounded, Bound::Unbounded, direction)
        );
    }
    for (key, value) in model {
        prop_assert_eq!(
            snapshot
                .get(key)
                .unwrap()
                .map(stator_storage::Bytes::into_vec),
            Some(value.clone())
        );
    }
    Ok(())
}

fn run(storage: &dyn Storage, model: &mut Model, txns: &[Txn]) -> Result<(), TestCaseError> {
    for txn in txns {
        let mut tx = storage.begin_write().unwrap();
        let mut own = model.clone();
        for op in &txn.ops {
            match op {
                Op::Put(key, value) => write_both(&mut *tx, &mut own, key, Some(value)),
                Op::Delete(key) => write_both(&mut *tx, &mut own, key, None),
                Op::Get(key) => prop_assert_eq!(
                    tx.get(key).unwrap().map(stator_storage::Bytes::into_vec),
                    own.get(key).cloned()
                ),
                Op::Range(start, end, direction) => prop_assert_eq!(
                    scan(&*tx, start.as_bound(), end.as_bound(), *direction),
                    model_range(&own, start.as_bound(), end.as_bound(), *direction),
                    "range {:?}..{:?} {:?}",
                    start,
                    end,
                    direction
                ),
            }
        }
        // A full scan in both directions inside the transaction, whatever the ops were.
        for direction in [Direction::Forward, Direction::Reverse] {
            prop_assert_eq!(
                scan(&*tx, Bound::Unbounded, Bound::Unbounded, direction),
                model_range(&own, Bound::Unbounded, Bound::Unbounded, direction)
            );
        }
        if txn.commit {
            tx.commit().unwrap();
            *model = own;
        } else {
            drop(tx);
        }
        check_committed(storage, model)?;
    }
    Ok(())
}

proptest! {
    #[test]
    fn memory_matches_model(txns in txns()) {
        let storage = MemoryStorage::new();
        run(&storage, &mut Model::new(), &txns)?;
    }
}

proptest! {
    // Each case opens a fresh database directory, so fewer cases than the memory backend.
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn disk_matches_model_and_survives_reopen(txns in txns()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut model = Model::new();
        {
            let storage = DiskStorage::open(&path, Durability::Process).unwrap();
            run(&storage, &mut model, &txns)?;
        }
        let storage = DiskStorage::open(&path, Durability::Process).unwrap();
        check_committed(&storage, &model)?;
    }
}
