//! Delayed transient statuses (DynamoDB Local's `-delayTransientStatuses`) on a manual
//! engine clock: a created table is CREATING (not found for the data plane, not changeable)
//! until the delay has passed on the clock, an updated one UPDATING (usable, not changeable),
//! a deleted one DELETING (listed and described, its name not reusable); global indexes
//! are CREATING (not readable) and DELETING for the same delay; without a delay every
//! table and index is ACTIVE, and a deleted table gone, at once.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use stator_engine::clock::ManualClock;
use stator_engine::ddl::{IndexUpdate, TableUpdate};
use stator_engine::items::GetRequest;
use stator_engine::schema::{ProjectionType, ScalarType};
use stator_engine::{Engine, EngineConfig, ErrorKind};

fn get_request(pk: &str) -> GetRequest {
    GetRequest {
        table: "t".into(),
        key: key(pk),
        ..Default::default()
    }
}

#[test]
fn tables_pass_through_creating_and_updating_on_the_engine_clock() {
    let clock = Arc::new(ManualClock::new(Duration::from_secs(1_800_000_000)));
    let config = EngineConfig {
        clock: clock.clone(),
        transient_delay: Duration::from_millis(1500),
        ..EngineConfig::default()
    };
    for (engine, _dir) in engines(config) {
        let created = engine
            .create_table(table("t", None, vec![], vec![]))
            .unwrap();
        assert_eq!(created.status, "CREATING");
        assert_eq!(engine.describe_table("t").unwrap().status, "CREATING");
        // Not there yet for reads and writes; not changeable.
        let err = engine.get_item(get_request("a")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ResourceNotFound);
        let err = engine
            .put_item(stator_engine::items::PutRequest {
                table: "t".into(),
                item: key("a"),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ResourceNotFound);
        let busy = "Attempt to change a resource which is still in use: Table is being created: t";
        let err = engine.delete_table("t").unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::ResourceInUse, busy)
        );
        let update = TableUpdate {
            deletion_protection: Some(true),
            ..TableUpdate::default()
        };
        let err = engine.update_table("t", update.clone()).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::ResourceInUse, busy)
        );

        clock.advance(Duration::from_millis(1499));
        assert_eq!(engine.describe_table("t").unwrap().status, "CREATING");
        clock.advance(Duration::from_millis(1));
        assert_eq!(engine.describe_table("t").unwrap().status, "ACTIVE");
        put(&engine, "t", key("a"));
        assert!(engine.get_item(get_request("a")).unwrap().item.is_some());

        // An update: UPDATING for the delay, usable meanwhile, not changeable again.
        assert_eq!(engine.update_table("t", update).unwrap().status, "UPDATING");
        assert_eq!(engine.describe_table("t").unwrap().status, "UPDATING");
        put(&engine, "t", key("b"));
        let err = engine
            .update_table(
                "t",
                TableUpdate {
                    deletion_protection: Some(false),
                    ..TableUpdate::default()
                },
            )
            .unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (
                ErrorKind::ResourceInUse,
                "Attempt to change a resource which is still in use: Table is being updated: t"
            )
        );
        clock.advance(Duration::from_millis(1500));
        assert_eq!(engine.describe_table("t").unwrap().status, "ACTIVE");
        engine
            .update_table(
                "t",
                TableUpdate {
                    deletion_protection: Some(false),
                    ..TableUpdate::default()
                },
            )
            .unwrap();
        clock.advance(Duration::from_millis(1500));
        assert_eq!(engine.delete_table("t").unwrap().status, "DELETING");
    }
}

#[test]
fn without_a_delay_tables_are_active_at_once() {
    let clock = Arc::new(ManualClock::new(Duration::from_secs(1_800_000_000)));
    let config = EngineConfig {
        clock: clock.clone(),
        ..EngineConfig::default()
    };
    for (engine, _dir) in engines(config) {
        engine
            .create_table(table("t", None, vec![], vec![]))
            .unwrap();
        assert_eq!(engine.describe_table("t").unwrap().status, "ACTIVE");
        put(&engine, "t", key("a"));
        let update = TableUpdate {
            deletion_protection: Some(true),
            ..TableUpdate::default()
        };
        engine.update_table("t", update).unwrap();
        assert_eq!(engine.describe_table("t").unwrap().status, "ACTIVE");
    }
}

