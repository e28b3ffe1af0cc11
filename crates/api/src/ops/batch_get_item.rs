//! BatchGetItem: reads up to 100 items by primary key from up to 100 tables in one call.
//!
//! The request goes through these steps, in DynamoDB's order:
//! 1. Request constraints, all violations in one `ValidationException` (`RequestItems`
//!    present and not empty, each table's `Keys` 1–100, `AttributesToGet` not empty, the
//!    map's keys valid table names or ARNs, at most 100 tables, `ReturnConsumedCapacity`).
//! 2. At most 100 keys over all tables (`Too many items requested for the BatchGetItem call`).
//! 3. Per table, in request order: the keys' attribute values, then the expression
//!    parameters (`ProjectionExpression` + `ExpressionAttributeNames`, or the legacy
//!    `AttributesToGet`) through [`expressions::prepare`].
//! 4. [`stator_engine::Engine::batch_get`] checks, per table in request order, that the
//!    table exists, every key matches its key schema, and no key appears twice; then it
//!    reads every key from one snapshot; the keys it
//!    did not read because the response reached 16 MB come back in `UnprocessedKeys`, under
//!    the name or ARN the client used and with the client's own `ProjectionExpression`,
//!    `ExpressionAttributeNames`, `AttributesToGet` and `ConsistentRead`, so that the
//!    SDKs' retry loops can send them back as they are.
//!
//! The helpers shared with BatchWriteItem (table keys of `RequestItems`, how DynamoDB's
//! validator prints the request back, ordered JSON maps) live here too.

use std::collections::HashMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use stator_engine::batch::BatchGetTable;
use stator_engine::{DynamoError, ReturnCapacity};
use stator_expr::Projection;
use stator_types::{Checked, Item};

use super::ConsumedCapacityOut;
use crate::enums::EnumValue;
use crate::expressions::{self, OrderedMap};
use crate::validate::{self, Validator};
use crate::Context;

/// Most keys per table, and in the whole request.
const MAX_KEYS: usize = 100;
/// Most tables in one request.
const MAX_TABLES: usize = 100;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub request_items: Option<OrderedMap<Option<KeysAndAttributesIn>>>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct KeysAndAttributesIn {
    pub keys: Option<Vec<Checked<Item>>>,
    pub attributes_to_get: Option<Vec<String>>,
    pub consistent_read: Option<bool>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
}

/// One table's part of `UnprocessedKeys`: the request's own form.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct KeysAndAttributesOut {
    pub keys: Vec<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes_to_get: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<HashMap<String, String>>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub responses: Pairs<Vec<Item>>,
    pub unprocessed_keys: Pairs<KeysAndAttributesOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacityOut>>,
}

/// One validated table of the request.
struct TableRequest {
    /// The `RequestItems` key as the client wrote it (a table name or ARN).
    client_key: String,
    /// The table name it resolves to.
    table: String,
    keys: Vec<Item>,
    projection: Option<Projection>,
    /// What the client sent, to echo in `UnprocessedKeys`.
    attributes_to_get: Option<Vec<String>>,
    consistent_read: Option<bool>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let mut v = Validator::new();
    let entries = match input.request_items {
        None => {
            v.required::<()>(None, "requestItems");
            Vec::new()
        }
        // DynamoDB answers an empty map with this sentence rather than with the map's
        // length constraint.
        Some(map) if map.0.is_empty() => {
            return Err(DynamoError::validation(
                "The requestItems parameter is required for BatchGetItem",
            ))
        }
        Some(map) => last_wins(map.0),
    };
    check_constraints(&mut v, &entries);
    let wanted = v
        .enumeration(
            input.return_consumed_capacity.as_ref(),
            "returnConsumedCapacity",
            false,
        )
        .unwrap_or_default();
    v.finish()?;

