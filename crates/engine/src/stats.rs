//! Item counts and sizes of tables and indexes (DescribeTable's `ItemCount`,
//! `TableSizeBytes`, `IndexSizeBytes`).
//!
//! Every item write adjusts them in its own transaction, so they are exact. They are kept
//! as one share per writer slot (`WriteTransaction::writer_slot`), each share a delta that
//! only transactions in that slot update, and readers add the shares up: on a shared
//! database concurrent writers never read-modify-write the same record, and on the embedded
//! backends (one slot) it is a single record, exactly as cheap as one counter. A share's
//! count may be negative (its slot deleted items another slot inserted); only the sum means
//! anything.

use std::ops::Bound;

use stator_storage::{Bytes, Direction, Reader, WriteTransaction};

use crate::error::DynamoError;
use crate::keys;
use crate::records::Stats;

/// Adds to the stats of a table or index inside `txn`, in the transaction's slot.
pub fn adjust(
    txn: &mut dyn WriteTransaction,
    storage_id: u32,
    count_delta: i64,
    bytes_delta: i64,
) -> Result<(), DynamoError> {
    if count_delta == 0 && bytes_delta == 0 {
        return Ok(());
    }
    let key = keys::stats(storage_id, txn.writer_slot());
    let current = match txn.get(&key)? {
        Some(bytes) => Stats::decode(&bytes)?,
        None => Stats::default(),
    };
    let next = Stats {
        count: current.count + count_delta,
        bytes: current.bytes + bytes_delta,
    };
    txn.put(&key, &next.encode())?;
    Ok(())
}

/// The stats of a table or index: the sum of every slot's share.
pub fn read(reader: &dyn Reader, storage_id: u32) -> Result<Stats, DynamoError> {
    let prefix = keys::stats_prefix(storage_id);
    let end = keys::prefix_end(&prefix);
    let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut total = Stats::default();
    for entry in reader.range(Bound::Included(&prefix), end, Direction::Forward)? {
        let (_, value) = entry?;
        let share = Stats::decode(&value)?;
        total.count += share.count;
        total.bytes += share.bytes;
    }
    Ok(total)
}

/// Removes every share of a dropped table or index.
pub fn delete_all(txn: &mut dyn WriteTransaction, storage_id: u32) -> Result<(), DynamoError> {
    let prefix = keys::stats_prefix(storage_id);
    let end = keys::prefix_end(&prefix);
    let shares: Vec<Bytes> = {
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        txn.range(Bound::Included(&prefix), end, Direction::Forward)?
            .map(|entry| entry.map(|(key, _)| key))
            .collect::<Result<_, _>>()?
    };
    for key in shares {
        txn.delete(&key)?;
    }
    Ok(())
}
