//! Per-context validation of parsed (normally resolved) trees: which functions may appear
//! where and with how many operands, operand types that can be checked without an item,
//! the limits on `IN`, overlapping or conflicting document paths in updates and
//! projections, and the shape of a Query's key condition.
//!
//! Flow: parser → resolve → **validate** → evaluate. Validation runs on resolved trees so
//! that literal values can be type-checked and paths in messages show real attribute names
//! (DynamoDB reports `path one: [created]`, not the placeholder); on a tree that still has
//! placeholders the value checks are simply skipped.
//!
//! Checks run in a fixed order, first error wins: for each function, its name is checked,
//! then whether it may appear in this kind of expression and in this position, then its
//! operand count, then its operands (recursively), then the function's own operand rules.
//! For updates, actions are checked clause by clause (SET, REMOVE, ADD, DELETE), then all
//! document paths against each other.

use stator_types::AttributeValue;

use crate::ast::{
    Comparator, Condition, ExpressionKind, FunctionCall, Name, Operand, Path, PathElement,
    Projection, Update,
};
use crate::error::ExprError;

/// DynamoDB's limit on the operands of `IN` (the documentation's number; the list after
/// `IN`, not counting the left operand).
pub const MAX_IN_OPERANDS: usize = 100;

/// The type names `attribute_type` accepts, in the order DynamoDB's message lists them.
const ATTRIBUTE_TYPES: [&str; 10] = ["B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M"];

/// What a known function is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FunctionRole {
    /// A condition function: a boolean, usable only as a whole condition.
    Condition,
    /// `size`: a value, usable as an operand of a condition.
    Size,
    /// An update function: a value, usable only in a `SET` action.
    Update,
}

/// DynamoDB's functions (names are case-sensitive) with their role and operand count.
fn function_info(name: &str) -> Option<(FunctionRole, usize)> {
    Some(match name {
        "attribute_exists" | "attribute_not_exists" => (FunctionRole::Condition, 1),
        "attribute_type" | "begins_with" | "contains" => (FunctionRole::Condition, 2),
        "size" => (FunctionRole::Size, 1),
        "if_not_exists" | "list_append" => (FunctionRole::Update, 2),
        _ => return None,
    })
}

fn invalid_function(kind: ExpressionKind, name: &str) -> ExprError {
    ExprError::invalid(
        kind,
        format_args!("Invalid function name; function: {name}"),
    )
}

fn misused_function(kind: ExpressionKind, name: &str) -> ExprError {
    ExprError::invalid(
        kind,
        format_args!(
            "The function is not allowed to be used this way in an expression; function: {name}"
        ),
    )
}

fn operand_count(kind: ExpressionKind, name: &str, count: usize) -> ExprError {
    ExprError::invalid(
        kind,
        format_args!(
            "Incorrect number of operands for operator or function; operator or function: \
             {name}, number of operands: {count}"
        ),
    )
}

fn operand_type(kind: ExpressionKind, name: &str, type_name: &str) -> ExprError {
    ExprError::invalid(
        kind,
        format_args!(
            "Incorrect operand type for operator or function; operator or function: {name}, \
             operand type: {type_name}"
        ),
    )
}

fn requires_path(kind: ExpressionKind, name: &str) -> ExprError {
    ExprError::invalid(
        kind,
        format_args!("Operator or function requires a document path; operator or function: {name}"),
    )
}

