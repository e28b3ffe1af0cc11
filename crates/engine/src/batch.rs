//! BatchGetItem and BatchWriteItem.
//!
//! A batch is not a transaction, exactly as in DynamoDB: the whole request is validated
//! first (tables exist, every key and item is well-formed), then each write is applied on
//! its own, in its own run of `Engine::write` (atomic per item, with indexes and
//! statistics, against the table's current metadata), and each read sees the latest
//! committed state.
//!
//! Once one write has committed, BatchWriteItem never fails: if a later write fails (a
//! storage error, a full disk, an item collection over its limit), that write and every
//! one after it are returned in `UnprocessedItems`, in request form, and the answer reports
//! what the writes done consumed; the failure is logged. The SDKs' retry loops then resend
//! them, and a write that fails again first is reported as the error it is. BatchGetItem
//! returns keys it did not read because the response reached DynamoDB's 16 MB limit in
//! `UnprocessedKeys`, the same way.

use std::collections::HashSet;
use std::sync::Arc;

use stator_expr::Projection;
use stator_types::Item;

use crate::capacity::{
    read_units, tally_for, CapacityKind, CapacityTally, ConsumedCapacity, IndexUnits,
};
use crate::collections::CollectionMetrics;
use crate::error::{DynamoError, ErrorKind};
use crate::itemcheck::{check_batch_put_key, check_key, duplicate_keys};
use crate::keys;
use crate::records::decode_stored;
use crate::schema::TableMeta;
use crate::write::{self, Cause, WritePlan};
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
    /// What was consumed, one entry per table.
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
    /// Writes not applied because an earlier one had committed and this one (or one before
    /// it) failed; empty when everything was written.
    pub unprocessed: Vec<BatchWriteTable>,
    /// What the writes done consumed, one entry per table of the request.
    pub consumed: Vec<ConsumedCapacity>,
    /// Per table with local indexes, the collections written.
    pub collection_metrics: Vec<(String, Vec<CollectionMetrics>)>,
}

impl Engine {
    /// Looks up every table of a multi-table request before doing anything.
    pub(crate) fn tables_of<'a>(
        &self,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<Arc<TableMeta>>, DynamoError> {
        names.map(|name| self.data_table(name)).collect()
    }

