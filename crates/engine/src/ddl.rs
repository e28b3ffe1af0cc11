//! DDL: create, describe, list, update and delete tables, and their tags.
//!
//! Each change runs in one write transaction (`Engine::write`, so it is retried like any
//! write on a storage conflict) that decides from the *stored* catalog, not the cache —
//! whether the name is taken, whether the table exists, what its indexes are — and writes
//! the metadata with its next generation ([`catalog::store_meta`]); after the commit the
//! cache is updated and background jobs are queued. Writes check the generation in their
//! own transactions, so none of them can miss the change (see [`crate::catalog`]). Local
//! DDL is also serialized by `Engine::ddl`, which only saves pointless conflicts.
//!
//! Dropping a table removes its metadata at once (the name is free again immediately, like
//! DynamoDB Local) and leaves a "dropped" marker; a background job deletes the table's
//! items in bounded batches and then the marker, resuming after a restart if needed. Table
//! storage ids are never reused, so the leftover items of a dropped table can never appear
//! in a new table of the same name.
//!
//! Input validation (names, enums, attribute definitions versus key schemas, index rules)
//! happens in the API layer before these functions are called; what is checked here is what
//! depends on the stored state: existence, deletion protection, "nothing would change".

use std::collections::HashMap;
use std::sync::Arc;

use stator_storage::{Reader, WriteTransaction};

use crate::catalog::{self, allocate_storage_ids, delete_meta, store_meta, table_name_from_arn};
use crate::error::DynamoError;
use crate::jobs::Job;
use crate::keys;
use crate::schema::*;
use crate::stats;
use crate::Engine;

/// The table a CreateTable request describes, after validation.
#[derive(Clone, Debug)]
pub struct NewTable {
    pub name: String,
    /// Region for the table's ARN (taken from the request's credential scope).
    pub region: String,
    pub attribute_definitions: Vec<KeyAttribute>,
    pub key_schema: KeySchema,
    pub billing_mode: BillingMode,
    pub throughput: Option<(i64, i64)>,
    pub on_demand: Option<OnDemandThroughput>,
    /// `WarmThroughput` asked for, if any.
    pub warm: Option<WarmRequest>,
    pub global_indexes: Vec<NewIndex>,
    pub local_indexes: Vec<NewIndex>,
    /// `Some(view type)` when a stream is enabled.
    pub stream_view_type: Option<String>,
    pub sse: Option<SseMeta>,
    pub table_class: Option<String>,
    pub deletion_protection: bool,
    pub tags: Vec<Tag>,
}

/// What DescribeTable and friends report: metadata plus live statistics.
#[derive(Clone, Debug)]
pub struct TableView {
    pub meta: Arc<TableMeta>,
    pub item_count: i64,
    pub size_bytes: i64,
    /// `(ItemCount, IndexSizeBytes)` of each index, by name.
    pub index_stats: HashMap<String, (i64, i64)>,
    /// `TableStatus`: "ACTIVE" normally; "CREATING", "UPDATING" or "DELETING" in the
    /// responses of the operation that started that transition.
    pub status: &'static str,
}

/// A global secondary index to add, after validation (its storage id is assigned by the
/// engine).
#[derive(Clone, Debug)]
pub struct NewIndex {
    pub name: String,
    pub key_schema: KeySchema,
    pub projection: Projection,
    pub throughput: Option<(i64, i64)>,
    pub on_demand: Option<OnDemandThroughput>,
    /// `WarmThroughput` asked for (global indexes only).
    pub warm: Option<WarmRequest>,
}

/// A `WarmThroughput` parameter: the units per second asked for; `None` keeps a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WarmRequest {
    pub read_units_per_second: Option<i64>,
    pub write_units_per_second: Option<i64>,
}

/// The warm throughput `current` becomes when `request` asks for more, for the table or
/// the index `what` names in the error: a value below the current one is refused (warm
/// throughput never decreases), as is one below 1.
pub fn apply_warm(
    current: WarmThroughput,
    request: WarmRequest,
    what: &str,
) -> Result<WarmThroughput, DynamoError> {
    let mut next = current;
    for (asked, slot, unit) in [
        (
            request.read_units_per_second,
            &mut next.read_units_per_second,
            "ReadUnitsPerSecond",
        ),
        (
            request.write_units_per_second,
            &mut next.write_units_per_second,
            "WriteUnitsPerSecond",
        ),
    ] {
        let Some(asked) = asked else {
            continue;
        };
        if asked < 1 {
            return Err(DynamoError::invalid_parameter(format!(
                "WarmThroughput {unit} for {what} must be at least 1; requested: {asked}"
            )));
        }
        if asked < *slot {
            return Err(DynamoError::invalid_parameter(format!(
                "WarmThroughput {unit} for {what} cannot be decreased. Current: {}, \
                 requested: {asked}",
                *slot
            )));
        }
        *slot = asked;
    }
    Ok(next)
}

