//! UntagResource: removes tags from a table by key.

use serde::Deserialize;
use stator_engine::DynamoError;

use crate::validate::{self, Validator};
use crate::Context;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
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
    if v.required(input.tag_keys.as_ref(), "tagKeys") {
        for (i, key) in input.tag_keys.iter().flatten().enumerate() {
            v.text(
                Some(key),
                &format!("tagKeys.{}.member", i + 1),
                validate::TAG_KEY,
                true,
            );
        }
    }
    v.finish()?;
    ctx.engine.untag_resource(
        input.resource_arn.as_deref().unwrap_or_default(),
        &input.tag_keys.unwrap_or_default(),
    )?;
    Ok(super::NoOutput)
}