/// Checks a condition or filter expression (also usable on a key condition before
/// [`key_condition`], which has its own stricter rules).
pub fn validate_condition(condition: &Condition, kind: ExpressionKind) -> Result<(), ExprError> {
    match condition {
        Condition::Compare(left, comparator, right) => {
            condition_operand(left, kind)?;
            condition_operand(right, kind)?;
            if !matches!(comparator, Comparator::Eq | Comparator::Ne) {
                let symbol = comparator_symbol(*comparator);
                orderable_literal(left, symbol, kind)?;
                orderable_literal(right, symbol, kind)?;
            }
            Ok(())
        }
        Condition::Between(operand, low, high) => {
            condition_operand(operand, kind)?;
            condition_operand(low, kind)?;
            condition_operand(high, kind)?;
            for bound in [operand, low, high] {
                orderable_literal(bound, "BETWEEN", kind)?;
            }
            between_bounds(low, high, kind)
        }
        Condition::In(operand, list) => {
            if list.len() > MAX_IN_OPERANDS {
                // Decided: DynamoDB's operand-count message, with IN as the operator.
                return Err(operand_count(kind, "IN", list.len()));
            }
            condition_operand(operand, kind)?;
            list.iter()
                .try_for_each(|item| condition_operand(item, kind))
        }
        Condition::Function(function) => condition_function(function, kind),
        Condition::And(left, right) | Condition::Or(left, right) => {
            validate_condition(left, kind)?;
            validate_condition(right, kind)
        }
        Condition::Not(inner) => validate_condition(inner, kind),
    }
}

fn comparator_symbol(comparator: Comparator) -> &'static str {
    match comparator {
        Comparator::Eq => "=",
        Comparator::Ne => "<>",
        Comparator::Lt => "<",
        Comparator::Le => "<=",
        Comparator::Gt => ">",
        Comparator::Ge => ">=",
    }
}

/// Only strings, numbers and binaries have an order. DynamoDB rejects an ordering comparison
/// or BETWEEN whose *literal* operand has another type while validating the expression (a
/// path that holds such a value just makes the comparison false, at evaluation). The message
/// follows DynamoDB's operand-type wording; the exact text for this case is not confirmed.
fn orderable_literal(
    operand: &Operand,
    operator: &str,
    kind: ExpressionKind,
) -> Result<(), ExprError> {
    use stator_types::AttributeValue as Av;
    match operand {
        Operand::Literal(Av::S(_) | Av::N(_) | Av::B(_)) => Ok(()),
        Operand::Literal(other) => Err(operand_type(kind, operator, other.type_name())),
        _ => Ok(()),
    }
}

/// DynamoDB rejects literal BETWEEN bounds in the wrong order while validating the
/// expression, before any item is read (quoted from the service in public reports).
fn between_bounds(low: &Operand, high: &Operand, kind: ExpressionKind) -> Result<(), ExprError> {
    let (Operand::Literal(low), Operand::Literal(high)) = (low, high) else {
        return Ok(());
    };
    if low.type_name() != high.type_name() {
        return Err(ExprError::invalid(
            kind,
            format_args!(
                "The BETWEEN operator requires same data type for lower and upper bounds; \
                 lower bound operand: AttributeValue: {}, upper bound operand: \
                 AttributeValue: {}",
                show_scalar(low),
                show_scalar(high)
            ),
        ));
    }
    if crate::eval::order(low, high) != Some(std::cmp::Ordering::Greater) {
        return Ok(());
    }
    Err(ExprError::invalid(
        kind,
        format_args!(
            "The BETWEEN operator requires upper bound to be greater than or equal to lower \
             bound; lower bound operand: AttributeValue: {}, upper bound operand: \
             AttributeValue: {}",
            show_scalar(low),
            show_scalar(high)
        ),
    ))
}

/// `{N:6}` — how DynamoDB prints a scalar operand in BETWEEN messages.
fn show_scalar(value: &stator_types::AttributeValue) -> String {
    use stator_types::AttributeValue as Av;
    match value {
        Av::S(s) => format!("{{S:{s}}}"),
        Av::N(n) => format!("{{N:{n}}}"),
        other => format!("{{{}:…}}", other.type_name()),
    }
}

