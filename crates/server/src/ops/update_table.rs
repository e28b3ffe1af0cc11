//! UpdateTable: changes billing mode, throughput, stream, table class, SSE or deletion
//! protection. Index changes (`GlobalSecondaryIndexUpdates`) arrive with index support and
//! fail with a clear error until then; replicas and warm throughput are not supported.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use stator_engine::catalog::TableUpdate;
use stator_engine::DynamoError;

use super::create_table::model::*;
use super::Context;
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    table_name: Option<String>,
    attribute_definitions: Option<IgnoredAny>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<ThroughputIn>,
    global_secondary_index_updates: Option<IgnoredAny>,
    stream_specification: Option<StreamSpecificationIn>,
    #[serde(rename = "SSESpecification")]
    sse_specification: Option<SseSpecificationIn>,
    replica_updates: Option<IgnoredAny>,
    table_class: Option<String>,
    deletion_protection_enabled: Option<bool>,
    on_demand_throughput: Option<OnDemandIn>,
    warm_throughput: Option<IgnoredAny>,
    multi_region_consistency: Option<IgnoredAny>,
    global_table_witness_updates: Option<IgnoredAny>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    table_description: serde_json::Value,
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.one_of(
        input.billing_mode.as_deref(),
        "billingMode",
        validate::BILLING_MODES,
        false,
    );
    check_throughput(
        &mut v,
        input.provisioned_throughput.as_ref(),
        "provisionedThroughput",
    );
    check_stream(
        &mut v,
        input.stream_specification.as_ref(),
        "streamSpecification",
    );
    check_sse(&mut v, input.sse_specification.as_ref(), "sSESpecification");
    v.one_of(
        input.table_class.as_deref(),
        "tableClass",
        validate::TABLE_CLASSES,
        false,
    );
    v.finish()?;

    for (present, name) in [
        (
            input.attribute_definitions.is_some(),
            "AttributeDefinitions",
        ),
        (
            input.global_secondary_index_updates.is_some(),
            "GlobalSecondaryIndexUpdates",
        ),
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

    let stream = match &input.stream_specification {
        None => None,
        Some(s) if s.stream_enabled == Some(true) => match &s.stream_view_type {
            Some(view) => Some(Some(view.clone())),
            None => {
                return Err(DynamoError::invalid_parameter(
                    "You must specify a StreamViewType when enabling a stream",
                ))
            }
        },
        Some(_) => Some(None),
    };
    let update = TableUpdate {
        billing_mode: billing_mode(input.billing_mode.as_deref()),
        throughput: throughput_pair(input.provisioned_throughput.as_ref()),
        on_demand: on_demand(input.on_demand_throughput.as_ref()),
        deletion_protection: input.deletion_protection_enabled,
        stream,
        table_class: input.table_class,
        sse: sse(input.sse_specification.as_ref()),
    };
    if update.billing_mode.is_none()
        && update.throughput.is_none()
        && update.on_demand.is_none()
        && update.deletion_protection.is_none()
        && update.stream.is_none()
        && update.table_class.is_none()
        && input.sse_specification.is_none()
    {
        return Err(DynamoError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, \
             GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    let view = ctx.engine.update_table(table.unwrap_or_default(), update)?;
    super::encode(&Output {
        table_description: super::table_description::describe(&view),
    })
}
