//! TransactWriteItems: up to 100 `ConditionCheck` / `Put` / `Update` / `Delete` actions,
//! on one or more tables, applied all together or not at all.
//!
//! The handler works in DynamoDB's order:
//! 1. Request constraints, all violations in one `ValidationException`: the `TransactItems`
//!    list (1–100 entries), each action member by member in the model's order (`Key` /
//!    `Item`, `UpdateExpression`, `TableName`, `ConditionExpression` for a `ConditionCheck`,
//!    `ReturnValuesOnConditionCheckFailure`), then `ReturnConsumedCapacity`,
//!    `ReturnItemCollectionMetrics` and `ClientRequestToken` (1–36 characters).
//! 2. Each entry, in order: exactly one action (`TransactItems can only contain one of Check,
//!    Put, Update or Delete` — DynamoDB's words, which say "Check"); its attribute values;
//!    its expressions through [`expressions::prepare`], with the action's own
//!    `ExpressionAttributeNames` / `ExpressionAttributeValues`, so an unused placeholder in
//!    one action is an error even if another action uses a placeholder of the same name.
//!    The transaction structures have no legacy members (`Expected`, `AttributeUpdates`,
//!    `ConditionalOperator`): like any unknown member, DynamoDB ignores them, and so does
//!    Stator.
//! 3. The items and keys of the transaction may not add up to more than 4 MB.
//! 4. `Engine::transact_write` checks the tables, every key and item, and that no two
//!    actions target the same item (`Transaction request cannot include multiple operations
//!    on one item`), then runs everything in one storage transaction. A failed
//!    condition cancels the whole transaction with `TransactionCanceledException`, whose
//!    `CancellationReasons` (rendered by `wire::error_body`) list every action in request
//!    order.
//!
//! `ClientRequestToken` makes the call idempotent: the engine remembers the token with a
//! fingerprint of the rest of the request (`Input::request_fingerprint`), so a retry of the same
//! request succeeds without writing again and a different request with the same token fails
//! with `IdempotentParameterMismatchException`. SDKs fill the token in themselves (it is an
//! idempotency token in the API model), so in practice every request carries one.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use stator_engine::transact::{TransactAction, TransactWrite, TransactWriteRequest};
use stator_engine::{DynamoError, ReturnCapacity};
use stator_types::{item_size, AttributeValue, Checked, Item};

use super::transact_get_items::{java_object_list, table_name_at, MAX_TRANSACT_ITEMS};
use super::{CollectionMetricsOut, ConsumedCapacityOut};
use crate::enums::{EnumValue, ReturnItemCollectionMetrics, ReturnValuesOnConditionCheckFailure};
use crate::expressions;
use crate::validate::{Text, Validator};
use crate::Context;

/// "The aggregate size of the items in the transaction cannot exceed 4 MB."
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

const CLIENT_REQUEST_TOKEN: Text = Text {
    min: 1,
    max: 36,
    name_pattern: false,
};

type Names = Option<HashMap<String, String>>;
type Values = Option<HashMap<String, Checked<AttributeValue>>>;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub transact_items: Option<Vec<TransactWriteItem>>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
    pub return_item_collection_metrics: Option<EnumValue<ReturnItemCollectionMetrics>>,
    pub client_request_token: Option<String>,
    /// A digest of the request as the client sent it, without `ClientRequestToken`, set by
    /// the front end that decoded it (the JSON front end hashes the canonical JSON): it
    /// tells a retry of the same request from a different request with the same token.
    #[serde(skip)]
    pub request_fingerprint: u64,
}

/// `TransactWriteItem` of the API model (serde errors name it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItem {
    pub condition_check: Option<ConditionCheck>,
    pub put: Option<Put>,
    pub delete: Option<Delete>,
    pub update: Option<Update>,
}

/// `ConditionCheck` of the API model (serde errors name it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ConditionCheck {
    pub key: Option<Checked<Item>>,
    pub table_name: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Names,
    pub expression_attribute_values: Values,
    pub return_values_on_condition_check_failure:
        Option<EnumValue<ReturnValuesOnConditionCheckFailure>>,
}

/// `Put` of the API model (serde errors name it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Put {
    pub item: Option<Checked<Item>>,
    pub table_name: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Names,
    pub expression_attribute_values: Values,
    pub return_values_on_condition_check_failure:
        Option<EnumValue<ReturnValuesOnConditionCheckFailure>>,
}

/// `Delete` of the API model (serde errors name it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Delete {
    pub key: Option<Checked<Item>>,
    pub table_name: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Names,
    pub expression_attribute_values: Values,
    pub return_values_on_condition_check_failure:
        Option<EnumValue<ReturnValuesOnConditionCheckFailure>>,
}

