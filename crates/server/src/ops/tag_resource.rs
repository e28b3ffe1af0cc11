//! TagResource: adds or replaces tags on a table, addressed by its ARN.

use serde::Deserialize;
use stator_engine::DynamoError;

use super::create_table::model::{check_tags, tags, TagIn};
use super::Context;
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    resource_arn: Option<String>,
    tags: Option<Vec<TagIn>>,
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;
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
    Ok(Vec::new())
}
