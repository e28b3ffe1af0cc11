//! DescribeEndpoints: where clients should send requests — this server, as they reached it.

use serde::Serialize;
use stator_engine::DynamoError;

use crate::Context;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint<'a> {
    pub address: &'a str,
    pub cache_period_in_minutes: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output<'a> {
    pub endpoints: [Endpoint<'a>; 1],
}

/// Any members are accepted and ignored.
pub type Input = serde::de::IgnoredAny;

pub fn run<'c>(ctx: &Context<'c>, _input: Input) -> Result<Output<'c>, DynamoError> {
    Ok(Output {
        endpoints: [Endpoint {
            address: ctx.host.unwrap_or("localhost"),
            cache_period_in_minutes: 1440,
        }],
    })
}
