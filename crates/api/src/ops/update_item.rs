//! UpdateItem: edits one item with an update expression (or legacy `AttributeUpdates`),
//! creating it when it does not exist, optionally only if a condition holds. Without any
//! update it still creates the item with just its key attributes, as DynamoDB does.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::capacity::ReturnCapacity;
use stator_engine::items::{ReturnValues, UpdateRequest};
use stator_engine::DynamoError;
use stator_types::{AttributeValue, Checked, Item};

use super::write_options::{Chosen, WriteItemOutput, WriteOptions};
use crate::enums::{
    ConditionalOperator, EnumValue, ReturnItemCollectionMetrics,
    ReturnValuesOnConditionCheckFailure,
};
use crate::expressions::{self, AttributeUpdateIn, ExpectedIn, OrderedMap};
use crate::validate::Validator;
use crate::Context;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub table_name: Option<String>,
    pub key: Option<Checked<Item>>,
    pub return_values: Option<EnumValue<ReturnValues>>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
    pub return_item_collection_metrics: Option<EnumValue<ReturnItemCollectionMetrics>>,
    pub return_values_on_condition_check_failure:
        Option<EnumValue<ReturnValuesOnConditionCheckFailure>>,
    pub attribute_updates: Option<OrderedMap<AttributeUpdateIn>>,
    pub update_expression: Option<String>,
    pub expected: Option<OrderedMap<ExpectedIn>>,
    pub conditional_operator: Option<EnumValue<ConditionalOperator>>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<HashMap<String, Checked<AttributeValue>>>,
}

pub type Output = WriteItemOutput;

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let (request, chosen) = validate(input)?;
    let out = ctx.engine.update_item(request)?;
    Ok(Output::new(out, chosen))
}

/// The request's checks in DynamoDB's order: member constraints, attribute values,
/// expressions (update and condition, or their legacy forms); then the engine request.
pub fn validate(input: Input) -> Result<(UpdateRequest, Chosen), DynamoError> {
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.required(input.key.as_ref(), "key");
    let chosen = WriteOptions {
        return_values: input.return_values.as_ref(),
        return_consumed_capacity: input.return_consumed_capacity.as_ref(),
        return_item_collection_metrics: input.return_item_collection_metrics.as_ref(),
        conditional_operator: input.conditional_operator.as_ref(),
        return_values_on_condition_check_failure: input
            .return_values_on_condition_check_failure
            .as_ref(),
    }
    .check(&mut v);
    v.finish()?;

    let key = super::checked_item(input.key)?;
    let prepared = expressions::prepare(expressions::Inputs {
        own: &["UpdateExpression", "ConditionExpression"],
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        condition: input.condition_expression.as_deref(),
        update: input.update_expression.as_deref(),
        expected: input.expected.as_ref(),
        conditional_operator: input.conditional_operator.as_ref().map(EnumValue::text),
        attribute_updates: input.attribute_updates.as_ref(),
        ..Default::default()
    })?;
    let table = super::require_table_name(table)?;
    let request = UpdateRequest {
        table: table.to_string(),
        key,
        update: prepared.update,
        creates_missing_item: prepared.creates_missing_item,
        condition: prepared.condition,
        return_values: chosen.return_values,
        return_old_on_failure: chosen.old_on_failure,
    };
    Ok((request, chosen))
}
