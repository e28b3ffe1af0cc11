//! Table metadata: everything CreateTable/UpdateTable define and DescribeTable reports.
//!
//! [`TableMeta`] is the catalog record of one table. It is persisted as JSON under the
//! catalog keys (see [`crate::keys`]) — metadata is small and rarely written, so a readable,
//! evolvable format beats a compact one here — and cached in memory by [`crate::Engine`].
//! Requests arrive already validated by the API layer; this module only holds the data.

use serde::{Deserialize, Serialize};
use stator_types::AttributeValue;

use crate::partitions::{partitions_for, PartitionMap};

/// The three scalar types a key attribute may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }

    pub fn parse(s: &str) -> Option<ScalarType> {
        match s {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    /// Whether `value` is of this scalar type.
    pub fn matches(self, value: &AttributeValue) -> bool {
        matches!(
            (self, value),
            (ScalarType::S, AttributeValue::S(_))
                | (ScalarType::N, AttributeValue::N(_))
                | (ScalarType::B, AttributeValue::B(_))
        )
    }
}

/// One key attribute: its name and type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttribute {
    pub name: String,
    pub attr_type: ScalarType,
}

/// The most HASH, and the most RANGE, elements a global secondary index's key schema may
/// have (multi-attribute keys); tables and local indexes have one HASH and at most one RANGE.
pub const MAX_KEY_COMPONENTS: usize = 4;

/// A key shape: the partition (HASH) key and optional sort (RANGE) key, and for a global
/// secondary index with a multi-attribute key, its further HASH and RANGE components.
///
/// A multi-attribute key's partition value is the tuple of its HASH components, its sort
/// value the tuple of its RANGE components, each component with its own type; tuples
/// compare component by component. The first component of each stays in `partition` and
/// `sort` (so a single-attribute schema, which every table and LSI has, is stored exactly
/// as before multi-attribute keys existed), the rest are in `more_partition` and
/// `more_sort`, which are empty unless the index has more than one. `more_sort` is empty
/// when `sort` is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    pub partition: KeyAttribute,
    pub sort: Option<KeyAttribute>,
    /// HASH components after the first (multi-attribute GSI keys only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_partition: Vec<KeyAttribute>,
    /// RANGE components after the first (multi-attribute GSI keys only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_sort: Vec<KeyAttribute>,
}

/// Which part of a key a component belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRole {
    Hash,
    Range,
}

impl KeySchema {
    /// A single-attribute key: a partition key and an optional sort key.
    pub fn simple(partition: KeyAttribute, sort: Option<KeyAttribute>) -> KeySchema {
        KeySchema {
            partition,
            sort,
            more_partition: Vec::new(),
            more_sort: Vec::new(),
        }
    }

    /// A key from its HASH and RANGE components in order; `None` without a HASH component.
    pub fn from_components(hash: Vec<KeyAttribute>, range: Vec<KeyAttribute>) -> Option<KeySchema> {
        let mut hash = hash.into_iter();
        let mut range = range.into_iter();
        Some(KeySchema {
            partition: hash.next()?,
            sort: range.next(),
            more_partition: hash.collect(),
            more_sort: range.collect(),
        })
    }

    /// The key attributes in DynamoDB's (declared) order: every HASH, then every RANGE.
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        self.hash_components().chain(self.range_components())
    }

    /// The key attributes with their roles, in declared order.
    pub fn components(&self) -> impl Iterator<Item = (KeyRole, &KeyAttribute)> {
        self.hash_components()
            .map(|a| (KeyRole::Hash, a))
            .chain(self.range_components().map(|a| (KeyRole::Range, a)))
    }

    /// The HASH components in order (one, unless a multi-attribute key).
    pub fn hash_components(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.partition).chain(&self.more_partition)
    }

    /// The RANGE components in order (none without a sort key).
    pub fn range_components(&self) -> impl Iterator<Item = &KeyAttribute> {
        self.sort.iter().chain(&self.more_sort)
    }

    /// Whether the partition or sort key has more than one attribute.
    pub fn is_multi_attribute(&self) -> bool {
        !self.more_partition.is_empty() || !self.more_sort.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingMode {
    Provisioned,
    PayPerRequest,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::Provisioned => "PROVISIONED",
            BillingMode::PayPerRequest => "PAY_PER_REQUEST",
        }
    }
}

