//! The database format: the version record, refusing unknown versions, migrating format 0,
//! and opening a data directory written by format 1 that is checked in
//! (`tests/data/format-1`), so any later change of the layout must migrate it.
//!
//! The fixture is written by `write_format_1_fixture` (ignored; run it only to create a
//! fixture for a *new* format version under a new name — never rewrite an old one):
//! `cargo test -p stator-engine --test format -- --ignored write_format_1_fixture`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use stator_engine::ddl::TableUpdate;
use stator_engine::items::GetRequest;
use stator_engine::schema::{ProjectionType, ScalarType};
use stator_engine::{Engine, EngineConfig, ErrorKind};
use stator_storage::{DiskStorage, Durability, MemoryStorage, Storage};
use stator_types::Item;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/format-1")
}

/// What the format 1 fixture holds.
fn music_items() -> Vec<Item> {
    vec![
        item(&[
            ("pk", s("No One You Know")),
            ("sk", s("Call Me Today")),
            ("genre", s("Country")),
            ("year", n(2015)),
        ]),
        item(&[
            ("pk", s("No One You Know")),
            ("sk", s("Scared of My Shadow")),
            ("genre", s("Country")),
            ("year", n(2019)),
        ]),
        item(&[
            ("pk", s("Acme Band")),
            ("sk", s("Happy Day")),
            ("genre", s("Rock")),
            ("year", n(2021)),
            ("awards", n(3)),
        ]),
        item(&[("pk", s("Acme Band")), ("sk", s("PartiQL Rocks"))]),
    ]
}

fn create_fixture_tables(engine: &Engine) {
    engine
        .create_table(table(
            "Music",
            Some(attr("sk", ScalarType::S)),
            vec![new_index(
                "by_genre",
                attr("genre", ScalarType::S),
                Some(attr("year", ScalarType::N)),
                ProjectionType::KeysOnly,
                &[],
            )],
            vec![new_index(
                "by_year",
                attr("pk", ScalarType::S),
                Some(attr("year", ScalarType::N)),
                ProjectionType::All,
                &[],
            )],
        ))
        .unwrap();
    for item in music_items() {
        put(engine, "Music", item);
    }
    create(engine, "Dropped");
    put(engine, "Dropped", key("gone"));
}

