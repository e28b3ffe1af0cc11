//! DescribeTable: the table's full description with live item count and size.

use serde::{Deserialize, Serialize};
use stator_engine::DynamoError;

use super::Context;
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    table_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    table: serde_json::Value,
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.finish()?;
    let name = table.unwrap_or_default();
    let view = ctx.engine.describe_table(name)?;
    super::encode(&Output {
        table: super::table_description::describe(&view),
    })
}