/// Provisioned throughput as DescribeTable reports it. For on-demand tables DynamoDB
/// reports zeros here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub read_capacity_units: i64,
    pub write_capacity_units: i64,
    pub last_increase: Option<f64>,
    pub last_decrease: Option<f64>,
    /// Decreases on the UTC day of `last_decrease` (see [`Throughput::decreases_on_day_of`]).
    pub decreases_today: i64,
}

/// The UTC calendar day of an engine-clock time (seconds since the epoch).
fn utc_day(epoch_seconds: f64) -> i64 {
    (epoch_seconds / 86_400.0).floor() as i64
}

impl Throughput {
    /// `NumberOfDecreasesToday` at `now`: DynamoDB counts the decreases of the current UTC
    /// calendar day, so a count from an earlier day is 0.
    pub fn decreases_on_day_of(&self, now: f64) -> i64 {
        match self.last_decrease {
            Some(at) if utc_day(at) == utc_day(now) => self.decreases_today,
            _ => 0,
        }
    }

    /// Records a decrease at `now`.
    pub fn record_decrease(&mut self, now: f64) {
        self.decreases_today = self.decreases_on_day_of(now) + 1;
        self.last_decrease = Some(now);
    }

    /// The count as of `now` (`decreases_today` reset on a later day).
    fn settled_at(&self, now: f64) -> Throughput {
        Throughput {
            decreases_today: self.decreases_on_day_of(now),
            ..self.clone()
        }
    }
}

/// On-demand maximums (`OnDemandThroughput`); -1 or absent means no limit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnDemandThroughput {
    pub max_read_request_units: Option<i64>,
    pub max_write_request_units: Option<i64>,
}

/// Warm throughput (`WarmThroughput`): the read and write units per second a table or GSI
/// can take at once. It only grows: DynamoDB raises it when provisioned throughput goes
/// above it and when a client asks for more, and never lowers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmThroughput {
    pub read_units_per_second: i64,
    pub write_units_per_second: i64,
}

impl WarmThroughput {
    /// What a new table or GSI starts with (DynamoDB's documented values for a new
    /// on-demand table; Stator uses them for provisioned ones too).
    pub const INITIAL: WarmThroughput = WarmThroughput {
        read_units_per_second: 12_000,
        write_units_per_second: 4_000,
    };

    /// The default of records written before warm throughput was stored.
    pub fn initial() -> WarmThroughput {
        WarmThroughput::INITIAL
    }

    /// Raised to at least the given provisioned throughput.
    pub fn at_least(self, read: i64, write: i64) -> WarmThroughput {
        WarmThroughput {
            read_units_per_second: self.read_units_per_second.max(read),
            write_units_per_second: self.write_units_per_second.max(write),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionType {
    All,
    KeysOnly,
    Include,
}

impl ProjectionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionType::All => "ALL",
            ProjectionType::KeysOnly => "KEYS_ONLY",
            ProjectionType::Include => "INCLUDE",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    pub projection_type: ProjectionType,
    pub non_key_attributes: Vec<String>,
}

/// Lifecycle of a secondary index (`IndexStatus`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexStatus {
    /// Being built from the table's existing items (`CREATING`, `Backfilling: true`); writes
    /// already maintain it, reads are refused.
    Creating,
    #[default]
    Active,
    /// Being removed (`DELETING`); neither read nor maintained.
    Deleting,
}

impl IndexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexStatus::Creating => "CREATING",
            IndexStatus::Active => "ACTIVE",
            IndexStatus::Deleting => "DELETING",
        }
    }
}

/// A secondary index definition (global or local).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub name: String,
    /// Prefix of this index's entries in storage; from the same never-reused counter as
    /// table storage ids.
    pub storage_id: u32,
    pub key_schema: KeySchema,
    pub projection: Projection,
    /// Only for global indexes on provisioned tables.
    pub throughput: Option<Throughput>,
    pub on_demand: Option<OnDemandThroughput>,
    #[serde(default)]
    pub status: IndexStatus,
    /// Only for global indexes.
    #[serde(default = "WarmThroughput::initial")]
    pub warm: WarmThroughput,
    /// With delayed transient statuses (`EngineConfig::transient_delay`): the engine-clock
    /// time until which the index shows (and reads as) `CREATING` even once it is built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating_until: Option<f64>,
    /// Global indexes: the first hash of each partition, as for [`TableMeta::partitions`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<u64>,
}

