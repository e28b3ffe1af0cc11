//! The catalog: each table's metadata record, its generation, and the in-memory cache of
//! both.
//!
//! A table's metadata (`keys::table_meta`, JSON of [`TableMeta`]) changes only through DDL
//! ([`crate::ddl`]), which writes it together with the table's generation record
//! (`keys::table_generation`), one higher each time, in one transaction ([`store_meta`]).
//! The cache maps names to the metadata last seen, and may be stale: another front end of a
//! shared database, or a DDL that committed a moment ago, may have changed the table. So a
//! write never trusts it blindly: inside its own transaction it reads the generation record
//! and compares (`Engine::current_table_for_write`); on a mismatch it re-reads the metadata in that
//! same transaction and refreshes the cache. A write therefore always maintains exactly the
//! indexes the committed catalog defines, and a write racing a DeleteTable either commits
//! before it (and its items are then deleted with the table) or sees the table gone.
//! On a shared database the generation read also makes a concurrent DDL and the write
//! conflict, so one of them is retried.
//!
//! Where the storage serializes writers in one process (memory, disk), that read is
//! skipped when it cannot tell anything new: every catalog change advances the storage's
//! writers' epoch inside its transaction ([`store_meta`], [`delete_meta`]), and a cached
//! entry remembers the epoch at which a write transaction last found it current. A later
//! write that sees the same epoch, under the same writer lock, knows no catalog change has
//! run since (nor can one run before it commits), so the entry is still the committed
//! state. Any catalog change, of any table and from any engine over the storage, moves the
//! epoch on, and the next write of each table pays one generation read again. The epoch
//! lives in the storage, not in the engine, so two engines over one storage (as the race
//! tests run) still see each other's changes.
//!
//! Reads (GetItem, Query, Scan, DescribeTable) use the cache as is: in one process it is
//! updated right after every DDL commits. A read that misses the cache loads the table
//! from its snapshot and caches it, but never removes an entry: its snapshot may predate
//! a table that a DDL created and cached meanwhile (that eviction made the DDL's own
//! engine forget a table it had just created, about once in 20-40 runs of the race tests).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};
use stator_storage::{Reader, WriteTransaction};

use crate::error::DynamoError;
use crate::keys;
use crate::records::{decode_generation, decode_u32, encode_generation, encode_u32};
use crate::schema::TableMeta;
use crate::Engine;

/// Decodes a metadata record.
pub fn decode_meta(bytes: &[u8]) -> Result<TableMeta, DynamoError> {
    serde_json::from_slice(bytes)
        .map_err(|e| DynamoError::internal(format!("corrupt table metadata in storage: {e}")))
}

/// The metadata of `name` as `reader` sees it.
pub fn load_meta(reader: &dyn Reader, name: &str) -> Result<Option<TableMeta>, DynamoError> {
    reader
        .get(&keys::table_meta(name))?
        .map(|bytes| decode_meta(&bytes))
        .transpose()
}

/// The generation record of a table, `None` once the table is dropped.
pub fn load_generation(reader: &dyn Reader, storage_id: u32) -> Result<Option<u64>, DynamoError> {
    reader
        .get(&keys::table_generation(storage_id))?
        .map(|bytes| decode_generation(&bytes))
        .transpose()
}

/// Writes a changed table's metadata with the next generation (set in `meta`).
pub fn store_meta(txn: &mut dyn WriteTransaction, meta: &mut TableMeta) -> Result<(), DynamoError> {
    meta.generation += 1;
    // Every change that can alter throughput (or add an index) passes here.
    meta.settle_partitions();
    let encoded = serde_json::to_vec(&*meta)
        .map_err(|e| DynamoError::internal(format!("cannot encode table metadata: {e}")))?;
    txn.put(&keys::table_meta(&meta.name), &encoded)?;
    txn.put(
        &keys::table_generation(meta.storage_id),
        &encode_generation(meta.generation),
    )?;
    txn.advance_writer_epoch();
    Ok(())
}

/// Removes a table's metadata and generation records (DeleteTable).
pub fn delete_meta(txn: &mut dyn WriteTransaction, meta: &TableMeta) -> Result<(), DynamoError> {
    txn.delete(&keys::table_meta(&meta.name))?;
    txn.delete(&keys::table_generation(meta.storage_id))?;
    txn.advance_writer_epoch();
    Ok(())
}

