//! TransactGetItems: reads up to 100 items, from one or more tables, as of one moment.
//!
//! The handler checks the request's constraints in DynamoDB's order (the `TransactItems`
//! list, then each `Get` member by member, then `ReturnConsumedCapacity`), then each
//! `Get`'s attribute values and its own `ProjectionExpression` / `ExpressionAttributeNames`
//! (every action has its own placeholder maps, checked as GetItem checks them), and hands
//! the validated gets to `Engine::transact_get`, which reads every item from one snapshot.
//!
//! The output lists one `ItemResponse` per `Get`, in request order: `{"Item": {...}}` for an
//! item that exists (an empty map when the projection selects nothing from it) and `{}` for
//! one that does not, exactly as DynamoDB answers.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use stator_engine::transact::TransactGet;
use stator_engine::{DynamoError, ReturnCapacity};
use stator_types::{Checked, Item};

use super::ConsumedCapacityOut;
use crate::enums::EnumValue;
use crate::expressions;
use crate::validate::{self, Validator};
use crate::Context;

/// DynamoDB's limit on the number of actions in one transaction.
pub const MAX_TRANSACT_ITEMS: usize = 100;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub transact_items: Option<Vec<TransactGetItem>>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
}

/// `TransactGetItem` of the API model (serde errors name it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItem {
    pub get: Option<Get>,
}

/// `Get` of the API model (serde errors name it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Get {
    pub key: Option<Checked<Item>>,
    pub table_name: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub responses: Vec<ItemResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacityOut>>,
}

/// One entry of `Responses`: `{}` when the item does not exist.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ItemResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// Checks the `TableName` of one action at `path` (e.g.
/// `transactItems.1.member.get.tableName`) the way [`super::table_name`] checks a top-level
/// one: a table name, or a table ARN. Returns the table name; a missing one is reported.
pub fn table_name_at<'a>(v: &mut Validator, name: Option<&'a str>, path: &str) -> Option<&'a str> {
    let Some(name) = name else {
        v.required::<()>(None, path);
        return None;
    };
    if name.starts_with("arn:") {
        v.text(Some(name), path, validate::TABLE_NAME_OR_ARN, true);
        stator_engine::catalog::table_name_from_arn(name).or(Some(name))
    } else {
        v.text(Some(name), path, validate::TABLE_NAME, true);
        Some(name)
    }
}

/// How the request validator prints a list of structures it has no text form for: Java's
/// default `toString`, the class name and an identity hash. The hashes differ from run to
/// run in DynamoDB, so no client can depend on them; Stator prints stable ones.
pub fn java_object_list(class: &str, len: usize) -> String {
    let parts: Vec<String> = (0..len)
        .map(|i| {
            // A cheap mix of the position, so the hashes look like identity hashes.
            let hash = (i as u32 ^ 0x5bd1_e995)
                .wrapping_mul(0x9e37_79b9)
                .rotate_left(13);
            format!("com.amazonaws.dynamodb.v20120810.{class}@{hash:x}")
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let mut v = Validator::new();
    let mut tables = Vec::new();
    match &input.transact_items {
        None => {
            v.required::<()>(None, "transactItems");
        }
        Some(items) => {
            v.list_len(
                items.len(),
                &java_object_list("TransactGetItem", items.len()),
                "transactItems",
                1,
                MAX_TRANSACT_ITEMS,
            );
            for (i, item) in items.iter().enumerate() {
                let at = format!("transactItems.{}.member.get", i + 1);
                let Some(get) = &item.get else {
                    v.required::<()>(None, &at);
                    tables.push(None);
                    continue;
                };
                v.required(get.key.as_ref(), &format!("{at}.key"));
                let table = table_name_at(
                    &mut v,
                    get.table_name.as_deref(),
                    &format!("{at}.tableName"),
                );
                tables.push(table.map(str::to_string));
            }
        }
    }
    let wanted = v
        .enumeration(
            input.return_consumed_capacity.as_ref(),
            "returnConsumedCapacity",
            false,
        )
        .unwrap_or_default();
    v.finish()?;

    // Constraint validation passed, so every member has a Get with a Key and a TableName.
    let items = input.transact_items.unwrap_or_default();
    let mut gets = Vec::with_capacity(items.len());
    for (item, table) in items.into_iter().zip(tables) {
        let Some(get) = item.get else {
            return Err(DynamoError::internal("validated Get is missing"));
        };
        let key = super::checked_item(get.key)?;
        let prepared = expressions::prepare(expressions::Inputs {
            own: &["ProjectionExpression"],
            names: get.expression_attribute_names.as_ref(),
            projection: get.projection_expression.as_deref(),
            ..Default::default()
        })?;
        gets.push(TransactGet {
            table: super::require_table_name(table.as_deref())?.to_string(),
            key,
            projection: prepared.projection,
        });
    }

    let out = ctx.engine.transact_get(gets)?;
    Ok(Output {
        responses: out
            .items
            .into_iter()
            .map(|item| ItemResponse { item })
            .collect(),
        consumed_capacity: (wanted != ReturnCapacity::None).then(|| {
            out.consumed
                .into_iter()
                .filter_map(|c| ConsumedCapacityOut::from(c, wanted))
                .collect()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_lists_look_like_dynamodbs() {
        let shown = java_object_list("TransactGetItem", 2);
        assert!(shown.starts_with("[com.amazonaws.dynamodb.v20120810.TransactGetItem@"));
        assert_eq!(shown.matches(", ").count(), 1);
        assert_eq!(java_object_list("TransactGetItem", 0), "[]");
    }
}
