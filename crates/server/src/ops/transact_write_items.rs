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
//! fingerprint of the rest of the request ([`request_fingerprint`]), so a retry of the same
//! request succeeds without writing again and a different request with the same token fails
//! with `IdempotentParameterMismatchException`. SDKs fill the token in themselves (it is an
//! idempotency token in the API model), so in practice every request carries one.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use stator_engine::transact::{TransactAction, TransactWrite, TransactWriteRequest};
use stator_engine::{DynamoError, ReturnCapacity};
use stator_types::{item_size, AttributeValue, Checked, Item};

use super::expressions;
use super::transact_get_items::{java_object_list, table_name_at, MAX_TRANSACT_ITEMS};
use super::{CollectionMetricsOut, ConsumedCapacityOut, Context};
use crate::validate::{self, Text, Validator};

/// "The aggregate size of the items in the transaction cannot exceed 4 MB."
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

const CLIENT_REQUEST_TOKEN: Text = Text {
    min: 1,
    max: 36,
    name_pattern: false,
};

type Names = Option<HashMap<String, String>>;
type Values = Option<HashMap<String, Checked<AttributeValue>>>;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    transact_items: Option<Vec<TransactWriteItem>>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
    client_request_token: Option<String>,
}

/// `TransactWriteItem` of the API model (serde errors name it).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TransactWriteItem {
    condition_check: Option<ConditionCheck>,
    put: Option<Put>,
    delete: Option<Delete>,
    update: Option<Update>,
}

/// `ConditionCheck` of the API model (serde errors name it).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConditionCheck {
    key: Option<Checked<Item>>,
    table_name: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Names,
    expression_attribute_values: Values,
    return_values_on_condition_check_failure: Option<String>,
}

/// `Put` of the API model (serde errors name it).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Put {
    item: Option<Checked<Item>>,
    table_name: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Names,
    expression_attribute_values: Values,
    return_values_on_condition_check_failure: Option<String>,
}

/// `Delete` of the API model (serde errors name it).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Delete {
    key: Option<Checked<Item>>,
    table_name: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Names,
    expression_attribute_values: Values,
    return_values_on_condition_check_failure: Option<String>,
}

/// `Update` of the API model (serde errors name it).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Update {
    key: Option<Checked<Item>>,
    update_expression: Option<String>,
    table_name: Option<String>,
    condition_expression: Option<String>,
    expression_attribute_names: Names,
    expression_attribute_values: Values,
    return_values_on_condition_check_failure: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    #[serde(skip_serializing_if = "Option::is_none")]
    consumed_capacity: Option<Vec<ConsumedCapacityOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_collection_metrics: Option<BTreeMap<String, Vec<CollectionMetricsOut>>>,
}

/// Checks the `TableName` of the action at `at` (e.g. `transactItems.1.member.put`) and
/// returns the table name (from a name or an ARN).
fn check_table<'a>(v: &mut Validator, name: Option<&'a str>, at: &str) -> Option<&'a str> {
    table_name_at(v, name, &format!("{at}.tableName"))
}

fn check_return_on_failure(v: &mut Validator, value: Option<&str>, at: &str) {
    v.one_of(
        value,
        &format!("{at}.returnValuesOnConditionCheckFailure"),
        validate::RETURN_VALUES_ON_CONDITION_CHECK_FAILURE,
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
        check_return_on_failure(
            v,
            c.return_values_on_condition_check_failure.as_deref(),
            &at,
        );
    }
    if let Some(p) = &entry.put {
        let at = format!("{base}.put");
        v.required(p.item.as_ref(), &format!("{at}.item"));
        tables.extend(check_table(v, p.table_name.as_deref(), &at).map(str::to_string));
        check_return_on_failure(
            v,
            p.return_values_on_condition_check_failure.as_deref(),
            &at,
        );
    }
    if let Some(d) = &entry.delete {
        let at = format!("{base}.delete");
        v.required(d.key.as_ref(), &format!("{at}.key"));
        tables.extend(check_table(v, d.table_name.as_deref(), &at).map(str::to_string));
        check_return_on_failure(
            v,
            d.return_values_on_condition_check_failure.as_deref(),
            &at,
        );
    }
    if let Some(u) = &entry.update {
        let at = format!("{base}.update");
        v.required(u.key.as_ref(), &format!("{at}.key"));
        v.required(
            u.update_expression.as_ref(),
            &format!("{at}.updateExpression"),
        );
        tables.extend(check_table(v, u.table_name.as_deref(), &at).map(str::to_string));
        check_return_on_failure(
            v,
            u.return_values_on_condition_check_failure.as_deref(),
            &at,
        );
    }
    tables
}

