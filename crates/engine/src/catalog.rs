//! Tables: create, describe, list, update, delete, and their tags.
//!
//! Catalog changes are rare and serialized by `Engine::ddl`; each one writes the table's
//! metadata record in a storage transaction and then updates the in-memory map, so the map
//! never shows a table that storage does not have. Dropping a table removes its metadata at
//! once (the name is free again immediately, like DynamoDB Local) and leaves a "dropped"
//! marker; a background thread deletes the table's items in bounded batches and then the
//! marker, resuming after a restart if needed. Table storage ids are never reused, so the
//! leftover items of a dropped table can never appear in a new table of the same name.
//!
//! Input validation (names, enums, attribute definitions versus key schemas, index rules)
//! happens in the API layer before these functions are called; what is checked here is what
//! depends on the stored state: existence, deletion protection, "nothing would change".

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::DynamoError;
use crate::keys;
use crate::schema::*;
use crate::{now_epoch_seconds, Engine};

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
}

/// One entry of `GlobalSecondaryIndexUpdates`, after validation.
#[derive(Clone, Debug)]
pub enum IndexUpdate {
    /// Add an index; existing items are backfilled in the background.
    Create(NewIndex),
    /// Change an index's throughput settings.
    Update {
        name: String,
        throughput: Option<(i64, i64)>,
        on_demand: Option<OnDemandThroughput>,
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
    pub deletion_protection: Option<bool>,
    /// `Some(Some(view))` enables a stream, `Some(None)` disables it.
    pub stream: Option<Option<String>>,
    pub table_class: Option<String>,
    pub sse: Option<SseMeta>,
}

/// Reserves `count` consecutive storage ids (for a table and its indexes) from the
/// never-reused counter, inside the caller's transaction, and returns the first.
pub(crate) fn allocate_storage_ids(
    txn: &mut dyn stator_storage::WriteTransaction,
    count: u32,
) -> Result<u32, DynamoError> {
    let first = match txn.get(&keys::next_storage_id())? {
        Some(bytes) => {
            let arr: [u8; 4] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| DynamoError::internal("corrupt table id counter"))?;
            u32::from_be_bytes(arr)
        }
        None => 1,
    };
    let next = first
        .checked_add(count)
        .ok_or_else(|| DynamoError::internal("storage id space exhausted"))?;
    txn.put(&keys::next_storage_id(), &next.to_be_bytes())?;
    Ok(first)
}

/// The catalog record of a new index.
pub(crate) fn new_index_meta(index: NewIndex, storage_id: u32, status: IndexStatus) -> IndexMeta {
    IndexMeta {
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
    }
}

/// Stats record: item count and total item bytes of a table.
pub(crate) fn decode_stats(bytes: &[u8]) -> (i64, i64) {
    let count = bytes
        .get(0..8)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_be_bytes)
        .unwrap_or(0);
    let size = bytes
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_be_bytes)
        .unwrap_or(0);
    (count, size)
}

pub(crate) fn encode_stats(count: i64, size: i64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&count.to_be_bytes());
    out[8..].copy_from_slice(&size.to_be_bytes());
    out
}

fn iso8601_millis(epoch_seconds: f64) -> String {
    // Civil-from-days (proleptic Gregorian), enough for stream labels.
    let millis_total = (epoch_seconds * 1000.0).round() as i64;
    let secs = millis_total.div_euclid(1000);
    let millis = millis_total.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02}T{h:02}:{m:02}:{s:02}.{millis:03}")
}

fn index_not_found(table: &str, index: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Table: {table} index: {index} not found"
    ))
}

/// Parses `arn:aws:dynamodb:<region>:<account>:table/<name>` into the table name.
pub fn table_name_from_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    if parts.next()? != "dynamodb" {
        return None;
    }
    let _region = parts.next()?;
    let _account = parts.next()?;
    let resource = parts.next()?;
    let name = resource.strip_prefix("table/")?;
    // Index or stream ARNs are not table ARNs.
    if name.is_empty() || name.contains('/') {
        return None;
    }
    Some(name)
}

impl Engine {
    fn lock_ddl(&self) -> std::sync::MutexGuard<'_, ()> {
        match self.ddl.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn set_table(&self, meta: Arc<TableMeta>) {
        let mut tables = match self.tables.write() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        tables.insert(meta.name.clone(), meta);
    }

    fn remove_table(&self, name: &str) {
        let mut tables = match self.tables.write() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        tables.remove(name);
    }

