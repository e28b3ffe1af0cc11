//! Scan: one page of items from a whole table or secondary index, or from one segment of it
//! (parallel scan), optionally filtered and projected.
//!
//! Checks run in DynamoDB's order (see [`super::read_common`] for the shared phases):
//! request constraints; the `Segment` / `TotalSegments` pairing; attribute values in
//! `ExclusiveStartKey`; the request-only `Select` rules; expressions and legacy parameters;
//! then, with the table: index existence and state, `ConsistentRead` and
//! `Select=ALL_ATTRIBUTES` on a GSI, attributes a GSI does not project, and the start key's
//! shape. Unlike Query, a Scan filter
//! may name key attributes. Whether a start key belongs to the requested segment is the
//! engine's check, since only it knows how items map to segments.

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::query::ScanRequest;
use stator_engine::DynamoError;
use stator_types::{AttributeValue, Checked, Item};

use super::expressions::OrderedMap;
use super::read_common::{self, ConditionIn, Operation, Target};
use super::Context;
use crate::validate::{self, Validator};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    table_name: Option<String>,
    index_name: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    limit: Option<i64>,
    select: Option<String>,
    scan_filter: Option<OrderedMap<ConditionIn>>,
    conditional_operator: Option<String>,
    exclusive_start_key: Option<Checked<Item>>,
    return_consumed_capacity: Option<String>,
    total_segments: Option<i64>,
    segment: Option<i64>,
    projection_expression: Option<String>,
    filter_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<HashMap<String, Checked<AttributeValue>>>,
    consistent_read: Option<bool>,
}

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

pub fn handle(ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    let input: Input = super::decode(body)?;

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
    v.one_of(
        input.select.as_deref(),
        "select",
        read_common::SELECT_VALUES,
        false,
    );
    v.one_of(
        input.conditional_operator.as_deref(),
        "conditionalOperator",
        validate::CONDITIONAL_OPERATORS,
        false,
    );
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        validate::RETURN_CONSUMED_CAPACITY,
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
    let select = read_common::parse_select(input.select.as_deref());
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
        conditional_operator: input.conditional_operator.as_deref(),
        attributes_to_get: input.attributes_to_get.as_ref(),
    })?;

    // 5. What needs the table.
    let table = super::require_table_name(table)?;
    let target = Target::resolve(ctx, table, input.index_name.as_deref())?;
    let consistent = input.consistent_read.unwrap_or(false);
    target.check_read_options(consistent, select)?;
    target.check_gsi_projection(prepared.projection.as_ref(), prepared.filter.as_ref())?;
    if let Some(start) = &start_key {
        target.check_start_key(Operation::Scan, start)?;
    }

    // 6. The read.
    let index = target.index_name();
    let select =
        read_common::effective_select(select, prepared.projection.is_some(), index.is_some());
    let wanted = super::return_capacity(input.return_consumed_capacity.as_deref());
    let page = ctx.engine.scan(ScanRequest {
        table: table.to_string(),
        index,
        filter: prepared.filter,
        projection: prepared.projection,
        select,
        limit: read_common::limit(input.limit),
        exclusive_start_key: start_key,
        consistent,
        segment,
    })?;
    read_common::page_out(&page, select, wanted)
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
