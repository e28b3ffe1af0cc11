//! Single-item reads and writes: GetItem, PutItem, DeleteItem, UpdateItem.
//!
//! Each write is one storage write transaction that reads the old item, evaluates the
//! request's condition against it, writes the new item (or deletes it) and adjusts the
//! table's item-count/size record, so a request is applied entirely or not at all, and
//! concurrent conditional writers never lose each other's updates (write transactions are
//! serialized by the storage layer). Expressions arrive parsed, resolved and validated by the
//! API layer; this module only evaluates them (`stator_expr::{evaluate, apply_update,
//! project}`).
//!
//! Stored item values are `<item size: u32 LE> <item: stator_types::itemcodec>`. The size is
//! DynamoDB's item size, kept so that capacity and statistics never need to re-measure the
//! old item.

use std::sync::Arc;

use stator_expr::{Condition, Name, Path, PathElement, Projection, Update};
use stator_types::{
    decode_item, encode_item, item_size, write_item_json, AttributeValue, Item, MAX_ITEM_SIZE,
};

use crate::capacity::{read_units, write_units, CapacityKind, ConsumedCapacity, ReturnCapacity};
use crate::error::DynamoError;
use crate::indexes::{self, adjust_stats, IndexWrites};
use crate::keys;
use crate::schema::{KeyAttribute, TableMeta};
use crate::Engine;

/// DynamoDB's limit on the bytes of a partition key value.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// DynamoDB's limit on the bytes of a sort key value.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteOutput {
    /// `Attributes`, when ReturnValues asked for them and there are any.
    pub attributes: Option<Item>,
    pub consumed: Option<ConsumedCapacity>,
    /// `ItemCollectionMetrics`, for tables with local secondary indexes when asked for.
    pub collection_metrics: Option<CollectionMetrics>,
}

/// `ItemCollectionMetrics`: which collection, and its size estimate in GB.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectionMetrics {
    /// The partition key attribute and value.
    pub key: Item,
    /// `SizeEstimateRangeGB`: lower and upper bound.
    pub size_range_gb: (f64, f64),
}

/// Brings the size record of the item collection of `pk` up to date (tables with local
/// secondary indexes only) and enforces DynamoDB's limit on it. Returns the metrics when the
/// request asked for them.
fn update_collection(
    txn: &mut dyn stator_storage::WriteTransaction,
    meta: &TableMeta,
    pk: &AttributeValue,
    delta: i64,
    limit: u64,
    want_metrics: bool,
) -> Result<Option<CollectionMetrics>, DynamoError> {
    if meta.local_indexes.is_empty() {
        return Ok(None);
    }
    let key = keys::collection_key(meta.storage_id, pk);
    let current = txn
        .get(&key)?
        .and_then(|b| b.as_slice().try_into().ok().map(i64::from_be_bytes))
        .unwrap_or(0);
    let size = (current + delta).max(0);
    if delta > 0 && size as u64 > limit {
        return Err(DynamoError::new(
            crate::ErrorKind::ItemCollectionSizeLimitExceeded,
            "Collection size exceeded.",
        ));
    }
    if delta != 0 {
        if size == 0 {
            txn.delete(&key)?;
        } else {
            txn.put(&key, &size.to_be_bytes())?;
        }
    }
    Ok(want_metrics.then(|| {
        let gb = size as f64 / (1u64 << 30) as f64;
        let lower = gb.floor();
        CollectionMetrics {
            key: Item::from([(meta.key_schema.partition.name.clone(), pk.clone())]),
            size_range_gb: (lower, lower + 1.0),
        }
    }))
}

/// What GetItem returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GetOutput {
    pub item: Option<ReadItem>,
    pub consumed: Option<ConsumedCapacity>,
}

/// An item a read returns. An item that goes out whole stays in its stored form and is
/// written to the response straight from those bytes (`write_json`), without being
/// decoded into an attribute map; only items the read had to build (projections, an LSI
/// entry completed from the table) are `Built`.
#[derive(Clone, Debug)]
pub enum ReadItem {
    /// A value as storage holds it: the 4-byte size, then the item's encoding.
    Stored(Vec<u8>),
    Built(Item),
}

impl ReadItem {
    /// Appends the item's DynamoDB JSON to `out` (on an error, `out` holds a partial
    /// answer that must be discarded).
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), DynamoError> {
        match self {
            ReadItem::Stored(bytes) => {
                let encoded = bytes.get(4..).ok_or_else(corrupt_item)?;
                write_item_json(encoded, out).map_err(|_| corrupt_item())
            }
            ReadItem::Built(item) => {
                stator_types::jsonout::write_item(out, item);
                Ok(())
            }
        }
    }

    /// The item's attributes.
    pub fn to_item(&self) -> Result<Item, DynamoError> {
        match self {
            ReadItem::Stored(bytes) => decode_stored(bytes).map(|s| s.item),
            ReadItem::Built(item) => Ok(item.clone()),
        }
    }
}

