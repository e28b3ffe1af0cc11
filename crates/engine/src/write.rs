//! The one write path: every change of an item — PutItem, DeleteItem, UpdateItem, each
//! write of a BatchWriteItem, each action of a TransactWriteItems, and later TTL expiry and
//! replication — goes through [`apply`], inside a storage write transaction run by
//! `Engine::write`.
//!
//! [`apply`] takes a [`Change`] (the table, the item's key, its old and new state, and what
//! caused it) and, in the caller's transaction: writes or deletes the item, adjusts the
//! table's statistics, brings every maintained index in step (entries, their statistics,
//! their write units), and for tables with local indexes updates the item collection's
//! size and enforces its limit. It reports what the change consumed, so capacity is always
//! known.
//!
//! `Engine::write` runs a request's transaction body and commits it; when the storage
//! reports a conflict (a shared database does; the embedded backends never do) it runs the
//! body again from the start, a bounded number of times with jittered backoff. The body may
//! therefore run more than once: it must do nothing that outlives a failed attempt besides
//! filling process-local caches with committed state.

use std::sync::Arc;
use std::time::Duration;

use stator_storage::WriteTransaction;
use stator_types::{AttributeValue, Item};

use crate::capacity::{write_units, CapacityKind, ConsumedCapacity, IndexUnits};
use crate::collections::{self, CollectionMetrics};
use crate::error::DynamoError;
use crate::indexes;
use crate::itemcheck::{check_item, check_key};
use crate::keys;
use crate::records::{encode_stored, StoredItem};
use crate::schema::{TableMeta, TransientStatus};
use crate::stats;
use crate::Engine;

/// Why an item changes. Stream records (`userIdentity`) and capacity depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A client's request (any front end).
    User,
    /// Time to Live expiry: DynamoDB charges no capacity for it.
    Ttl,
    /// A write replicated from elsewhere.
    Replication,
}

/// The storage key of an item and its partition key value (which names its collection).
#[derive(Clone, Copy, Debug)]
pub struct ItemKey<'a> {
    pub storage: &'a [u8],
    pub partition: &'a AttributeValue,
}

/// The new state of an item, already encoded (outside the write lock where possible).
#[derive(Clone, Copy, Debug)]
pub struct NewItem<'a> {
    pub item: &'a Item,
    pub size: usize,
    pub encoded: &'a [u8],
}

/// One item changing from `old` to `new` (`None`: absent before / deleted after).
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    pub table: &'a TableMeta,
    pub key: ItemKey<'a>,
    /// The stored item before the change. Its attributes may be empty (its size not) when
    /// [`TableMeta::writes_read_old_item`] is false: nothing here reads them then.
    pub old: Option<&'a StoredItem>,
    pub new: Option<NewItem<'a>>,
    pub cause: Cause,
}

/// What applying one change did besides writing the item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// Write units charged to the table.
    pub table_units: f64,
    /// Write units charged to each index.
    pub index_units: IndexUnits,
    /// The item collection's size, for tables with local secondary indexes.
    pub collection: Option<CollectionMetrics>,
}

impl Applied {
    /// What the change consumed, as a request on `table` reports it.
    pub fn into_consumed(self, table: &str) -> ConsumedCapacity {
        ConsumedCapacity {
            table_name: table.to_string(),
            table_units: self.table_units,
            kind: CapacityKind::Write,
            global_indexes: self.index_units.global,
            local_indexes: self.index_units.local,
        }
    }
}

/// The checks and encodings of a put or delete, computed from the cached metadata before
/// the write transaction starts (so the writer lock is not held for them) and recomputed
/// inside it only if that metadata turns out to be stale ([`WritePlan::made_for`]).
pub struct WritePlan<'r> {
    storage_id: u32,
    generation: u64,
    /// The partition key value (names the item collection).
    pub partition: &'r AttributeValue,
    /// The item's storage key.
    pub key: Vec<u8>,
    /// For a put: the item, its DynamoDB size and its stored encoding.
    pub new: Option<(&'r Item, usize, Vec<u8>)>,
}

impl<'r> WritePlan<'r> {
    /// A put of `item`: checks it against the table (keys, index keys, size limits).
    pub fn put(meta: &TableMeta, item: &'r Item) -> Result<Self, DynamoError> {
        let (pk, sk, size) = check_item(meta, item)?;
        Ok(WritePlan {
            storage_id: meta.storage_id,
            generation: meta.generation,
            partition: pk,
            key: keys::item_key(meta.storage_id, pk, sk),
            new: Some((item, size, encode_stored(item, size))),
        })
    }

    /// A delete of the item with `key`: checks the key against the table.
    pub fn delete(meta: &TableMeta, key: &'r Item) -> Result<Self, DynamoError> {
        let (pk, sk) = check_key(meta, key)?;
        Ok(WritePlan {
            storage_id: meta.storage_id,
            generation: meta.generation,
            partition: pk,
            key: keys::item_key(meta.storage_id, pk, sk),
            new: None,
        })
    }

    /// Whether the plan was made from exactly this state of the table's metadata.
    pub fn made_for(&self, meta: &TableMeta) -> bool {
        self.storage_id == meta.storage_id && self.generation == meta.generation
    }