    fn stats(&self, storage_id: u32) -> Result<(i64, i64), DynamoError> {
        let snapshot = self.storage.snapshot()?;
        Ok(snapshot
            .get(&keys::table_stats(storage_id))?
            .map(|bytes| decode_stats(&bytes))
            .unwrap_or((0, 0)))
    }

    fn view(&self, meta: Arc<TableMeta>, status: &'static str) -> Result<TableView, DynamoError> {
        let (item_count, size_bytes) = self.stats(meta.storage_id)?;
        let index_stats = self.index_stats(&meta)?;
        Ok(TableView {
            meta,
            item_count,
            size_bytes,
            index_stats,
            status,
        })
    }

    fn index_stats(&self, meta: &TableMeta) -> Result<HashMap<String, (i64, i64)>, DynamoError> {
        let snapshot = self.storage.snapshot()?;
        let mut out = HashMap::new();
        for index in meta.global_indexes.iter().chain(&meta.local_indexes) {
            let stats = snapshot
                .get(&keys::table_stats(index.storage_id))?
                .map(|bytes| decode_stats(&bytes))
                .unwrap_or((0, 0));
            out.insert(index.name.clone(), stats);
        }
        Ok(out)
    }

    /// Creates a table. `ResourceInUseException` if the name is taken.
    pub fn create_table(&self, new: NewTable) -> Result<TableView, DynamoError> {
        let _ddl = self.lock_ddl();
        if self.table(&new.name).is_some() {
            return Err(DynamoError::resource_in_use(format!(
                "Table already exists: {}",
                new.name
            )));
        }
        let now = now_epoch_seconds();
        let mut txn = self.storage.begin_write()?;
        let index_count = (new.global_indexes.len() + new.local_indexes.len()) as u32;
        let storage_id = allocate_storage_ids(txn.as_mut(), 1 + index_count)?;
        let mut next_index_id = storage_id + 1;
        let mut index_meta = |index: NewIndex| {
            let id = next_index_id;
            next_index_id += 1;
            new_index_meta(index, id, IndexStatus::Active)
        };
        let global_indexes: Vec<IndexMeta> = new
            .global_indexes
            .into_iter()
            .map(&mut index_meta)
            .collect();
        let local_indexes: Vec<IndexMeta> =
            new.local_indexes.into_iter().map(&mut index_meta).collect();

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
        let meta = TableMeta {
            name: new.name,
            storage_id,
            table_id: uuid::Uuid::new_v4().to_string(),
            arn,
            creation_time: now,
            attribute_definitions: new.attribute_definitions,
            key_schema: new.key_schema,
            billing_mode: new.billing_mode,
            pay_per_request_since: (new.billing_mode == BillingMode::PayPerRequest).then_some(now),
            throughput,
            on_demand: new.on_demand,
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
        };
        let encoded = serde_json::to_vec(&meta)
            .map_err(|e| DynamoError::internal(format!("cannot encode table metadata: {e}")))?;
        txn.put(&keys::table_meta(&meta.name), &encoded)?;
        txn.put(&keys::table_stats(storage_id), &encode_stats(0, 0))?;
        txn.commit()?;
        let meta = Arc::new(meta);
        self.set_table(meta.clone());
        Ok(TableView {
            meta,
            item_count: 0,
            size_bytes: 0,
            index_stats: HashMap::new(),
            status: "CREATING",
        })
    }

    /// DescribeTable. DynamoDB words a missing table here as
    /// `Requested resource not found: Table: <name> not found`.
    pub fn describe_table(&self, name: &str) -> Result<TableView, DynamoError> {
        let meta = self.table(name).ok_or_else(|| {
            DynamoError::resource_not_found(format!(
                "Requested resource not found: Table: {name} not found"
            ))
        })?;
        self.view(meta, "ACTIVE")
    }

