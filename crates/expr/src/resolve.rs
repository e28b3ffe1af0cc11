//! Placeholder resolution: `#name` → [`Name::Literal`], `:value` → [`Operand::Literal`],
//! plus the request-level checks on the `ExpressionAttributeNames` and
//! `ExpressionAttributeValues` maps themselves.
//!
//! Flow for one request:
//! 1. [`check_placeholder_maps`] on the raw maps (before any expression is looked at).
//! 2. Parse each expression, then resolve each with one shared [`Placeholders`]: it
//!    substitutes and records which keys were used; the first undefined placeholder (in
//!    text order) fails with DynamoDB's message under that expression's prefix.
//! 3. [`Placeholders::finish`] once all expressions are resolved: a key that no expression
//!    used is an error (names are checked before values).
//!
//! After resolution a tree contains only literals, the precondition of validation's value
//! checks and of the evaluator.

use std::collections::{HashMap, HashSet};

use stator_types::{AttributeValue, Checked};

use crate::ast::{
    Condition, ExpressionKind, FunctionCall, Name, Operand, Path, PathElement, Projection, Update,
};
use crate::error::ExprError;

/// The placeholder maps of one request and the keys its expressions used so far.
pub struct Placeholders<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
    used_names: HashSet<&'a str>,
    used_values: HashSet<&'a str>,
}

impl<'a> Placeholders<'a> {
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        Placeholders {
            names,
            values,
            used_names: HashSet::new(),
            used_values: HashSet::new(),
        }
    }

    /// Resolves a condition, filter or key-condition expression.
    pub fn resolve_condition(
        &mut self,
        condition: Condition,
        kind: ExpressionKind,
    ) -> Result<Condition, ExprError> {
        // Iterative over AND/OR chains on the left (the parser builds left-deep chains) would
        // be possible, but the parser bounds nesting to a few hundred levels, so plain
        // recursion is safe.
        Ok(match condition {
            Condition::Compare(left, comparator, right) => Condition::Compare(
                self.operand(left, kind)?,
                comparator,
                self.operand(right, kind)?,
            ),
            Condition::Between(operand, low, high) => Condition::Between(
                self.operand(operand, kind)?,
                self.operand(low, kind)?,
                self.operand(high, kind)?,
            ),
            Condition::In(operand, list) => {
                let operand = self.operand(operand, kind)?;
                let list = list
                    .into_iter()
                    .map(|item| self.operand(item, kind))
                    .collect::<Result<_, _>>()?;
                Condition::In(operand, list)
            }
            Condition::Function(function) => Condition::Function(self.function(function, kind)?),
            Condition::And(left, right) => {
                let left = self.resolve_condition(*left, kind)?;
                let right = self.resolve_condition(*right, kind)?;
                Condition::And(Box::new(left), Box::new(right))
            }
            Condition::Or(left, right) => {
                let left = self.resolve_condition(*left, kind)?;
                let right = self.resolve_condition(*right, kind)?;
                Condition::Or(Box::new(left), Box::new(right))
            }
            Condition::Not(inner) => {
                Condition::Not(Box::new(self.resolve_condition(*inner, kind)?))
            }
        })
    }

    /// Resolves an update expression, clause by clause in the order SET, REMOVE, ADD,
    /// DELETE.
    pub fn resolve_update(&mut self, update: Update) -> Result<Update, ExprError> {
        let kind = ExpressionKind::Update;
        let mut resolved = Update::default();
        for (path, value) in update.set {
            let path = self.path(path, kind)?;
            resolved.set.push((path, self.operand(value, kind)?));
        }
        for path in update.remove {
            resolved.remove.push(self.path(path, kind)?);
        }
        for (path, value) in update.add {
            let path = self.path(path, kind)?;
            resolved.add.push((path, self.operand(value, kind)?));
        }
        for (path, value) in update.delete {
            let path = self.path(path, kind)?;
            resolved.delete.push((path, self.operand(value, kind)?));
        }
        Ok(resolved)
    }

    pub fn resolve_projection(&mut self, projection: Projection) -> Result<Projection, ExprError> {
        let paths = projection
            .0
            .into_iter()
            .map(|path| self.path(path, ExpressionKind::Projection))
            .collect::<Result<_, _>>()?;
        Ok(Projection(paths))
    }

    /// After all expressions of a request are resolved: unused names/values errors.
    /// DynamoDB lists the unused keys as `{#a, #b}`; here they are sorted.
    pub fn finish(self) -> Result<(), ExprError> {
        if let Some(names) = self.names {
            unused("ExpressionAttributeNames", names.keys(), &self.used_names)?;
        }
        if let Some(values) = self.values {
            unused(
                "ExpressionAttributeValues",
                values.keys(),
                &self.used_values,
            )?;
        }
        Ok(())
    }

    fn path(&mut self, path: Path, kind: ExpressionKind) -> Result<Path, ExprError> {
        let mut elements = Vec::with_capacity(path.0.len());
        for element in path.0 {
            elements.push(match element {
                PathElement::Attribute(Name::Placeholder(placeholder)) => {
                    let entry = self
                        .names
                        .and_then(|names| names.get_key_value(placeholder.as_str()));
                    let Some((key, name)) = entry else {
                        return Err(ExprError::invalid(
                            kind,
                            format_args!(
                                "An expression attribute name used in the document path is \
                                 not defined; attribute name: {placeholder}"
                            ),
                        ));
                    };
                    self.used_names.insert(key.as_str());
                    PathElement::Attribute(Name::Literal(name.clone()))
                }
                other => other,
            });
        }
        Ok(Path(elements))
    }

    fn operand(&mut self, operand: Operand, kind: ExpressionKind) -> Result<Operand, ExprError> {
        Ok(match operand {
            Operand::Path(path) => Operand::Path(self.path(path, kind)?),
            Operand::Value(placeholder) => {
                let entry = self
                    .values
                    .and_then(|values| values.get_key_value(placeholder.as_str()));
                let Some((key, value)) = entry else {
                    return Err(ExprError::invalid(
                        kind,
                        format_args!(
                            "An expression attribute value used in expression is not defined; \
                             attribute value: {placeholder}"
                        ),
                    ));
                };
                self.used_values.insert(key.as_str());
                Operand::Literal(value.clone())
            }
            Operand::Literal(value) => Operand::Literal(value),
            Operand::Function(function) => Operand::Function(self.function(function, kind)?),
            Operand::Arithmetic(left, op, right) => {
                let left = self.operand(*left, kind)?;
                let right = self.operand(*right, kind)?;
                Operand::Arithmetic(Box::new(left), op, Box::new(right))
            }
        })
    }

    fn function(
        &mut self,
        function: FunctionCall,
        kind: ExpressionKind,
    ) -> Result<FunctionCall, ExprError> {
        let args = function
            .args
            .into_iter()
            .map(|arg| self.operand(arg, kind))
            .collect::<Result<_, _>>()?;
        Ok(FunctionCall {
            name: function.name,
            args,
        })
    }
}

