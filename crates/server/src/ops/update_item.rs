//! UpdateItem: edits one item with an update expression (or legacy `AttributeUpdates`),
//! creating it when it does not exist, optionally only if a condition holds. Without any
//! update it still creates the item with just its key attributes, as DynamoDB does.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use stator_engine::items::UpdateRequest;
use stator_engine::DynamoError;
use stator_types::{AttributeValue, Checked, Item};

use super::expressions::{self, AttributeUpdateIn, ExpectedIn, OrderedMap};
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
    attribute_updates: Option<OrderedMap<AttributeUpdateIn>>,
    update_expression: Option<String>,
    expected: Option<OrderedMap<ExpectedIn>>,
    conditional_operator: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<HashMap<String, Checked<AttributeValue>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<ConsumedCapacityOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_collection_metrics: Option<super::CollectionMetricsOut>,
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
        input.conditional_operator.as_deref(),
        "conditionalOperator",
        validate::CONDITIONAL_OPERATORS,
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
    let prepared = expressions::prepare(expressions::Inputs {
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        condition: input.condition_expression.as_deref(),
        update: input.update_expression.as_deref(),
        expected: input.expected.as_ref(),
        conditional_operator: input.conditional_operator.as_deref(),
        attribute_updates: input.attribute_updates.as_ref(),
        ..Default::default()
    })?;
    let table = super::require_table_name(table)?;
    let wanted = super::return_capacity(input.return_consumed_capacity.as_deref());
    let out = ctx.engine.update_item(UpdateRequest {
        table: table.to_string(),
        key,
        update: prepared.update,
        creates_missing_item: prepared.creates_missing_item,
        condition: prepared.condition,
        return_values: super::return_values(input.return_values.as_deref()),
        return_old_on_failure: input.return_values_on_condition_check_failure.as_deref()
            == Some("ALL_OLD"),
    })?;
    super::encode(&Output {
        attributes: out.attributes,
        consumed_capacity: ConsumedCapacityOut::from(out.consumed, wanted),
        item_collection_metrics: super::CollectionMetricsOut::from(
            out.collection_metrics,
            input.return_item_collection_metrics.as_deref() == Some("SIZE"),
        ),
    })
}
