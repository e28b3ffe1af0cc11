//! Single-item operations: GetItem, PutItem, DeleteItem, UpdateItem.
//!
//! Each write is one run of `Engine::write`: inside the transaction it takes the table's
//! current metadata (generation-checked, see [`crate::catalog`]), reads the old item,
//! evaluates the request's condition against it, and hands the change to the one write
//! path ([`crate::write::apply`]: item, statistics, indexes, item collection), so a request
//! is applied entirely or not at all. Expressions arrive parsed, resolved and validated by
//! the API layer; this module only evaluates them (`stator_expr::{evaluate, apply_update,
//! project}`). What each request consumed is always computed.

use std::sync::Arc;

use stator_expr::{Condition, Projection, Update};
use stator_types::Item;

use crate::capacity::{read_units, write_units, CapacityKind, ConsumedCapacity};
use crate::collections::{self, CollectionMetrics};
use crate::error::DynamoError;
use crate::itemcheck::{check_item, check_key, check_update_spares_key, check_updated_size};
use crate::keys;
use crate::records::{decode_stored, encode_stored, stored_size, ReadItem};
use crate::schema::TableMeta;
use crate::write::{self, Cause, Change, ItemKey, NewItem, WritePlan};
use crate::Engine;

/// `ReturnValues` of a write, already checked against what the operation allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReturnValues {
    #[default]
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

/// What a write returns.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteOutput {
    /// `Attributes`, when ReturnValues asked for them and there are any.
    pub attributes: Option<Item>,
    /// What the write consumed (reported only if the client asked).
    pub consumed: ConsumedCapacity,
    /// The item collection's size, for tables with local secondary indexes (reported only
    /// with `ReturnItemCollectionMetrics=SIZE`).
    pub collection_metrics: Option<CollectionMetrics>,
}

/// What GetItem returns.
#[derive(Clone, Debug, PartialEq)]
pub struct GetOutput {
    pub item: Option<ReadItem>,
    pub consumed: ConsumedCapacity,
}

