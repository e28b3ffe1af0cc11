//! ListTagsOfResource: a table's tags. All tags fit in one page (at most 50 per table), so
//! no `NextToken` is ever returned.

use serde::{Deserialize, Serialize};
use stator_engine::DynamoError;

use crate::validate::{self, Validator};
use crate::Context;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub resource_arn: Option<String>,
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagOut {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub tags: Vec<TagOut>,
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let mut v = Validator::new();
    v.text(
        input.resource_arn.as_deref(),
        "resourceArn",
        validate::RESOURCE_ARN,
        true,
    );
    v.finish()?;
    if input.next_token.is_some() {
        // We never hand out a token, so any token is one we did not issue.
        return Err(DynamoError::validation("Invalid NextToken"));
    }
    let tags = ctx
        .engine
        .list_tags(input.resource_arn.as_deref().unwrap_or_default())?;
    Ok(Output {
        tags: tags
            .into_iter()
            .map(|t| TagOut {
                key: t.key,
                value: t.value,
            })
            .collect(),
    })
}
