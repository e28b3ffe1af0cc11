//! Golden tests at the engine API.
//!
//! The scripts in `tests/golden/query/` create tables with secondary indexes, write items,
//! and read them back with [`Engine::query`] and [`Engine::scan`], printing what DynamoDB's
//! response would carry (items, `Count`, `ScannedCount`, `LastEvaluatedKey`, consumed
//! capacity).
//!
//! The scripts in `tests/golden/writes/` print, after every command, the storage writes it
//! caused, commit by commit and decoded (`stator_engine::dump`): items, index entries,
//! statistics shares, item collection records, catalog records — and, after DDL, the writes
//! of the background jobs it started (backfill, cleanup), which the runner waits for. They
//! pin the storage layout and the one write path: what each kind of request writes.
//!
//! Every command runs on two engines at once, one on `MemoryStorage` and one on
//! `DiskStorage` in a temporary directory; their outputs must be identical, so a script
//! checks both backends and their agreement. The expected output is DynamoDB's documented
//! behaviour, written by hand; regenerate with `UPDATE_GOLDENFILES=1 cargo test -p
//! stator-engine --test query_golden` only to review a deliberate change.
//!
//! Values in commands are typed by the key they belong to: for a key of type `S` the text
//! is the string, for `N` a number, for `B` hex digits after `0x` (`0x01ff`). Items are
//! DynamoDB JSON. Commands:
//!
//! - `table NAME PK=T [SK=T] [gsi="NAME HK=T [RK=T] ALL|KEYS_ONLY|INCLUDE [ATTR…]"]…
//!   (a multi-attribute GSI key: `gsi="NAME HK=T… / RK=T… PROJECTION"`)
//!   [lsi="NAME RK=T ALL|KEYS_ONLY|INCLUDE [ATTR…]"]…` creates an on-demand table (`T` is
//!   `S`, `N` or `B`).
//! - `> put TABLE JSON`, `> delete TABLE KEY-JSON`: PutItem / DeleteItem.
//! - `update TABLE key=JSON expr=UPDATE-EXPRESSION [names=JSON] [values=JSON]`.
//! - `fill TABLE count=N [from=F] (pk=V | pks=PREFIX) [pad=BYTES] [set=JSON]`: writes items
//!   `F…F+N-1`. Item `i` has partition key `V` (or `PREFIX` + `i` as four digits), sort key
//!   `i` (a number for `N`, four digits for `S`, two big-endian bytes for `B`), `tag` = `"a"`
//!   when `i` is a multiple of 3 else `"b"`, optionally `pad` (BYTES × `x`) and the
//!   attributes of `set`.
//! - `query TABLE (pk=V [sk="OP V [V]"] | key=KEY-CONDITION-EXPRESSION) [index=NAME]
//!   [limit=N] [reverse=true]
//!   [filter=EXPR] [project=EXPR] [names=JSON] [values=JSON]
//!   [select=all|projected|specific|count] [start=JSON] [consistent=true] [pages=true]
//!   [show=items|keys|size|sorted|counts|scanned] [capacity=false]`. `OP` is one of
//!   `= < <= > >= between begins_with`. Capacity is always requested with `INDEXES` detail.
//! - `scan TABLE [index=NAME] [segment=I/N] [limit=N] [filter=…] [project=…] [names=…]
//!   [values=…] [select=…] [start=JSON] [consistent=true] [pages=true]
//!   [show=…]`.
//! - `segments TABLE total=N [limit=N] [index=NAME]`: a parallel scan: every segment paged
//!   to its end; prints whether the segments together returned every item of a full scan
//!   exactly once.
//! - `batch TABLE [put=JSON]… [delete=KEY-JSON]…`: one BatchWriteItem.
//! - `transact TABLE [put=JSON]… [delete=KEY-JSON]… [update=KEY-JSON]… [expr=UPDATE]
//!   [values=JSON]`: one TransactWriteItems (every update uses `expr`).
//! - `add_index TABLE "NAME HK=T [RK=T] ALL|KEYS_ONLY|INCLUDE [ATTR…]"`, `drop_index TABLE
//!   NAME`, `drop TABLE`: UpdateTable and DeleteTable.
//!
//! Output of a read: one line per item (its JSON; with `show=keys` only its table and index
//! key attributes), then `Count=… ScannedCount=… Capacity=…` and, when present,
//! `LastEvaluatedKey=…`. With `pages=true` the read follows `LastEvaluatedKey` to the end,
//! printing each page that way. `show=size` (with `pages=true`) prints instead the checks of
//! the 1 MB page rule, whose exact boundary item DynamoDB does not document: no page is
//! larger than 1 MB except by its last item; a page that ended for size (not `Limit`) holds
//! at least 1 MB minus one item; each page costs ceil(bytes / 4 KB) / 2 units; together the
//! pages hold every item once, in order. `show=sorted` prints a scan's items sorted by key
//! (scan order is a hash order that this suite does not pin) and `LastEvaluatedKey` as
//! `present`; `show=counts` only the summary lines, `LastEvaluatedKey` as `present`;
//! `show=scanned` (with `pages=true`) the number of pages and the sums of `ScannedCount`
//! and `Count`. `capacity=false` prints `Capacity=none`. An engine error prints
//! `error: TYPE: MESSAGE`.

#![allow(clippy::unwrap_used)]

mod common;

use common::recording::Recording;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::error::Error;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use stator_engine::batch::{BatchWrite, BatchWriteTable};
use stator_engine::ddl::{IndexUpdate, NewIndex, NewTable, TableUpdate};
use stator_engine::dump::Decoder;
use stator_engine::items::{DeleteRequest, PutRequest, UpdateRequest};
use stator_engine::query::{Page, QueryRequest, ScanRequest, Select};
use stator_engine::records::ReadItem;
use stator_engine::schema::{
    BillingMode, IndexStatus, KeyAttribute, KeySchema, Projection as IndexProjection,
    ProjectionType, ScalarType, TableMeta,
};
use stator_engine::transact::{TransactAction, TransactWrite, TransactWriteRequest};
use stator_engine::{DynamoError, Engine, EngineConfig};
use stator_expr::{
    parse_condition, parse_projection, parse_update, validate_condition, validate_projection,
    validate_update, Comparator, Condition, ExpressionKind, Placeholders, Projection,
    SortKeyCondition, Update,
};
use stator_storage::{DiskStorage, Durability, MemoryStorage};
use stator_types::{item_size, AttributeValue, Checked, Item, Number};

