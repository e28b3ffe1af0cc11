//! What Query and Scan share: their legacy condition maps, the request-only `Select` rules,
//! the expression pipeline for reads, and the page output.
//!
//! The two operations run the same phases in DynamoDB's order:
//! 1. request constraints (`Validator`), member by member;
//! 2. attribute-value problems (`ExclusiveStartKey`);
//! 3. the `Select` rules that need nothing but the request ([`check_select`]);
//! 4. expressions ([`prepare`]): legacy and expression parameters not mixed, placeholder
//!    maps well-formed, each expression parsed, its placeholders resolved with one
//!    [`Placeholders`] for the whole request, unused ones reported, then validated for its
//!    context; legacy `KeyConditions` / `QueryFilter` / `ScanFilter` / `AttributesToGet`
//!    converted into the same trees;
//! 5. the engine call ([`stator_engine::Engine::query`] / `scan`), which applies what needs
//!    the table (`stator_engine::target`): the index and its state, consistent reads,
//!    `Select=ALL_ATTRIBUTES` on a GSI, attributes a GSI does not project, the key condition
//!    against the key schema, key attributes in a Query filter, the start key; then
//!    [`PageOutput`].

use std::collections::HashMap;

use serde::Deserialize;
use stator_engine::capacity::ReturnCapacity;
use stator_engine::query::{Page, Select};
use stator_engine::records::ReadItem;
use stator_engine::DynamoError;
use stator_expr::legacy::{self, LegacyCondition};
use stator_expr::resolve::Placeholders;
use stator_expr::{Condition, ExpressionKind, Projection};
use stator_types::{AttributeValue, Checked, Item};

use super::ConsumedCapacityOut;
use crate::enums::DynamoEnum;
use crate::expressions::OrderedMap;

/// `Segment` and `TotalSegments` bounds (API Reference).
pub const MAX_SEGMENT: i64 = 999_999;
pub const MAX_TOTAL_SEGMENTS: i64 = 1_000_000;

/// Which operation is reading: their messages differ in places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Query,
    Scan,
}

/// The JSON shape of one `KeyConditions`, `QueryFilter` or `ScanFilter` entry (a legacy
/// `Condition`).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ConditionIn {
    pub attribute_value_list: Option<Checked<Vec<AttributeValue>>>,
    pub comparison_operator: Option<String>,
}

/// The `Select` rules that need only the request.
///
/// DynamoDB reports a projection given with a `Select` other than `SPECIFIC_ATTRIBUTES`
/// before it looks at `IndexName`. Query reports these rules inside the request validator's
/// `1 validation error detected: ` envelope, Scan without it (observed on the service for
/// the `SPECIFIC_ATTRIBUTES` case; the other two follow the same layer, which is decided).
pub fn check_select(
    operation: Operation,
    select: Option<Select>,
    attributes_to_get: bool,
    projection_expression: bool,
    index: bool,
) -> Result<(), DynamoError> {
    let envelope = |message: String| match operation {
        Operation::Query => DynamoError::validation(
            stator_types::constraint::detected(&[message]).unwrap_or_default(),
        ),
        Operation::Scan => DynamoError::validation(message),
    };
    let Some(select) = select else {
        return Ok(());
    };
    if select == Select::SpecificAttributes {
        if !attributes_to_get && !projection_expression {
            return Err(envelope(
                "Must specify the AttributesToGet or ProjectionExpression when choosing to get \
                 SPECIFIC_ATTRIBUTES"
                    .to_string(),
            ));
        }
        return Ok(());
    }
    if projection_expression {
        return Err(envelope(format!(
            "Cannot specify the ProjectionExpression when choosing to get {}",
            select.as_str()
        )));
    }
    if attributes_to_get {
        return Err(envelope(format!(
            "Cannot specify the AttributesToGet when choosing to get {}",
            select.as_str()
        )));
    }
    if select == Select::AllProjectedAttributes && !index {
        // DynamoDB says "Querying" for Scan too.
        return Err(envelope(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
                .to_string(),
        ));
    }
    Ok(())
}

