//! ListTables: table names in order, paged by `Limit` and `ExclusiveStartTableName`.

use serde::{Deserialize, Serialize};
use stator_engine::DynamoError;

use crate::validate::{self, Validator};
use crate::Context;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub exclusive_start_table_name: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub table_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_table_name: Option<String>,
}

/// DynamoDB's default and maximum page size.
const MAX_LIMIT: i64 = 100;

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let mut v = Validator::new();
    v.text(
        input.exclusive_start_table_name.as_deref(),
        "exclusiveStartTableName",
        validate::TABLE_NAME,
        false,
    );
    v.int_range(input.limit, "limit", 1, MAX_LIMIT, false);
    v.finish()?;
    let limit = input.limit.unwrap_or(MAX_LIMIT) as usize;
    let (table_names, last) = ctx
        .engine
        .list_tables(input.exclusive_start_table_name.as_deref(), limit);
    Ok(Output {
        table_names,
        last_evaluated_table_name: last,
    })
}
