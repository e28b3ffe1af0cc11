//! UpdateTable: changes billing mode, throughput, stream, table class, SSE, deletion protection
//! and the table's global secondary indexes (`GlobalSecondaryIndexUpdates` with the
//! `AttributeDefinitions` a new index needs) and warm throughput (of the table and of each
//! index; it can only grow). Replicas, multi-region consistency and global-table witnesses
//! are not supported yet and fail with a clear error.
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
//! 3. What depends on the table as it stands, which the engine checks inside its DDL
//!    transaction (`Engine::update_table`): the index exists (or does not, for a creation),
//!    its status allows the change, its throughput matches the billing mode the table will
//!    have, no other index is being built or removed; then the table-level settings.
//!
//! A new index is backfilled in the background and reported `CREATING` with
//! `Backfilling: true` until then.

use std::collections::HashSet;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use stator_engine::ddl::{IndexUpdate, NewIndex, TableUpdate};
use stator_engine::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType};
use stator_engine::{DynamoError, ErrorKind};

use super::create_table::model::*;
use crate::enums::{DynamoEnum, EnumValue, TableClass};
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
    pub warm_throughput: Option<WarmIn>,
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
    pub warm_throughput: Option<WarmIn>,
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
    let table_warm = warm(input.warm_throughput.as_ref());
    // `AttributeDefinitions` alone changes nothing, so it does not count here.
    if actions.is_empty()
        && billing.is_none()
        && throughput.is_none()
        && table_on_demand.is_none()
        && table_warm.is_none()
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

    // Stage 3, against the table as it stands, is the engine's.
    let table = table.unwrap_or_default();
    let creates = actions.iter().any(|a| matches!(a, Action::Create(_)));
    let update = TableUpdate {
        index_updates: index_updates(&actions, &definitions)?,
        attribute_definitions: creates.then(|| {
            definitions
                .iter()
                .map(|(name, attr_type)| KeyAttribute {
                    name: name.clone(),
                    attr_type: *attr_type,
                })
                .collect()
        }),
        billing_mode: billing,
        throughput,
        on_demand: table_on_demand,
        warm: table_warm,
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
            check_key_schema(
                v,
                create.key_schema.as_ref(),
                &format!("{at}.keySchema"),
                KeyShape::Global,
            );
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

/// Stage 2 for a new index: its key schema, that this request defines its key attributes,
/// and its projection.
fn check_new_index(
    index: &IndexIn,
    definitions: &[(String, ScalarType)],
) -> Result<(), DynamoError> {
    let name = index.index_name.as_deref().unwrap_or_default();
    let (hash, range) = key_schema_names(
        index.key_schema.as_deref().unwrap_or_default(),
        KeyShape::Global,
    )?;
    // The key attributes must be defined in this request's AttributeDefinitions, even when the
    // table already defines them (say, the table's own sort key): DynamoDB does not fall back
    // on the stored definitions here.
    let defined = |n: &String| definitions.iter().any(|(d, _)| d == n);
    if !hash.iter().chain(&range).all(defined) {
        return Err(DynamoError::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    projection(index.projection.as_ref(), name).map(|_| ())
}

/// The engine's form of the request's index updates (their checks against the table are the
/// engine's): a new index's key attributes typed by this request's definitions.
fn index_updates(
    actions: &[Action<'_>],
    definitions: &[(String, ScalarType)],
) -> Result<Vec<IndexUpdate>, DynamoError> {
    let mut updates = Vec::with_capacity(actions.len());
    for action in actions {
        let name = action.index_name().to_string();
        updates.push(match action {
            Action::Create(index) => {
                let (hash, range) = key_schema_names(
                    index.key_schema.as_deref().unwrap_or_default(),
                    KeyShape::Global,
                )?;
                let key_attribute = |attr: String| {
                    let attr_type = definitions
                        .iter()
                        .find(|(d, _)| *d == attr)
                        .map(|(_, t)| *t)
                        .ok_or_else(|| DynamoError::internal("unchecked index key definition"))?;
                    Ok::<_, DynamoError>(KeyAttribute {
                        name: attr,
                        attr_type,
                    })
                };
                let hash = hash
                    .into_iter()
                    .map(key_attribute)
                    .collect::<Result<_, _>>()?;
                let range = range
                    .into_iter()
                    .map(key_attribute)
                    .collect::<Result<_, _>>()?;
                let key_schema = KeySchema::from_components(hash, range).ok_or_else(|| {
                    DynamoError::validation("Invalid KeySchema: Some KeySchemaElement is missing")
                })?;
                IndexUpdate::Create(NewIndex {
                    key_schema,
                    projection: projection(index.projection.as_ref(), &name)?,
                    throughput: throughput_pair(index.provisioned_throughput.as_ref()),
                    on_demand: on_demand(index.on_demand_throughput.as_ref()),
                    warm: warm(index.warm_throughput.as_ref()),
                    name,
                })
            }
            Action::Update(update) => IndexUpdate::Update {
                name,
                throughput: throughput_pair(update.provisioned_throughput.as_ref()),
                on_demand: on_demand(update.on_demand_throughput.as_ref()),
                warm: warm(update.warm_throughput.as_ref()),
            },
            Action::Delete(_) => IndexUpdate::Delete { name },
        });
    }
    Ok(updates)
}
