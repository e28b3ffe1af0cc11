//! Stator's engine: DynamoDB semantics on top of the storage trait.
//!
//! Front ends (the api crate's operations, later DAX and PartiQL) hand the engine requests
//! whose request-only rules are checked (plain Rust values, no JSON, no HTTP); the engine
//! applies every rule that depends on a table, does the work, and performs every write of
//! one request in one storage write transaction. It knows nothing of the wire and nothing of
//! which storage backend it runs on.
//!
//! Life of a PutItem inside the engine ([`Engine::put_item`]):
//! 1. From the cached metadata of the table, outside any transaction, check the item
//!    (`write::WritePlan::put`: key attributes present, typed and non-empty; index key
//!    attributes typed and non-empty; 400 KB; key sizes) and encode its storage key
//!    (`keys::item_key`) and value (`records::encode_stored`).
//! 2. Run the rest in `Engine::write`'s transaction (retried from here on a storage
//!    conflict): take the table's metadata checked against its generation record in this
//!    transaction (`catalog`: reloaded, and step 1 redone, if a DDL changed it); read the
//!    old item; evaluate the condition (`ConditionalCheckFailedException`).
//! 3. [`write::apply`] the change: write the item; adjust the table's statistics share of
//!    this writer slot ([`stats`]); bring every maintained index in step — delete, write or
//!    rewrite entries, adjust each index's statistics, count its write units ([`indexes`]);
//!    for a table with local indexes update the item collection's size and enforce its
//!    limit ([`collections`]); return what the change consumed.
//! 4. Commit, and return the old item if asked and the consumed capacity (always computed).
//!
//! Modules, bottom-up (each uses only those above it; see the `layering` test):
//! - foundations: [`clock`] (the one engine clock, system or manual), [`error`] (the
//!   client-facing error, typed cancellation reasons), [`keys`]
//!   (the byte layout), [`schema`] (table metadata), [`records`] (value codecs, `ReadItem`),
//!   [`capacity`] (units, tallies), [`itemcheck`] (key and item checks);
//! - [`catalog`] (metadata records, generations, the cache), [`stats`], [`indexes`],
//!   [`collections`], [`jobs`] (the background queue);
//! - [`write`](mod@write): the one write path and the transaction runner;
//! - operations: [`items`] (GetItem, PutItem, DeleteItem, UpdateItem), [`batch`],
//!   [`transact`], [`target`] and [`query`] (Query and Scan), [`ddl`] (tables and tags);
//! - [`background`] (the worker), [`dump`] (a readable decoding of every record).

pub mod background;
pub mod batch;
pub mod capacity;
pub mod catalog;
pub mod clock;
pub mod collections;
pub mod ddl;
pub mod dump;
pub mod error;
pub mod indexes;
pub mod itemcheck;
pub mod items;
pub mod jobs;
pub mod keys;
pub mod partitions;
pub mod query;
pub mod records;
pub mod schema;
pub mod stats;
pub mod target;
pub mod throughput;
pub mod transact;
pub mod write;

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};

use stator_storage::{Bytes, Direction, Storage, WriteTransaction};

pub use capacity::{CapacityKind, ConsumedCapacity, ReturnCapacity};
pub use error::{DynamoError, ErrorKind};

/// Settings that shape what the engine reports.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Account id used in ARNs.
    pub account_id: String,
    /// The clock every time-based rule reads (timestamps, the ClientRequestToken window).
    pub clock: Arc<dyn clock::Clock>,
    /// How long a created table stays `CREATING` and an updated one `UPDATING` on the
    /// engine clock (DynamoDB Local's `-delayTransientStatuses`); zero: `ACTIVE` at once.
    pub transient_delay: std::time::Duration,
    /// Largest item collection (bytes) of a table with local secondary indexes: DynamoDB's
    /// 10 GB. Configurable so tests can reach it.
    pub item_collection_limit: u64,
    /// Whether capacity governs requests (`--capacity`; see [`throughput`]).
    pub capacity: throughput::CapacityMode,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            account_id: "000000000000".to_string(),
            clock: Arc::new(clock::SystemClock),
            transient_delay: std::time::Duration::ZERO,
            item_collection_limit: 10 * (1 << 30),
            capacity: throughput::CapacityMode::default(),
        }
    }
}

