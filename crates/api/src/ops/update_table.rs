//! UpdateTable: changes billing mode, throughput, stream, table class, SSE, deletion protection
//! and the table's global secondary indexes (`GlobalSecondaryIndexUpdates` with the
//! `AttributeDefinitions` a new index needs). Replicas, warm throughput, multi-region
//! consistency and global-table witnesses are not supported yet and fail with a clear error.
//!
//! A request goes through three stages, the way DynamoDB reports its errors:
//!
//! 1. Request constraints ([`Validator`]), all violations in one message, in the order of the
//!    request's members: `attributeDefinitions`, `tableName`, `billingMode`,
//!    `provisionedThroughput`, `globalSecondaryIndexUpdates` (each entry's `update`, `create`,
//!    `delete`), `streamSpecification`, `sSESpecification`, `tableClass`.
//! 2. What the request means on its own (`plan_index_updates` and friends): every index
//!    update names exactly one action, at most one index is created or deleted, a new index's
//!    key schema is HASH-then-RANGE, its key attributes are defined in *this request's*
//!    `AttributeDefinitions`, its projection is consistent.
//! 3. What depends on the table as it stands (`resolve_index_updates`): the index exists (or
//!    does not, for a creation), its status allows the change, its throughput matches the
//!    billing mode the table will have, no other index is being built or removed.
//!
//! The engine then applies the update under its DDL lock (`Engine::update_table`); a new index
//! is backfilled in the background and reported `CREATING` with `Backfilling: true` until then.

use std::collections::HashSet;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use stator_engine::ddl::{IndexUpdate, NewIndex, TableUpdate};
use stator_engine::schema::{
    BillingMode, IndexMeta, IndexStatus, KeyAttribute, KeySchema, ScalarType, TableMeta,
};
use stator_engine::{DynamoError, ErrorKind};

use super::create_table::model::*;
use crate::enums::{DynamoEnum, EnumValue, KeyType, TableClass};
use crate::validate::{self, Validator};
use crate::Context;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub table_name: Option<String>,
    pub attribute_definitions: Option<Vec<AttributeDefinitionIn>>,
    pub billing_mode: Option<EnumValue<BillingMode>>,
    pub provisioned_throughput: Option<ThroughputIn>,
    pub global_secondary_index_updates: Option<Vec<IndexUpdateIn>>,
    pub stream_specification: Option<StreamSpecificationIn>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecificationIn>,
    pub replica_updates: Option<IgnoredAny>,
    pub table_class: Option<EnumValue<TableClass>>,
    pub deletion_protection_enabled: Option<bool>,
    pub on_demand_throughput: Option<OnDemandIn>,
    pub warm_throughput: Option<IgnoredAny>,
    pub multi_region_consistency: Option<IgnoredAny>,
    pub global_table_witness_updates: Option<IgnoredAny>,
}

