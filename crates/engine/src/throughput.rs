//! Capacity that governs requests: token buckets, partitions and throttling, as DynamoDB's
//! published rules describe them, read from the engine clock so that the same requests at
//! the same clock readings always give the same throttles.
//!
//! Every request already knows what it consumed ([`crate::capacity`]). Before its result
//! counts (a read is returned, a write commits), the operation hands that consumption to
//! [`Governor::charge`] together with the partition hash of the key it touched:
//!
//! - each provisioned table and each global secondary index has a read and a write
//!   bucket, refilled continuously at the provisioned rate and holding up to
//!   [`BURST_SECONDS`] of unused capacity (DynamoDB's burst capacity). A new or restarted
//!   bucket holds one second of capacity and no burst: burst is banked only from capacity
//!   left unused;
//! - the table and each index is a set of partitions ([`crate::partitions`]), contiguous
//!   ranges of the 64-bit partition-key hash space that orders Scan. Each partition may
//!   serve at most [`PARTITION_READ_UNITS`] / [`PARTITION_WRITE_UNITS`] per second, whatever the
//!   table's total. Below that cap a partition takes what it needs of the table's unused
//!   throughput at once (DynamoDB's adaptive capacity, instant since 2019), so a single
//!   partition is throttled only at the cap: that is the hot-key throttle;
//! - a request is admitted when every bucket it draws on has something left (a level
//!   above zero), and then charged its whole consumption, which may take a bucket below
//!   zero: a 10 KB write on a 5-WCU table succeeds once and the debt is repaid before the
//!   next (DynamoDB does not document this case; a request's cost is known only after its
//!   work, so this is Stator's rule). Capacity is charged only for admitted requests, and
//!   a refused request returns nothing and commits nothing. Transactions check every
//!   action with [`Governor::admit`] before reading anything.
//!
//! Modes ([`CapacityMode`]): `off` governs nothing; `report` keeps every bucket and counts
//! would-be throttles but refuses nothing (a would-be throttle is not charged, so the
//! buckets and counts are those `enforce` would have), so test suites that create small
//! provisioned tables keep passing; `enforce` refuses. The mode is a server setting that one table can
//! override at run time.
//!
//! Bucket levels are process state, kept behind this one type: they start again (one
//! second of capacity, no burst) when the server restarts, and a backend that runs several
//! front ends over one database replaces the inside of [`Governor`] to share or divide
//! them. The partition map is part of the table's catalog record, so it survives restarts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::capacity::{CapacityKind, ConsumedCapacity};
use crate::clock::Clock;
use crate::error::{DynamoError, ErrorKind, ThrottlingReason};
use crate::partitions::{PartitionMap, BURST_SECONDS, PARTITION_READ_UNITS, PARTITION_WRITE_UNITS};
use crate::schema::{BillingMode, TableMeta};

/// Whether capacity governs requests (`--capacity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CapacityMode {
    /// No buckets, no counts.
    Off,
    /// Buckets and counts, no refusals.
    #[default]
    Report,
    /// Requests that exceed capacity are refused.
    Enforce,
}

impl CapacityMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CapacityMode::Off => "off",
            CapacityMode::Report => "report",
            CapacityMode::Enforce => "enforce",
        }
    }

    pub fn parse(text: &str) -> Option<CapacityMode> {
        match text {
            "off" => Some(CapacityMode::Off),
            "report" => Some(CapacityMode::Report),
            "enforce" => Some(CapacityMode::Enforce),
            _ => None,
        }
    }
}

/// Capacity units in billionths, so that refills over nanoseconds and half-unit charges
/// add up exactly (a float would make the count of requests before a throttle depend on
/// rounding).
type NanoUnits = i128;

const NANO: i128 = 1_000_000_000;

fn nano_units(units: f64) -> NanoUnits {
    // Charges are multiples of half a unit; rounding to a billionth loses nothing. Through
    // i64 (a request's units are far below 9 billion): a float-to-i128 conversion is a
    // library call.
    NanoUnits::from((units * 1e9).round() as i64)
}

/// A token bucket on the engine clock.
#[derive(Clone, Debug)]
struct Bucket {
    /// Units per second.
    rate: i64,
    /// The most it holds, in seconds of `rate`.
    max_seconds: u64,
    /// The most it holds (`rate × max_seconds`), in nano-units.
    max: NanoUnits,
    level: NanoUnits,
    /// When `level` was last brought up to date.
    at: Duration,
}

