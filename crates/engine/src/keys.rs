//! The storage key layout: how catalog records and items map to byte keys.
//!
//! ```text
//! catalog   00 'n'                              -> next table storage id (u32 BE)
//!           00 't' <table name>                 -> TableMeta (JSON)
//!           00 's' <storage id u32 BE>          -> table stats: item count, bytes (2 x i64 BE)
//!           00 'd' <storage id u32 BE>          -> (empty) a dropped table awaiting cleanup
//! items     01 <storage id u32 BE> <hash64 BE> <pk> [<sk>]  -> item (stator_types::itemcodec)
//! ```
//! `<pk>` and `<sk>` use the order-preserving encodings of `stator_types::keycodec`; the
//! partition key is encoded as "last" when the table has no sort key. The 64-bit hash of the
//! encoded partition key comes first so that a table scan visits partitions in hash order
//! (as DynamoDB does) and a parallel scan segment is a contiguous range of the hash space,
//! while all items of one partition stay contiguous and sorted by sort key for Query.

use stator_types::keycodec::{encode_key_value, partition_hash};
use stator_types::AttributeValue;

const CATALOG: u8 = 0x00;
const ITEMS: u8 = 0x01;

pub fn next_storage_id() -> Vec<u8> {
    vec![CATALOG, b'n']
}

pub fn table_meta(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(2 + name.len());
    key.extend_from_slice(&[CATALOG, b't']);
    key.extend_from_slice(name.as_bytes());
    key
}

/// The range of all table metadata keys: `[start, end)`.
pub fn table_meta_range() -> (Vec<u8>, Vec<u8>) {
    (vec![CATALOG, b't'], vec![CATALOG, b't' + 1])
}

pub fn table_stats(storage_id: u32) -> Vec<u8> {
    let mut key = vec![CATALOG, b's'];
    key.extend_from_slice(&storage_id.to_be_bytes());
    key
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
