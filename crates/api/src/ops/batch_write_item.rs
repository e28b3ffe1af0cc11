//! BatchWriteItem: up to 25 puts and deletes over up to 25 tables in one call.
//!
//! A batch is not a transaction, but DynamoDB refuses the whole request before writing
//! anything when any part of it is invalid. The steps, in DynamoDB's order:
//! 1. Request constraints, all violations in one `ValidationException` (`RequestItems`
//!    present and not empty; each `PutRequest` has an `Item` and each `DeleteRequest` a
//!    `Key`; the map's keys valid table names or ARNs; 1–25 requests per table; at most 25
//!    tables; the two `Return…` enums).
//! 2. At most 25 requests over all tables (`Too many items requested for the BatchWriteItem
//!    call`).
//! 3. Per request, in order: exactly one of `PutRequest` / `DeleteRequest`, and its attribute
//!    values.
//! 4. [`stator_engine::Engine::batch_write`] checks, per table in order: the table exists;
//!    every put carries the table's key attributes with the right types (in a batch
//!    DynamoDB reports a missing or mistyped key attribute of an item as `The provided key
//!    element does not match the schema`, not with PutItem's wording), then PutItem's item
//!    checks (empty key values, index keys, 400 KB, key sizes); every delete key matches
//!    the key schema; no item is written twice. Then it applies each write in its own
//!    storage transaction; once one has committed, a failure returns the rest in
//!    `UnprocessedItems` instead of an error.

use serde::{Deserialize, Serialize};
use stator_engine::batch::{BatchWrite, BatchWriteTable};
use stator_engine::{DynamoError, ReturnCapacity};
use stator_types::{Checked, Item};

use super::batch_get_item::{
    last_wins, object_tag, resolve_table, table_key_violation, Pairs, MAP_VALUE_NOT_NULL,
};
use super::{CollectionMetricsOut, ConsumedCapacityOut};
use crate::enums::{EnumValue, ReturnItemCollectionMetrics};
use crate::expressions::OrderedMap;
use crate::validate::Validator;
use crate::Context;

