//! Query: one page of items from one partition of a table or secondary index, selected by a
//! key condition, optionally filtered and projected.
//!
//! Checks run in DynamoDB's order (see [`super::read_common`] for the shared phases):
//! request constraints; attribute values in `ExclusiveStartKey`; the request-only `Select`
//! rules; expressions and legacy parameters; then, with the table: index existence and
//! state, `ConsistentRead` and `Select=ALL_ATTRIBUTES` on a GSI, attributes a GSI does not
//! project, the key condition against
//! the (index's) key schema, key attributes in the filter, and the start key's shape and
//! position. Only then is the engine called.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::query::QueryRequest;
use stator_engine::DynamoError;
use stator_types::{AttributeValue, Checked, Item};

use super::expressions::OrderedMap;
use super::read_common::{self, ConditionIn, Operation, Target};
use super::Context;
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    table_name: Option<String>,
    index_name: Option<String>,
    select: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    limit: Option<i64>,
    consistent_read: Option<bool>,
    key_conditions: Option<OrderedMap<ConditionIn>>,
    query_filter: Option<OrderedMap<ConditionIn>>,
    conditional_operator: Option<String>,
    scan_index_forward: Option<bool>,
    exclusive_start_key: Option<Checked<Item>>,
    return_consumed_capacity: Option<String>,
    projection_expression: Option<String>,
    filter_expression: Option<String>,
    key_condition_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<HashMap<String, Checked<AttributeValue>>>,
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;

    // 1. Request constraints, in the order of the members in the API model.
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.text(
        input.index_name.as_deref(),
        "indexName",
        validate::INDEX_NAME,
        false,
    );
    v.one_of(
        input.select.as_deref(),
        "select",
        read_common::SELECT_VALUES,
        false,
    );
    if let Some(names) = &input.attributes_to_get {
        v.list_len(
            names.len(),
            &format!("[{}]", names.join(", ")),
            "attributesToGet",
            1,
            usize::MAX,
        );
    }
    v.int_range(input.limit, "limit", 1, i64::MAX, false);
    v.one_of(
        input.conditional_operator.as_deref(),
        "conditionalOperator",
        validate::CONDITIONAL_OPERATORS,
        false,
    );
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        validate::RETURN_CONSUMED_CAPACITY,
        false,
    );
    v.finish()?;

    // 2. Attribute values.
    let start_key = match input.exclusive_start_key {
        None => None,
        Some(Checked(Ok(key))) => Some(key),
        Some(Checked(Err(e))) => return Err(DynamoError::validation(e.message())),
    };

    // 3. Select rules that need only the request.
    let select = read_common::parse_select(input.select.as_deref());
    read_common::check_select(
        Operation::Query,
        select,
        input.attributes_to_get.is_some(),
        input.projection_expression.is_some(),
        input.index_name.is_some(),
    )?;

    // 4. Expressions.
    let prepared = read_common::prepare(read_common::Inputs {
        operation: Operation::Query,
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        key_condition: input.key_condition_expression.as_deref(),
        filter: input.filter_expression.as_deref(),
        projection: input.projection_expression.as_deref(),
        key_conditions: input.key_conditions.as_ref(),
        filter_map: input.query_filter.as_ref(),
        conditional_operator: input.conditional_operator.as_deref(),
        attributes_to_get: input.attributes_to_get.as_ref(),
    })?;

    // 5. What needs the table.
    let table = super::require_table_name(table)?;
    let target = Target::resolve(ctx, table, input.index_name.as_deref())?;
    let consistent = input.consistent_read.unwrap_or(false);
    target.check_read_options(consistent, select)?;
    target.check_gsi_projection(prepared.projection.as_ref(), prepared.filter.as_ref())?;
    let key_condition = prepared.key_condition.as_ref().ok_or_else(|| {
        DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in \
             the request.",
        )
    })?;
    let schema = target.key_schema();
    let key = read_common::check_key_condition(key_condition, schema)?;
    if let Some(filter) = &prepared.filter {
        read_common::check_filter_keys(filter, schema)?;
    }
    let forward = input.scan_index_forward.unwrap_or(true);
    if let Some(start) = &start_key {
        target.check_start_key(Operation::Query, start)?;
        read_common::check_start_key_in_range(start, schema, &key, forward)?;
    }

    // 6. The read.
    let index = target.index_name();
    let select =
        read_common::effective_select(select, prepared.projection.is_some(), index.is_some());
    let wanted = super::return_capacity(input.return_consumed_capacity.as_deref());
    let page = ctx.engine.query(QueryRequest {
        table: table.to_string(),
        index,
        partition: key.partition,
        sort: key.sort,
        filter: prepared.filter,
        projection: prepared.projection,
        select,
        limit: read_common::limit(input.limit),
        forward,
        exclusive_start_key: start_key,
        consistent,
    })?;
    read_common::page_out(&page, select, wanted)
}
