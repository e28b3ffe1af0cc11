//! Engine-level tests of secondary indexes and of the key ranges behind Query and Scan:
//! index entries follow every write (sparse, projected), backfill builds a new index from
//! existing items, dropped tables leave nothing behind, parallel scan segments cover every
//! item exactly once, sort-key conditions select exactly the right items in both directions,
//! and item collections of tables with local indexes are measured and limited. Every test
//! runs on both storage backends.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use stator_engine::ddl::{IndexUpdate, TableUpdate};
use stator_engine::items::{PutRequest, ReturnValues, UpdateRequest};
use stator_engine::query::ScanRequest;
use stator_engine::schema::{ProjectionType, ScalarType};
use stator_engine::{EngineConfig, ErrorKind};
use stator_expr::{Comparator, SortKeyCondition};
use stator_types::AttributeValue as Av;

fn scan(table: &str, segment: Option<(u32, u32)>, limit: Option<usize>) -> ScanRequest {
    ScanRequest {
        table: table.to_string(),
        index: None,
        filter: None,
        projection: None,
        select: None,
        limit,
        exclusive_start_key: None,
        consistent: false,
        segment,
    }
}

#[test]
fn gsi_entries_follow_puts_updates_and_deletes_and_are_projected() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        let gsi = new_index(
            "by-cat",
            attr("cat", ScalarType::S),
            Some(attr("price", ScalarType::N)),
            ProjectionType::KeysOnly,
            &[],
        );
        let mut t = table("shop", None, vec![gsi], vec![]);
        t.attribute_definitions.push(attr("cat", ScalarType::S));
        t.attribute_definitions.push(attr("price", ScalarType::N));
        engine.create_table(t).unwrap();
        put(
            &engine,
            "shop",
            item(&[
                ("pk", s("a")),
                ("cat", s("toys")),
                ("price", n("5")),
                ("name", s("ball")),
            ]),
        );
        put(
            &engine,
            "shop",
            item(&[("pk", s("b")), ("cat", s("toys")), ("price", n("2"))]),
        );
        // Sparse: no index key, no entry.
        put(
            &engine,
            "shop",
            item(&[("pk", s("c")), ("name", s("loose"))]),
        );
        let page = engine
            .query(query(&engine, "shop", Some("by-cat"), s("toys"), None))
            .unwrap();
        assert_eq!(page.count, 2);
        // Sorted by the index sort key; KEYS_ONLY projects table and index keys only.
        let items = page.decoded_items().unwrap();
        assert_eq!(
            items[0],
            item(&[("pk", s("b")), ("cat", s("toys")), ("price", n("2"))])
        );
        assert_eq!(
            items[1],
            item(&[("pk", s("a")), ("cat", s("toys")), ("price", n("5"))])
        );

        // Changing the index key moves the entry.
        put(
            &engine,
            "shop",
            item(&[("pk", s("a")), ("cat", s("games")), ("price", n("5"))]),
        );
        let toys = engine
            .query(query(&engine, "shop", Some("by-cat"), s("toys"), None))
            .unwrap();
        assert_eq!(toys.count, 1);
        let games = engine
            .query(query(&engine, "shop", Some("by-cat"), s("games"), None))
            .unwrap();
        assert_eq!(games.count, 1);
        // Removing the key attribute by update drops the entry.
        let update = stator_expr::parser::parse_update("REMOVE cat").unwrap();
        engine
            .update_item(UpdateRequest {
                table: "shop".into(),
                key: item(&[("pk", s("a"))]),
                update: Some(update),
                creates_missing_item: true,
                condition: None,
                return_values: ReturnValues::None,
                return_old_on_failure: false,
            })
            .unwrap();
        let games = engine
            .query(query(&engine, "shop", Some("by-cat"), s("games"), None))
            .unwrap();
        assert_eq!(games.count, 0);
        let view = engine.describe_table("shop").unwrap();
        assert_eq!(view.index_stats["by-cat"].0, 1);
        assert!(view.index_stats["by-cat"].1 > 100);
    }
}

#[test]
fn backfill_builds_a_new_index_from_existing_items() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        let mut t = table("live", None, vec![], vec![]);
        t.attribute_definitions = vec![attr("pk", ScalarType::S)];
        engine.create_table(t).unwrap();
        for i in 0..2500 {
            let mut it = item(&[("pk", s(&format!("k{i}")))]);
            if i % 5 != 0 {
                it.insert("grp".into(), s(&format!("g{}", i % 3)));
            }
            put(&engine, "live", it);
        }
        engine
            .update_table(
                "live",
                TableUpdate {
                    index_updates: vec![IndexUpdate::Create(new_index(
                        "by-grp",
                        attr("grp", ScalarType::S),
                        None,
                        ProjectionType::All,
                        &[],
                    ))],
                    attribute_definitions: Some(vec![attr("grp", ScalarType::S)]),
                    ..Default::default()
                },
            )
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let view = engine.describe_table("live").unwrap();
            let index = &view.meta.global_indexes[0];
            if index.status == stator_engine::schema::IndexStatus::Active {
                assert_eq!(view.index_stats["by-grp"].0, 2000);
                break;
            }
            assert!(Instant::now() < deadline, "backfill did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut total = 0;
        for g in ["g0", "g1", "g2"] {
            let page = engine
                .query(query(&engine, "live", Some("by-grp"), s(g), None))
                .unwrap();
            total += page.count;
        }
        assert_eq!(total, 2000);
    }
}

