//! Capacity that governs requests, on a manual engine clock: provisioned token buckets
//! with one second of capacity to start and burst banked from unused capacity, exact
//! counts of requests before the first throttle, half-price eventually consistent reads,
//! GSI back-pressure, the per-partition maximum (a hot key throttled while the table has
//! capacity left), adaptive capacity lending a partition more than its share, partitions
//! split on a throughput increase and never merged, and the `report` mode that counts
//! without refusing.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use stator_engine::clock::{Clock, ManualClock};
use stator_engine::ddl::TableUpdate;
use stator_engine::items::{GetRequest, PutRequest};
use stator_engine::schema::{BillingMode, ProjectionType, ScalarType};
use stator_engine::throughput::{CapacityMode, TABLE_THROTTLED};
use stator_engine::{DynamoError, Engine, EngineConfig, ErrorKind};
use stator_types::AttributeValue as Av;

const START: Duration = Duration::from_secs(1_800_000_000);

fn config(mode: CapacityMode) -> (Arc<ManualClock>, EngineConfig) {
    let clock = Arc::new(ManualClock::new(START));
    let config = EngineConfig {
        clock: clock.clone(),
        capacity: mode,
        ..EngineConfig::default()
    };
    (clock, config)
}

/// A provisioned table `t` (partition key `pk`) with `rcu` / `wcu`, and global indexes
/// `(name, key attribute, rcu, wcu)`.
fn provisioned(engine: &Engine, rcu: i64, wcu: i64, gsis: &[(&str, &str, i64, i64)]) {
    let indexes = gsis
        .iter()
        .map(|(name, key, r, w)| {
            let mut index = new_index(
                name,
                attr(key, ScalarType::S),
                None,
                ProjectionType::KeysOnly,
                &[],
            );
            index.throughput = Some((*r, *w));
            index
        })
        .collect();
    let mut table = table("t", None, indexes, vec![]);
    table.billing_mode = BillingMode::Provisioned;
    table.throughput = Some((rcu, wcu));
    engine.create_table(table).unwrap();
}

fn put(engine: &Engine, item: stator_types::Item) -> Result<(), DynamoError> {
    engine
        .put_item(PutRequest {
            table: "t".into(),
            item,
            ..Default::default()
        })
        .map(|_| ())
}

fn get(engine: &Engine, pk: &str, consistent: bool) -> Result<(), DynamoError> {
    engine
        .get_item(GetRequest {
            table: "t".into(),
            key: key(pk),
            consistent,
            ..Default::default()
        })
        .map(|_| ())
}

/// How many of `tries` calls succeed before the first failure, which must be a throttle.
fn successes_before_throttle(
    tries: usize,
    mut call: impl FnMut(usize) -> Result<(), DynamoError>,
) -> usize {
    for i in 0..tries {
        if let Err(e) = call(i) {
            assert_eq!(e.kind, ErrorKind::ProvisionedThroughputExceeded, "{e:?}");
            return i;
        }
    }
    tries
}

fn reasons(error: &DynamoError) -> Vec<(String, String)> {
    error
        .throttling_reasons
        .iter()
        .flatten()
        .map(|r| (r.reason.clone(), r.resource.clone()))
        .collect()
}