/// A table deleted while transient statuses are delayed, shown `DELETING` by DescribeTable
/// and ListTables until `until` (engine-clock seconds); its name cannot be reused until
/// then. Its data is dropped in the background at once, like any deleted table's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeletingTable {
    pub meta: TableMeta,
    pub until: f64,
}

/// The deleting-table record of `name`, if any (expired or not).
pub fn load_deleting(
    reader: &dyn Reader,
    name: &str,
) -> Result<Option<DeletingTable>, DynamoError> {
    reader
        .get(&keys::deleting_table(name))?
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|e| {
                DynamoError::internal(format!("corrupt deleting-table record in storage: {e}"))
            })
        })
        .transpose()
}

/// Writes a deleting-table record.
pub fn store_deleting(
    txn: &mut dyn WriteTransaction,
    deleting: &DeletingTable,
) -> Result<(), DynamoError> {
    let encoded = serde_json::to_vec(deleting)
        .map_err(|e| DynamoError::internal(format!("cannot encode deleting table: {e}")))?;
    txn.put(&keys::deleting_table(&deleting.meta.name), &encoded)?;
    Ok(())
}

/// The names of the tables still shown `DELETING` at `now`.
pub fn deleting_names(reader: &dyn Reader, now: f64) -> Result<Vec<String>, DynamoError> {
    let (start, end) = keys::deleting_table_range();
    let mut names = Vec::new();
    for entry in reader.range(
        std::ops::Bound::Included(&start),
        std::ops::Bound::Excluded(&end),
        stator_storage::Direction::Forward,
    )? {
        let (_, value) = entry?;
        let deleting: DeletingTable = serde_json::from_slice(&value).map_err(|e| {
            DynamoError::internal(format!("corrupt deleting-table record in storage: {e}"))
        })?;
        if now < deleting.until {
            names.push(deleting.meta.name);
        }
    }
    Ok(names)
}

/// Reserves `count` consecutive storage ids (for a table and its indexes) from the
/// never-reused counter, inside the caller's transaction, and returns the first.
pub fn allocate_storage_ids(
    txn: &mut dyn WriteTransaction,
    count: u32,
) -> Result<u32, DynamoError> {
    let first = match txn.get(&keys::next_storage_id())? {
        Some(bytes) => decode_u32(&bytes, "table id counter")?,
        None => 1,
    };
    let next = first
        .checked_add(count)
        .ok_or_else(|| DynamoError::internal("storage id space exhausted"))?;
    txn.put(&keys::next_storage_id(), &encode_u32(next))?;
    Ok(first)
}

/// Whether `a` describes a later state of a table than `b`: a table recreated under the
/// same name has a larger storage id (ids are never reused), a changed one a larger
/// generation.
fn newer(a: &TableMeta, b: &TableMeta) -> bool {
    (a.storage_id, a.generation) > (b.storage_id, b.generation)
}

/// Parses `arn:aws:dynamodb:<region>:<account>:table/<name>` into the table name.
pub fn table_name_from_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    if parts.next()? != "dynamodb" {
        return None;
    }
    let _region = parts.next()?;
    let _account = parts.next()?;
    let resource = parts.next()?;
    let name = resource.strip_prefix("table/")?;
    // Index or stream ARNs are not table ARNs.
    if name.is_empty() || name.contains('/') {
        return None;
    }
    Some(name)
}

/// A cached table: its metadata and the writers' epoch at which a write transaction last
/// found it to be the committed state (`None`: not known to be current).
#[derive(Clone)]
pub(crate) struct CachedTable {
    meta: Arc<TableMeta>,
    verified: Option<u64>,
}

/// Whether `a` and `b` describe the same state of a table.
fn same_state(a: &TableMeta, b: &TableMeta) -> bool {
    (a.storage_id, a.generation) == (b.storage_id, b.generation)
}

impl Engine {
    fn cache(&self) -> RwLockReadGuard<'_, HashMap<String, CachedTable>> {
        // The map is only ever replaced entry by entry; a panic elsewhere cannot tear it.
        self.tables.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn cache_mut(&self) -> RwLockWriteGuard<'_, HashMap<String, CachedTable>> {
        self.tables.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached metadata of table `name`, or `None`. Fine for reads; a write uses
    /// `Engine::current_table_for_write`.
    pub fn table(&self, name: &str) -> Option<Arc<TableMeta>> {
        self.cache().get(name).map(|cached| cached.meta.clone())
    }

