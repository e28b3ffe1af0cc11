//! DynamoDB's legacy (pre-expression) parameters, converted into the expression AST.
//!
//! `Expected` + `ConditionalOperator`, `QueryFilter` / `ScanFilter` + `ConditionalOperator`,
//! `KeyConditions`, `AttributeUpdates` and `AttributesToGet` arrive from the server as the
//! plain input types below (values already decoded, map entries in request order). Each
//! conversion validates the parameter the way DynamoDB does and produces the same
//! [`Condition`] / [`Update`] / [`Projection`] trees the expression parser produces, already
//! resolved: every name is a top-level [`Name::Literal`] and every value an
//! [`Operand::Literal`]. So there is one evaluator, and legacy requests follow expression
//! semantics exactly where DynamoDB's do.
//!
//! ```text
//! ExpectedAttribute ─┐  1. structure: the request-validator layer ("1 validation error detected")
//! LegacyCondition ───┤  2. arguments: count, types, BETWEEN bounds
//!                    └─► EQ NE LT LE GT GE ──► a = v, a <> v, a < v, …
//!                        NULL / NOT_NULL ────► attribute_not_exists(a) / attribute_exists(a)
//!                        CONTAINS ───────────► contains(a, v)
//!                        NOT_CONTAINS ───────► NOT contains(a, v)
//!                        BEGINS_WITH ────────► begins_with(a, v)
//!                        IN / BETWEEN ───────► a IN (v, …) / a BETWEEN v1 AND v2
//!                        entries joined by AND (the default) or OR, in request order
//! AttributeUpdate ───► PUT → SET a = v;  DELETE → REMOVE a | DELETE a v;  ADD → ADD a v
//! AttributesToGet ───► Projection of top-level names
//! ```
//!
//! DynamoDB reports legacy problems at two layers, and the messages show it:
//! - Its request validator (the "coral" layer, which also checks lengths and enums) reports
//!   malformed `ExpectedAttributeValue` / `Condition` structures with the
//!   `N validation error(s) detected: ` prefix, collecting every violation it finds.
//! - The service proper reports argument problems (`Invalid number of argument(s) for the EQ
//!   ComparisonOperator`) without that prefix, and only after the whole request passed the
//!   first layer. The conversions here therefore check every entry's structure first and its
//!   arguments second.
//!
//! Map-shaped parameters arrive as slices of pairs in request order. A name repeated in the
//! JSON object counts once, at its first position with its last value, as in the Java map
//! DynamoDB reads it into; so no converted tree ever has two actions or conditions on one name.
//!
//! What needs the table (key schema, key types, "Cannot update attribute … part of the key",
//! "Query condition missed key schema element") is the engine's business, not this module's.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;

use stator_types::AttributeValue;

use crate::ast::{
    Comparator, Condition, FunctionCall, Name, Operand, Path, PathElement, Projection, Update,
};
use crate::error::ExprError;

/// One `Expected` entry (an `ExpectedAttributeValue`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpectedAttribute {
    pub value: Option<AttributeValue>,
    pub exists: Option<bool>,
    pub comparison_operator: Option<String>,
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// One `AttributeUpdates` entry (an `AttributeValueUpdate`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttributeUpdate {
    pub value: Option<AttributeValue>,
    pub action: Option<String>,
}

/// One `KeyConditions`, `QueryFilter` or `ScanFilter` entry (a `Condition`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LegacyCondition {
    pub comparison_operator: Option<String>,
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// The service-level prefix of most legacy validation messages.
const INVALID: &str = "One or more parameter values were invalid: ";

/// The `ComparisonOperator` enum as DynamoDB's request validator lists it (its own order).
const COMPARISON_OPERATOR_ENUM: &str =
    "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]";
/// The `AttributeAction` enum as DynamoDB's request validator lists it.
const ATTRIBUTE_ACTION_ENUM: &str = "[ADD, PUT, DELETE]";
/// The `ConditionalOperator` enum.
const CONDITIONAL_OPERATOR_ENUM: &str = "[AND, OR]";

