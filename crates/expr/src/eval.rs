//! Evaluation of conditions (ConditionExpression, FilterExpression, KeyConditionExpression
//! and the legacy parameters converted to the same AST) against one item.
//!
//! Input: a *resolved and validated* [`Condition`] (only literal names and literal values)
//! and the item as stored, which is empty when the item does not exist. Output: `true` or
//! `false`. Placeholders and function calls that validation rejects are reported as internal
//! errors rather than guessed at.
//!
//! DynamoDB's semantics, as implemented here:
//! - Operands are a document path (absent when any step is missing), a literal value, or
//!   `size(path)`.
//! - `=` is deep equality of two present values of the same type: numbers numerically
//!   (`1 = 1.0`), strings and binaries by content, `BOOL`/`NULL` by value, lists element by
//!   element, maps entry by entry, and sets *as sets* (order-independent). Values of
//!   different types are never equal (`"6"` is not `6`).
//! - `<>` is the negation of `=`, so it is **true** when either side is absent or the types
//!   differ. (Verified: users report real DynamoDB accepts `#status <> :v` on an item
//!   without `status`, and `#a <> #b` when both are absent.)
//! - `<`, `<=`, `>`, `>=` are defined only between two present values of the same orderable
//!   type — `N` numerically, `S` and `B` by their bytes (UTF-8 for strings, which is also
//!   DynamoDB's sort-key order); anything else is false, never an error. (Users report that
//!   DynamoDB rejects a *literal* operand of another type before evaluating; that is
//!   validation's business.)
//! - `a BETWEEN lo AND hi` is `lo <= a AND a <= hi` over one orderable type (inclusive), so
//!   it is false when `lo > hi` at evaluation time. DynamoDB rejects literal bounds with
//!   `lo > hi` before evaluating (a validation error, not this module's business).
//! - `a IN (…)` is true if `a` equals any present list member.
//! - `attribute_exists(p)`, `attribute_not_exists(p)`: presence at the path (a `NULL` value
//!   is present).
//! - `attribute_type(p, t)`: the value at `p` exists and its type name is `t` (`S`, `N`, `B`,
//!   `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`). An unknown type name is false here;
//!   validation reports it.
//! - `begins_with(p, x)`: string prefix of a string, or byte prefix of a binary.
//! - `contains(p, x)`: substring of a string; byte subsequence of a binary (the legacy
//!   `CONTAINS` operator documents this; expressions share the evaluator); member of a set
//!   whose element type is `x`'s type; an element of a list deep-equal to `x`. Otherwise
//!   false.
//! - `size(p)`: a string's length in UTF-16 code units (verified: users measured
//!   `size("é𝄞") = 3` on the real service, i.e. Java's `String.length()`, not UTF-8 bytes
//!   or code points), a binary's byte count, the number of members of a set or list or of
//!   entries of a map. `size` of a number, boolean or null, or of an absent path, has no
//!   value, so any comparison with it is false (reported from the real service by users).
//! - `AND`, `OR` short-circuit left to right; `NOT` negates.
//!
//! Nothing recurses without a bound: chains of one operator (`a AND b AND c …`, parsed as a
//! deep left spine) are walked with an explicit stack, `NOT NOT …` is counted, deep-equality
//! of values uses an explicit stack, and the remaining nesting (alternating `AND`/`OR`,
//! nested function operands) is limited to [`MAX_NESTING`] levels.

use std::borrow::Cow;
use std::cmp::Ordering;

use stator_types::{AttributeValue, Item, Number};

use crate::ast::{Comparator, Condition, FunctionCall, Operand};
use crate::error::ExprError;
use crate::path;

/// The deepest nesting of alternating logical operators or of function operands this
/// evaluator follows. DynamoDB expressions are at most 4 KB, and the parser limits nesting
/// further; a hand-built tree deeper than this is an internal error.
pub const MAX_NESTING: usize = 256;

/// Evaluates `condition` against `item` (empty when the item does not exist).
pub fn evaluate(condition: &Condition, item: &Item) -> Result<bool, ExprError> {
    eval_condition(condition, item, 0)
}