type Res<T> = Result<T, Box<dyn Error>>;

const MB: usize = 1024 * 1024;

/// One engine and what must outlive it.
struct Backend {
    name: &'static str,
    engine: Arc<Engine>,
    /// The engine's storage, recording every commit.
    recording: Arc<Recording>,
    /// Knows every table the backend has seen, to decode its records.
    decoder: Mutex<Decoder>,
    // Dropped after the engine: the database closes before its directory is removed.
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.engine.shutdown();
    }
}

struct QueryRunner {
    backends: Vec<Backend>,
    /// Print each command's storage writes (the `writes/` scripts).
    show_writes: bool,
}

impl QueryRunner {
    fn new(show_writes: bool) -> QueryRunner {
        let memory = Recording::new(Arc::new(MemoryStorage::new()));
        let dir = tempfile::tempdir().unwrap();
        let disk_storage = DiskStorage::open(&dir.path().join("db"), Durability::Process).unwrap();
        let disk = Recording::new(Arc::new(disk_storage));
        let backend = |name, recording: Arc<Recording>, dir| {
            let engine = Engine::open(recording.clone(), EngineConfig::default()).unwrap();
            // Opening writes the format record; scripts start after it.
            recording.take();
            Backend {
                name,
                engine,
                recording,
                decoder: Mutex::new(Decoder::default()),
                _dir: dir,
            }
        };
        QueryRunner {
            backends: vec![
                backend("memory", memory, None),
                backend("disk", disk, Some(dir)),
            ],
            show_writes,
        }
    }
}

