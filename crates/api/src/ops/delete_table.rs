//! DeleteTable: removes a table (unless deletion protection is on) and answers with the
//! reduced description DynamoDB gives a deleted table.

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
    pub table_description: serde_json::Value,
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.finish()?;
    let view = ctx.engine.delete_table(table.unwrap_or_default())?;
    Ok(Output {
        table_description: super::table_description::describe_deleted(&view),
    })
}