/// Each global index of the table as DescribeTable shows it: (name, status).
fn index_statuses(engine: &Engine, table: &str) -> Vec<(String, &'static str)> {
    let view = engine.describe_table(table).unwrap();
    view.meta
        .global_indexes
        .iter()
        .map(|i| (i.name.clone(), i.status.as_str()))
        .collect()
}

fn shown(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    list.iter().map(|(n, s)| (n.to_string(), *s)).collect()
}

#[test]
fn indexes_and_deleted_tables_pass_through_their_statuses_too() {
    let clock = Arc::new(ManualClock::new(Duration::from_secs(1_800_000_000)));
    let delay = Duration::from_millis(1500);
    let config = EngineConfig {
        clock: clock.clone(),
        transient_delay: delay,
        ..EngineConfig::default()
    };
    let gsi = |name: &str, attribute: &str| {
        new_index(
            name,
            attr(attribute, ScalarType::S),
            None,
            ProjectionType::All,
            &[],
        )
    };
    for (engine, _dir) in engines(config) {
        // A new table's indexes are CREATING with it.
        let created = engine
            .create_table(table("t", None, vec![gsi("g", "a")], vec![]))
            .unwrap();
        assert_eq!(created.meta.global_indexes[0].status.as_str(), "CREATING");
        assert_eq!(index_statuses(&engine, "t"), shown(&[("g", "CREATING")]));
        clock.advance(delay);
        assert_eq!(index_statuses(&engine, "t"), shown(&[("g", "ACTIVE")]));

        // An added index stays CREATING for the delay even once it is built, and cannot
        // be read meanwhile.
        let mut defs = engine.table("t").unwrap().attribute_definitions.clone();
        defs.push(attr("b", ScalarType::S));
        engine
            .update_table(
                "t",
                TableUpdate {
                    index_updates: vec![IndexUpdate::Create(gsi("h", "b"))],
                    attribute_definitions: Some(defs),
                    ..TableUpdate::default()
                },
            )
            .unwrap();
        wait_for_active_indexes(&engine, "t");
        assert_eq!(
            index_statuses(&engine, "t"),
            shown(&[("g", "ACTIVE"), ("h", "CREATING")])
        );
        let query = scan_request("t", Some("h"));
        let err = engine.scan(query.clone()).unwrap_err();
        assert_eq!(
            err.message,
            "Cannot read from backfilling global secondary index"
        );
        clock.advance(delay);
        assert_eq!(
            index_statuses(&engine, "t"),
            shown(&[("g", "ACTIVE"), ("h", "ACTIVE")])
        );
        engine.scan(query).unwrap();

        // A deleted index is DELETING for the delay, then gone.
        engine
            .update_table(
                "t",
                TableUpdate {
                    index_updates: vec![IndexUpdate::Delete { name: "g".into() }],
                    ..TableUpdate::default()
                },
            )
            .unwrap();
        assert_eq!(
            index_statuses(&engine, "t"),
            shown(&[("h", "ACTIVE"), ("g", "DELETING")])
        );
        let err = engine.scan(scan_request("t", Some("g"))).unwrap_err();
        assert_eq!(
            err.message,
            "The table does not have the specified index: g"
        );
        clock.advance(delay);
        assert_eq!(index_statuses(&engine, "t"), shown(&[("h", "ACTIVE")]));

        // A deleted table is DELETING, listed, and its name taken for the delay; its items
        // are gone for the data plane at once.
        put(&engine, "t", key("a"));
        assert_eq!(engine.delete_table("t").unwrap().status, "DELETING");
        assert_eq!(engine.describe_table("t").unwrap().status, "DELETING");
        assert_eq!(engine.list_tables(None, 100).0, vec!["t".to_string()]);
        let err = engine.get_item(get_request("a")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ResourceNotFound);
        let busy = "Attempt to change a resource which is still in use: Table is being deleted: t";
        for err in [
            engine
                .create_table(table("t", None, vec![], vec![]))
                .unwrap_err(),
            engine.delete_table("t").unwrap_err(),
        ] {
            assert_eq!(
                (err.kind, err.message.as_str()),
                (ErrorKind::ResourceInUse, busy)
            );
        }
        clock.advance(delay);
        let err = engine.describe_table("t").unwrap_err();
        assert_eq!(err.kind, ErrorKind::ResourceNotFound);
        assert!(engine.list_tables(None, 100).0.is_empty());
        // The name is free again, and the new table starts empty.
        engine
            .create_table(table("t", None, vec![], vec![]))
            .unwrap();
        clock.advance(delay);
        assert!(engine.get_item(get_request("a")).unwrap().item.is_none());
    }
}
