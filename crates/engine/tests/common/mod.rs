//! Helpers shared by the engine's integration tests: engines on both storage backends,
//! builders for tables, indexes, items and expressions, and the index-consistency check.
#![allow(clippy::unwrap_used, dead_code)]

pub mod recording;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use stator_engine::ddl::{NewIndex, NewTable};
use stator_engine::items::PutRequest;
use stator_engine::query::{QueryRequest, ScanRequest};
use stator_engine::schema::{
    BillingMode, IndexMeta, IndexStatus, KeyAttribute, KeySchema, Projection, ProjectionType,
    ScalarType, TableMeta,
};
use stator_engine::{Engine, EngineConfig};
use stator_expr::parser::{parse_condition, parse_update};
use stator_expr::resolve::Placeholders;
use stator_expr::{Condition, ExpressionKind, Update};
use stator_storage::{DiskStorage, Durability, MemoryStorage, Storage};
use stator_types::{item_size, AttributeValue as Av, Item, Number};

/// One engine per storage backend: in memory, and on disk in a temporary directory (kept
/// alive by the returned guard).
pub fn engines(config: EngineConfig) -> Vec<(Arc<Engine>, Option<tempfile::TempDir>)> {
    let memory: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let dir = tempfile::tempdir().unwrap();
    let disk: Arc<dyn Storage> =
        Arc::new(DiskStorage::open(dir.path(), Durability::Process).unwrap());
    vec![
        (Engine::open(memory, config.clone()).unwrap(), None),
        (Engine::open(disk, config).unwrap(), Some(dir)),
    ]
}

pub fn attr(name: &str, t: ScalarType) -> KeyAttribute {
    KeyAttribute {
        name: name.to_string(),
        attr_type: t,
    }
}

pub fn s(v: &str) -> Av {
    Av::S(v.to_string())
}

pub fn n(v: impl std::fmt::Display) -> Av {
    Av::N(Number::parse(&v.to_string()).unwrap())
}