impl Bucket {
    /// One second of capacity, no burst yet.
    fn new(rate: i64, max_seconds: u64, now: Duration) -> Bucket {
        Bucket {
            rate,
            max_seconds,
            max: Self::max_of(rate, max_seconds),
            level: i128::from(rate) * NANO,
            at: now,
        }
    }

    fn max_of(rate: i64, max_seconds: u64) -> NanoUnits {
        i128::from(rate) * i128::from(max_seconds) * NANO
    }

    /// Adds what the time since the last refill earned, up to the maximum. A clock that
    /// went backwards earns nothing.
    fn refill(&mut self, now: Duration) {
        if now > self.at {
            // No more than a full bucket's worth of time counts, which keeps the product
            // far inside i128 (rate < 2^63, nanoseconds < 2^39) without saturating
            // arithmetic on every request.
            let full = self.max_seconds.saturating_mul(1_000_000_000);
            let elapsed = u64::try_from((now - self.at).as_nanos()).unwrap_or(u64::MAX);
            let earned = i128::from(self.rate) * i128::from(elapsed.min(full));
            self.level = (self.level + earned).min(self.max);
        }
        self.at = now;
    }

    /// A new rate: the level stays, capped at the new maximum.
    fn set_rate(&mut self, rate: i64) {
        self.rate = rate;
        self.max = Self::max_of(rate, self.max_seconds);
        self.level = self.level.min(self.max);
    }

    fn has_capacity(&self) -> bool {
        self.level > 0
    }

    /// Banked capacity beyond the current second's, in units.
    fn burst(&self) -> f64 {
        let second = i128::from(self.rate) * NANO;
        ((self.level - second).max(0) as f64) / 1e9
    }
}

/// Which limit a request ran into (the third part of a throttling reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The table's or index's provisioned throughput, burst included.
    Provisioned,
    /// One partition's maximum (a hot key or key range).
    KeyRange,
}

/// Why a request was throttled: DynamoDB's `ThrottlingReason`.
#[derive(Clone, Debug, PartialEq)]
pub struct ThrottleReason {
    /// `None`: the table; `Some(name)`: that global secondary index.
    pub index: Option<String>,
    pub kind: CapacityKind,
    pub limit: Limit,
    /// The ARN of the table or index.
    pub resource: String,
}

impl ThrottleReason {
    /// The reason code: resource type, operation type and limit type, as
    /// `TableReadProvisionedThroughputExceeded` or `IndexWriteKeyRangeThroughputExceeded`.
    pub fn code(&self) -> String {
        format!(
            "{}{}{}",
            if self.index.is_some() {
                "Index"
            } else {
                "Table"
            },
            match self.kind {
                CapacityKind::Read => "Read",
                CapacityKind::Write => "Write",
            },
            match self.limit {
                Limit::Provisioned => "ProvisionedThroughputExceeded",
                Limit::KeyRange => "KeyRangeThroughputExceeded",
            }
        )
    }
}

/// One resource's pair of buckets and its partitions.
#[derive(Debug)]
struct Resource {
    /// Provisioned buckets; `None` on an on-demand table.
    read: Option<Bucket>,
    write: Option<Bucket>,
    map: PartitionMap,
    partitions: Vec<PartitionState>,
    throttles: ThrottleCounts,
    recent: Recent,
}

/// Per-partition buckets (the partition maximum) and counts.
#[derive(Debug)]
struct PartitionState {
    read: Bucket,
    write: Bucket,
    throttles: ThrottleCounts,
    recent: Recent,
}

impl PartitionState {
    fn new(now: Duration) -> PartitionState {
        PartitionState {
            read: Bucket::new(PARTITION_READ_UNITS, 1, now),
            write: Bucket::new(PARTITION_WRITE_UNITS, 1, now),
            throttles: ThrottleCounts::default(),
            recent: Recent::default(),
        }
    }
}

/// How many of the last seconds the consumption window keeps (per table, index and
/// partition).
pub const RECENT_SECONDS: u64 = 60;