#[test]
fn a_new_table_serves_one_second_of_capacity_then_refills() {
    let (clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 5, 5, &[]);
        let arn = engine.table("t").unwrap().arn.clone();
        assert_eq!(
            successes_before_throttle(100, |i| put(&engine, key(&format!("k{i}")))),
            5
        );
        let error = put(&engine, key("late")).unwrap_err();
        assert_eq!(error.message, TABLE_THROTTLED);
        assert_eq!(
            reasons(&error),
            [(
                "TableWriteProvisionedThroughputExceeded".to_string(),
                arn.clone()
            )]
        );
        // Reads have their own bucket: 5 RCU is 5 strongly consistent reads of a small
        // item, or 10 eventually consistent ones.
        assert_eq!(
            successes_before_throttle(100, |_| get(&engine, "k0", true)),
            5
        );
        let error = get(&engine, "k0", false).unwrap_err();
        assert_eq!(
            reasons(&error),
            [("TableReadProvisionedThroughputExceeded".to_string(), arn)]
        );
        // A fifth of a second earns one unit.
        clock.advance(Duration::from_millis(200));
        assert_eq!(
            successes_before_throttle(100, |i| put(&engine, key(&format!("m{i}")))),
            1
        );
        // The reads' 1 + 5 units: twelve eventually consistent reads.
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            successes_before_throttle(100, |_| get(&engine, "k0", false)),
            12
        );
        // The throttled write wrote nothing.
        clock.advance(Duration::from_secs(1));
        let got = engine
            .get_item(GetRequest {
                table: "t".into(),
                key: key("late"),
                consistent: true,
                ..Default::default()
            })
            .unwrap();
        assert!(got.item.is_none());
    }
}

#[test]
fn unused_capacity_is_banked_for_up_to_300_seconds() {
    let (clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 1, 2, &[]);
        // Idle for 10 minutes: the bank is full at 300 seconds' worth, no more.
        clock.advance(Duration::from_secs(600));
        let report = engine.governor().report(&engine.table("t").unwrap());
        assert_eq!(report.table.burst, Some((299.0, 598.0)));
        assert_eq!(
            successes_before_throttle(1000, |i| put(&engine, key(&format!("k{i}")))),
            600
        );
        let report = engine.governor().report(&engine.table("t").unwrap());
        assert_eq!(report.table.throttles.write, 1);
        assert_eq!(report.table.available, Some((300.0, 0.0)));
    }
}

#[test]
fn a_large_write_runs_the_bucket_into_debt() {
    let (clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 5, 5, &[]);
        // 10 KB: 10 write units from a bucket of 5.
        let big = with("big", &[("data", s(&"x".repeat(10 * 1024 - 20)))]);
        put(&engine, big).unwrap();
        assert!(put(&engine, key("a")).is_err());
        // Back to zero after one second: still nothing to spend.
        clock.advance(Duration::from_secs(1));
        assert!(put(&engine, key("a")).is_err());
        clock.advance(Duration::from_millis(200));
        put(&engine, key("a")).unwrap();
    }
}

#[test]
fn report_mode_counts_would_be_throttles_and_refuses_nothing() {
    let (clock, config) = config(CapacityMode::Report);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 1, 1, &[]);
        for i in 0..10 {
            put(&engine, key(&format!("k{i}"))).unwrap();
        }
        let meta = engine.table("t").unwrap();
        let report = engine.governor().report(&meta);
        assert_eq!(report.mode, CapacityMode::Report);
        assert_eq!(report.table.throttles.write, 9);
        // The nine were not charged: the bucket is where enforce would have left it, and
        // one second later one write passes again without counting.
        assert_eq!(report.table.available, Some((1.0, 0.0)));
        clock.advance(Duration::from_secs(1));
        put(&engine, key("later")).unwrap();
        let report = engine.governor().report(&meta);
        assert_eq!(report.table.throttles.write, 9);
        // One table can be switched to enforce at run time.
        engine
            .governor()
            .set_mode(&meta, Some(CapacityMode::Enforce));
        assert!(put(&engine, key("x")).is_err());
        engine.governor().set_mode(&meta, Some(CapacityMode::Off));
        put(&engine, key("x")).unwrap();
    }
}

#[test]
fn off_mode_governs_nothing() {
    let (_clock, config) = config(CapacityMode::Off);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 1, 1, &[]);
        for i in 0..10 {
            put(&engine, key(&format!("k{i}"))).unwrap();
        }
        let report = engine.governor().report(&engine.table("t").unwrap());
        assert_eq!(report.table.throttles.write, 0);
    }
}

