//! DescribeLimits: DynamoDB's default account and table capacity quotas.

use serde::Serialize;
use stator_engine::DynamoError;

use super::Context;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    account_max_read_capacity_units: i64,
    account_max_write_capacity_units: i64,
    table_max_read_capacity_units: i64,
    table_max_write_capacity_units: i64,
}

pub fn handle(_ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let _: serde::de::IgnoredAny = super::decode(body)?;
    super::encode(&Output {
        account_max_read_capacity_units: 80_000,
        account_max_write_capacity_units: 80_000,
        table_max_read_capacity_units: 40_000,
        table_max_write_capacity_units: 40_000,
    })
}