/// One entry of `GlobalSecondaryIndexUpdates`, checked on its own by the API layer; the
/// engine checks it against the table (`resolve_index_updates`).
#[derive(Clone, Debug)]
pub enum IndexUpdate {
    /// Add an index; existing items are backfilled in the background.
    Create(NewIndex),
    /// Change an index's throughput settings.
    Update {
        name: String,
        throughput: Option<(i64, i64)>,
        on_demand: Option<OnDemandThroughput>,
        warm: Option<WarmRequest>,
    },
    /// Remove an index; its entries are deleted in the background.
    Delete { name: String },
}

/// Changes an UpdateTable request asks for, after validation. `None` leaves a setting as is.
#[derive(Clone, Debug, Default)]
pub struct TableUpdate {
    /// `GlobalSecondaryIndexUpdates`, in request order.
    pub index_updates: Vec<IndexUpdate>,
    /// `AttributeDefinitions` (required with an index creation): definitions for new index
    /// key attributes are added to the table's.
    pub attribute_definitions: Option<Vec<KeyAttribute>>,
    pub billing_mode: Option<BillingMode>,
    pub throughput: Option<(i64, i64)>,
    pub on_demand: Option<OnDemandThroughput>,
    pub warm: Option<WarmRequest>,
    pub deletion_protection: Option<bool>,
    /// `Some(Some(view))` enables a stream, `Some(None)` disables it.
    pub stream: Option<Option<String>>,
    pub table_class: Option<String>,
    pub sse: Option<SseMeta>,
}

/// The catalog record of a new index.
fn new_index_meta(
    index: NewIndex,
    storage_id: u32,
    status: IndexStatus,
) -> Result<IndexMeta, DynamoError> {
    let (read, write) = index.throughput.unwrap_or((0, 0));
    let warm = apply_warm(
        WarmThroughput::INITIAL,
        index.warm.unwrap_or_default(),
        &format!("index {}", index.name),
    )?
    .at_least(read, write);
    Ok(IndexMeta {
        name: index.name,
        storage_id,
        key_schema: index.key_schema,
        projection: index.projection,
        throughput: index.throughput.map(|(read, write)| Throughput {
            read_capacity_units: read,
            write_capacity_units: write,
            ..Throughput::default()
        }),
        on_demand: index.on_demand,
        status,
        warm,
        creating_until: None,
        partitions: Vec::new(),
    })
}

fn iso8601_millis(epoch_seconds: f64) -> String {
    // Stream labels carry no zone designator.
    let text = crate::clock::rfc3339_millis(std::time::Duration::from_millis(
        (epoch_seconds * 1000.0).round().max(0.0) as u64,
    ));
    text.trim_end_matches('Z').to_string()
}

/// The "only one online index operation" limit. DynamoDB reports it as a
/// `LimitExceededException` both for two creations/deletions in one request and for a new one
/// while another index of the table is still being built or removed.
fn one_online_index() -> DynamoError {
    DynamoError::new(
        crate::ErrorKind::LimitExceeded,
        "Subscriber limit exceeded: Only 1 online index can be created or deleted \
         simultaneously per table",
    )
}

fn find_global<'m>(meta: &'m TableMeta, name: &str) -> Option<&'m IndexMeta> {
    meta.global_indexes.iter().find(|i| i.name == name)
}

/// An index that is still being built or removed cannot be changed.
fn index_in_use(table: &str, index: &IndexMeta) -> Option<DynamoError> {
    let doing = match index.status {
        IndexStatus::Creating => "created",
        IndexStatus::Deleting => "deleted",
        IndexStatus::Active => return None,
    };
    Some(DynamoError::resource_in_use(format!(
        "Attempt to change a resource which is still in use: Index is being {doing}.  Table: \
         {table} Index: {}",
        index.name
    )))
}

/// A per-index `OnDemandThroughput` is accepted only on an on-demand table.
fn on_demand_on_provisioned(index: &str) -> DynamoError {
    DynamoError::invalid_parameter(format!(
        "OnDemandThroughput cannot be specified for index: {index} when BillingMode is \
         PROVISIONED"
    ))
}

