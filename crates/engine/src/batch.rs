//! BatchGetItem and BatchWriteItem.
//!
//! A batch is not a transaction, exactly as in DynamoDB: the whole request is validated
//! first (tables exist, every key and item is well-formed), then each write is applied on its
//! own in its own storage transaction (atomic per item, with indexes and statistics), and
//! each read sees the latest committed state. Stator never throttles, so nothing is ever
//! returned unprocessed by BatchWriteItem; BatchGetItem returns keys it did not read because
//! the response reached DynamoDB's 16 MB limit in `UnprocessedKeys`, in request form, so the
//! SDKs' retry loops work unchanged.

use std::sync::Arc;

use stator_expr::Projection;
use stator_types::{item_size, Item};

use crate::capacity::{read_units, write_units, CapacityKind, ConsumedCapacity, ReturnCapacity};
use crate::error::DynamoError;
use crate::indexes::IndexWrites;
use crate::items::{
    check_item, check_key, decode_stored, encode_stored, CollectionMetrics, NewItem,
};
use crate::keys;
use crate::schema::TableMeta;
use crate::Engine;

/// DynamoDB's limit on the response of one BatchGetItem.
pub const MAX_BATCH_GET_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// One table's part of a BatchGetItem, after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchGetTable {
    pub table: String,
    pub keys: Vec<Item>,
    pub projection: Option<Projection>,
    pub consistent: bool,
}

/// What BatchGetItem returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchGetOutput {
    /// Items found, per table, in request order of tables (tables with no item found are
    /// listed with an empty list, as DynamoDB does).
    pub responses: Vec<(String, Vec<Item>)>,
    /// Keys not read because of the response size limit, with their table's projection and
    /// consistency settings.
    pub unprocessed: Vec<BatchGetTable>,
    /// One entry per table, when asked for.
    pub consumed: Vec<ConsumedCapacity>,
}

/// One write of a BatchWriteItem.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchWrite {
    Put(Item),
    /// The key of the item to delete.
    Delete(Item),
}

/// One table's part of a BatchWriteItem, after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchWriteTable {
    pub table: String,
    pub writes: Vec<BatchWrite>,
}

/// What BatchWriteItem returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchWriteOutput {
    /// Always empty: Stator applies every write (it never throttles).
    pub unprocessed: Vec<BatchWriteTable>,
    /// One entry per table, when asked for.
    pub consumed: Vec<ConsumedCapacity>,
    /// Per table with local indexes, the collections written, when asked for.
    pub collection_metrics: Vec<(String, Vec<CollectionMetrics>)>,
}

/// Adds up the capacity one request consumed on one table and its indexes.
pub(crate) struct CapacityTally {
    pub table: String,
    pub units: f64,
    pub global: Vec<(String, f64)>,
    pub local: Vec<(String, f64)>,
    pub kind: CapacityKind,
}

impl CapacityTally {
    pub fn new(table: &str, kind: CapacityKind) -> Self {
        CapacityTally {
            table: table.to_string(),
            units: 0.0,
            global: Vec::new(),
            local: Vec::new(),
            kind,
        }
    }

    /// Adds index write units, scaled by `factor` (2 inside transactions).
    pub fn add_indexes(&mut self, writes: &IndexWrites, factor: f64) {
        fn add(list: &mut Vec<(String, f64)>, name: &str, units: f64) {
            match list.iter_mut().find(|(n, _)| n == name) {
                Some((_, total)) => *total += units,
                None => list.push((name.to_string(), units)),
            }
        }
        for (name, units) in &writes.global {
            add(&mut self.global, name, units * factor);
        }
        for (name, units) in &writes.local {
            add(&mut self.local, name, units * factor);
        }
    }

    pub fn into_consumed(self) -> ConsumedCapacity {
        ConsumedCapacity {
            table_name: self.table,
            table_units: self.units,
            kind: self.kind,
            global_indexes: self.global,
            local_indexes: self.local,
        }
    }
}

impl Engine {
    /// Looks up every table of a multi-table request before doing anything.
    pub(crate) fn tables_of<'a>(
        &self,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<Arc<TableMeta>>, DynamoError> {
        names.map(|name| self.data_table(name)).collect()
    }

