//! The API operations: one file per operation, each owning its input model, its validation
//! (in DynamoDB's order and words) and its handler, which calls the engine and builds the
//! output. This module maps `X-Amz-Target` to an operation and holds the pieces every
//! operation shares.

use serde::de::DeserializeOwned;
use stator_engine::items::ReturnValues;
use stator_engine::records::ReadItem;
use stator_engine::{ConsumedCapacity, DynamoError, Engine, ErrorKind, ReturnCapacity};
use stator_types::{Checked, Item};

use crate::validate::{self, Validator};

mod batch_get_item;
mod batch_write_item;
mod create_table;
mod delete_item;
mod delete_table;
mod describe_endpoints;
mod describe_limits;
mod describe_table;
pub mod expressions;
mod get_item;
mod list_tables;
mod list_tags_of_resource;
mod put_item;
mod query;
mod read_common;
mod scan;
mod table_description;
mod tag_resource;
mod transact_get_items;
mod transact_write_items;
mod untag_resource;
mod update_item;
mod update_table;

/// What a handler needs besides its input.
pub struct Context<'a> {
    pub engine: &'a Engine,
    /// The region of the request's credential scope.
    pub region: &'a str,
    /// The `Host` the client addressed (for DescribeEndpoints).
    pub host: &'a str,
}

type Handler = fn(&Context<'_>, &[u8]) -> Result<Vec<u8>, DynamoError>;

const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// The implemented operations.
const OPERATIONS: &[(&str, Handler)] = &[
    ("BatchGetItem", batch_get_item::handle),
    ("BatchWriteItem", batch_write_item::handle),
    ("CreateTable", create_table::handle),
    ("DeleteItem", delete_item::handle),
    ("DeleteTable", delete_table::handle),
    ("DescribeEndpoints", describe_endpoints::handle),
    ("DescribeLimits", describe_limits::handle),
    ("DescribeTable", describe_table::handle),
    ("GetItem", get_item::handle),
    ("ListTables", list_tables::handle),
    ("ListTagsOfResource", list_tags_of_resource::handle),
    ("PutItem", put_item::handle),
    ("Query", query::handle),
    ("Scan", scan::handle),
    ("TagResource", tag_resource::handle),
    ("TransactGetItems", transact_get_items::handle),
    ("TransactWriteItems", transact_write_items::handle),
    ("UntagResource", untag_resource::handle),
    ("UpdateItem", update_item::handle),
    ("UpdateTable", update_table::handle),
];

/// Operations DynamoDB has that Stator does not implement yet. They fail with a clear
/// message instead of looking unknown.
const NOT_YET: &[&str] = &[
    "BatchExecuteStatement",
    "CreateBackup",
    "CreateGlobalTable",
    "DeleteBackup",
    "DeleteResourcePolicy",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeTableReplicaAutoScaling",
    "DescribeTimeToLive",
    "DisableKinesisStreamingDestination",
    "EnableKinesisStreamingDestination",
    "ExecuteStatement",
    "ExecuteTransaction",
    "ExportTableToPointInTime",
    "GetResourcePolicy",
    "ImportTable",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "PutResourcePolicy",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "UpdateContinuousBackups",
    "UpdateContributorInsights",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateKinesisStreamingDestination",
    "UpdateTableReplicaAutoScaling",
    "UpdateTimeToLive",
];

/// Finds the handler for an `X-Amz-Target` header value.
pub fn resolve(target: Option<&str>) -> Result<Handler, DynamoError> {
    let unknown = || DynamoError::new(ErrorKind::UnknownOperation, "");
    let name = target
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .ok_or_else(unknown)?;
    if let Some((_, handler)) = OPERATIONS.iter().find(|(op, _)| *op == name) {
        return Ok(*handler);
    }
    if NOT_YET.contains(&name) {
        return Err(DynamoError::new(
            ErrorKind::UnknownOperation,
            format!("Stator does not support the {name} operation yet"),
        ));
    }
    Err(unknown())
}

/// Decodes a request body. Malformed JSON and members of the wrong JSON type are
/// `SerializationException`, as in DynamoDB.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DynamoError> {
    // An empty body is treated as an empty object, like the real service.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => strip_position(&e.to_string()),
            _ => "Start of structure or map found where not expected.".to_string(),
        };
        DynamoError::new(ErrorKind::Serialization, message)
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Encodes an output model.
pub fn encode<T: serde::Serialize>(output: &T) -> Result<Vec<u8>, DynamoError> {
    serde_json::to_vec(output)
        .map_err(|e| DynamoError::internal(format!("cannot encode response: {e}")))
}