impl IndexMeta {
    /// The index's partitions: those settled, split further if its throughput (or, on
    /// demand, its warm throughput) calls for more.
    pub fn partition_map(&self) -> PartitionMap {
        let (read, write) = match &self.throughput {
            Some(t) => (t.read_capacity_units, t.write_capacity_units),
            None => (
                self.warm.read_units_per_second,
                self.warm.write_units_per_second,
            ),
        };
        settled_map(&self.partitions, read, write)
    }
}

/// `stored` (or one partition if it is empty or not a valid map), split to the count that
/// `read` and `write` units per second call for.
fn settled_map(stored: &[u64], read: i64, write: i64) -> PartitionMap {
    let mut map = PartitionMap::from_starts(stored.to_vec()).unwrap_or_default();
    map.split_to(partitions_for(read, write, 0));
    map
}

impl IndexMeta {
    /// The status the index shows at `now`: its own, or `CREATING` during a delayed
    /// creation.
    pub fn status_at(&self, now: f64) -> IndexStatus {
        match self.creating_until {
            Some(until) if now < until && self.status == IndexStatus::Active => {
                IndexStatus::Creating
            }
            _ => self.status,
        }
    }
}

/// A global index UpdateTable deleted while transient statuses are delayed: DescribeTable
/// shows it `DELETING` until `until` (engine-clock seconds). It is no longer read or
/// maintained; its data is dropped in the background as for any deleted index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletingIndex {
    pub index: IndexMeta,
    pub until: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamMeta {
    pub view_type: String,
    /// `LatestStreamLabel`: an ISO-8601 timestamp of when the stream was enabled.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SseMeta {
    /// "KMS" (DynamoDB reports only KMS-type descriptions; AES256 default encryption is
    /// reported as no SSEDescription).
    pub sse_type: String,
    pub kms_master_key_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// The catalog record of one table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    pub name: String,
    /// Internal number that prefixes every storage key of this table. Never reused, so a
    /// deleted table's leftover data can never show through a new table of the same name.
    pub storage_id: u32,
    /// Bumped by every change of this record; equal to the table's generation record
    /// (see `crate::catalog`). Absent in format 0 records, which the migration numbers 1.
    #[serde(default)]
    pub generation: u64,
    /// The `TableId` UUID DynamoDB reports.
    pub table_id: String,
    pub arn: String,
    /// Seconds since the epoch, with milliseconds.
    pub creation_time: f64,
    /// In the order the client defined them.
    pub attribute_definitions: Vec<KeyAttribute>,
    pub key_schema: KeySchema,
    pub billing_mode: BillingMode,
    /// When the billing mode was last set to PAY_PER_REQUEST.
    pub pay_per_request_since: Option<f64>,
    pub throughput: Throughput,
    pub on_demand: Option<OnDemandThroughput>,
    #[serde(default = "WarmThroughput::initial")]
    pub warm: WarmThroughput,
    pub global_indexes: Vec<IndexMeta>,
    pub local_indexes: Vec<IndexMeta>,
    pub stream: Option<StreamMeta>,
    pub sse: Option<SseMeta>,
    pub table_class: String,
    pub deletion_protection: bool,
    pub tags: Vec<Tag>,
    /// A transient status the table shows until an engine-clock time, when the engine
    /// delays transient statuses (`EngineConfig::transient_delay`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<Transition>,
    /// Deleted global indexes still shown as `DELETING` (delayed transient statuses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleting_indexes: Vec<DeletingIndex>,
    /// The first partition-key hash of each of the table's partitions, as last settled
    /// (`crate::throughput::PartitionMap`); empty in records written before partitions
    /// were kept, which then get the count their throughput calls for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<u64>,
}

/// A status a table passes through after CreateTable or UpdateTable, for a while, when
/// transient statuses are delayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransientStatus {
    Creating,
    Updating,
}

