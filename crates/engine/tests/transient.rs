//! Delayed transient statuses (DynamoDB Local's `-delayTransientStatuses`) on a manual
//! engine clock: a created table is CREATING (not found for the data plane, not changeable)
//! until the delay has passed on the clock, an updated one UPDATING (usable, not changeable);
//! without a delay every table is ACTIVE at once.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use stator_engine::clock::ManualClock;
use stator_engine::ddl::TableUpdate;
use stator_engine::items::GetRequest;
use stator_engine::{EngineConfig, ErrorKind};

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
