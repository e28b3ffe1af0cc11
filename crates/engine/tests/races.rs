//! Races between item writes and DDL, on both backends.
//!
//! Writer threads keep putting, updating and deleting items — singly, in BatchWriteItems and
//! in TransactWriteItems — rewriting the attribute that new global secondary indexes are
//! keyed on, while the main thread adds and removes indexes (UpdateTable) or drops and
//! recreates the table (DeleteTable, CreateTable). Afterwards every index must hold exactly
//! the entries its definition derives from the table (no stale entry, none missing, the
//! right projection, counts that match), and no data may be left under a dropped table's or
//! index's storage id once its cleanup has run.
//!
//! This is the regression test of the stale-metadata window: a write that used table
//! metadata read before a DDL committed would skip an index the DDL had just added (while
//! its backfill may already have passed the item), or write under a dropped table id. Each
//! scenario runs twice per backend: with the writers on the engine that runs the DDL (whose
//! cache is stale only for a moment), and on a second engine over the same storage — a
//! second front end, whose cache no DDL of the first ever updates, so only the catalog
//! generation check inside each write keeps it correct.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use stator_engine::batch::{BatchWrite, BatchWriteTable};
use stator_engine::ddl::{IndexUpdate, TableUpdate};
use stator_engine::items::{DeleteRequest, PutRequest, UpdateRequest};
use stator_engine::schema::{ProjectionType, ScalarType};
use stator_engine::transact::{TransactAction, TransactWrite, TransactWriteRequest};
use stator_engine::{DynamoError, Engine, EngineConfig, ErrorKind};
use stator_types::Item;

const TABLE: &str = "races";
const KEYS: u64 = 150;
const WRITERS: u64 = 4;

/// xorshift64*: enough randomness for a workload, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An item whose index key attribute `n` is present most of the time, with a payload so
/// projections matter.
fn random_item(rng: &mut Rng, pk: &str) -> Item {
    let mut attrs = vec![("payload", s(&format!("p{}", rng.below(1000))))];
    if rng.below(5) != 0 {
        attrs.push(("n", n(rng.below(30))));
    }
    if rng.below(2) == 0 {
        attrs.push(("extra", n(rng.below(9))));
    }
    with(pk, &attrs)
}

/// Errors a writer may meet while the DDL thread changes or drops the table.
fn expected(error: &DynamoError) -> bool {
    matches!(
        error.kind,
        ErrorKind::ResourceNotFound | ErrorKind::TransactionCanceled
    )
}