/// A function used as a whole condition.
fn condition_function(function: &FunctionCall, kind: ExpressionKind) -> Result<(), ExprError> {
    let name = function.name.as_str();
    let Some((role, arity)) = function_info(name) else {
        return Err(invalid_function(kind, name));
    };
    match role {
        FunctionRole::Update => {
            return Err(ExprError::invalid(
                kind,
                format_args!(
                    "The function is not allowed in a condition expression; function: {name}"
                ),
            ))
        }
        FunctionRole::Size => return Err(misused_function(kind, name)),
        FunctionRole::Condition => {}
    }
    if function.args.len() != arity {
        return Err(operand_count(kind, name, function.args.len()));
    }
    function
        .args
        .iter()
        .try_for_each(|arg| condition_operand(arg, kind))?;
    let args = &function.args;
    match name {
        "attribute_exists" | "attribute_not_exists" if !matches!(args[0], Operand::Path(_)) => {
            return Err(requires_path(kind, name));
        }
        "attribute_type" => {
            // The first operand may be a path or a value; the type name must be a value.
            match &args[1] {
                Operand::Literal(_) | Operand::Value(_) => {}
                Operand::Function(f) => return Err(misused_function(kind, &f.name)),
                _ => return Err(operand_type(kind, name, "PATH")),
            }
            if let Operand::Literal(value) = &args[1] {
                let AttributeValue::S(type_name) = value else {
                    return Err(operand_type(kind, name, value.type_name()));
                };
                if !ATTRIBUTE_TYPES.contains(&type_name.as_str()) {
                    return Err(ExprError::invalid(
                        kind,
                        format_args!(
                            "Invalid attribute type name found; type: {type_name}, valid types: \
                             {{{}}}",
                            ATTRIBUTE_TYPES.join(",")
                        ),
                    ));
                }
            }
        }
        "contains" if args[0] == args[1] => {
            return Err(ExprError::invalid(
                kind,
                format_args!(
                    "The first operand must be distinct from the remaining operands for this \
                     operator or function; operator: {name}, first operand: [{}]",
                    args[0]
                ),
            ));
        }
        "begins_with" => {
            for arg in args {
                if let Operand::Literal(value) = arg {
                    if !matches!(value, AttributeValue::S(_) | AttributeValue::B(_)) {
                        return Err(operand_type(kind, name, value.type_name()));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// An operand of a comparison, `BETWEEN`, `IN` or a condition function: a path, a value or
/// `size(path)`.
fn condition_operand(operand: &Operand, kind: ExpressionKind) -> Result<(), ExprError> {
    match operand {
        Operand::Path(_) | Operand::Value(_) | Operand::Literal(_) => Ok(()),
        Operand::Function(function) => {
            let name = function.name.as_str();
            let Some((role, arity)) = function_info(name) else {
                return Err(invalid_function(kind, name));
            };
            match role {
                FunctionRole::Update => Err(ExprError::invalid(
                    kind,
                    format_args!(
                        "The function is not allowed in a condition expression; function: {name}"
                    ),
                )),
                FunctionRole::Condition => Err(misused_function(kind, name)),
                FunctionRole::Size => {
                    if function.args.len() != arity {
                        return Err(operand_count(kind, name, function.args.len()));
                    }
                    // A path or a value, never another function (`size(size(a))`). A
                    // literal must be a type that has a size.
                    match &function.args[0] {
                        Operand::Path(_) | Operand::Value(_) => Ok(()),
                        Operand::Literal(value) => match value {
                            AttributeValue::N(_)
                            | AttributeValue::Bool(_)
                            | AttributeValue::Null => {
                                Err(operand_type(kind, name, value.type_name()))
                            }
                            _ => Ok(()),
                        },
                        // The inner function's own problem first (`size(if_not_exists(…))`).
                        Operand::Function(_) => {
                            condition_operand(&function.args[0], kind)?;
                            Err(misused_function(kind, name))
                        }
                        Operand::Arithmetic(..) => condition_operand(&function.args[0], kind),
                    }
                }
            }
        }
        // The parser never puts arithmetic in a condition (it is a syntax error there);
        // only a hand-built tree can.
        Operand::Arithmetic(_, op, _) => Err(ExprError::invalid(
            kind,
            format_args!(
                "The arithmetic operator is not allowed in a condition expression; \
                 operator: {op}"
            ),
        )),
    }
}

/// The long type names DynamoDB uses in `ADD`/`DELETE` operand-type messages
/// (`operand type: LIST`).
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

/// Checks an update expression: functions and operand types per clause, then that no two
/// document paths overlap or conflict.
pub fn validate_update(update: &Update) -> Result<(), ExprError> {
    let kind = ExpressionKind::Update;
    for (_, value) in &update.set {
        set_value(value)?;
    }
    for (clause, actions) in [("ADD", &update.add), ("DELETE", &update.delete)] {
        for (_, value) in actions {
            match value {
                Operand::Value(_) => {}
                Operand::Literal(value) => {
                    let allowed = match value {
                        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => {
                            true
                        }
                        AttributeValue::N(_) => clause == "ADD",
                        _ => false,
                    };
                    if !allowed {
                        return Err(ExprError::invalid(
                            kind,
                            format_args!(
                                "Incorrect operand type for operator or function; operator: \
                                 {clause}, operand type: {}",
                                long_type_name(value)
                            ),
                        ));
                    }
                }
                // The grammar admits only a `:value` here; a hand-built tree may not.
                Operand::Function(function) => {
                    return Err(ExprError::invalid(
                        kind,
                        format_args!(
                            "The function is not allowed in an update expression; function: {}",
                            function.name
                        ),
                    ))
                }
                Operand::Path(_) | Operand::Arithmetic(..) => {
                    return Err(ExprError::invalid(
                        kind,
                        format_args!(
                            "Incorrect operand type for operator or function; operator: \
                             {clause}, operand type: PATH"
                        ),
                    ))
                }
            }
        }
    }
    let paths = update
        .set
        .iter()
        .map(|(path, _)| path)
        .chain(&update.remove)
        .chain(update.add.iter().map(|(path, _)| path))
        .chain(update.delete.iter().map(|(path, _)| path));
    check_paths(paths, kind)
}

/// The value of a `SET` action: an operand, an update function, or arithmetic.
fn set_value(operand: &Operand) -> Result<(), ExprError> {
    let kind = ExpressionKind::Update;
    match operand {
        Operand::Path(_) | Operand::Value(_) | Operand::Literal(_) => Ok(()),
        Operand::Function(function) => {
            let name = function.name.as_str();
            let Some((role, arity)) = function_info(name) else {
                return Err(invalid_function(kind, name));
            };
            if role != FunctionRole::Update {
                return Err(ExprError::invalid(
                    kind,
                    format_args!(
                        "The function is not allowed in an update expression; function: {name}"
                    ),
                ));
            }
            if function.args.len() != arity {
                return Err(operand_count(kind, name, function.args.len()));
            }
            function.args.iter().try_for_each(set_value)?;
            match name {
                "if_not_exists" => {
                    if !matches!(function.args[0], Operand::Path(_)) {
                        return Err(requires_path(kind, name));
                    }
                }
                _ => {
                    // list_append: no list_append inside it (if_not_exists may be), and
                    // literal operands must be lists.
                    if function.args.iter().any(
                        |arg| matches!(arg, Operand::Function(inner) if inner.name == "list_append"),
                    ) {
                        return Err(ExprError::invalid(
                            kind,
                            format_args!(
                                "The function is not allowed to be used this way in an \
                                 expression; function: {name}"
                            ),
                        ));
                    }
                    for arg in &function.args {
                        if let Operand::Literal(value) = arg {
                            if !matches!(value, AttributeValue::L(_)) {
                                return Err(operand_type(kind, name, value.type_name()));
                            }
                        }
                    }
                }
            }
            Ok(())
        }
        Operand::Arithmetic(left, _, right) => {
            for side in [left, right] {
                set_value(side)?;
                if let Operand::Literal(value) = &**side {
                    if !matches!(value, AttributeValue::N(_)) {
                        // The same text DynamoDB gives when an item's attribute turns out
                        // not to be a number at evaluation.
                        return Err(ExprError::message_only(
                            "An operand in the update expression has an incorrect data type",
                        ));
                    }
                }
            }
            Ok(())
        }
    }
}

/// Checks a projection expression: no two paths may overlap or conflict.
pub fn validate_projection(projection: &Projection) -> Result<(), ExprError> {
    check_paths(projection.0.iter(), ExpressionKind::Projection)
}

/// How two document paths relate.
#[derive(Debug, PartialEq, Eq)]
enum Clash {
    /// One is a prefix of the other (or they are equal): `a` and `a.b`, `a[1]` and `a[1]`.
    Overlap,
    /// They agree up to a step where one indexes a list and the other names a map member:
    /// `a[1]` and `a.b` (`a` cannot be both).
    Conflict,
}

fn same_name(a: &Name, b: &Name) -> bool {
    match (a, b) {
        (Name::Literal(a), Name::Literal(b)) | (Name::Placeholder(a), Name::Placeholder(b)) => {
            a == b
        }
        _ => false,
    }
}

fn clash(a: &Path, b: &Path) -> Option<Clash> {
    for (x, y) in a.0.iter().zip(&b.0) {
        match (x, y) {
            (PathElement::Attribute(x), PathElement::Attribute(y)) => {
                if !same_name(x, y) {
                    return None;
                }
            }
            (PathElement::Index(x), PathElement::Index(y)) => {
                if x != y {
                    return None;
                }
            }
            _ => return Some(Clash::Conflict),
        }
    }
    Some(Clash::Overlap)
}

/// A path as DynamoDB's messages write it: `[a, b, [2]]`.
struct MessagePath<'a>(&'a Path);

impl std::fmt::Display for MessagePath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[")?;
        for (i, element) in self.0 .0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match element {
                PathElement::Attribute(name) => write!(f, "{name}")?,
                PathElement::Index(index) => write!(f, "[{index}]")?,
            }
        }
        f.write_str("]")
    }
}

/// Checks every path against every earlier one; "path one" is the earlier path.
fn check_paths<'p>(
    paths: impl Iterator<Item = &'p Path>,
    kind: ExpressionKind,
) -> Result<(), ExprError> {
    let paths: Vec<&Path> = paths.collect();
    for (j, later) in paths.iter().enumerate() {
        for earlier in &paths[..j] {
            let Some(clash) = clash(earlier, later) else {
                continue;
            };
            let verb = match clash {
                Clash::Overlap => "overlap",
                Clash::Conflict => "conflict",
            };
            return Err(ExprError::invalid(
                kind,
                format_args!(
                    "Two document paths {verb} with each other; must remove or rewrite one of \
                     these paths; path one: {}, path two: {}",
                    MessagePath(earlier),
                    MessagePath(later)
                ),
            ));
        }
    }
    Ok(())
}

/// A Query's key condition, reduced to what the engine needs.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyCondition {
    /// The partition key value (the condition on it is always `=`).
    pub partition: AttributeValue,
    pub sort: Option<SortKeyCondition>,
}

/// The condition on the sort key.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKeyCondition {
    /// `sk <op> :v`; never [`Comparator::Ne`]. A condition written `:v <op> sk` is stored
    /// with the comparator mirrored (`:v < sk` → `Gt`).
    Compare(Comparator, AttributeValue),
    /// `sk BETWEEN :low AND :high`.
    Between(AttributeValue, AttributeValue),
    /// `begins_with(sk, :prefix)`.
    BeginsWith(AttributeValue),
}