/// An internal error: the tree was not resolved or not validated before evaluation.
pub(crate) fn internal(detail: impl std::fmt::Display) -> ExprError {
    ExprError::internal(detail)
}

pub(crate) fn unresolved_value(placeholder: &str) -> ExprError {
    internal(format!(
        "the expression attribute value {placeholder} was not resolved before evaluation"
    ))
}

fn too_deep() -> ExprError {
    internal(format!(
        "the expression nests more than {MAX_NESTING} levels deep"
    ))
}

fn eval_condition(condition: &Condition, item: &Item, depth: usize) -> Result<bool, ExprError> {
    if depth > MAX_NESTING {
        return Err(too_deep());
    }
    match condition {
        Condition::Compare(left, comparator, right) => {
            let left = operand(left, item, depth)?;
            let right = operand(right, item, depth)?;
            Ok(compare(left.as_deref(), *comparator, right.as_deref()))
        }
        Condition::Between(value, low, high) => {
            let value = operand(value, item, depth)?;
            let low = operand(low, item, depth)?;
            let high = operand(high, item, depth)?;
            let (Some(value), Some(low), Some(high)) = (value, low, high) else {
                return Ok(false);
            };
            Ok(
                matches!(order(&low, &value), Some(Ordering::Less | Ordering::Equal))
                    && matches!(order(&value, &high), Some(Ordering::Less | Ordering::Equal)),
            )
        }
        Condition::In(value, candidates) => {
            let Some(value) = operand(value, item, depth)? else {
                // Still report unresolved placeholders among the candidates.
                for candidate in candidates {
                    operand(candidate, item, depth)?;
                }
                return Ok(false);
            };
            for candidate in candidates {
                if let Some(candidate) = operand(candidate, item, depth)? {
                    if values_equal(&value, &candidate) {
                        return Ok(true);
                    }
                }
            }
            Ok(false)
        }
        Condition::Function(call) => eval_function(call, item, depth),
        Condition::Not(inner) => {
            // Count a chain of NOTs instead of recursing through it.
            let mut negate = true;
            let mut node: &Condition = inner;
            while let Condition::Not(next) = node {
                negate = !negate;
                node = next;
            }
            Ok(eval_condition(node, item, depth + 1)? != negate)
        }
        Condition::And(..) | Condition::Or(..) => eval_junction(condition, item, depth),
    }
}

/// Evaluates a maximal run of one logical operator (`a AND b AND c`, however parenthesised)
/// left to right with short-circuiting, using an explicit stack for the run itself.
fn eval_junction(condition: &Condition, item: &Item, depth: usize) -> Result<bool, ExprError> {
    let is_and = matches!(condition, Condition::And(..));
    let same = |c: &Condition| {
        matches!(c, Condition::And(..)) == is_and
            && matches!(c, Condition::And(..) | Condition::Or(..))
    };
    // The common `x AND y` (or `x OR y`) of two simple conditions needs no stack.
    if let Condition::And(left, right) | Condition::Or(left, right) = condition {
        if !same(left) && !same(right) {
            let first = eval_condition(left, item, depth + 1)?;
            if first != is_and {
                return Ok(first);
            }
            return eval_condition(right, item, depth + 1);
        }
    }
    let mut pending: Vec<&Condition> = vec![condition];
    while let Some(node) = pending.pop() {
        match node {
            Condition::And(left, right) if is_and => {
                pending.push(right);
                pending.push(left);
            }
            Condition::Or(left, right) if !is_and => {
                pending.push(right);
                pending.push(left);
            }
            leaf => {
                let value = eval_condition(leaf, item, depth + 1)?;
                if value != is_and {
                    // false in an AND, true in an OR decides the whole run.
                    return Ok(value);
                }
            }
        }
    }
    Ok(is_and)
}