    // Each table may have up to 100 keys by the model, but the request as a whole may not
    // either; DynamoDB words the second limit differently.
    let total: usize = entries
        .iter()
        .filter_map(|(_, spec)| spec.as_ref()?.keys.as_ref().map(Vec::len))
        .sum();
    if total > MAX_KEYS {
        return Err(DynamoError::validation(
            "Too many items requested for the BatchGetItem call",
        ));
    }

    let mut requests = Vec::with_capacity(entries.len());
    for (client_key, spec) in entries {
        // Constraint validation guarantees both are present.
        let Some(spec) = spec else { continue };
        let mut keys = Vec::new();
        for key in spec.keys.unwrap_or_default() {
            keys.push(super::checked_item(Some(key))?);
        }
        let prepared = expressions::prepare(expressions::Inputs {
            own: &["ProjectionExpression"],
            names: spec.expression_attribute_names.as_ref(),
            projection: spec.projection_expression.as_deref(),
            attributes_to_get: spec.attributes_to_get.as_ref(),
            ..Default::default()
        })?;
        requests.push(TableRequest {
            table: resolve_table(&client_key).to_string(),
            client_key,
            keys,
            projection: prepared.projection,
            attributes_to_get: spec.attributes_to_get,
            consistent_read: spec.consistent_read,
            projection_expression: spec.projection_expression,
            expression_attribute_names: spec.expression_attribute_names,
        });
    }

    let out = ctx.engine.batch_get(
        requests
            .iter()
            .map(|r| BatchGetTable {
                table: r.table.clone(),
                keys: r.keys.clone(),
                projection: r.projection.clone(),
                consistent: r.consistent_read.unwrap_or(false),
            })
            .collect(),
    )?;

    let mut responses = Pairs(Vec::with_capacity(out.responses.len()));
    for (i, (table, items)) in out.responses.into_iter().enumerate() {
        let key = client_key_for(&requests, i, &table);
        responses.append(key, items);
    }
    let mut unprocessed = Pairs(Vec::new());
    for left in out.unprocessed {
        let request = requests
            .iter()
            .find(|r| {
                r.table == left.table && left.keys.first().is_some_and(|k| r.keys.contains(k))
            })
            .or_else(|| requests.iter().find(|r| r.table == left.table));
        let Some(request) = request else {
            return Err(DynamoError::internal(format!(
                "unprocessed keys for a table not in the request: {}",
                left.table
            )));
        };
        unprocessed.0.push((
            request.client_key.clone(),
            KeysAndAttributesOut {
                keys: left.keys,
                attributes_to_get: request.attributes_to_get.clone(),
                consistent_read: request.consistent_read,
                projection_expression: request.projection_expression.clone(),
                expression_attribute_names: request.expression_attribute_names.clone(),
            },
        ));
    }
    let consumed_capacity = (wanted != ReturnCapacity::None).then(|| {
        out.consumed
            .into_iter()
            .filter_map(|c| ConsumedCapacityOut::from(c, wanted))
            .collect()
    });
    Ok(Output {
        responses,
        unprocessed_keys: unprocessed,
        consumed_capacity,
    })
}