impl KeyCondition {
    /// The key condition this reduced form stands for, on the named key attributes:
    /// `pk = :v`, `AND` the sort key condition if there is one (with a sort key name). Front
    /// ends that plan key conditions themselves (and tests) build Query requests with it;
    /// [`key_condition`] of the result gives this form back.
    pub fn to_condition(&self, partition_key: &str, sort_key: Option<&str>) -> Condition {
        let path = |name: &str| {
            Operand::Path(Path(vec![PathElement::Attribute(Name::Literal(
                name.to_string(),
            ))]))
        };
        let literal = |v: &AttributeValue| Operand::Literal(v.clone());
        let partition = Condition::Compare(
            path(partition_key),
            Comparator::Eq,
            literal(&self.partition),
        );
        let (Some(sort), Some(name)) = (&self.sort, sort_key) else {
            return partition;
        };
        let sort = match sort {
            SortKeyCondition::Compare(op, v) => Condition::Compare(path(name), *op, literal(v)),
            SortKeyCondition::Between(low, high) => {
                Condition::Between(path(name), literal(low), literal(high))
            }
            SortKeyCondition::BeginsWith(prefix) => Condition::Function(FunctionCall {
                name: "begins_with".to_string(),
                args: vec![path(name), literal(prefix)],
            }),
        };
        Condition::And(Box::new(partition), Box::new(sort))
    }
}