/// `GlobalSecondaryIndexUpdates` (checked on their own by the API layer: one action each,
/// at most one creation or deletion, no index named twice, a new index's keys defined in the
/// request and its projection consistent) checked against the table as stored, in request
/// order, then the billing mode switch, which needs throughput for every index that stays.
/// A created index may not give an attribute the table already defines another type
/// (`Attributes cannot be redefined…`).
fn resolve_index_updates(
    meta: &TableMeta,
    updates: Vec<IndexUpdate>,
    billing: Option<BillingMode>,
) -> Result<Vec<IndexUpdate>, DynamoError> {
    fn invalid(detail: impl std::fmt::Display) -> DynamoError {
        DynamoError::invalid_parameter(detail)
    }
    let table = meta.name.as_str();
    let mode = billing.unwrap_or(meta.billing_mode);
    let switching = billing.is_some_and(|b| b != meta.billing_mode);
    let in_flight = |except: Option<&str>| {
        meta.global_indexes
            .iter()
            .any(|i| i.status != IndexStatus::Active && Some(i.name.as_str()) != except)
    };
    let mut resolved = Vec::with_capacity(updates.len());
    for update in updates {
        match update {
            IndexUpdate::Create(index) => {
                let name = index.name.as_str();
                if find_global(meta, name).is_some()
                    || meta.local_indexes.iter().any(|i| i.name == name)
                {
                    return Err(invalid(
                        "Attempting to create an index which already exists",
                    ));
                }
                if in_flight(None) {
                    return Err(one_online_index());
                }
                if meta.global_indexes.len() >= 20 {
                    return Err(invalid(
                        "GlobalSecondaryIndex count exceeds the per-table limit of 20",
                    ));
                }
                match (mode, index.throughput) {
                    (BillingMode::Provisioned, None) => {
                        return Err(invalid(format!(
                            "Both ReadCapacityUnits and WriteCapacityUnits must be specified \
                             for index: {name}"
                        )))
                    }
                    (BillingMode::PayPerRequest, Some(_)) => {
                        return Err(invalid(format!(
                            "ProvisionedThroughput should not be specified for index: {name} \
                             when BillingMode is PAY_PER_REQUEST"
                        )))
                    }
                    _ => {}
                }
                if mode == BillingMode::Provisioned && index.on_demand.is_some() {
                    return Err(on_demand_on_provisioned(name));
                }
                let projected: usize = meta
                    .global_indexes
                    .iter()
                    .chain(&meta.local_indexes)
                    .map(|i| i.projection.non_key_attributes.len())
                    .sum::<usize>()
                    + index.projection.non_key_attributes.len();
                if projected > 100 {
                    return Err(invalid(
                        "Number of projected attributes in all indexes exceeds limit of 100",
                    ));
                }
                resolved.push(IndexUpdate::Create(index));
            }
            IndexUpdate::Update {
                name,
                throughput,
                on_demand,
                warm,
            } => {
                let Some(existing) = find_global(meta, &name) else {
                    return Err(index_not_found(table, &name));
                };
                if let Some(err) = index_in_use(table, existing) {
                    return Err(err);
                }
                if throughput.is_none() && on_demand.is_none() && warm.is_none() {
                    return Err(invalid(format!(
                        "ProvisionedThroughput or OnDemandThroughput must be specified for \
                         index: {name}"
                    )));
                }
                if mode == BillingMode::PayPerRequest && throughput.is_some() {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when \
                         BillingMode is PAY_PER_REQUEST"
                    )));
                }
                if mode == BillingMode::Provisioned && on_demand.is_some() {
                    return Err(on_demand_on_provisioned(&name));
                }
                if let (Some((read, write)), false) = (throughput, switching) {
                    let current = existing.throughput.clone().unwrap_or_default();
                    if current.read_capacity_units == read && current.write_capacity_units == write
                    {
                        return Err(DynamoError::validation(format!(
                            "The provisioned throughput for the index {name} will not change. \
                             The requested value equals the current value. Current \
                             ReadCapacityUnits provisioned for the index: {}. Requested \
                             ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned \
                             for the index: {}. Requested WriteCapacityUnits: {write}. Refer to \
                             the Amazon DynamoDB Developer Guide for current limits and how to \
                             request higher limits.",
                            current.read_capacity_units, current.write_capacity_units
                        )));
                    }
                }
                if let Some(warm) = warm {
                    apply_warm(existing.warm, warm, &format!("index {name}"))?;
                }
                resolved.push(IndexUpdate::Update {
                    name,
                    throughput,
                    on_demand,
                    warm,
                });
            }
            IndexUpdate::Delete { name } => {
                let Some(existing) = find_global(meta, &name) else {
                    return Err(index_not_found(table, &name));
                };
                // An index still backfilling may be deleted (the API reference says so for
                // `CREATING` with `Backfilling: true`, which is every `CREATING` index here);
                // one already being deleted may not.
                if existing.status == IndexStatus::Deleting {
                    if let Some(err) = index_in_use(table, existing) {
                        return Err(err);
                    }
                }
                if in_flight(Some(&name)) {
                    return Err(one_online_index());
                }
                resolved.push(IndexUpdate::Delete { name });
            }
        }
    }
    // Switching to PROVISIONED needs throughput for every global index that stays, given as
    // an Update of that index in the same request.
    if switching && mode == BillingMode::Provisioned {
        for index in &meta.global_indexes {
            let covered = resolved.iter().any(|u| match u {
                IndexUpdate::Update {
                    name,
                    throughput: Some(_),
                    ..
                } => *name == index.name,
                IndexUpdate::Delete { name } => *name == index.name,
                _ => false,
            });
            if !covered && index.status != IndexStatus::Deleting {
                return Err(invalid(format!(
                    "Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: {}",
                    index.name
                )));
            }
        }
    }
    Ok(resolved)
}