    /// BatchGetItem: reads every key. First, table by table in request order: the table
    /// exists, every key matches its key schema, and no key of the request names an item
    /// already named (the storage key identifies the table and the item with numbers
    /// normalised, so `1` and `1.0` are one key). Each item is charged like a GetItem of it;
    /// once the response reaches 16 MB the remaining keys are returned unprocessed.
    pub fn batch_get(&self, tables: Vec<BatchGetTable>) -> Result<BatchGetOutput, DynamoError> {
        let mut metas = Vec::with_capacity(tables.len());
        let mut seen = HashSet::new();
        for table in &tables {
            let meta = self.data_table(&table.table)?;
            let mut storage_keys = Vec::with_capacity(table.keys.len());
            for key in &table.keys {
                let (pk, sk) = check_key(&meta, key)?;
                storage_keys.push(keys::item_key(meta.storage_id, pk, sk));
            }
            for storage_key in storage_keys {
                if !seen.insert(storage_key) {
                    return Err(duplicate_keys());
                }
            }
            metas.push(meta);
        }
        let snapshot = self.storage.snapshot()?;
        let mut out = BatchGetOutput::default();
        let mut response_bytes = 0usize;
        // A key whose table (or partition) is out of read capacity is returned unprocessed;
        // if every key is, the request fails with the throttle.
        let mut throttle: Option<DynamoError> = None;
        let mut served = 0usize;
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
                let storage_key = keys::item_key(meta.storage_id, pk, sk);
                let hash = keys::hash_of(&storage_key);
                let stored = snapshot
                    .get(&storage_key)?
                    .map(|b| decode_stored(&b))
                    .transpose()?;
                let size = stored.as_ref().map_or(0, |s| s.size);
                let units = read_units(size, table.consistent);
                let one = ConsumedCapacity {
                    table_units: units,
                    ..ConsumedCapacity::zero(&meta.name, CapacityKind::Read)
                };
                if let Err(e) = self.govern(meta, &one, hash) {
                    throttle = Some(e);
                    unprocessed.push(key);
                    continue;
                }
                served += 1;
                tally.units += units;
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
            out.consumed.push(tally.into_consumed());
        }
        if served == 0 {
            if let Some(throttle) = throttle {
                return Err(throttle);
            }
        }
        Ok(out)
    }

    /// BatchWriteItem: checks every write, then applies each in its own transaction. The
    /// checks run table by table in request order: the table exists; each put carries the
    /// key attributes with the right types (worded as a schema mismatch in a batch), then
    /// PutItem's item checks; each delete key matches the key schema; no item of the request
    /// is written twice.
    pub fn batch_write(
        &self,
        tables: Vec<BatchWriteTable>,
    ) -> Result<BatchWriteOutput, DynamoError> {
        // The plans are reused by the writes unless the table's metadata changes meanwhile.
        let mut metas = Vec::with_capacity(tables.len());
        let mut plans: Vec<Vec<WritePlan<'_>>> = Vec::with_capacity(tables.len());
        let mut seen = HashSet::new();
        for table in &tables {
            let meta = self.data_table(&table.table)?;
            let mut table_plans = Vec::with_capacity(table.writes.len());
            for write in &table.writes {
                table_plans.push(match write {
                    BatchWrite::Put(item) => {
                        check_batch_put_key(&meta, item)?;
                        WritePlan::put(&meta, item)?
                    }
                    BatchWrite::Delete(key) => WritePlan::delete(&meta, key)?,
                });
            }
            for plan in &table_plans {
                if !seen.insert(plan.key.clone()) {
                    return Err(duplicate_keys());
                }
            }
            plans.push(table_plans);
            metas.push(meta);
        }
        let mut out = BatchWriteOutput::default();
        let mut tallies: Vec<CapacityTally> = metas
            .iter()
            .map(|m| CapacityTally::new(&m.name, CapacityKind::Write))
            .collect();
        let mut committed = 0usize;
        let mut failure: Option<(usize, usize, DynamoError)> = None;
        // Writes refused for capacity: returned unprocessed while the others go on; if no
        // write can be done the request fails with the throttle, as DynamoDB's does.
        let mut throttled: HashSet<(usize, usize)> = HashSet::new();
        let mut last_throttle: Option<DynamoError> = None;
        'tables: for (t, table) in tables.iter().enumerate() {
            for (w, request) in table.writes.iter().enumerate() {
                match self.batch_write_one(&table.table, request, &plans[t][w]) {
                    Ok((meta_name, consumed, metrics)) => {
                        committed += 1;
                        let tally = tally_for(&mut tallies, &meta_name, CapacityKind::Write);
                        tally.units += consumed.table_units;
                        tally.add_indexes(
                            &IndexUnits {
                                global: consumed.global_indexes,
                                local: consumed.local_indexes,
                            },
                            1.0,
                        );
                        if let Some(m) = metrics {
                            match out
                                .collection_metrics
                                .iter_mut()
                                .find(|(n, _)| *n == table.table)
                            {
                                Some((_, list)) => list.push(m),
                                None => out.collection_metrics.push((table.table.clone(), vec![m])),
                            }
                        }
                    }
                    Err(error) if error.kind == ErrorKind::ProvisionedThroughputExceeded => {
                        throttled.insert((t, w));
                        last_throttle = Some(error);
                    }
                    Err(error) if committed == 0 && throttled.is_empty() => return Err(error),
                    Err(error) => {
                        failure = Some((t, w, error));
                        break 'tables;
                    }
                }
            }
        }
        drop(plans);
        if committed == 0 && failure.is_none() {
            if let Some(throttle) = last_throttle {
                return Err(throttle);
            }
        }
        let failed_from = failure.map(|(t, w, error)| {
            tracing::warn!(
                error = %error,
                unprocessed_from_table = %tables[t].table,
                "a BatchWriteItem write failed after others had committed; the rest are returned unprocessed"
            );
            (t, w)
        });
        for (t, table) in tables.into_iter().enumerate() {
            let writes: Vec<BatchWrite> = table
                .writes
                .into_iter()
                .enumerate()
                .filter(|(w, _)| {
                    throttled.contains(&(t, *w)) || failed_from.is_some_and(|f| (t, *w) >= f)
                })
                .map(|(_, write)| write)
                .collect();
            if !writes.is_empty() {
                out.unprocessed.push(BatchWriteTable {
                    table: table.table,
                    writes,
                });
            }
        }
        out.consumed = tallies
            .into_iter()
            .map(CapacityTally::into_consumed)
            .collect();
        Ok(out)
    }

    /// One write of a batch in its own transaction, against the table's current metadata.
    fn batch_write_one(
        &self,
        table: &str,
        request: &BatchWrite,
        planned: &WritePlan<'_>,
    ) -> Result<(String, ConsumedCapacity, Option<CollectionMetrics>), DynamoError> {
        self.write(|txn| {
            let meta = self.table_for_write(txn, table)?;
            let fresh;
            let plan = if planned.made_for(&meta) {
                planned
            } else {
                fresh = match request {
                    BatchWrite::Put(item) => WritePlan::put(&meta, item)?,
                    BatchWrite::Delete(key) => WritePlan::delete(&meta, key)?,
                };
                &fresh
            };
            let hash = keys::hash_of(&plan.key);
            let old = txn.get(&plan.key)?.map(|b| decode_stored(&b)).transpose()?;
            let mut applied = write::apply(
                txn,
                plan.change(&meta, old.as_ref(), Cause::User),
                self.config.item_collection_limit,
            )?;
            let metrics = applied.collection.take();
            let consumed = applied.into_consumed(&meta.name);
            self.govern(&meta, &consumed, hash)?;
            Ok((meta.name.clone(), consumed, metrics))
        })
    }
}