    /// BatchGetItem: reads every key (tables must exist; keys are validated first). Each item
    /// is charged like a GetItem of it; once the response reaches 16 MB the remaining keys
    /// are returned unprocessed.
    pub fn batch_get(
        &self,
        tables: Vec<BatchGetTable>,
        return_capacity: ReturnCapacity,
    ) -> Result<BatchGetOutput, DynamoError> {
        let metas = self.tables_of(tables.iter().map(|t| t.table.as_str()))?;
        for (table, meta) in tables.iter().zip(&metas) {
            for key in &table.keys {
                check_key(meta, key)?;
            }
        }
        let snapshot = self.storage.snapshot()?;
        let mut out = BatchGetOutput::default();
        let mut response_bytes = 0usize;
        for (table, meta) in tables.into_iter().zip(&metas) {
            let mut items = Vec::new();
            let mut unprocessed = Vec::new();
            let mut tally = CapacityTally::new(&meta.name, CapacityKind::Read);
            for key in table.keys {
                if response_bytes >= MAX_BATCH_GET_RESPONSE_BYTES {
                    unprocessed.push(key);
                    continue;
                }
                let (pk, sk) = check_key(meta, &key)?;
                let stored = snapshot
                    .get(&keys::item_key(meta.storage_id, pk, sk))?
                    .map(|b| decode_stored(&b))
                    .transpose()?;
                let size = stored.as_ref().map_or(0, |s| s.size);
                tally.units += read_units(size, table.consistent);
                if let Some(stored) = stored {
                    response_bytes += size;
                    items.push(match &table.projection {
                        Some(p) => stator_expr::project(&p.0, &stored.item),
                        None => stored.item,
                    });
                }
            }
            out.responses.push((table.table.clone(), items));
            if !unprocessed.is_empty() {
                out.unprocessed.push(BatchGetTable {
                    table: table.table,
                    keys: unprocessed,
                    projection: table.projection,
                    consistent: table.consistent,
                });
            }
            if return_capacity != ReturnCapacity::None {
                out.consumed.push(tally.into_consumed());
            }
        }
        Ok(out)
    }

    /// BatchWriteItem: validates every write, then applies each in its own transaction.
    pub fn batch_write(
        &self,
        tables: Vec<BatchWriteTable>,
        return_capacity: ReturnCapacity,
        return_collection_metrics: bool,
    ) -> Result<BatchWriteOutput, DynamoError> {
        let metas = self.tables_of(tables.iter().map(|t| t.table.as_str()))?;
        for (table, meta) in tables.iter().zip(&metas) {
            for write in &table.writes {
                match write {
                    BatchWrite::Put(item) => {
                        check_item(meta, item)?;
                    }
                    BatchWrite::Delete(key) => {
                        check_key(meta, key)?;
                    }
                }
            }
        }
        let mut out = BatchWriteOutput::default();
        for (table, meta) in tables.into_iter().zip(&metas) {
            let mut tally = CapacityTally::new(&meta.name, CapacityKind::Write);
            let mut metrics = Vec::new();
            for write in &table.writes {
                let (key_item, new_item) = match write {
                    BatchWrite::Put(item) => (item, Some(item)),
                    BatchWrite::Delete(key) => (key, None),
                };
                let pk = key_item
                    .get(&meta.key_schema.partition.name)
                    .ok_or_else(|| DynamoError::internal("validated key lost its partition key"))?;
                let sk = meta
                    .key_schema
                    .sort
                    .as_ref()
                    .and_then(|s| key_item.get(&s.name));
                let storage_key = keys::item_key(meta.storage_id, pk, sk);
                let new_size = new_item.map(item_size);
                let encoded = new_item
                    .zip(new_size)
                    .map(|(i, size)| encode_stored(i, size));
                let mut txn = self.storage.begin_write()?;
                let old = txn
                    .get(&storage_key)?
                    .map(|b| decode_stored(&b))
                    .transpose()?;
                let old_size = old.as_ref().map_or(0, |o| o.size);
                let new = match (new_item, new_size, &encoded) {
                    (Some(item), Some(size), Some(encoded)) => Some(NewItem {
                        item,
                        size,
                        encoded,
                    }),
                    _ => None,
                };
                let applied = self.apply_change(
                    txn.as_mut(),
                    meta,
                    &storage_key,
                    pk,
                    old.as_ref(),
                    new,
                    return_collection_metrics,
                )?;
                txn.commit()?;
                tally.units += write_units(old_size, new_size.unwrap_or(0));
                tally.add_indexes(&applied.index_writes, 1.0);
                metrics.extend(applied.collection_metrics);
            }
            if return_capacity != ReturnCapacity::None {
                out.consumed.push(tally.into_consumed());
            }
            if !metrics.is_empty() {
                out.collection_metrics.push((table.table.clone(), metrics));
            }
        }
        Ok(out)
    }
}
