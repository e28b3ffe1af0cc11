//! The storage key layout: how catalog records and items map to byte keys.
//!
//! ```text
//! catalog   00 'v'                              -> database format version (u32 BE)
//!           00 'n'                              -> next table storage id (u32 BE)
//!           00 't' <table name>                 -> TableMeta (JSON)
//!           00 'g' <storage id u32 BE>          -> catalog generation of the table (u64 BE)
//!           00 's' <storage id u32 BE> <slot u32 BE>
//!                                               -> stats share of one writer slot: item
//!                                                  count, bytes (2 x i64 BE)
//!           00 'd' <storage id u32 BE>          -> (empty) a dropped table awaiting cleanup
//!           00 'x' <table name>                 -> a deleted table shown DELETING until a
//!                                                  time (delayed transient statuses; JSON)
//! items     01 <storage id u32 BE> <hash64 BE> <pk> [<sk>]  -> item (stator_types::itemcodec)
//! index     02 <index storage id u32 BE> <hash64 BE> <ipk>… [<isk>…] <pk> [<sk>]
//!                                                               -> projected item
//! collection 03 <storage id u32 BE> <hash64 BE> <pk>  -> item collection bytes (i64 BE),
//!                                                        kept for tables with LSIs only
//! ```
//! An index entry's key is the index key followed by the base table key, so entries with
//! equal index keys stay distinct and sorted by table key; every component but the last is
//! encoded "not last" (escaped and terminated). A multi-attribute index key (`<ipk>…`,
//! `<isk>…`: up to four components each) is the concatenation of its components'
//! encodings, which are prefix-free, so byte order is the tuple's order (component by
//! component, each in DynamoDB's order for its type); the hash is of all partition
//! components' encoding. Index ids come from the same never-reused
//! counter as table ids, so the stats records `00 's' <id> …` serve indexes too. Stats are
//! kept one record per writer slot (`WriteTransaction::writer_slot`: always 0 on the
//! embedded backends) and summed by readers, so concurrent writers on a shared database
//! never update the same record.
//! `<pk>` and `<sk>` use the order-preserving encodings of `stator_types::keycodec`; the
//! partition key is encoded as "last" when the table has no sort key. The 64-bit hash of the
//! encoded partition key comes first so that a table scan visits partitions in hash order
//! (as DynamoDB does) and a parallel scan segment is a contiguous range of the hash space,
//! while all items of one partition stay contiguous and sorted by sort key for Query.

use stator_types::keycodec::{encode_key_value, partition_hash};
use stator_types::AttributeValue;

const CATALOG: u8 = 0x00;
const ITEMS: u8 = 0x01;
const INDEX: u8 = 0x02;
const COLLECTION: u8 = 0x03;

/// The record that says which layout this database uses (see `records::FORMAT_VERSION`).
pub fn format_version() -> Vec<u8> {
    vec![CATALOG, b'v']
}

pub fn next_storage_id() -> Vec<u8> {
    vec![CATALOG, b'n']
}

pub fn table_meta(name: &str) -> Vec<u8> {
    named_catalog_key(b't', name)
}

/// A catalog key of the form `00 <tag> <table name>`.
fn named_catalog_key(tag: u8, name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + name.len());
    key.extend_from_slice(&[CATALOG, tag]);
    key.extend_from_slice(name.as_bytes());
    key
}

/// The range of all table metadata keys: `[start, end)`.
pub fn table_meta_range() -> (Vec<u8>, Vec<u8>) {
    (vec![CATALOG, b't'], vec![CATALOG, b't' + 1])
}

/// The catalog generation of a table: bumped by every change of its metadata, read by every
/// write inside its own transaction to prove the metadata it used is current.
pub fn table_generation(storage_id: u32) -> Vec<u8> {
    let mut key = vec![CATALOG, b'g'];
    key.extend_from_slice(&storage_id.to_be_bytes());
    key
}

/// The stats share of one writer slot of a table or index.
pub fn stats(storage_id: u32, slot: u32) -> Vec<u8> {
    let mut key = stats_prefix(storage_id);
    key.extend_from_slice(&slot.to_be_bytes());
    key
}

/// The prefix of every stats share of a table or index.
pub fn stats_prefix(storage_id: u32) -> Vec<u8> {
    let mut key = vec![CATALOG, b's'];
    key.extend_from_slice(&storage_id.to_be_bytes());
    key
}

/// The record of a table deleted while transient statuses are delayed.
pub fn deleting_table(name: &str) -> Vec<u8> {
    named_catalog_key(b'x', name)
}

/// The range of all [`deleting_table`] records: `[start, end)`.
pub fn deleting_table_range() -> (Vec<u8>, Vec<u8>) {
    (vec![CATALOG, b'x'], vec![CATALOG, b'x' + 1])
}

pub fn dropped_table(storage_id: u32) -> Vec<u8> {
    let mut key = vec![CATALOG, b'd'];
    key.extend_from_slice(&storage_id.to_be_bytes());
    key
}

pub fn dropped_table_range() -> (Vec<u8>, Vec<u8>) {
    (vec![CATALOG, b'd'], vec![CATALOG, b'd' + 1])
}

/// Decodes the storage id from a key produced by [`dropped_table`].
pub fn dropped_table_id(key: &[u8]) -> Option<u32> {
    catalog_storage_id(key)
}

