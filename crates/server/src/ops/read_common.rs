//! What Query and Scan share: their legacy condition maps, `Select`, the expression
//! pipeline for reads, the checks that need the table (index, key schema, projection type),
//! `ExclusiveStartKey`, and the page output.
//!
//! The two handlers run the same phases in DynamoDB's order:
//! 1. request constraints (`Validator`), member by member;
//! 2. attribute-value problems (`ExclusiveStartKey`);
//! 3. the `Select` rules that need nothing but the request ([`check_select`]);
//! 4. expressions ([`prepare`]): legacy and expression parameters not mixed, placeholder
//!    maps well-formed, each expression parsed, its placeholders resolved with one
//!    [`Placeholders`] for the whole request, unused ones reported, then validated for its
//!    context; legacy `KeyConditions` / `QueryFilter` / `ScanFilter` / `AttributesToGet`
//!    converted into the same trees;
//! 5. what needs the table ([`Target::resolve`] and the `check_*` functions): the index and
//!    its state, consistent reads, `Select=ALL_ATTRIBUTES` on a GSI, attributes a GSI does
//!    not project, the key condition against the key schema, key attributes in a Query
//!    filter, the start key;
//! 6. the engine call and [`PageOut`].
//!
//! The engine trusts the request it is given, so every rule DynamoDB enforces on a read's
//! parameters lives here or in the two handlers.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use stator_engine::query::Select;
use stator_engine::records::ReadItem;
use stator_engine::schema::{
    IndexMeta, IndexStatus, KeyAttribute, KeySchema, ProjectionType, TableMeta,
};
use stator_engine::DynamoError;
use stator_expr::legacy::{self, LegacyCondition};
use stator_expr::resolve::Placeholders;
use stator_expr::{
    Condition, ExpressionKind, Name, Path, PathElement, Projection, SortKeyCondition,
};
use stator_types::{AttributeValue, Checked, Item};

use super::expressions::OrderedMap;
use super::{ConsumedCapacityOut, Context};

/// `Select`'s values in the order DynamoDB's request validator prints them.
pub const SELECT_VALUES: &[&str] = &[
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
];

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
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ConditionIn {
    attribute_value_list: Option<Checked<Vec<AttributeValue>>>,
    comparison_operator: Option<String>,
}

/// A `Select` value that passed the enum constraint.
pub fn parse_select(text: Option<&str>) -> Option<Select> {
    match text? {
        "ALL_ATTRIBUTES" => Some(Select::AllAttributes),
        "ALL_PROJECTED_ATTRIBUTES" => Some(Select::AllProjectedAttributes),
        "SPECIFIC_ATTRIBUTES" => Some(Select::SpecificAttributes),
        "COUNT" => Some(Select::Count),
        _ => None,
    }
}