#[test]
fn dropping_a_table_removes_its_index_entries_and_items() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        let gsi = new_index(
            "g",
            attr("x", ScalarType::S),
            None,
            ProjectionType::All,
            &[],
        );
        let mut t = table("gone", None, vec![gsi], vec![]);
        t.attribute_definitions.push(attr("x", ScalarType::S));
        engine.create_table(t).unwrap();
        let meta = engine.table("gone").unwrap();
        for i in 0..1500 {
            put(
                &engine,
                "gone",
                item(&[("pk", s(&format!("{i}"))), ("x", s("v"))]),
            );
        }
        engine.delete_table("gone").unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        for id in [meta.storage_id, meta.global_indexes[0].storage_id] {
            for prefix in stator_engine::keys::data_prefixes(id) {
                loop {
                    let left = {
                        let snap = engine.storage().snapshot().unwrap();
                        let end = stator_engine::keys::prefix_end(&prefix).unwrap();
                        snap.range(
                            std::ops::Bound::Included(prefix.as_slice()),
                            std::ops::Bound::Excluded(end.as_slice()),
                            stator_storage::Direction::Forward,
                        )
                        .unwrap()
                        .count()
                    };
                    if left == 0 {
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "{left} keys left under a dropped id"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}

#[test]
fn parallel_scan_segments_cover_every_item_exactly_once() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        engine
            .create_table(table("seg", None, vec![], vec![]))
            .unwrap();
        for i in 0..700 {
            put(&engine, "seg", item(&[("pk", s(&format!("item-{i}")))]));
        }
        for total in [1u32, 3, 8, 1000] {
            let mut seen = Vec::new();
            for segment in 0..total {
                let mut req = scan("seg", Some((segment, total)), Some(37));
                loop {
                    let page = engine.scan(req.clone()).unwrap();
                    seen.extend(
                        page.decoded_items()
                            .unwrap()
                            .iter()
                            .map(|i| i["pk"].clone()),
                    );
                    match page.last_evaluated_key {
                        Some(k) => req.exclusive_start_key = Some(k),
                        None => break,
                    }
                }
            }
            assert_eq!(seen.len(), 700, "TotalSegments {total}");
            let distinct: BTreeSet<String> = seen
                .iter()
                .map(|v| match v {
                    Av::S(s) => s.clone(),
                    _ => unreachable!(),
                })
                .collect();
            assert_eq!(distinct.len(), 700);
        }
        // A start key from another segment is refused.
        let first = engine.scan(scan("seg", Some((0, 2)), Some(1))).unwrap();
        let mut other = scan("seg", Some((1, 2)), None);
        other.exclusive_start_key = first.last_evaluated_key;
        assert_eq!(engine.scan(other).unwrap_err().kind, ErrorKind::Validation);
    }
}

fn numbers_in(page: &stator_engine::query::Page) -> Vec<String> {
    page.decoded_items()
        .unwrap()
        .iter()
        .map(|i| match &i["sk"] {
            Av::N(n) => n.to_string(),
            Av::S(s) => s.clone(),
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn sort_key_conditions_select_exact_ranges_both_ways() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        engine
            .create_table(table(
                "nums",
                Some(attr("sk", ScalarType::N)),
                vec![],
                vec![],
            ))
            .unwrap();
        let values = ["-1e10", "-1", "-0.5", "0", "0.001", "1", "1e10"];
        for v in values {
            put(&engine, "nums", item(&[("pk", s("p")), ("sk", n(v))]));
        }
        put(&engine, "nums", item(&[("pk", s("other")), ("sk", n("0"))]));
        let run = |sort: Option<SortKeyCondition>, forward: bool| {
            let mut req = query(&engine, "nums", None, s("p"), sort);
            req.forward = forward;
            numbers_in(&engine.query(req).unwrap())
        };
        assert_eq!(
            run(None, true),
            [
                "-10000000000",
                "-1",
                "-0.5",
                "0",
                "0.001",
                "1",
                "10000000000"
            ]
        );
        assert_eq!(run(None, false)[0], "10000000000");
        assert_eq!(
            run(
                Some(SortKeyCondition::Compare(Comparator::Lt, n("0"))),
                true
            ),
            ["-10000000000", "-1", "-0.5"]
        );
        assert_eq!(
            run(
                Some(SortKeyCondition::Compare(Comparator::Le, n("0"))),
                false
            ),
            ["0", "-0.5", "-1", "-10000000000"]
        );
        assert_eq!(
            run(
                Some(SortKeyCondition::Compare(Comparator::Gt, n("0.001"))),
                true
            ),
            ["1", "10000000000"]
        );
        assert_eq!(
            run(
                Some(SortKeyCondition::Compare(Comparator::Ge, n("0.001"))),
                true
            ),
            ["0.001", "1", "10000000000"]
        );
        assert_eq!(
            run(
                Some(SortKeyCondition::Compare(Comparator::Eq, n("-0.5"))),
                true
            ),
            ["-0.5"]
        );
        assert_eq!(
            run(Some(SortKeyCondition::Between(n("-1"), n("1"))), true),
            ["-1", "-0.5", "0", "0.001", "1"]
        );

        // Paging with Limit: the last full page still carries a LastEvaluatedKey, the next
        // one is empty, and every item appears once, in both directions.
        for forward in [true, false] {
            let mut req = query(&engine, "nums", None, s("p"), None);
            req.forward = forward;
            req.limit = Some(7);
            let page = engine.query(req.clone()).unwrap();
            assert_eq!(page.count, 7);
            let lek = page.last_evaluated_key.clone().unwrap();
            req.exclusive_start_key = Some(lek);
            let next = engine.query(req).unwrap();
            assert_eq!(next.count, 0);
            assert!(next.last_evaluated_key.is_none());
        }
    }
}

#[test]
fn begins_with_on_string_sort_keys_in_tables_and_indexes() {
    for (engine, _dir) in engines(EngineConfig::default()) {
        let lsi = new_index(
            "by-tag",
            attr("pk", ScalarType::S),
            Some(attr("tag", ScalarType::S)),
            ProjectionType::All,
            &[],
        );
        let mut t = table("words", Some(attr("sk", ScalarType::S)), vec![], vec![lsi]);
        t.attribute_definitions.push(attr("tag", ScalarType::S));
        engine.create_table(t).unwrap();
        for (sk, tag) in [
            ("REVIEW#1", "a\u{0}b"),
            ("REVIEW#2", "a"),
            ("PRODUCT", "ab"),
            ("REVIEWS", "b"),
        ] {
            put(
                &engine,
                "words",
                item(&[("pk", s("p")), ("sk", s(sk)), ("tag", s(tag))]),
            );
        }
        let page = engine
            .query(query(
                &engine,
                "words",
                None,
                s("p"),
                Some(SortKeyCondition::BeginsWith(s("REVIEW#"))),
            ))
            .unwrap();
        assert_eq!(numbers_in(&page), ["REVIEW#1", "REVIEW#2"]);
        let page = engine
            .query(query(
                &engine,
                "words",
                Some("by-tag"),
                s("p"),
                Some(SortKeyCondition::BeginsWith(s("a"))),
            ))
            .unwrap();
        let items = page.decoded_items().unwrap();
        let tags: Vec<&Av> = items.iter().map(|i| &i["tag"]).collect();
        // Index order: "a" < "a\0b" < "ab".
        assert_eq!(tags, [&s("a"), &s("a\u{0}b"), &s("ab")]);
    }
}

#[test]
fn item_collections_of_lsi_tables_are_measured_and_limited() {
    let config = EngineConfig {
        item_collection_limit: 3000,
        ..EngineConfig::default()
    };
    for (engine, _dir) in engines(config.clone()) {
        let lsi = new_index(
            "by-x",
            attr("pk", ScalarType::S),
            Some(attr("x", ScalarType::S)),
            ProjectionType::KeysOnly,
            &[],
        );
        let mut t = table("coll", Some(attr("sk", ScalarType::S)), vec![], vec![lsi]);
        t.attribute_definitions.push(attr("x", ScalarType::S));
        engine.create_table(t).unwrap();
        let out = engine
            .put_item(PutRequest {
                table: "coll".into(),
                item: item(&[
                    ("pk", s("p")),
                    ("sk", s("1")),
                    ("x", s("a")),
                    ("data", s(&"d".repeat(1000))),
                ]),
                ..Default::default()
            })
            .unwrap();
        let metrics = out.collection_metrics.unwrap();
        assert_eq!(metrics.key, item(&[("pk", s("p"))]));
        assert_eq!(metrics.size_range_gb, (0.0, 1.0));
        put(
            &engine,
            "coll",
            item(&[
                ("pk", s("p")),
                ("sk", s("2")),
                ("data", s(&"d".repeat(1000))),
            ]),
        );
        let err = engine
            .put_item(PutRequest {
                table: "coll".into(),
                item: item(&[
                    ("pk", s("p")),
                    ("sk", s("3")),
                    ("data", s(&"d".repeat(1000))),
                ]),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ItemCollectionSizeLimitExceeded);
        // Another partition is its own collection; shrinking is always allowed.
        put(
            &engine,
            "coll",
            item(&[
                ("pk", s("q")),
                ("sk", s("3")),
                ("data", s(&"d".repeat(1000))),
            ]),
        );
        put(&engine, "coll", item(&[("pk", s("p")), ("sk", s("2"))]));
        put(
            &engine,
            "coll",
            item(&[
                ("pk", s("p")),
                ("sk", s("3")),
                ("data", s(&"d".repeat(500))),
            ]),
        );
    }
}