/// Waits until the engine's background work is done: no index being built, no dropped
/// storage id left to clean up.
fn wait_for_background(engine: &Engine) {
    let busy = || {
        let snapshot = engine.storage().snapshot().unwrap();
        let dropped = snapshot
            .range(
                std::ops::Bound::Included(&b"\x00d"[..]),
                std::ops::Bound::Excluded(&b"\x00e"[..]),
                stator_storage::Direction::Forward,
            )
            .unwrap()
            .next()
            .is_some();
        let (tables, _) = engine.list_tables(None, usize::MAX);
        let building = tables.iter().any(|name| {
            engine.table(name).is_some_and(|meta| {
                meta.global_indexes
                    .iter()
                    .any(|i| i.status == IndexStatus::Creating)
            })
        });
        dropped || building
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while busy() {
        assert!(
            std::time::Instant::now() < deadline,
            "background work never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// The commits a backend recorded, decoded, one block per commit.
fn writes_text(backend: &Backend) -> String {
    wait_for_background(&backend.engine);
    let mut decoder = backend.decoder.lock().unwrap();
    let mut out = String::new();
    for commit in backend.recording.take() {
        out.push_str("commit\n");
        for (key, value) in &commit {
            decoder.learn_from(key, value.as_deref());
        }
        for (key, value) in &commit {
            let verb = if value.is_some() { "put" } else { "del" };
            writeln!(out, "  {verb} {}", decoder.describe(key, value.as_deref())).unwrap();
        }
    }
    out
}

// ------------------------------------------------------------------------------------------
// Parsing helpers
// ------------------------------------------------------------------------------------------

fn decode_item(json: &str) -> Res<Item> {
    match serde_json::from_str::<Checked<Item>>(json)? {
        Checked(Ok(item)) => Ok(item),
        Checked(Err(e)) => Err(e.message().into()),
    }
}

fn to_json(item: &Item) -> String {
    serde_json::to_string(item).unwrap()
}

fn parse_hex(text: &str) -> Res<Vec<u8>> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("binary value {text:?} must start with 0x"))?;
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits in {text:?}").into());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(Into::into))
        .collect()
}

/// A value of a key attribute, written as text in the script.
fn typed(text: &str, t: ScalarType) -> Res<AttributeValue> {
    Ok(match t {
        ScalarType::S => AttributeValue::S(text.to_owned()),
        ScalarType::N => AttributeValue::N(Number::parse(text).map_err(|e| format!("{e:?}"))?),
        ScalarType::B => AttributeValue::B(parse_hex(text)?),
    })
}

fn scalar_type(text: &str) -> Res<ScalarType> {
    ScalarType::parse(text).ok_or_else(|| format!("unknown key type {text}").into())
}

/// `NAME=T`.
fn key_attribute(spec: &str) -> Res<KeyAttribute> {
    let (name, t) = spec
        .split_once('=')
        .ok_or_else(|| format!("key {spec:?} is not NAME=TYPE"))?;
    Ok(KeyAttribute {
        name: name.to_owned(),
        attr_type: scalar_type(t)?,
    })
}

fn projection_of(words: &[&str]) -> Res<IndexProjection> {
    let (first, rest) = words
        .split_first()
        .ok_or("index definition lacks a projection")?;
    let projection_type = match *first {
        "ALL" => ProjectionType::All,
        "KEYS_ONLY" => ProjectionType::KeysOnly,
        "INCLUDE" => ProjectionType::Include,
        other => return Err(format!("unknown projection {other}").into()),
    };
    Ok(IndexProjection {
        projection_type,
        non_key_attributes: rest.iter().map(|s| s.to_string()).collect(),
    })
}

fn define(defs: &mut Vec<KeyAttribute>, attr: &KeyAttribute) {
    if !defs.iter().any(|d| d.name == attr.name) {
        defs.push(attr.clone());
    }
}

/// The key schema of the table or of one of its indexes.
fn target_schema(meta: &TableMeta, index: Option<&str>) -> Res<KeySchema> {
    match index {
        None => Ok(meta.key_schema.clone()),
        Some(name) => meta
            .global_indexes
            .iter()
            .chain(&meta.local_indexes)
            .find(|i| i.name == name)
            .map(|i| i.key_schema.clone())
            .ok_or_else(|| format!("no index {name}").into()),
    }
}

/// The sort key condition `OP V [V]`.
fn sort_condition(text: &str, t: ScalarType) -> Res<SortKeyCondition> {
    let mut words = text.splitn(2, ' ');
    let op = words.next().unwrap_or_default();
    let rest = words.next().ok_or("sort condition lacks a value")?;
    let compare = |c| Ok(SortKeyCondition::Compare(c, typed(rest, t)?));
    match op {
        "=" => compare(Comparator::Eq),
        "<" => compare(Comparator::Lt),
        "<=" => compare(Comparator::Le),
        ">" => compare(Comparator::Gt),
        ">=" => compare(Comparator::Ge),
        "begins_with" => Ok(SortKeyCondition::BeginsWith(typed(rest, t)?)),
        "between" => {
            let (low, high) = rest.split_once(' ').ok_or("between needs two values")?;
            Ok(SortKeyCondition::Between(typed(low, t)?, typed(high, t)?))
        }
        other => Err(format!("unknown sort key operator {other}").into()),
    }
}

/// `NAME KEY=T [KEY=T] ALL|KEYS_ONLY|INCLUDE [ATTR…]`: the index name, its key attributes
/// and projection.
fn index_spec(spec: &str) -> Res<(String, Vec<KeyAttribute>, IndexProjection)> {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let (index_name, rest) = words.split_first().ok_or("empty index definition")?;
    let key_count = rest
        .iter()
        .take_while(|w| w.contains('=') || **w == "/")
        .count();
    let index_keys = rest[..key_count]
        .iter()
        .filter(|w| **w != "/")
        .map(|k| key_attribute(k))
        .collect::<Res<Vec<_>>>()?;
    let projection = projection_of(&rest[key_count..])?;
    Ok((index_name.to_string(), index_keys, projection))
}

/// A global index's key schema from its spec: `HK=T [RK=T]`, or for a multi-attribute key
/// `HK=T… / RK=T…` (HASH components before the slash, RANGE after it).
fn gsi_key_schema(spec: &str, keys: Vec<KeyAttribute>) -> Res<KeySchema> {
    let words: Vec<&str> = spec.split_whitespace().skip(1).collect();
    let hash_count = words.iter().position(|w| *w == "/").unwrap_or(1);
    let mut keys = keys.into_iter();
    let hash: Vec<KeyAttribute> = keys.by_ref().take(hash_count).collect();
    Ok(KeySchema::from_components(hash, keys.collect()).ok_or("index lacks a partition key")?)
}

/// Filter and projection expressions with their placeholder maps.
#[derive(Default)]
struct Expressions {
    filter: Option<Condition>,
    projection: Option<Projection>,
    /// A key condition given as an expression (`key=`).
    key: Option<Condition>,
}

fn expressions(
    filter: Option<&str>,
    project: Option<&str>,
    key: Option<&str>,
    names: Option<&str>,
    values: Option<&str>,
) -> Res<Expressions> {
    let names: Option<HashMap<String, String>> = names.map(serde_json::from_str).transpose()?;
    let values: Option<HashMap<String, AttributeValue>> = values
        .map(|v| decode_item(v).map(|item| item.into_iter().collect()))
        .transpose()?;
    let mut placeholders = Placeholders::new(names.as_ref(), values.as_ref());
    let mut out = Expressions::default();
    if let Some(text) = filter {
        let kind = ExpressionKind::Filter;
        let parsed = parse_condition(text, kind).map_err(|e| e.message().to_owned())?;
        let resolved = placeholders
            .resolve_condition(parsed, kind)
            .map_err(|e| e.message().to_owned())?;
        validate_condition(&resolved, kind).map_err(|e| e.message().to_owned())?;
        out.filter = Some(resolved);
    }
    if let Some(text) = key {
        let kind = ExpressionKind::KeyCondition;
        let parsed = parse_condition(text, kind).map_err(|e| e.message().to_owned())?;
        let resolved = placeholders
            .resolve_condition(parsed, kind)
            .map_err(|e| e.message().to_owned())?;
        validate_condition(&resolved, kind).map_err(|e| e.message().to_owned())?;
        out.key = Some(resolved);
    }
    if let Some(text) = project {
        let parsed = parse_projection(text).map_err(|e| e.message().to_owned())?;
        let resolved = placeholders
            .resolve_projection(parsed)
            .map_err(|e| e.message().to_owned())?;
        validate_projection(&resolved).map_err(|e| e.message().to_owned())?;
        out.projection = Some(resolved);
    }
    placeholders.finish().map_err(|e| e.message().to_owned())?;
    Ok(out)
}

fn update_expression(text: &str, names: Option<&str>, values: Option<&str>) -> Res<Update> {
    let names: Option<HashMap<String, String>> = names.map(serde_json::from_str).transpose()?;
    let values: Option<HashMap<String, AttributeValue>> = values
        .map(|v| decode_item(v).map(|item| item.into_iter().collect()))
        .transpose()?;
    let mut placeholders = Placeholders::new(names.as_ref(), values.as_ref());
    let parsed = parse_update(text).map_err(|e| e.message().to_owned())?;
    let resolved = placeholders
        .resolve_update(parsed)
        .map_err(|e| e.message().to_owned())?;
    validate_update(&resolved).map_err(|e| e.message().to_owned())?;
    placeholders.finish().map_err(|e| e.message().to_owned())?;
    Ok(resolved)
}

/// `Select` as the script gives it; `None` leaves the engine to apply DynamoDB's default.
fn select_of(text: Option<&str>) -> Res<Option<Select>> {
    Ok(match text {
        None => None,
        Some("all") => Some(Select::AllAttributes),
        Some("projected") => Some(Select::AllProjectedAttributes),
        Some("specific") => Some(Select::SpecificAttributes),
        Some("count") => Some(Select::Count),
        Some(other) => return Err(format!("unknown select {other}").into()),
    })
}

/// A command's `key=value` arguments (each at most once) and positional arguments.
struct Args<'a> {
    positional: Vec<&'a str>,
    keys: HashMap<&'a str, &'a str>,
}

impl<'a> Args<'a> {
    fn of(command: &'a goldenscript::Command, allowed: &[&str]) -> Res<Args<'a>> {
        let mut args = Args {
            positional: Vec::new(),
            keys: HashMap::new(),
        };
        for arg in &command.args {
            match arg {
                goldenscript::Argument::Positional(value) => args.positional.push(value),
                goldenscript::Argument::KeyValue(key, value) => {
                    if !allowed.contains(&key.as_str()) {
                        return Err(format!("unknown argument {key}").into());
                    }
                    if args.keys.insert(key, value).is_some() {
                        return Err(format!("argument {key} given twice").into());
                    }
                }
                _ => return Err("unsupported argument".into()),
            }
        }
        Ok(args)
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.keys.get(key).copied()
    }

    fn flag(&self, key: &str) -> Res<bool> {
        Ok(self.get(key).map(str::parse).transpose()?.unwrap_or(false))
    }

    fn number(&self, key: &str) -> Res<Option<usize>> {
        Ok(self.get(key).map(str::parse).transpose()?)
    }

    fn table(&self) -> Res<&'a str> {
        self.positional
            .first()
            .copied()
            .ok_or_else(|| "missing table name".into())
    }

    fn positional(&self, i: usize) -> Option<&'a str> {
        self.positional.get(i).copied()
    }
}