fn writer(engine: Arc<Engine>, seed: u64, stop: Arc<AtomicBool>, done: Arc<AtomicU64>) {
    let mut rng = Rng(seed | 1);
    while !stop.load(Ordering::Relaxed) {
        let pk = format!("k{}", rng.below(KEYS));
        let result = match rng.below(5) {
            0 => engine
                .put_item(PutRequest {
                    table: TABLE.into(),
                    item: random_item(&mut rng, &pk),
                    ..Default::default()
                })
                .map(drop),
            1 => {
                let change = if rng.below(4) == 0 {
                    update("REMOVE n", &[])
                } else {
                    update(
                        "SET n = :v, payload = :p",
                        &[(":v", n(rng.below(30))), (":p", s("updated"))],
                    )
                };
                engine
                    .update_item(UpdateRequest {
                        table: TABLE.into(),
                        key: key(&pk),
                        update: Some(change),
                        creates_missing_item: true,
                        condition: None,
                        return_values: Default::default(),
                        return_old_on_failure: false,
                    })
                    .map(drop)
            }
            2 => engine
                .delete_item(DeleteRequest {
                    table: TABLE.into(),
                    key: key(&pk),
                    ..Default::default()
                })
                .map(drop),
            3 => {
                let first = rng.below(KEYS);
                let writes = (0..8)
                    .map(|i| {
                        let pk = format!("k{}", (first + i * 17) % KEYS);
                        if rng.below(4) == 0 {
                            BatchWrite::Delete(key(&pk))
                        } else {
                            BatchWrite::Put(random_item(&mut rng, &pk))
                        }
                    })
                    .collect();
                engine
                    .batch_write(vec![BatchWriteTable {
                        table: TABLE.into(),
                        writes,
                    }])
                    .map(drop)
            }
            _ => {
                let first = rng.below(KEYS);
                let keys: Vec<String> = (0..3)
                    .map(|i| format!("k{}", (first + i * 31) % KEYS))
                    .collect();
                let writes = vec![
                    TransactWrite {
                        action: TransactAction::Put {
                            table: TABLE.into(),
                            item: random_item(&mut rng, &keys[0]),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                    TransactWrite {
                        action: TransactAction::Update {
                            table: TABLE.into(),
                            key: key(&keys[1]),
                            update: update("SET n = :v", &[(":v", n(rng.below(30)))]),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                    TransactWrite {
                        action: TransactAction::Delete {
                            table: TABLE.into(),
                            key: key(&keys[2]),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                ];
                engine
                    .transact_write(TransactWriteRequest {
                        writes,
                        client_request_token: None,
                        request_fingerprint: 0,
                    })
                    .map(drop)
            }
        };
        match result {
            Ok(()) => {
                done.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if expected(&e) => {}
            Err(e) => panic!("unexpected error from a racing write: {e}"),
        }
    }
}

/// Runs the writers on `engine` while `ddl` runs on this thread, then stops them.
fn with_writers(engine: &Arc<Engine>, round: u64, ddl: impl FnOnce()) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (engine, stop, done) = (engine.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                writer(engine, 0x9E37_79B9 * (round * 8 + w + 1), stop, done)
            })
        })
        .collect();
    // Let the writers get going before the DDL.
    let started = done.load(Ordering::Relaxed);
    wait_until(30, "writes to start", || {
        done.load(Ordering::Relaxed) > started + 20
    });
    ddl();
    let after_ddl = done.load(Ordering::Relaxed);
    wait_until(30, "writes after the DDL", || {
        done.load(Ordering::Relaxed) > after_ddl + 50
    });
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed)
}

fn add_index(engine: &Engine, name: &str, projection: ProjectionType) {
    let include: &[&str] = if projection == ProjectionType::Include {
        &["payload"]
    } else {
        &[]
    };
    engine
        .update_table(
            TABLE,
            TableUpdate {
                index_updates: vec![IndexUpdate::Create(new_index(
                    name,
                    attr("n", ScalarType::N),
                    None,
                    projection,
                    include,
                ))],
                attribute_definitions: Some(vec![
                    attr("pk", ScalarType::S),
                    attr("n", ScalarType::N),
                ]),
                ..Default::default()
            },
        )
        .unwrap();
}

fn remove_index(engine: &Engine, name: &str) {
    engine
        .update_table(
            TABLE,
            TableUpdate {
                index_updates: vec![IndexUpdate::Delete {
                    name: name.to_string(),
                }],
                ..Default::default()
            },
        )
        .unwrap();
}

/// Waits until every dropped storage id's data is gone, then checks that no data is left
/// outside the live table and its indexes.
fn check_no_orphans(engine: &Engine) {
    wait_until(60, "dropped data to be cleaned up", || {
        storage_ids_in_use(engine).1.is_empty()
    });
    let (data, _) = storage_ids_in_use(engine);
    let live = live_storage_ids(engine, &[TABLE]);
    let orphans: Vec<&u32> = data.difference(&live).collect();
    assert!(
        orphans.is_empty(),
        "data left under dropped ids {orphans:?}"
    );
}

/// The engines of one scenario run: the one that runs DDL and checks, and the one the
/// writers use (the same, or a second engine over the same storage).
fn setups() -> Vec<(Arc<Engine>, Arc<Engine>, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    for second_front_end in [false, true] {
        for (engine, dir) in engines(EngineConfig::default()) {
            let writers = if second_front_end {
                Engine::open(engine.storage().clone(), EngineConfig::default()).unwrap()
            } else {
                engine.clone()
            };
            out.push((engine, writers, dir));
        }
    }
    out
}

#[test]
fn index_builds_and_removals_racing_writes_leave_exact_indexes() {
    for (engine, writers, _dir) in setups() {
        engine
            .create_table(table(TABLE, None, vec![], vec![]))
            .unwrap();
        // The second front end learns of the table as any would: by using it.
        put(&writers, TABLE, key("k0"));
        let projections = [
            ProjectionType::KeysOnly,
            ProjectionType::All,
            ProjectionType::Include,
        ];
        for round in 0..6u64 {
            let name = format!("by_n_{round}");
            with_writers(&writers, round, || {
                add_index(&engine, &name, projections[round as usize % 3]);
                wait_for_active_indexes(&engine, TABLE);
            });
            check_indexes(&engine, TABLE);
            if round > 0 {
                // Remove the previous round's index while writes keep coming.
                let previous = format!("by_n_{}", round - 1);
                with_writers(&writers, round + 100, || remove_index(&engine, &previous));
                check_indexes(&engine, TABLE);
            }
        }
        check_no_orphans(&engine);
    }
}

#[test]
fn tables_dropped_and_recreated_under_racing_writes_leave_nothing_behind() {
    for (engine, writers, _dir) in setups() {
        let with_gsi = || {
            table(
                TABLE,
                None,
                vec![new_index(
                    "by_n",
                    attr("n", ScalarType::N),
                    None,
                    ProjectionType::All,
                    &[],
                )],
                vec![],
            )
        };
        engine.create_table(with_gsi()).unwrap();
        put(&writers, TABLE, key("k0"));
        for round in 0..6u64 {
            with_writers(&writers, round, || {
                engine.delete_table(TABLE).unwrap();
                // Writers now meet a missing table until it is back.
                std::thread::sleep(Duration::from_millis(5));
                let recreated = if round % 2 == 0 {
                    with_gsi()
                } else {
                    table(TABLE, None, vec![], vec![])
                };
                engine.create_table(recreated).unwrap();
            });
            check_indexes(&engine, TABLE);
        }
        check_no_orphans(&engine);
    }
}
