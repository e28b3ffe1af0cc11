//! DeleteItem: removes one item by its full primary key, optionally only if a condition
//! holds.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::capacity::ReturnCapacity;
use stator_engine::items::{DeleteRequest, ReturnValues};
use stator_engine::DynamoError;
use stator_types::{AttributeValue, Checked, Item};

use super::write_options::{Chosen, WriteItemOutput, WriteOptions};
use crate::enums::{
    ConditionalOperator, EnumValue, ReturnItemCollectionMetrics,
    ReturnValuesOnConditionCheckFailure,
};
use crate::expressions::{self, ExpectedIn, OrderedMap};
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
    pub expected: Option<OrderedMap<ExpectedIn>>,
    pub conditional_operator: Option<EnumValue<ConditionalOperator>>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<HashMap<String, Checked<AttributeValue>>>,
}

pub type Output = WriteItemOutput;

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let (request, chosen) = validate(input)?;
    let out = ctx.engine.delete_item(request)?;
    Ok(Output::new(out, chosen))
}

/// The request's checks in DynamoDB's order: member constraints, attribute values,
/// expressions, `ReturnValues` for DeleteItem; then the engine request.
pub fn validate(input: Input) -> Result<(DeleteRequest, Chosen), DynamoError> {
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
        own: &["ConditionExpression"],
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        condition: input.condition_expression.as_deref(),
        expected: input.expected.as_ref(),
        conditional_operator: input.conditional_operator.as_ref().map(EnumValue::text),
        ..Default::default()
    })?;
    if !matches!(
        chosen.return_values,
        ReturnValues::None | ReturnValues::AllOld
    ) {
        return Err(DynamoError::validation(
            "ReturnValues can only be ALL_OLD or NONE",
        ));
    }
    let table = super::require_table_name(table)?;
    let request = DeleteRequest {
        table: table.to_string(),
        key,
        condition: prepared.condition,
        return_values: chosen.return_values,
        return_old_on_failure: chosen.old_on_failure,
    };
    Ok((request, chosen))
}
