//! The operations, one module each, and the pieces they share: the table name member,
//! checked items, and the output forms of consumed capacity and item collection metrics.

use stator_engine::{ConsumedCapacity, DynamoError};
use stator_types::{Checked, Item};

use crate::validate::{self, Validator};
use stator_engine::ReturnCapacity;

pub mod batch_get_item;
pub mod batch_write_item;
pub mod create_table;
pub mod delete_item;
pub mod delete_table;
pub mod describe_endpoints;
pub mod describe_limits;
pub mod describe_table;
pub mod get_item;
pub mod list_tables;
pub mod list_tags_of_resource;
pub mod put_item;
pub mod query;
pub mod read_common;
pub mod scan;
pub mod table_description;
pub mod tag_resource;
pub mod transact_get_items;
pub mod transact_write_items;
pub mod untag_resource;
pub mod update_item;
pub mod update_table;
pub mod write_options;

/// The output of operations that answer with an empty body (TagResource, UntagResource).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoOutput;

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
    // The model allows names or ARNs of 1 to 1024 characters, so an empty name breaks only
    // that minimum; other short names get the table-name rules (pattern, 3 characters).
    if name.starts_with("arn:") || name.is_empty() {
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

/// Unwraps an item or key whose attribute values were checked while decoding.
pub fn checked_item(value: Option<Checked<Item>>) -> Result<Item, DynamoError> {
    match value {
        Some(Checked(Ok(item))) => {
            check_names(item.keys())?;
            Ok(item)
        }
        Some(Checked(Err(e))) => Err(DynamoError::validation(e.message())),
        None => Ok(Item::new()),
    }
}

/// Refuses an empty or over-long attribute name among `names` (item attributes,
/// `AttributeUpdates`, `Expected` and `AttributesToGet` entries).
pub fn check_names<'a>(names: impl IntoIterator<Item = &'a String>) -> Result<(), DynamoError> {
    for name in names {
        if let Some(problem) = stator_types::attribute_name_problem(name) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: {problem}"
            )));
        }
    }
    Ok(())
}

/// The JSON form of consumed capacity.
#[derive(serde::Serialize, Debug)]
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

#[derive(serde::Serialize, Debug)]
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
#[derive(serde::Serialize, Debug)]
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