/// The value of an operand in a condition: `None` when a path is absent or `size` has no
/// value.
fn operand<'a>(
    operand: &'a Operand,
    item: &'a Item,
    depth: usize,
) -> Result<Option<Cow<'a, AttributeValue>>, ExprError> {
    if depth > MAX_NESTING {
        return Err(too_deep());
    }
    match operand {
        Operand::Path(path) => Ok(path::get(item, path)?.map(Cow::Borrowed)),
        Operand::Literal(value) => Ok(Some(Cow::Borrowed(value))),
        Operand::Value(placeholder) => Err(unresolved_value(placeholder)),
        Operand::Function(call) if call.name == "size" => {
            let [argument] = call.args.as_slice() else {
                return Err(wrong_arguments(call));
            };
            let value = self::operand(argument, item, depth + 1)?;
            Ok(value
                .and_then(|value| size(&value))
                .map(|size| Cow::Owned(AttributeValue::N(size))))
        }
        Operand::Function(call) => Err(internal(format!(
            "the function {} cannot be evaluated in a condition",
            call.name
        ))),
        Operand::Arithmetic(..) => Err(internal("arithmetic cannot be evaluated in a condition")),
    }
}

fn wrong_arguments(call: &FunctionCall) -> ExprError {
    internal(format!(
        "the function {} was called with {} arguments",
        call.name,
        call.args.len()
    ))
}

/// DynamoDB's `size`: see the module documentation.
pub fn size(value: &AttributeValue) -> Option<Number> {
    let count = match value {
        // Java's String.length(): UTF-16 code units.
        AttributeValue::S(text) => text.chars().map(char::len_utf16).sum(),
        AttributeValue::B(bytes) => bytes.len(),
        AttributeValue::M(map) => map.len(),
        AttributeValue::L(list) => list.len(),
        AttributeValue::Ss(set) => set.len(),
        AttributeValue::Ns(set) => set.len(),
        AttributeValue::Bs(set) => set.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    };
    Some(Number::from(i64::try_from(count).unwrap_or(i64::MAX)))
}

fn compare(
    left: Option<&AttributeValue>,
    comparator: Comparator,
    right: Option<&AttributeValue>,
) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        // An absent operand equals nothing, so only `<>` holds.
        return comparator == Comparator::Ne;
    };
    match comparator {
        Comparator::Eq => values_equal(left, right),
        Comparator::Ne => !values_equal(left, right),
        Comparator::Lt => order(left, right) == Some(Ordering::Less),
        Comparator::Le => matches!(order(left, right), Some(Ordering::Less | Ordering::Equal)),
        Comparator::Gt => order(left, right) == Some(Ordering::Greater),
        Comparator::Ge => matches!(
            order(left, right),
            Some(Ordering::Greater | Ordering::Equal)
        ),
    }
}

