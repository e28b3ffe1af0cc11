//! The engine against a storage backend that reports conflicts, as a shared database does,
//! or fails a commit.
//!
//! `Conflicting` wraps the in-memory backend and makes every `EVERY`th commit fail with
//! `StorageError::Conflict` without applying anything. Every request must still have
//! exactly its effect once: the engine retries the whole transaction (`Engine::write`), and
//! what it does inside one must be free of side effects until the commit succeeds. It can
//! also fail one chosen commit with an I/O error, to show that a BatchWriteItem that has
//! committed some writes reports the rest unprocessed instead of failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use stator_engine::batch::{BatchWrite, BatchWriteTable};
use stator_engine::ddl::{IndexUpdate, TableUpdate};
use stator_engine::items::{GetRequest, UpdateRequest};
use stator_engine::schema::{ProjectionType, ScalarType};
use stator_engine::transact::{TransactAction, TransactWrite, TransactWriteRequest};
use stator_engine::{Engine, EngineConfig, ErrorKind};
use stator_storage::{
    Direction, MemoryStorage, RangeIter, Reader, Snapshot, Storage, StorageError, WriteTransaction,
};

/// In-memory storage whose commits fail with a conflict once every `every` commits.
struct Conflicting {
    inner: MemoryStorage,
    /// 0: never conflict.
    every: AtomicU64,
    commits: AtomicU64,
    conflicts: AtomicU64,
    /// The number of the commit to fail with an I/O error (`u64::MAX`: none).
    fail_commit: AtomicU64,
}

impl Conflicting {
    fn new(every: u64) -> Arc<Self> {
        Arc::new(Conflicting {
            inner: MemoryStorage::new(),
            every: AtomicU64::new(every),
            commits: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
            fail_commit: AtomicU64::new(u64::MAX),
        })
    }
}

struct Txn<'s> {
    inner: Box<dyn WriteTransaction + 's>,
    storage: &'s Conflicting,
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
        self.inner.put(key, value)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.inner.delete(key)
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let n = self.storage.commits.fetch_add(1, Ordering::SeqCst);
        if n == self.storage.fail_commit.load(Ordering::SeqCst) {
            return Err(StorageError::Io(
                "no space left on device (injected)".into(),
            ));
        }
        let every = self.storage.every.load(Ordering::SeqCst);
        if every > 0 && n.is_multiple_of(every) {
            self.storage.conflicts.fetch_add(1, Ordering::SeqCst);
            // Dropping the inner transaction applies nothing.
            return Err(StorageError::Conflict("injected by the test".into()));
        }
        self.inner.commit()
    }
}

impl Storage for Conflicting {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, StorageError> {
        self.inner.snapshot()
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTransaction + '_>, StorageError> {
        Ok(Box::new(Txn {
            inner: self.inner.begin_write()?,
            storage: self,
        }))
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.inner.flush()
    }

    fn kind(&self) -> &'static str {
        "conflicting"
    }
}

fn value_of(engine: &Engine, table: &str, pk: &str, attr: &str) -> Option<String> {
    let out = engine
        .get_item(GetRequest {
            table: table.to_string(),
            key: key(pk),
            projection: None,
            consistent: true,
        })
        .unwrap();
    let item = out.item?.to_item().unwrap();
    match item.get(attr)? {
        stator_types::AttributeValue::N(n) => Some(n.to_string()),
        other => Some(format!("{other:?}")),
    }
}