/// Everything expression-related a Query or Scan carried.
pub struct Inputs<'a> {
    pub operation: Operation,
    pub names: Option<&'a HashMap<String, String>>,
    pub values: Option<&'a HashMap<String, Checked<AttributeValue>>>,
    pub key_condition: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub projection: Option<&'a str>,
    pub key_conditions: Option<&'a OrderedMap<ConditionIn>>,
    /// `QueryFilter` or `ScanFilter`.
    pub filter_map: Option<&'a OrderedMap<ConditionIn>>,
    pub conditional_operator: Option<&'a str>,
    pub attributes_to_get: Option<&'a Vec<String>>,
}

/// The validated, resolved expressions of a read. The key condition still has to be checked
/// against the key schema of the table or index (`stator_engine::target::check_key_condition`).
#[derive(Debug, Default)]
pub struct Prepared {
    pub key_condition: Option<Condition>,
    pub filter: Option<Condition>,
    pub projection: Option<Projection>,
}

fn legacy_entries(
    map: &OrderedMap<ConditionIn>,
) -> Result<Vec<(String, LegacyCondition)>, DynamoError> {
    map.0
        .iter()
        .map(|(name, entry)| {
            let attribute_value_list = match &entry.attribute_value_list {
                None => None,
                Some(Checked(Ok(list))) => Some(list.clone()),
                Some(Checked(Err(e))) => return Err(DynamoError::validation(e.message())),
            };
            Ok((
                name.clone(),
                LegacyCondition {
                    comparison_operator: entry.comparison_operator.clone(),
                    attribute_value_list,
                },
            ))
        })
        .collect()
}