    /// The cached table names.
    pub(crate) fn cached_names(&self) -> Vec<String> {
        self.cache().keys().cloned().collect()
    }

    /// Caches `meta` unless the cache already holds a later state of the table.
    pub(crate) fn cache_table(&self, meta: Arc<TableMeta>) {
        self.cache_table_as(meta, None);
    }

    /// Caches `meta`, found current at writers' epoch `verified` if that is `Some`, unless
    /// the cache already holds a later state. An entry for the same state keeps its
    /// metadata and takes the newer knowledge of when it was current.
    fn cache_table_as(&self, meta: Arc<TableMeta>, verified: Option<u64>) {
        let mut cache = self.cache_mut();
        match cache.get_mut(&meta.name) {
            Some(current) if same_state(&meta, &current.meta) => {
                if verified.is_some() {
                    current.verified = verified;
                }
            }
            Some(current) if !newer(&meta, &current.meta) => {}
            _ => {
                cache.insert(meta.name.clone(), CachedTable { meta, verified });
            }
        }
    }

    /// Forgets table `name` if the cache holds exactly the state `gone` (or older), so a
    /// later state cached meanwhile survives.
    pub(crate) fn uncache_table(&self, name: &str, gone: Option<&TableMeta>) {
        let mut cache = self.cache_mut();
        let keep = match (cache.get(name), gone) {
            (Some(current), Some(gone)) => newer(&current.meta, gone),
            // Nothing was cached when the caller looked: whatever is there now is newer.
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !keep {
            cache.remove(name);
        }
    }

    /// The metadata of table `name` in the snapshot `snapshot` (`None` if no such table),
    /// for a read that missed the cache; cached unless the cache holds a later state.
    /// Never removes a cached entry: the snapshot may be older than the cache (a table
    /// created and cached after the snapshot was taken must stay cached).
    pub(crate) fn table_in_snapshot(
        &self,
        snapshot: &dyn Reader,
        name: &str,
    ) -> Result<Option<Arc<TableMeta>>, DynamoError> {
        Ok(load_meta(snapshot, name)?.map(|meta| {
            let meta = Arc::new(meta);
            self.cache_table(meta.clone());
            meta
        }))
    }

    /// The metadata of table `name` as committed in the state `txn` sees (`None` if no
    /// such table): the cached copy when its generation is the stored one, else the stored
    /// record, which then replaces the cached copy. Where the storage keeps a writers'
    /// epoch, a cached copy already found current at that epoch is returned without
    /// reading storage (see the module documentation).
    pub(crate) fn current_table_for_write(
        &self,
        txn: &dyn WriteTransaction,
        name: &str,
    ) -> Result<Option<Arc<TableMeta>>, DynamoError> {
        let epoch = txn.writer_epoch();
        let reader: &dyn Reader = txn;
        let cached = self.cache().get(name).cloned();
        if let Some(CachedTable { meta, verified }) = &cached {
            if epoch.is_some() && *verified == epoch {
                return Ok(Some(meta.clone()));
            }
            if load_generation(reader, meta.storage_id)? == Some(meta.generation) {
                if epoch.is_some() {
                    self.cache_table_as(meta.clone(), epoch);
                }
                return Ok(Some(meta.clone()));
            }
        }
        match load_meta(reader, name)? {
            Some(meta) => {
                let meta = Arc::new(meta);
                self.cache_table_as(meta.clone(), epoch);
                Ok(Some(meta))
            }
            None => {
                self.uncache_table(name, cached.as_ref().map(|c| &*c.meta));
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_arns_parse_and_other_arns_do_not() {
        assert_eq!(
            table_name_from_arn("arn:aws:dynamodb:us-east-1:000000000000:table/Music"),
            Some("Music")
        );
        assert_eq!(
            table_name_from_arn("arn:aws:dynamodb:us-east-1:0:table/Music/index/g"),
            None
        );
        assert_eq!(table_name_from_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(table_name_from_arn("Music"), None);
    }
}