/// A PutItem request after validation.
#[derive(Clone, Debug, Default)]
pub struct PutRequest {
    pub table: String,
    pub item: Item,
    pub condition: Option<Condition>,
    pub return_values: ReturnValues,
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD`.
    pub return_old_on_failure: bool,
}

/// A DeleteItem request after validation.
#[derive(Clone, Debug, Default)]
pub struct DeleteRequest {
    pub table: String,
    pub key: Item,
    pub condition: Option<Condition>,
    pub return_values: ReturnValues,
    pub return_old_on_failure: bool,
}

/// An UpdateItem request after validation. (No `Default`: whether a missing item is created
/// must always be stated.)
#[derive(Clone, Debug)]
pub struct UpdateRequest {
    pub table: String,
    pub key: Item,
    /// `None` for an UpdateItem without update actions (it still creates the item).
    pub update: Option<Update>,
    /// Whether a missing item is created (DynamoDB's upsert). Only legacy `AttributeUpdates`
    /// made of DELETE actions alone leave a missing item missing.
    pub creates_missing_item: bool,
    pub condition: Option<Condition>,
    pub return_values: ReturnValues,
    pub return_old_on_failure: bool,
}

/// A GetItem request after validation.
#[derive(Clone, Debug, Default)]
pub struct GetRequest {
    pub table: String,
    pub key: Item,
    pub projection: Option<Projection>,
    pub consistent: bool,
}

/// Fails with `ConditionalCheckFailedException` unless `condition` holds for `old` (an
/// absent item is evaluated as an empty one, as DynamoDB does).
pub(crate) fn check_condition(
    condition: Option<&Condition>,
    old: Option<&Item>,
    return_old_on_failure: bool,
) -> Result<(), DynamoError> {
    let Some(condition) = condition else {
        return Ok(());
    };
    let empty = Item::new();
    if stator_expr::evaluate(condition, old.unwrap_or(&empty))? {
        return Ok(());
    }
    Err(DynamoError::conditional_check_failed(
        old.filter(|_| return_old_on_failure).cloned(),
    ))
}

impl Engine {
    /// The table for a data-plane read, or DynamoDB's not-found error: the cached metadata,
    /// or on a cache miss the stored record (cached then).
    pub fn data_table(&self, name: &str) -> Result<Arc<TableMeta>, DynamoError> {
        let meta = match self.table(name) {
            Some(meta) => meta,
            None => {
                let snapshot = self.storage.snapshot()?;
                self.table_in_snapshot(snapshot.as_ref(), name)?
                    .ok_or_else(DynamoError::table_not_found)?
            }
        };
        self.usable_for_data(meta)
    }

    /// PutItem: stores the item, replacing any item with the same key, if the condition
    /// holds.
    pub fn put_item(&self, req: PutRequest) -> Result<WriteOutput, DynamoError> {
        let planned = self
            .table(&req.table)
            .map(|meta| WritePlan::put(&meta, &req.item));
        self.write(|txn| {
            let meta = self.table_for_write(txn, &req.table)?;
            let fresh;
            let plan = match &planned {
                Some(Ok(plan)) if plan.made_for(&meta) => plan,
                _ => {
                    fresh = WritePlan::put(&meta, &req.item)?;
                    &fresh
                }
            };
            let hash = keys::hash_of(&plan.key);
            let old = txn.get(&plan.key)?.map(|b| decode_stored(&b)).transpose()?;
            check_condition(
                req.condition.as_ref(),
                old.as_ref().map(|o| &o.item),
                req.return_old_on_failure,
            )
            .map_err(|e| self.failed_write(&meta, old.as_ref(), hash, e))?;
            let mut applied = write::apply(
                txn,
                plan.change(&meta, old.as_ref(), Cause::User),
                self.config.item_collection_limit,
            )?;
            let collection_metrics = applied.collection.take();
            let consumed = applied.into_consumed(&meta.name);
            self.govern(&meta, &consumed, hash)?;
            Ok(WriteOutput {
                collection_metrics,
                attributes: match req.return_values {
                    ReturnValues::AllOld => old.map(|o| o.item),
                    _ => None,
                },
                consumed,
            })
        })
    }

    /// GetItem. Every read is served from the latest committed state, so eventually
    /// consistent reads are in fact strongly consistent; only their capacity differs. The
    /// capacity is charged on the whole item, whatever the projection returns.
    pub fn get_item(&self, req: GetRequest) -> Result<GetOutput, DynamoError> {
        let meta = self.data_table(&req.table)?;
        let (pk, sk) = check_key(&meta, &req.key)?;
        let storage_key = keys::item_key(meta.storage_id, pk, sk);
        let hash = keys::hash_of(&storage_key);
        let stored = {
            let snapshot = self.storage.snapshot()?;
            snapshot.get(&storage_key)?
        };
        let size = stored.as_deref().map(stored_size).transpose()?.unwrap_or(0);
        let item = match (stored, &req.projection) {
            (None, _) => None,
            (Some(bytes), None) => Some(ReadItem::Stored(bytes)),
            (Some(bytes), Some(projection)) => Some(ReadItem::Built(stator_expr::project(
                &projection.0,
                &decode_stored(&bytes)?.item,
            ))),
        };
        let consumed = ConsumedCapacity {
            table_units: read_units(size, req.consistent),
            ..ConsumedCapacity::zero(&meta.name, CapacityKind::Read)
        };
        self.govern(&meta, &consumed, hash)?;
        Ok(GetOutput { item, consumed })
    }

    /// DeleteItem: removes the item if the condition holds (deleting a missing item
    /// succeeds, and costs the minimum).
    pub fn delete_item(&self, req: DeleteRequest) -> Result<WriteOutput, DynamoError> {
        self.write(|txn| {
            let meta = self.table_for_write(txn, &req.table)?;
            let (pk, sk) = check_key(&meta, &req.key)?;
            let storage_key = keys::item_key(meta.storage_id, pk, sk);
            let hash = keys::hash_of(&storage_key);
            let old = txn
                .get(&storage_key)?
                .map(|b| decode_stored(&b))
                .transpose()?;
            check_condition(
                req.condition.as_ref(),
                old.as_ref().map(|o| &o.item),
                req.return_old_on_failure,
            )
            .map_err(|e| self.failed_write(&meta, old.as_ref(), hash, e))?;
            let mut applied = write::apply(
                txn,
                Change {
                    table: &meta,
                    key: ItemKey {
                        storage: &storage_key,
                        partition: pk,
                    },
                    old: old.as_ref(),
                    new: None,
                    cause: Cause::User,
                },
                self.config.item_collection_limit,
            )?;
            let collection_metrics = applied.collection.take();
            let consumed = applied.into_consumed(&meta.name);
            self.govern(&meta, &consumed, hash)?;
            Ok(WriteOutput {
                collection_metrics,
                attributes: match req.return_values {
                    ReturnValues::AllOld => old.map(|o| o.item),
                    _ => None,
                },
                consumed,
            })
        })
    }

    /// UpdateItem: applies the update to the existing item, or to a new item made of the key
    /// attributes when none exists (DynamoDB's upsert), if the condition holds.
    pub fn update_item(&self, req: UpdateRequest) -> Result<WriteOutput, DynamoError> {
        self.write(|txn| {
            let meta = self.table_for_write(txn, &req.table)?;
            let (pk, sk) = check_key(&meta, &req.key)?;
            if let Some(update) = &req.update {
                check_update_spares_key(&meta, update)?;
            }
            let storage_key = keys::item_key(meta.storage_id, pk, sk);
            let hash = keys::hash_of(&storage_key);
            let old_bytes = txn.get(&storage_key)?;
            let mut old = old_bytes.as_deref().map(decode_stored).transpose()?;
            check_condition(
                req.condition.as_ref(),
                old.as_ref().map(|o| &o.item),
                req.return_old_on_failure,
            )
            .map_err(|e| self.failed_write(&meta, old.as_ref(), hash, e))?;
            let old_size = old.as_ref().map_or(0, |o| o.size);
            if old.is_none() && !req.creates_missing_item {
                // Nothing is written, and DynamoDB reports no collection either.
                let consumed = ConsumedCapacity {
                    table_units: write_units(0, 0),
                    ..ConsumedCapacity::zero(&meta.name, CapacityKind::Write)
                };
                self.govern(&meta, &consumed, hash)?;
                return Ok(WriteOutput {
                    collection_metrics: None,
                    attributes: None,
                    consumed,
                });
            }
            // After the update the old item is read only by index maintenance and the
            // old-image return values; without those it becomes the new item instead of
            // being copied (write::apply then sees an old item with no attributes).
            let old_read_later = meta.writes_read_old_item()
                || matches!(
                    req.return_values,
                    ReturnValues::AllOld | ReturnValues::UpdatedOld
                );
            let mut new_item = match old.as_mut() {
                Some(existing) if old_read_later => existing.item.clone(),
                Some(existing) => std::mem::take(&mut existing.item),
                None => req.key.clone(),
            };
            let updated_paths = match &req.update {
                Some(update) => stator_expr::apply_update(update, &mut new_item)?,
                None => Vec::new(),
            };
            let new_size = check_updated_size(&new_item)?;
            check_item(&meta, &new_item)?;
            let encoded = encode_stored(&new_item, new_size);
            // The bytes already stored: the write would change nothing.
            let unchanged = old_bytes.as_deref() == Some(&encoded[..]);
            let (consumed, collection_metrics) = if unchanged {
                // Nothing to write; the write is still charged and its collection reported.
                let consumed = ConsumedCapacity {
                    table_units: write_units(old_size, new_size),
                    ..ConsumedCapacity::zero(&meta.name, CapacityKind::Write)
                };
                let metrics =
                    collections::update(txn, &meta, pk, 0, self.config.item_collection_limit)?;
                (consumed, metrics)
            } else {
                let mut applied = write::apply(
                    txn,
                    Change {
                        table: &meta,
                        key: ItemKey {
                            storage: &storage_key,
                            partition: pk,
                        },
                        old: old.as_ref(),
                        new: Some(NewItem {
                            item: &new_item,
                            size: new_size,
                            encoded: &encoded,
                        }),
                        cause: Cause::User,
                    },
                    self.config.item_collection_limit,
                )?;
                let metrics = applied.collection.take();
                (applied.into_consumed(&meta.name), metrics)
            };
            let attributes = match req.return_values {
                ReturnValues::None => None,
                ReturnValues::AllOld => old.map(|o| o.item),
                ReturnValues::AllNew => Some(new_item),
                ReturnValues::UpdatedOld => old
                    .map(|o| stator_expr::project(&updated_paths, &o.item))
                    .filter(|i| !i.is_empty()),
                ReturnValues::UpdatedNew => {
                    Some(stator_expr::project(&updated_paths, &new_item)).filter(|i| !i.is_empty())
                }
            };
            self.govern(&meta, &consumed, hash)?;
            Ok(WriteOutput {
                collection_metrics,
                attributes,
                consumed,
            })
        })
    }

    /// A write that failed its condition (`error`) is still charged the write units of
    /// the item it read, as DynamoDB charges it; one that finds no capacity left is a
    /// throttle instead, as DynamoDB refuses it before evaluating anything.
    pub(crate) fn failed_write(
        &self,
        meta: &TableMeta,
        old: Option<&crate::records::StoredItem>,
        hash: Option<u64>,
        error: DynamoError,
    ) -> DynamoError {
        let consumed = ConsumedCapacity {
            table_units: write_units(old.map_or(0, |o| o.size), 0),
            ..ConsumedCapacity::zero(&meta.name, CapacityKind::Write)
        };
        match self.govern(meta, &consumed, hash) {
            Err(throttle) => throttle,
            Ok(()) => error,
        }
    }
}
