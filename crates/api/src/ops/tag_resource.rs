//! TagResource: adds or replaces tags on a table, addressed by its ARN.

use serde::Deserialize;
use stator_engine::DynamoError;

use super::create_table::model::{check_tags, tags, TagIn};
use crate::validate::{self, Validator};
use crate::Context;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<TagIn>>,
}

/// The operation answers an empty body.
pub type Output = super::NoOutput;

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let mut v = Validator::new();
    v.text(
        input.resource_arn.as_deref(),
        "resourceArn",
        validate::RESOURCE_ARN,
        true,
    );
    if v.required(input.tags.as_ref(), "tags") {
        check_tags(&mut v, input.tags.as_ref(), "tags");
    }
    v.finish()?;
    ctx.engine.tag_resource(
        input.resource_arn.as_deref().unwrap_or_default(),
        tags(input.tags),
    )?;
    Ok(super::NoOutput)
}