    /// Table names in order, starting after `exclusive_start`, at most `limit` of them, and
    /// the last name returned when more remain.
    pub fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let tables = match self.tables.read() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut names: Vec<&String> = tables
            .keys()
            .filter(|name| exclusive_start.is_none_or(|start| name.as_str() > start))
            .collect();
        names.sort();
        let more = names.len() > limit;
        let page: Vec<String> = names.into_iter().take(limit).cloned().collect();
        let last = if more { page.last().cloned() } else { None };
        (page, last)
    }

    /// DeleteTable: refuses protected tables, removes the table at once and schedules its
    /// items for background deletion.
    pub fn delete_table(&self, name: &str) -> Result<TableView, DynamoError> {
        let _ddl = self.lock_ddl();
        let meta = self.table(name).ok_or_else(|| {
            DynamoError::resource_not_found(format!(
                "Requested resource not found: Table: {name} not found"
            ))
        })?;
        if meta.deletion_protection {
            return Err(DynamoError::validation(
                "Resource cannot be deleted as it is currently protected against deletion. \
                 Disable deletion protection first.",
            ));
        }
        let (item_count, size_bytes) = self.stats(meta.storage_id)?;
        let index_stats = self.index_stats(&meta)?;
        let storage_ids: Vec<u32> = std::iter::once(meta.storage_id)
            .chain(
                meta.global_indexes
                    .iter()
                    .chain(&meta.local_indexes)
                    .map(|i| i.storage_id),
            )
            .collect();
        let mut txn = self.storage.begin_write()?;
        txn.delete(&keys::table_meta(name))?;
        for id in &storage_ids {
            txn.put(&keys::dropped_table(*id), &[])?;
        }
        txn.commit()?;
        self.remove_table(name);
        for id in storage_ids {
            self.schedule_cleanup(id);
        }
        Ok(TableView {
            meta,
            item_count,
            size_bytes,
            index_stats,
            status: "DELETING",
        })
    }

    /// UpdateTable for table-level settings. Index changes are handled elsewhere.
    pub fn update_table(
        &self,
        name: &str,
        mut update: TableUpdate,
    ) -> Result<TableView, DynamoError> {
        let _ddl = self.lock_ddl();
        let current = self.table(name).ok_or_else(|| {
            DynamoError::resource_not_found(format!(
                "Requested resource not found: Table: {name} not found"
            ))
        })?;
        let mut meta = (*current).clone();
        let now = now_epoch_seconds();
        let index_updates = std::mem::take(&mut update.index_updates);
        let attribute_definitions = update.attribute_definitions.take();

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
                    if update.billing_mode.is_none()
                        && meta.billing_mode == BillingMode::Provisioned
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
                        next.last_decrease = Some(now);
                        next.decreases_today += 1;
                    }
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
        self.apply_index_updates(meta, index_updates, attribute_definitions, now)
    }

    /// Applies `GlobalSecondaryIndexUpdates` (validated by the API layer, re-checked here
    /// under the DDL lock where a concurrent change could invalidate it) and stores the
    /// table. A created index is stored `CREATING` and backfilled in the background; a
    /// deleted one disappears from the catalog at once (this response still shows it
    /// `DELETING`) and its entries are removed in the background. `AttributeDefinitions` are
    /// kept equal to the key attributes in use, as DynamoDB keeps them.
    fn apply_index_updates(
        &self,
        mut meta: TableMeta,
        index_updates: Vec<IndexUpdate>,
        attribute_definitions: Option<Vec<KeyAttribute>>,
        now: f64,
    ) -> Result<TableView, DynamoError> {
        let mut deleted = Vec::new();
        let mut backfills = Vec::new();
        let mut txn = self.storage.begin_write()?;
        for change in index_updates {
            match change {
                IndexUpdate::Create(new) => {
                    let taken = meta
                        .global_indexes
                        .iter()
                        .chain(&meta.local_indexes)
                        .any(|i| i.name == new.name);
                    if taken {
                        return Err(DynamoError::invalid_parameter(
                            "Attempting to create an index which already exists",
                        ));
                    }
                    if meta
                        .global_indexes
                        .iter()
                        .any(|i| i.status != IndexStatus::Active)
                    {
                        return Err(DynamoError::new(
                            crate::ErrorKind::LimitExceeded,
                            "Subscriber limit exceeded: Only 1 online index can be created or \
                             deleted simultaneously per table",
                        ));
                    }
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
                    let id = allocate_storage_ids(txn.as_mut(), 1)?;
                    backfills.push(id);
                    meta.global_indexes
                        .push(new_index_meta(new, id, IndexStatus::Creating));
                }
                IndexUpdate::Update {
                    name,
                    throughput,
                    on_demand,
                } => {
                    let index = meta
                        .global_indexes
                        .iter_mut()
                        .find(|i| i.name == name)
                        .ok_or_else(|| index_not_found(&meta.name, &name))?;
                    if let Some((read, write)) = throughput {
                        let t = index.throughput.get_or_insert_with(Throughput::default);
                        if read > t.read_capacity_units || write > t.write_capacity_units {
                            t.last_increase = Some(now);
                        }
                        if read < t.read_capacity_units || write < t.write_capacity_units {
                            t.last_decrease = Some(now);
                            t.decreases_today += 1;
                        }
                        t.read_capacity_units = read;
                        t.write_capacity_units = write;
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

        let encoded = serde_json::to_vec(&meta)
            .map_err(|e| DynamoError::internal(format!("cannot encode table metadata: {e}")))?;
        txn.put(&keys::table_meta(&meta.name), &encoded)?;
        txn.commit()?;
        let table = meta.name.clone();
        let stored = Arc::new(meta);
        self.set_table(stored.clone());
        for index in &deleted {
            self.schedule_cleanup(index.storage_id);
        }
        for id in backfills {
            self.schedule(crate::background::Job::Backfill {
                table: table.clone(),
                index_storage_id: id,
            });
        }
        // The response shows deleted indexes as DELETING.
        let mut shown = (*stored).clone();
        shown.global_indexes.extend(deleted);
        self.view(Arc::new(shown), "UPDATING")
    }

    /// Marks a backfilled index `ACTIVE` (unless it was deleted meanwhile).
    pub(crate) fn finish_backfill(
        &self,
        table: &str,
        index_storage_id: u32,
    ) -> Result<(), DynamoError> {
        let _ddl = self.lock_ddl();
        let Some(current) = self.table(table) else {
            return Ok(());
        };
        let mut meta = (*current).clone();
        let Some(index) = meta
            .global_indexes
            .iter_mut()
            .find(|i| i.storage_id == index_storage_id)
        else {
            return Ok(());
        };
        index.status = IndexStatus::Active;
        self.store_meta(meta, "ACTIVE").map(|_| ())
    }

    fn store_meta(&self, meta: TableMeta, status: &'static str) -> Result<TableView, DynamoError> {
        let encoded = serde_json::to_vec(&meta)
            .map_err(|e| DynamoError::internal(format!("cannot encode table metadata: {e}")))?;
        let mut txn = self.storage.begin_write()?;
        txn.put(&keys::table_meta(&meta.name), &encoded)?;
        txn.commit()?;
        let meta = Arc::new(meta);
        self.set_table(meta.clone());
        self.view(meta, status)
    }

    fn table_by_arn(&self, arn: &str) -> Result<Arc<TableMeta>, DynamoError> {
        table_name_from_arn(arn)
            .and_then(|name| self.table(name))
            .ok_or_else(|| {
                DynamoError::resource_not_found(format!(
                    "Requested resource not found: ResourcArn: {arn} not found"
                ))
            })
    }

    /// TagResource: adds tags, replacing the values of existing keys.
    pub fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> Result<(), DynamoError> {
        let _ddl = self.lock_ddl();
        let mut meta = (*self.table_by_arn(arn)?).clone();
        for tag in tags {
            match meta.tags.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => meta.tags.push(tag),
            }
        }
        if meta.tags.len() > 50 {
            return Err(DynamoError::new(
                crate::ErrorKind::LimitExceeded,
                "The number of tags for the resource exceeds the maximum of 50",
            ));
        }
        self.store_meta(meta, "ACTIVE").map(|_| ())
    }

    /// UntagResource: removes the tags with the given keys (absent keys are ignored).
    pub fn untag_resource(&self, arn: &str, keys_to_remove: &[String]) -> Result<(), DynamoError> {
        let _ddl = self.lock_ddl();
        let mut meta = (*self.table_by_arn(arn)?).clone();
        meta.tags.retain(|t| !keys_to_remove.contains(&t.key));
        self.store_meta(meta, "ACTIVE").map(|_| ())
    }

    /// ListTagsOfResource.
    pub fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, DynamoError> {
        Ok(self.table_by_arn(arn)?.tags.clone())
    }

    fn schedule_cleanup(&self, storage_id: u32) {
        self.schedule(crate::background::Job::Drop(storage_id));
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

    #[test]
    fn table_arns_parse_and_other_arns_do_not() {
        assert_eq!(
            table_name_from_arn("arn:aws:dynamodb:us-east-1:000000000000:table/Music"),
            Some("Music")
        );
        assert_eq!(
            table_name_from_arn("arn:aws:dynamodb:us-east-1:0:table/Music/index/g"),
            None
        );
        assert_eq!(table_name_from_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(table_name_from_arn("Music"), None);
    }

    #[test]
    fn stats_round_trip_and_tolerate_short_records() {
        assert_eq!(decode_stats(&encode_stats(12, 3456)), (12, 3456));
        assert_eq!(decode_stats(&[]), (0, 0));
    }
}
