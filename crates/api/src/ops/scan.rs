//! Scan: one page of items from a whole table or secondary index, or from one segment of it
//! (parallel scan), optionally filtered and projected.
//!
//! Checks run in DynamoDB's order (see [`super::read_common`] for the shared phases):
//! request constraints; the `Segment` / `TotalSegments` pairing; attribute values in
//! `ExclusiveStartKey`; the request-only `Select` rules; expressions and legacy parameters.
//! The engine then checks, with the table: index existence and state, `ConsistentRead` and
//! `Select=ALL_ATTRIBUTES` on a GSI, attributes a GSI does not project, the start key's
//! shape, and whether it belongs to the requested segment. Unlike Query, a Scan filter may
//! name key attributes.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::capacity::ReturnCapacity;
use stator_engine::query::{ScanRequest, Select};
use stator_engine::DynamoError;
use stator_types::{AttributeValue, Checked, Item};

use super::read_common::{self, ConditionIn, Operation, PageOutput};
use crate::enums::{ConditionalOperator, EnumValue};
use crate::expressions::OrderedMap;
use crate::validate::{self, Validator};
use crate::Context;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub table_name: Option<String>,
    pub index_name: Option<String>,
    pub attributes_to_get: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub select: Option<EnumValue<Select>>,
    pub scan_filter: Option<OrderedMap<ConditionIn>>,
    pub conditional_operator: Option<EnumValue<ConditionalOperator>>,
    pub exclusive_start_key: Option<Checked<Item>>,
    pub return_consumed_capacity: Option<EnumValue<ReturnCapacity>>,
    pub total_segments: Option<i64>,
    pub segment: Option<i64>,
    pub projection_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<HashMap<String, Checked<AttributeValue>>>,
    pub consistent_read: Option<bool>,
}

pub type Output = PageOutput;

/// `(Segment, TotalSegments)` once both are within their ranges: each requires the other,
/// and the segment is zero-based. (Texts decided from memory of the service; not found in a
/// public capture.)
fn segments(segment: Option<i64>, total: Option<i64>) -> Result<Option<(u32, u32)>, DynamoError> {
    match (segment, total) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(DynamoError::validation(
            "The TotalSegments parameter is required but was not present in the request when \
             Segment parameter is present",
        )),
        (None, Some(_)) => Err(DynamoError::validation(
            "The Segment parameter is required but was not present in the request when \
             parameter TotalSegments is present",
        )),
        (Some(segment), Some(total)) => {
            if segment >= total {
                return Err(DynamoError::validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter \
                     TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
                )));
            }
            // Both were range-checked (0..=999999, 1..=1000000), so they fit in u32.
            let convert = |n: i64| {
                u32::try_from(n).map_err(|_| DynamoError::internal("segment out of range"))
            };
            Ok(Some((convert(segment)?, convert(total)?)))
        }
    }
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    let (request, wanted) = validate(input)?;
    let select = request.select;
    let page = ctx.engine.scan(request)?;
    Ok(PageOutput::new(page, select, wanted))
}

/// The request-only checks in DynamoDB's order; then the engine request.
pub fn validate(input: Input) -> Result<(ScanRequest, ReturnCapacity), DynamoError> {
    // 1. Request constraints, in the order of the members in the API model.
    let mut v = Validator::new();
    let table = super::table_name(&mut v, input.table_name.as_deref());
    if table.is_none() {
        v.required::<()>(None, "tableName");
    }
    v.text(
        input.index_name.as_deref(),
        "indexName",
        validate::INDEX_NAME,
        false,
    );
    if let Some(names) = &input.attributes_to_get {
        v.list_len(
            names.len(),
            &format!("[{}]", names.join(", ")),
            "attributesToGet",
            1,
            usize::MAX,
        );
    }
    v.int_range(input.limit, "limit", 1, i64::MAX, false);
    let select = v.enumeration(input.select.as_ref(), "select", false);
    v.enumeration(
        input.conditional_operator.as_ref(),
        "conditionalOperator",
        false,
    );
    let wanted = v.enumeration(
        input.return_consumed_capacity.as_ref(),
        "returnConsumedCapacity",
        false,
    );
    v.int_range(
        input.total_segments,
        "totalSegments",
        1,
        read_common::MAX_TOTAL_SEGMENTS,
        false,
    );
    v.int_range(input.segment, "segment", 0, read_common::MAX_SEGMENT, false);
    v.finish()?;
    let segment = segments(input.segment, input.total_segments)?;

    // 2. Attribute values.
    let start_key = match input.exclusive_start_key {
        None => None,
        Some(Checked(Ok(key))) => Some(key),
        Some(Checked(Err(e))) => return Err(DynamoError::validation(e.message())),
    };

    // 3. Select rules that need only the request.
    read_common::check_select(
        Operation::Scan,
        select,
        input.attributes_to_get.is_some(),
        input.projection_expression.is_some(),
        input.index_name.is_some(),
    )?;

    // 4. Expressions.
    let prepared = read_common::prepare(read_common::Inputs {
        operation: Operation::Scan,
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        key_condition: None,
        filter: input.filter_expression.as_deref(),
        projection: input.projection_expression.as_deref(),
        key_conditions: None,
        filter_map: input.scan_filter.as_ref(),
        conditional_operator: input.conditional_operator.as_ref().map(EnumValue::text),
        attributes_to_get: input.attributes_to_get.as_ref(),
    })?;
    let table = super::require_table_name(table)?;
    let request = ScanRequest {
        table: table.to_string(),
        index: input.index_name,
        filter: prepared.filter,
        projection: prepared.projection,
        select,
        limit: read_common::limit(input.limit),
        exclusive_start_key: start_key,
        consistent: input.consistent_read.unwrap_or(false),
        segment,
    };
    Ok((request, wanted.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_pairing() {
        assert_eq!(segments(None, None).unwrap(), None);
        assert_eq!(segments(Some(0), Some(1)).unwrap(), Some((0, 1)));
        assert!(segments(Some(0), None)
            .unwrap_err()
            .message
            .starts_with("The TotalSegments parameter is required"));
        assert!(segments(None, Some(2))
            .unwrap_err()
            .message
            .starts_with("The Segment parameter is required"));
        assert_eq!(
            segments(Some(5), Some(5)).unwrap_err().message,
            "The Segment parameter is zero-based and must be less than parameter \
             TotalSegments: Segment: 5 is not less than TotalSegments: 5"
        );
    }
}