/// What UpdateTable's transaction decided.
struct Updated {
    /// The metadata as stored.
    stored: Arc<TableMeta>,
    /// The answer (deleted indexes shown as `DELETING`).
    view: TableView,
    /// Indexes whose entries are to be dropped.
    deleted: Vec<IndexMeta>,
    /// Storage ids of indexes to backfill.
    backfills: Vec<u32>,
}

fn index_not_found(table: &str, index: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Table: {table} index: {index} not found"
    ))
}

/// UpdateTable and DeleteTable refuse a table that is still `CREATING` or `UPDATING`
/// (DynamoDB's `ResourceInUseException`).
fn refuse_during_transition(meta: &TableMeta, now: f64) -> Result<(), DynamoError> {
    let doing = match meta.transient_at(now) {
        None => return Ok(()),
        Some(TransientStatus::Creating) => "created",
        Some(TransientStatus::Updating) => "updated",
    };
    Err(table_in_use(doing, &meta.name))
}

fn table_in_use(doing: &str, name: &str) -> DynamoError {
    DynamoError::resource_in_use(format!(
        "Attempt to change a resource which is still in use: Table is being {doing}: {name}"
    ))
}

/// A name whose table is still shown `DELETING` cannot be created or deleted again until
/// the delay has passed; an expired record is removed here, in the caller's transaction.
fn refuse_while_deleting(
    txn: &mut dyn WriteTransaction,
    name: &str,
    now: f64,
) -> Result<(), DynamoError> {
    match catalog::load_deleting(&*txn, name)? {
        Some(deleting) if now < deleting.until => Err(table_in_use("deleted", name)),
        Some(_) => Ok(txn.delete(&keys::deleting_table(name))?),
        None => Ok(()),
    }
}

impl Engine {
    /// The transition a table created or updated at `now` goes through: `None` unless
    /// transient statuses are delayed.
    fn transition_from(&self, status: TransientStatus, now: f64) -> Option<Transition> {
        self.delayed_until(now)
            .map(|until| Transition { status, until })
    }

    /// When a transient status entered at `now` ends, if transient statuses are delayed.
    fn delayed_until(&self, now: f64) -> Option<f64> {
        let delay = self.config.transient_delay;
        (!delay.is_zero()).then_some(now + delay.as_secs_f64())
    }

    fn lock_ddl(&self) -> std::sync::MutexGuard<'_, ()> {
        match self.ddl.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Statistics of a table and its indexes as `reader` sees them.
    fn view_in(
        reader: &dyn Reader,
        meta: Arc<TableMeta>,
        status: &'static str,
    ) -> Result<TableView, DynamoError> {
        let table = stats::read(reader, meta.storage_id)?;
        let mut index_stats = HashMap::new();
        for index in meta.global_indexes.iter().chain(&meta.local_indexes) {
            let s = stats::read(reader, index.storage_id)?;
            index_stats.insert(index.name.clone(), (s.count, s.bytes));
        }
        Ok(TableView {
            meta,
            item_count: table.count,
            size_bytes: table.bytes,
            index_stats,
            status,
        })
    }

    fn view(&self, meta: Arc<TableMeta>, status: &'static str) -> Result<TableView, DynamoError> {
        let snapshot = self.storage.snapshot()?;
        Self::view_in(snapshot.as_ref(), meta, status)
    }

    /// The stored metadata of `name` for DDL, or DynamoDB's control-plane not-found error.
    fn existing(
        &self,
        txn: &dyn WriteTransaction,
        name: &str,
    ) -> Result<Arc<TableMeta>, DynamoError> {
        self.current_table_for_write(txn, name)?
            .ok_or_else(|| table_not_found(name))
    }

