//! The value codecs of every record the engine stores (their keys are in [`crate::keys`]).
//!
//! ```text
//! item, index entry   <DynamoDB item size: u32 LE> <item: stator_types::itemcodec>
//! stats share         <item count: i64 BE> <bytes: i64 BE>
//! collection size     <bytes: i64 BE>
//! generation          <u64 BE>
//! format version      <u32 BE>
//! storage id counter  <u32 BE>
//! table metadata      JSON of schema::TableMeta
//! ```
//! An item and an index entry share one layout: the size in front is DynamoDB's item size,
//! kept so that capacity and statistics never re-measure an old item, and so a read can
//! answer a stored item without decoding it ([`ReadItem::Stored`]).

use stator_storage::Bytes;
use stator_types::{decode_item, encode_item, Item};

use crate::error::DynamoError;

/// The layout version this build reads and writes (see `keys::format_version`).
///
/// - 0: round 1 (no version record; one stats record per table or index, no generations).
/// - 1: stats shares per writer slot, catalog generations, the version record itself.
pub const FORMAT_VERSION: u32 = 1;

/// A stored item (or index entry): its DynamoDB size and its attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredItem {
    pub size: usize,
    pub item: Item,
}

/// Encodes an item or index entry whose DynamoDB size is `size`.
pub fn encode_stored(item: &Item, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 16);
    // Items are at most 400 KB, so the size always fits in u32.
    out.extend_from_slice(&(size as u32).to_le_bytes());
    encode_item(item, &mut out);
    out
}

pub(crate) fn corrupt(what: &str) -> DynamoError {
    DynamoError::internal(format!("corrupt {what} in storage"))
}

/// The DynamoDB size recorded in front of a stored item.
pub fn stored_size(bytes: &[u8]) -> Result<usize, DynamoError> {
    let size_bytes: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("item"))?;
    Ok(u32::from_le_bytes(size_bytes) as usize)
}

/// The item codec bytes of a stored item (what follows the size).
pub fn stored_encoding(bytes: &[u8]) -> Result<&[u8], DynamoError> {
    bytes.get(4..).ok_or_else(|| corrupt("item"))
}

pub fn decode_stored(bytes: &[u8]) -> Result<StoredItem, DynamoError> {
    let size = stored_size(bytes)?;
    let item = decode_item(stored_encoding(bytes)?).map_err(|_| corrupt("item"))?;
    Ok(StoredItem { size, item })
}

/// An item a read returns. An item that goes out whole stays in its stored form, so the
/// wire layer can write it to the response straight from those bytes without decoding it
/// into an attribute map; only items the read had to build (projections, an LSI entry
/// completed from the table) are `Built`.
#[derive(Clone, Debug)]
pub enum ReadItem {
    /// A value as storage holds it (shared with the store, not copied): the 4-byte size,
    /// then the item's encoding.
    Stored(Bytes),
    Built(Item),
}

impl ReadItem {
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

/// One writer slot's share of a table's (or index's) statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub count: i64,
    pub bytes: i64,
}

impl Stats {
    pub fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.count.to_be_bytes());
        out[8..].copy_from_slice(&self.bytes.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Stats, DynamoError> {
        let field = |range: std::ops::Range<usize>| {
            bytes
                .get(range)
                .and_then(|b| b.try_into().ok())
                .map(i64::from_be_bytes)
                .ok_or_else(|| corrupt("statistics record"))
        };
        Ok(Stats {
            count: field(0..8)?,
            bytes: field(8..16)?,
        })
    }
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], DynamoError> {
    bytes.try_into().map_err(|_| corrupt(what))
}

pub fn encode_i64(value: i64) -> [u8; 8] {
    value.to_be_bytes()
}

/// An item collection's size record.
pub fn decode_collection_size(bytes: &[u8]) -> Result<i64, DynamoError> {
    fixed::<8>(bytes, "item collection record").map(i64::from_be_bytes)
}

pub fn encode_generation(generation: u64) -> [u8; 8] {
    generation.to_be_bytes()
}

pub fn decode_generation(bytes: &[u8]) -> Result<u64, DynamoError> {
    fixed::<8>(bytes, "catalog generation").map(u64::from_be_bytes)
}

pub fn encode_u32(value: u32) -> [u8; 4] {
    value.to_be_bytes()
}

/// The format version record and the storage id counter.
pub fn decode_u32(bytes: &[u8], what: &str) -> Result<u32, DynamoError> {
    fixed::<4>(bytes, what).map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_types::AttributeValue;

    #[test]
    fn stats_round_trip_and_reject_short_records() {
        let stats = Stats {
            count: 12,
            bytes: -3456,
        };
        assert_eq!(Stats::decode(&stats.encode()).unwrap(), stats);
        assert!(Stats::decode(&[1, 2, 3]).is_err());
    }

    #[test]
    fn stored_items_keep_their_size_in_front() {
        let item = Item::from([("a".to_string(), AttributeValue::S("xyz".to_string()))]);
        let bytes = encode_stored(&item, 4);
        assert_eq!(stored_size(&bytes).unwrap(), 4);
        assert_eq!(decode_stored(&bytes).unwrap(), StoredItem { size: 4, item });
        assert!(stored_size(&[1]).is_err());
        assert!(decode_stored(&[4, 0, 0, 0, 0xEE]).is_err());
    }

    #[test]
    fn small_records_round_trip() {
        assert_eq!(decode_generation(&encode_generation(7)).unwrap(), 7);
        assert_eq!(decode_u32(&encode_u32(9), "x").unwrap(), 9);
        assert_eq!(decode_collection_size(&encode_i64(-1)).unwrap(), -1);
        assert!(decode_generation(&[0; 3]).is_err());
    }
}