/// Units consumed in each of the last [`RECENT_SECONDS`] whole seconds of the engine clock:
/// one slot per second, reused a minute later, so recording is a few instructions.
#[derive(Clone, Debug)]
struct Recent {
    /// `(second since the epoch, read, write)`; a slot whose second is not within the last
    /// minute counts as empty.
    slots: [(u64, NanoUnits, NanoUnits); RECENT_SECONDS as usize],
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            slots: [(u64::MAX, 0, 0); RECENT_SECONDS as usize],
        }
    }
}

impl Recent {
    fn add(&mut self, now: Duration, kind: CapacityKind, units: NanoUnits) {
        let second = now.as_secs();
        let Some(slot) = usize::try_from(second % RECENT_SECONDS)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
        else {
            return;
        };
        if slot.0 != second {
            *slot = (second, 0, 0);
        }
        match kind {
            CapacityKind::Read => slot.1 += units,
            CapacityKind::Write => slot.2 += units,
        }
    }

    /// Units consumed over the last minute (this second included), and in the busiest
    /// second of it: `((read, write), (peak read, peak write))`.
    fn summary(&self, now: Duration) -> ((f64, f64), (f64, f64)) {
        let second = now.as_secs();
        let recent = self
            .slots
            .iter()
            .filter(|(s, _, _)| *s <= second && second - *s < RECENT_SECONDS);
        let (mut read, mut write, mut peak_read, mut peak_write) = (0, 0, 0, 0);
        for (_, r, w) in recent {
            read += r;
            write += w;
            peak_read = peak_read.max(*r);
            peak_write = peak_write.max(*w);
        }
        let units = |n: NanoUnits| n as f64 / 1e9;
        (
            (units(read), units(write)),
            (units(peak_read), units(peak_write)),
        )
    }
}

/// Throttled (or, in `report` mode, would-be throttled) requests, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleCounts {
    pub read: u64,
    pub write: u64,
}

impl ThrottleCounts {
    fn add(&mut self, kind: CapacityKind) {
        match kind {
            CapacityKind::Read => self.read += 1,
            CapacityKind::Write => self.write += 1,
        }
    }
}

impl Resource {
    fn new(provisioned: Option<(i64, i64)>, map: PartitionMap, now: Duration) -> Resource {
        let partitions = (0..map.len()).map(|_| PartitionState::new(now)).collect();
        Resource {
            read: provisioned.map(|(r, _)| Bucket::new(r, BURST_SECONDS, now)),
            write: provisioned.map(|(_, w)| Bucket::new(w, BURST_SECONDS, now)),
            map,
            partitions,
            throttles: ThrottleCounts::default(),
            recent: Recent::default(),
        }
    }

    /// Brought in line with new settings, keeping what still applies: bucket levels,
    /// and the partitions whose ranges did not change.
    fn update(&mut self, provisioned: Option<(i64, i64)>, map: PartitionMap, now: Duration) {
        match (provisioned, &mut self.read, &mut self.write) {
            (Some((r, w)), Some(read), Some(write)) => {
                read.refill(now);
                write.refill(now);
                read.set_rate(r);
                write.set_rate(w);
            }
            (Some((r, w)), _, _) => {
                self.read = Some(Bucket::new(r, BURST_SECONDS, now));
                self.write = Some(Bucket::new(w, BURST_SECONDS, now));
            }
            (None, _, _) => {
                self.read = None;
                self.write = None;
            }
        }
        if map != self.map {
            let mut old: HashMap<(u64, u128), PartitionState> = (0..self.map.len())
                .map(|i| self.map.range(i))
                .zip(std::mem::take(&mut self.partitions))
                .collect();
            self.partitions = (0..map.len())
                .map(|i| {
                    old.remove(&map.range(i))
                        .unwrap_or_else(|| PartitionState::new(now))
                })
                .collect();
            self.map = map;
        }
    }

    fn bucket(&mut self, kind: CapacityKind) -> Option<&mut Bucket> {
        match kind {
            CapacityKind::Read => self.read.as_mut(),
            CapacityKind::Write => self.write.as_mut(),
        }
    }
}

/// The governed state of one table and its global secondary indexes.
#[derive(Debug)]
struct TableState {
    /// The catalog generation this state was last brought in line with.
    generation: u64,
    /// A run-time override of the server's mode (the admin API).
    mode: Option<CapacityMode>,
    table: Resource,
    indexes: HashMap<String, Resource>,
}

/// Governed tables by storage id. The ids are small counters, which one multiplication
/// hashes well enough (SipHash would cost more than the rest of a look-up).
type Tables = HashMap<u32, TableState, std::hash::BuildHasherDefault<IdHasher>>;

