//! GetItem: reads one item by its full primary key, optionally projected.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::capacity::ReturnCapacity;
use stator_engine::items::GetRequest;
use stator_engine::records::ReadItem;
use stator_engine::DynamoError;
use stator_types::{Checked, Item};

use super::ConsumedCapacityOut;
use crate::enums::EnumValue;
use crate::expressions;
use crate::validate::Validator;
use crate::Context;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub table_name: Option<String>,
    pub key: Option<Checked<Item>>,
    pub consistent_read: Option<bool>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
    pub attributes_to_get: Option<Vec<String>>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
}

/// `{"Item": …, "ConsumedCapacity": …}`; the item stays in its stored form for the wire
/// layer to write.
#[derive(Debug)]
pub struct Output {
    pub item: Option<ReadItem>,
    pub consumed_capacity: Option<ConsumedCapacityOut>,
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let (request, capacity) = validate(input)?;
    let out = ctx.engine.get_item(request)?;
    Ok(Output {
        item: out.item,
        consumed_capacity: ConsumedCapacityOut::from(out.consumed, capacity),
    })
}

/// The request's checks in DynamoDB's order; then the engine request.
pub fn validate(input: Input) -> Result<(GetRequest, ReturnCapacity), DynamoError> {
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.required(input.key.as_ref(), "key");
    if let Some(names) = &input.attributes_to_get {
        v.list_len(
            names.len(),
            &format!("[{}]", names.join(", ")),
            "attributesToGet",
            1,
            usize::MAX,
        );
    }
    let capacity = v.enumeration(
        input.return_consumed_capacity.as_ref(),
        "returnConsumedCapacity",
        false,
    );
    v.finish()?;

    let key = super::checked_item(input.key)?;
    let prepared = expressions::prepare(expressions::Inputs {
        own: &["ProjectionExpression"],
        names: input.expression_attribute_names.as_ref(),
        projection: input.projection_expression.as_deref(),
        attributes_to_get: input.attributes_to_get.as_ref(),
        ..Default::default()
    })?;
    let table = super::require_table_name(table)?;
    let request = GetRequest {
        table: table.to_string(),
        key,
        projection: prepared.projection,
        consistent: input.consistent_read.unwrap_or(false),
    };
    Ok((request, capacity.unwrap_or_default()))
}
