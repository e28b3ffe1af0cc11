//! Secondary index maintenance: every item write updates the entries of the table's indexes
//! in the same storage transaction.
//!
//! An item has an entry in an index when it holds the index's key attributes (a *sparse*
//! index leaves the others out). The entry's value is the item projected as the index
//! defines — `ALL`, `KEYS_ONLY` (table and index keys) or `INCLUDE` (keys plus the listed
//! attributes) — stored like an item (`<size: u32 LE> <item codec>`), so a Query on the
//! index reads only the index. Each index has statistics (entry count, bytes; see
//! [`crate::stats`]) under its own storage id, written in the same transaction, which
//! DescribeTable reports as `ItemCount` / `IndexSizeBytes`. Indexes that are being created (backfilled) are
//! maintained too, so the backfill and concurrent writes never miss an item — an old item
//! the backfill has not reached yet has no entry, which is why a write to a `CREATING`
//! index first reads whether the old entry really exists (counting a missing entry as
//! removed would make the index's `ItemCount` drift); indexes being deleted are not
//! maintained.

use stator_storage::WriteTransaction;
use stator_types::{item_size, AttributeValue, Item};

use crate::capacity::{write_units, IndexUnits};
use crate::error::DynamoError;
use crate::itemcheck::fits_index_key;
use crate::keys;
use crate::records::encode_stored;
use crate::schema::{IndexMeta, IndexStatus, KeyAttribute, KeyRole, ProjectionType, TableMeta};
use crate::stats;

/// DynamoDB counts 100 bytes of overhead per index entry in `IndexSizeBytes`.
pub const INDEX_ENTRY_OVERHEAD: i64 = 100;

/// An item's entry in one index.
pub struct IndexEntry {
    pub key: Vec<u8>,
    pub projected: Item,
    /// DynamoDB size of the projected item.
    pub size: usize,
}

/// The attributes of `item` that `index` projects.
pub fn project_for_index(meta: &TableMeta, index: &IndexMeta, item: &Item) -> Item {
    if index.projection.projection_type == ProjectionType::All {
        return item.clone();
    }
    let keys = meta
        .key_schema
        .attributes()
        .chain(index.key_schema.attributes())
        .map(|a| a.name.as_str());
    let included = index
        .projection
        .non_key_attributes
        .iter()
        .map(String::as_str)
        .filter(|_| index.projection.projection_type == ProjectionType::Include);
    let mut out = Item::new();
    for name in keys.chain(included) {
        if let Some(value) = item.get(name) {
            out.insert(name.to_string(), value.clone());
        }
    }
    out
}

/// The entry `item` has in `index`, or `None` if it lacks an index key attribute (any
/// component of a multi-attribute key) or holds one the index cannot take (mistyped,
/// empty, over the index key size limits). Item writes are validated before this, so only an item written before the index existed
/// can hold such a value; the backfill and later writes skip it, as a sparse index skips
/// an item without the attribute.
pub fn entry_for(meta: &TableMeta, index: &IndexMeta, item: &Item) -> Option<IndexEntry> {
    let mut partition: Vec<&AttributeValue> = Vec::with_capacity(1);
    let mut sort: Vec<&AttributeValue> = Vec::with_capacity(1);
    for (role, attr) in index.key_schema.components() {
        let value = index_key_value(attr, role, item)?;
        match role {
            KeyRole::Hash => partition.push(value),
            KeyRole::Range => sort.push(value),
        }
    }
    let pk = item.get(&meta.key_schema.partition.name)?;
    let sk = match &meta.key_schema.sort {
        Some(attr) => Some(item.get(&attr.name)?),
        None => None,
    };
    let projected = project_for_index(meta, index, item);
    let size = item_size(&projected);
    Some(IndexEntry {
        key: keys::index_entry_key(index.storage_id, &partition, &sort, pk, sk),
        projected,
        size,
    })
}

/// The value `item` holds for one index key component, if the index can take it.
fn index_key_value<'a>(
    attr: &KeyAttribute,
    role: KeyRole,
    item: &'a Item,
) -> Option<&'a AttributeValue> {
    let value = item.get(&attr.name)?;
    let empty = matches!(value, AttributeValue::S(s) if s.is_empty())
        || matches!(value, AttributeValue::B(b) if b.is_empty());
    (attr.attr_type.matches(value) && !empty && fits_index_key(role, value)).then_some(value)
}

/// Encodes an index entry's value (the layout of a stored item, see [`crate::records`]).
pub fn encode_entry(entry: &IndexEntry) -> Vec<u8> {
    encode_stored(&entry.projected, entry.size)
}

/// Writes a new entry and counts it in the index's statistics.
pub fn insert_entry(
    txn: &mut dyn WriteTransaction,
    index: &IndexMeta,
    entry: &IndexEntry,
) -> Result<(), DynamoError> {
    txn.put(&entry.key, &encode_entry(entry))?;
    stats::adjust(
        txn,
        index.storage_id,
        1,
        entry.size as i64 + INDEX_ENTRY_OVERHEAD,
    )
}

/// What keeping the indexes in step with one item write did.
#[derive(Default)]
pub struct IndexWrites {
    /// Write units each index was charged.
    pub units: IndexUnits,
    /// Change in the bytes of local index entries (part of the item collection's size).
    pub local_bytes_delta: i64,
}

/// Brings every maintained index in step with an item changing from `old` to `new` (either
/// may be absent), inside the item's write transaction.
pub fn maintain(
    txn: &mut dyn WriteTransaction,
    meta: &TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Result<IndexWrites, DynamoError> {
    let mut writes = IndexWrites::default();
    let indexes = meta
        .global_indexes
        .iter()
        .map(|i| (i, true))
        .chain(meta.local_indexes.iter().map(|i| (i, false)));
    for (index, global) in indexes {
        if index.status == IndexStatus::Deleting {
            continue;
        }
        let mut old_entry = old.and_then(|item| entry_for(meta, index, item));
        if index.status == IndexStatus::Creating {
            // The backfill may not have reached the old item yet: its entry exists only if
            // the backfill or an earlier write made it. Counting a missing entry as removed
            // would make the index's ItemCount drift.
            if let Some(o) = &old_entry {
                if txn.get(&o.key)?.is_none() {
                    old_entry = None;
                }
            }
        }
        let new_entry = new.and_then(|item| entry_for(meta, index, item));
        let size_of = |e: &Option<IndexEntry>| e.as_ref().map_or(0, |e| e.size as i64);
        if !global {
            writes.local_bytes_delta += size_of(&new_entry) - size_of(&old_entry);
        }
        let units = match (&old_entry, &new_entry) {
            (None, None) => continue,
            (Some(o), Some(n)) if o.key == n.key => {
                if o.projected == n.projected {
                    continue;
                }
                txn.put(&n.key, &encode_entry(n))?;
                stats::adjust(txn, index.storage_id, 0, n.size as i64 - o.size as i64)?;
                write_units(o.size, n.size)
            }
            _ => {
                let mut units = 0.0;
                if let Some(o) = &old_entry {
                    txn.delete(&o.key)?;
                    stats::adjust(
                        txn,
                        index.storage_id,
                        -1,
                        -(o.size as i64) - INDEX_ENTRY_OVERHEAD,
                    )?;
                    units += write_units(o.size, 0);
                }
                if let Some(n) = &new_entry {
                    insert_entry(txn, index, n)?;
                    units += write_units(0, n.size);
                }
                units
            }
        };
        let list = if global {
            &mut writes.units.global
        } else {
            &mut writes.units.local
        };
        list.push((index.name.clone(), units));
    }
    Ok(writes)
}