/// `Update` of the API model (serde errors name it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Update {
    pub key: Option<Checked<Item>>,
    pub update_expression: Option<String>,
    pub table_name: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Names,
    pub expression_attribute_values: Values,
    pub return_values_on_condition_check_failure:
        Option<EnumValue<ReturnValuesOnConditionCheckFailure>>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacityOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<BTreeMap<String, Vec<CollectionMetricsOut>>>,
}

/// Checks the `TableName` of the action at `at` (e.g. `transactItems.1.member.put`) and
/// returns the table name (from a name or an ARN).
fn check_table<'a>(v: &mut Validator, name: Option<&'a str>, at: &str) -> Option<&'a str> {
    table_name_at(v, name, &format!("{at}.tableName"))
}

fn check_return_on_failure(
    v: &mut Validator,
    value: Option<&EnumValue<ReturnValuesOnConditionCheckFailure>>,
    at: &str,
) {
    v.enumeration(
        value,
        &format!("{at}.returnValuesOnConditionCheckFailure"),
        false,
    );
}

/// Request constraints of one entry, member by member in the model's order. Returns the
/// table name of each action present.
fn check_entry(v: &mut Validator, entry: &TransactWriteItem, index: usize) -> Vec<String> {
    let mut tables = Vec::new();
    let base = format!("transactItems.{index}.member");
    if let Some(c) = &entry.condition_check {
        let at = format!("{base}.conditionCheck");
        v.required(c.key.as_ref(), &format!("{at}.key"));
        tables.extend(check_table(v, c.table_name.as_deref(), &at).map(str::to_string));
        v.required(
            c.condition_expression.as_ref(),
            &format!("{at}.conditionExpression"),
        );
        check_return_on_failure(v, c.return_values_on_condition_check_failure.as_ref(), &at);
    }
    if let Some(p) = &entry.put {
        let at = format!("{base}.put");
        v.required(p.item.as_ref(), &format!("{at}.item"));
        tables.extend(check_table(v, p.table_name.as_deref(), &at).map(str::to_string));
        check_return_on_failure(v, p.return_values_on_condition_check_failure.as_ref(), &at);
    }
    if let Some(d) = &entry.delete {
        let at = format!("{base}.delete");
        v.required(d.key.as_ref(), &format!("{at}.key"));
        tables.extend(check_table(v, d.table_name.as_deref(), &at).map(str::to_string));
        check_return_on_failure(v, d.return_values_on_condition_check_failure.as_ref(), &at);
    }
    if let Some(u) = &entry.update {
        let at = format!("{base}.update");
        v.required(u.key.as_ref(), &format!("{at}.key"));
        v.required(
            u.update_expression.as_ref(),
            &format!("{at}.updateExpression"),
        );
        tables.extend(check_table(v, u.table_name.as_deref(), &at).map(str::to_string));
        check_return_on_failure(v, u.return_values_on_condition_check_failure.as_ref(), &at);
    }
    tables
}

fn wants_old(value: Option<&EnumValue<ReturnValuesOnConditionCheckFailure>>) -> bool {
    value.and_then(EnumValue::value) == Some(ReturnValuesOnConditionCheckFailure::AllOld)
}

