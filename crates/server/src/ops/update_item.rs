//! UpdateItem: edits one item, creating it when it does not exist.
//!
//! Update and condition expressions (and their legacy forms) arrive with the expression
//! engine; until then a request that uses them fails with a clear error, and an UpdateItem
//! without them does what DynamoDB does: it creates the item with only its key attributes
//! if it is missing and otherwise changes nothing.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use stator_engine::DynamoError;
use stator_types::{Checked, Item};

use super::{ConsumedCapacityOut, Context};
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    table_name: Option<String>,
    key: Option<Checked<Item>>,
    return_values: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    attribute_updates: Option<IgnoredAny>,
    update_expression: Option<IgnoredAny>,
    expected: Option<IgnoredAny>,
    conditional_operator: Option<IgnoredAny>,
    condition_expression: Option<IgnoredAny>,
    expression_attribute_names: Option<IgnoredAny>,
    expression_attribute_values: Option<IgnoredAny>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<ConsumedCapacityOut>,
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.required(input.key.as_ref(), "key");
    v.one_of(
        input.return_values.as_deref(),
        "returnValues",
        validate::RETURN_VALUES,
        false,
    );
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        validate::RETURN_CONSUMED_CAPACITY,
        false,
    );
    v.one_of(
        input.return_item_collection_metrics.as_deref(),
        "returnItemCollectionMetrics",
        validate::RETURN_ITEM_COLLECTION_METRICS,
        false,
    );
    v.one_of(
        input.return_values_on_condition_check_failure.as_deref(),
        "returnValuesOnConditionCheckFailure",
        validate::RETURN_VALUES_ON_CONDITION_CHECK_FAILURE,
        false,
    );
    v.finish()?;

    let key = super::checked_item(input.key)?;
    for (present, name) in [
        (input.attribute_updates.is_some(), "AttributeUpdates"),
        (input.update_expression.is_some(), "UpdateExpression"),
        (input.expected.is_some(), "Expected"),
        (input.conditional_operator.is_some(), "ConditionalOperator"),
        (input.condition_expression.is_some(), "ConditionExpression"),
        (
            input.expression_attribute_names.is_some(),
            "ExpressionAttributeNames",
        ),
        (
            input.expression_attribute_values.is_some(),
            "ExpressionAttributeValues",
        ),
    ] {
        if present {
            return Err(super::not_yet(name));
        }
    }
    let table = super::require_table_name(table)?;
    super::check_collection_metrics(ctx, table, input.return_item_collection_metrics.as_deref())?;
    let wanted = super::return_capacity(input.return_consumed_capacity.as_deref());
    let return_values = super::return_values(input.return_values.as_deref());
    let out = ctx.engine.update_item(table, &key, return_values, wanted)?;
    super::encode(&Output {
        attributes: out.attributes,
        consumed_capacity: ConsumedCapacityOut::from(out.consumed, wanted),
    })
}
