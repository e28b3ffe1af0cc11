//! GetItem: reads one item by its full primary key, optionally projected.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::items::GetRequest;
use stator_engine::records::ReadItem;
use stator_engine::DynamoError;
use stator_types::{Checked, Item};

use super::expressions;
use super::{ConsumedCapacityOut, Context};
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    table_name: Option<String>,
    key: Option<Checked<Item>>,
    consistent_read: Option<bool>,
    return_consumed_capacity: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;
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
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        validate::RETURN_CONSUMED_CAPACITY,
        false,
    );
    v.finish()?;

    let key = super::checked_item(input.key)?;
    let prepared = expressions::prepare(expressions::Inputs {
        names: input.expression_attribute_names.as_ref(),
        projection: input.projection_expression.as_deref(),
        attributes_to_get: input.attributes_to_get.as_ref(),
        ..Default::default()
    })?;
    let table = super::require_table_name(table)?;
    let wanted = super::return_capacity(input.return_consumed_capacity.as_deref());
    let out = ctx.engine.get_item(GetRequest {
        table: table.to_string(),
        key,
        projection: prepared.projection,
        consistent: input.consistent_read.unwrap_or(false),
    })?;
    // `{"Item":…,"ConsumedCapacity":…}`, the item written from its stored bytes.
    let mut body =
        super::ObjectOut::with_capacity(out.item.as_ref().map_or(64, |item| match item {
            ReadItem::Stored(bytes) => bytes.len() * 2 + 64,
            ReadItem::Built(_) => 256,
        }));
    if let Some(item) = &out.item {
        super::write_read_item(item, body.member("Item"))?;
    }
    body.serde_member(
        "ConsumedCapacity",
        ConsumedCapacityOut::from(out.consumed, wanted).as_ref(),
    )?;
    Ok(body.finish())
}
