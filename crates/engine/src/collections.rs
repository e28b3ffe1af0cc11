//! Item collections of tables with local secondary indexes: all items with one partition
//! key value, plus their local index entries, may not exceed DynamoDB's 10 GB
//! (`EngineConfig::item_collection_limit`), and writes report the collection's size as
//! `ItemCollectionMetrics`.
//!
//! Each collection has one size record (`keys::collection_key`), adjusted in the item's
//! write transaction, so the limit is exact. Unlike the table statistics this record is a
//! read-modify-write: the limit is an invariant over the whole collection, so two writers
//! of one collection must see each other (on a shared database they conflict and one
//! retries); writers of different collections never touch the same record. Tables without
//! local indexes keep no collection records.

use stator_storage::WriteTransaction;
use stator_types::{AttributeValue, Item};

use crate::error::{DynamoError, ErrorKind};
use crate::keys;
use crate::records::{decode_collection_size, encode_i64};
use crate::schema::TableMeta;

/// `ItemCollectionMetrics`: which collection, and its size estimate in GB.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectionMetrics {
    /// The partition key attribute and value.
    pub key: Item,
    /// `SizeEstimateRangeGB`: lower and upper bound.
    pub size_range_gb: (f64, f64),
}

/// Adds `delta` bytes to the collection of `pk` (tables with local secondary indexes only)
/// and enforces the limit on a growing collection. Returns the collection's metrics, or
/// `None` for a table without local indexes.
pub fn update(
    txn: &mut dyn WriteTransaction,
    meta: &TableMeta,
    pk: &AttributeValue,
    delta: i64,
    limit: u64,
) -> Result<Option<CollectionMetrics>, DynamoError> {
    if meta.local_indexes.is_empty() {
        return Ok(None);
    }
    let key = keys::collection_key(meta.storage_id, pk);
    let current = match txn.get(&key)? {
        Some(bytes) => decode_collection_size(&bytes)?,
        None => 0,
    };
    let size = (current + delta).max(0);
    if delta > 0 && size as u64 > limit {
        return Err(DynamoError::new(
            ErrorKind::ItemCollectionSizeLimitExceeded,
            "Collection size exceeded.",
        ));
    }
    if delta != 0 {
        if size == 0 {
            txn.delete(&key)?;
        } else {
            txn.put(&key, &encode_i64(size))?;
        }
    }
    let gb = size as f64 / (1u64 << 30) as f64;
    let lower = gb.floor();
    Ok(Some(CollectionMetrics {
        key: Item::from([(meta.key_schema.partition.name.clone(), pk.clone())]),
        size_range_gb: (lower, lower + 1.0),
    }))
}
