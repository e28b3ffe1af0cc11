//! DescribeEndpoints: where clients should send requests — this server, as they reached it.

use serde::Serialize;
use stator_engine::DynamoError;

use super::Context;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Endpoint<'a> {
    address: &'a str,
    cache_period_in_minutes: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output<'a> {
    endpoints: [Endpoint<'a>; 1],
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let _: serde::de::IgnoredAny = super::decode(body)?;
    super::encode(&Output {
        endpoints: [Endpoint {
            address: ctx.host,
            cache_period_in_minutes: 1440,
        }],
    })
}