/// The database: a storage backend plus the catalog of tables.
pub struct Engine {
    storage: Arc<dyn Storage>,
    config: EngineConfig,
    /// Table metadata by name: a cache of the catalog records, checked by every write (see
    /// [`catalog`]).
    tables: RwLock<HashMap<String, catalog::CachedTable>>,
    /// Serializes this process's catalog changes (create/update/delete table, tags); the
    /// catalog's correctness does not depend on it (see [`ddl`]).
    ddl: Mutex<()>,
    /// The background worker's queue (dropped data, index backfills).
    worker: Mutex<Option<mpsc::Sender<jobs::Job>>>,
    /// Recent `ClientRequestToken`s of TransactWriteItems.
    idempotency: Mutex<transact::IdempotencyTokens>,
    /// Token buckets and throttling.
    governor: throughput::Governor,
}

impl Engine {
    /// Opens the engine on `storage`: checks (and if need be migrates) the database format,
    /// loads the catalog, and resumes background work a previous run left unfinished
    /// (dropped tables' data, index backfills).
    pub fn open(
        storage: Arc<dyn Storage>,
        config: EngineConfig,
    ) -> Result<Arc<Engine>, DynamoError> {
        let engine = Arc::new(Engine {
            storage,
            governor: throughput::Governor::new(config.capacity, config.clock.clone()),
            config,
            tables: RwLock::new(HashMap::new()),
            ddl: Mutex::new(()),
            worker: Mutex::new(None),
            idempotency: Mutex::new(transact::IdempotencyTokens::default()),
        });
        engine.write(prepare_format)?;
        let mut pending: Vec<jobs::Job> = Vec::new();
        {
            let snapshot = engine.storage.snapshot()?;
            let (start, end) = keys::table_meta_range();
            for entry in snapshot.range(
                Bound::Included(&start),
                Bound::Excluded(&end),
                Direction::Forward,
            )? {
                let (_, value) = entry?;
                let meta = Arc::new(catalog::decode_meta(&value)?);
                for index in &meta.global_indexes {
                    if index.status == schema::IndexStatus::Creating {
                        pending.push(jobs::Job::Backfill {
                            table: meta.name.clone(),
                            index_storage_id: index.storage_id,
                        });
                    }
                }
                engine.cache_table(meta);
            }
            let (start, end) = keys::dropped_table_range();
            for entry in snapshot.range(
                Bound::Included(&start),
                Bound::Excluded(&end),
                Direction::Forward,
            )? {
                let (key, _) = entry?;
                if let Some(id) = keys::dropped_table_id(&key) {
                    pending.insert(0, jobs::Job::Drop(id));
                }
            }
        }
        background::start(&engine, pending);
        Ok(engine)
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The engine clock's reading, in seconds since the Unix epoch with millisecond
    /// precision, as DynamoDB reports timestamps.
    pub fn now_epoch_seconds(&self) -> f64 {
        clock::epoch_seconds(self.config.clock.now())
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Capacity governing: modes, buckets, partitions (the admin API reads it).
    pub fn governor(&self) -> &throughput::Governor {
        &self.governor
    }

    /// `Err(reason)` when the engine cannot currently do its job (the storage reports a
    /// problem such as a full disk); the server's health answer says so.
    pub fn health(&self) -> Result<(), String> {
        self.storage.health()
    }

    /// Stops background work and makes everything durable. Called at shutdown.
    pub fn shutdown(&self) -> Result<(), DynamoError> {
        if let Ok(mut worker) = self.worker.lock() {
            worker.take();
        }
        self.storage.flush()?;
        Ok(())
    }
}

/// Makes sure the database is in the layout this build uses ([`records::FORMAT_VERSION`]):
/// a new database gets the version record; a format 0 database (round 1, no version
/// record) is migrated in this one transaction; a newer or unknown format is refused, so a
/// downgrade never misreads data.
fn prepare_format(txn: &mut dyn WriteTransaction) -> Result<(), DynamoError> {
    let version = match txn.get(&keys::format_version())? {
        Some(bytes) => records::decode_u32(&bytes, "format version record")?,
        None => {
            let empty = txn
                .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)?
                .next()
                .is_none();
            if !empty {
                migrate_from_format_0(txn)?;
            }
            txn.put(
                &keys::format_version(),
                &records::encode_u32(records::FORMAT_VERSION),
            )?;
            return Ok(());
        }
    };
    if version == records::FORMAT_VERSION {
        return Ok(());
    }
    Err(DynamoError::internal(format!(
        "the data directory holds database format version {version}, and this build of \
         Stator reads format {}: it was written by a newer Stator. Run that version (or a \
         later one), or start this one on another directory",
        records::FORMAT_VERSION
    )))
}

/// Format 0 → 1: every table gets generation 1 (metadata and generation record), and each
/// table's or index's single stats record becomes the share of writer slot 0.
fn migrate_from_format_0(txn: &mut dyn WriteTransaction) -> Result<(), DynamoError> {
    let (start, end) = keys::table_meta_range();
    let metas: Vec<schema::TableMeta> = txn
        .range(
            Bound::Included(&start),
            Bound::Excluded(&end),
            Direction::Forward,
        )?
        .map(|entry| {
            entry
                .map_err(DynamoError::from)
                .and_then(|(_, value)| catalog::decode_meta(&value))
        })
        .collect::<Result<_, _>>()?;
    for mut meta in metas {
        meta.generation = 0;
        catalog::store_meta(txn, &mut meta)?;
    }
    // Old stats keys are `00 's' <id>`: exactly the 6-byte prefix of the new ones.
    let prefix = [0x00, b's'];
    let old_stats: Vec<(Bytes, Bytes)> = txn
        .range(
            Bound::Included(&prefix[..]),
            Bound::Excluded(&[0x00, b's' + 1][..]),
            Direction::Forward,
        )?
        .filter(|entry| entry.as_ref().map_or(true, |(key, _)| key.len() == 6))
        .collect::<Result<_, _>>()?;
    for (key, value) in old_stats {
        let storage_id = keys::catalog_storage_id(&key)
            .ok_or_else(|| records::corrupt("statistics record key"))?;
        txn.delete(&key)?;
        txn.put(&keys::stats(storage_id, 0), &value)?;
    }
    Ok(())
}

#[cfg(test)]
mod layering {
    //! The engine's modules in the order they may use each other: each module uses only
    //! modules listed before it (the crate root, which wires them together, is exempt).
    //! Foundations (error, keys, schema, records, capacity, item checks), then the catalog,
    //! statistics, indexes, collections and the job queue, then the write path, then the
    //! operations, then the background worker.