// ------------------------------------------------------------------------------------------
// Output
// ------------------------------------------------------------------------------------------

fn error_line(e: &DynamoError) -> String {
    format!("error: {}: {}\n", e.kind.name(), e.message)
}

fn units(u: f64) -> String {
    format!("{u}")
}

fn capacity_text(page: &Page, shown: bool) -> String {
    if !shown {
        return "none".to_owned();
    }
    let c = &page.consumed;
    let mut text = units(c.total());
    if !c.global_indexes.is_empty() || !c.local_indexes.is_empty() {
        let mut parts = vec![format!("table={}", units(c.table_units))];
        for (name, u) in c.global_indexes.iter().chain(&c.local_indexes) {
            parts.push(format!("{name}={}", units(*u)));
        }
        write!(text, " ({})", parts.join(" ")).unwrap();
    }
    text
}

/// The table and index key attribute names of a read's target.
fn key_names(meta: &TableMeta, index: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = meta
        .key_schema
        .attributes()
        .map(|k| k.name.clone())
        .collect();
    if let Ok(schema) = target_schema(meta, index) {
        for k in schema.attributes() {
            if !names.contains(&k.name) {
                names.push(k.name.clone());
            }
        }
    }
    names
}

fn keys_of(item: &Item, names: &[String]) -> Item {
    item.iter()
        .filter(|(k, _)| names.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn compare_values(a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => stator_expr::eval::order(a, b).unwrap_or(Ordering::Equal),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

/// Sorts items by the table's key (partition, then sort).
fn sort_by_table_key(items: &mut [Item], meta: &TableMeta) {
    let names: Vec<String> = meta
        .key_schema
        .attributes()
        .map(|k| k.name.clone())
        .collect();
    items.sort_by(|a, b| {
        for n in &names {
            let o = compare_values(a.get(n), b.get(n));
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

enum Show {
    Items,
    Keys,
    Size,
    Sorted,
    Counts,
    Scanned,
}

fn show_of(text: Option<&str>) -> Res<Show> {
    Ok(match text {
        None | Some("items") => Show::Items,
        Some("keys") => Show::Keys,
        Some("size") => Show::Size,
        Some("sorted") => Show::Sorted,
        Some("counts") => Show::Counts,
        Some("scanned") => Show::Scanned,
        Some(other) => return Err(format!("unknown show={other}").into()),
    })
}

fn print_page(
    out: &mut String,
    page: &Page,
    show: &Show,
    keys: &[String],
    meta: &TableMeta,
    capacity: bool,
) {
    let decoded = page.decoded_items().unwrap();
    match show {
        Show::Items => {
            // Printed by the response writer (stored items straight from their bytes),
            // which must agree with serde's JSON of the decoded item.
            for (item, decoded) in page.items.iter().zip(&decoded) {
                let mut json = Vec::new();
                match item {
                    ReadItem::Stored(bytes) => {
                        let encoded = stator_engine::records::stored_encoding(bytes).unwrap();
                        stator_types::write_item_json(encoded, &mut json).unwrap();
                    }
                    ReadItem::Built(item) => stator_types::jsonout::write_item(&mut json, item),
                }
                let json = String::from_utf8(json).unwrap();
                assert_eq!(json, to_json(decoded));
                writeln!(out, "{json}").unwrap();
            }
        }
        Show::Keys => {
            for item in &decoded {
                writeln!(out, "{}", to_json(&keys_of(item, keys))).unwrap();
            }
        }
        Show::Sorted => {
            let mut items = decoded;
            sort_by_table_key(&mut items, meta);
            for item in &items {
                writeln!(out, "{}", to_json(item)).unwrap();
            }
        }
        Show::Size | Show::Counts | Show::Scanned => {}
    }
    write!(
        out,
        "Count={} ScannedCount={} Capacity={}",
        page.count,
        page.scanned_count,
        capacity_text(page, capacity)
    )
    .unwrap();
    if let Some(lek) = &page.last_evaluated_key {
        match show {
            Show::Sorted | Show::Counts => write!(out, " LastEvaluatedKey=present").unwrap(),
            _ => write!(out, " LastEvaluatedKey={}", to_json(lek)).unwrap(),
        }
    }
    out.push('\n');
}

/// The checks `show=size` prints for a sequence of pages (see the module docs).
fn size_report(
    pages: &[Page],
    limit: Option<usize>,
    expected: &[Item],
    keys: &[String],
    in_order: bool,
) -> String {
    let mut out = String::new();
    let mut bounded = true;
    let mut full = true;
    let mut charged = true;
    let largest = expected.iter().map(item_size).max().unwrap_or(0);
    for page in pages {
        let sizes: Vec<usize> = page
            .decoded_items()
            .unwrap()
            .iter()
            .map(item_size)
            .collect();
        let bytes: usize = sizes.iter().sum();
        let last = sizes.last().copied().unwrap_or(0);
        if bytes - last >= MB {
            bounded = false;
        }
        let cut_by_limit = limit.is_some_and(|l| page.scanned_count >= l);
        if page.last_evaluated_key.is_some() && !cut_by_limit && bytes + largest <= MB {
            full = false;
        }
        let expected_units = (bytes.div_ceil(4096).max(1) as f64) / 2.0;
        if page.consumed.total() != expected_units {
            charged = false;
        }
    }
    let returned: Vec<Item> = pages
        .iter()
        .flat_map(|p| p.decoded_items().unwrap())
        .map(|i| keys_of(&i, keys))
        .collect();
    let mut wanted: Vec<Item> = expected.iter().map(|i| keys_of(i, keys)).collect();
    let mut got = returned.clone();
    let complete = if in_order {
        got == wanted
    } else {
        let sort = |v: &mut Vec<Item>| v.sort_by_key(to_json);
        sort(&mut got);
        sort(&mut wanted);
        got == wanted
    };
    writeln!(
        out,
        "pages={} items={} every item once{}: {complete}",
        pages.len(),
        returned.len(),
        if in_order { " in order" } else { "" }
    )
    .unwrap();
    writeln!(out, "no page over 1 MB but by its last item: {bounded}").unwrap();
    writeln!(
        out,
        "pages cut for size hold 1 MB less at most one item: {full}"
    )
    .unwrap();
    writeln!(out, "each page costs ceil(bytes / 4 KB) / 2: {charged}").unwrap();
    out
}

// ------------------------------------------------------------------------------------------
// Commands
// ------------------------------------------------------------------------------------------

/// What a read command asked for, parsed once and run on each backend.
struct Read {
    table: String,
    index: Option<String>,
    query: Option<(AttributeValue, Option<SortKeyCondition>, bool)>,
    segment: Option<(u32, u32)>,
    exprs: Expressions,
    select: Option<Select>,
    limit: Option<usize>,
    start: Option<Item>,
    consistent: bool,
    pages: bool,
    show: Show,
    capacity: bool,
}

impl Read {
    /// `pk = V [AND sort condition]` on the key names of the target (the table's for an
    /// unknown index, which the engine then refuses).
    fn key_condition(
        &self,
        engine: &Engine,
        partition: &AttributeValue,
        sort: &Option<SortKeyCondition>,
    ) -> Condition {
        let schema = engine
            .table(&self.table)
            .map(|meta| {
                target_schema(&meta, self.index.as_deref()).unwrap_or(meta.key_schema.clone())
            })
            .unwrap_or_else(|| {
                KeySchema::simple(
                    KeyAttribute {
                        name: "pk".to_owned(),
                        attr_type: ScalarType::S,
                    },
                    None,
                )
            });
        stator_expr::KeyCondition {
            partition: partition.clone(),
            sort: sort.clone(),
        }
        .to_condition(
            &schema.partition.name,
            schema.sort.as_ref().map(|s| s.name.as_str()),
        )
    }

    fn page(&self, engine: &Engine, start: Option<Item>) -> Result<Page, DynamoError> {
        match &self.query {
            Some((partition, sort, forward)) => engine.query(QueryRequest {
                table: self.table.clone(),
                index: self.index.clone(),
                key_condition: match &self.exprs.key {
                    Some(key) => key.clone(),
                    None => self.key_condition(engine, partition, sort),
                },
                filter: self.exprs.filter.clone(),
                projection: self.exprs.projection.clone(),
                select: self.select,
                limit: self.limit,
                forward: *forward,
                exclusive_start_key: start,
                consistent: self.consistent,
            }),
            None => engine.scan(ScanRequest {
                table: self.table.clone(),
                index: self.index.clone(),
                filter: self.exprs.filter.clone(),
                projection: self.exprs.projection.clone(),
                select: self.select,
                limit: self.limit,
                exclusive_start_key: start,
                consistent: self.consistent,
                segment: self.segment,
            }),
        }
    }

    /// All pages, following `LastEvaluatedKey` (or only the first without `pages=true`).
    fn pages(&self, engine: &Engine) -> (Vec<Page>, Option<DynamoError>) {
        let mut pages = Vec::new();
        let mut start = self.start.clone();
        loop {
            match self.page(engine, start.take()) {
                Ok(page) => {
                    let next = page.last_evaluated_key.clone();
                    pages.push(page);
                    if !self.pages || next.is_none() {
                        return (pages, None);
                    }
                    if pages.len() > 10_000 {
                        return (
                            pages,
                            Some(DynamoError::internal("runaway paging: over 10000 pages")),
                        );
                    }
                    start = next;
                }
                Err(e) => return (pages, Some(e)),
            }
        }
    }

    fn run(&self, engine: &Engine) -> Res<String> {
        let meta = engine
            .table(&self.table)
            .ok_or_else(|| format!("no table {}", self.table))?;
        let keys = key_names(&meta, self.index.as_deref());
        let (pages, error) = self.pages(engine);
        let mut out = String::new();
        if let Show::Size = self.show {
            // The reference: the same read with pages of at most 1 item never hits the size
            // limit, so it lists every matching item in order.
            let mut reference = Vec::new();
            let mut start = self.start.clone();
            loop {
                let single = Read {
                    limit: Some(1),
                    pages: false,
                    ..self.clone_shape()
                };
                match single.page(engine, start.take()) {
                    Ok(page) => {
                        reference.extend(page.decoded_items()?);
                        match page.last_evaluated_key {
                            Some(k) => start = Some(k),
                            None => break,
                        }
                    }
                    Err(e) => {
                        out.push_str(&error_line(&e));
                        return Ok(out);
                    }
                }
            }
            out.push_str(&size_report(
                &pages,
                self.limit,
                &reference,
                &keys,
                self.query.is_some(),
            ));
        } else if let Show::Scanned = self.show {
            writeln!(
                out,
                "pages={} scanned={} counted={}",
                pages.len(),
                pages.iter().map(|p| p.scanned_count).sum::<usize>(),
                pages.iter().map(|p| p.count).sum::<usize>()
            )?;
        } else {
            for page in &pages {
                print_page(&mut out, page, &self.show, &keys, &meta, self.capacity);
            }
        }
        if let Some(e) = error {
            out.push_str(&error_line(&e));
        }
        Ok(out)
    }

    fn clone_shape(&self) -> Read {
        Read {
            table: self.table.clone(),
            index: self.index.clone(),
            query: self.query.clone(),
            segment: self.segment,
            exprs: Expressions {
                filter: self.exprs.filter.clone(),
                projection: self.exprs.projection.clone(),
                key: self.exprs.key.clone(),
            },
            select: self.select,
            limit: self.limit,
            start: self.start.clone(),
            consistent: self.consistent,
            pages: self.pages,
            show: Show::Items,
            capacity: self.capacity,
        }
    }
}

const READ_ARGS: &[&str] = &[
    "pk",
    "sk",
    "key",
    "index",
    "limit",
    "reverse",
    "filter",
    "project",
    "names",
    "values",
    "select",
    "start",
    "consistent",
    "pages",
    "show",
    "capacity",
    "segment",
];

impl QueryRunner {
    fn meta(&self, table: &str) -> Res<Arc<TableMeta>> {
        self.backends[0]
            .engine
            .table(table)
            .ok_or_else(|| format!("no table {table}").into())
    }

    /// Runs `f` on every backend (and, in a writes script, appends the storage writes it
    /// caused); their outputs must agree.
    fn on_each(&self, f: impl Fn(&Engine) -> Res<String>) -> Res<String> {
        let mut outputs = Vec::new();
        for backend in &self.backends {
            let mut output = f(&backend.engine)?;
            if self.show_writes {
                output.push_str(&writes_text(backend));
            }
            outputs.push((backend.name, output));
        }
        let (_, first) = &outputs[0];
        for (name, output) in &outputs[1..] {
            if output != first {
                return Err(format!(
                    "backends disagree:\n--- {}:\n{first}--- {name}:\n{output}",
                    outputs[0].0
                )
                .into());
            }
        }
        Ok(outputs.swap_remove(0).1)
    }

    fn create_table(&self, command: &goldenscript::Command) -> Res<String> {
        let mut name = None;
        let mut keys = Vec::new();
        let mut indexes = Vec::new();
        for arg in &command.args {
            match arg {
                goldenscript::Argument::Positional(value) if name.is_none() => name = Some(value),
                goldenscript::Argument::KeyValue(kind, spec) if kind == "gsi" || kind == "lsi" => {
                    indexes.push((kind.as_str(), spec.as_str()))
                }
                goldenscript::Argument::KeyValue(attr, t) => keys.push(KeyAttribute {
                    name: attr.clone(),
                    attr_type: scalar_type(t)?,
                }),
                other => return Err(format!("unexpected argument {other}").into()),
            }
        }
        let name = name.ok_or("table NAME PK=T [SK=T]")?;
        let mut defs = Vec::new();
        let mut keys = keys.into_iter();
        let partition = keys.next().ok_or("missing partition key")?;
        let sort = keys.next();
        define(&mut defs, &partition);
        if let Some(s) = &sort {
            define(&mut defs, s);
        }
        let mut global_indexes = Vec::new();
        let mut local_indexes = Vec::new();
        for (kind, spec) in &indexes {
            let (index_name, index_keys, projection) = index_spec(spec)?;
            let key_schema = if *kind == "gsi" {
                gsi_key_schema(spec, index_keys)?
            } else {
                KeySchema::simple(
                    partition.clone(),
                    Some(
                        index_keys
                            .into_iter()
                            .next()
                            .ok_or("lsi lacks a sort key")?,
                    ),
                )
            };
            for k in key_schema.attributes() {
                define(&mut defs, k);
            }
            let index = NewIndex {
                name: index_name,
                key_schema,
                projection,
                throughput: None,
                on_demand: None,
                warm: None,
            };
            if *kind == "gsi" {
                global_indexes.push(index);
            } else {
                local_indexes.push(index);
            }
        }
        let new = NewTable {
            name: name.to_string(),
            region: "us-east-1".to_owned(),
            attribute_definitions: defs,
            key_schema: KeySchema::simple(partition, sort),
            billing_mode: BillingMode::PayPerRequest,
            throughput: None,
            on_demand: None,
            warm: None,
            global_indexes,
            local_indexes,
            stream_view_type: None,
            sse: None,
            table_class: None,
            deletion_protection: false,
            tags: Vec::new(),
        };
        self.on_each(|engine| {
            Ok(match engine.create_table(new.clone()) {
                Ok(_) => String::new(),
                Err(e) => error_line(&e),
            })
        })
    }

    fn put(&self, table: &str, item: Item) -> Res<String> {
        self.on_each(|engine| {
            Ok(
                match engine.put_item(PutRequest {
                    table: table.to_owned(),
                    item: item.clone(),
                    ..PutRequest::default()
                }) {
                    Ok(_) => String::new(),
                    Err(e) => error_line(&e),
                },
            )
        })
    }

    fn delete(&self, table: &str, key: Item) -> Res<String> {
        self.on_each(|engine| {
            Ok(
                match engine.delete_item(DeleteRequest {
                    table: table.to_owned(),
                    key: key.clone(),
                    ..DeleteRequest::default()
                }) {
                    Ok(_) => String::new(),
                    Err(e) => error_line(&e),
                },
            )
        })
    }

    fn update(&self, command: &goldenscript::Command) -> Res<String> {
        let args = Args::of(command, &["key", "expr", "names", "values"])?;
        let table = args.table()?;
        let key = decode_item(args.get("key").ok_or("missing key=")?)?;
        let update = update_expression(
            args.get("expr").ok_or("missing expr=")?,
            args.get("names"),
            args.get("values"),
        )?;
        self.on_each(|engine| {
            Ok(
                match engine.update_item(UpdateRequest {
                    table: table.to_owned(),
                    key: key.clone(),
                    update: Some(update.clone()),
                    creates_missing_item: true,
                    condition: None,
                    return_values: Default::default(),
                    return_old_on_failure: false,
                }) {
                    Ok(_) => String::new(),
                    Err(e) => error_line(&e),
                },
            )
        })
    }

    fn fill(&self, command: &goldenscript::Command) -> Res<String> {
        let args = Args::of(command, &["count", "from", "pk", "pks", "pad", "set"])?;
        let table = args.table()?;
        let meta = self.meta(table)?;
        let count = args.number("count")?.ok_or("missing count=")?;
        let from = args.number("from")?.unwrap_or(1);
        let extra = args.get("set").map(decode_item).transpose()?;
        let pad = args.number("pad")?;
        let mut items = Vec::with_capacity(count);
        for i in from..from + count {
            let mut item = extra.clone().unwrap_or_default();
            let pk = &meta.key_schema.partition;
            let pk_value = match (args.get("pk"), args.get("pks")) {
                (Some(v), None) => typed(v, pk.attr_type)?,
                (None, Some(prefix)) => typed(&format!("{prefix}{i:04}"), pk.attr_type)?,
                _ => return Err("fill needs exactly one of pk= and pks=".into()),
            };
            item.insert(pk.name.clone(), pk_value);
            if let Some(sk) = &meta.key_schema.sort {
                let value = match sk.attr_type {
                    ScalarType::N => AttributeValue::N(Number::parse(&i.to_string()).unwrap()),
                    ScalarType::S => AttributeValue::S(format!("{i:04}")),
                    ScalarType::B => AttributeValue::B((i as u16).to_be_bytes().to_vec()),
                };
                item.insert(sk.name.clone(), value);
            }
            let tag = if i % 3 == 0 { "a" } else { "b" };
            item.insert("tag".to_owned(), AttributeValue::S(tag.to_owned()));
            if let Some(bytes) = pad {
                item.insert("pad".to_owned(), AttributeValue::S("x".repeat(bytes)));
            }
            items.push(item);
        }
        self.on_each(|engine| {
            for item in &items {
                if let Err(e) = engine.put_item(PutRequest {
                    table: table.to_owned(),
                    item: item.clone(),
                    ..PutRequest::default()
                }) {
                    return Ok(error_line(&e));
                }
            }
            Ok(String::new())
        })
    }

    fn batch(&self, command: &goldenscript::Command) -> Res<String> {
        let mut table = None;
        let mut writes = Vec::new();
        for arg in &command.args {
            match arg {
                goldenscript::Argument::Positional(name) if table.is_none() => {
                    table = Some(name.clone())
                }
                goldenscript::Argument::KeyValue(k, json) if k == "put" => {
                    writes.push(BatchWrite::Put(decode_item(json)?))
                }
                goldenscript::Argument::KeyValue(k, json) if k == "delete" => {
                    writes.push(BatchWrite::Delete(decode_item(json)?))
                }
                other => return Err(format!("unexpected argument {other}").into()),
            }
        }
        let table = table.ok_or("batch TABLE put=JSON…")?;
        self.on_each(|engine| {
            Ok(
                match engine.batch_write(vec![BatchWriteTable {
                    table: table.clone(),
                    writes: writes.clone(),
                }]) {
                    Ok(out) => format!("unprocessed: {}\n", out.unprocessed.len()),
                    Err(e) => error_line(&e),
                },
            )
        })
    }

    fn transact(&self, command: &goldenscript::Command) -> Res<String> {
        let mut table = None;
        let (mut expr, mut values) = (None, None);
        let mut actions = Vec::new();
        let mut updates = Vec::new();
        for arg in &command.args {
            match arg {
                goldenscript::Argument::Positional(name) if table.is_none() => {
                    table = Some(name.clone())
                }
                goldenscript::Argument::KeyValue(k, v) => match k.as_str() {
                    "put" => actions.push(("put", decode_item(v)?)),
                    "delete" => actions.push(("delete", decode_item(v)?)),
                    "update" => updates.push(decode_item(v)?),
                    "expr" => expr = Some(v.clone()),
                    "values" => values = Some(v.clone()),
                    other => return Err(format!("unexpected argument {other}").into()),
                },
                other => return Err(format!("unexpected argument {other}").into()),
            }
        }
        let table = table.ok_or("transact TABLE …")?;
        let mut writes: Vec<TransactWrite> = actions
            .into_iter()
            .map(|(verb, item)| TransactWrite {
                action: if verb == "put" {
                    TransactAction::Put {
                        table: table.clone(),
                        item,
                        condition: None,
                    }
                } else {
                    TransactAction::Delete {
                        table: table.clone(),
                        key: item,
                        condition: None,
                    }
                },
                return_old_on_failure: false,
            })
            .collect();
        if !updates.is_empty() {
            let update = update_expression(
                expr.as_deref().ok_or("update= needs expr=")?,
                None,
                values.as_deref(),
            )?;
            for key in updates {
                writes.push(TransactWrite {
                    action: TransactAction::Update {
                        table: table.clone(),
                        key,
                        update: update.clone(),
                        condition: None,
                    },
                    return_old_on_failure: false,
                });
            }
        }
        self.on_each(|engine| {
            Ok(
                match engine.transact_write(TransactWriteRequest {
                    writes: writes.clone(),
                    client_request_token: None,
                    request_fingerprint: 0,
                }) {
                    Ok(_) => String::new(),
                    Err(e) => error_line(&e),
                },
            )
        })
    }

    fn add_index(&self, command: &goldenscript::Command) -> Res<String> {
        let args = Args::of(command, &[])?;
        let table = args.table()?;
        let spec = args.positional(1).ok_or("add_index TABLE \"SPEC\"")?;
        let (name, keys, projection) = index_spec(spec)?;
        let key_schema = gsi_key_schema(spec, keys)?;
        let meta = self.meta(table)?;
        let mut defs = meta.attribute_definitions.clone();
        for k in key_schema.attributes() {
            define(&mut defs, k);
        }
        let update = TableUpdate {
            index_updates: vec![IndexUpdate::Create(NewIndex {
                name,
                key_schema,
                projection,
                throughput: None,
                on_demand: None,
                warm: None,
            })],
            attribute_definitions: Some(defs),
            ..Default::default()
        };
        // The backfill runs to its end before the next command (a read of a backfilling
        // index is refused).
        self.on_each(|engine| {
            Ok(match engine.update_table(table, update.clone()) {
                Ok(_) => {
                    wait_for_background(engine);
                    String::new()
                }
                Err(e) => error_line(&e),
            })
        })
    }

    fn drop_index(&self, command: &goldenscript::Command) -> Res<String> {
        let args = Args::of(command, &[])?;
        let table = args.table()?;
        let name = args.positional(1).ok_or("drop_index TABLE NAME")?;
        let update = TableUpdate {
            index_updates: vec![IndexUpdate::Delete {
                name: name.to_owned(),
            }],
            ..Default::default()
        };
        self.on_each(|engine| {
            Ok(match engine.update_table(table, update.clone()) {
                Ok(_) => String::new(),
                Err(e) => error_line(&e),
            })
        })
    }

    fn drop_table(&self, command: &goldenscript::Command) -> Res<String> {
        let args = Args::of(command, &[])?;
        let table = args.table()?;
        self.on_each(|engine| {
            Ok(match engine.delete_table(table) {
                Ok(_) => String::new(),
                Err(e) => error_line(&e),
            })
        })
    }

    fn read(&self, command: &goldenscript::Command, is_query: bool) -> Res<String> {
        let args = Args::of(command, READ_ARGS)?;
        let table = args.table()?;
        let meta = self.meta(table)?;
        let index = args.get("index").map(str::to_owned);
        // An unknown index is the engine's error to report; type the values by the table key.
        let schema = target_schema(&meta, index.as_deref()).unwrap_or(meta.key_schema.clone());
        let query = if is_query && args.get("key").is_some() {
            // The expression stands for the key condition; the parts are unused.
            Some((AttributeValue::Null, None, !args.flag("reverse")?))
        } else if is_query {
            let pk = typed(
                args.get("pk").ok_or("query needs pk=")?,
                schema.partition.attr_type,
            )?;
            let sort = match args.get("sk") {
                Some(text) => {
                    let sk = schema.sort.as_ref().ok_or("target has no sort key")?;
                    Some(sort_condition(text, sk.attr_type)?)
                }
                None => None,
            };
            Some((pk, sort, !args.flag("reverse")?))
        } else {
            None
        };
        let segment = match args.get("segment") {
            Some(text) => {
                let (i, n) = text.split_once('/').ok_or("segment=I/N")?;
                Some((i.parse()?, n.parse()?))
            }
            None => None,
        };
        let exprs = expressions(
            args.get("filter"),
            args.get("project"),
            args.get("key").filter(|_| is_query),
            args.get("names"),
            args.get("values"),
        )?;
        let select = select_of(args.get("select"))?;
        let read = Read {
            table: table.to_owned(),
            index,
            query,
            segment,
            exprs,
            select,
            limit: args.number("limit")?,
            start: args.get("start").map(decode_item).transpose()?,
            consistent: args.flag("consistent")?,
            pages: args.flag("pages")?,
            show: show_of(args.get("show"))?,
            capacity: args
                .get("capacity")
                .map(str::parse)
                .transpose()?
                .unwrap_or(true),
        };
        if matches!(read.show, Show::Size | Show::Scanned) && !read.pages {
            return Err("show=size and show=scanned need pages=true".into());
        }
        self.on_each(|engine| read.run(engine))
    }

    /// A parallel scan with `total` segments, each paged to its end.
    fn segments(&self, command: &goldenscript::Command) -> Res<String> {
        let args = Args::of(command, &["total", "limit", "index"])?;
        let table = args.table()?;
        let meta = self.meta(table)?;
        let total: u32 = args.get("total").ok_or("missing total=")?.parse()?;
        let limit = args.number("limit")?;
        let index = args.get("index").map(str::to_owned);
        let keys = key_names(&meta, index.as_deref());
        self.on_each(|engine| {
            let scan = |segment: Option<(u32, u32)>, limit: Option<usize>| {
                let mut items = Vec::new();
                let mut requests = 0usize;
                let mut start = None;
                loop {
                    requests += 1;
                    let page = engine.scan(ScanRequest {
                        table: table.to_owned(),
                        index: index.clone(),
                        filter: None,
                        projection: None,
                        select: None,
                        limit,
                        exclusive_start_key: start.take(),
                        consistent: false,
                        segment,
                    })?;
                    if let Some(l) = limit {
                        if page.scanned_count > l {
                            return Err(DynamoError::internal(format!(
                                "a page held {} items with Limit {l}",
                                page.scanned_count
                            )));
                        }
                    }
                    items.extend(
                        page.decoded_items()?
                            .iter()
                            .map(|i| to_json(&keys_of(i, &keys))),
                    );
                    match page.last_evaluated_key {
                        Some(k) => start = Some(k),
                        None => return Ok::<_, DynamoError>((items, requests)),
                    }
                    if requests > 100_000 {
                        return Err(DynamoError::internal("runaway paging"));
                    }
                }
            };
            let (mut everything, _) = match scan(None, None) {
                Ok(v) => v,
                Err(e) => return Ok(error_line(&e)),
            };
            let mut returned = Vec::new();
            for segment in 0..total {
                match scan(Some((segment, total)), limit) {
                    Ok((items, _)) => returned.extend(items),
                    Err(e) => return Ok(format!("segment {segment}: {}", error_line(&e))),
                }
            }
            let count = returned.len();
            returned.sort();
            everything.sort();
            let mut unique = returned.clone();
            unique.dedup();
            Ok(format!(
                "{total} segments returned {count} items; each item exactly once: {}; \
                 same items as a full scan ({}): {}\n",
                unique.len() == count,
                everything.len(),
                returned == everything
            ))
        })
    }
}

impl goldenscript::Runner for QueryRunner {
    type Command = goldenscript::Command;

    fn run(
        &mut self,
        command: &goldenscript::Command,
        _context: &goldenscript::Context,
    ) -> Result<String, Box<dyn Error>> {
        // `> put TABLE JSON` and `> delete TABLE JSON` are literal lines: the whole line is
        // the command name.
        if let Some((verb, rest)) = command.name.split_once(' ') {
            let (table, json) = rest
                .trim()
                .split_once(' ')
                .ok_or("expected VERB TABLE JSON")?;
            let item = decode_item(json.trim())?;
            return match verb {
                "put" => self.put(table, item),
                "delete" => self.delete(table, item),
                other => Err(format!("unknown literal command {other}").into()),
            };
        }
        match command.name.as_str() {
            "table" => self.create_table(command),
            "batch" => self.batch(command),
            "transact" => self.transact(command),
            "add_index" => self.add_index(command),
            "drop_index" => self.drop_index(command),
            "drop" => self.drop_table(command),
            "update" => self.update(command),
            "fill" => self.fill(command),
            "query" => self.read(command, true),
            "scan" => self.read(command, false),
            "segments" => self.segments(command),
            other => Err(format!("unknown command {other}").into()),
        }
    }
}

/// Runs every script in `tests/golden/query/`, each with fresh engines, and reports all
/// failing scripts at once.
#[test]
fn query_golden_scripts() {
    run_scripts("query", false);
}

/// Runs every script in `tests/golden/writes/`, printing each command's storage writes.
#[test]
fn write_golden_scripts() {
    run_scripts("writes", true);
}

fn run_scripts(directory: &str, show_writes: bool) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(directory);
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no scripts in {}", dir.display());
    let mut failures = Vec::new();
    for script in &scripts {
        let outcome = std::panic::catch_unwind(|| {
            goldenscript::run(&mut QueryRunner::new(show_writes), script)
        });
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{}: {e}", script.display())),
            Err(_) => failures.push(format!("{}: panicked (see output above)", script.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "failing scripts:\n{}",
        failures.join("\n")
    );
}