pub fn item(pairs: &[(&str, Av)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The item `{pk: S(pk)}`, plus `attrs`.
pub fn with(pk: &str, attrs: &[(&str, Av)]) -> Item {
    let mut out = item(&[("pk", s(pk))]);
    for (k, v) in attrs {
        out.insert(k.to_string(), v.clone());
    }
    out
}

pub fn key(pk: &str) -> Item {
    with(pk, &[])
}

pub fn new_index(
    name: &str,
    pk: KeyAttribute,
    sk: Option<KeyAttribute>,
    projection: ProjectionType,
    include: &[&str],
) -> NewIndex {
    NewIndex {
        name: name.to_string(),
        key_schema: KeySchema::simple(pk, sk),
        projection: Projection {
            projection_type: projection,
            non_key_attributes: include.iter().map(|s| s.to_string()).collect(),
        },
        throughput: None,
        on_demand: None,
        warm: None,
    }
}

/// An on-demand table with partition key `pk` (S), an optional sort key and indexes.
pub fn table(
    name: &str,
    sort: Option<KeyAttribute>,
    gsis: Vec<NewIndex>,
    lsis: Vec<NewIndex>,
) -> NewTable {
    let mut defs = vec![attr("pk", ScalarType::S)];
    defs.extend(sort.clone());
    for index in gsis.iter().chain(&lsis) {
        for a in index.key_schema.attributes() {
            if !defs.iter().any(|d| d.name == a.name) {
                defs.push(a.clone());
            }
        }
    }
    NewTable {
        name: name.to_string(),
        region: "us-east-1".to_string(),
        attribute_definitions: defs,
        key_schema: KeySchema::simple(attr("pk", ScalarType::S), sort),
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        on_demand: None,
        warm: None,
        global_indexes: gsis,
        local_indexes: lsis,
        stream_view_type: None,
        sse: None,
        table_class: None,
        deletion_protection: false,
        tags: Vec::new(),
    }
}

/// Creates a table with only the partition key `pk` (S).
pub fn create(engine: &Engine, name: &str) {
    engine
        .create_table(table(name, None, vec![], vec![]))
        .unwrap();
}

pub fn put(engine: &Engine, table: &str, item: Item) {
    engine
        .put_item(PutRequest {
            table: table.to_string(),
            item,
            ..Default::default()
        })
        .unwrap();
}

fn values(pairs: &[(&str, Av)]) -> HashMap<String, Av> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A resolved condition expression with `:values`.
pub fn condition(text: &str, vals: &[(&str, Av)]) -> Condition {
    let v = values(vals);
    Placeholders::new(None, Some(&v))
        .resolve_condition(
            parse_condition(text, ExpressionKind::Condition).unwrap(),
            ExpressionKind::Condition,
        )
        .unwrap()
}

/// A resolved update expression with `:values`.
pub fn update(text: &str, vals: &[(&str, Av)]) -> Update {
    let v = values(vals);
    Placeholders::new(None, Some(&v))
        .resolve_update(parse_update(text).unwrap())
        .unwrap()
}

pub fn scan_request(table: &str, index: Option<&str>) -> ScanRequest {
    ScanRequest {
        table: table.to_string(),
        index: index.map(str::to_string),
        filter: None,
        projection: None,
        select: None,
        limit: None,
        exclusive_start_key: None,
        consistent: false,
        segment: None,
    }
}

/// The key condition `pk = :v [AND <sort>]` on the key schema of `table` or its `index`.
pub fn key_condition(
    engine: &Engine,
    table: &str,
    index: Option<&str>,
    partition: Av,
    sort: Option<stator_expr::SortKeyCondition>,
) -> Condition {
    let meta = engine.table(table).unwrap();
    let schema = match index {
        None => meta.key_schema.clone(),
        Some(name) => meta
            .global_indexes
            .iter()
            .chain(&meta.local_indexes)
            .find(|i| i.name == name)
            .unwrap()
            .key_schema
            .clone(),
    };
    stator_expr::KeyCondition { partition, sort }.to_condition(
        &schema.partition.name,
        schema.sort.as_ref().map(|s| s.name.as_str()),
    )
}

/// Every item of a table or every entry of an index, following `LastEvaluatedKey`.
pub fn scan_all(engine: &Engine, table: &str, index: Option<&str>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let mut request = scan_request(table, index);
        request.exclusive_start_key = start.take();
        let page = engine.scan(request).unwrap();
        out.extend(page.decoded_items().unwrap());
        match page.last_evaluated_key {
            Some(next) => start = Some(next),
            None => return out,
        }
    }
}

/// The key attributes of `item` named by `schema`, as a sortable text.
fn key_text(schema: &KeySchema, item: &Item) -> String {
    schema
        .attributes()
        .map(|a| format!("{}={:?}", a.name, item.get(&a.name)))
        .collect::<Vec<_>>()
        .join(",")
}

/// What `index` should hold for the table's items: each item that has the index's key
/// attributes with the right types and non-empty values, projected as the index defines.
fn expected_entries(meta: &TableMeta, index: &IndexMeta, items: &[Item]) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    for item in items {
        let indexed = index.key_schema.attributes().all(|a| {
            item.get(&a.name).is_some_and(|v| {
                a.attr_type.matches(v)
                    && !matches!(v, Av::S(s) if s.is_empty())
                    && !matches!(v, Av::B(b) if b.is_empty())
            })
        });
        if !indexed {
            continue;
        }
        let projected = stator_engine::indexes::project_for_index(meta, index, item);
        let id = format!(
            "{} | {}",
            key_text(&index.key_schema, item),
            key_text(&meta.key_schema, item)
        );
        out.insert(id, projected);
    }
    out
}