fn operator_not_allowed(operator: impl std::fmt::Display) -> ExprError {
    ExprError::message_only(format!(
        "Invalid operator used in KeyConditionExpression: {operator}"
    ))
}

fn not_supported() -> ExprError {
    ExprError::message_only("Query key condition not supported")
}

/// The single top-level attribute a key condition operand names, if it is one.
fn key_attribute(operand: &Operand) -> Option<&str> {
    match operand {
        Operand::Path(Path(elements)) => match elements.as_slice() {
            [PathElement::Attribute(Name::Literal(name))] => Some(name),
            _ => None,
        },
        _ => None,
    }
}

fn literal(operand: &Operand) -> Option<&AttributeValue> {
    match operand {
        Operand::Literal(value) => Some(value),
        _ => None,
    }
}

fn mirror(comparator: Comparator) -> Comparator {
    match comparator {
        Comparator::Lt => Comparator::Gt,
        Comparator::Le => Comparator::Ge,
        Comparator::Gt => Comparator::Lt,
        Comparator::Ge => Comparator::Le,
        other => other,
    }
}

/// Flattens the AND tree of a key condition into its leaves, rejecting OR and NOT.
fn key_leaves<'c>(
    condition: &'c Condition,
    leaves: &mut Vec<&'c Condition>,
) -> Result<(), ExprError> {
    match condition {
        Condition::And(left, right) => {
            key_leaves(left, leaves)?;
            key_leaves(right, leaves)
        }
        Condition::Or(..) => Err(operator_not_allowed("OR")),
        Condition::Not(..) => Err(operator_not_allowed("NOT")),
        leaf => {
            leaves.push(leaf);
            Ok(())
        }
    }
}