/// The storage id in a catalog key of the form `00 <tag> <storage id> …` (generation,
/// stats, dropped marker).
pub fn catalog_storage_id(key: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = key.get(2..6)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// The prefix shared by every item of a table.
pub fn table_items_prefix(storage_id: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(5);
    key.push(ITEMS);
    key.extend_from_slice(&storage_id.to_be_bytes());
    key
}

/// The key of one item. Key values must already be validated as S, N or B.
pub fn item_key(storage_id: u32, pk: &AttributeValue, sk: Option<&AttributeValue>) -> Vec<u8> {
    let mut encoded_pk = Vec::with_capacity(32);
    encode_key_value(pk, sk.is_none(), &mut encoded_pk);
    let mut key = Vec::with_capacity(13 + encoded_pk.len() + 16);
    key.push(ITEMS);
    key.extend_from_slice(&storage_id.to_be_bytes());
    key.extend_from_slice(&partition_hash(&encoded_pk).to_be_bytes());
    key.extend_from_slice(&encoded_pk);
    if let Some(sk) = sk {
        encode_key_value(sk, true, &mut key);
    }
    key
}

/// The partition hash inside an item, index-entry or partition-prefix key (the eight
/// bytes after the space byte and the storage id); `None` for a shorter key.
pub fn hash_of(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(5..13)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// The prefix shared by every entry of an index.
pub fn index_prefix(index_storage_id: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(5);
    key.push(INDEX);
    key.extend_from_slice(&index_storage_id.to_be_bytes());
    key
}

/// Every data prefix a storage id may own (items of a table, entries of an index); used to
/// delete everything of a dropped table or index.
pub fn data_prefixes(storage_id: u32) -> [Vec<u8>; 3] {
    let mut collections = Vec::with_capacity(5);
    collections.push(COLLECTION);
    collections.extend_from_slice(&storage_id.to_be_bytes());
    [
        table_items_prefix(storage_id),
        index_prefix(storage_id),
        collections,
    ]
}

/// The prefix of one partition: `<space> <id> <hash> <encoded pk>`, and whether the
/// partition key was encoded as the last component. `space_prefix` is
/// [`table_items_prefix`] or [`index_prefix`].
pub fn partition_prefix(space_prefix: &[u8], pk: &AttributeValue, pk_is_last: bool) -> Vec<u8> {
    let mut encoded_pk = Vec::with_capacity(32);
    encode_key_value(pk, pk_is_last, &mut encoded_pk);
    with_partition_hash(space_prefix, &encoded_pk)
}

/// The prefix of one partition of an index whose partition key may have several
/// components: each is encoded "not last" (the base table key follows), so the tuple's
/// encoding is prefix-free and sorts component by component; the partition hash is of the
/// whole tuple's encoding. With one component this equals [`partition_prefix`] with
/// `pk_is_last = false`.
pub fn index_partition_prefix(space_prefix: &[u8], components: &[&AttributeValue]) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(32 * components.len());
    for value in components {
        encode_key_value(value, false, &mut encoded);
    }
    with_partition_hash(space_prefix, &encoded)
}

fn with_partition_hash(space_prefix: &[u8], encoded_pk: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(space_prefix.len() + 8 + encoded_pk.len() + 32);
    key.extend_from_slice(space_prefix);
    key.extend_from_slice(&partition_hash(encoded_pk).to_be_bytes());
    key.extend_from_slice(encoded_pk);
    key
}

/// The size record of one item collection (all items with one partition key value, plus
/// their local index entries), kept for tables that have local secondary indexes.
pub fn collection_key(storage_id: u32, pk: &AttributeValue) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(5);
    prefix.push(COLLECTION);
    prefix.extend_from_slice(&storage_id.to_be_bytes());
    partition_prefix(&prefix, pk, true)
}

/// The key of an index entry: the index key's partition components, its sort components,
/// then the base table key. Every component but the base key's last is encoded "not last".
pub fn index_entry_key(
    index_storage_id: u32,
    partition: &[&AttributeValue],
    sort: &[&AttributeValue],
    pk: &AttributeValue,
    sk: Option<&AttributeValue>,
) -> Vec<u8> {
    let mut key = index_partition_prefix(&index_prefix(index_storage_id), partition);
    for value in sort {
        encode_key_value(value, false, &mut key);
    }
    encode_key_value(pk, sk.is_none(), &mut key);
    if let Some(sk) = sk {
        encode_key_value(sk, true, &mut key);
    }
    key
}

/// Appends the encoding of a sort key value in a key space where it is (or is not) the last
/// component.
pub fn push_sort_value(key: &mut Vec<u8>, value: &AttributeValue, last: bool) {
    encode_key_value(value, last, key);
}

/// The smallest key strictly greater than every key starting with `prefix`, if any.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_non_ff_byte() {
        assert_eq!(prefix_end(&[1, 2, 3]), Some(vec![1, 2, 4]));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn dropped_table_id_round_trips() {
        assert_eq!(dropped_table_id(&dropped_table(77_000)), Some(77_000));
        assert_eq!(dropped_table_id(&[0, b'd', 1]), None);
    }

    #[test]
    fn items_of_different_tables_do_not_interleave() {
        let a = item_key(1, &AttributeValue::S("zzz".into()), None);
        let b = item_key(2, &AttributeValue::S("aaa".into()), None);
        assert!(a < b);
        assert!(a.starts_with(&table_items_prefix(1)));
        assert!(!a.starts_with(&table_items_prefix(2)));
    }
}