/// A multiplicative (Fibonacci) hash of a `u32` table storage id.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u32(&mut self, n: u32) {
        // Spread the counter over the high bits too: hashbrown takes its control byte from
        // the top seven.
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// What one request drew on, to be admitted and charged.
#[derive(Clone, Copy, Debug)]
pub struct Demand<'a> {
    pub consumed: &'a ConsumedCapacity,
    /// The global index whose key space `hash` is in (a read of that index); `None`:
    /// the table's.
    pub index: Option<&'a str>,
    /// Whether to admit the request here too (see [`Governor::charge`]); `false` when it
    /// was admitted before its work with [`Governor::admit`].
    pub admit: bool,
    /// The partition hash of the item's key, when the request touched one partition of
    /// the table (a Scan page charges the partition it starts in).
    pub hash: Option<u64>,
}

/// Capacity governing for every table: see the module documentation.
pub struct Governor {
    mode: CapacityMode,
    /// Whether some table has its own mode (so `off` cannot skip the look-up).
    overridden: AtomicBool,
    clock: Arc<dyn Clock>,
    /// When this process started governing: buckets of tables created before start from
    /// here (levels are not kept across restarts).
    started: Duration,
    /// By table storage id (never reused, so a recreated table starts afresh).
    tables: Mutex<Tables>,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor")
            .field("mode", &self.mode)
            .finish()
    }
}

fn provisioned(meta: &TableMeta, index: Option<&str>) -> Option<(i64, i64)> {
    if meta.billing_mode != BillingMode::Provisioned {
        return None;
    }
    match index {
        None => Some((
            meta.throughput.read_capacity_units,
            meta.throughput.write_capacity_units,
        )),
        Some(name) => meta
            .global_indexes
            .iter()
            .find(|i| i.name == name)
            .and_then(|i| i.throughput.as_ref())
            .map(|t| (t.read_capacity_units, t.write_capacity_units)),
    }
}

impl Governor {
    pub fn new(mode: CapacityMode, clock: Arc<dyn Clock>) -> Governor {
        Governor {
            mode,
            overridden: AtomicBool::new(false),
            started: clock.now(),
            clock,
            tables: Mutex::new(Tables::default()),
        }
    }