/// Checks that every active index of `table` holds exactly the entries its definition
/// derives from the table's items, and that DescribeTable's counts and sizes match what is
/// stored. Panics with the first difference.
pub fn check_indexes(engine: &Engine, table: &str) {
    let meta = engine.table(table).unwrap();
    let items = scan_all(engine, table, None);
    let view = engine.describe_table(table).unwrap();
    assert_eq!(
        view.item_count as usize,
        items.len(),
        "ItemCount of {table}"
    );
    let bytes: usize = items.iter().map(item_size).sum();
    assert_eq!(view.size_bytes as usize, bytes, "TableSizeBytes of {table}");
    for index in meta.global_indexes.iter().chain(&meta.local_indexes) {
        if index.status != IndexStatus::Active {
            continue;
        }
        let expected = expected_entries(&meta, index, &items);
        let actual: BTreeMap<String, Item> = scan_all(engine, table, Some(&index.name))
            .into_iter()
            .map(|entry| {
                let id = format!(
                    "{} | {}",
                    key_text(&index.key_schema, &entry),
                    key_text(&meta.key_schema, &entry)
                );
                (id, entry)
            })
            .collect();
        let stale: Vec<&String> = actual
            .keys()
            .filter(|k| !expected.contains_key(*k))
            .collect();
        let missing: Vec<&String> = expected
            .keys()
            .filter(|k| !actual.contains_key(*k))
            .collect();
        assert!(
            stale.is_empty() && missing.is_empty(),
            "index {} of {table}: {} stale entries (first {:?}), {} missing (first {:?})",
            index.name,
            stale.len(),
            stale.first(),
            missing.len(),
            missing.first()
        );
        for (id, entry) in &actual {
            assert_eq!(entry, &expected[id], "index {} entry {id}", index.name);
        }
        let (count, _) = view.index_stats[&index.name];
        assert_eq!(
            count as usize,
            actual.len(),
            "ItemCount of index {}",
            index.name
        );
    }
}

/// Waits (polling, at most `seconds`) until `done` holds.
pub fn wait_until(seconds: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Waits until no index of `table` is being created.
pub fn wait_for_active_indexes(engine: &Engine, table: &str) {
    wait_until(60, "index backfills", || {
        engine.table(table).is_none_or(|meta| {
            meta.global_indexes
                .iter()
                .all(|i| i.status == IndexStatus::Active)
        })
    });
}

/// The storage ids that own data in storage (item, index and collection keys), and those
/// still marked dropped.
pub fn storage_ids_in_use(
    engine: &Engine,
) -> (
    std::collections::BTreeSet<u32>,
    std::collections::BTreeSet<u32>,
) {
    use std::ops::Bound;
    let snapshot = engine.storage().snapshot().unwrap();
    let mut data = std::collections::BTreeSet::new();
    let mut dropped = std::collections::BTreeSet::new();
    for entry in snapshot
        .range(
            Bound::Unbounded,
            Bound::Unbounded,
            stator_storage::Direction::Forward,
        )
        .unwrap()
    {
        let (k, _) = entry.unwrap();
        match k.first() {
            Some(0x01..=0x03) => {
                data.insert(u32::from_be_bytes(k[1..5].try_into().unwrap()));
            }
            Some(0x00) if k.get(1) == Some(&b'd') => {
                dropped.insert(u32::from_be_bytes(k[2..6].try_into().unwrap()));
            }
            _ => {}
        }
    }
    (data, dropped)
}

/// The storage ids every cached table and its indexes own.
pub fn live_storage_ids(engine: &Engine, tables: &[&str]) -> std::collections::BTreeSet<u32> {
    let mut ids = std::collections::BTreeSet::new();
    for name in tables {
        if let Some(meta) = engine.table(name) {
            ids.insert(meta.storage_id);
            for index in meta.global_indexes.iter().chain(&meta.local_indexes) {
                ids.insert(index.storage_id);
            }
        }
    }
    ids
}

/// An eventually consistent, forward Query of the partition `pk` (and `sort`) of `table`
/// or its `index`, without filter, projection or limit.
pub fn query(
    engine: &Engine,
    table: &str,
    index: Option<&str>,
    pk: Av,
    sort: Option<stator_expr::SortKeyCondition>,
) -> QueryRequest {
    QueryRequest {
        table: table.to_string(),
        index: index.map(str::to_string),
        key_condition: key_condition(engine, table, index, pk, sort),
        filter: None,
        projection: None,
        select: None,
        limit: None,
        forward: true,
        exclusive_start_key: None,
        consistent: false,
    }
}