    const ORDER: &[(&str, &str)] = &[
        ("clock", include_str!("clock.rs")),
        ("error", include_str!("error.rs")),
        ("keys", include_str!("keys.rs")),
        ("partitions", include_str!("partitions.rs")),
        ("schema", include_str!("schema.rs")),
        ("records", include_str!("records.rs")),
        ("capacity", include_str!("capacity.rs")),
        ("itemcheck", include_str!("itemcheck.rs")),
        ("catalog", include_str!("catalog.rs")),
        ("throughput", include_str!("throughput.rs")),
        ("stats", include_str!("stats.rs")),
        ("indexes", include_str!("indexes.rs")),
        ("collections", include_str!("collections.rs")),
        ("jobs", include_str!("jobs.rs")),
        ("write", include_str!("write.rs")),
        ("items", include_str!("items.rs")),
        ("batch", include_str!("batch.rs")),
        ("transact", include_str!("transact.rs")),
        ("target", include_str!("target.rs")),
        ("query", include_str!("query.rs")),
        ("ddl", include_str!("ddl.rs")),
        ("background", include_str!("background.rs")),
        ("dump", include_str!("dump.rs")),
    ];

    /// The names code (not comments) refers to as `crate::<name>`, including the names
    /// of a `use crate::{a, b::c}` group.
    fn crate_references(source: &str) -> Vec<String> {
        let code: String = source
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let ident = |text: &str| -> String {
            text.trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        let mut out = Vec::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let Some(group) = rest.strip_prefix('{') else {
                out.push(ident(rest));
                continue;
            };
            let mut depth = 0usize;
            let mut segment_start = 0usize;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth > 0 => depth -= 1,
                    '}' | ',' if depth == 0 => {
                        out.push(ident(&group[segment_start..i]));
                        segment_start = i + 1;
                        if c == '}' {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        out.retain(|name| !name.is_empty());
        out
    }

    #[test]
    fn modules_only_use_modules_below_them() {
        let position = |name: &str| ORDER.iter().position(|(m, _)| *m == name);
        let mut violations = Vec::new();
        for (i, (module, source)) in ORDER.iter().enumerate() {
            for used in crate_references(source) {
                if let Some(j) = position(&used) {
                    if j >= i && used != *module {
                        violations.push(format!("{module} uses {used}"));
                    }
                }
            }
        }
        assert!(violations.is_empty(), "upward module uses: {violations:?}");
    }

    #[test]
    fn the_reference_scanner_sees_groups_and_paths() {
        let refs = crate_references(
            "use crate::write::{self, Cause};\nuse crate::{keys, records::{a, b}, Engine};\n\
             let x = crate::ddl::f();",
        );
        assert_eq!(refs, ["write", "keys", "records", "Engine", "ddl"]);
    }
}