/// Converts `Expected` (and `ConditionalOperator`) into one condition, or `None` when there is
/// nothing to check.
///
/// Per entry, DynamoDB's rules (checked in this order):
/// 1. `AttributeValueList` without `ComparisonOperator` is an error, whatever `Exists` says.
/// 2. `Value` and `AttributeValueList` together are an error.
/// 3. With a `ComparisonOperator`: `Exists` (true or false) is an error; otherwise the
///    operator applies to `AttributeValueList`, or to `Value` as a one-element list — the
///    service accepts `Value` + `ComparisonOperator` although the documentation calls them
///    incompatible.
/// 4. Without one: `Exists: false` means "the attribute does not exist" and forbids `Value`;
///    `Exists: true` or no `Exists` means "the attribute equals `Value`" and requires it
///    (`Exists: true` alone is not an existence test, despite the documentation).
pub fn expected_to_condition(
    expected: &[(String, ExpectedAttribute)],
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ExprError> {
    let expected = unique(expected);
    let mut violations = Violations::default();
    let mut plans = Vec::with_capacity(expected.len());
    for &(name, entry) in &expected {
        match expected_plan(name, entry) {
            Ok(plan) => plans.push((name, plan)),
            Err(violation) => violations.push(violation),
        }
    }
    let join = conditional_join(conditional_operator, &mut violations);
    violations.check()?;
    let join = join.unwrap_or(Join::And);
    check_conditional_operator_usage(conditional_operator, expected.len())?;

    let mut conditions = Vec::with_capacity(plans.len());
    for (name, plan) in plans {
        let condition = match plan {
            ExpectedPlan::NotExists => function_condition("attribute_not_exists", name, None),
            ExpectedPlan::Equals(value) => compare(name, Comparator::Eq, value),
            ExpectedPlan::Operator(operator, args) => operator_condition(name, operator, args)?,
        };
        conditions.push(condition);
    }
    Ok(combine(conditions, join))
}

/// Converts `QueryFilter` or `ScanFilter` (and `ConditionalOperator`) into one condition, or
/// `None` when the filter is empty. `parameter` is `"QueryFilter"` or `"ScanFilter"`; it names
/// the member in request-validator messages (`… at 'scanFilter.a.member.comparisonOperator' …`).
pub fn filter_to_condition(
    filter: &[(String, LegacyCondition)],
    conditional_operator: Option<&str>,
    parameter: &str,
) -> Result<Option<Condition>, ExprError> {
    let filter = unique(filter);
    let member = lower_camel(parameter);
    let mut violations = Violations::default();
    let operators = condition_operators(&filter, &member, &mut violations);
    let join = conditional_join(conditional_operator, &mut violations);
    violations.check()?;
    let join = join.unwrap_or(Join::And);
    check_conditional_operator_usage(conditional_operator, filter.len())?;

    let mut conditions = Vec::with_capacity(filter.len());
    for (&(name, entry), operator) in filter.iter().zip(operators) {
        let args = entry.attribute_value_list.as_deref().unwrap_or(&[]);
        conditions.push(operator_condition(name, operator, args)?);
    }
    Ok(combine(conditions, join))
}

/// The most `KeyConditions` entries any key takes: four HASH and four RANGE components.
pub const MAX_KEY_CONDITIONS: usize = 8;

/// Converts `KeyConditions` into one condition: the entries joined by AND in request order.
///
/// Only `EQ | LE | LT | GE | GT | BEGINS_WITH | BETWEEN` can select keys; anything else is
/// "not an indexable operation". Which attribute is the partition key (which must use `EQ`)
/// and whether the names and value types match the key schema is for the engine to check
/// against the table or index, exactly as for a `KeyConditionExpression` of the same shape.
pub fn key_conditions_to_condition(
    conditions: &[(String, LegacyCondition)],
) -> Result<Condition, ExprError> {
    let conditions = unique(conditions);
    let mut violations = Violations::default();
    let operators = condition_operators(&conditions, "keyConditions", &mut violations);
    violations.check()?;
    // Up to one condition per key component: two for a table or local index, eight for a
    // multi-attribute global index key. How many the queried key takes is the engine's
    // check (`validate::key_condition_components`), with the same text for a simple key.
    if conditions.is_empty() || conditions.len() > MAX_KEY_CONDITIONS {
        return Err(ExprError::message_only(
            "Conditions can be of length 1 or 2 only",
        ));
    }
    let mut converted = Vec::with_capacity(conditions.len());
    for (&(name, entry), operator) in conditions.iter().zip(operators) {
        let args = entry.attribute_value_list.as_deref().unwrap_or(&[]);
        let condition = operator_condition(name, operator, args)?;
        if !operator.is_indexable() {
            return Err(ExprError::message_only(
                "Attempted conditional constraint is not an indexable operation",
            ));
        }
        converted.push(condition);
    }
    // `conditions` is non-empty here, so `combine` always yields a condition.
    combine(converted, Join::And)
        .ok_or_else(|| ExprError::message_only("Conditions can be of length 1 or 2 only"))
}

/// Converts `AttributeUpdates` into an update; each clause lists its actions in request order.
///
/// - `PUT` (the default) with a `Value` → `SET a = v`; without one it is an error.
/// - `DELETE` without a `Value` → `REMOVE a`; with a set value → `DELETE a v` (remove those
///   elements); with any other type it is an error.
/// - `ADD` with a number or a set → `ADD a v` (0 + v or the set itself when `a` is absent);
///   with any other type, or without a value, it is an error.
///
/// What DynamoDB does that the tree cannot say, and the engine must therefore handle: a type
/// mismatch between an `ADD` / `DELETE` value and the stored attribute is reported as `Type
/// mismatch for attribute to update` rather than in the update-expression wording, and an
/// update made only of `DELETE` actions does not create a missing item.
pub fn attribute_updates_to_update(
    updates: &[(String, AttributeUpdate)],
) -> Result<Update, ExprError> {
    let updates = unique(updates);
    let mut violations = Violations::default();
    let mut actions = Vec::with_capacity(updates.len());
    for &(name, entry) in &updates {
        match entry.action.as_deref() {
            None => actions.push(Action::Put),
            Some(text) => match Action::parse(text) {
                Some(action) => actions.push(action),
                None => violations.push(enum_violation(
                    text,
                    &format!("attributeUpdates.{name}.member.action"),
                    ATTRIBUTE_ACTION_ENUM,
                )),
            },
        }
    }
    violations.check()?;

    let mut update = Update {
        legacy: true,
        ..Update::default()
    };
    for (&(name, entry), action) in updates.iter().zip(actions) {
        match (action, &entry.value) {
            (Action::Put | Action::Add, None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ))
            }
            (Action::Put, Some(value)) => update.set.push((top_level(name), literal(value))),
            (Action::Delete, None) => update.remove.push(top_level(name)),
            (Action::Delete, Some(value)) => {
                if !is_set(value) {
                    return Err(invalid(format_args!(
                        "DELETE action with value is not supported for the type {}",
                        long_type_name(value)
                    )));
                }
                update.delete.push((top_level(name), literal(value)));
            }
            (Action::Add, Some(value)) => {
                if !(matches!(value, AttributeValue::N(_)) || is_set(value)) {
                    return Err(invalid(format_args!(
                        "ADD action is not supported for the type {}",
                        long_type_name(value)
                    )));
                }
                update.add.push((top_level(name), literal(value)));
            }
        }
    }
    Ok(update)
}