#[test]
fn a_write_is_throttled_when_a_global_index_it_touches_has_no_capacity() {
    let (_clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 100, 100, &[("byColour", "colour", 10, 2)]);
        let meta = engine.table("t").unwrap();
        let index_arn = meta.index_arn("byColour");
        let coloured = |i: usize| with(&format!("k{i}"), &[("colour", s("red"))]);
        assert_eq!(
            successes_before_throttle(100, |i| put(&engine, coloured(i))),
            2
        );
        let error = put(&engine, coloured(99)).unwrap_err();
        assert_eq!(
            error.message,
            "The level of configured provisioned throughput for one or more global secondary \
             indexes of the table was exceeded. Consider increasing your provisioning level for \
             the under-provisioned global secondary indexes with the UpdateTable API"
        );
        assert_eq!(
            reasons(&error),
            [(
                "IndexWriteProvisionedThroughputExceeded".to_string(),
                index_arn
            )]
        );
        // Nothing of the refused write is stored, and a write the index does not see
        // (no colour: a sparse index) is not held back.
        let got = engine
            .get_item(GetRequest {
                table: "t".into(),
                key: key("k99"),
                consistent: true,
                ..Default::default()
            })
            .unwrap();
        assert!(got.item.is_none());
        put(&engine, key("plain")).unwrap();
        let report = engine.governor().report(&engine.table("t").unwrap());
        assert_eq!(report.indexes[0].0, "byColour");
        assert_eq!(report.indexes[0].1.throttles.write, 2);
        assert_eq!(report.table.throttles.write, 0);
    }
}

#[test]
fn a_hot_key_is_throttled_at_the_partition_maximum_while_the_table_has_capacity() {
    let (clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        // 3 RCU and 4,999 WCU: (3 + 3 × 4,999) / 3,000 = five partitions, each at most
        // 1,000 WCU per second.
        provisioned(&engine, 3, 4999, &[]);
        let meta = engine.table("t").unwrap();
        assert_eq!(meta.partition_map().len(), 5);
        let hot = |_: usize| {
            put(
                &engine,
                with(
                    "hot",
                    &[("n", Av::N(stator_types::Number::parse("1").unwrap()))],
                ),
            )
        };
        assert_eq!(successes_before_throttle(2000, hot), 1000);
        let error = put(&engine, key("hot")).unwrap_err();
        assert_eq!(
            reasons(&error),
            [(
                "TableWriteKeyRangeThroughputExceeded".to_string(),
                meta.arn.clone()
            )]
        );
        // Other keys still write: the table has 4,000 units left this second (a key in
        // another partition is found by its hash).
        let hot_partition = meta.partition_map().partition_of(hash_of_key(&meta, "hot"));
        let cold = (0..)
            .map(|i| format!("cold{i}"))
            .find(|k| meta.partition_map().partition_of(hash_of_key(&meta, k)) != hot_partition)
            .unwrap();
        put(&engine, key(&cold)).unwrap();
        let report = engine.governor().report(&meta);
        assert_eq!(report.table.partitions[hot_partition].throttles.write, 2);
        assert_eq!(report.table.throttles.write, 2);
        clock.advance(Duration::from_secs(1));
        put(&engine, key("hot")).unwrap();
    }
}

fn hash_of_key(meta: &stator_engine::schema::TableMeta, pk: &str) -> u64 {
    stator_engine::keys::hash_of(&stator_engine::keys::item_key(
        meta.storage_id,
        &s(pk),
        None,
    ))
    .unwrap()
}

#[test]
fn adaptive_capacity_lends_a_hot_partition_more_than_its_share() {
    let (_clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        // 1,200 WCU over two partitions: a share of 600 each.
        provisioned(&engine, 5, 1200, &[]);
        let meta = engine.table("t").unwrap();
        let report = engine.governor().report(&meta);
        assert_eq!(report.table.partitions.len(), 2);
        assert_eq!(report.table.partitions[0].share, Some((2.5, 600.0)));
        // One key takes 900 in a second: more than its partition's share, less than the
        // partition maximum and the table's total.
        assert_eq!(
            successes_before_throttle(900, |_| put(&engine, key("hot"))),
            900
        );
    }
}

