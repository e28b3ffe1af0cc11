//! Stator's engine: DynamoDB semantics on top of the storage trait.
//!
//! The API layer hands the engine validated requests (plain Rust values, no JSON, no HTTP);
//! the engine finds the table in its catalog, checks keys and item limits, and performs every
//! write of one request in one storage write transaction. It knows nothing of the wire and
//! nothing of which storage backend it runs on.
//!
//! Life of a PutItem inside the engine ([`Engine::put_item`]):
//! 1. Look up the table in the in-memory catalog (`ResourceNotFoundException` if absent).
//! 2. Check the item's key attributes against the key schema (presence, type, non-empty,
//!    size limits), index key attributes against the index definitions, and the item size.
//! 3. Encode the storage key (`keys::item_key`) and the item (`stator_types::encode_item`).
//! 4. In one write transaction: read the old item, evaluate the request's condition against
//!    it (`ConditionalCheckFailedException` if it does not hold), write the new one, update
//!    the table's item count and size record, commit.
//! 5. Compute consumed capacity from the old and new sizes and return the old item when the
//!    request asked for it.
//!
//! Modules: [`catalog`] (tables: create, describe, list, update, delete, tags), [`items`]
//! (single-item reads and writes, conditions, updates, projections), [`keys`] (the byte
//! layout), [`capacity`], [`schema`] (table metadata), [`error`] (the client-facing error
//! type).

pub mod background;
pub mod batch;
pub mod capacity;
pub mod catalog;
pub mod error;
pub mod indexes;
pub mod items;
pub mod keys;
pub mod query;
pub mod schema;
pub mod transact;

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};

use stator_storage::{Direction, Storage};

pub use capacity::{CapacityKind, ConsumedCapacity, ReturnCapacity};
pub use error::{DynamoError, ErrorKind};

/// Settings that shape what the engine reports.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Account id used in ARNs.
    pub account_id: String,
    /// Largest item collection (bytes) of a table with local secondary indexes: DynamoDB's
    /// 10 GB. Configurable so tests can reach it.
    pub item_collection_limit: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            account_id: "000000000000".to_string(),
            item_collection_limit: 10 * (1 << 30),
        }
    }
}

/// The database: a storage backend plus the catalog of tables.
pub struct Engine {
    storage: Arc<dyn Storage>,
    config: EngineConfig,
    /// Table metadata by name, loaded at open and kept in step with the catalog keys.
    tables: RwLock<HashMap<String, Arc<schema::TableMeta>>>,
    /// Serializes catalog changes (create/update/delete table, tags) so that the check
    /// "does this table exist" and the change it guards happen as one step.
    ddl: Mutex<()>,
    /// The background worker's queue (dropped data, index backfills).
    worker: Mutex<Option<mpsc::Sender<background::Job>>>,
    /// Recent `ClientRequestToken`s of TransactWriteItems.
    idempotency: Mutex<transact::IdempotencyTokens>,
}

impl Engine {
    /// Opens the engine on `storage`: loads the catalog and resumes cleanup of tables that
    /// were dropped before a restart.
    pub fn open(
        storage: Arc<dyn Storage>,
        config: EngineConfig,
    ) -> Result<Arc<Engine>, DynamoError> {
        let mut tables = HashMap::new();
        let mut dropped = Vec::new();
        {
            let snapshot = storage.snapshot()?;
            let (start, end) = keys::table_meta_range();
            for entry in snapshot.range(
                std::ops::Bound::Included(&start),
                std::ops::Bound::Excluded(&end),
                Direction::Forward,
            )? {
                let (_, value) = entry?;
                let meta: schema::TableMeta = serde_json::from_slice(&value).map_err(|e| {
                    DynamoError::internal(format!("corrupt table metadata in storage: {e}"))
                })?;
                tables.insert(meta.name.clone(), Arc::new(meta));
            }
            let (start, end) = keys::dropped_table_range();
            for entry in snapshot.range(
                std::ops::Bound::Included(&start),
                std::ops::Bound::Excluded(&end),
                Direction::Forward,
            )? {
                let (key, _) = entry?;
                if let Some(id) = keys::dropped_table_id(&key) {
                    dropped.push(id);
                }
            }
        }
        let engine = Arc::new(Engine {
            storage,
            config,
            tables: RwLock::new(tables),
            ddl: Mutex::new(()),
            worker: Mutex::new(None),
            idempotency: Mutex::new(transact::IdempotencyTokens::default()),
        });
        let mut pending: Vec<background::Job> =
            dropped.into_iter().map(background::Job::Drop).collect();
        for meta in engine_tables(&engine) {
            for index in &meta.global_indexes {
                if index.status == schema::IndexStatus::Creating {
                    pending.push(background::Job::Backfill {
                        table: meta.name.clone(),
                        index_storage_id: index.storage_id,
                    });
                }
            }
        }
        background::start(&engine, pending);
        Ok(engine)
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The metadata of table `name`, or `None`.
    pub fn table(&self, name: &str) -> Option<Arc<schema::TableMeta>> {
        match self.tables.read() {
            Ok(tables) => tables.get(name).cloned(),
            Err(poisoned) => poisoned.into_inner().get(name).cloned(),
        }
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

fn engine_tables(engine: &Engine) -> Vec<Arc<schema::TableMeta>> {
    match engine.tables.read() {
        Ok(t) => t.values().cloned().collect(),
        Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
    }
}

/// Seconds since the Unix epoch with millisecond precision, as DynamoDB reports timestamps.
pub fn now_epoch_seconds() -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_millis() as f64) / 1000.0
}