/// Converts `AttributesToGet` into a projection of top-level attributes, in request order.
/// Names are taken literally: `a.b` is one attribute named `a.b`, not a path.
pub fn attributes_to_get_to_projection(names: &[String]) -> Result<Projection, ExprError> {
    if names.is_empty() {
        let violation = stator_types::constraint::violation(
            "'[]'",
            "attributesToGet",
            "Member must have length greater than or equal to 1",
        );
        return Err(ExprError::message_only(
            stator_types::constraint::detected(&[violation]).unwrap_or_default(),
        ));
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(names.len());
    let mut paths = Vec::with_capacity(names.len());
    for name in names {
        if !seen.insert(name) {
            return Err(invalid(format_args!(
                "Duplicate value in attribute name: {name}"
            )));
        }
        paths.push(top_level(name));
    }
    Ok(Projection(paths))
}

/// DynamoDB's rule: a request may not mix legacy and expression parameters.
///
/// `legacy_present` and `expression_present` list the parameters the request carries, in the
/// order they should appear in the message (DynamoDB lists each group inside braces, e.g.
/// `Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}`).
/// `ConditionalOperator` counts as a legacy parameter.
pub fn check_no_mixing(
    legacy_present: &[&str],
    expression_present: &[&str],
) -> Result<(), ExprError> {
    if legacy_present.is_empty() || expression_present.is_empty() {
        return Ok(());
    }
    Err(ExprError::message_only(format!(
        "Can not use both expression and non-expression parameters in the same request: \
         Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        legacy_present.join(", "),
        expression_present.join(", ")
    )))
}

// ---------------------------------------------------------------------------------------------
// Comparison operators

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
    NotNull,
    Null,
    Contains,
    NotContains,
    BeginsWith,
    In,
    Between,
}