#[test]
fn partitions_split_on_a_throughput_increase_and_never_merge() {
    let (_clock, config) = config(CapacityMode::Enforce);
    let dir = tempfile::tempdir().unwrap();
    let open = |config: EngineConfig| {
        let disk: Arc<dyn stator_storage::Storage> = Arc::new(
            stator_storage::DiskStorage::open(dir.path(), stator_storage::Durability::Process)
                .unwrap(),
        );
        Engine::open(disk, config).unwrap()
    };
    let engine = open(config.clone());
    provisioned(&engine, 5, 5, &[]);
    assert_eq!(engine.table("t").unwrap().partition_map().len(), 1);
    let raise = TableUpdate {
        throughput: Some((6000, 2000)),
        ..Default::default()
    };
    engine.update_table("t", raise).unwrap();
    let meta = engine.table("t").unwrap();
    // 6000 / 3000 + 2000 / 1000 = 4, each a quarter of the hash space.
    assert_eq!(
        meta.partition_map().starts(),
        &[0, 1 << 62, 1 << 63, 3 << 62]
    );
    let lower = TableUpdate {
        throughput: Some((5, 5)),
        ..Default::default()
    };
    engine.update_table("t", lower).unwrap();
    assert_eq!(engine.table("t").unwrap().partition_map().len(), 4);
    engine.shutdown().unwrap();
    drop(engine);
    let engine = open(config);
    let meta = engine.table("t").unwrap();
    assert_eq!(meta.partition_map().len(), 4);
    let report = engine.governor().report(&meta);
    assert_eq!(report.table.partitions[3].range, (3 << 62, 1 << 64));
    assert_eq!(report.table.partitions[0].share, Some((1.25, 1.25)));
}

#[test]
fn a_write_that_fails_its_condition_is_still_charged() {
    let (_clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 5, 3, &[]);
        let failing = || {
            engine.put_item(PutRequest {
                table: "t".into(),
                item: key("a"),
                condition: Some(condition("attribute_exists(pk)", &[])),
                ..Default::default()
            })
        };
        for _ in 0..3 {
            assert_eq!(
                failing().unwrap_err().kind,
                ErrorKind::ConditionalCheckFailed
            );
        }
        assert_eq!(
            failing().unwrap_err().kind,
            ErrorKind::ProvisionedThroughputExceeded
        );
    }
}

#[test]
fn a_query_of_a_global_index_draws_on_the_index_not_the_table() {
    let (clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 1, 100, &[("byColour", "colour", 2, 100)]);
        put(&engine, with("a", &[("colour", s("red"))])).unwrap();
        let query =
            |index: Option<&str>, value: Av| common::query(&engine, "t", index, value, None);
        // The index's 2 RCU: four eventually consistent pages of one small item.
        for _ in 0..4 {
            engine.query(query(Some("byColour"), s("red"))).unwrap();
        }
        let error = engine.query(query(Some("byColour"), s("red"))).unwrap_err();
        let arn = engine.table("t").unwrap().index_arn("byColour");
        assert_eq!(
            reasons(&error),
            [("IndexReadProvisionedThroughputExceeded".to_string(), arn)]
        );
        // The table's own read bucket was not touched: two reads of it still pass.
        engine.query(query(None, s("a"))).unwrap();
        engine.query(query(None, s("a"))).unwrap();
        assert!(engine.query(query(None, s("a"))).is_err());
        clock.advance(Duration::from_secs(1));
        engine.query(query(Some("byColour"), s("red"))).unwrap();
    }
}