fn wants_old(value: Option<&str>) -> bool {
    value == Some("ALL_OLD")
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
            return_old_on_failure: wants_old(c.return_values_on_condition_check_failure.as_deref()),
        });
    }
    if let Some(p) = entry.put {
        let item = super::checked_item(p.item)?;
        let prepared = expressions::prepare(expressions::Inputs {
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
            return_old_on_failure: wants_old(p.return_values_on_condition_check_failure.as_deref()),
        });
    }
    if let Some(d) = entry.delete {
        let key = super::checked_item(d.key)?;
        let prepared = expressions::prepare(expressions::Inputs {
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
            return_old_on_failure: wants_old(d.return_values_on_condition_check_failure.as_deref()),
        });
    }
    let Some(u) = entry.update else {
        return Err(DynamoError::internal("transaction entry without an action"));
    };
    let key = super::checked_item(u.key)?;
    let prepared = expressions::prepare(expressions::Inputs {
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
        return_old_on_failure: wants_old(u.return_values_on_condition_check_failure.as_deref()),
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
            "Transaction request size has exceeded the maximum allowed size of 4 MB",
        ));
    }
    Ok(())
}

/// A stable 64-bit digest of the request apart from its `ClientRequestToken`: the JSON
/// value hashed in a canonical form (object members sorted by name, every value tagged with
/// its type and length), so a retry is recognized whatever order a client writes members
/// in. FNV-1a with a final avalanche step, written out here so the digest is the same on
/// every platform and Rust release (std's `DefaultHasher` promises neither), should the
/// idempotency records ever be persisted.
pub fn request_fingerprint(body: &[u8]) -> u64 {
    let mut hasher = Fnv::new();
    let trimmed: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    match serde_json::from_slice::<serde_json::Value>(trimmed) {
        Ok(mut value) => {
            if let serde_json::Value::Object(members) = &mut value {
                members.remove("ClientRequestToken");
            }
            hash_value(&mut hasher, &value);
        }
        // Cannot happen for a body that decoded into the input model; hash the bytes.
        Err(_) => hasher.bytes(trimmed),
    }
    hasher.finish()
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn tag(&mut self, tag: u8, len: usize) {
        self.bytes(&[tag]);
        self.bytes(&(len as u64).to_le_bytes());
    }

    fn text(&mut self, tag: u8, text: &str) {
        self.tag(tag, text.len());
        self.bytes(text.as_bytes());
    }

    fn finish(&self) -> u64 {
        // splitmix64's finalizer, so nearby inputs spread over the whole range.
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
}

fn hash_value(hasher: &mut Fnv, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => hasher.tag(0, 0),
        Value::Bool(b) => hasher.tag(1, usize::from(*b)),
        Value::Number(n) => hasher.text(2, &n.to_string()),
        Value::String(s) => hasher.text(3, s),
        Value::Array(list) => {
            hasher.tag(4, list.len());
            for v in list {
                hash_value(hasher, v);
            }
        }
        Value::Object(members) => {
            hasher.tag(5, members.len());
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            for (name, v) in sorted {
                hasher.text(6, name);
                hash_value(hasher, v);
            }
        }
    }
}

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;
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
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        validate::RETURN_CONSUMED_CAPACITY,
        false,
    );
    v.one_of(
        input.return_item_collection_metrics.as_deref(),
        "returnItemCollectionMetrics",
        validate::RETURN_ITEM_COLLECTION_METRICS,
        false,
    );
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

    let wanted = super::return_capacity(input.return_consumed_capacity.as_deref());
    let want_metrics = input.return_item_collection_metrics.as_deref() == Some("SIZE");
    let out = ctx.engine.transact_write(TransactWriteRequest {
        writes,
        client_request_token: input.client_request_token,
        request_fingerprint: request_fingerprint(body),
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
    super::encode(&Output {
        consumed_capacity: (wanted != ReturnCapacity::None).then(|| {
            out.consumed
                .into_iter()
                .filter_map(|c| ConsumedCapacityOut::from(c, wanted))
                .collect()
        }),
        item_collection_metrics: (want_metrics && !metrics.is_empty()).then_some(metrics),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_token_and_member_order() {
        let a = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"}}}}],"ClientRequestToken":"x"}"#;
        let b = br#"{"ClientRequestToken":"y","TransactItems":[{"Put":{"Item":{"pk":{"S":"a"}},"TableName":"t"}}]}"#;
        let c = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"b"}}}}],"ClientRequestToken":"x"}"#;
        assert_eq!(request_fingerprint(a), request_fingerprint(b));
        assert_ne!(request_fingerprint(a), request_fingerprint(c));
        // Asking for capacity is a different request.
        let d = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"}}}}],"ReturnConsumedCapacity":"TOTAL"}"#;
        assert_ne!(request_fingerprint(a), request_fingerprint(d));
        // Structure is part of the digest: ["ab"] is not ["a", "b"].
        assert_ne!(
            request_fingerprint(br#"{"X":["ab"]}"#),
            request_fingerprint(br#"{"X":["a","b"]}"#)
        );
        // Never panics on odd input.
        let _ = request_fingerprint(b"");
        let _ = request_fingerprint(b"not json");
    }
}