    /// The server-wide mode.
    pub fn default_mode(&self) -> CapacityMode {
        self.mode
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The mode that governs `meta`'s table.
    pub fn mode_of(&self, meta: &TableMeta) -> CapacityMode {
        self.lock()
            .get(&meta.storage_id)
            .and_then(|t| t.mode)
            .unwrap_or(self.mode)
    }

    /// Sets (or with `None` clears) the table's own mode.
    pub fn set_mode(&self, meta: &TableMeta, mode: Option<CapacityMode>) {
        let now = self.clock.now();
        let mut tables = self.lock();
        let state = self.state(&mut tables, meta, now);
        state.mode = mode;
        if mode.is_some() {
            self.overridden.store(true, Ordering::Relaxed);
        }
    }

    /// The state of `meta`'s table, created or brought in line with its metadata. A
    /// table's buckets start with one second of capacity when it was created (or when
    /// this process started, if later) and have refilled since.
    fn state<'t>(
        &self,
        tables: &'t mut Tables,
        meta: &TableMeta,
        now: Duration,
    ) -> &'t mut TableState {
        let born = || {
            Duration::try_from_secs_f64(meta.creation_time)
                .unwrap_or_default()
                .max(self.started)
                .min(now)
        };
        let state = tables.entry(meta.storage_id).or_insert_with(|| TableState {
            generation: meta.generation,
            mode: None,
            table: Resource::new(provisioned(meta, None), meta.partition_map(), born()),
            indexes: meta
                .global_indexes
                .iter()
                .map(|i| {
                    (
                        i.name.clone(),
                        Resource::new(provisioned(meta, Some(&i.name)), i.partition_map(), born()),
                    )
                })
                .collect(),
        });
        // Only a later state of the table changes the governed one: a request may still
        // hold the metadata of the generation before.
        if meta.generation > state.generation {
            state.generation = meta.generation;
            state
                .table
                .update(provisioned(meta, None), meta.partition_map(), now);
            state
                .indexes
                .retain(|name, _| meta.global_indexes.iter().any(|i| &i.name == name));
            for index in &meta.global_indexes {
                let settings = provisioned(meta, Some(&index.name));
                match state.indexes.get_mut(&index.name) {
                    Some(resource) => resource.update(settings, index.partition_map(), now),
                    None => {
                        state.indexes.insert(
                            index.name.clone(),
                            Resource::new(settings, index.partition_map(), now),
                        );
                    }
                }
            }
        }
        state
    }

    /// The mode and state for a request on `meta`'s table; `None` when nothing is
    /// governed.
    fn governed<'t>(
        &self,
        tables: &'t mut Tables,
        meta: &TableMeta,
        now: Duration,
    ) -> Option<(CapacityMode, &'t mut TableState)> {
        let state = self.state(tables, meta, now);
        let mode = state.mode.unwrap_or(self.mode);
        (mode != CapacityMode::Off).then_some((mode, state))
    }

    /// Whether nothing at all is governed (the fast path of `off`).
    fn all_off(&self) -> bool {
        self.mode == CapacityMode::Off && !self.overridden.load(Ordering::Relaxed)
    }

    /// Before a request of `kind` on `meta`'s table does its work: refuses it (in
    /// `enforce` mode) when the table's bucket, or the bucket of the partition holding
    /// `hash`, has nothing left. In `report` mode such a request is counted and admitted.
    ///
    /// `index` names the index a read goes to; a global one is governed by its own
    /// buckets, and `hash` is then a hash of its key space (a local index shares the
    /// table's partitions and throughput).
    pub fn admit(
        &self,
        meta: &TableMeta,
        kind: CapacityKind,
        index: Option<&str>,
        hash: Option<u64>,
    ) -> Result<(), Vec<ThrottleReason>> {
        self.governing(meta, |mode, state, now| {
            let gsi = index.filter(|name| state.indexes.contains_key(*name));
            let mut reasons = Vec::new();
            check_target(state, meta, kind, gsi, hash, now, &mut reasons);
            settle(state, mode, kind, hash, gsi, reasons).map(|_| ())
        })
    }

    /// Runs `body` on `meta`'s governed state under the lock, with the mode and the
    /// clock's reading; nothing when the table is not governed.
    fn governing(
        &self,
        meta: &TableMeta,
        body: impl FnOnce(CapacityMode, &mut TableState, Duration) -> Result<(), Vec<ThrottleReason>>,
    ) -> Result<(), Vec<ThrottleReason>> {
        if self.all_off() {
            return Ok(());
        }
        let now = self.clock.now();
        let mut tables = self.lock();
        match self.governed(&mut tables, meta, now) {
            Some((mode, state)) => body(mode, state, now),
            None => Ok(()),
        }
    }

    /// After a request did its work, before its result counts: with `demand.admit`, first
    /// the admission of [`Governor::admit`] (one lock and one clock reading for the whole
    /// request: a refused read returns nothing and a refused write commits nothing, so
    /// admitting after the work is the same to the client); then charges what it consumed
    /// to the table (local indexes share the table's throughput), the partition of
    /// `hash`, and each global index it wrote to — unless (in `enforce` mode) one of those
    /// indexes has no write capacity left, when the write is refused and nothing is
    /// charged (DynamoDB's GSI back-pressure).
    pub fn charge(&self, meta: &TableMeta, demand: Demand<'_>) -> Result<(), Vec<ThrottleReason>> {
        self.governing(meta, |mode, state, now| {
            Self::charge_in(meta, demand, mode, state, now)
        })
    }

    fn charge_in(
        meta: &TableMeta,
        demand: Demand<'_>,
        mode: CapacityMode,
        state: &mut TableState,
        now: Duration,
    ) -> Result<(), Vec<ThrottleReason>> {
        let consumed = demand.consumed;
        let kind = consumed.kind;
        let gsi = demand
            .index
            .filter(|name| state.indexes.contains_key(*name));
        let mut reasons = Vec::new();
        if demand.admit {
            check_target(state, meta, kind, gsi, demand.hash, now, &mut reasons);
        }
        if kind == CapacityKind::Write {
            for (name, _) in &consumed.global_indexes {
                if let Some(index) = state.indexes.get_mut(name) {
                    // An index write lands in the partition of the index key, which the
                    // request does not name: index partitions are not charged for writes.
                    check(index, kind, None, now, &mut reasons, || {
                        (Some(name.clone()), meta.index_arn(name))
                    });
                }
            }
        }
        if !settle(state, mode, kind, demand.hash, gsi, reasons)? {
            return Ok(());
        }
        let table_units =
            consumed.table_units + consumed.local_indexes.iter().map(|(_, u)| u).sum::<f64>();
        let table_hash = if gsi.is_none() { demand.hash } else { None };
        take(&mut state.table, kind, table_hash, table_units, now);
        for (name, units) in &consumed.global_indexes {
            if let Some(index) = state.indexes.get_mut(name) {
                let hash = if gsi == Some(name.as_str()) {
                    demand.hash
                } else {
                    None
                };
                take(index, kind, hash, *units, now);
            }
        }
        Ok(())
    }

    /// What the admin API shows of a table: see [`ResourceReport`].
    pub fn report(&self, meta: &TableMeta) -> TableReport {
        let now = self.clock.now();
        let mut tables = self.lock();
        let state = self.state(&mut tables, meta, now);
        let mode = state.mode.unwrap_or(self.mode);
        let mut indexes: Vec<(String, ResourceReport)> = state
            .indexes
            .iter_mut()
            .map(|(name, r)| (name.clone(), resource_report(r, now)))
            .collect();
        indexes.sort_by(|a, b| a.0.cmp(&b.0));
        TableReport {
            mode,
            table: resource_report(&mut state.table, now),
            indexes,
        }
    }

    /// How many tables have governed state (deleted tables are forgotten).
    pub fn table_count(&self) -> usize {
        self.lock().len()
    }

    /// Forgets a deleted table.
    pub fn forget(&self, storage_id: u32) {
        self.lock().remove(&storage_id);
    }
}