/// [`TransientStatus`] until `until` (engine-clock seconds since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub status: TransientStatus,
    pub until: f64,
}

impl TableMeta {
    /// The table's partitions: those settled, split further if its throughput (or, on
    /// demand, its warm throughput) calls for more.
    pub fn partition_map(&self) -> PartitionMap {
        let (read, write) = match self.billing_mode {
            BillingMode::Provisioned => (
                self.throughput.read_capacity_units,
                self.throughput.write_capacity_units,
            ),
            BillingMode::PayPerRequest => (
                self.warm.read_units_per_second,
                self.warm.write_units_per_second,
            ),
        };
        settled_map(&self.partitions, read, write)
    }

    /// Records the partitions the table and its global indexes have now, so that a later
    /// decrease of throughput keeps them (DynamoDB never merges partitions). Called by
    /// every catalog change that can alter throughput.
    pub fn settle_partitions(&mut self) {
        self.partitions = self.partition_map().starts().to_vec();
        for index in &mut self.global_indexes {
            index.partitions = index.partition_map().starts().to_vec();
        }
    }

    /// The transient status the table is in at `now`, if any.
    pub fn transient_at(&self, now: f64) -> Option<TransientStatus> {
        self.transition.filter(|t| now < t.until).map(|t| t.status)
    }

    /// `TableStatus` at `now`: `CREATING`/`UPDATING` during a delayed transition, else
    /// `ACTIVE`.
    pub fn status_at(&self, now: f64) -> &'static str {
        match self.transient_at(now) {
            Some(TransientStatus::Creating) => "CREATING",
            Some(TransientStatus::Updating) => "UPDATING",
            None => "ACTIVE",
        }
    }

    /// The metadata as DescribeTable shows it at `now`, when it differs from the stored
    /// one: indexes still in a delayed creation shown `CREATING`, deleted ones still in
    /// their delay listed `DELETING`, and decrease counts of an earlier UTC day shown as 0.
    pub fn shown_at(&self, now: f64) -> Option<TableMeta> {
        let creating = self
            .global_indexes
            .iter()
            .any(|i| i.status_at(now) != i.status);
        let deleting = self.deleting_indexes.iter().any(|d| now < d.until);
        let stale = |t: &Throughput| t.decreases_today != t.decreases_on_day_of(now);
        let old_count = stale(&self.throughput)
            || self
                .global_indexes
                .iter()
                .filter_map(|i| i.throughput.as_ref())
                .any(stale);
        if !creating && !deleting && !old_count {
            return None;
        }
        let mut shown = self.clone();
        shown.throughput = self.throughput.settled_at(now);
        for index in &mut shown.global_indexes {
            index.status = index.status_at(now);
            index.throughput = index.throughput.as_ref().map(|t| t.settled_at(now));
        }
        shown.global_indexes.extend(
            self.deleting_indexes
                .iter()
                .filter(|d| now < d.until)
                .map(|d| d.index.clone()),
        );
        shown.deleting_indexes.clear();
        Some(shown)
    }

    /// Forgets delayed statuses that have passed at `now` (before the record is stored).
    pub fn expire_delays(&mut self, now: f64) {
        self.deleting_indexes.retain(|d| now < d.until);
        for index in &mut self.global_indexes {
            if index.creating_until.is_some_and(|until| until <= now) {
                index.creating_until = None;
            }
        }
    }

    /// `LatestStreamArn` for the current stream, if one is enabled.
    pub fn stream_arn(&self) -> Option<String> {
        self.stream
            .as_ref()
            .map(|s| format!("{}/stream/{}", self.arn, s.label))
    }

    pub fn index_arn(&self, index: &str) -> String {
        format!("{}/index/{}", self.arn, index)
    }

    /// Whether a write's old item is read by more than the write itself: by index
    /// maintenance (entries to remove) or, once a stream is enabled, by its records.
    /// Without either, an update may reuse the old item's attributes for the new one.
    pub fn writes_read_old_item(&self) -> bool {
        !self.global_indexes.is_empty() || !self.local_indexes.is_empty() || self.stream.is_some()
    }
}