/// One leaf as (attribute, condition): the partition key accepts only `=`.
enum KeyLeaf<'c> {
    Compare(&'c str, Comparator, &'c AttributeValue),
    Between(&'c str, &'c AttributeValue, &'c AttributeValue),
    BeginsWith(&'c str, &'c AttributeValue),
}

fn key_leaf(leaf: &Condition) -> Result<KeyLeaf<'_>, ExprError> {
    match leaf {
        Condition::Compare(left, comparator, right) => {
            if *comparator == Comparator::Ne {
                return Err(operator_not_allowed(comparator));
            }
            if let (Some(name), Some(value)) = (key_attribute(left), literal(right)) {
                return Ok(KeyLeaf::Compare(name, *comparator, value));
            }
            if let (Some(value), Some(name)) = (literal(left), key_attribute(right)) {
                return Ok(KeyLeaf::Compare(name, mirror(*comparator), value));
            }
            Err(not_supported())
        }
        Condition::Between(operand, low, high) => {
            match (key_attribute(operand), literal(low), literal(high)) {
                (Some(name), Some(low), Some(high)) => Ok(KeyLeaf::Between(name, low, high)),
                _ => Err(not_supported()),
            }
        }
        Condition::In(..) => Err(operator_not_allowed("IN")),
        Condition::Function(function) => {
            if function.name != "begins_with" {
                return Err(operator_not_allowed(&function.name));
            }
            match function.args.as_slice() {
                [path, value] => match (key_attribute(path), literal(value)) {
                    (Some(name), Some(value)) => Ok(KeyLeaf::BeginsWith(name, value)),
                    _ => Err(not_supported()),
                },
                args => Err(operand_count(
                    ExpressionKind::KeyCondition,
                    "begins_with",
                    args.len(),
                )),
            }
        }
        Condition::And(..) | Condition::Or(..) | Condition::Not(..) => Err(not_supported()),
    }
}