/// DynamoDB's message when a table (or a key range of it) is out of capacity.
pub const TABLE_THROTTLED: &str = "The level of configured provisioned throughput for the table \
    was exceeded. Consider increasing your provisioning level with the UpdateTable API.";
/// DynamoDB's message when a global secondary index is out of write capacity.
pub const INDEX_THROTTLED: &str = "The level of configured provisioned throughput for one or \
    more global secondary indexes of the table was exceeded. Consider increasing your \
    provisioning level for the under-provisioned global secondary indexes with the \
    UpdateTable API";
/// The message of a `ThrottlingError` cancellation reason in a transaction.
pub const TRANSACTION_THROTTLED: &str = "Throughput exceeds the current capacity of your table \
    or index. DynamoDB is automatically scaling your table or index so please try again \
    shortly. If exceptions persist, check if you have a hot key: \
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html.";

/// The error of a throttled request: `ProvisionedThroughputExceededException` with
/// DynamoDB's message (the index wording when only indexes ran out) and the reasons.
pub fn throttled(reasons: &[ThrottleReason]) -> DynamoError {
    let table = reasons.iter().any(|r| r.index.is_none());
    let mut error = DynamoError::new(
        ErrorKind::ProvisionedThroughputExceeded,
        if table {
            TABLE_THROTTLED
        } else {
            INDEX_THROTTLED
        },
    );
    error.throttling_reasons = Some(
        reasons
            .iter()
            .map(|r| ThrottlingReason {
                reason: r.code(),
                resource: r.resource.clone(),
            })
            .collect(),
    );
    error
}

impl crate::Engine {
    /// [`Governor::admit`], with a throttle as [`throttled`]'s error.
    pub fn admit(
        &self,
        meta: &TableMeta,
        kind: CapacityKind,
        index: Option<&str>,
        hash: Option<u64>,
    ) -> Result<(), DynamoError> {
        self.governor()
            .admit(meta, kind, index, hash)
            .map_err(|reasons| throttled(&reasons))
    }

    /// Admits and charges a request that did its work ([`Governor::charge`]), with a
    /// throttle as [`throttled`]'s error.
    pub fn govern(
        &self,
        meta: &TableMeta,
        consumed: &ConsumedCapacity,
        hash: Option<u64>,
    ) -> Result<(), DynamoError> {
        self.govern_in(meta, consumed, None, hash)
    }

    /// Charges a request already admitted with [`crate::Engine::admit`] (only global
    /// index back-pressure can still refuse it).
    pub fn charge_admitted(
        &self,
        meta: &TableMeta,
        consumed: &ConsumedCapacity,
        hash: Option<u64>,
    ) -> Result<(), DynamoError> {
        self.governor()
            .charge(
                meta,
                Demand {
                    consumed,
                    index: None,
                    hash,
                    admit: false,
                },
            )
            .map_err(|reasons| throttled(&reasons))
    }