    /// Creates a table. `ResourceInUseException` if the name is taken.
    pub fn create_table(&self, new: NewTable) -> Result<TableView, DynamoError> {
        let _ddl = self.lock_ddl();
        let now = self.now_epoch_seconds();
        let meta = self.write(|txn| {
            refuse_while_deleting(txn, &new.name, now)?;
            if catalog::load_meta(txn, &new.name)?.is_some() {
                return Err(DynamoError::resource_in_use(format!(
                    "Table already exists: {}",
                    new.name
                )));
            }
            let new = new.clone();
            let index_count = (new.global_indexes.len() + new.local_indexes.len()) as u32;
            let storage_id = allocate_storage_ids(txn, 1 + index_count)?;
            let mut next_index_id = storage_id + 1;
            let mut index_meta = |index: NewIndex| {
                let id = next_index_id;
                next_index_id += 1;
                new_index_meta(index, id, IndexStatus::Active)
            };
            let global_indexes = new
                .global_indexes
                .into_iter()
                .map(&mut index_meta)
                .collect::<Result<Vec<IndexMeta>, DynamoError>>()?;
            let local_indexes = new
                .local_indexes
                .into_iter()
                .map(&mut index_meta)
                .collect::<Result<Vec<IndexMeta>, DynamoError>>()?;

            let arn = format!(
                "arn:aws:dynamodb:{}:{}:table/{}",
                new.region, self.config.account_id, new.name
            );
            let throughput = match new.throughput {
                Some((read, write)) => Throughput {
                    read_capacity_units: read,
                    write_capacity_units: write,
                    ..Throughput::default()
                },
                None => Throughput::default(),
            };
            let warm = apply_warm(
                WarmThroughput::INITIAL,
                new.warm.unwrap_or_default(),
                &format!("table {}", new.name),
            )?
            .at_least(
                throughput.read_capacity_units,
                throughput.write_capacity_units,
            );
            let mut meta = TableMeta {
                name: new.name,
                storage_id,
                generation: 0,
                table_id: uuid::Uuid::new_v4().to_string(),
                arn,
                creation_time: now,
                attribute_definitions: new.attribute_definitions,
                key_schema: new.key_schema,
                billing_mode: new.billing_mode,
                pay_per_request_since: (new.billing_mode == BillingMode::PayPerRequest)
                    .then_some(now),
                throughput,
                on_demand: new.on_demand,
                warm,
                global_indexes,
                local_indexes,
                stream: new.stream_view_type.map(|view_type| StreamMeta {
                    view_type,
                    label: iso8601_millis(now),
                }),
                sse: new.sse,
                table_class: new.table_class.unwrap_or_else(|| "STANDARD".to_string()),
                deletion_protection: new.deletion_protection,
                tags: new.tags,
                transition: self.transition_from(TransientStatus::Creating, now),
                deleting_indexes: Vec::new(),
                partitions: Vec::new(),
            };
            // A table's global indexes are CREATING while the table is.
            let until = meta.transition.map(|t| t.until);
            for index in &mut meta.global_indexes {
                index.creating_until = until;
            }
            store_meta(txn, &mut meta)?;
            Ok(Arc::new(meta))
        })?;
        self.cache_table(meta.clone());
        // With delayed statuses the answer shows the indexes CREATING, as DescribeTable does.
        let shown = meta.shown_at(now).map_or(meta, Arc::new);
        Ok(TableView {
            meta: shown,
            item_count: 0,
            size_bytes: 0,
            index_stats: HashMap::new(),
            status: "CREATING",
        })
    }

    /// DescribeTable. DynamoDB words a missing table here as
    /// `Requested resource not found: Table: <name> not found`.
    pub fn describe_table(&self, name: &str) -> Result<TableView, DynamoError> {
        let now = self.now_epoch_seconds();
        let Some(meta) = self.table(name) else {
            // A table deleted while transient statuses are delayed is DELETING for a while.
            let snapshot = self.storage.snapshot()?;
            return match catalog::load_deleting(snapshot.as_ref(), name)? {
                Some(deleting) if now < deleting.until => {
                    Self::view_in(snapshot.as_ref(), Arc::new(deleting.meta), "DELETING")
                }
                _ => Err(table_not_found(name)),
            };
        };
        let status = meta.status_at(now);
        match meta.shown_at(now) {
            Some(shown) => self.view(Arc::new(shown), status),
            None => self.view(meta, status),
        }
    }