/// One `GlobalSecondaryIndexUpdate`: exactly one of its members must be present.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct IndexUpdateIn {
    pub update: Option<UpdateIndexIn>,
    /// `CreateGlobalSecondaryIndexAction` has the members of a CreateTable index definition.
    pub create: Option<IndexIn>,
    pub delete: Option<DeleteIndexIn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateIndexIn {
    pub index_name: Option<String>,
    pub provisioned_throughput: Option<ThroughputIn>,
    pub on_demand_throughput: Option<OnDemandIn>,
    pub warm_throughput: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteIndexIn {
    pub index_name: Option<String>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub table_description: serde_json::Value,
}

/// The "only one online index operation" limit. DynamoDB reports it as a
/// `LimitExceededException` both for two creations/deletions in one request and for a new one
/// while another index of the table is still being built or removed.
const ONE_ONLINE_INDEX: &str =
    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table";

fn invalid(detail: impl std::fmt::Display) -> DynamoError {
    DynamoError::invalid_parameter(detail)
}

fn one_online_index() -> DynamoError {
    DynamoError::new(ErrorKind::LimitExceeded, ONE_ONLINE_INDEX)
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    // Stage 1: request constraints.
    let mut v = Validator::new();
    check_attribute_definitions(&mut v, input.attribute_definitions.as_ref());
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    let billing = v.enumeration(input.billing_mode.as_ref(), "billingMode", false);
    check_throughput(
        &mut v,
        input.provisioned_throughput.as_ref(),
        "provisionedThroughput",
    );
    check_index_updates(&mut v, input.global_secondary_index_updates.as_ref());
    check_stream(
        &mut v,
        input.stream_specification.as_ref(),
        "streamSpecification",
    );
    check_sse(&mut v, input.sse_specification.as_ref(), "sSESpecification");
    let table_class = v.enumeration(input.table_class.as_ref(), "tableClass", false);
    v.finish()?;

    for (present, name) in [
        (input.replica_updates.is_some(), "ReplicaUpdates"),
        (input.warm_throughput.is_some(), "WarmThroughput"),
        (
            input.multi_region_consistency.is_some(),
            "MultiRegionConsistency",
        ),
        (
            input.global_table_witness_updates.is_some(),
            "GlobalTableWitnessUpdates",
        ),
    ] {
        if present {
            return Err(super::not_yet(name));
        }
    }
    for entry in input.global_secondary_index_updates.iter().flatten() {
        let warm = entry
            .create
            .as_ref()
            .is_some_and(|c| c.warm_throughput.is_some())
            || entry
                .update
                .as_ref()
                .is_some_and(|u| u.warm_throughput.is_some());
        if warm {
            return Err(super::not_yet("WarmThroughput"));
        }
    }

    // Stage 2: the request on its own.
    let actions = plan_index_updates(input.global_secondary_index_updates.as_deref())?;
    let stream = match &input.stream_specification {
        None => None,
        Some(s) if s.stream_enabled == Some(true) => match &s.stream_view_type {
            Some(view) => Some(view.value().map(|v| v.as_str().to_string())),
            None => {
                return Err(invalid(
                    "You must specify a StreamViewType when enabling a stream",
                ))
            }
        },
        Some(_) => Some(None),
    };
    let throughput = throughput_pair(input.provisioned_throughput.as_ref());
    let table_on_demand = on_demand(input.on_demand_throughput.as_ref());
    // `AttributeDefinitions` alone changes nothing, so it does not count here.
    if actions.is_empty()
        && billing.is_none()
        && throughput.is_none()
        && table_on_demand.is_none()
        && input.deletion_protection_enabled.is_none()
        && stream.is_none()
        && input.table_class.is_none()
        && input.sse_specification.is_none()
    {
        return Err(DynamoError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, \
             GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    let definitions = request_definitions(input.attribute_definitions.as_deref())?;
    for action in &actions {
        if let Action::Create(index) = action {
            check_new_index(index, &definitions)?;
        }
    }

    // Stage 3: against the table as it stands.
    let table = table.unwrap_or_default();
    let meta = ctx.engine.table(table).ok_or_else(|| {
        DynamoError::resource_not_found(format!(
            "Requested resource not found: Table: {table} not found"
        ))
    })?;
    let resolved = resolve_index_updates(&meta, &actions, &definitions, billing)?;

    let update = TableUpdate {
        index_updates: resolved.updates,
        attribute_definitions: resolved.new_definitions,
        billing_mode: billing,
        throughput,
        on_demand: table_on_demand,
        deletion_protection: input.deletion_protection_enabled,
        stream,
        table_class: table_class.map(|c| c.as_str().to_string()),
        sse: sse(input.sse_specification.as_ref()),
    };
    let view = ctx.engine.update_table(table, update)?;
    Ok(Output {
        table_description: super::table_description::describe(&view),
    })
}

fn check_attribute_definitions(v: &mut Validator, defs: Option<&Vec<AttributeDefinitionIn>>) {
    for (i, d) in defs.into_iter().flatten().enumerate() {
        let at = format!("attributeDefinitions.{}.member", i + 1);
        v.text(
            d.attribute_name.as_deref(),
            &format!("{at}.attributeName"),
            validate::ATTRIBUTE_NAME,
            true,
        );
        v.enumeration(
            d.attribute_type.as_ref(),
            &format!("{at}.attributeType"),
            true,
        );
    }
}

/// Constraints of each `GlobalSecondaryIndexUpdate`, members in the model's order (`Update`,
/// `Create`, `Delete`). Whether exactly one is present is a semantic check (stage 2).
fn check_index_updates(v: &mut Validator, updates: Option<&Vec<IndexUpdateIn>>) {
    for (i, entry) in updates.into_iter().flatten().enumerate() {
        let at = format!("globalSecondaryIndexUpdates.{}.member", i + 1);
        if let Some(update) = &entry.update {
            let at = format!("{at}.update");
            v.text(
                update.index_name.as_deref(),
                &format!("{at}.indexName"),
                validate::INDEX_NAME,
                true,
            );
            check_throughput(
                v,
                update.provisioned_throughput.as_ref(),
                &format!("{at}.provisionedThroughput"),
            );
        }
        if let Some(create) = &entry.create {
            let at = format!("{at}.create");
            v.text(
                create.index_name.as_deref(),
                &format!("{at}.indexName"),
                validate::INDEX_NAME,
                true,
            );
            check_key_schema(v, create.key_schema.as_ref(), &format!("{at}.keySchema"));
            check_projection(v, create.projection.as_ref(), &format!("{at}.projection"));
            check_throughput(
                v,
                create.provisioned_throughput.as_ref(),
                &format!("{at}.provisionedThroughput"),
            );
        }
        if let Some(delete) = &entry.delete {
            v.text(
                delete.index_name.as_deref(),
                &format!("{at}.delete.indexName"),
                validate::INDEX_NAME,
                true,
            );
        }
    }
}

/// One index change, after stage 1 (so its index name is present and well-formed).
enum Action<'a> {
    Create(&'a IndexIn),
    Update(&'a UpdateIndexIn),
    Delete(&'a DeleteIndexIn),
}

impl Action<'_> {
    fn index_name(&self) -> &str {
        let name = match self {
            Action::Create(c) => &c.index_name,
            Action::Update(u) => &u.index_name,
            Action::Delete(d) => &d.index_name,
        };
        name.as_deref().unwrap_or_default()
    }

    fn creates_or_deletes(&self) -> bool {
        !matches!(self, Action::Update(_))
    }
}

/// Stage 2 for `GlobalSecondaryIndexUpdates`: one action per entry, at most one index created
/// or deleted, and no index named twice.
fn plan_index_updates(updates: Option<&[IndexUpdateIn]>) -> Result<Vec<Action<'_>>, DynamoError> {
    let mut actions = Vec::new();
    for entry in updates.into_iter().flatten() {
        let action = match (&entry.update, &entry.create, &entry.delete) {
            (Some(update), None, None) => Action::Update(update),
            (None, Some(create), None) => Action::Create(create),
            (None, None, Some(delete)) => Action::Delete(delete),
            _ => {
                return Err(invalid(
                    "Exactly one of Create, Update or Delete must be specified for each \
                     GlobalSecondaryIndexUpdate",
                ))
            }
        };
        actions.push(action);
    }
    if actions.iter().filter(|a| a.creates_or_deletes()).count() > 1 {
        return Err(one_online_index());
    }
    let mut named = HashSet::new();
    for action in &actions {
        if !named.insert(action.index_name()) {
            return Err(invalid(format!(
                "Only one global secondary index update per index is allowed simultaneously. \
                 Index: {}",
                action.index_name()
            )));
        }
    }
    Ok(actions)
}

/// The request's `AttributeDefinitions` as (name, type), refusing a name listed twice.
fn request_definitions(
    defs: Option<&[AttributeDefinitionIn]>,
) -> Result<Vec<(String, ScalarType)>, DynamoError> {
    let mut out: Vec<(String, ScalarType)> = Vec::new();
    for d in defs.into_iter().flatten() {
        let name = d.attribute_name.clone().unwrap_or_default();
        if out.iter().any(|(n, _)| *n == name) {
            return Err(invalid(format!(
                "Duplicate AttributeName in AttributeDefinitions: {name}"
            )));
        }
        let attr_type = d
            .attribute_type
            .as_ref()
            .and_then(EnumValue::value)
            .ok_or_else(|| DynamoError::internal("unchecked attribute definition"))?;
        out.push((name, attr_type));
    }
    Ok(out)
}

/// The (HASH, optional RANGE) attribute names of a constraint-checked key schema, in
/// DynamoDB's words for a malformed one.
fn key_names(elements: &[KeySchemaElementIn]) -> Result<(String, Option<String>), DynamoError> {
    let name = |e: &KeySchemaElementIn| e.attribute_name.clone().unwrap_or_default();
    let Some(first) = elements.first() else {
        return Err(DynamoError::validation(
            "Invalid KeySchema: Some KeySchemaElement is missing",
        ));
    };
    let key_type = |e: &KeySchemaElementIn| e.key_type.as_ref().and_then(EnumValue::value);
    if key_type(first) != Some(KeyType::Hash) {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    let Some(second) = elements.get(1) else {
        return Ok((name(first), None));
    };
    if key_type(second) != Some(KeyType::Range) {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ));
    }
    if name(second) == name(first) {
        return Err(DynamoError::validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    Ok((name(first), Some(name(second))))
}

/// Stage 2 for a new index: its key schema, that this request defines its key attributes,
/// and its projection.
fn check_new_index(
    index: &IndexIn,
    definitions: &[(String, ScalarType)],
) -> Result<(), DynamoError> {
    let name = index.index_name.as_deref().unwrap_or_default();
    let (hash, range) = key_names(index.key_schema.as_deref().unwrap_or_default())?;
    // The key attributes must be defined in this request's AttributeDefinitions, even when the
    // table already defines them (say, the table's own sort key): DynamoDB does not fall back
    // on the stored definitions here.
    let defined = |n: &str| definitions.iter().any(|(d, _)| d == n);
    if !defined(&hash) || range.as_deref().is_some_and(|r| !defined(r)) {
        return Err(DynamoError::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    projection(index.projection.as_ref(), name).map(|_| ())
}

/// What stage 3 hands to the engine.
struct Resolved {
    updates: Vec<IndexUpdate>,
    /// Definitions of new index key attributes the table does not define yet; `None` when
    /// no index is created.
    new_definitions: Option<Vec<KeyAttribute>>,
}

fn find_global<'m>(meta: &'m TableMeta, name: &str) -> Option<&'m IndexMeta> {
    meta.global_indexes.iter().find(|i| i.name == name)
}

/// Not found, for an Update or Delete of an index the table does not have.
fn index_not_found(table: &str, index: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Table: {table} index: {index} not found"
    ))
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

/// Stage 3: every index change checked against the table, in request order, then the billing
/// mode switch, which needs throughput for every index that stays.
fn resolve_index_updates(
    meta: &TableMeta,
    actions: &[Action<'_>],
    definitions: &[(String, ScalarType)],
    billing: Option<BillingMode>,
) -> Result<Resolved, DynamoError> {
    let table = meta.name.as_str();
    let mode = billing.unwrap_or(meta.billing_mode);
    let switching = billing.is_some_and(|b| b != meta.billing_mode);
    let in_flight = |except: Option<&str>| {
        meta.global_indexes
            .iter()
            .any(|i| i.status != IndexStatus::Active && Some(i.name.as_str()) != except)
    };
    let mut updates = Vec::new();
    let mut new_definitions = None;
    for action in actions {
        let name = action.index_name().to_string();
        match action {
            Action::Create(index) => {
                if find_global(meta, &name).is_some()
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
                let throughput = throughput_pair(index.provisioned_throughput.as_ref());
                match (mode, throughput) {
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
                if mode == BillingMode::Provisioned && index.on_demand_throughput.is_some() {
                    return Err(on_demand_on_provisioned(&name));
                }
                let projection = projection(index.projection.as_ref(), &name)?;
                let projected: usize = meta
                    .global_indexes
                    .iter()
                    .chain(&meta.local_indexes)
                    .map(|i| i.projection.non_key_attributes.len())
                    .sum::<usize>()
                    + projection.non_key_attributes.len();
                if projected > 100 {
                    return Err(invalid(
                        "Number of projected attributes in all indexes exceeds limit of 100",
                    ));
                }
                let (hash, range) = key_names(index.key_schema.as_deref().unwrap_or_default())?;
                // DynamoDB keeps the type a table already gives an attribute and ignores a
                // conflicting redeclaration in the request; only new attributes are added.
                let mut added = Vec::new();
                let mut key_attribute = |attr: String| {
                    if let Some(existing) =
                        meta.attribute_definitions.iter().find(|d| d.name == attr)
                    {
                        return existing.clone();
                    }
                    let attr_type = definitions
                        .iter()
                        .find(|(d, _)| *d == attr)
                        .map(|(_, t)| *t)
                        .unwrap_or(ScalarType::S);
                    let defined = KeyAttribute {
                        name: attr,
                        attr_type,
                    };
                    added.push(defined.clone());
                    defined
                };
                let key_schema = KeySchema {
                    partition: key_attribute(hash),
                    sort: range.map(&mut key_attribute),
                };
                new_definitions = Some(added);
                updates.push(IndexUpdate::Create(NewIndex {
                    name,
                    key_schema,
                    projection,
                    throughput,
                    on_demand: on_demand(index.on_demand_throughput.as_ref()),
                }));
            }
            Action::Update(update) => {
                let Some(existing) = find_global(meta, &name) else {
                    return Err(index_not_found(table, &name));
                };
                if let Some(err) = index_in_use(table, existing) {
                    return Err(err);
                }
                let throughput = throughput_pair(update.provisioned_throughput.as_ref());
                let index_on_demand = on_demand(update.on_demand_throughput.as_ref());
                if throughput.is_none() && index_on_demand.is_none() {
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
                if mode == BillingMode::Provisioned && index_on_demand.is_some() {
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
                updates.push(IndexUpdate::Update {
                    name,
                    throughput,
                    on_demand: index_on_demand,
                });
            }
            Action::Delete(_) => {
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
                updates.push(IndexUpdate::Delete { name });
            }
        }
    }

    // Switching to PROVISIONED needs throughput for every global index that stays, given as
    // an Update of that index in the same request.
    if switching && mode == BillingMode::Provisioned {
        for index in &meta.global_indexes {
            let covered = updates.iter().any(|u| match u {
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
    Ok(Resolved {
        updates,
        new_definitions,
    })
}

/// A per-index `OnDemandThroughput` is accepted only on an on-demand table.
fn on_demand_on_provisioned(index: &str) -> DynamoError {
    invalid(format!(
        "OnDemandThroughput cannot be specified for index: {index} when BillingMode is \
         PROVISIONED"
    ))
}