    /// [`crate::Engine::govern`] for a read of `index`, whose key space `hash` is in.
    pub fn govern_in(
        &self,
        meta: &TableMeta,
        consumed: &ConsumedCapacity,
        index: Option<&str>,
        hash: Option<u64>,
    ) -> Result<(), DynamoError> {
        self.governor()
            .charge(
                meta,
                Demand {
                    consumed,
                    index,
                    hash,
                    admit: true,
                },
            )
            .map_err(|reasons| throttled(&reasons))
    }
}

/// Adds to `reasons` what stops a request of `kind` on its target: the global index
/// `gsi` (whose key space holds `hash`), or the table.
fn check_target(
    state: &mut TableState,
    meta: &TableMeta,
    kind: CapacityKind,
    gsi: Option<&str>,
    hash: Option<u64>,
    now: Duration,
    reasons: &mut Vec<ThrottleReason>,
) {
    match gsi.and_then(|name| state.indexes.get_mut(name).map(|r| (name, r))) {
        Some((name, resource)) => check(resource, kind, hash, now, reasons, || {
            (Some(name.to_string()), meta.index_arn(name))
        }),
        None => check(&mut state.table, kind, hash, now, reasons, || {
            (None, meta.arn.clone())
        }),
    }
}

/// Adds to `reasons` what stops a request of `kind` on `resource` (in the partition of
/// `hash`, if known).
fn check(
    resource: &mut Resource,
    kind: CapacityKind,
    hash: Option<u64>,
    now: Duration,
    reasons: &mut Vec<ThrottleReason>,
    name: impl Fn() -> (Option<String>, String),
) {
    let mut limit = None;
    if let Some(bucket) = resource.bucket(kind) {
        bucket.refill(now);
        if !bucket.has_capacity() {
            limit = Some(Limit::Provisioned);
        }
    }
    if let Some(hash) = hash {
        let at = resource.map.partition_of(hash);
        if let Some(partition) = resource.partitions.get_mut(at) {
            let bucket = match kind {
                CapacityKind::Read => &mut partition.read,
                CapacityKind::Write => &mut partition.write,
            };
            bucket.refill(now);
            if limit.is_none() && !bucket.has_capacity() {
                limit = Some(Limit::KeyRange);
            }
        }
    }
    if let Some(limit) = limit {
        let (index, resource) = name();
        reasons.push(ThrottleReason {
            index,
            kind,
            limit,
            resource,
        });
    }
}

/// With `reasons` found: counts the throttle and, in `enforce` mode, refuses. `Ok(true)`:
/// the request is to be charged; `Ok(false)`: a would-be throttle in `report` mode, which
/// goes ahead uncharged — as in `enforce` the refused request would not have consumed
/// anything, so the buckets and counts of `report` are those `enforce` would have (a
/// charge would run the bucket ever deeper below zero under load, and every later request
/// would count as throttled).
fn settle(
    state: &mut TableState,
    mode: CapacityMode,
    kind: CapacityKind,
    hash: Option<u64>,
    hashed_index: Option<&str>,
    reasons: Vec<ThrottleReason>,
) -> Result<bool, Vec<ThrottleReason>> {
    if reasons.is_empty() {
        return Ok(true);
    }
    count(state, kind, hash, hashed_index, &reasons);
    if mode == CapacityMode::Enforce {
        Err(reasons)
    } else {
        Ok(false)
    }
}

/// Counts a throttled request on every resource (and partition) that throttled it;
/// `hash` belongs to the key space of `hashed_index` (a global index), or to the table's.
fn count(
    state: &mut TableState,
    kind: CapacityKind,
    hash: Option<u64>,
    hashed_index: Option<&str>,
    reasons: &[ThrottleReason],
) {
    for reason in reasons {
        let resource = match &reason.index {
            None => &mut state.table,
            Some(name) => match state.indexes.get_mut(name) {
                Some(r) => r,
                None => continue,
            },
        };
        resource.throttles.add(kind);
        if let (Some(hash), true) = (hash, reason.index.as_deref() == hashed_index) {
            let at = resource.map.partition_of(hash);
            if let Some(p) = resource.partitions.get_mut(at) {
                p.throttles.add(kind);
            }
        }
    }
}