/// Appends an item's DynamoDB JSON to `out`: an item in its stored form is transcoded
/// straight from its codec bytes (the same checks as decoding, output byte-identical to
/// serde's), a built one goes through the JSON writer. On an error `out` holds a partial
/// answer that must be discarded.
pub fn write_read_item(item: &ReadItem, out: &mut Vec<u8>) -> Result<(), DynamoError> {
    match item {
        ReadItem::Stored(bytes) => {
            let encoded = stator_engine::records::stored_encoding(bytes)?;
            stator_types::write_item_json(encoded, out)
                .map_err(|_| DynamoError::internal("corrupt item in storage"))
        }
        ReadItem::Built(item) => {
            stator_types::jsonout::write_item(out, item);
            Ok(())
        }
    }
}

/// A JSON object written member by member, for the outputs made mostly of items (GetItem,
/// Query, Scan): items go in with [`write_read_item`] (straight from their stored bytes),
/// anything else through serde.
pub struct ObjectOut {
    buf: Vec<u8>,
    empty: bool,
}

impl ObjectOut {
    pub fn with_capacity(capacity: usize) -> ObjectOut {
        let mut buf = Vec::with_capacity(capacity);
        buf.push(b'{');
        ObjectOut { buf, empty: true }
    }

    /// Starts a member and returns the buffer to write its value into.
    pub fn member(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        stator_types::jsonout::write_str(&mut self.buf, name);
        self.buf.push(b':');
        &mut self.buf
    }

    /// A member whose value serde writes; nothing when `value` is `None`.
    pub fn serde_member<T: serde::Serialize>(
        &mut self,
        name: &str,
        value: Option<&T>,
    ) -> Result<(), DynamoError> {
        if let Some(value) = value {
            serde_json::to_writer(self.member(name), value)
                .map_err(|e| DynamoError::internal(format!("cannot encode response: {e}")))?;
        }
        Ok(())
    }

    /// A list of items.
    pub fn items_member(&mut self, name: &str, items: &[ReadItem]) -> Result<(), DynamoError> {
        let out = self.member(name);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_read_item(item, out)?;
        }
        out.push(b']');
        Ok(())
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(b'}');
        self.buf
    }
}

/// A parameter DynamoDB has but Stator does not implement yet.
pub fn not_yet(parameter: &str) -> DynamoError {
    DynamoError::validation(format!(
        "Stator does not support the {parameter} parameter yet"
    ))
}

/// Checks the `TableName` of a data-plane request, which may be a name or a table ARN, and
/// returns the table name.
pub fn table_name<'a>(v: &mut Validator, name: Option<&'a str>) -> Option<&'a str> {
    let name = name?;
    if name.starts_with("arn:") {
        v.text(Some(name), "tableName", validate::TABLE_NAME_OR_ARN, true);
        stator_engine::catalog::table_name_from_arn(name).or(Some(name))
    } else {
        v.text(Some(name), "tableName", validate::TABLE_NAME, true);
        Some(name)
    }
}

/// Resolves a validated TableName: ARNs that do not name a table are not found.
pub fn require_table_name(name: Option<&str>) -> Result<&str, DynamoError> {
    name.ok_or_else(DynamoError::table_not_found)
}

/// `ReturnConsumedCapacity`, already constraint-checked.
pub fn return_capacity(value: Option<&str>) -> ReturnCapacity {
    match value {
        Some("TOTAL") => ReturnCapacity::Total,
        Some("INDEXES") => ReturnCapacity::Indexes,
        _ => ReturnCapacity::None,
    }
}

/// `ReturnValues`, already constraint-checked.
pub fn return_values(value: Option<&str>) -> ReturnValues {
    match value {
        Some("ALL_OLD") => ReturnValues::AllOld,
        Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
        Some("ALL_NEW") => ReturnValues::AllNew,
        Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
        _ => ReturnValues::None,
    }
}

/// Unwraps an item or key whose attribute values were checked while decoding.
pub fn checked_item(value: Option<Checked<Item>>) -> Result<Item, DynamoError> {
    match value {
        Some(Checked(Ok(item))) => Ok(item),
        Some(Checked(Err(e))) => Err(DynamoError::validation(e.message())),
        None => Ok(Item::new()),
    }
}