    /// The change this plan makes to an item whose old state is `old`.
    pub fn change<'a>(
        &'a self,
        table: &'a TableMeta,
        old: Option<&'a StoredItem>,
        cause: Cause,
    ) -> Change<'a> {
        Change {
            table,
            key: ItemKey {
                storage: &self.key,
                partition: self.partition,
            },
            old,
            new: self.new.as_ref().map(|(item, size, encoded)| NewItem {
                item,
                size: *size,
                encoded,
            }),
            cause,
        }
    }
}

/// Applies `change` inside `txn` (see the module documentation). On an error the caller
/// must drop the transaction: some of the change may already be in it.
pub fn apply(
    txn: &mut dyn WriteTransaction,
    change: Change<'_>,
    item_collection_limit: u64,
) -> Result<Applied, DynamoError> {
    let Change {
        table,
        key,
        old,
        new,
        cause,
    } = change;
    // A stored item always has its key attributes, so an empty old item is one whose
    // attributes the caller reused, allowed only when nothing here reads them.
    debug_assert!(!table.writes_read_old_item() || old.is_none_or(|o| !o.item.is_empty()));
    let old_size = old.map_or(0, |o| o.size);
    let new_size = new.as_ref().map_or(0, |n| n.size);
    match &new {
        Some(n) => txn.put(key.storage, n.encoded)?,
        None if old.is_some() => txn.delete(key.storage)?,
        None => {}
    }
    stats::adjust(
        txn,
        table.storage_id,
        i64::from(new.is_some()) - i64::from(old.is_some()),
        new_size as i64 - old_size as i64,
    )?;
    let index_writes = indexes::maintain(
        txn,
        table,
        old.map(|o| &o.item),
        new.as_ref().map(|n| n.item),
    )?;
    let collection = collections::update(
        txn,
        table,
        key.partition,
        new_size as i64 - old_size as i64 + index_writes.local_bytes_delta,
        item_collection_limit,
    )?;
    let (table_units, index_units) = match cause {
        Cause::Ttl => (0.0, IndexUnits::default()),
        Cause::User | Cause::Replication => (write_units(old_size, new_size), index_writes.units),
    };
    Ok(Applied {
        table_units,
        index_units,
        collection,
    })
}

/// How many times a conflicting transaction is run before the request fails.
pub const MAX_ATTEMPTS: u32 = 8;
/// Backoff before the second attempt; doubled for each further one, with full jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(2);

impl Engine {
    /// Runs `body` in a write transaction and commits what it wrote; on a storage conflict
    /// runs it again (see the module documentation). An error from `body` drops the
    /// transaction, so nothing of it is written.
    pub(crate) fn write<T>(
        &self,
        mut body: impl FnMut(&mut dyn WriteTransaction) -> Result<T, DynamoError>,
    ) -> Result<T, DynamoError> {
        let mut attempt = 1;
        loop {
            let outcome = self
                .storage
                .begin_write()
                .map_err(DynamoError::from)
                .and_then(|mut txn| {
                    let value = body(txn.as_mut())?;
                    txn.commit()?;
                    Ok(value)
                });
            match outcome {
                Err(error) if error.is_conflict() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, "write transaction conflicted; running it again");
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err(error) if error.is_conflict() => {
                    tracing::warn!(
                        attempts = attempt,
                        "write transaction still conflicting; giving up"
                    );
                    return Err(error);
                }
                other => return other,
            }
        }
    }

    /// The current metadata of a table for a write: see `Engine::current_table_for_write`.
    pub(crate) fn table_for_write(
        &self,
        txn: &dyn WriteTransaction,
        name: &str,
    ) -> Result<Arc<TableMeta>, DynamoError> {
        let meta = self
            .current_table_for_write(txn, name)?
            .ok_or_else(DynamoError::table_not_found)?;
        self.usable_for_data(meta)
    }

    /// A table that is still `CREATING` (delayed transient statuses) is not found for the
    /// data plane, as in DynamoDB. The clock is read only for a table in a transition.
    pub(crate) fn usable_for_data(
        &self,
        meta: Arc<TableMeta>,
    ) -> Result<Arc<TableMeta>, DynamoError> {
        if meta.transition.is_some()
            && meta.transient_at(self.now_epoch_seconds()) == Some(TransientStatus::Creating)
        {
            return Err(DynamoError::table_not_found());
        }
        Ok(meta)
    }
}

/// A random wait in `[0, FIRST_BACKOFF * 2^(attempt-1))`.
fn backoff(attempt: u32) -> Duration {
    let ceiling = FIRST_BACKOFF.saturating_mul(1 << (attempt - 1).min(10));
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX).max(1);
    Duration::from_nanos(jitter() % nanos)
}

/// A cheap per-thread pseudo-random number (xorshift64*), enough to spread retries.
fn jitter() -> u64 {
    use std::cell::Cell;
    thread_local! {
        // Seeded from the standard library's per-process random hasher keys.
        static STATE: Cell<u64> = Cell::new({
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new().build_hasher().finish() | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 1..MAX_ATTEMPTS {
            let ceiling = FIRST_BACKOFF * (1 << (attempt - 1));
            for _ in 0..100 {
                assert!(backoff(attempt) < ceiling);
            }
        }
    }
}