fn take(resource: &mut Resource, kind: CapacityKind, hash: Option<u64>, units: f64, now: Duration) {
    let units = nano_units(units);
    if let Some(bucket) = resource.bucket(kind) {
        bucket.level -= units;
    }
    resource.recent.add(now, kind, units);
    if let Some(hash) = hash {
        let at = resource.map.partition_of(hash);
        if let Some(partition) = resource.partitions.get_mut(at) {
            match kind {
                CapacityKind::Read => partition.read.level -= units,
                CapacityKind::Write => partition.write.level -= units,
            }
            partition.recent.add(now, kind, units);
        }
    }
}

/// The admin API's view of one table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableReport {
    pub mode: CapacityMode,
    pub table: ResourceReport,
    /// Global secondary indexes by name.
    pub indexes: Vec<(String, ResourceReport)>,
}

/// The admin API's view of a table or index.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceReport {
    /// Provisioned read and write units per second; `None` on demand.
    pub provisioned: Option<(i64, i64)>,
    /// Units available now, burst included (may be negative after a large request).
    pub available: Option<(f64, f64)>,
    /// Banked burst beyond one second's capacity.
    pub burst: Option<(f64, f64)>,
    pub throttles: ThrottleCounts,
    /// Units consumed over the last minute of the engine clock, and in its busiest second.
    pub last_minute: (f64, f64),
    pub peak_second: (f64, f64),
    pub partitions: Vec<PartitionReport>,
}

/// One partition in the admin API.
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionReport {
    /// First hash, and the one after the last (2^64 for the last partition).
    pub range: (u64, u128),
    /// The partition's share of the provisioned throughput (read, write), before
    /// adaptive capacity lends it more.
    pub share: Option<(f64, f64)>,
    /// Units the partition can still serve this second (its maximum's bucket).
    pub available: (f64, f64),
    pub throttles: ThrottleCounts,
    /// As for [`ResourceReport::last_minute`] and [`ResourceReport::peak_second`].
    pub last_minute: (f64, f64),
    pub peak_second: (f64, f64),
}

fn resource_report(resource: &mut Resource, now: Duration) -> ResourceReport {
    let count = resource.map.len() as f64;
    for b in [resource.read.as_mut(), resource.write.as_mut()]
        .into_iter()
        .flatten()
    {
        b.refill(now);
    }
    let provisioned = resource.read.as_ref().zip(resource.write.as_ref());
    let partitions = resource
        .partitions
        .iter_mut()
        .enumerate()
        .map(|(i, p)| {
            p.read.refill(now);
            p.write.refill(now);
            let (last_minute, peak_second) = p.recent.summary(now);
            PartitionReport {
                last_minute,
                peak_second,
                range: resource.map.range(i),
                share: provisioned.map(|(r, w)| (r.rate as f64 / count, w.rate as f64 / count)),
                available: (p.read.level as f64 / 1e9, p.write.level as f64 / 1e9),
                throttles: p.throttles,
            }
        })
        .collect();
    let (last_minute, peak_second) = resource.recent.summary(now);
    ResourceReport {
        last_minute,
        peak_second,
        provisioned: provisioned.map(|(r, w)| (r.rate, w.rate)),
        available: provisioned.map(|(r, w)| (r.level as f64 / 1e9, w.level as f64 / 1e9)),
        burst: provisioned.map(|(r, w)| (r.burst(), w.burst())),
        throttles: resource.throttles,
        partitions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_to_their_burst_and_no_further() {
        let start = Duration::from_secs(1_000);
        let mut b = Bucket::new(5, BURST_SECONDS, start);
        assert_eq!(b.level, 5 * NANO);
        b.level -= 5 * NANO;
        assert!(!b.has_capacity());
        b.refill(start + Duration::from_millis(200));
        assert_eq!(b.level, NANO);
        b.refill(start + Duration::from_secs(10_000));
        assert_eq!(b.level, 5 * 300 * NANO);
        assert_eq!(b.burst(), 1495.0);
        // A clock set back earns nothing and does not break later refills.
        b.level = 0;
        b.refill(start);
        assert_eq!(b.level, 0);
        b.refill(start + Duration::from_secs(1));
        assert_eq!(b.level, 5 * NANO);
    }
}