/// Reduces a resolved key-condition expression to a [`KeyCondition`] for a table (or index)
/// whose key is `partition_key` and optionally `sort_key`.
///
/// Rules, in order: no `OR`, `NOT`, `IN`, `<>` or function other than `begins_with`
/// (`Invalid operator used in KeyConditionExpression: OR`); one or two conditions joined by
/// `AND` (`Conditions can be of length 1 or 2 only`); each condition compares one key
/// attribute with a value (`Query key condition not supported`), at most one per key
/// (`KeyConditionExpressions must only contain one condition per key`); the partition key
/// only with `=`; the partition key present (`Query condition missed key schema element:
/// pk`). Whether each value's type matches the key's type is the engine's check.
pub fn key_condition(
    condition: &Condition,
    partition_key: &str,
    sort_key: Option<&str>,
) -> Result<KeyCondition, ExprError> {
    let sort: Vec<&str> = sort_key.into_iter().collect();
    let reduced = key_condition_components(condition, &[partition_key], &sort)?;
    let partition = reduced
        .partition
        .into_iter()
        .next()
        .ok_or_else(|| ExprError::message_only("key condition without a partition key"))?;
    Ok(KeyCondition {
        partition,
        sort: reduced.sort,
    })
}

/// A Query's key condition on a key whose partition and sort key may each have several
/// components (a multi-attribute GSI key), reduced to what the engine needs.
#[derive(Clone, Debug, PartialEq)]
pub struct CompositeKeyCondition {
    /// The value of every partition (HASH) component, in key schema order.
    pub partition: Vec<AttributeValue>,
    /// The values the first sort (RANGE) components are equal to, in key schema order:
    /// every covered component but the last one the condition names.
    pub sort_prefix: Vec<AttributeValue>,
    /// The condition on the sort component after `sort_prefix`, if the condition names one.
    pub sort: Option<SortKeyCondition>,
}

/// [`key_condition`] for a key of any number of HASH components (`partition_keys`, at
/// least one) and RANGE components (`sort_keys`), in key schema order. Beyond the rules of
/// a single-attribute key: every HASH component needs `=`; the RANGE components named form
/// a prefix of `sort_keys` (a skipped one is reported as the missing key schema element),
/// and all but the last named one use `=`. The number of conditions is at most the number
/// of components (`Conditions can be of length 1 to N only`; the single-attribute text for
/// up to two). The order of the conditions in the text does not matter.
pub fn key_condition_components(
    condition: &Condition,
    partition_keys: &[&str],
    sort_keys: &[&str],
) -> Result<CompositeKeyCondition, ExprError> {
    key_condition_shape(condition, partition_keys, sort_keys)
        .map_err(|e| refine_unsupported(e, condition, partition_keys))
}

/// DynamoDB words some unsupported key conditions more specifically (observed): a condition
/// on a nested path (inside a key attribute or any other) is `KeyConditionExpressions cannot
/// have conditions on nested attributes`, and one that never names the partition key is
/// reported as the missing key element; "not supported" remains for the other shapes.
fn refine_unsupported(
    error: ExprError,
    condition: &Condition,
    partition_keys: &[&str],
) -> ExprError {
    if error != not_supported() {
        return error;
    }
    let paths = condition.paths();
    fn first(p: &Path) -> Option<&str> {
        match p.0.first() {
            Some(PathElement::Attribute(Name::Literal(n))) => Some(n.as_str()),
            _ => None,
        }
    }
    if paths.iter().any(|p| p.0.len() > 1) {
        return ExprError::message_only(
            "KeyConditionExpressions cannot have conditions on nested attributes",
        );
    }
    let missing = partition_keys.iter().find(|key| {
        !paths
            .iter()
            .any(|p| p.0.len() == 1 && first(p) == Some(**key))
    });
    if let Some(key) = missing {
        return ExprError::message_only(format!(
            "Query condition missed key schema element: {key}"
        ));
    }
    error
}