impl Operator {
    /// DynamoDB's enum values are case-sensitive: `eq` is not `EQ`.
    fn parse(text: &str) -> Option<Operator> {
        Some(match text {
            "EQ" => Operator::Eq,
            "NE" => Operator::Ne,
            "LE" => Operator::Le,
            "LT" => Operator::Lt,
            "GE" => Operator::Ge,
            "GT" => Operator::Gt,
            "NOT_NULL" => Operator::NotNull,
            "NULL" => Operator::Null,
            "CONTAINS" => Operator::Contains,
            "NOT_CONTAINS" => Operator::NotContains,
            "BEGINS_WITH" => Operator::BeginsWith,
            "IN" => Operator::In,
            "BETWEEN" => Operator::Between,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Operator::Eq => "EQ",
            Operator::Ne => "NE",
            Operator::Le => "LE",
            Operator::Lt => "LT",
            Operator::Ge => "GE",
            Operator::Gt => "GT",
            Operator::NotNull => "NOT_NULL",
            Operator::Null => "NULL",
            Operator::Contains => "CONTAINS",
            Operator::NotContains => "NOT_CONTAINS",
            Operator::BeginsWith => "BEGINS_WITH",
            Operator::In => "IN",
            Operator::Between => "BETWEEN",
        }
    }

    /// Whether `count` values are the right number for this operator.
    fn takes(self, count: usize) -> bool {
        match self {
            Operator::NotNull | Operator::Null => count == 0,
            Operator::In => count >= 1,
            Operator::Between => count == 2,
            _ => count == 1,
        }
    }

    /// Whether a value of this type may appear in the operator's `AttributeValueList`.
    fn accepts(self, value: &AttributeValue) -> bool {
        use AttributeValue as V;
        match self {
            // "EQ/NE is supported for all data types, including lists and maps."
            Operator::Eq | Operator::Ne | Operator::NotNull | Operator::Null => true,
            // Ordering only exists within S, N and B.
            Operator::Le
            | Operator::Lt
            | Operator::Ge
            | Operator::Gt
            | Operator::In
            | Operator::Between => matches!(value, V::S(_) | V::N(_) | V::B(_)),
            // "b cannot be a set, a map, or a list."
            Operator::Contains | Operator::NotContains => {
                !matches!(value, V::Ss(_) | V::Ns(_) | V::Bs(_) | V::M(_) | V::L(_))
            }
            // "String or Binary (not a Number or a set type)."
            Operator::BeginsWith => matches!(value, V::S(_) | V::B(_)),
        }
    }

    /// The operators `KeyConditions` can use.
    fn is_indexable(self) -> bool {
        matches!(
            self,
            Operator::Eq
                | Operator::Le
                | Operator::Lt
                | Operator::Ge
                | Operator::Gt
                | Operator::BeginsWith
                | Operator::Between
        )
    }
}

/// Validates an operator's `AttributeValueList` and builds its condition on attribute `name`.
///
/// Semantics follow the expression language, which is how DynamoDB defines the legacy
/// operators ("use ConditionExpression instead"): a comparison with a value of another type
/// is false, except `NE`, which is true; `NE` is true when the attribute is absent (as
/// `a <> v` is) but `NOT_CONTAINS` is false (DynamoDB's, not `NOT contains(a, v)`'s answer);
/// `IN`'s values, like `BETWEEN`'s bounds, must share one type.
fn operator_condition(
    name: &str,
    operator: Operator,
    args: &[AttributeValue],
) -> Result<Condition, ExprError> {
    if !operator.takes(args.len()) {
        return Err(invalid(format_args!(
            "Invalid number of argument(s) for the {} ComparisonOperator",
            operator.name()
        )));
    }
    if let Some(value) = args.iter().find(|value| !operator.accepts(value)) {
        return Err(invalid(format_args!(
            "ComparisonOperator {} is not valid for {} AttributeValue type",
            operator.name(),
            value.type_name()
        )));
    }
    Ok(match (operator, args) {
        (Operator::Eq, [value]) => compare(name, Comparator::Eq, value),
        (Operator::Ne, [value]) => compare(name, Comparator::Ne, value),
        (Operator::Le, [value]) => compare(name, Comparator::Le, value),
        (Operator::Lt, [value]) => compare(name, Comparator::Lt, value),
        (Operator::Ge, [value]) => compare(name, Comparator::Ge, value),
        (Operator::Gt, [value]) => compare(name, Comparator::Gt, value),
        (Operator::NotNull, _) => function_condition("attribute_exists", name, None),
        (Operator::Null, _) => function_condition("attribute_not_exists", name, None),
        (Operator::Contains, [value]) => function_condition("contains", name, Some(value)),
        // Unlike `NOT contains(a, v)`, false when the attribute is absent.
        (Operator::NotContains, [value]) => Condition::And(
            Box::new(function_condition("attribute_exists", name, None)),
            Box::new(Condition::Not(Box::new(function_condition(
                "contains",
                name,
                Some(value),
            )))),
        ),
        (Operator::BeginsWith, [value]) => function_condition("begins_with", name, Some(value)),
        (Operator::Between, [low, high]) => {
            if low.type_name() != high.type_name() {
                return Err(invalid(
                    "AttributeValues inside AttributeValueList must be of same type",
                ));
            }
            if bound_order(low, high) == Some(Ordering::Greater) {
                return Err(ExprError::message_only(
                    "The BETWEEN condition was provided a range where the lower bound is \
                     bigger than the upper bound",
                ));
            }
            Condition::Between(attribute(name), literal(low), literal(high))
        }
        (Operator::In, values) => {
            if values
                .iter()
                .any(|v| v.type_name() != values[0].type_name())
            {
                return Err(invalid(
                    "AttributeValues inside AttributeValueList must be of same type",
                ));
            }
            Condition::In(attribute(name), values.iter().map(literal).collect())
        }
        // Unreachable: `takes` fixed the argument count for every other shape above. Answering
        // with the count error keeps this total without a panic path.
        _ => {
            return Err(invalid(format_args!(
                "Invalid number of argument(s) for the {} ComparisonOperator",
                operator.name()
            )))
        }
    })
}

/// DynamoDB's order between two values of the same orderable type: numbers numerically,
/// strings and binaries by unsigned bytes (UTF-8 for strings).
fn bound_order(low: &AttributeValue, high: &AttributeValue) -> Option<Ordering> {
    match (low, high) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Entry shapes (the request-validator layer)

/// What one `Expected` entry asks for, once its structure is known to be valid.
enum ExpectedPlan<'a> {
    NotExists,
    Equals(&'a AttributeValue),
    Operator(Operator, &'a [AttributeValue]),
}

fn expected_plan<'a>(name: &str, entry: &'a ExpectedAttribute) -> Result<ExpectedPlan<'a>, String> {
    if entry.comparison_operator.is_none() && entry.attribute_value_list.is_some() {
        return Err(format!(
            "{INVALID}AttributeValueList can only be used with a ComparisonOperator for \
             Attribute: {name}"
        ));
    }
    if entry.value.is_some() && entry.attribute_value_list.is_some() {
        return Err(format!(
            "{INVALID}Value and AttributeValueList cannot be used together for Attribute: {name}"
        ));
    }
    if let Some(text) = &entry.comparison_operator {
        if entry.exists.is_some() {
            return Err(format!(
                "{INVALID}Exists and ComparisonOperator cannot be used together for \
                 Attribute: {name}"
            ));
        }
        let operator = Operator::parse(text).ok_or_else(|| {
            enum_violation(
                text,
                &format!("expected.{name}.member.comparisonOperator"),
                COMPARISON_OPERATOR_ENUM,
            )
        })?;
        let args = match (&entry.attribute_value_list, &entry.value) {
            (Some(list), _) => list.as_slice(),
            (None, Some(value)) => std::slice::from_ref(value),
            (None, None) => &[],
        };
        return Ok(ExpectedPlan::Operator(operator, args));
    }
    match (entry.exists, &entry.value) {
        (Some(false), Some(_)) => Err(format!(
            "{INVALID}Value cannot be used when Exists is false for Attribute: {name}"
        )),
        (Some(false), None) => Ok(ExpectedPlan::NotExists),
        (Some(true), None) => Err(format!(
            "{INVALID}Value must be provided when Exists is true for Attribute: {name}"
        )),
        (None, None) => Err(format!(
            "{INVALID}Value must be provided when Exists is null for Attribute: {name}"
        )),
        (_, Some(value)) => Ok(ExpectedPlan::Equals(value)),
    }
}

/// Parses each entry's `ComparisonOperator` (required in a `Condition`), recording violations.
/// The returned list has one operator per valid entry; it is only used when there were none.
fn condition_operators(
    conditions: &[(&str, &LegacyCondition)],
    member: &str,
    violations: &mut Violations,
) -> Vec<Operator> {
    let mut operators = Vec::with_capacity(conditions.len());
    for &(name, entry) in conditions {
        let path = format!("{member}.{name}.member.comparisonOperator");
        match entry.comparison_operator.as_deref() {
            None => violations.push(stator_types::constraint::violation(
                "null",
                &path,
                "Member must not be null",
            )),
            Some(text) => match Operator::parse(text) {
                Some(operator) => operators.push(operator),
                None => violations.push(enum_violation(text, &path, COMPARISON_OPERATOR_ENUM)),
            },
        }
    }
    operators
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Join {
    And,
    Or,
}

/// Parses `ConditionalOperator`; an unknown value is a request-validator violation.
fn conditional_join(text: Option<&str>, violations: &mut Violations) -> Option<Join> {
    match text? {
        "AND" => Some(Join::And),
        "OR" => Some(Join::Or),
        other => {
            violations.push(enum_violation(
                other,
                "conditionalOperator",
                CONDITIONAL_OPERATOR_ENUM,
            ));
            None
        }
    }
}

/// DynamoDB rejects a `ConditionalOperator` that has nothing, or only one condition, to join.
fn check_conditional_operator_usage(
    conditional_operator: Option<&str>,
    count: usize,
) -> Result<(), ExprError> {
    if conditional_operator.is_none() {
        return Ok(());
    }
    match count {
        0 => Err(ExprError::message_only(
            "ConditionalOperator cannot be used without Filter or Expected",
        )),
        1 => Err(ExprError::message_only(
            "ConditionalOperator can only be used when Filter or Expected has two or more \
             elements",
        )),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Put,
    Delete,
    Add,
}

impl Action {
    fn parse(text: &str) -> Option<Action> {
        match text {
            "PUT" => Some(Action::Put),
            "DELETE" => Some(Action::Delete),
            "ADD" => Some(Action::Add),
            _ => None,
        }
    }
}

/// Request-validator violations, reported together the way DynamoDB's validator does:
/// `1 validation error detected: …` or `2 validation errors detected: …; …`.
#[derive(Default)]
struct Violations(Vec<String>);

impl Violations {
    fn push(&mut self, violation: String) {
        self.0.push(violation);
    }

    fn check(&self) -> Result<(), ExprError> {
        match stator_types::constraint::detected(&self.0) {
            None => Ok(()),
            Some(message) => Err(ExprError::message_only(message)),
        }
    }
}

fn enum_violation(value: &str, path: &str, set: &str) -> String {
    stator_types::constraint::violation(
        &format!("'{value}'"),
        path,
        &format!("Member must satisfy enum value set: {set}"),
    )
}

/// The entries of a JSON object as DynamoDB sees them: a repeated name keeps the position of
/// its first occurrence and the value of its last, as a Java `LinkedHashMap` filled in
/// document order does. (The server keeps duplicate keys in request order; DynamoDB never
/// sees two conditions or two updates for one name.)
fn unique<T>(entries: &[(String, T)]) -> Vec<(&str, &T)> {
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    let mut unique: Vec<(&str, &T)> = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        match positions.get(name.as_str()) {
            Some(&position) => {
                if let Some(slot) = unique.get_mut(position) {
                    slot.1 = value;
                }
            }
            None => {
                positions.insert(name, unique.len());
                unique.push((name, value));
            }
        }
    }
    unique
}

// ---------------------------------------------------------------------------------------------
// Tree building

fn invalid(detail: impl fmt::Display) -> ExprError {
    ExprError::message_only(format!("{INVALID}{detail}"))
}

/// A top-level attribute path; legacy parameters cannot address nested attributes.
fn top_level(name: &str) -> Path {
    Path(vec![PathElement::Attribute(Name::Literal(name.to_owned()))])
}

fn attribute(name: &str) -> Operand {
    Operand::Path(top_level(name))
}

fn literal(value: &AttributeValue) -> Operand {
    Operand::Literal(value.clone())
}

fn compare(name: &str, comparator: Comparator, value: &AttributeValue) -> Condition {
    Condition::Compare(attribute(name), comparator, literal(value))
}

fn function_condition(function: &str, name: &str, value: Option<&AttributeValue>) -> Condition {
    let mut args = vec![attribute(name)];
    args.extend(value.map(literal));
    Condition::Function(FunctionCall {
        name: function.to_owned(),
        args,
    })
}

/// Joins conditions in request order by pairing neighbours until one is left:
/// `((c1 AND c2) AND c3)`, `((c1 AND c2) AND (c3 AND c4))`. AND and OR are associative and
/// evaluate left to right either way, but this keeps the tree ⌈log₂ n⌉ deep: a filter map
/// with a hundred thousand entries must not become a tree that deep, which the recursive
/// `Drop` of `Box` (and any recursive walk) would overflow the stack on.
fn combine(mut conditions: Vec<Condition>, join: Join) -> Option<Condition> {
    while conditions.len() > 1 {
        let mut paired = Vec::with_capacity(conditions.len().div_ceil(2));
        let mut rest = conditions.into_iter();
        while let Some(left) = rest.next() {
            paired.push(match rest.next() {
                Some(right) => match join {
                    Join::And => Condition::And(Box::new(left), Box::new(right)),
                    Join::Or => Condition::Or(Box::new(left), Box::new(right)),
                },
                None => left,
            });
        }
        conditions = paired;
    }
    conditions.pop()
}

fn is_set(value: &AttributeValue) -> bool {
    matches!(
        value,
        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
    )
}

/// The spelled-out type names DynamoDB uses in `AttributeUpdates` action messages
/// (`DELETE action with value is not supported for the type STRING`).
fn long_type_name(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "STRING",
        AttributeValue::N(_) => "NUMBER",
        AttributeValue::B(_) => "BINARY",
        AttributeValue::Bool(_) => "BOOLEAN",
        AttributeValue::Null => "NULL",
        AttributeValue::M(_) => "MAP",
        AttributeValue::L(_) => "LIST",
        AttributeValue::Ss(_) => "STRING_SET",
        AttributeValue::Ns(_) => "NUMBER_SET",
        AttributeValue::Bs(_) => "BINARY_SET",
    }
}

/// `QueryFilter` → `queryFilter`: the request validator names members in lower camel case.
fn lower_camel(parameter: &str) -> String {
    let mut chars = parameter.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
