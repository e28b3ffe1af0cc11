//! The expression parameters of a request, from JSON strings to validated ASTs.
//!
//! Every item operation funnels its `ConditionExpression` / `UpdateExpression` /
//! `ProjectionExpression`, `ExpressionAttributeNames` / `ExpressionAttributeValues` and the
//! legacy parameters through [`prepare`], which applies DynamoDB's checks in its order:
//! legacy and expression parameters may not be mixed; the placeholder maps must be
//! well-formed; each expression must parse; every placeholder must be defined and every
//! defined one used; then the per-context rules. Legacy parameters are converted into the
//! same ASTs, so the engine sees one form.

use std::collections::HashMap;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use stator_engine::DynamoError;
use stator_expr::legacy::{self, AttributeUpdate, ExpectedAttribute};
use stator_expr::resolve::Placeholders;
use stator_expr::{Condition, ExpressionKind, Projection, Update};
use stator_types::{AttributeValue, Checked};

/// A JSON object kept as name/value pairs in the order the client wrote them (legacy
/// parameters are converted in request order, which fixes the order of their errors).
#[derive(Debug)]
pub struct OrderedMap<T>(pub Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for PairsVisitor<T> {
            type Value = OrderedMap<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    pairs.push((k, v));
                }
                Ok(OrderedMap(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

/// The JSON shape of a legacy `Expected` entry.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ExpectedIn {
    value: Option<Checked<AttributeValue>>,
    exists: Option<bool>,
    comparison_operator: Option<String>,
    attribute_value_list: Option<Checked<Vec<AttributeValue>>>,
}

/// The JSON shape of a legacy `AttributeUpdates` entry.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeUpdateIn {
    value: Option<Checked<AttributeValue>>,
    action: Option<String>,
}

/// The value of a checked attribute value (or list), or its DynamoDB validation error.
fn checked<T: Clone>(value: Option<&Checked<T>>) -> Result<Option<T>, DynamoError> {
    value
        .map(|c| match &c.0 {
            Ok(v) => Ok(v.clone()),
            Err(e) => Err(DynamoError::validation(e.message())),
        })
        .transpose()
}

/// Everything expression-related a request carried.
#[derive(Default)]
pub struct Inputs<'a> {
    /// The operation's own expression parameters, in the order DynamoDB names them when a
    /// placeholder map comes without any (`…: UpdateExpression and ConditionExpression are
    /// null`).
    pub own: &'static [&'static str],
    pub names: Option<&'a HashMap<String, String>>,
    pub values: Option<&'a HashMap<String, Checked<AttributeValue>>>,
    pub condition: Option<&'a str>,
    pub update: Option<&'a str>,
    pub projection: Option<&'a str>,
    pub expected: Option<&'a OrderedMap<ExpectedIn>>,
    pub conditional_operator: Option<&'a str>,
    pub attribute_updates: Option<&'a OrderedMap<AttributeUpdateIn>>,
    pub attributes_to_get: Option<&'a Vec<String>>,
}

/// The validated, resolved expressions of a request.
#[derive(Default, Debug)]
pub struct Prepared {
    pub condition: Option<Condition>,
    pub update: Option<Update>,
    pub projection: Option<Projection>,
    /// False when the update only removes attributes (an UpdateExpression of REMOVE
    /// clauses only, or legacy `AttributeUpdates` of DELETE actions only): DynamoDB then does
    /// not create a missing item. An update with no actions at all (`AttributeUpdates: {}`)
    /// does create it, holding only the key.
    pub creates_missing_item: bool,
}

/// Checks the placeholder maps of a request (DynamoDB's map-level rules and every value's
/// validity) and returns the plain values that resolution works on.
pub fn placeholder_values(
    names: Option<&HashMap<String, String>>,
    values: Option<&HashMap<String, Checked<AttributeValue>>>,
    expressions_present: bool,
    own: &[&str],
) -> Result<Option<HashMap<String, AttributeValue>>, DynamoError> {
    stator_expr::resolve::check_placeholder_maps(names, values, expressions_present, own)?;
    Ok(values.map(|map| {
        map.iter()
            .filter_map(|(k, v)| v.0.as_ref().ok().map(|v| (k.clone(), v.clone())))
            .collect()
    }))
}