#[test]
fn batches_return_throttled_parts_unprocessed_and_fail_whole_only_when_nothing_was_done() {
    use stator_engine::batch::{BatchGetTable, BatchWrite, BatchWriteTable};
    let (clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 1, 3, &[]);
        let writes = |range: std::ops::Range<usize>| {
            vec![BatchWriteTable {
                table: "t".into(),
                writes: range
                    .map(|i| BatchWrite::Put(key(&format!("k{i}"))))
                    .collect(),
            }]
        };
        let out = engine.batch_write(writes(0..5)).unwrap();
        assert_eq!(out.consumed[0].table_units, 3.0);
        assert_eq!(
            out.unprocessed,
            vec![BatchWriteTable {
                table: "t".into(),
                writes: vec![BatchWrite::Put(key("k3")), BatchWrite::Put(key("k4"))],
            }]
        );
        let error = engine.batch_write(writes(5..7)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::ProvisionedThroughputExceeded);
        // Reads: 1 RCU is two eventually consistent reads.
        let gets = BatchGetTable {
            table: "t".into(),
            keys: (0..3).map(|i| key(&format!("k{i}"))).collect(),
            projection: None,
            consistent: false,
        };
        let out = engine.batch_get(vec![gets.clone()]).unwrap();
        assert_eq!(out.responses[0].1.len(), 2);
        assert_eq!(out.unprocessed[0].keys, vec![key("k2")]);
        assert_eq!(
            engine.batch_get(vec![gets.clone()]).unwrap_err().kind,
            ErrorKind::ProvisionedThroughputExceeded
        );
        clock.advance(Duration::from_secs(2));
        let out = engine.batch_get(vec![gets]).unwrap();
        assert_eq!(out.responses[0].1.len(), 3);
        assert!(out.unprocessed.is_empty());
    }
}

#[test]
fn a_throttled_action_cancels_a_transaction() {
    use stator_engine::error::CancellationCode;
    use stator_engine::transact::{
        TransactAction, TransactGet, TransactWrite, TransactWriteRequest,
    };
    let (_clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        // A transactional write of a small item costs 2 WCU. A transaction is admitted
        // while the table has capacity left and then charged in full: two writes take 4
        // of the 3 units, and the next transaction finds none.
        provisioned(&engine, 2, 3, &[]);
        let transaction = |keys: &[&str]| TransactWriteRequest {
            writes: keys
                .iter()
                .map(|k| TransactWrite {
                    action: TransactAction::Put {
                        table: "t".into(),
                        item: key(k),
                        condition: None,
                    },
                    return_old_on_failure: false,
                })
                .collect(),
            client_request_token: None,
            request_fingerprint: 0,
        };
        engine.transact_write(transaction(&["a", "z"])).unwrap();
        let error = engine.transact_write(transaction(&["b", "c"])).unwrap_err();
        assert_eq!(error.kind, ErrorKind::TransactionCanceled);
        let codes: Vec<&str> = error
            .cancellation_reasons
            .iter()
            .flatten()
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(
            codes,
            [
                "ProvisionedThroughputExceeded",
                "ProvisionedThroughputExceeded"
            ]
        );
        assert_eq!(
            error.cancellation_reasons.as_ref().unwrap()[0]
                .message
                .as_deref(),
            Some(TABLE_THROTTLED)
        );
        // Nothing of the cancelled transaction was written.
        let got = engine
            .transact_get(vec![TransactGet {
                table: "t".into(),
                key: key("b"),
                projection: None,
            }])
            .unwrap();
        assert_eq!(got.items, vec![None]);
        // That read took 2 of the table's 2 RCU: the next one is cancelled.
        let error = engine
            .transact_get(vec![TransactGet {
                table: "t".into(),
                key: key("a"),
                projection: None,
            }])
            .unwrap_err();
        assert_eq!(
            error.cancellation_reasons.unwrap()[0].code,
            CancellationCode::ProvisionedThroughputExceeded
        );
    }
}