fn unused<'k>(
    parameter: &str,
    keys: impl Iterator<Item = &'k String>,
    used: &HashSet<&str>,
) -> Result<(), ExprError> {
    let mut unused: Vec<&str> = keys
        .map(String::as_str)
        .filter(|key| !used.contains(key))
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    unused.sort_unstable();
    Err(ExprError::message_only(format!(
        "Value provided in {parameter} unused in expressions: keys: {{{}}}",
        unused.join(", ")
    )))
}

/// Whether `key` is a well-formed placeholder: `sigil` followed by one or more ASCII
/// letters, digits or `_`.
fn valid_key(key: &str, sigil: u8) -> bool {
    match key.as_bytes().split_first() {
        Some((&first, rest)) => {
            first == sigil
                && !rest.is_empty()
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        None => false,
    }
}

/// DynamoDB's tail naming the operation's expression parameters, all absent:
/// `: ConditionExpression is null`, `: UpdateExpression and ConditionExpression are null`,
/// `: A, B and C are null`; empty when `own` is.
fn absent_list(own: &[&str]) -> String {
    match own {
        [] => String::new(),
        [one] => format!(": {one} is null"),
        [init @ .., last] => format!(": {} and {last} are null", init.join(", ")),
    }
}

/// The request-level checks on the placeholder maps, before any expression is parsed.
/// `expressions_present` says whether the request has any expression parameter at all.
///
/// Order (decided where DynamoDB's is not observed; keys are checked in sorted order so the
/// reported key is deterministic):
/// 1. a map given with no expression: `ExpressionAttributeNames can only be specified when
///    using expressions: ConditionExpression is null` (likewise `ExpressionAttributeValues`;
///    the tail names `own`, the operation's expression parameters);
/// 2. names: empty map (`ExpressionAttributeNames must not be empty`), then each key's
///    syntax (`ExpressionAttributeNames contains invalid key: Syntax error; key: "x"`);
/// 3. values: empty map, each key's syntax, then each value's validity
///    (`ExpressionAttributeValues contains invalid value: <message> for key :v`).
pub fn check_placeholder_maps(
    names: Option<&HashMap<String, String>>,
    values: Option<&HashMap<String, Checked<AttributeValue>>>,
    expressions_present: bool,
    own: &[&str],
) -> Result<(), ExprError> {
    if !expressions_present {
        if names.is_some() {
            return Err(ExprError::message_only(format!(
                "ExpressionAttributeNames can only be specified when using expressions{}",
                absent_list(own)
            )));
        }
        if values.is_some() {
            return Err(ExprError::message_only(format!(
                "ExpressionAttributeValues can only be specified when using expressions{}",
                absent_list(own)
            )));
        }
    }
    if let Some(names) = names {
        if names.is_empty() {
            return Err(ExprError::message_only(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        let mut keys: Vec<&String> = names.keys().collect();
        keys.sort_unstable();
        if let Some(key) = keys.into_iter().find(|key| !valid_key(key, b'#')) {
            return Err(ExprError::message_only(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{key}\""
            )));
        }
        let mut entries: Vec<(&String, &String)> = names.iter().collect();
        entries.sort_unstable();
        for (key, name) in entries {
            if let Some(problem) = stator_types::attribute_name_problem(name) {
                return Err(ExprError::message_only(format!(
                    "ExpressionAttributeNames contains invalid value: {problem} for key {key}"
                )));
            }
        }
    }
    if let Some(values) = values {
        if values.is_empty() {
            return Err(ExprError::message_only(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        let mut entries: Vec<(&String, &Checked<AttributeValue>)> = values.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        if let Some((key, _)) = entries.iter().find(|(key, _)| !valid_key(key, b':')) {
            return Err(ExprError::message_only(format!(
                "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{key}\""
            )));
        }
        for (key, value) in entries {
            if let Err(error) = &value.0 {
                return Err(ExprError::message_only(format!(
                    "ExpressionAttributeValues contains invalid value: {} for key {key}",
                    error.message()
                )));
            }
        }
    }
    Ok(())
}