    /// Table names in order, starting after `exclusive_start`, at most `limit` of them, and
    /// the last name returned when more remain.
    pub fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let mut names = self.cached_names();
        if !self.config.transient_delay.is_zero() {
            // Tables deleted a moment ago are listed while they are DELETING.
            let deleting = self
                .storage
                .snapshot()
                .map_err(DynamoError::from)
                .and_then(|s| catalog::deleting_names(s.as_ref(), self.now_epoch_seconds()));
            match deleting {
                Ok(deleting) => names.extend(deleting),
                Err(error) => {
                    tracing::error!(%error, "cannot list the tables being deleted");
                }
            }
        }
        let mut names: Vec<String> = names
            .into_iter()
            .filter(|name| exclusive_start.is_none_or(|start| name.as_str() > start))
            .collect();
        names.sort();
        names.dedup();
        let more = names.len() > limit;
        names.truncate(limit);
        let last = if more { names.last().cloned() } else { None };
        (names, last)
    }

    /// DeleteTable: refuses protected tables, removes the table at once and schedules its
    /// items for background deletion.
    pub fn delete_table(&self, name: &str) -> Result<TableView, DynamoError> {
        let _ddl = self.lock_ddl();
        let now = self.now_epoch_seconds();
        let view = self.write(|txn| {
            if self.current_table_for_write(txn, name)?.is_none() {
                refuse_while_deleting(txn, name, now)?;
            }
            let meta = self.existing(txn, name)?;
            refuse_during_transition(&meta, now)?;
            if meta.deletion_protection {
                return Err(DynamoError::validation(
                    "Resource cannot be deleted as it is currently protected against deletion. \
                     Disable deletion protection first.",
                ));
            }
            let view = Self::view_in(txn, meta.clone(), "DELETING")?;
            delete_meta(txn, &meta)?;
            if let Some(until) = self.delayed_until(now) {
                let meta = (*meta).clone();
                catalog::store_deleting(txn, &catalog::DeletingTable { meta, until })?;
            }
            for id in storage_ids(&meta) {
                txn.put(&keys::dropped_table(id), &[])?;
            }
            Ok(view)
        })?;
        self.uncache_table(name, Some(&view.meta));
        self.governor().forget(view.meta.storage_id);
        for id in storage_ids(&view.meta) {
            self.schedule(Job::Drop(id));
        }
        Ok(view)
    }

    /// UpdateTable for table-level settings. Index changes are handled elsewhere.
    pub fn update_table(&self, name: &str, update: TableUpdate) -> Result<TableView, DynamoError> {
        let _ddl = self.lock_ddl();
        let now = self.now_epoch_seconds();
        let updated = self.write(|txn| {
            let current = self.existing(txn, name)?;
            refuse_during_transition(&current, now)?;
            self.updated_table(txn, &current, update.clone(), now)
        })?;
        self.cache_table(updated.stored);
        for index in &updated.deleted {
            self.schedule(Job::Drop(index.storage_id));
        }
        for index_storage_id in updated.backfills {
            self.schedule(Job::Backfill {
                table: name.to_string(),
                index_storage_id,
            });
        }
        Ok(updated.view)
    }

    /// The body of UpdateTable inside its transaction: the new metadata stored, and the
    /// indexes to drop and to backfill once it has committed.
    fn updated_table(
        &self,
        txn: &mut dyn WriteTransaction,
        current: &TableMeta,
        mut update: TableUpdate,
        now: f64,
    ) -> Result<Updated, DynamoError> {
        let name = current.name.as_str();
        let mut meta = current.clone();
        let index_updates = resolve_index_updates(
            current,
            std::mem::take(&mut update.index_updates),
            update.billing_mode,
        )?;
        let attribute_definitions = update.attribute_definitions.take();
        // A definition may add an attribute, not give a defined one another type.
        for def in attribute_definitions.iter().flatten() {
            let existing = meta
                .attribute_definitions
                .iter()
                .find(|d| d.name == def.name);
            if let Some(existing) = existing.filter(|e| e.attr_type != def.attr_type) {
                return Err(DynamoError::invalid_parameter(format!(
                    "Attributes cannot be redefined. AttributeName: {}, current type: {}, \
                     requested type: {}",
                    def.name,
                    existing.attr_type.as_str(),
                    def.attr_type.as_str()
                )));
            }
        }

        let mode = update.billing_mode.unwrap_or(meta.billing_mode);
        if let Some(new_mode) = update.billing_mode {
            if new_mode == BillingMode::PayPerRequest && meta.billing_mode != new_mode {
                meta.pay_per_request_since = Some(now);
            }
        }
        match mode {
            BillingMode::Provisioned => {
                if let Some((read, write)) = update.throughput {
                    let old = &meta.throughput;
                    // Also when the request repeats BillingMode=PROVISIONED.
                    if meta.billing_mode == BillingMode::Provisioned
                        && old.read_capacity_units == read
                        && old.write_capacity_units == write
                    {
                        return Err(DynamoError::validation(format!(
                            "The provisioned throughput for the table will not change. The \
                             requested value equals the current value. Current \
                             ReadCapacityUnits provisioned for the table: {}. Requested \
                             ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned \
                             for the table: {}. Requested WriteCapacityUnits: {write}. Refer to \
                             the Amazon DynamoDB Developer Guide for current limits and how to \
                             request higher limits.",
                            old.read_capacity_units, old.write_capacity_units
                        )));
                    }
                    let increased =
                        read > old.read_capacity_units || write > old.write_capacity_units;
                    let decreased =
                        read < old.read_capacity_units || write < old.write_capacity_units;
                    let mut next = meta.throughput.clone();
                    next.read_capacity_units = read;
                    next.write_capacity_units = write;
                    if increased {
                        next.last_increase = Some(now);
                    }
                    if decreased {
                        next.record_decrease(now);
                    }
                    meta.warm = meta.warm.at_least(read, write);
                    meta.throughput = next;
                } else if meta.billing_mode != BillingMode::Provisioned {
                    return Err(DynamoError::invalid_parameter(
                        "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
                    ));
                }
            }
            BillingMode::PayPerRequest => {
                if update.throughput.is_some() {
                    return Err(DynamoError::invalid_parameter(
                        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when \
                         BillingMode is PAY_PER_REQUEST",
                    ));
                }
                meta.throughput = Throughput::default();
                // On-demand indexes report zero provisioned throughput, like the table.
                for index in &mut meta.global_indexes {
                    index.throughput = None;
                }
            }
        }
        meta.billing_mode = mode;
        if let Some(warm) = update.warm {
            meta.warm = apply_warm(meta.warm, warm, &format!("table {name}"))?;
        }
        if let Some(on_demand) = update.on_demand {
            meta.on_demand = Some(on_demand);
        }
        if let Some(protect) = update.deletion_protection {
            meta.deletion_protection = protect;
        }
        if let Some(stream) = update.stream {
            match (stream, &meta.stream) {
                (Some(_), Some(_)) => {
                    return Err(DynamoError::validation(format!(
                        "Table already has an enabled stream: TableName: {name}"
                    )))
                }
                (Some(view_type), None) => {
                    meta.stream = Some(StreamMeta {
                        view_type,
                        label: iso8601_millis(now),
                    })
                }
                (None, Some(_)) => meta.stream = None,
                (None, None) => {
                    return Err(DynamoError::validation(format!(
                        "Table {name} does not have a stream enabled"
                    )))
                }
            }
        }
        if let Some(class) = update.table_class {
            meta.table_class = class;
        }
        if let Some(sse) = update.sse {
            meta.sse = Some(sse);
        }
        self.apply_index_updates(txn, meta, index_updates, attribute_definitions, now)
    }

    /// Applies `GlobalSecondaryIndexUpdates` (validated by the API layer, re-checked here
    /// under the DDL lock where a concurrent change could invalidate it) and stores the
    /// table. A created index is stored `CREATING` and backfilled in the background; a
    /// deleted one disappears from the catalog at once (this response still shows it
    /// `DELETING`) and its entries are removed in the background. `AttributeDefinitions` are
    /// kept equal to the key attributes in use, as DynamoDB keeps them.
    fn apply_index_updates(
        &self,
        txn: &mut dyn WriteTransaction,
        mut meta: TableMeta,
        index_updates: Vec<IndexUpdate>,
        attribute_definitions: Option<Vec<KeyAttribute>>,
        now: f64,
    ) -> Result<Updated, DynamoError> {
        let mut deleted = Vec::new();
        let mut backfills = Vec::new();
        for change in index_updates {
            match change {
                IndexUpdate::Create(new) => {
                    for attr in new.key_schema.attributes() {
                        if !meta
                            .attribute_definitions
                            .iter()
                            .any(|a| a.name == attr.name)
                        {
                            let defined = attribute_definitions
                                .iter()
                                .flatten()
                                .find(|a| a.name == attr.name)
                                .cloned()
                                .unwrap_or_else(|| attr.clone());
                            meta.attribute_definitions.push(defined);
                        }
                    }
                    let id = allocate_storage_ids(txn, 1)?;
                    backfills.push(id);
                    let mut index = new_index_meta(new, id, IndexStatus::Creating)?;
                    index.creating_until = self.delayed_until(now);
                    meta.global_indexes.push(index);
                }
                IndexUpdate::Update {
                    name,
                    throughput,
                    on_demand,
                    warm,
                } => {
                    let index = meta
                        .global_indexes
                        .iter_mut()
                        .find(|i| i.name == name)
                        .ok_or_else(|| index_not_found(&meta.name, &name))?;
                    if let Some(warm) = warm {
                        index.warm = apply_warm(index.warm, warm, &format!("index {name}"))?;
                    }
                    if let Some((read, write)) = throughput {
                        let t = index.throughput.get_or_insert_with(Throughput::default);
                        if read > t.read_capacity_units || write > t.write_capacity_units {
                            t.last_increase = Some(now);
                        }
                        if read < t.read_capacity_units || write < t.write_capacity_units {
                            t.record_decrease(now);
                        }
                        t.read_capacity_units = read;
                        t.write_capacity_units = write;
                        index.warm = index.warm.at_least(read, write);
                    }
                    if on_demand.is_some() {
                        index.on_demand = on_demand;
                    }
                }
                IndexUpdate::Delete { name } => {
                    let at = meta
                        .global_indexes
                        .iter()
                        .position(|i| i.name == name)
                        .ok_or_else(|| index_not_found(&meta.name, &name))?;
                    let mut index = meta.global_indexes.remove(at);
                    txn.put(&keys::dropped_table(index.storage_id), &[])?;
                    index.status = IndexStatus::Deleting;
                    if let Some(until) = self.delayed_until(now) {
                        meta.deleting_indexes.push(DeletingIndex {
                            index: index.clone(),
                            until,
                        });
                    }
                    deleted.push(index);
                }
            }
        }
        let in_use: Vec<String> = meta
            .key_schema
            .attributes()
            .chain(
                meta.global_indexes
                    .iter()
                    .chain(&meta.local_indexes)
                    .flat_map(|i| i.key_schema.attributes()),
            )
            .map(|a| a.name.clone())
            .collect();
        meta.attribute_definitions
            .retain(|a| in_use.contains(&a.name));
        meta.transition = self.transition_from(TransientStatus::Updating, now);
        meta.expire_delays(now);

        store_meta(txn, &mut meta)?;
        let stored = Arc::new(meta);
        // The response shows deleted indexes as DELETING.
        let mut shown = (*stored).clone();
        shown.global_indexes.extend(deleted.iter().cloned());
        let view = Self::view_in(txn, Arc::new(shown), "UPDATING")?;
        Ok(Updated {
            stored,
            view,
            deleted,
            backfills,
        })
    }

    /// Marks a backfilled index `ACTIVE` (unless it was deleted meanwhile).
    pub(crate) fn finish_backfill(
        &self,
        table: &str,
        index_storage_id: u32,
    ) -> Result<(), DynamoError> {
        let _ddl = self.lock_ddl();
        self.change_meta(table, |meta| {
            if let Some(index) = meta
                .global_indexes
                .iter_mut()
                .find(|i| i.storage_id == index_storage_id)
            {
                index.status = IndexStatus::Active;
            }
            Ok(())
        })
        .or_else(|e| match e.kind {
            // Dropped meanwhile: nothing to finish.
            crate::ErrorKind::ResourceNotFound => Ok(()),
            _ => Err(e),
        })
    }

    /// Applies `edit` to the stored metadata of `table` and stores it with the next
    /// generation.
    fn change_meta(
        &self,
        table: &str,
        mut edit: impl FnMut(&mut TableMeta) -> Result<(), DynamoError>,
    ) -> Result<(), DynamoError> {
        let meta = self.write(|txn| {
            let mut meta = (*self.existing(txn, table)?).clone();
            edit(&mut meta)?;
            store_meta(txn, &mut meta)?;
            Ok(Arc::new(meta))
        })?;
        self.cache_table(meta);
        Ok(())
    }

    /// The table a tagging operation's `ResourceArn` names. Not an ARN, or the ARN of an
    /// index: ValidationException; an ARN of another account than this server's:
    /// AccessDeniedException; a table that does not exist: ResourceNotFoundException.
    fn table_name_of_arn<'a>(&self, arn: &'a str) -> Result<&'a str, DynamoError> {
        if !arn.starts_with("arn:") {
            return Err(DynamoError::validation(format!(
                "Invalid ResourceArn provided as input {arn}"
            )));
        }
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if let [_, _, "dynamodb", _, account, resource] = parts.as_slice() {
            if resource.starts_with("table/") && resource.contains("/index/") {
                return Err(DynamoError::validation(format!(
                    "Invalid ResourceArn provided as input {arn}: only table or stream is \
                     accepted as the resource"
                )));
            }
            if *account != self.config.account_id {
                return Err(DynamoError::new(
                    crate::ErrorKind::AccessDenied,
                    format!(
                        "User: arn:aws:iam::{}:root is not authorized to access the resource \
                         {arn} of account {account}",
                        self.config.account_id
                    ),
                ));
            }
        }
        table_name_from_arn(arn)
            .filter(|name| self.table(name).is_some())
            .ok_or_else(|| arn_not_found(arn))
    }

    /// TagResource: adds tags, replacing the values of existing keys.
    pub fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> Result<(), DynamoError> {
        let _ddl = self.lock_ddl();
        let name = self.table_name_of_arn(arn)?;
        self.change_meta(name, |meta| {
            for tag in &tags {
                match meta.tags.iter_mut().find(|t| t.key == tag.key) {
                    Some(existing) => existing.value = tag.value.clone(),
                    None => meta.tags.push(tag.clone()),
                }
            }
            if meta.tags.len() > 50 {
                return Err(DynamoError::new(
                    crate::ErrorKind::LimitExceeded,
                    "The number of tags for the resource exceeds the maximum of 50",
                ));
            }
            Ok(())
        })
        .map_err(|e| not_found_as_arn(e, arn))
    }

    /// UntagResource: removes the tags with the given keys (absent keys are ignored).
    pub fn untag_resource(&self, arn: &str, keys_to_remove: &[String]) -> Result<(), DynamoError> {
        let _ddl = self.lock_ddl();
        let name = self.table_name_of_arn(arn)?;
        self.change_meta(name, |meta| {
            meta.tags.retain(|t| !keys_to_remove.contains(&t.key));
            Ok(())
        })
        .map_err(|e| not_found_as_arn(e, arn))
    }

    /// ListTagsOfResource.
    pub fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, DynamoError> {
        let name = self.table_name_of_arn(arn)?;
        self.table(name)
            .map(|meta| meta.tags.clone())
            .ok_or_else(|| arn_not_found(arn))
    }
}

/// Every storage id a table owns: its own and its indexes'.
fn storage_ids(meta: &TableMeta) -> Vec<u32> {
    std::iter::once(meta.storage_id)
        .chain(
            meta.global_indexes
                .iter()
                .chain(&meta.local_indexes)
                .map(|i| i.storage_id),
        )
        .collect()
}

fn table_not_found(name: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

/// DynamoDB's text for a tagging request on an ARN that names no table (its spelling).
fn arn_not_found(arn: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: ResourcArn: {arn} not found"
    ))
}

/// A table that vanished between the ARN check and the change is reported by its ARN.
fn not_found_as_arn(error: DynamoError, arn: &str) -> DynamoError {
    match error.kind {
        crate::ErrorKind::ResourceNotFound => arn_not_found(arn),
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601_millis(0.0), "1970-01-01T00:00:00.000");
        assert_eq!(iso8601_millis(1_700_000_000.123), "2023-11-14T22:13:20.123");
        assert_eq!(iso8601_millis(951_782_400.0), "2000-02-29T00:00:00.000");
    }
}