#[test]
fn every_request_takes_effect_once_when_commits_conflict() {
    let storage = Conflicting::new(3);
    let engine = Engine::open(storage.clone(), EngineConfig::default()).unwrap();
    engine
        .create_table(table(
            "t",
            None,
            vec![new_index(
                "by_n",
                attr("n", ScalarType::N),
                None,
                ProjectionType::All,
                &[],
            )],
            vec![],
        ))
        .unwrap();

    // Concurrent read-modify-writes: none lost, none applied twice.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    engine
                        .update_item(UpdateRequest {
                            table: "t".into(),
                            key: key("counter"),
                            update: Some(update("ADD n :one", &[(":one", n(1))])),
                            creates_missing_item: true,
                            condition: None,
                            return_values: Default::default(),
                            return_old_on_failure: false,
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        value_of(&engine, "t", "counter", "n").as_deref(),
        Some("400")
    );

    // Batches and transactions.
    let out = engine
        .batch_write(vec![BatchWriteTable {
            table: "t".into(),
            writes: (0..20)
                .map(|i| BatchWrite::Put(with(&format!("b{i}"), &[("n", n(i))])))
                .collect(),
        }])
        .unwrap();
    assert!(out.unprocessed.is_empty());
    assert_eq!(out.consumed[0].table_units, 20.0);
    for round in 0..10 {
        let writes: Vec<TransactWrite> = (0..3)
            .map(|i| TransactWrite {
                action: TransactAction::Update {
                    table: "t".into(),
                    key: key(&format!("tx{i}")),
                    update: update("ADD n :one", &[(":one", n(1))]),
                    condition: None,
                },
                return_old_on_failure: false,
            })
            .collect();
        let out = engine
            .transact_write(TransactWriteRequest {
                writes,
                client_request_token: Some(format!("token-{round}")),
                request_fingerprint: round,
            })
            .unwrap();
        assert_eq!(out.consumed[0].table_units, 6.0);
    }
    for i in 0..3 {
        assert_eq!(
            value_of(&engine, "t", &format!("tx{i}"), "n").as_deref(),
            Some("10")
        );
    }

    // DDL and a backfill under conflicts too.
    engine
        .update_table(
            "t",
            TableUpdate {
                index_updates: vec![IndexUpdate::Create(new_index(
                    "by_n_keys",
                    attr("n", ScalarType::N),
                    None,
                    ProjectionType::KeysOnly,
                    &[],
                ))],
                attribute_definitions: Some(vec![
                    attr("pk", ScalarType::S),
                    attr("n", ScalarType::N),
                ]),
                ..Default::default()
            },
        )
        .unwrap();
    wait_for_active_indexes(&engine, "t");
    check_indexes(&engine, "t");
    assert!(
        storage.conflicts.load(Ordering::SeqCst) > 100,
        "the test must really have injected conflicts"
    );
}

#[test]
fn a_write_that_always_conflicts_fails_cleanly_and_writes_nothing() {
    let storage = Conflicting::new(0);
    let engine = Engine::open(storage.clone(), EngineConfig::default()).unwrap();
    engine
        .create_table(table("t", None, vec![], vec![]))
        .unwrap();
    storage.every.store(1, Ordering::SeqCst);
    let before = storage.conflicts.load(Ordering::SeqCst);
    let error = engine
        .put_item(stator_engine::items::PutRequest {
            table: "t".into(),
            item: with("a", &[("n", n(1))]),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InternalServerError);
    assert_eq!(error.message, "Internal server error");
    assert_eq!(
        storage.conflicts.load(Ordering::SeqCst) - before,
        u64::from(stator_engine::write::MAX_ATTEMPTS)
    );
    storage.every.store(0, Ordering::SeqCst);
    assert_eq!(value_of(&engine, "t", "a", "n"), None);
    assert_eq!(engine.describe_table("t").unwrap().item_count, 0);
    put(&engine, "t", with("a", &[("n", n(2))]));
    assert_eq!(value_of(&engine, "t", "a", "n").as_deref(), Some("2"));
}

#[test]
fn a_batch_that_fails_after_committing_reports_the_rest_unprocessed() {
    let storage = Conflicting::new(0);
    let engine = Engine::open(storage.clone(), EngineConfig::default()).unwrap();
    engine
        .create_table(table("t", None, vec![], vec![]))
        .unwrap();
    let writes = || {
        vec![BatchWriteTable {
            table: "t".into(),
            writes: (0..5)
                .map(|i| BatchWrite::Put(with(&format!("k{i}"), &[("n", n(i))])))
                .collect(),
        }]
    };
    // The third write's commit fails: two are done, three come back.
    let next = storage.commits.load(Ordering::SeqCst);
    storage.fail_commit.store(next + 2, Ordering::SeqCst);
    let out = engine.batch_write(writes()).unwrap();
    assert_eq!(out.unprocessed.len(), 1);
    let left: Vec<String> = out.unprocessed[0]
        .writes
        .iter()
        .map(|w| match w {
            BatchWrite::Put(item) => format!("{:?}", item["pk"]),
            BatchWrite::Delete(key) => format!("{:?}", key["pk"]),
        })
        .collect();
    assert_eq!(left, ["S(\"k2\")", "S(\"k3\")", "S(\"k4\")"]);
    assert_eq!(out.consumed[0].table_units, 2.0);
    assert_eq!(engine.describe_table("t").unwrap().item_count, 2);

    // When the first write fails nothing was done, and the batch fails.
    let next = storage.commits.load(Ordering::SeqCst);
    storage.fail_commit.store(next, Ordering::SeqCst);
    let error = engine.batch_write(writes()).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InternalServerError);
    assert_eq!(engine.describe_table("t").unwrap().item_count, 2);
}
