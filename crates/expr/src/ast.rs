//! The abstract syntax tree shared by every expression kind.
//!
//! One tree serves condition, filter, key-condition, projection and update expressions, and
//! the legacy parameters (`Expected`, `AttributeUpdates`, `KeyConditions`, …) are converted
//! into it, so there is exactly one evaluator. The parser produces trees that still contain
//! placeholders (`#name`, `:value`); [`crate::resolve`] replaces them, after which a tree
//! contains only [`Name::Literal`] and [`Operand::Literal`] — the evaluator's precondition.
//!
//! The parser accepts every function in every position (`foo(a) = :v`, `size(a)` as a
//! condition, `if_not_exists` in a filter…) and keeps it as a [`FunctionCall`]; whether a
//! function is allowed where it appears is decided by validation, which is how DynamoDB can
//! report "The function is not allowed in a condition expression" rather than a syntax error.

use stator_types::AttributeValue;

/// An attribute name in a document path.
#[derive(Clone, Debug, PartialEq)]
pub enum Name {
    /// A name written directly in the expression (or a resolved placeholder).
    Literal(String),
    /// An `ExpressionAttributeNames` placeholder, including its `#`, e.g. `"#n"`.
    Placeholder(String),
}

/// One step of a document path.
#[derive(Clone, Debug, PartialEq)]
pub enum PathElement {
    /// `.name` (or the first name of the path).
    Attribute(Name),
    /// `[n]`, a list index.
    Index(u32),
}

/// A document path such as `a.b[2].#c`. Invariant: non-empty, and the first element is an
/// [`PathElement::Attribute`].
#[derive(Clone, Debug, PartialEq)]
pub struct Path(pub Vec<PathElement>);

/// Arithmetic in update `SET` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithmeticOp {
    Plus,
    Minus,
}

/// A function call as written: `name(args…)`. `name` is kept as written (DynamoDB function
/// names are case-sensitive; an unknown name is a validation error, not a parse error).
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionCall {
    pub name: String,
    pub args: Vec<Operand>,
}

/// A value-producing operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Path(Path),
    /// An `ExpressionAttributeValues` placeholder, including its `:`, e.g. `":v"`.
    Value(String),
    /// A resolved value (after resolution, or built by a legacy-parameter conversion).
    Literal(AttributeValue),
    /// `size(p)`, `if_not_exists(p, v)`, `list_append(a, b)` — and any other function
    /// written in operand position, rejected by validation.
    Function(FunctionCall),
    /// `a + b` / `a - b` (only valid as the right-hand side of an update `SET` action).
    Arithmetic(Box<Operand>, ArithmeticOp, Box<Operand>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A boolean expression (condition, filter, key condition).
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Compare(Operand, Comparator, Operand),
    /// `a BETWEEN low AND high`.
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, …)`.
    In(Operand, Vec<Operand>),
    /// A function used as a condition: `attribute_exists(p)`, `begins_with(a, b)`, …
    Function(FunctionCall),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
}

/// An update expression's four clauses, each holding its actions in the order written.
/// An absent clause is an empty list (DynamoDB allows each clause at most once).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// `SET path = value` — value may be an operand, a function, or arithmetic.
    pub set: Vec<(Path, Operand)>,
    /// `REMOVE path`.
    pub remove: Vec<Path>,
    /// `ADD path value`.
    pub add: Vec<(Path, Operand)>,
    /// `DELETE path value`.
    pub delete: Vec<(Path, Operand)>,
    /// Built from legacy `AttributeUpdates`: a type mismatch at apply time gets the legacy
    /// parameter's text instead of the expression's.
    pub legacy: bool,
}

/// A projection expression: the paths to return.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projection(pub Vec<Path>);

/// Which expression parameter an expression came from. It selects the error-message prefix
/// (`Invalid ConditionExpression: …`) and the validation rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpressionKind {
    Condition,
    Filter,
    KeyCondition,
    Projection,
    Update,
}

impl ExpressionKind {
    /// The parameter name as DynamoDB's messages spell it.
    pub fn parameter(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Projection => "ProjectionExpression",
            ExpressionKind::Update => "UpdateExpression",
        }
    }
}

impl Operand {
    /// Appends the document paths this operand reads, left to right.
    pub fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Operand::Path(path) => out.push(path),
            Operand::Function(function) => {
                function.args.iter().for_each(|arg| arg.collect_paths(out));
            }
            Operand::Arithmetic(left, _, right) => {
                left.collect_paths(out);
                right.collect_paths(out);
            }
            Operand::Value(_) | Operand::Literal(_) => {}
        }
    }
}

impl Condition {
    /// The document paths this condition reads, in the order they appear in the
    /// expression. This is the one walker over a condition's paths (filters, key
    /// conditions, projections checks, LSI fetch decisions all use it). Iterative over
    /// `AND`/`OR`/`NOT`, so a long chain cannot exhaust the stack.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        let mut pending = vec![self];
        while let Some(condition) = pending.pop() {
            match condition {
                Condition::Compare(left, _, right) => {
                    left.collect_paths(&mut out);
                    right.collect_paths(&mut out);
                }
                Condition::Between(operand, low, high) => {
                    for o in [operand, low, high] {
                        o.collect_paths(&mut out);
                    }
                }
                Condition::In(operand, list) => {
                    operand.collect_paths(&mut out);
                    list.iter().for_each(|o| o.collect_paths(&mut out));
                }
                Condition::Function(function) => {
                    function.args.iter().for_each(|o| o.collect_paths(&mut out));
                }
                // Right pushed first so that the left side is visited first.
                Condition::And(left, right) | Condition::Or(left, right) => {
                    pending.push(right);
                    pending.push(left);
                }
                Condition::Not(inner) => pending.push(inner),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_in_expression_order() {
        let condition = crate::parser::parse_condition(
            "a = b.c AND (size(d) < e[1] OR NOT contains(f, g)) AND h BETWEEN i AND j",
            ExpressionKind::Condition,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = condition.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(names, ["a", "b.c", "d", "e[1]", "f", "g", "h", "i", "j"]);
    }
}