fn one_per_key() -> ExprError {
    ExprError::message_only("KeyConditionExpressions must only contain one condition per key")
}

fn key_condition_shape(
    condition: &Condition,
    partition_keys: &[&str],
    sort_keys: &[&str],
) -> Result<CompositeKeyCondition, ExprError> {
    let mut leaves = Vec::with_capacity(2);
    key_leaves(condition, &mut leaves)?;
    let leaves = leaves
        .into_iter()
        .map(key_leaf)
        .collect::<Result<Vec<_>, _>>()?;
    let most = (partition_keys.len() + sort_keys.len()).max(2);
    if leaves.len() > most {
        return Err(ExprError::message_only(if most == 2 {
            "Conditions can be of length 1 or 2 only".to_string()
        } else {
            format!("Conditions can be of length 1 to {most} only")
        }));
    }
    let mut partition: Vec<Option<&AttributeValue>> = vec![None; partition_keys.len()];
    let mut sort: Vec<Option<SortKeyCondition>> = vec![None; sort_keys.len()];
    for leaf in leaves {
        let name = match leaf {
            KeyLeaf::Compare(name, ..)
            | KeyLeaf::Between(name, ..)
            | KeyLeaf::BeginsWith(name, _) => name,
        };
        if let Some(i) = partition_keys.iter().position(|k| *k == name) {
            if partition[i].is_some() {
                return Err(one_per_key());
            }
            let KeyLeaf::Compare(_, Comparator::Eq, value) = leaf else {
                return Err(not_supported());
            };
            partition[i] = Some(value);
        } else if let Some(i) = sort_keys.iter().position(|k| *k == name) {
            if sort[i].is_some() {
                return Err(one_per_key());
            }
            sort[i] = Some(match leaf {
                KeyLeaf::Compare(_, comparator, value) => {
                    SortKeyCondition::Compare(comparator, value.clone())
                }
                KeyLeaf::Between(_, low, high) => {
                    SortKeyCondition::Between(low.clone(), high.clone())
                }
                KeyLeaf::BeginsWith(_, prefix) => SortKeyCondition::BeginsWith(prefix.clone()),
            });
        } else {
            return Err(not_supported());
        }
    }
    let mut values = Vec::with_capacity(partition.len());
    for (key, value) in partition_keys.iter().zip(partition) {
        let Some(value) = value else {
            return Err(ExprError::message_only(format!(
                "Query condition missed key schema element: {key}"
            )));
        };
        values.push(value.clone());
    }
    // The RANGE components named must be a prefix of the key's, `=` on all but the last.
    let covered = sort.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
    let mut sort_prefix = Vec::with_capacity(covered.saturating_sub(1));
    let mut last = None;
    for (i, (key, condition)) in sort_keys.iter().zip(sort).take(covered).enumerate() {
        let Some(condition) = condition else {
            return Err(ExprError::message_only(format!(
                "Query condition missed key schema element: {key}"
            )));
        };
        if i + 1 == covered {
            last = Some(condition);
        } else {
            let SortKeyCondition::Compare(Comparator::Eq, value) = condition else {
                return Err(ExprError::message_only(format!(
                    "Query key condition not supported: every sort key attribute before the \
                     last one in the condition must be compared with =: {key}"
                )));
            };
            sort_prefix.push(value);
        }
    }
    Ok(CompositeKeyCondition {
        partition: values,
        sort_prefix,
        sort: last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_conditions_round_trip_through_their_condition_form() {
        let s = |v: &str| AttributeValue::S(v.to_string());
        for sort in [
            None,
            Some(SortKeyCondition::Compare(Comparator::Ge, s("m"))),
            Some(SortKeyCondition::Between(s("a"), s("c"))),
            Some(SortKeyCondition::BeginsWith(s("pre"))),
        ] {
            let reduced = KeyCondition {
                partition: s("p"),
                sort,
            };
            let condition = reduced.to_condition("pk", Some("sk"));
            assert_eq!(
                key_condition(&condition, "pk", Some("sk")).map_err(|e| e.to_string()),
                Ok(reduced)
            );
        }
    }
}