#[test]
#[ignore = "writes the checked-in fixture; run only to add a fixture for a new format"]
fn write_format_1_fixture() {
    let dir = fixture();
    assert!(
        !dir.exists(),
        "{} exists: fixtures of released formats must never be rewritten",
        dir.display()
    );
    {
        let storage: Arc<dyn Storage> =
            Arc::new(DiskStorage::open(&dir, Durability::Sync).unwrap());
        let engine = Engine::open(storage, EngineConfig::default()).unwrap();
        create_fixture_tables(&engine);
        // Stop the background worker first, so the fixture keeps a dropped table whose
        // cleanup a later start must finish.
        engine.shutdown().unwrap();
        engine.delete_table("Dropped").unwrap();
        engine
            .update_table(
                "Music",
                TableUpdate {
                    deletion_protection: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        engine.storage().flush().unwrap();
    }
    // fjall preallocates its journal (64 MB of zeros); keep only what was written.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jnl") {
            let bytes = std::fs::read(&path).unwrap();
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            std::fs::write(&path, &bytes[..end]).unwrap();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_format_1_data_directory_opens_with_everything_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&fixture(), &dir);
    let storage: Arc<dyn Storage> = Arc::new(DiskStorage::open(&dir, Durability::Process).unwrap());
    let dropped_marker = storage
        .snapshot()
        .unwrap()
        .range(
            std::ops::Bound::Included(&b"\x00d"[..]),
            std::ops::Bound::Excluded(&b"\x00e"[..]),
            stator_storage::Direction::Forward,
        )
        .unwrap()
        .count();
    assert_eq!(
        dropped_marker, 1,
        "the fixture holds one unfinished table drop"
    );
    let engine = Engine::open(storage, EngineConfig::default()).unwrap();

    assert_eq!(engine.list_tables(None, 100).0, vec!["Music".to_string()]);
    let meta = engine.table("Music").unwrap();
    assert!(meta.deletion_protection);
    assert_eq!(meta.global_indexes[0].name, "by_genre");
    assert_eq!(meta.local_indexes[0].name, "by_year");
    let mut stored = scan_all(&engine, "Music", None);
    let mut expected = music_items();
    let order = |i: &Item| format!("{:?}{:?}", i.get("pk"), i.get("sk"));
    stored.sort_by_key(order);
    expected.sort_by_key(order);
    assert_eq!(stored, expected);
    check_indexes(&engine, "Music");
    let view = engine.describe_table("Music").unwrap();
    assert_eq!(view.item_count, 4);
    assert_eq!(view.index_stats["by_genre"].0, 3);
    assert_eq!(view.index_stats["by_year"].0, 3);

    // The dropped table's cleanup, left unfinished, completes.
    wait_until(30, "the dropped table's cleanup", || {
        storage_ids_in_use(&engine).1.is_empty()
    });
    let (data, _) = storage_ids_in_use(&engine);
    assert_eq!(data, live_storage_ids(&engine, &["Music"]));

    // And the database takes new writes.
    put(
        &engine,
        "Music",
        item(&[
            ("pk", s("New")),
            ("sk", s("Song")),
            ("genre", s("Pop")),
            ("year", n(2026)),
        ]),
    );
    let got = engine
        .get_item(GetRequest {
            table: "Music".into(),
            key: item(&[("pk", s("New")), ("sk", s("Song"))]),
            projection: None,
            consistent: true,
        })
        .unwrap();
    assert!(got.item.is_some());
    check_indexes(&engine, "Music");
}

#[test]
fn a_new_database_records_the_current_format() {
    let storage = Arc::new(MemoryStorage::new());
    Engine::open(storage.clone(), EngineConfig::default()).unwrap();
    assert_eq!(
        storage
            .snapshot()
            .unwrap()
            .get(b"\x00v")
            .unwrap()
            .map(stator_storage::Bytes::into_vec),
        Some(
            stator_engine::records::FORMAT_VERSION
                .to_be_bytes()
                .to_vec()
        )
    );
}

#[test]
fn an_unknown_format_is_refused_with_a_clear_message() {
    let storage = Arc::new(MemoryStorage::new());
    let mut txn = storage.begin_write().unwrap();
    txn.put(b"\x00v", &99u32.to_be_bytes()).unwrap();
    txn.commit().unwrap();
    let error = Engine::open(storage, EngineConfig::default())
        .err()
        .unwrap();
    assert_eq!(error.kind, ErrorKind::InternalServerError);
    let text = error.to_string();
    assert!(
        text.contains("format version 99") && text.contains("newer Stator"),
        "{text}"
    );
}

#[test]
fn a_format_0_database_is_migrated() {
    // Build what round 1 wrote: metadata without a generation, one stats record per table
    // and index under `00 's' <id>`, no version record.
    let storage = Arc::new(MemoryStorage::new());
    {
        let engine = Engine::open(storage.clone(), EngineConfig::default()).unwrap();
        engine
            .create_table(table(
                "Old",
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
        for i in 0..5 {
            put(&engine, "Old", with(&format!("k{i}"), &[("n", n(i))]));
        }
        engine.shutdown().unwrap();
    }
    let meta = Engine::open(storage.clone(), EngineConfig::default())
        .unwrap()
        .table("Old")
        .unwrap();
    let mut txn = storage.begin_write().unwrap();
    txn.delete(b"\x00v").unwrap();
    for id in [meta.storage_id, meta.global_indexes[0].storage_id] {
        let mut new_key = vec![0x00, b's'];
        new_key.extend_from_slice(&id.to_be_bytes());
        let old_key = new_key.clone();
        new_key.extend_from_slice(&0u32.to_be_bytes());
        let value = txn.get(&new_key).unwrap().unwrap();
        txn.delete(&new_key).unwrap();
        txn.put(&old_key, &value).unwrap();
    }
    let mut generation = vec![0x00, b'g'];
    generation.extend_from_slice(&meta.storage_id.to_be_bytes());
    txn.delete(&generation).unwrap();
    let mut old_meta: serde_json::Value = serde_json::to_value(&*meta).unwrap();
    old_meta.as_object_mut().unwrap().remove("generation");
    txn.put(b"\x00tOld", &serde_json::to_vec(&old_meta).unwrap())
        .unwrap();
    txn.commit().unwrap();

    let engine = Engine::open(storage.clone(), EngineConfig::default()).unwrap();
    let meta = engine.table("Old").unwrap();
    assert_eq!(meta.generation, 1);
    let view = engine.describe_table("Old").unwrap();
    assert_eq!(view.item_count, 5);
    assert_eq!(view.index_stats["by_n"].0, 5);
    put(&engine, "Old", with("k9", &[("n", n(9))]));
    check_indexes(&engine, "Old");
    assert_eq!(
        storage
            .snapshot()
            .unwrap()
            .get(b"\x00v")
            .unwrap()
            .map(stator_storage::Bytes::into_vec),
        Some(1u32.to_be_bytes().to_vec())
    );
}
