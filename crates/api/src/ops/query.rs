//! Query: one page of items from one partition of a table or secondary index, selected by a
//! key condition, optionally filtered and projected.
//!
//! Checks run in DynamoDB's order (see [`super::read_common`] for the shared phases):
//! request constraints; attribute values in `ExclusiveStartKey`; the request-only `Select`
//! rules; expressions and legacy parameters. The engine then checks, with the table: index
//! existence and state, `ConsistentRead` and `Select=ALL_ATTRIBUTES` on a GSI, attributes a
//! GSI does not project, the key condition against the (index's) key schema, key
//! attributes in the filter, and the start key's shape and position.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::capacity::ReturnCapacity;
use stator_engine::query::{QueryRequest, Select};
use stator_engine::DynamoError;
use stator_types::{AttributeValue, Checked, Item};

use super::read_common::{self, ConditionIn, Operation, PageOutput};
use crate::enums::{ConditionalOperator, EnumValue};
use crate::expressions::OrderedMap;
use crate::validate::{self, Validator};
use crate::Context;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub table_name: Option<String>,
    pub index_name: Option<String>,
    pub select: Option<EnumValue<Select>>,
    pub attributes_to_get: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub consistent_read: Option<bool>,
    pub key_conditions: Option<OrderedMap<ConditionIn>>,
    pub query_filter: Option<OrderedMap<ConditionIn>>,
    pub conditional_operator: Option<EnumValue<ConditionalOperator>>,
    pub scan_index_forward: Option<bool>,
    pub exclusive_start_key: Option<Checked<Item>>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
    pub projection_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub key_condition_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<HashMap<String, Checked<AttributeValue>>>,
}

pub type Output = PageOutput;

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let (request, wanted) = validate(input)?;
    let select = request.select;
    let page = ctx.engine.query(request)?;
    Ok(PageOutput::new(page, select, wanted))
}

/// The request-only checks in DynamoDB's order; then the engine request.
pub fn validate(input: Input) -> Result<(QueryRequest, ReturnCapacity), DynamoError> {
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
    let select = v.enumeration(input.select.as_ref(), "select", false);
    if let Some(names) = &input.attributes_to_get {
        v.list_len(
            names.len(),
            &format!("[{}]", names.join(", ")),
            "attributesToGet",
            1,
            usize::MAX,
        );
    }
    // DynamoDB words Query's Limit check apart from Scan's: no value, the member's own name.
    v.int_min_unechoed(input.limit, "Limit", 1);
    v.enumeration(
        input.conditional_operator.as_ref(),
        "conditionalOperator",
        false,
    );
    let wanted = v.enumeration(
        input.return_consumed_capacity.as_ref(),
        "returnConsumedCapacity",
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
        conditional_operator: input.conditional_operator.as_ref().map(EnumValue::text),
        attributes_to_get: input.attributes_to_get.as_ref(),
    })?;
    let table = super::require_table_name(table)?;
    // `prepare` refuses a Query without either form of key condition.
    let key_condition = prepared.key_condition.ok_or_else(|| {
        DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in \
             the request.",
        )
    })?;
    let request = QueryRequest {
        table: table.to_string(),
        index: input.index_name,
        key_condition,
        filter: prepared.filter,
        projection: prepared.projection,
        select,
        limit: read_common::limit(input.limit),
        forward: input.scan_index_forward.unwrap_or(true),
        exclusive_start_key: start_key,
        consistent: input.consistent_read.unwrap_or(false),
    };
    Ok((request, wanted.unwrap_or_default()))
}