/// Request constraints below `requestItems`, then on the map itself.
fn check_constraints(v: &mut Validator, entries: &[(String, Option<KeysAndAttributesIn>)]) {
    for (table, spec) in entries {
        let Some(spec) = spec else { continue };
        let at = format!("requestItems.{table}.member");
        match &spec.keys {
            None => {
                v.required::<()>(None, &format!("{at}.keys"));
            }
            // Too many keys is reported without echoing them, under the member's own names.
            Some(keys) if keys.len() > MAX_KEYS => v.unechoed(
                &format!("RequestItems.{table}.member.Keys"),
                &format!("Member must have length less than or equal to {MAX_KEYS}"),
            ),
            Some(keys) if keys.is_empty() => {
                v.list_len(
                    keys.len(),
                    &show_key_list(keys),
                    &format!("{at}.keys"),
                    1,
                    MAX_KEYS,
                );
            }
            Some(_) => {}
        }
        if let Some(names) = &spec.attributes_to_get {
            v.list_len(
                names.len(),
                &format!("[{}]", names.join(", ")),
                &format!("{at}.attributesToGet"),
                1,
                usize::MAX,
            );
        }
    }
    if let Some(rule) = entries
        .iter()
        .find_map(|(table, _)| table_key_violation(table))
    {
        v.custom(&show_request_map(entries), "requestItems", rule);
    }
    if entries.iter().any(|(_, spec)| spec.is_none()) {
        v.custom(
            &show_request_map(entries),
            "requestItems",
            MAP_VALUE_NOT_NULL,
        );
    }
    if entries.len() > MAX_TABLES {
        v.custom(
            &show_request_map(entries),
            "requestItems",
            &format!("Member must have length less than or equal to {MAX_TABLES}"),
        );
    }
}

/// The client's name for the `i`-th table of the engine's answer (the engine answers in
/// request order, one entry per table; the name search is only a safety net).
fn client_key_for(requests: &[TableRequest], i: usize, table: &str) -> String {
    match requests.get(i) {
        Some(r) if r.table == table => r.client_key.clone(),
        _ => requests
            .iter()
            .find(|r| r.table == table)
            .map_or_else(|| table.to_string(), |r| r.client_key.clone()),
    }
}

// -------------------------------------------------------------------------------------------
// Shared with BatchWriteItem.

/// The constraint text for a `null` value in `RequestItems` (decided: DynamoDB's wording
/// for this case was not observed).
pub(super) const MAP_VALUE_NOT_NULL: &str =
    "Map value must satisfy constraint: [Member must not be null]";

/// A JSON object written in a chosen order (response maps keep the request's table order).
#[derive(Debug)]
pub struct Pairs<T>(pub Vec<(String, T)>);

impl<T> Pairs<Vec<T>> {
    /// Adds `items` under `key`, extending the list if the key is already there.
    fn append(&mut self, key: String, items: Vec<T>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.extend(items),
            None => self.0.push((key, items)),
        }
    }
}

impl<T: Serialize> Serialize for Pairs<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A JSON object that names a key twice keeps the last value, as a Java map would.
pub(super) fn last_wins<T>(pairs: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut position: HashMap<String, usize> = HashMap::with_capacity(pairs.len());
    let mut out: Vec<(String, T)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match position.get(&key) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    slot.1 = value;
                }
            }
            None => {
                position.insert(key.clone(), out.len());
                out.push((key, value));
            }
        }
    }
    out
}

/// The table name a `RequestItems` key stands for: itself, or the name inside a table ARN.
/// An ARN that names no table stays as it is and is then not found.
pub(super) fn resolve_table(key: &str) -> &str {
    if key.starts_with("arn:") {
        stator_engine::catalog::table_name_from_arn(key).unwrap_or(key)
    } else {
        key
    }
}

/// The constraint a `RequestItems` key breaks, if any. DynamoDB prints the whole rule list
/// of the map's key type, whichever rule failed (observed for table names; the ARN list is
/// the same form with the ARN limits).
pub(super) fn table_key_violation(key: &str) -> Option<&'static str> {
    let len = key.encode_utf16().count();
    if key.starts_with("arn:") {
        (len > validate::TABLE_NAME_OR_ARN.max).then_some(
            "Map keys must satisfy constraint: [Member must have length less than or equal to \
             1024, Member must have length greater than or equal to 1]",
        )
    } else {
        let rules = validate::TABLE_NAME;
        (len < rules.min || len > rules.max || !key.chars().all(validate::is_name_char)).then_some(
            "Map keys must satisfy constraint: [Member must have length less than or equal \
                 to 255, Member must have length greater than or equal to 3, Member must \
                 satisfy regular expression pattern: [a-zA-Z0-9_.-]+]",
        )
    }
}

