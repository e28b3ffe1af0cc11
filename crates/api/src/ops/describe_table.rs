//! DescribeTable: the table's full description with live item count and size.

use serde::{Deserialize, Serialize};
use stator_engine::DynamoError;

use crate::validate::Validator;
use crate::Context;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub table_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub table: serde_json::Value,
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.finish()?;
    let name = table.unwrap_or_default();
    let view = ctx.engine.describe_table(name)?;
    Ok(Output {
        table: super::table_description::describe(&view),
    })
}
