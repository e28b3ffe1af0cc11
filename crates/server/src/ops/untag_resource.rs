//! UntagResource: removes tags from a table by key.

use serde::Deserialize;
use stator_engine::DynamoError;

use super::Context;
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
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
    Ok(Vec::new())
}