/// Most requests per table, in the whole call, and most tables.
const MAX_WRITES: usize = 25;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub request_items: Option<OrderedMap<Option<Vec<WriteRequestIn>>>>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
    pub return_item_collection_metrics: Option<EnumValue<ReturnItemCollectionMetrics>>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct WriteRequestIn {
    pub put_request: Option<PutRequestIn>,
    pub delete_request: Option<DeleteRequestIn>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PutRequestIn {
    pub item: Option<Checked<Item>>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequestIn {
    pub key: Option<Checked<Item>>,
}

/// A write in request form, for `UnprocessedItems`.
#[derive(Serialize, Debug)]
pub enum WriteRequestOut {
    PutRequest {
        #[serde(rename = "Item")]
        item: Item,
    },
    DeleteRequest {
        #[serde(rename = "Key")]
        key: Item,
    },
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub unprocessed_items: Pairs<Vec<WriteRequestOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacityOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<Pairs<Vec<CollectionMetricsOut>>>,
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
                "The requestItems parameter is required for BatchWriteItem",
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
    let want_metrics = v.enumeration(
        input.return_item_collection_metrics.as_ref(),
        "returnItemCollectionMetrics",
        false,
    ) == Some(ReturnItemCollectionMetrics::Size);
    v.finish()?;

    let total: usize = entries
        .iter()
        .filter_map(|(_, writes)| writes.as_ref().map(Vec::len))
        .sum();
    if total > MAX_WRITES {
        return Err(DynamoError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }

    // The shape of each request and its attribute values.
    let mut tables = Vec::with_capacity(entries.len());
    for (client_key, writes) in entries {
        // Constraint validation guarantees the list is present.
        let Some(writes) = writes else { continue };
        let mut converted = Vec::with_capacity(writes.len());
        for write in writes {
            converted.push(match (write.put_request, write.delete_request) {
                (Some(put), None) => BatchWrite::Put(super::checked_item(put.item)?),
                (None, Some(delete)) => BatchWrite::Delete(super::checked_item(delete.key)?),
                (None, None) => {
                    return Err(DynamoError::validation(
                        "Supplied WriteRequest is empty, must contain exactly one of \
                         PutRequest or DeleteRequest",
                    ))
                }
                (Some(_), Some(_)) => {
                    return Err(DynamoError::validation(
                        "Supplied WriteRequest has more than one request type set, must \
                         contain exactly one of PutRequest or DeleteRequest",
                    ))
                }
            });
        }
        tables.push((
            client_key.clone(),
            BatchWriteTable {
                table: resolve_table(&client_key).to_string(),
                writes: converted,
            },
        ));
    }

    let client_keys: Vec<(String, String)> = tables
        .iter()
        .map(|(client_key, t)| (t.table.clone(), client_key.clone()))
        .collect();
    let client_key_of = |table: &str| {
        client_keys
            .iter()
            .find(|(name, _)| name == table)
            .map_or_else(|| table.to_string(), |(_, key)| key.clone())
    };
    let out = ctx
        .engine
        .batch_write(tables.into_iter().map(|(_, t)| t).collect())?;

    let unprocessed_items = Pairs(
        out.unprocessed
            .into_iter()
            .map(|t| {
                let writes = t
                    .writes
                    .into_iter()
                    .map(|w| match w {
                        BatchWrite::Put(item) => WriteRequestOut::PutRequest { item },
                        BatchWrite::Delete(key) => WriteRequestOut::DeleteRequest { key },
                    })
                    .collect();
                (client_key_of(&t.table), writes)
            })
            .collect(),
    );
    let consumed_capacity = (wanted != ReturnCapacity::None).then(|| {
        out.consumed
            .into_iter()
            .filter_map(|c| ConsumedCapacityOut::from(c, wanted))
            .collect()
    });
    // Only tables with local secondary indexes have item collections to report.
    let item_collection_metrics = (want_metrics && !out.collection_metrics.is_empty()).then(|| {
        Pairs(
            out.collection_metrics
                .into_iter()
                .map(|(table, metrics)| {
                    (
                        client_key_of(&table),
                        metrics
                            .into_iter()
                            .filter_map(|m| CollectionMetricsOut::from(Some(m), true))
                            .collect(),
                    )
                })
                .collect(),
        )
    });
    Ok(Output {
        unprocessed_items,
        consumed_capacity,
        item_collection_metrics,
    })
}

/// Request constraints below `requestItems`, then on the map itself.
fn check_constraints(v: &mut Validator, entries: &[(String, Option<Vec<WriteRequestIn>>)]) {
    for (table, writes) in entries {
        for (i, write) in writes.iter().flatten().enumerate() {
            let at = format!("requestItems.{table}.member.{}.member", i + 1);
            if let Some(put) = &write.put_request {
                v.required(put.item.as_ref(), &format!("{at}.putRequest.item"));
            }
            if let Some(delete) = &write.delete_request {
                v.required(delete.key.as_ref(), &format!("{at}.deleteRequest.key"));
            }
        }
    }
    if let Some(rule) = entries
        .iter()
        .find_map(|(table, _)| table_key_violation(table))
    {
        v.custom(&show_request_map(entries), "requestItems", rule);
    }
    if entries.iter().any(|(_, writes)| writes.is_none()) {
        v.custom(
            &show_request_map(entries),
            "requestItems",
            MAP_VALUE_NOT_NULL,
        );
    }
    let bad_length = entries.iter().any(|(_, writes)| {
        writes
            .as_ref()
            .is_some_and(|w| w.is_empty() || w.len() > MAX_WRITES)
    });
    if bad_length {
        // Observed wording: the map is printed whole and both length rules are listed.
        v.custom(
            &show_request_map(entries),
            "requestItems",
            "Map value must satisfy constraint: [Member must have length less than or equal \
             to 25, Member must have length greater than or equal to 1]",
        );
    }
    if entries.len() > MAX_WRITES {
        v.custom(
            &show_request_map(entries),
            "requestItems",
            &format!("Member must have length less than or equal to {MAX_WRITES}"),
        );
    }
}

/// `RequestItems` as the validator prints it (observed form:
/// `{t=[com.amazonaws.dynamodb.v20120810.WriteRequest@caad9cb8, …], u=[]}`).
fn show_request_map(entries: &[(String, Option<Vec<WriteRequestIn>>)]) -> String {
    let parts: Vec<String> = entries
        .iter()
        .map(|(table, writes)| match writes {
            None => format!("{table}=null"),
            Some(writes) => {
                let shown: Vec<String> = writes
                    .iter()
                    .map(|w| object_tag("WriteRequest", format!("{w:?}").as_bytes()))
                    .collect();
                format!("{table}=[{}]", shown.join(", "))
            }
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}