/// How DynamoDB's (Java) validator prints a model object that has no readable form: class
/// name and hash code. Only the shape can be reproduced; a stable FNV-1a hash of the
/// content stands in for the hash code.
pub(super) fn object_tag(class: &str, content: &[u8]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in content {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("com.amazonaws.dynamodb.v20120810.{class}@{hash:x}")
}

/// A key as the validator prints it: `{pk=com.amazonaws.dynamodb.v20120810.AttributeValue@…}`.
pub(super) fn show_attribute_map(map: &Checked<Item>) -> String {
    match &map.0 {
        Ok(item) => {
            let parts: Vec<String> = item
                .iter()
                .map(|(name, value)| {
                    let json = serde_json::to_vec(value).unwrap_or_default();
                    format!("{name}={}", object_tag("AttributeValue", &json))
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Err(_) => "{}".to_string(),
    }
}

fn show_key_list(keys: &[Checked<Item>]) -> String {
    let parts: Vec<String> = keys.iter().map(show_attribute_map).collect();
    format!("[{}]", parts.join(", "))
}

fn show_or_null<T>(value: Option<&T>, show: impl Fn(&T) -> String) -> String {
    value.map_or_else(|| "null".to_string(), show)
}

/// `RequestItems` as the validator prints it (observed form:
/// `{t=KeysAndAttributes(keys=[{k=…AttributeValue@dc2389d6}], attributesToGet=null, …)}`).
fn show_request_map(entries: &[(String, Option<KeysAndAttributesIn>)]) -> String {
    let parts: Vec<String> = entries
        .iter()
        .map(|(table, spec)| {
            let shown = show_or_null(spec.as_ref(), |spec| {
                let names = show_or_null(spec.expression_attribute_names.as_ref(), |names| {
                    let mut pairs: Vec<String> =
                        names.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    pairs.sort();
                    format!("{{{}}}", pairs.join(", "))
                });
                format!(
                    "KeysAndAttributes(keys={}, attributesToGet={}, consistentRead={}, \
                     projectionExpression={}, expressionAttributeNames={names}, \
                     workloadProfileName=null)",
                    show_or_null(spec.keys.as_ref(), |k| show_key_list(k)),
                    show_or_null(spec.attributes_to_get.as_ref(), |a| format!(
                        "[{}]",
                        a.join(", ")
                    )),
                    show_or_null(spec.consistent_read.as_ref(), |c| c.to_string()),
                    show_or_null(spec.projection_expression.as_ref(), |p| p.clone()),
                )
            });
            format!("{table}={shown}")
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keys() {
        assert_eq!(resolve_table("Music"), "Music");
        assert_eq!(
            resolve_table("arn:aws:dynamodb:us-east-1:000000000000:table/Music"),
            "Music"
        );
        assert!(table_key_violation("Music").is_none());
        assert!(table_key_violation("ab").is_some());
        assert!(table_key_violation("a;b").is_some());
        assert!(table_key_violation("arn:aws:dynamodb:us-east-1:000000000000:table/M").is_none());
        assert!(table_key_violation(&format!("arn:{}", "x".repeat(1100))).is_some());
    }

    #[test]
    fn last_value_wins() {
        let pairs = vec![
            ("a".to_string(), 1),
            ("b".to_string(), 2),
            ("a".to_string(), 3),
        ];
        assert_eq!(
            last_wins(pairs),
            vec![("a".to_string(), 3), ("b".to_string(), 2)]
        );
    }

    #[test]
    fn object_tags_are_stable_and_java_shaped() {
        let a = object_tag("WriteRequest", b"x");
        assert_eq!(a, object_tag("WriteRequest", b"x"));
        assert!(a.starts_with("com.amazonaws.dynamodb.v20120810.WriteRequest@"));
        assert_ne!(a, object_tag("WriteRequest", b"y"));
    }
}
