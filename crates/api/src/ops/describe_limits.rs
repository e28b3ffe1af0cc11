//! DescribeLimits: DynamoDB's default account and table capacity quotas.

use serde::Serialize;
use stator_engine::DynamoError;

use crate::Context;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub account_max_read_capacity_units: i64,
    pub account_max_write_capacity_units: i64,
    pub table_max_read_capacity_units: i64,
    pub table_max_write_capacity_units: i64,
}

/// Any members are accepted and ignored.
pub type Input = serde::de::IgnoredAny;

pub fn run(_ctx: &Context<'_>, _input: Input) -> Result<Output, DynamoError> {
    Ok(Output {
        account_max_read_capacity_units: 80_000,
        account_max_write_capacity_units: 80_000,
        table_max_read_capacity_units: 40_000,
        table_max_write_capacity_units: 40_000,
    })
}