/// Two read items are equal when they hold the same attributes, whatever their form.
impl PartialEq for ReadItem {
    fn eq(&self, other: &Self) -> bool {
        match (self.to_item(), other.to_item()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// A stored item: its DynamoDB size and its attributes.
pub(crate) struct StoredItem {
    pub(crate) size: usize,
    pub(crate) item: Item,
}

pub(crate) fn encode_stored(item: &Item, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 16);
    // Items are at most 400 KB, so the size always fits in u32.
    out.extend_from_slice(&(size as u32).to_le_bytes());
    encode_item(item, &mut out);
    out
}

fn corrupt_item() -> DynamoError {
    DynamoError::internal("corrupt item in storage")
}

/// The DynamoDB size recorded in front of a stored item.
pub(crate) fn stored_size(bytes: &[u8]) -> Result<usize, DynamoError> {
    let size_bytes: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt_item)?;
    Ok(u32::from_le_bytes(size_bytes) as usize)
}

pub(crate) fn decode_stored(bytes: &[u8]) -> Result<StoredItem, DynamoError> {
    let size = stored_size(bytes)?;
    let item = decode_item(&bytes[4..]).map_err(|_| corrupt_item())?;
    Ok(StoredItem { size, item })
}

fn key_type_error(attr: &KeyAttribute, actual: &AttributeValue) -> DynamoError {
    DynamoError::invalid_parameter(format!(
        "Type mismatch for key {} expected: {} actual: {}",
        attr.name,
        attr.attr_type.as_str(),
        actual.type_name()
    ))
}

/// Rejects empty string/binary key values with DynamoDB's message.
pub fn check_not_empty(attr: &KeyAttribute, value: &AttributeValue) -> Result<(), DynamoError> {
    let kind = match value {
        AttributeValue::S(s) if s.is_empty() => "string",
        AttributeValue::B(b) if b.is_empty() => "binary",
        _ => return Ok(()),
    };
    Err(DynamoError::validation(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute \
         cannot contain an empty {kind} value. Key: {}",
        attr.name
    )))
}

fn key_value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        other => stator_types::value_size(other),
    }
}