pub fn prepare(inputs: Inputs<'_>) -> Result<Prepared, DynamoError> {
    let mut legacy_present = Vec::new();
    for (present, name) in [
        (inputs.attributes_to_get.is_some(), "AttributesToGet"),
        (inputs.attribute_updates.is_some(), "AttributeUpdates"),
        (inputs.conditional_operator.is_some(), "ConditionalOperator"),
        (inputs.expected.is_some(), "Expected"),
    ] {
        if present {
            legacy_present.push(name);
        }
    }
    let mut expression_present = Vec::new();
    for (present, name) in [
        (inputs.projection.is_some(), "ProjectionExpression"),
        (inputs.update.is_some(), "UpdateExpression"),
        (inputs.condition.is_some(), "ConditionExpression"),
    ] {
        if present {
            expression_present.push(name);
        }
    }
    legacy::check_no_mixing(&legacy_present, &expression_present)?;
    if inputs.conditional_operator.is_some() && inputs.expected.is_none() {
        return Err(DynamoError::validation(
            "ConditionalOperator cannot be used without Filter or Expected",
        ));
    }

    let values = placeholder_values(
        inputs.names,
        inputs.values,
        !expression_present.is_empty(),
        inputs.own,
    )?;

    let condition = inputs
        .condition
        .map(|text| stator_expr::parser::parse_condition(text, ExpressionKind::Condition))
        .transpose()?;
    let update = inputs
        .update
        .map(stator_expr::parser::parse_update)
        .transpose()?;
    let projection = inputs
        .projection
        .map(stator_expr::parser::parse_projection)
        .transpose()?;

    let mut placeholders = Placeholders::new(inputs.names, values.as_ref());
    let projection = projection
        .map(|p| placeholders.resolve_projection(p))
        .transpose()?;
    let update = update.map(|u| placeholders.resolve_update(u)).transpose()?;
    let condition = condition
        .map(|c| placeholders.resolve_condition(c, ExpressionKind::Condition))
        .transpose()?;
    placeholders.finish()?;

    if let Some(p) = &projection {
        stator_expr::validate::validate_projection(p)?;
    }
    if let Some(u) = &update {
        stator_expr::validate::validate_update(u)?;
    }
    if let Some(c) = &condition {
        stator_expr::validate::validate_condition(c, ExpressionKind::Condition)?;
    }

    // Legacy parameters, converted into the same trees.
    let mut prepared = Prepared {
        condition,
        update,
        projection,
        creates_missing_item: true,
    };
    if let Some(u) = &prepared.update {
        if u.set.is_empty() && u.add.is_empty() && u.delete.is_empty() && !u.remove.is_empty() {
            prepared.creates_missing_item = false;
        }
    }
    if let Some(expected) = inputs.expected {
        crate::ops::check_names(expected.0.iter().map(|(name, _)| name))?;
        let mut entries = Vec::with_capacity(expected.0.len());
        for (name, e) in &expected.0 {
            entries.push((
                name.clone(),
                ExpectedAttribute {
                    value: checked(e.value.as_ref())?,
                    exists: e.exists,
                    comparison_operator: e.comparison_operator.clone(),
                    attribute_value_list: checked(e.attribute_value_list.as_ref())?,
                },
            ));
        }
        prepared.condition = legacy::expected_to_condition(&entries, inputs.conditional_operator)?;
    }
    if let Some(updates) = inputs.attribute_updates {
        crate::ops::check_names(updates.0.iter().map(|(name, _)| name))?;
        let mut entries = Vec::with_capacity(updates.0.len());
        for (name, u) in &updates.0 {
            entries.push((
                name.clone(),
                AttributeUpdate {
                    value: checked(u.value.as_ref())?,
                    action: u.action.clone(),
                },
            ));
        }
        prepared.creates_missing_item = entries.is_empty()
            || entries
                .iter()
                .any(|(_, u)| u.action.as_deref().unwrap_or("PUT") != "DELETE");
        prepared.update = Some(legacy::attribute_updates_to_update(&entries)?);
    }
    if let Some(names) = inputs.attributes_to_get {
        crate::ops::check_names(names)?;
        prepared.projection = Some(legacy::attributes_to_get_to_projection(names)?);
    }
    Ok(prepared)
}