/// Turns the expression parameters of a Query or Scan into validated trees.
pub fn prepare(inputs: Inputs<'_>) -> Result<Prepared, DynamoError> {
    let filter_parameter = match inputs.operation {
        Operation::Query => "QueryFilter",
        Operation::Scan => "ScanFilter",
    };
    // The legacy group lists its members alphabetically, the expression group projection
    // first, as in the item operations' messages. `KeyConditions` may go with
    // FilterExpression, ProjectionExpression and the placeholder maps (DynamoDB does not
    // count it as a non-expression parameter there); only with a KeyConditionExpression
    // is it a mix.
    let key_conditions_mix = inputs.key_conditions.is_some() && inputs.key_condition.is_some();
    let mut legacy_present = Vec::new();
    for (present, name) in [
        (inputs.attributes_to_get.is_some(), "AttributesToGet"),
        (inputs.conditional_operator.is_some(), "ConditionalOperator"),
        (key_conditions_mix, "KeyConditions"),
        (inputs.filter_map.is_some(), filter_parameter),
    ] {
        if present {
            legacy_present.push(name);
        }
    }
    let mut expression_present = Vec::new();
    for (present, name) in [
        (inputs.projection.is_some(), "ProjectionExpression"),
        (inputs.filter.is_some(), "FilterExpression"),
        (inputs.key_condition.is_some(), "KeyConditionExpression"),
    ] {
        if present {
            expression_present.push(name);
        }
    }
    legacy::check_no_mixing(&legacy_present, &expression_present)?;

    if inputs.operation == Operation::Query
        && inputs.key_condition.is_none()
        && inputs.key_conditions.is_none()
    {
        return Err(DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in \
             the request.",
        ));
    }

    let own: &[&str] = match inputs.operation {
        Operation::Query => &[
            "ProjectionExpression",
            "FilterExpression",
            "KeyConditionExpression",
        ],
        Operation::Scan => &["ProjectionExpression", "FilterExpression"],
    };
    let values = crate::expressions::placeholder_values(
        inputs.names,
        inputs.values,
        !expression_present.is_empty(),
        own,
    )?;

    let key_condition = inputs
        .key_condition
        .map(|text| stator_expr::parser::parse_condition(text, ExpressionKind::KeyCondition))
        .transpose()?;
    let filter = inputs
        .filter
        .map(|text| stator_expr::parser::parse_condition(text, ExpressionKind::Filter))
        .transpose()?;
    let projection = inputs
        .projection
        .map(stator_expr::parser::parse_projection)
        .transpose()?;

    let mut placeholders = Placeholders::new(inputs.names, values.as_ref());
    let key_condition = key_condition
        .map(|c| placeholders.resolve_condition(c, ExpressionKind::KeyCondition))
        .transpose()?;
    let filter = filter
        .map(|c| placeholders.resolve_condition(c, ExpressionKind::Filter))
        .transpose()?;
    let projection = projection
        .map(|p| placeholders.resolve_projection(p))
        .transpose()?;
    placeholders.finish()?;

    if let Some(c) = &key_condition {
        stator_expr::validate::validate_condition(c, ExpressionKind::KeyCondition)?;
    }
    if let Some(c) = &filter {
        stator_expr::validate::validate_condition(c, ExpressionKind::Filter)?;
    }
    if let Some(p) = &projection {
        stator_expr::validate::validate_projection(p)?;
    }

    let mut prepared = Prepared {
        key_condition,
        filter,
        projection,
    };
    if let Some(map) = inputs.key_conditions {
        prepared.key_condition = Some(legacy::key_conditions_to_condition(&legacy_entries(map)?)?);
    }
    match inputs.filter_map {
        Some(map) => {
            super::check_names(map.0.iter().map(|(name, _)| name))?;
            prepared.filter = legacy::filter_to_condition(
                &legacy_entries(map)?,
                inputs.conditional_operator,
                filter_parameter,
            )?;
        }
        None if inputs.conditional_operator.is_some() => {
            return Err(DynamoError::validation(
                "ConditionalOperator cannot be used without Filter or Expected",
            ));
        }
        None => {}
    }
    if let Some(names) = inputs.attributes_to_get {
        super::check_names(names)?;
        prepared.projection = Some(legacy::attributes_to_get_to_projection(names)?);
    }
    Ok(prepared)
}

/// `Limit`, already constraint-checked (≥ 1).
pub fn limit(value: Option<i64>) -> Option<usize> {
    value.and_then(|v| usize::try_from(v).ok())
}

/// The output of a Query or Scan: the page, with `Items` left out for `Select=COUNT` and the
/// consumed capacity the client asked to see. The items stay in their stored form for the
/// wire layer to write.
#[derive(Debug)]
pub struct PageOutput {
    /// `None` for `Select=COUNT`.
    pub items: Option<Vec<ReadItem>>,
    pub count: usize,
    pub scanned_count: usize,
    pub last_evaluated_key: Option<Item>,
    pub consumed_capacity: Option<ConsumedCapacityOut>,
}

impl PageOutput {
    pub fn new(page: Page, select: Option<Select>, wanted: ReturnCapacity) -> Self {
        PageOutput {
            items: (select != Some(Select::Count)).then_some(page.items),
            count: page.count,
            scanned_count: page.scanned_count,
            last_evaluated_key: page.last_evaluated_key,
            consumed_capacity: ConsumedCapacityOut::from(page.consumed, wanted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_rules() {
        let err = check_select(
            Operation::Scan,
            Some(Select::SpecificAttributes),
            false,
            false,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get \
             SPECIFIC_ATTRIBUTES"
        );
        let err =
            check_select(Operation::Query, Some(Select::Count), false, true, false).unwrap_err();
        assert_eq!(
            err.message,
            "1 validation error detected: Cannot specify the ProjectionExpression when choosing \
             to get COUNT"
        );
        assert!(check_select(Operation::Scan, None, true, false, false).is_ok());
    }
}