fn check_key_sizes(pk: &AttributeValue, sk: Option<&AttributeValue>) -> Result<(), DynamoError> {
    if key_value_size(pk) > MAX_PARTITION_KEY_BYTES {
        // DynamoDB's text really has no space in "of2048".
        return Err(DynamoError::invalid_parameter(
            "Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if sk.is_some_and(|sk| key_value_size(sk) > MAX_SORT_KEY_BYTES) {
        return Err(DynamoError::invalid_parameter(
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// DynamoDB's message for a `Key` that does not match the table's key schema.
pub(crate) const KEY_MISMATCH: &str = "The provided key element does not match the schema";

/// Validates a `Key` parameter (GetItem, DeleteItem, UpdateItem): exactly the table's key
/// attributes, of the right types, non-empty, within size limits.
pub fn check_key<'a>(
    meta: &TableMeta,
    key: &'a Item,
) -> Result<(&'a AttributeValue, Option<&'a AttributeValue>), DynamoError> {
    let mismatch = || DynamoError::validation(KEY_MISMATCH);
    let expected = 1 + usize::from(meta.key_schema.sort.is_some());
    if key.len() != expected {
        return Err(mismatch());
    }
    let mut values = [None, None];
    for (slot, attr) in meta.key_schema.attributes().enumerate() {
        let value = key.get(&attr.name).ok_or_else(mismatch)?;
        if !attr.attr_type.matches(value) {
            return Err(mismatch());
        }
        values[slot] = Some(value);
    }
    for (attr, value) in meta.key_schema.attributes().zip(values.iter().flatten()) {
        check_not_empty(attr, value)?;
    }
    let pk = values[0].ok_or_else(mismatch)?;
    check_key_sizes(pk, values[1])?;
    Ok((pk, values[1]))
}

/// Validates a whole item to be stored: key attributes present and well-typed, index key
/// attributes well-typed and non-empty where present, item size within the limit.
pub fn check_item<'a>(
    meta: &TableMeta,
    item: &'a Item,
) -> Result<(&'a AttributeValue, Option<&'a AttributeValue>, usize), DynamoError> {
    let mut values = [None, None];
    for (slot, attr) in meta.key_schema.attributes().enumerate() {
        let value = item.get(&attr.name).ok_or_else(|| {
            DynamoError::invalid_parameter(format!("Missing the key {} in the item", attr.name))
        })?;
        if !attr.attr_type.matches(value) {
            return Err(key_type_error(attr, value));
        }
        check_not_empty(attr, value)?;
        values[slot] = Some(value);
    }
    for index in meta.global_indexes.iter().chain(&meta.local_indexes) {
        for attr in index.key_schema.attributes() {
            let Some(value) = item.get(&attr.name) else {
                continue;
            };
            if !attr.attr_type.matches(value) {
                return Err(DynamoError::invalid_parameter(format!(
                    "Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attr.name,
                    attr.attr_type.as_str(),
                    value.type_name(),
                    index.name
                )));
            }
            let kind = match value {
                AttributeValue::S(s) if s.is_empty() => "string",
                AttributeValue::B(b) if b.is_empty() => "binary",
                _ => continue,
            };
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. A value specified for a secondary \
                 index key is not supported. The AttributeValue for a key attribute cannot \
                 contain an empty {kind} value. IndexName: {}, IndexKey: {}",
                index.name, attr.name
            )));
        }
    }
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    let pk = values[0].ok_or_else(|| DynamoError::internal("key schema without partition key"))?;
    check_key_sizes(pk, values[1])?;
    Ok((pk, values[1], size))
}

fn consumed(
    meta: &TableMeta,
    wanted: ReturnCapacity,
    units: f64,
    kind: CapacityKind,
) -> Option<ConsumedCapacity> {
    consumed_with_indexes(meta, wanted, units, kind, IndexWrites::default())
}

/// Capacity of a write that also wrote index entries: each index is charged for its own
/// entry writes, as DynamoDB does.
fn consumed_with_indexes(
    meta: &TableMeta,
    wanted: ReturnCapacity,
    units: f64,
    kind: CapacityKind,
    index_writes: IndexWrites,
) -> Option<ConsumedCapacity> {
    (wanted != ReturnCapacity::None).then(|| ConsumedCapacity {
        table_name: meta.name.clone(),
        table_units: units,
        kind,
        global_indexes: index_writes.global,
        local_indexes: index_writes.local,
    })
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
    pub return_capacity: ReturnCapacity,
    /// `ReturnItemCollectionMetrics=SIZE`.
    pub return_collection_metrics: bool,
}

/// A DeleteItem request after validation.
#[derive(Clone, Debug, Default)]
pub struct DeleteRequest {
    pub table: String,
    pub key: Item,
    pub condition: Option<Condition>,
    pub return_values: ReturnValues,
    pub return_old_on_failure: bool,
    pub return_capacity: ReturnCapacity,
    /// `ReturnItemCollectionMetrics=SIZE`.
    pub return_collection_metrics: bool,
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
    pub return_capacity: ReturnCapacity,
    /// `ReturnItemCollectionMetrics=SIZE`.
    pub return_collection_metrics: bool,
}

/// A GetItem request after validation.
#[derive(Clone, Debug, Default)]
pub struct GetRequest {
    pub table: String,
    pub key: Item,
    pub projection: Option<Projection>,
    pub consistent: bool,
    pub return_capacity: ReturnCapacity,
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

fn first_name(path: &Path) -> Option<&str> {
    match path.0.first() {
        Some(PathElement::Attribute(Name::Literal(name))) => Some(name),
        _ => None,
    }
}

/// DynamoDB refuses any update action on a key attribute, before looking at the item.
pub(crate) fn check_update_spares_key(
    meta: &TableMeta,
    update: &Update,
) -> Result<(), DynamoError> {
    let paths = update
        .set
        .iter()
        .map(|(p, _)| p)
        .chain(update.remove.iter())
        .chain(update.add.iter().map(|(p, _)| p))
        .chain(update.delete.iter().map(|(p, _)| p));
    for path in paths {
        if let Some(name) = first_name(path) {
            if meta.key_schema.attributes().any(|k| k.name == name) {
                return Err(DynamoError::invalid_parameter(format!(
                    "Cannot update attribute {name}. This attribute is part of the key"
                )));
            }
        }
    }
    Ok(())
}

/// The new state of an item for [`Engine::apply_change`], already encoded (outside the
/// write lock where possible).
pub(crate) struct NewItem<'a> {
    pub item: &'a Item,
    pub size: usize,
    pub encoded: &'a [u8],
}

/// What applying one item change did besides writing the item.
pub(crate) struct Applied {
    pub index_writes: IndexWrites,
    pub collection_metrics: Option<CollectionMetrics>,
}

impl Engine {
    /// Replaces the item at `key` (whose old state is `old`) by `new`, or deletes it when
    /// `new` is `None`, inside `txn`: the item, the table's stats record, every maintained
    /// index and, for tables with local indexes, the item collection's size (with its limit).
    /// Every write path — single items, batches, transactions — goes through here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply_change(
        &self,
        txn: &mut dyn stator_storage::WriteTransaction,
        meta: &TableMeta,
        key: &[u8],
        pk: &AttributeValue,
        old: Option<&StoredItem>,
        new: Option<NewItem<'_>>,
        want_metrics: bool,
    ) -> Result<Applied, DynamoError> {
        let old_size = old.map_or(0, |o| o.size as i64);
        let new_size = new.as_ref().map_or(0, |n| n.size as i64);
        match &new {
            Some(n) => txn.put(key, n.encoded)?,
            None if old.is_some() => txn.delete(key)?,
            None => {}
        }
        adjust_stats(
            txn,
            meta.storage_id,
            i64::from(new.is_some()) - i64::from(old.is_some()),
            new_size - old_size,
        )?;
        let index_writes = indexes::maintain(
            txn,
            meta,
            old.map(|o| &o.item),
            new.as_ref().map(|n| n.item),
        )?;
        let collection_metrics = update_collection(
            txn,
            meta,
            pk,
            new_size - old_size + index_writes.local_bytes_delta,
            self.config.item_collection_limit,
            want_metrics,
        )?;
        Ok(Applied {
            index_writes,
            collection_metrics,
        })
    }

    /// Item-collection metrics without a change (a write that changed nothing).
    pub(crate) fn collection_metrics_unchanged(
        &self,
        txn: &mut dyn stator_storage::WriteTransaction,
        meta: &TableMeta,
        pk: &AttributeValue,
        want_metrics: bool,
    ) -> Result<Option<CollectionMetrics>, DynamoError> {
        update_collection(
            txn,
            meta,
            pk,
            0,
            self.config.item_collection_limit,
            want_metrics,
        )
    }

    /// The table for a data-plane request, or DynamoDB's not-found error.
    pub fn data_table(&self, name: &str) -> Result<Arc<TableMeta>, DynamoError> {
        self.table(name).ok_or_else(DynamoError::table_not_found)
    }

    /// PutItem: stores the item, replacing any item with the same key, if the condition
    /// holds.
    pub fn put_item(&self, req: PutRequest) -> Result<WriteOutput, DynamoError> {
        let meta = self.data_table(&req.table)?;
        let (pk, sk, new_size) = check_item(&meta, &req.item)?;
        let key = keys::item_key(meta.storage_id, pk, sk);
        let value = encode_stored(&req.item, new_size);

        let mut txn = self.storage.begin_write()?;
        let old = txn.get(&key)?.map(|b| decode_stored(&b)).transpose()?;
        check_condition(
            req.condition.as_ref(),
            old.as_ref().map(|o| &o.item),
            req.return_old_on_failure,
        )?;
        let old_size = old.as_ref().map_or(0, |o| o.size);
        let Applied {
            index_writes,
            collection_metrics,
        } = self.apply_change(
            txn.as_mut(),
            &meta,
            &key,
            pk,
            old.as_ref(),
            Some(NewItem {
                item: &req.item,
                size: new_size,
                encoded: &value,
            }),
            req.return_collection_metrics,
        )?;
        txn.commit()?;

        Ok(WriteOutput {
            collection_metrics,
            attributes: match req.return_values {
                ReturnValues::AllOld => old.map(|o| o.item),
                _ => None,
            },
            consumed: consumed_with_indexes(
                &meta,
                req.return_capacity,
                write_units(old_size, new_size),
                CapacityKind::Write,
                index_writes,
            ),
        })
    }

    /// GetItem. Every read is served from the latest committed state, so eventually
    /// consistent reads are in fact strongly consistent; only their capacity differs. The
    /// capacity is charged on the whole item, whatever the projection returns.
    pub fn get_item(&self, req: GetRequest) -> Result<GetOutput, DynamoError> {
        let meta = self.data_table(&req.table)?;
        let (pk, sk) = check_key(&meta, &req.key)?;
        let storage_key = keys::item_key(meta.storage_id, pk, sk);
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
        Ok(GetOutput {
            item,
            consumed: consumed(
                &meta,
                req.return_capacity,
                read_units(size, req.consistent),
                CapacityKind::Read,
            ),
        })
    }

    /// DeleteItem: removes the item if the condition holds (deleting a missing item
    /// succeeds).
    pub fn delete_item(&self, req: DeleteRequest) -> Result<WriteOutput, DynamoError> {
        let meta = self.data_table(&req.table)?;
        let (pk, sk) = check_key(&meta, &req.key)?;
        let storage_key = keys::item_key(meta.storage_id, pk, sk);

        let mut txn = self.storage.begin_write()?;
        let old = txn
            .get(&storage_key)?
            .map(|b| decode_stored(&b))
            .transpose()?;
        check_condition(
            req.condition.as_ref(),
            old.as_ref().map(|o| &o.item),
            req.return_old_on_failure,
        )?;
        let old_size = old.as_ref().map_or(0, |o| o.size);
        let (index_writes, collection_metrics) = match &old {
            Some(old) => {
                let applied = self.apply_change(
                    txn.as_mut(),
                    &meta,
                    &storage_key,
                    pk,
                    Some(old),
                    None,
                    req.return_collection_metrics,
                )?;
                (applied.index_writes, applied.collection_metrics)
            }
            None => (
                IndexWrites::default(),
                self.collection_metrics_unchanged(
                    txn.as_mut(),
                    &meta,
                    pk,
                    req.return_collection_metrics,
                )?,
            ),
        };
        if old.is_some() {
            txn.commit()?;
        }

        Ok(WriteOutput {
            collection_metrics,
            attributes: match req.return_values {
                ReturnValues::AllOld => old.map(|o| o.item),
                _ => None,
            },
            consumed: consumed_with_indexes(
                &meta,
                req.return_capacity,
                write_units(old_size, 0),
                CapacityKind::Write,
                index_writes,
            ),
        })
    }

    /// UpdateItem: applies the update to the existing item, or to a new item made of the key
    /// attributes when none exists (DynamoDB's upsert), if the condition holds.
    pub fn update_item(&self, req: UpdateRequest) -> Result<WriteOutput, DynamoError> {
        let meta = self.data_table(&req.table)?;
        let (pk, sk) = check_key(&meta, &req.key)?;
        if let Some(update) = &req.update {
            check_update_spares_key(&meta, update)?;
        }
        let storage_key = keys::item_key(meta.storage_id, pk, sk);

        let mut txn = self.storage.begin_write()?;
        let old = txn
            .get(&storage_key)?
            .map(|b| decode_stored(&b))
            .transpose()?;
        check_condition(
            req.condition.as_ref(),
            old.as_ref().map(|o| &o.item),
            req.return_old_on_failure,
        )?;
        let old_size = old.as_ref().map_or(0, |o| o.size);
        if old.is_none() && !req.creates_missing_item {
            return Ok(WriteOutput {
                collection_metrics: None,
                attributes: None,
                consumed: consumed(
                    &meta,
                    req.return_capacity,
                    write_units(0, 0),
                    CapacityKind::Write,
                ),
            });
        }
        let mut new_item = match &old {
            Some(existing) => existing.item.clone(),
            None => req.key.clone(),
        };
        let updated_paths = match &req.update {
            Some(update) => stator_expr::apply_update(update, &mut new_item)?,
            None => Vec::new(),
        };
        let new_size = item_size(&new_item);
        if new_size > MAX_ITEM_SIZE {
            return Err(DynamoError::validation(
                "Item size to update has exceeded the maximum allowed size",
            ));
        }
        check_item(&meta, &new_item)?;
        let unchanged = old.as_ref().is_some_and(|o| o.item == new_item);
        let (index_writes, collection_metrics) = if unchanged {
            (
                IndexWrites::default(),
                self.collection_metrics_unchanged(
                    txn.as_mut(),
                    &meta,
                    pk,
                    req.return_collection_metrics,
                )?,
            )
        } else {
            let encoded = encode_stored(&new_item, new_size);
            let applied = self.apply_change(
                txn.as_mut(),
                &meta,
                &storage_key,
                pk,
                old.as_ref(),
                Some(NewItem {
                    item: &new_item,
                    size: new_size,
                    encoded: &encoded,
                }),
                req.return_collection_metrics,
            )?;
            (applied.index_writes, applied.collection_metrics)
        };
        if !unchanged {
            txn.commit()?;
        }

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
        Ok(WriteOutput {
            collection_metrics,
            attributes,
            consumed: consumed_with_indexes(
                &meta,
                req.return_capacity,
                write_units(old_size, new_size),
                CapacityKind::Write,
                index_writes,
            ),
        })
    }
}