/// The order of two values of the same orderable type (`N`, `S`, `B`), or `None`.
pub fn order(left: &AttributeValue, right: &AttributeValue) -> Option<Ordering> {
    match (left, right) {
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// DynamoDB's equality of two values: same type and same content, with sets compared as
/// sets (order-independent) at any depth. Iterative, so any nesting depth is safe.
pub fn values_equal(left: &AttributeValue, right: &AttributeValue) -> bool {
    let mut pending: Vec<(&AttributeValue, &AttributeValue)> = Vec::new();
    let (mut a, mut b) = (left, right);
    loop {
        let equal = match (a, b) {
            (AttributeValue::S(x), AttributeValue::S(y)) => x == y,
            (AttributeValue::N(x), AttributeValue::N(y)) => x == y,
            (AttributeValue::B(x), AttributeValue::B(y)) => x == y,
            (AttributeValue::Bool(x), AttributeValue::Bool(y)) => x == y,
            (AttributeValue::Null, AttributeValue::Null) => true,
            (AttributeValue::Ss(x), AttributeValue::Ss(y)) => sets_equal(x, y),
            (AttributeValue::Ns(x), AttributeValue::Ns(y)) => sets_equal(x, y),
            (AttributeValue::Bs(x), AttributeValue::Bs(y)) => sets_equal(x, y),
            (AttributeValue::L(x), AttributeValue::L(y)) => {
                x.len() == y.len() && {
                    pending.extend(x.iter().zip(y));
                    true
                }
            }
            (AttributeValue::M(x), AttributeValue::M(y)) => {
                // Both maps iterate in key order, so equal maps pair up entry by entry.
                x.len() == y.len()
                    && x.iter().zip(y).all(|((kx, vx), (ky, vy))| {
                        pending.push((vx, vy));
                        kx == ky
                    })
            }
            _ => false,
        };
        if !equal {
            return false;
        }
        match pending.pop() {
            Some((x, y)) => (a, b) = (x, y),
            None => return true,
        }
    }
}

/// Set equality of two duplicate-free member lists, ignoring order.
fn sets_equal<T: Ord>(x: &[T], y: &[T]) -> bool {
    if x.len() != y.len() {
        return false;
    }
    if x == y {
        return true;
    }
    if x.len() <= 8 {
        return x.iter().all(|member| y.contains(member)) && y.iter().all(|m| x.contains(m));
    }
    let mut x: Vec<&T> = x.iter().collect();
    let mut y: Vec<&T> = y.iter().collect();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

/// The valid names for `attribute_type`.
pub const TYPE_NAMES: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

fn eval_function(call: &FunctionCall, item: &Item, depth: usize) -> Result<bool, ExprError> {
    let args = call.args.as_slice();
    match (call.name.as_str(), args) {
        ("attribute_exists", [Operand::Path(path)]) => Ok(path::get(item, path)?.is_some()),
        ("attribute_not_exists", [Operand::Path(path)]) => Ok(path::get(item, path)?.is_none()),
        ("attribute_type", [value, type_name]) => {
            let value = operand(value, item, depth)?;
            let type_name = operand(type_name, item, depth)?;
            Ok(match (value, type_name.as_deref()) {
                (Some(value), Some(AttributeValue::S(name))) => value.type_name() == name,
                _ => false,
            })
        }
        ("begins_with", [value, prefix]) => {
            let value = operand(value, item, depth)?;
            let prefix = operand(prefix, item, depth)?;
            Ok(match (value.as_deref(), prefix.as_deref()) {
                (Some(AttributeValue::S(v)), Some(AttributeValue::S(p))) => {
                    v.starts_with(p.as_str())
                }
                (Some(AttributeValue::B(v)), Some(AttributeValue::B(p))) => v.starts_with(p),
                _ => false,
            })
        }
        ("contains", [haystack, needle]) => {
            let haystack = operand(haystack, item, depth)?;
            let needle = operand(needle, item, depth)?;
            let (Some(haystack), Some(needle)) = (haystack, needle) else {
                return Ok(false);
            };
            Ok(contains(&haystack, &needle))
        }
        ("attribute_exists" | "attribute_not_exists", [other]) => {
            // A value placeholder is the more useful report if there is one.
            operand(other, item, depth)?;
            Err(internal(format!(
                "the function {} needs a document path",
                call.name
            )))
        }
        (
            "attribute_exists"
            | "attribute_not_exists"
            | "attribute_type"
            | "begins_with"
            | "contains",
            _,
        ) => Err(wrong_arguments(call)),
        (name, _) => Err(internal(format!(
            "the function {name} cannot be evaluated as a condition"
        ))),
    }
}

/// DynamoDB's `contains`: see the module documentation.
pub fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    match (haystack, needle) {
        (AttributeValue::S(text), AttributeValue::S(part)) => text.contains(part.as_str()),
        (AttributeValue::B(bytes), AttributeValue::B(part)) => {
            part.is_empty()
                || bytes
                    .windows(part.len())
                    .any(|window| window == part.as_slice())
        }
        (AttributeValue::Ss(set), AttributeValue::S(member)) => set.contains(member),
        (AttributeValue::Ns(set), AttributeValue::N(member)) => set.contains(member),
        (AttributeValue::Bs(set), AttributeValue::B(member)) => set.contains(member),
        (AttributeValue::L(list), element) => list.iter().any(|e| values_equal(e, element)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ast::{Name, Path, PathElement};
    use crate::path::test_support::p;

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(v).unwrap())
    }
    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }
    fn b(v: &[u8]) -> AttributeValue {
        AttributeValue::B(v.to_vec())
    }
    fn ss(v: &[&str]) -> AttributeValue {
        AttributeValue::Ss(v.iter().map(|x| (*x).to_owned()).collect())
    }
    fn ns(v: &[&str]) -> AttributeValue {
        AttributeValue::Ns(v.iter().map(|x| Number::parse(x).unwrap()).collect())
    }
    fn path(text: &str) -> Operand {
        Operand::Path(p(text))
    }
    fn lit(v: AttributeValue) -> Operand {
        Operand::Literal(v)
    }
    fn cmp(a: Operand, c: Comparator, b: Operand) -> Condition {
        Condition::Compare(a, c, b)
    }
    fn call(name: &str, args: Vec<Operand>) -> FunctionCall {
        FunctionCall {
            name: name.to_owned(),
            args,
        }
    }
    fn func(name: &str, args: Vec<Operand>) -> Condition {
        Condition::Function(call(name, args))
    }
    fn size_of(text: &str) -> Operand {
        Operand::Function(call("size", vec![path(text)]))
    }

    fn item() -> Item {
        let mut map = Item::new();
        map.insert("x".into(), n("1"));
        map.insert("set".into(), ns(["3", "1", "2"].as_slice()));
        let mut item = Item::new();
        item.insert("n".into(), n("10"));
        item.insert("s".into(), s("hello"));
        item.insert("b".into(), b(&[1, 2, 3]));
        item.insert("t".into(), AttributeValue::Bool(true));
        item.insert("z".into(), AttributeValue::Null);
        item.insert("m".into(), AttributeValue::M(map));
        item.insert(
            "l".into(),
            AttributeValue::L(vec![n("1"), s("two"), ss(&["a", "b"])]),
        );
        item.insert("ss".into(), ss(&["a", "b", "c"]));
        item.insert("ns".into(), ns(&["1", "2"]));
        item.insert("bs".into(), AttributeValue::Bs(vec![vec![1], vec![2]]));
        item.insert("u".into(), s("é𝄞"));
        item
    }

    fn eval(condition: &Condition) -> bool {
        evaluate(condition, &item()).unwrap()
    }

    #[test]
    fn equality_is_numeric_and_typed() {
        assert!(eval(&cmp(path("n"), Comparator::Eq, lit(n("10.0")))));
        assert!(eval(&cmp(path("n"), Comparator::Eq, lit(n("1e1")))));
        assert!(!eval(&cmp(path("n"), Comparator::Eq, lit(s("10")))));
        assert!(eval(&cmp(path("n"), Comparator::Ne, lit(s("10")))));
        assert!(eval(&cmp(
            path("z"),
            Comparator::Eq,
            lit(AttributeValue::Null)
        )));
        assert!(eval(&cmp(
            path("t"),
            Comparator::Ne,
            lit(AttributeValue::Bool(false))
        )));
    }

    #[test]
    fn sets_compare_as_sets_at_any_depth() {
        assert!(eval(&cmp(
            path("ss"),
            Comparator::Eq,
            lit(ss(&["c", "a", "b"]))
        )));
        assert!(!eval(&cmp(
            path("ss"),
            Comparator::Eq,
            lit(ss(&["c", "a"]))
        )));
        assert!(!eval(&cmp(
            path("ss"),
            Comparator::Eq,
            lit(ss(&["c", "a", "d"]))
        )));
        let mut map = Item::new();
        map.insert("set".into(), ns(&["2", "3", "1.0"]));
        map.insert("x".into(), n("1"));
        assert!(eval(&cmp(
            path("m"),
            Comparator::Eq,
            lit(AttributeValue::M(map.clone()))
        )));
        map.insert("y".into(), n("1"));
        assert!(!eval(&cmp(
            path("m"),
            Comparator::Eq,
            lit(AttributeValue::M(map))
        )));
        // Large sets take the sorting path.
        let many: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        let reversed: Vec<String> = many.iter().rev().cloned().collect();
        assert!(values_equal(
            &AttributeValue::Ss(many.clone()),
            &AttributeValue::Ss(reversed)
        ));
        let mut other = many.clone();
        other[3] = "x".into();
        assert!(!values_equal(
            &AttributeValue::Ss(many),
            &AttributeValue::Ss(other)
        ));
    }

    #[test]
    fn lists_compare_in_order() {
        let same = AttributeValue::L(vec![n("1"), s("two"), ss(&["b", "a"])]);
        assert!(eval(&cmp(path("l"), Comparator::Eq, lit(same))));
        let reordered = AttributeValue::L(vec![s("two"), n("1"), ss(&["b", "a"])]);
        assert!(!eval(&cmp(path("l"), Comparator::Eq, lit(reordered))));
    }

    #[test]
    fn missing_operands() {
        for c in [
            Comparator::Eq,
            Comparator::Lt,
            Comparator::Le,
            Comparator::Gt,
            Comparator::Ge,
        ] {
            assert!(!eval(&cmp(path("nope"), c, lit(n("1")))), "{c:?}");
            assert!(!eval(&cmp(lit(n("1")), c, path("nope"))), "{c:?}");
            assert!(!eval(&cmp(path("nope"), c, path("nada"))), "{c:?}");
        }
        assert!(eval(&cmp(path("nope"), Comparator::Ne, lit(n("1")))));
        assert!(eval(&cmp(path("nope"), Comparator::Ne, path("nada"))));
        assert!(evaluate(&cmp(path("a"), Comparator::Ne, lit(n("1"))), &Item::new()).unwrap());
    }

    #[test]
    fn ordering() {
        assert!(eval(&cmp(path("n"), Comparator::Gt, lit(n("9.99")))));
        assert!(eval(&cmp(path("n"), Comparator::Le, lit(n("10")))));
        assert!(eval(&cmp(path("n"), Comparator::Lt, lit(n("100")))));
        assert!(eval(&cmp(path("n"), Comparator::Ge, lit(n("-100")))));
        assert!(eval(&cmp(path("s"), Comparator::Lt, lit(s("hellp")))));
        assert!(eval(&cmp(path("s"), Comparator::Gt, lit(s("Hello")))));
        assert!(eval(&cmp(path("b"), Comparator::Lt, lit(b(&[1, 3])))));
        // Mixed types and unorderable types are false in both directions.
        assert!(!eval(&cmp(path("n"), Comparator::Lt, lit(s("z")))));
        assert!(!eval(&cmp(path("n"), Comparator::Ge, lit(s("z")))));
        assert!(!eval(&cmp(path("t"), Comparator::Ge, path("t"))));
        assert!(!eval(&cmp(path("l"), Comparator::Le, path("l"))));
        // String order is by UTF-8 bytes: U+FFFD sorts before U+1F600 in UTF-8 (but not in
        // UTF-16).
        assert!(order(&s("\u{fffd}"), &s("\u{1f600}")) == Some(Ordering::Less));
    }

    #[test]
    fn between_and_in() {
        let between = |lo: AttributeValue, hi: AttributeValue| {
            eval(&Condition::Between(path("n"), lit(lo), lit(hi)))
        };
        assert!(between(n("10"), n("10")));
        assert!(between(n("1"), n("11")));
        assert!(!between(n("11"), n("1")));
        assert!(!between(n("1"), s("z")));
        assert!(!between(s("a"), s("z")));
        assert!(!eval(&Condition::Between(
            path("nope"),
            lit(n("1")),
            lit(n("2"))
        )));
        let within = |values: Vec<AttributeValue>| {
            eval(&Condition::In(
                path("s"),
                values.into_iter().map(lit).collect(),
            ))
        };
        assert!(within(vec![n("1"), s("hello")]));
        assert!(!within(vec![n("1"), s("hell")]));
        assert!(eval(&Condition::In(
            path("n"),
            vec![path("nope"), lit(n("10"))]
        )));
        assert!(!eval(&Condition::In(path("nope"), vec![path("nada")])));
    }

    #[test]
    fn existence_and_type() {
        assert!(eval(&func("attribute_exists", vec![path("m.x")])));
        assert!(eval(&func("attribute_exists", vec![path("z")])));
        assert!(!eval(&func("attribute_exists", vec![path("m.y")])));
        assert!(eval(&func("attribute_not_exists", vec![path("l[3]")])));
        assert!(!eval(&func("attribute_not_exists", vec![path("l[2]")])));
        for (attribute, type_name) in [
            ("n", "N"),
            ("s", "S"),
            ("b", "B"),
            ("t", "BOOL"),
            ("z", "NULL"),
            ("m", "M"),
            ("l", "L"),
            ("ss", "SS"),
            ("ns", "NS"),
            ("bs", "BS"),
        ] {
            for other in TYPE_NAMES {
                let expected = other == type_name;
                let c = func("attribute_type", vec![path(attribute), lit(s(other))]);
                assert_eq!(eval(&c), expected, "{attribute} {other}");
            }
        }
        assert!(!eval(&func(
            "attribute_type",
            vec![path("nope"), lit(s("S"))]
        )));
        assert!(!eval(&func(
            "attribute_type",
            vec![path("s"), lit(s("STRING"))]
        )));
    }

    #[test]
    fn begins_with_and_contains() {
        assert!(eval(&func("begins_with", vec![path("s"), lit(s("he"))])));
        assert!(eval(&func("begins_with", vec![path("s"), lit(s(""))])));
        assert!(!eval(&func("begins_with", vec![path("s"), lit(s("lo"))])));
        assert!(eval(&func("begins_with", vec![path("b"), lit(b(&[1, 2]))])));
        assert!(!eval(&func("begins_with", vec![path("b"), lit(s("a"))])));
        assert!(!eval(&func("begins_with", vec![path("n"), lit(n("1"))])));
        assert!(!eval(&func("begins_with", vec![path("ss"), lit(s("a"))])));

        assert!(eval(&func("contains", vec![path("s"), lit(s("ell"))])));
        assert!(!eval(&func("contains", vec![path("s"), lit(s("xyz"))])));
        assert!(eval(&func("contains", vec![path("b"), lit(b(&[2, 3]))])));
        assert!(!eval(&func("contains", vec![path("b"), lit(b(&[3, 2]))])));
        assert!(eval(&func("contains", vec![path("ss"), lit(s("b"))])));
        assert!(!eval(&func("contains", vec![path("ss"), lit(s("bc"))])));
        assert!(eval(&func("contains", vec![path("ns"), lit(n("2.0"))])));
        assert!(!eval(&func("contains", vec![path("ns"), lit(s("2"))])));
        assert!(eval(&func("contains", vec![path("bs"), lit(b(&[2]))])));
        assert!(eval(&func("contains", vec![path("l"), lit(s("two"))])));
        assert!(eval(&func(
            "contains",
            vec![path("l"), lit(ss(&["b", "a"]))]
        )));
        assert!(!eval(&func("contains", vec![path("l"), lit(s("tw"))])));
        assert!(!eval(&func("contains", vec![path("ss"), lit(ss(&["a"]))])));
        assert!(!eval(&func("contains", vec![path("n"), lit(n("1"))])));
        assert!(!eval(&func("contains", vec![path("m"), lit(s("x"))])));
        assert!(!eval(&func("contains", vec![path("nope"), lit(s("x"))])));
    }

    #[test]
    fn size_counts_utf16_units_bytes_and_members() {
        let is = |text: &str, expected: &str| {
            eval(&cmp(size_of(text), Comparator::Eq, lit(n(expected))))
        };
        assert!(is("s", "5"));
        assert!(is("u", "3"));
        assert!(is("b", "3"));
        assert!(is("m", "2"));
        assert!(is("l", "3"));
        assert!(is("ss", "3"));
        assert!(is("ns", "2"));
        assert!(is("bs", "2"));
        assert!(is("m.set", "3"));
        // No value: every comparison is false, `<>` true.
        for text in ["n", "t", "z", "nope"] {
            assert!(
                !eval(&cmp(size_of(text), Comparator::Ge, lit(n("0")))),
                "{text}"
            );
            assert!(
                eval(&cmp(size_of(text), Comparator::Ne, lit(n("0")))),
                "{text}"
            );
        }
    }

    #[test]
    fn logic_short_circuits_and_handles_long_chains() {
        let yes = || func("attribute_exists", vec![path("n")]);
        let no = || func("attribute_exists", vec![path("nope")]);
        let broken = || cmp(Operand::Value(":v".into()), Comparator::Eq, lit(n("1")));
        assert!(eval(&Condition::Or(Box::new(yes()), Box::new(broken()))));
        assert!(!eval(&Condition::And(Box::new(no()), Box::new(broken()))));
        assert!(evaluate(
            &Condition::And(Box::new(yes()), Box::new(broken())),
            &item()
        )
        .is_err());
        assert!(eval(&Condition::Not(Box::new(no()))));
        assert!(!eval(&Condition::Not(Box::new(Condition::Not(Box::new(
            no()
        ))))));

        // A 100 000-term chain of ANDs (left-deep, as parsed) and of NOTs.
        let mut chain = yes();
        for _ in 0..100_000 {
            chain = Condition::And(Box::new(chain), Box::new(yes()));
        }
        assert!(eval(&chain));
        let mut nots = yes();
        for _ in 0..100_001 {
            nots = Condition::Not(Box::new(nots));
        }
        assert!(!eval(&nots));
        // Deep alternation is bounded, not a stack overflow.
        let mut alternating = yes();
        for i in 0..10_000 {
            alternating = if i % 2 == 0 {
                Condition::And(Box::new(alternating), Box::new(yes()))
            } else {
                Condition::Or(Box::new(no()), Box::new(alternating))
            };
        }
        assert!(evaluate(&alternating, &item()).is_err());
        // Drop deep trees without overflowing the test thread's stack.
        for tree in [chain, nots, alternating] {
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn(move || drop(tree))
                .unwrap()
                .join()
                .unwrap();
        }
    }

    #[test]
    fn unresolved_or_invalid_trees_are_internal_errors() {
        let placeholder_path = Operand::Path(Path(vec![PathElement::Attribute(
            Name::Placeholder("#a".into()),
        )]));
        let cases = [
            cmp(placeholder_path, Comparator::Eq, lit(n("1"))),
            cmp(path("n"), Comparator::Eq, Operand::Value(":v".into())),
            func("nope", vec![path("n")]),
            func("size", vec![path("n")]),
            func("attribute_exists", vec![lit(n("1"))]),
            func("contains", vec![path("n")]),
            cmp(
                Operand::Function(call("if_not_exists", vec![path("n"), lit(n("1"))])),
                Comparator::Eq,
                lit(n("1")),
            ),
            cmp(
                Operand::Arithmetic(
                    Box::new(path("n")),
                    crate::ast::ArithmeticOp::Plus,
                    Box::new(lit(n("1"))),
                ),
                Comparator::Eq,
                lit(n("1")),
            ),
        ];
        for case in cases {
            let error = evaluate(&case, &item()).unwrap_err();
            assert!(error.message().starts_with("Internal error: "), "{case:?}");
            assert!(error.is_internal(), "{case:?}");
        }
    }

    #[test]
    fn deep_values_compare_without_recursion() {
        let mut a = n("1");
        let mut b = n("1");
        for _ in 0..100_000 {
            a = AttributeValue::L(vec![a]);
            b = AttributeValue::L(vec![b]);
        }
        assert!(values_equal(&a, &b));
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || drop((a, b)))
            .unwrap()
            .join()
            .unwrap();
    }
}