fn select_name(select: Select) -> &'static str {
    match select {
        Select::AllAttributes => "ALL_ATTRIBUTES",
        Select::AllProjectedAttributes => "ALL_PROJECTED_ATTRIBUTES",
        Select::SpecificAttributes => "SPECIFIC_ATTRIBUTES",
        Select::Count => "COUNT",
    }
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
            select_name(select)
        )));
    }
    if attributes_to_get {
        return Err(envelope(format!(
            "Cannot specify the AttributesToGet when choosing to get {}",
            select_name(select)
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

/// The `Select` the engine gets: as given, else `SPECIFIC_ATTRIBUTES` when there is a
/// projection, else `ALL_PROJECTED_ATTRIBUTES` for an index and `ALL_ATTRIBUTES` for a table
/// (the documented defaults).
pub fn effective_select(select: Option<Select>, projection: bool, index: bool) -> Select {
    match select {
        Some(select) => select,
        None if projection => Select::SpecificAttributes,
        None if index => Select::AllProjectedAttributes,
        None => Select::AllAttributes,
    }
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
/// against the key schema of the table or index ([`check_key_condition`]).
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
    // first, as in the item operations' messages.
    let mut legacy_present = Vec::new();
    for (present, name) in [
        (inputs.attributes_to_get.is_some(), "AttributesToGet"),
        (inputs.conditional_operator.is_some(), "ConditionalOperator"),
        (inputs.key_conditions.is_some(), "KeyConditions"),
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

    let values = super::expressions::placeholder_values(
        inputs.names,
        inputs.values,
        !expression_present.is_empty(),
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
        prepared.projection = Some(legacy::attributes_to_get_to_projection(names)?);
    }
    Ok(prepared)
}

/// The table or index a read addresses.
pub struct Target {
    pub table: Arc<TableMeta>,
    /// The index, and whether it is global.
    pub index: Option<(IndexMeta, bool)>,
}

impl Target {
    /// Finds the table and index, applying DynamoDB's existence and state rules.
    ///
    /// A missing table is `ResourceNotFoundException`; a table that exists without the named
    /// index is a `ValidationException`, not a not-found error. A GSI still being backfilled
    /// cannot be read. An index being deleted is treated as gone.
    pub fn resolve(
        ctx: &Context<'_>,
        table: &str,
        index: Option<&str>,
    ) -> Result<Target, DynamoError> {
        let meta = ctx.engine.data_table(table)?;
        let Some(name) = index else {
            return Ok(Target {
                table: meta,
                index: None,
            });
        };
        let found = meta
            .global_indexes
            .iter()
            .map(|i| (i, true))
            .chain(meta.local_indexes.iter().map(|i| (i, false)))
            .find(|(i, _)| i.name == name && i.status != IndexStatus::Deleting)
            .map(|(i, global)| (i.clone(), global));
        let Some((index, global)) = found else {
            return Err(DynamoError::validation(format!(
                "The table does not have the specified index: {name}"
            )));
        };
        if index.status == IndexStatus::Creating {
            return Err(DynamoError::validation(
                "Cannot read from backfilling global secondary index",
            ));
        }
        Ok(Target {
            table: meta,
            index: Some((index, global)),
        })
    }

    pub fn index_name(&self) -> Option<String> {
        self.index.as_ref().map(|(i, _)| i.name.clone())
    }

    /// The key schema the read is ordered by: the index's, or the table's.
    pub fn key_schema(&self) -> &KeySchema {
        match &self.index {
            Some((index, _)) => &index.key_schema,
            None => &self.table.key_schema,
        }
    }

    fn global_index(&self) -> Option<&IndexMeta> {
        match &self.index {
            Some((index, true)) => Some(index),
            _ => None,
        }
    }

    /// `ConsistentRead=true` on a GSI, and `Select=ALL_ATTRIBUTES` on a GSI that does not
    /// project everything (a GSI cannot fetch from the table, unlike an LSI).
    pub fn check_read_options(
        &self,
        consistent: bool,
        select: Option<Select>,
    ) -> Result<(), DynamoError> {
        let Some(index) = self.global_index() else {
            return Ok(());
        };
        if consistent {
            return Err(DynamoError::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        if select == Some(Select::AllAttributes)
            && index.projection.projection_type != ProjectionType::All
        {
            return Err(DynamoError::invalid_parameter(format_args!(
                "Select type ALL_ATTRIBUTES is not supported for global secondary index {} \
                 because its projection type is not ALL",
                index.name
            )));
        }
        Ok(())
    }

    /// A GSI cannot fetch from the table, so a read of it may only ask for attributes it
    /// projects (observed: `One or more parameter values were invalid: Global secondary index
    /// my_index does not project [table_column]`). Decided: the filter's attributes count
    /// too, and several missing attributes are listed in order of appearance as `[a, b]`.
    pub fn check_gsi_projection(
        &self,
        projection: Option<&Projection>,
        filter: Option<&Condition>,
    ) -> Result<(), DynamoError> {
        let Some(index) = self.global_index() else {
            return Ok(());
        };
        if index.projection.projection_type == ProjectionType::All {
            return Ok(());
        }
        let projected = |name: &str| {
            self.table.key_schema.attributes().any(|a| a.name == name)
                || index.key_schema.attributes().any(|a| a.name == name)
                || (index.projection.projection_type == ProjectionType::Include
                    && index
                        .projection
                        .non_key_attributes
                        .iter()
                        .any(|a| a == name))
        };
        let mut paths: Vec<&Path> = projection.map(|p| p.0.iter().collect()).unwrap_or_default();
        if let Some(filter) = filter {
            paths.extend(filter.paths());
        }
        let mut missing: Vec<&str> = Vec::new();
        for name in paths.into_iter().filter_map(first_name) {
            if !projected(name) && !missing.contains(&name) {
                missing.push(name);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(DynamoError::invalid_parameter(format_args!(
            "Global secondary index {} does not project [{}]",
            index.name,
            missing.join(", ")
        )))
    }

    /// The attributes an `ExclusiveStartKey` must consist of: the table's key, plus the
    /// index's key attributes for an index.
    fn start_key_attributes(&self) -> Vec<&KeyAttribute> {
        let mut attributes: Vec<&KeyAttribute> = self.table.key_schema.attributes().collect();
        if let Some((index, _)) = &self.index {
            for attribute in index.key_schema.attributes() {
                if !attributes.iter().any(|a| a.name == attribute.name) {
                    attributes.push(attribute);
                }
            }
        }
        attributes
    }

    /// Checks an `ExclusiveStartKey`'s shape: exactly the start-key attributes, each of its
    /// key type and not empty.
    ///
    /// DynamoDB words a shape mismatch differently per operation (both observed): Scan adds
    /// GetItem's key message, Query does not.
    pub fn check_start_key(&self, operation: Operation, key: &Item) -> Result<(), DynamoError> {
        let mismatch = || match operation {
            Operation::Query => DynamoError::validation("The provided starting key is invalid"),
            Operation::Scan => DynamoError::validation(
                "The provided starting key is invalid: The provided key element does not match \
                 the schema",
            ),
        };
        let attributes = self.start_key_attributes();
        if key.len() != attributes.len() {
            return Err(mismatch());
        }
        for attribute in &attributes {
            let value = key.get(&attribute.name).ok_or_else(mismatch)?;
            if !attribute.attr_type.matches(value) {
                return Err(mismatch());
            }
        }
        for attribute in &attributes {
            let kind = match key.get(&attribute.name) {
                Some(AttributeValue::S(s)) if s.is_empty() => "string",
                Some(AttributeValue::B(b)) if b.is_empty() => "binary",
                _ => continue,
            };
            // Decided: GetItem's empty-key text behind the start-key prefix.
            return Err(DynamoError::validation(format!(
                "The provided starting key is invalid: One or more parameter values are not \
                 valid. The AttributeValue for a key attribute cannot contain an empty {kind} \
                 value. Key: {}",
                attribute.name
            )));
        }
        Ok(())
    }
}

/// A Query's key condition, reduced and checked against the key schema of the table or
/// index: shape (by `stator_expr::validate::key_condition`), then each value's type against
/// its key attribute's type, then empty key values.
pub fn check_key_condition(
    condition: &Condition,
    schema: &KeySchema,
) -> Result<stator_expr::KeyCondition, DynamoError> {
    let reduced = stator_expr::validate::key_condition(
        condition,
        &schema.partition.name,
        schema.sort.as_ref().map(|s| s.name.as_str()),
    )?;
    let mismatch =
        || DynamoError::invalid_parameter("Condition parameter type does not match schema type");
    if !schema.partition.attr_type.matches(&reduced.partition) {
        return Err(mismatch());
    }
    if let (Some(sort), Some(attribute)) = (&reduced.sort, &schema.sort) {
        let values: Vec<&AttributeValue> = match sort {
            SortKeyCondition::Compare(_, value) | SortKeyCondition::BeginsWith(value) => {
                vec![value]
            }
            SortKeyCondition::Between(low, high) => vec![low, high],
        };
        if values.iter().any(|v| !attribute.attr_type.matches(v)) {
            return Err(mismatch());
        }
        // begins_with only has a meaning for strings and binaries; a number sort key with a
        // number prefix already failed the operand check, so this is the remaining case.
        if matches!(sort, SortKeyCondition::BeginsWith(_))
            && !matches!(
                attribute.attr_type,
                stator_engine::schema::ScalarType::S | stator_engine::schema::ScalarType::B
            )
        {
            return Err(mismatch());
        }
    }
    stator_engine::itemcheck::check_not_empty(&schema.partition, &reduced.partition)?;
    Ok(reduced)
}

/// A Query's filter may not name a key attribute of the table or index it reads: those
/// belong in the key condition. (Scan has no such rule.) The first key attribute found, in
/// reading order, is reported.
pub fn check_filter_keys(filter: &Condition, schema: &KeySchema) -> Result<(), DynamoError> {
    let key = filter
        .paths()
        .into_iter()
        .filter_map(first_name)
        .find(|name| schema.attributes().any(|a| a.name == *name));
    match key {
        Some(name) => Err(DynamoError::validation(format!(
            "Filter Expression can only contain non-primary key attributes: Primary key \
             attribute: {name}"
        ))),
        None => Ok(()),
    }
}

/// The top-level attribute a path starts with.
fn first_name(path: &Path) -> Option<&str> {
    match path.0.first() {
        Some(PathElement::Attribute(Name::Literal(name))) => Some(name),
        _ => None,
    }
}

/// A Query's `ExclusiveStartKey` must lie inside the key condition: in the queried partition
/// (`The provided starting key is outside query boundaries based on provided condition`) and
/// not before the start of the sort key range in the direction of reading (`The provided
/// starting key does not match the range key predicate`; observed for `sk >= :v` with a start
/// key below `:v`). A start key past the end of the range is accepted and reads nothing.
pub fn check_start_key_in_range(
    key: &Item,
    schema: &KeySchema,
    condition: &stator_expr::KeyCondition,
    forward: bool,
) -> Result<(), DynamoError> {
    let inside = key
        .get(&schema.partition.name)
        .is_some_and(|v| stator_expr::eval::values_equal(v, &condition.partition));
    if !inside {
        return Err(DynamoError::validation(
            "The provided starting key is outside query boundaries based on provided condition",
        ));
    }
    let (Some(sort), Some(attribute)) = (&condition.sort, &schema.sort) else {
        return Ok(());
    };
    let Some(start) = key.get(&attribute.name) else {
        return Ok(());
    };
    let order = |bound: &AttributeValue| stator_expr::eval::order(start, bound);
    let before_start = if forward {
        match sort {
            SortKeyCondition::Compare(comparator, bound) => {
                use stator_expr::Comparator as C;
                matches!(comparator, C::Eq | C::Gt | C::Ge) && order(bound) == Some(Ordering::Less)
            }
            SortKeyCondition::Between(low, _) => order(low) == Some(Ordering::Less),
            SortKeyCondition::BeginsWith(prefix) => order(prefix) == Some(Ordering::Less),
        }
    } else {
        match sort {
            SortKeyCondition::Compare(comparator, bound) => {
                use stator_expr::Comparator as C;
                matches!(comparator, C::Eq | C::Lt | C::Le)
                    && order(bound) == Some(Ordering::Greater)
            }
            SortKeyCondition::Between(_, high) => order(high) == Some(Ordering::Greater),
            SortKeyCondition::BeginsWith(prefix) => {
                order(prefix) == Some(Ordering::Greater) && !has_prefix(start, prefix)
            }
        }
    };
    if before_start {
        return Err(DynamoError::validation(
            "The provided starting key does not match the range key predicate",
        ));
    }
    Ok(())
}

fn has_prefix(value: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (value, prefix) {
        (AttributeValue::S(v), AttributeValue::S(p)) => v.as_bytes().starts_with(p.as_bytes()),
        (AttributeValue::B(v), AttributeValue::B(p)) => v.starts_with(p),
        _ => false,
    }
}

/// `Limit`, already constraint-checked (≥ 1).
pub fn limit(value: Option<i64>) -> Option<usize> {
    value.and_then(|v| usize::try_from(v).ok())
}

/// The JSON form of a page: `Items` is absent for `Select=COUNT`, `LastEvaluatedKey` when
/// the read is complete.
/// The output of a Query or Scan:
/// `{"Items":[…],"Count":n,"ScannedCount":n,"LastEvaluatedKey":{…},"ConsumedCapacity":{…}}`,
/// with `Items` absent for `Select=COUNT`. Items are written from their stored bytes.
pub fn page_out(
    page: &stator_engine::query::Page,
    select: Select,
    wanted: stator_engine::ReturnCapacity,
) -> Result<Vec<u8>, DynamoError> {
    let estimate: usize = page
        .items
        .iter()
        .map(|item| match item {
            ReadItem::Stored(bytes) => bytes.len() * 2,
            ReadItem::Built(_) => 128,
        })
        .sum();
    let mut body = super::ObjectOut::with_capacity(estimate + 256);
    if select != Select::Count {
        body.items_member("Items", &page.items)?;
    }
    // Counts are integers: written as serde_json writes a usize.
    body.serde_member("Count", Some(&page.count))?;
    body.serde_member("ScannedCount", Some(&page.scanned_count))?;
    if let Some(key) = &page.last_evaluated_key {
        stator_types::jsonout::write_item(body.member("LastEvaluatedKey"), key);
    }
    body.serde_member(
        "ConsumedCapacity",
        ConsumedCapacityOut::from(page.consumed.clone(), wanted).as_ref(),
    )?;
    Ok(body.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_engine::schema::ScalarType;

    fn schema(sort: bool) -> KeySchema {
        KeySchema {
            partition: KeyAttribute {
                name: "pk".into(),
                attr_type: ScalarType::S,
            },
            sort: sort.then(|| KeyAttribute {
                name: "sk".into(),
                attr_type: ScalarType::N,
            }),
        }
    }

    fn parse(text: &str, values: &[(&str, AttributeValue)]) -> Condition {
        let values: HashMap<String, AttributeValue> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let c = stator_expr::parser::parse_condition(text, ExpressionKind::KeyCondition).unwrap();
        Placeholders::new(None, Some(&values))
            .resolve_condition(c, ExpressionKind::KeyCondition)
            .unwrap()
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.parse().unwrap())
    }

    #[test]
    fn key_condition_types_are_checked() {
        let c = parse("pk = :p", &[(":p", n("1"))]);
        let err = check_key_condition(&c, &schema(false)).unwrap_err();
        assert_eq!(
            err.message,
            "One or more parameter values were invalid: Condition parameter type does not match \
             schema type"
        );
        let c = parse(
            "pk = :p AND sk > :s",
            &[(":p", AttributeValue::S("a".into())), (":s", n("2"))],
        );
        let reduced = check_key_condition(&c, &schema(true)).unwrap();
        assert_eq!(reduced.partition, AttributeValue::S("a".into()));
    }

    #[test]
    fn start_key_range() {
        let c = parse(
            "pk = :p AND sk >= :s",
            &[(":p", AttributeValue::S("a".into())), (":s", n("10"))],
        );
        let reduced = check_key_condition(&c, &schema(true)).unwrap();
        let key = |pk: &str, sk: &str| -> Item {
            [
                ("pk".to_string(), AttributeValue::S(pk.into())),
                ("sk".to_string(), n(sk)),
            ]
            .into_iter()
            .collect()
        };
        assert!(check_start_key_in_range(&key("a", "10"), &schema(true), &reduced, true).is_ok());
        assert!(check_start_key_in_range(&key("a", "9"), &schema(true), &reduced, true).is_err());
        assert!(check_start_key_in_range(&key("a", "9"), &schema(true), &reduced, false).is_ok());
        let err =
            check_start_key_in_range(&key("b", "10"), &schema(true), &reduced, true).unwrap_err();
        assert!(err.message.contains("outside query boundaries"));
    }

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
        assert_eq!(
            effective_select(None, false, true),
            Select::AllProjectedAttributes
        );
    }
}
