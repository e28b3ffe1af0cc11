//! Engine-level tests of batches and transactions on both backends: batch writes and reads
//! across tables with the 16 MB response limit, all-or-nothing transactions with
//! cancellation reasons in request order, idempotency tokens, and a concurrent bank-transfer
//! workload whose total never changes and whose balances never go negative.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

use stator_engine::batch::{BatchGetTable, BatchWrite, BatchWriteTable};
use stator_engine::clock::ManualClock;
use stator_engine::transact::{TransactAction, TransactGet, TransactWrite, TransactWriteRequest};
use stator_engine::{Engine, EngineConfig, ErrorKind};
use stator_types::{AttributeValue as Av, Item};
use std::sync::Arc;
use std::time::Duration;

fn get(engine: &Engine, table: &str, pk: &str) -> Option<Item> {
    engine
        .transact_get(vec![TransactGet {
            table: table.into(),
            key: key(pk),
            projection: None,
        }])
        .unwrap()
        .items
        .remove(0)
}

#[test]
fn batches_write_and_read_across_tables_and_stop_at_16_mb() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        create(&engine, "one");
        create(&engine, "two");
        let big = s(&"x".repeat(350 * 1024));
        let out = engine
            .batch_write(vec![
                BatchWriteTable {
                    table: "one".into(),
                    writes: (0..25)
                        .map(|i| BatchWrite::Put(with(&format!("k{i}"), &[("d", big.clone())])))
                        .collect(),
                },
                BatchWriteTable {
                    table: "two".into(),
                    writes: vec![
                        BatchWrite::Put(key("a")),
                        BatchWrite::Delete(key("missing")),
                    ],
                },
            ])
            .unwrap();
        assert!(out.unprocessed.is_empty());
        assert_eq!(out.consumed.len(), 2);
        assert_eq!(out.consumed[0].total(), 25.0 * 351.0);
        for batch in 0..2 {
            engine
                .batch_write(vec![BatchWriteTable {
                    table: "one".into(),
                    writes: (0..25)
                        .map(|i| {
                            BatchWrite::Put(with(&format!("b{batch}-{i}"), &[("d", big.clone())]))
                        })
                        .collect(),
                }])
                .unwrap();
        }
        // 75 items of 350 KB is ~26 MB: a first BatchGetItem of them returns about 16 MB and
        // leaves the rest unprocessed; retrying reads each item exactly once.
        let mut keys: Vec<Item> = (0..25).map(|i| key(&format!("k{i}"))).collect();
        for batch in 0..2 {
            keys.extend((0..25).map(|i| key(&format!("b{batch}-{i}"))));
        }
        let mut request = vec![
            BatchGetTable {
                table: "one".into(),
                keys,
                projection: None,
                consistent: false,
            },
            BatchGetTable {
                table: "two".into(),
                keys: vec![key("a"), key("absent")],
                projection: None,
                consistent: true,
            },
        ];
        let mut read = 0;
        let mut rounds = 0;
        while !request.is_empty() {
            let out = engine.batch_get(request).unwrap();
            for (_, items) in &out.responses {
                read += items.len();
            }
            if rounds == 0 {
                assert!(!out.unprocessed.is_empty());
            }
            request = out.unprocessed;
            rounds += 1;
        }
        assert_eq!(read, 76);
        assert!(rounds >= 2);
    }
}

#[test]
fn a_batch_with_one_invalid_write_writes_nothing() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        create(&engine, "t");
        let err = engine
            .batch_write(vec![BatchWriteTable {
                table: "t".into(),
                writes: vec![
                    BatchWrite::Put(key("ok")),
                    BatchWrite::Put(with("bad", &[])).clone(),
                    BatchWrite::Put(Item::new()),
                ],
            }])
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Validation);
        assert!(get(&engine, "t", "ok").is_none());
    }
}