/// The JSON form of consumed capacity.
#[derive(serde::Serialize)]
pub struct ConsumedCapacityOut {
    #[serde(rename = "TableName")]
    table_name: String,
    #[serde(rename = "CapacityUnits")]
    capacity_units: f64,
    #[serde(rename = "ReadCapacityUnits", skip_serializing_if = "Option::is_none")]
    read_capacity_units: Option<f64>,
    #[serde(rename = "WriteCapacityUnits", skip_serializing_if = "Option::is_none")]
    write_capacity_units: Option<f64>,
    #[serde(rename = "Table", skip_serializing_if = "Option::is_none")]
    table: Option<CapacityOut>,
    #[serde(
        rename = "GlobalSecondaryIndexes",
        skip_serializing_if = "Option::is_none"
    )]
    global_secondary_indexes: Option<std::collections::BTreeMap<String, CapacityOut>>,
    #[serde(
        rename = "LocalSecondaryIndexes",
        skip_serializing_if = "Option::is_none"
    )]
    local_secondary_indexes: Option<std::collections::BTreeMap<String, CapacityOut>>,
}

#[derive(serde::Serialize)]
pub struct CapacityOut {
    #[serde(rename = "CapacityUnits")]
    capacity_units: f64,
    #[serde(rename = "ReadCapacityUnits", skip_serializing_if = "Option::is_none")]
    read_capacity_units: Option<f64>,
    #[serde(rename = "WriteCapacityUnits", skip_serializing_if = "Option::is_none")]
    write_capacity_units: Option<f64>,
}

impl CapacityOut {
    fn new(units: f64, kind: stator_engine::CapacityKind) -> Self {
        let read = kind == stator_engine::CapacityKind::Read;
        CapacityOut {
            capacity_units: units,
            read_capacity_units: read.then_some(units),
            write_capacity_units: (!read).then_some(units),
        }
    }
}

impl ConsumedCapacityOut {
    /// `TOTAL` reports the request's total (table and indexes); `INDEXES` adds the
    /// breakdown: the table and each index touched, read or write units as appropriate.
    /// `None` when the request did not ask (`ReturnConsumedCapacity` absent or `NONE`).
    pub fn from(c: ConsumedCapacity, wanted: ReturnCapacity) -> Option<Self> {
        if wanted == ReturnCapacity::None {
            return None;
        }
        let total = c.total();
        let detail = wanted == ReturnCapacity::Indexes;
        let map = |list: &[(String, f64)]| {
            (detail && !list.is_empty()).then(|| {
                list.iter()
                    .map(|(name, units)| (name.clone(), CapacityOut::new(*units, c.kind)))
                    .collect()
            })
        };
        let overall = CapacityOut::new(total, c.kind);
        Some(ConsumedCapacityOut {
            global_secondary_indexes: map(&c.global_indexes),
            local_secondary_indexes: map(&c.local_indexes),
            table: detail.then(|| CapacityOut::new(c.table_units, c.kind)),
            table_name: c.table_name,
            capacity_units: total,
            read_capacity_units: if detail {
                overall.read_capacity_units
            } else {
                None
            },
            write_capacity_units: if detail {
                overall.write_capacity_units
            } else {
                None
            },
        })
    }
}

/// The JSON form of `ItemCollectionMetrics`.
#[derive(serde::Serialize)]
pub struct CollectionMetricsOut {
    #[serde(rename = "ItemCollectionKey")]
    key: stator_types::Item,
    #[serde(rename = "SizeEstimateRangeGB")]
    size_estimate_range_gb: [f64; 2],
}

impl CollectionMetricsOut {
    /// `None` unless the request asked (`ReturnItemCollectionMetrics=SIZE`) and the table
    /// has local secondary indexes.
    pub fn from(
        metrics: Option<stator_engine::collections::CollectionMetrics>,
        wanted: bool,
    ) -> Option<Self> {
        metrics.filter(|_| wanted).map(|m| CollectionMetricsOut {
            key: m.key,
            size_estimate_range_gb: [m.size_range_gb.0, m.size_range_gb.1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve() {
        assert!(resolve(Some("DynamoDB_20120810.PutItem")).is_ok());
        let err = resolve(Some("DynamoDB_20120810.Nope")).err().unwrap();
        assert_eq!(err.kind, ErrorKind::UnknownOperation);
        let err = resolve(None).err().unwrap();
        assert_eq!(err.kind, ErrorKind::UnknownOperation);
        let err = resolve(Some("DynamoDB_20120810.CreateBackup"))
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::UnknownOperation);
        assert!(err.message.contains("CreateBackup"));
    }

    #[test]
    fn every_operation_is_listed_once() {
        let mut names: Vec<&str> = OPERATIONS.iter().map(|(n, _)| *n).collect();
        names.extend_from_slice(NOT_YET);
        let total = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), total);
    }

    #[test]
    fn serialization_errors_for_wrong_types() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct In {
            #[serde(rename = "TableName")]
            table_name: Option<String>,
        }
        let err = decode::<In>(br#"{"TableName": 5}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Serialization);
        assert!(!err.message.contains("line"));
        let err = decode::<In>(b"{not json").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Serialization);
        assert!(decode::<In>(b"").is_ok());
    }
}