/// Turns one constraint-checked entry into an engine action: exactly one action, valid
/// attribute values, valid expressions.
fn build_action(
    entry: TransactWriteItem,
    table: Option<String>,
) -> Result<TransactWrite, DynamoError> {
    let present = usize::from(entry.condition_check.is_some())
        + usize::from(entry.put.is_some())
        + usize::from(entry.delete.is_some())
        + usize::from(entry.update.is_some());
    if present != 1 {
        return Err(DynamoError::validation(
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ));
    }
    // An ARN that names no table: not found, as for the single-item operations.
    let table = super::require_table_name(table.as_deref())?.to_string();
    if let Some(c) = entry.condition_check {
        let key = super::checked_item(c.key)?;
        let prepared = expressions::prepare(expressions::Inputs {
            own: &["ConditionExpression"],
            names: c.expression_attribute_names.as_ref(),
            values: c.expression_attribute_values.as_ref(),
            condition: c.condition_expression.as_deref(),
            ..Default::default()
        })?;
        let condition = prepared
            .condition
            .ok_or_else(|| DynamoError::internal("validated ConditionExpression is missing"))?;
        return Ok(TransactWrite {
            action: TransactAction::ConditionCheck {
                table,
                key,
                condition,
            },
            return_old_on_failure: wants_old(c.return_values_on_condition_check_failure.as_ref()),
        });
    }
    if let Some(p) = entry.put {
        let item = super::checked_item(p.item)?;
        let prepared = expressions::prepare(expressions::Inputs {
            own: &["ConditionExpression"],
            names: p.expression_attribute_names.as_ref(),
            values: p.expression_attribute_values.as_ref(),
            condition: p.condition_expression.as_deref(),
            ..Default::default()
        })?;
        return Ok(TransactWrite {
            action: TransactAction::Put {
                table,
                item,
                condition: prepared.condition,
            },
            return_old_on_failure: wants_old(p.return_values_on_condition_check_failure.as_ref()),
        });
    }
    if let Some(d) = entry.delete {
        let key = super::checked_item(d.key)?;
        let prepared = expressions::prepare(expressions::Inputs {
            own: &["ConditionExpression"],
            names: d.expression_attribute_names.as_ref(),
            values: d.expression_attribute_values.as_ref(),
            condition: d.condition_expression.as_deref(),
            ..Default::default()
        })?;
        return Ok(TransactWrite {
            action: TransactAction::Delete {
                table,
                key,
                condition: prepared.condition,
            },
            return_old_on_failure: wants_old(d.return_values_on_condition_check_failure.as_ref()),
        });
    }
    let Some(u) = entry.update else {
        return Err(DynamoError::internal("transaction entry without an action"));
    };
    let key = super::checked_item(u.key)?;
    let prepared = expressions::prepare(expressions::Inputs {
        own: &["UpdateExpression", "ConditionExpression"],
        names: u.expression_attribute_names.as_ref(),
        values: u.expression_attribute_values.as_ref(),
        condition: u.condition_expression.as_deref(),
        update: u.update_expression.as_deref(),
        ..Default::default()
    })?;
    let update = prepared
        .update
        .ok_or_else(|| DynamoError::internal("validated UpdateExpression is missing"))?;
    Ok(TransactWrite {
        action: TransactAction::Update {
            table,
            key,
            update,
            condition: prepared.condition,
        },
        return_old_on_failure: wants_old(u.return_values_on_condition_check_failure.as_ref()),
    })
}

/// The attributes an action sends: the whole item of a Put, the key of the others.
fn sent_item(action: &TransactAction) -> &Item {
    match action {
        TransactAction::ConditionCheck { key, .. }
        | TransactAction::Delete { key, .. }
        | TransactAction::Update { key, .. } => key,
        TransactAction::Put { item, .. } => item,
    }
}

/// The 4 MB limit on the items of a transaction: the whole item of a Put, the key of every
/// other action (what an Update will write is only known inside the engine, where the
/// 400 KB limit of each item applies).
fn check_transaction_size(writes: &[TransactWrite]) -> Result<(), DynamoError> {
    let total: usize = writes.iter().map(|w| item_size(sent_item(&w.action))).sum();
    if total > MAX_TRANSACTION_BYTES {
        return Err(DynamoError::validation(
            "Transaction request size cannot exceed 4 MB",
        ));
    }
    Ok(())
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
                &java_object_list("TransactWriteItem", items.len()),
                "transactItems",
                1,
                MAX_TRANSACT_ITEMS,
            );
            for (i, entry) in items.iter().enumerate() {
                // With more than one action the entry fails below anyway; keep the first.
                tables.push(check_entry(&mut v, entry, i + 1).into_iter().next());
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
    let want_metrics = v.enumeration(
        input.return_item_collection_metrics.as_ref(),
        "returnItemCollectionMetrics",
        false,
    ) == Some(ReturnItemCollectionMetrics::Size);
    v.text(
        input.client_request_token.as_deref(),
        "clientRequestToken",
        CLIENT_REQUEST_TOKEN,
        false,
    );
    v.finish()?;

    let entries = input.transact_items.unwrap_or_default();
    let mut writes = Vec::with_capacity(entries.len());
    for (entry, table) in entries.into_iter().zip(tables) {
        writes.push(build_action(entry, table)?);
    }
    check_transaction_size(&writes)?;

    let out = ctx.engine.transact_write(TransactWriteRequest {
        writes,
        client_request_token: input.client_request_token,
        request_fingerprint: input.request_fingerprint,
    })?;

    let metrics: BTreeMap<String, Vec<CollectionMetricsOut>> = out
        .collection_metrics
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(table, list)| {
            let list = list
                .into_iter()
                .filter_map(|m| CollectionMetricsOut::from(Some(m), true))
                .collect();
            (table, list)
        })
        .collect();
    Ok(Output {
        consumed_capacity: (wanted != ReturnCapacity::None).then(|| {
            out.consumed
                .into_iter()
                .filter_map(|c| ConsumedCapacityOut::from(c, wanted))
                .collect()
        }),
        item_collection_metrics: (want_metrics && !metrics.is_empty()).then_some(metrics),
    })
}