#[test]
fn transactions_are_all_or_nothing_with_reasons_in_request_order() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        create(&engine, "t");
        engine
            .transact_write(TransactWriteRequest {
                writes: vec![TransactWrite {
                    action: TransactAction::Put {
                        table: "t".into(),
                        item: with("a", &[("v", n(1))]),
                        condition: None,
                    },
                    return_old_on_failure: false,
                }],
                client_request_token: None,
                request_fingerprint: 0,
            })
            .unwrap();
        let err = engine
            .transact_write(TransactWriteRequest {
                writes: vec![
                    TransactWrite {
                        action: TransactAction::Put {
                            table: "t".into(),
                            item: key("new"),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                    TransactWrite {
                        action: TransactAction::ConditionCheck {
                            table: "t".into(),
                            key: key("a"),
                            condition: condition("v = :two", &[(":two", n(2))]),
                        },
                        return_old_on_failure: true,
                    },
                    TransactWrite {
                        action: TransactAction::Update {
                            table: "t".into(),
                            key: key("b"),
                            update: update("SET c = c + :one", &[(":one", n(1))]),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                    TransactWrite {
                        action: TransactAction::Delete {
                            table: "t".into(),
                            key: key("other"),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                ],
                client_request_token: None,
                request_fingerprint: 1,
            })
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::TransactionCanceled);
        assert_eq!(
            err.message,
            "Transaction cancelled, please refer cancellation reasons for specific reasons \
             [None, ConditionalCheckFailed, ValidationError, None]"
        );
        let reasons = err.cancellation_reasons.unwrap();
        assert_eq!(reasons[1].item, Some(with("a", &[("v", n(1))])));
        assert_eq!(
            reasons[2].message.as_deref(),
            Some("The provided expression refers to an attribute that does not exist in the item")
        );
        // Nothing was written.
        assert!(get(&engine, "t", "new").is_none());
        assert!(get(&engine, "t", "a").is_some());

        // Two actions on one item are refused before anything is read.
        let err = engine
            .transact_write(TransactWriteRequest {
                writes: vec![
                    TransactWrite {
                        action: TransactAction::Delete {
                            table: "t".into(),
                            key: key("a"),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                    TransactWrite {
                        action: TransactAction::Put {
                            table: "t".into(),
                            item: key("a"),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                ],
                client_request_token: None,
                request_fingerprint: 2,
            })
            .unwrap_err();
        assert_eq!(
            err.message,
            "Transaction request cannot include multiple operations on one item"
        );
    }
}

#[test]
fn client_request_tokens_make_transactions_idempotent() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        create(&engine, "t");
        let add = |fingerprint| TransactWriteRequest {
            writes: vec![TransactWrite {
                action: TransactAction::Update {
                    table: "t".into(),
                    key: key("counter"),
                    update: update("ADD n :one", &[(":one", n(1))]),
                    condition: None,
                },
                return_old_on_failure: false,
            }],
            client_request_token: Some("token-1".into()),
            request_fingerprint: fingerprint,
        };
        let first = engine.transact_write(add(7)).unwrap();
        assert_eq!(first.consumed[0].total(), 2.0);
        engine.transact_write(add(7)).unwrap();
        assert_eq!(get(&engine, "t", "counter").unwrap()["n"], n(1));
        let err = engine.transact_write(add(8)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatch);
    }
}

#[test]
fn a_client_request_token_is_remembered_for_ten_minutes_of_the_engine_clock() {
    let clock = Arc::new(ManualClock::new(Duration::from_secs(1_800_000_000)));
    let config = EngineConfig {
        clock: clock.clone(),
        ..EngineConfig::default()
    };
    for (engine, _dir) in engines(config) {
        create(&engine, "t");
        let add = |fingerprint| TransactWriteRequest {
            writes: vec![TransactWrite {
                action: TransactAction::Update {
                    table: "t".into(),
                    key: key("counter"),
                    update: update("ADD n :one", &[(":one", n(1))]),
                    condition: None,
                },
                return_old_on_failure: false,
            }],
            client_request_token: Some("token-1".into()),
            request_fingerprint: fingerprint,
        };
        engine.transact_write(add(7)).unwrap();
        // Just inside the window the token still stands for the first request.
        clock.advance(Duration::from_secs(599));
        engine.transact_write(add(7)).unwrap();
        let err = engine.transact_write(add(8)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatch);
        assert_eq!(get(&engine, "t", "counter").unwrap()["n"], n(1));
        // Ten minutes after its use it is forgotten: the same token runs a new request.
        clock.advance(Duration::from_secs(1));
        engine.transact_write(add(8)).unwrap();
        assert_eq!(get(&engine, "t", "counter").unwrap()["n"], n(2));
    }
}

#[test]
fn table_timestamps_come_from_the_engine_clock() {
    let clock = Arc::new(ManualClock::new(Duration::from_millis(1_800_000_000_250)));
    let config = EngineConfig {
        clock: clock.clone(),
        ..EngineConfig::default()
    };
    for (engine, _dir) in engines(config) {
        create(&engine, "t");
        let view = engine.describe_table("t").unwrap();
        assert_eq!(view.meta.creation_time, 1_800_000_000.25);
    }
}

#[test]
fn concurrent_transfers_keep_the_total_and_never_go_negative() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        create(&engine, "bank");
        const ACCOUNTS: usize = 10;
        for a in 0..ACCOUNTS {
            engine
                .batch_write(vec![BatchWriteTable {
                    table: "bank".into(),
                    writes: vec![BatchWrite::Put(with(
                        &format!("acct{a}"),
                        &[("balance", n(1000))],
                    ))],
                }])
                .unwrap();
        }
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let engine = engine.clone();
                std::thread::spawn(move || {
                    let mut state = t * 7919 + 1;
                    let mut next = move || {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state
                    };
                    for _ in 0..200 {
                        let from = (next() % ACCOUNTS as u64) as usize;
                        let to = (from + 1 + (next() % (ACCOUNTS as u64 - 1)) as usize) % ACCOUNTS;
                        let amount = (next() % 400) as i64 + 1;
                        let result = engine.transact_write(TransactWriteRequest {
                            writes: vec![
                                TransactWrite {
                                    action: TransactAction::Update {
                                        table: "bank".into(),
                                        key: key(&format!("acct{from}")),
                                        update: update(
                                            "SET balance = balance - :amt",
                                            &[(":amt", n(amount))],
                                        ),
                                        condition: Some(condition(
                                            "balance >= :amt",
                                            &[(":amt", n(amount))],
                                        )),
                                    },
                                    return_old_on_failure: false,
                                },
                                TransactWrite {
                                    action: TransactAction::Update {
                                        table: "bank".into(),
                                        key: key(&format!("acct{to}")),
                                        update: update(
                                            "SET balance = balance + :amt",
                                            &[(":amt", n(amount))],
                                        ),
                                        condition: None,
                                    },
                                    return_old_on_failure: false,
                                },
                            ],
                            client_request_token: None,
                            request_fingerprint: 0,
                        });
                        if let Err(e) = result {
                            assert_eq!(e.kind, ErrorKind::TransactionCanceled);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let snapshot = engine
            .transact_get(
                (0..ACCOUNTS)
                    .map(|a| TransactGet {
                        table: "bank".into(),
                        key: key(&format!("acct{a}")),
                        projection: None,
                    })
                    .collect(),
            )
            .unwrap();
        let mut total = 0i64;
        for item in snapshot.items.iter().flatten() {
            let balance = match &item["balance"] {
                Av::N(n) => n.to_i64().unwrap(),
                _ => unreachable!(),
            };
            assert!(balance >= 0, "negative balance {balance}");
            total += balance;
        }
        assert_eq!(total, 1000 * ACCOUNTS as i64);
    }
}

#[test]
fn a_key_that_does_not_match_the_schema_cancels_the_transaction() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        create(&engine, "t");
        let err = engine
            .transact_write(TransactWriteRequest {
                writes: vec![
                    TransactWrite {
                        action: TransactAction::Put {
                            table: "t".into(),
                            item: key("fine"),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                    TransactWrite {
                        action: TransactAction::Delete {
                            table: "t".into(),
                            key: [("pk".to_string(), n(5))].into_iter().collect(),
                            condition: None,
                        },
                        return_old_on_failure: false,
                    },
                ],
                client_request_token: None,
                request_fingerprint: 3,
            })
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::TransactionCanceled);
        let reasons = err.cancellation_reasons.unwrap();
        assert_eq!(reasons[0].code.as_str(), "None");
        assert_eq!(reasons[1].code.as_str(), "ValidationError");
        assert_eq!(
            reasons[1].message.as_deref(),
            Some("The provided key element does not match the schema")
        );
        assert!(get(&engine, "t", "fine").is_none());
    }
}