#[test]
fn consumption_over_the_last_minute_is_reported_per_table_and_partition() {
    let (clock, config) = config(CapacityMode::Report);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 10, 10, &[]);
        for i in 0..4 {
            put(&engine, key(&format!("k{i}"))).unwrap();
        }
        clock.advance(Duration::from_secs(30));
        put(&engine, key("k0")).unwrap();
        get(&engine, "k0", false).unwrap();
        let meta = engine.table("t").unwrap();
        let report = engine.governor().report(&meta);
        assert_eq!(report.table.last_minute, (0.5, 5.0));
        assert_eq!(report.table.peak_second, (0.5, 4.0));
        assert_eq!(report.table.partitions[0].last_minute, (0.5, 5.0));
        // The first second's writes leave the window a minute later; the second's stay.
        clock.advance(Duration::from_secs(31));
        let report = engine.governor().report(&meta);
        assert_eq!(report.table.last_minute, (0.5, 1.0));
        clock.advance(Duration::from_secs(60));
        let report = engine.governor().report(&meta);
        assert_eq!(report.table.last_minute, (0.0, 0.0));
        assert_eq!(report.table.partitions[0].peak_second, (0.0, 0.0));
    }
}

#[test]
fn older_metadata_does_not_undo_a_throughput_change_and_a_deleted_table_is_forgotten() {
    let (_clock, config) = config(CapacityMode::Enforce);
    for (engine, _dir) in engines(config) {
        provisioned(&engine, 5, 5, &[]);
        let before = engine.table("t").unwrap();
        engine
            .update_table(
                "t",
                TableUpdate {
                    throughput: Some((5, 1000)),
                    ..Default::default()
                },
            )
            .unwrap();
        let after = engine.table("t").unwrap();
        assert_eq!(
            engine.governor().report(&after).table.provisioned,
            Some((5, 1000))
        );
        // A request that still holds the metadata of before sees the new rates.
        assert_eq!(
            engine.governor().report(&before).table.provisioned,
            Some((5, 1000))
        );
        assert_eq!(engine.governor().table_count(), 1);
        engine.delete_table("t").unwrap();
        assert_eq!(
            engine.governor().table_count(),
            0,
            "a deleted table's state is dropped"
        );
        provisioned(&engine, 1, 1, &[]);
        let recreated = engine.table("t").unwrap();
        assert_eq!(
            engine.governor().report(&recreated).table.provisioned,
            Some((1, 1))
        );
    }
}

#[test]
fn decreases_are_counted_per_utc_day_of_the_engine_clock() {
    let (clock, config) = config(CapacityMode::Report);
    for (engine, _dir) in engines(config) {
        // Both engines share the clock: start each at 08:00 UTC of the clock's next day.
        let now = clock.now().as_secs();
        let next_day = (now / 86_400 + 1) * 86_400;
        clock.set(Duration::from_secs(next_day + 8 * 3600));
        provisioned(&engine, 10, 10, &[("byColour", "colour", 10, 10)]);
        let decrease = |read: i64| {
            engine
                .update_table(
                    "t",
                    TableUpdate {
                        throughput: Some((read, 10)),
                        ..Default::default()
                    },
                )
                .unwrap();
        };
        let shown = || engine.describe_table("t").unwrap().meta.throughput.clone();
        decrease(9);
        decrease(8);
        assert_eq!(shown().decreases_today, 2);
        clock.advance(Duration::from_secs(15 * 3600));
        assert_eq!(shown().decreases_today, 2, "still the same UTC day");
        clock.advance(Duration::from_secs(3600));
        assert_eq!(shown().decreases_today, 0, "a new UTC day");
        // The index's count is unaffected by the table's.
        let index = engine.describe_table("t").unwrap().meta.global_indexes[0]
            .throughput
            .clone()
            .unwrap();
        assert_eq!(index.decreases_today, 0);
        decrease(7);
        assert_eq!(shown().decreases_today, 1);
    }
}
