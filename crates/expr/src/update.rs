//! Applying an update expression (`SET`, `REMOVE`, `ADD`, `DELETE`) to an item.
//!
//! Input: a *resolved and validated* [`Update`] and the item as stored (empty when UpdateItem
//! creates it). Output: the item changed in place, and the paths the actions targeted, which
//! the engine uses for `ReturnValues` `UPDATED_OLD` / `UPDATED_NEW` by projecting the old and
//! the new item on them (see [`apply_update`]).
//!
//! It works in two phases, so that an error leaves the item untouched:
//! 1. **Plan**, reading only the original item: evaluate every right-hand side, compute every
//!    `ADD`/`DELETE` result, and check every target path. DynamoDB evaluates all operands
//!    against the item as it was before the update ("an action's right-hand operand always
//!    refers to the pre-update value of an attribute"), so `SET a = b, b = a` swaps.
//! 2. **Apply**: write the planned values in path order (so that several `SET`s appending to
//!    one list append "in order by element number", as DynamoDB documents), then remove the
//!    planned paths from the highest list positions down, so that `REMOVE a[1], a[2]` removes
//!    the original second and third elements.
//!
//! Clauses are planned in the order SET, REMOVE, ADD, DELETE and actions in the order
//! written; the first error found wins (decided: which of several failing actions DynamoDB
//! reports is not documented). Within an action the right-hand side is evaluated before
//! the target path is checked.
//!
//! DynamoDB's semantics and messages (each a whole `ValidationException` message, with no
//! `Invalid UpdateExpression:` prefix):
//! - A path operand on a right-hand side that is absent: "The provided expression refers to
//!   an attribute that does not exist in the item" — `SET a = b`, `SET a = b + :v`,
//!   `list_append(b, :v)` with `b` absent. `if_not_exists(b, :v)` is the way around it.
//! - An operand of the wrong type: "An operand in the update expression has an incorrect
//!   data type" — `+`/`-` on a non-number, `list_append` of a non-list, `ADD` to an
//!   attribute that is neither a number nor a set (or a set of another type), `DELETE` from
//!   an attribute that is not a set of the operand's type.
//! - Writing through a missing or mistyped parent: "The document path provided in the update
//!   expression is invalid for update" — `SET a.b` where `a` is absent or not a map, `SET a[0]`
//!   where `a` is not a list, and likewise for `REMOVE`, `ADD` and `DELETE` (see
//!   [`path`]). A `REMOVE` of an absent map key or an index beyond the end of a
//!   list does nothing (verified: a user-reported DynamoDB behaviour that applications rely
//!   on).
//! - Arithmetic (`+`, `-`, and `ADD` of numbers) is exact; a result out of range or with more
//!   than 38 significant digits fails with [`stator_types::NumberError::message`].
//! - `ADD` to an absent path creates it with the operand (a number or a set). `ADD` of a set
//!   to a set of the same type is a union (existing members keep their order; new members
//!   follow in the operand's order).
//! - `DELETE` of a set from a set of the same type removes those members; removing every
//!   member removes the attribute, as DynamoDB never stores an empty set (verified: reported
//!   behaviour of the real service). `DELETE` on an absent path does nothing, and `ADD` of
//!   an empty set (impossible through the JSON layer) to an absent path adds nothing
//!   (decided: DynamoDB's documents are silent).
//! - `ADD` and `DELETE` work on nested paths too (users report `ADD #data.ids :set` working
//!   on the real service), under the same parent rules as `SET`.
//! - Literal operands of the wrong type (`ADD a :string`, `DELETE a :list`,
//!   `list_append(:map, a)`) are rejected by validation with "Incorrect operand type for
//!   operator or function"; should one reach this module it gets the evaluation message.
//!
//! Not here: the key-attribute rule ("Cannot update attribute pk. This attribute is part of
//! the key"), the item-size limit, and nesting-depth limits of the result, which the engine
//! checks on the new item.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::Hash;

use stator_types::{AttributeValue, Item, Number, NumberError};

use crate::ast::{ArithmeticOp, FunctionCall, Operand, Path, PathElement, Update};
use crate::error::ExprError;
use crate::eval::{internal, unresolved_value, MAX_NESTING};
use crate::path::{self, SetOutcome};

/// DynamoDB's message for a right-hand-side path that is absent from the item.
pub const MISSING_ATTRIBUTE: &str =
    "The provided expression refers to an attribute that does not exist in the item";

/// DynamoDB's message for an operand of the wrong type at evaluation time.
pub const INCORRECT_OPERAND_TYPE: &str =
    "An operand in the update expression has an incorrect data type";

fn missing_attribute() -> ExprError {
    ExprError::message_only(MISSING_ATTRIBUTE)
}

fn incorrect_type() -> ExprError {
    ExprError::message_only(INCORRECT_OPERAND_TYPE)
}

fn number_error(error: NumberError) -> ExprError {
    ExprError::message_only(error.message())
}

/// One planned change.
enum Change<'u> {
    Put {
        path: &'u Path,
        value: AttributeValue,
        /// Position of the action in the returned path list.
        report: usize,
    },
    Remove {
        path: &'u Path,
    },
}

/// Applies `update` to `item` and returns the paths its actions targeted, in the order
/// SET, REMOVE, ADD, DELETE and, within a clause, as written.
///
/// A path whose last step is a list index that was appended (`SET a[10]` on a two-element
/// list) is reported with the index actually written (`a[2]`). Every target is reported,
/// including `REMOVE`s and `DELETE`s that found nothing to remove.
///
/// For `ReturnValues`: `UPDATED_OLD` is [`project`](crate::project::project) of the returned
/// paths on the item before the update, `UPDATED_NEW` the same on the item after it (absent
/// paths simply do not appear).
///
/// On error the item is unchanged. Targets that overlap (one path equal to or a prefix of
/// another, which DynamoDB's validation rejects as "Two document paths overlap") are an
/// internal error here, reported before anything is evaluated; without them the apply phase
/// cannot fail.
pub fn apply_update(update: &Update, item: &mut Item) -> Result<Vec<Path>, ExprError> {
    let result = apply_checked(update, item);
    match result {
        Err(e) if update.legacy && e.message() == INCORRECT_OPERAND_TYPE => {
            Err(ExprError::message_only(LEGACY_TYPE_MISMATCH))
        }
        other => other,
    }
}

/// The legacy `AttributeUpdates` form of [`INCORRECT_OPERAND_TYPE`] (ADD or DELETE of a
/// set of another type, or of a number into a set).
pub const LEGACY_TYPE_MISMATCH: &str =
    "One or more parameter values were invalid: Type mismatch for attribute to update";

fn apply_checked(update: &Update, item: &mut Item) -> Result<Vec<Path>, ExprError> {
    check_no_overlap(update)?;
    let mut reported: Vec<Path> = Vec::with_capacity(
        update.set.len() + update.remove.len() + update.add.len() + update.delete.len(),
    );
    let changes = plan(update, item, &mut reported)?;

    let mut puts: Vec<(&Path, AttributeValue, usize)> = Vec::new();
    let mut removes: Vec<&Path> = Vec::new();
    for change in changes {
        match change {
            Change::Put {
                path,
                value,
                report,
            } => puts.push((path, value, report)),
            Change::Remove { path } => removes.push(path),
        }
    }
    // Stable sort: writes to one list in ascending index order, so that appends beyond the
    // end land in element-number order.
    puts.sort_by(|a, b| path::compare_paths(a.0, b.0));
    for (target, value, report) in puts {
        if let SetOutcome::AppendedAt(index) = path::set(item, target, value)? {
            if let Some(PathElement::Index(last)) =
                reported.get_mut(report).and_then(|path| path.0.last_mut())
            {
                *last = index;
            }
        }
    }
    path::remove_many(item, &removes)?;
    Ok(reported)
}

/// Rejects an update two of whose targets overlap. After sorting, a path that is a prefix
/// of another sorts directly before it or before paths that share that prefix, so comparing
/// neighbours finds every overlap.
fn check_no_overlap(update: &Update) -> Result<(), ExprError> {
    let mut targets: Vec<&Path> = update
        .set
        .iter()
        .map(|(target, _)| target)
        .chain(&update.remove)
        .chain(update.add.iter().map(|(target, _)| target))
        .chain(update.delete.iter().map(|(target, _)| target))
        .collect();
    targets.sort_by(|a, b| path::compare_paths(a, b));
    for pair in targets.windows(2) {
        if let [shorter, longer] = pair {
            if longer.0.starts_with(&shorter.0) {
                return Err(internal(format!(
                    "the update expression's document paths {shorter} and {longer} overlap"
                )));
            }
        }
    }
    Ok(())
}

/// Phase 1: evaluates everything against the unchanged item.
fn plan<'u>(
    update: &'u Update,
    item: &Item,
    reported: &mut Vec<Path>,
) -> Result<Vec<Change<'u>>, ExprError> {
    let mut changes = Vec::with_capacity(reported.capacity());

    for (target, value) in &update.set {
        let value = value_of(value, item, 0)?.into_owned();
        path::check_writable(item, target)?;
        changes.push(Change::Put {
            path: target,
            value,
            report: reported.len(),
        });
        reported.push(target.clone());
    }

    for target in &update.remove {
        path::check_writable(item, target)?;
        // Only what exists in the original item is removed: an index beyond the original
        // end must not catch an element appended by a SET of the same expression.
        if path::get(item, target)?.is_some() {
            changes.push(Change::Remove { path: target });
        }
        reported.push(target.clone());
    }

    for (target, operand) in &update.add {
        let operand = value_of(operand, item, 0)?;
        let current = path::get(item, target)?;
        let value = match (current, operand.as_ref()) {
            (None, AttributeValue::N(_)) => operand.into_owned(),
            (
                None,
                set @ (AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)),
            ) => {
                if set_is_empty(set) {
                    // An empty set is never stored, so adding one to nothing is nothing.
                    path::check_writable(item, target)?;
                    reported.push(target.clone());
                    continue;
                }
                operand.into_owned()
            }
            (Some(AttributeValue::N(a)), AttributeValue::N(b)) => {
                AttributeValue::N(a.checked_add(b).map_err(number_error)?)
            }
            (Some(AttributeValue::Ss(a)), AttributeValue::Ss(b)) => AttributeValue::Ss(union(a, b)),
            (Some(AttributeValue::Ns(a)), AttributeValue::Ns(b)) => AttributeValue::Ns(union(a, b)),
            (Some(AttributeValue::Bs(a)), AttributeValue::Bs(b)) => AttributeValue::Bs(union(a, b)),
            _ => return Err(incorrect_type()),
        };
        path::check_writable(item, target)?;
        changes.push(Change::Put {
            path: target,
            value,
            report: reported.len(),
        });
        reported.push(target.clone());
    }

    for (target, operand) in &update.delete {
        let operand = value_of(operand, item, 0)?;
        if !matches!(
            operand.as_ref(),
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
        ) {
            return Err(incorrect_type());
        }
        path::check_writable(item, target)?;
        let remaining = match (path::get(item, target)?, operand.as_ref()) {
            (None, _) => None,
            (Some(AttributeValue::Ss(a)), AttributeValue::Ss(b)) => {
                Some(AttributeValue::Ss(difference(a, b)))
            }
            (Some(AttributeValue::Ns(a)), AttributeValue::Ns(b)) => {
                Some(AttributeValue::Ns(difference(a, b)))
            }
            (Some(AttributeValue::Bs(a)), AttributeValue::Bs(b)) => {
                Some(AttributeValue::Bs(difference(a, b)))
            }
            _ => return Err(incorrect_type()),
        };
        match remaining {
            Some(set) if set_is_empty(&set) => changes.push(Change::Remove { path: target }),
            Some(set) => changes.push(Change::Put {
                path: target,
                value: set,
                report: reported.len(),
            }),
            None => {}
        }
        reported.push(target.clone());
    }

    Ok(changes)
}

fn set_is_empty(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::Ss(set) => set.is_empty(),
        AttributeValue::Ns(set) => set.is_empty(),
        AttributeValue::Bs(set) => set.is_empty(),
        _ => false,
    }
}

/// Above this many member comparisons, set operations use a hash set instead of scanning.
const LINEAR_SET_WORK: usize = 256;

/// `existing ∪ added`, keeping `existing`'s order and appending new members in `added`'s
/// order.
fn union<T: Clone + Eq + Hash>(existing: &[T], added: &[T]) -> Vec<T> {
    let mut result = existing.to_vec();
    if existing.len().saturating_mul(added.len()) <= LINEAR_SET_WORK {
        for member in added {
            if !result.contains(member) {
                result.push(member.clone());
            }
        }
    } else {
        let mut seen: HashSet<&T> = existing.iter().collect();
        for member in added {
            if seen.insert(member) {
                result.push(member.clone());
            }
        }
    }
    result
}

/// `existing ∖ removed`, in `existing`'s order.
fn difference<T: Clone + Eq + Hash>(existing: &[T], removed: &[T]) -> Vec<T> {
    if existing.len().saturating_mul(removed.len()) <= LINEAR_SET_WORK {
        return existing
            .iter()
            .filter(|member| !removed.contains(member))
            .cloned()
            .collect();
    }
    let removed: HashSet<&T> = removed.iter().collect();
    existing
        .iter()
        .filter(|member| !removed.contains(member))
        .cloned()
        .collect()
}

/// The value of a right-hand side (an operand, `if_not_exists`, `list_append`, or `+`/`-`)
/// against the original item.
fn value_of<'a>(
    operand: &'a Operand,
    item: &'a Item,
    depth: usize,
) -> Result<Cow<'a, AttributeValue>, ExprError> {
    if depth > MAX_NESTING {
        return Err(internal(format!(
            "the expression nests more than {MAX_NESTING} levels deep"
        )));
    }
    match operand {
        Operand::Path(target) => path::get(item, target)?
            .map(Cow::Borrowed)
            .ok_or_else(missing_attribute),
        Operand::Literal(value) => Ok(Cow::Borrowed(value)),
        Operand::Value(placeholder) => Err(unresolved_value(placeholder)),
        Operand::Arithmetic(left, op, right) => {
            let left = value_of(left, item, depth + 1)?;
            let right = value_of(right, item, depth + 1)?;
            let (AttributeValue::N(a), AttributeValue::N(b)) = (left.as_ref(), right.as_ref())
            else {
                return Err(incorrect_type());
            };
            let result: Number = match op {
                ArithmeticOp::Plus => a.checked_add(b),
                ArithmeticOp::Minus => a.checked_sub(b),
            }
            .map_err(number_error)?;
            Ok(Cow::Owned(AttributeValue::N(result)))
        }
        Operand::Function(call) => function_value(call, item, depth),
    }
}

fn function_value<'a>(
    call: &'a FunctionCall,
    item: &'a Item,
    depth: usize,
) -> Result<Cow<'a, AttributeValue>, ExprError> {
    match (call.name.as_str(), call.args.as_slice()) {
        ("if_not_exists", [Operand::Path(target), fallback]) => match path::get(item, target)? {
            Some(value) => Ok(Cow::Borrowed(value)),
            None => value_of(fallback, item, depth + 1),
        },
        ("list_append", [first, second]) => {
            let first = value_of(first, item, depth + 1)?;
            let second = value_of(second, item, depth + 1)?;
            match (first, second) {
                (Cow::Owned(AttributeValue::L(mut a)), second) => {
                    let AttributeValue::L(b) = second.as_ref() else {
                        return Err(incorrect_type());
                    };
                    a.extend_from_slice(b);
                    Ok(Cow::Owned(AttributeValue::L(a)))
                }
                (first, second) => {
                    let (AttributeValue::L(a), AttributeValue::L(b)) =
                        (first.as_ref(), second.as_ref())
                    else {
                        return Err(incorrect_type());
                    };
                    let mut joined = Vec::with_capacity(a.len() + b.len());
                    joined.extend_from_slice(a);
                    joined.extend_from_slice(b);
                    Ok(Cow::Owned(AttributeValue::L(joined)))
                }
            }
        }
        ("if_not_exists" | "list_append", args) => {
            for arg in args {
                if let Operand::Value(placeholder) = arg {
                    return Err(unresolved_value(placeholder));
                }
            }
            Err(internal(format!(
                "the function {} was called with invalid arguments",
                call.name
            )))
        }
        (name, _) => Err(internal(format!(
            "the function {name} cannot be evaluated in an update expression"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::path::test_support::p;
    use crate::path::INVALID_PATH_FOR_UPDATE;

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(v).unwrap())
    }
    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }
    fn ss(v: &[&str]) -> AttributeValue {
        AttributeValue::Ss(v.iter().map(|x| (*x).to_owned()).collect())
    }
    fn ns(v: &[&str]) -> AttributeValue {
        AttributeValue::Ns(v.iter().map(|x| Number::parse(x).unwrap()).collect())
    }
    fn l(v: Vec<AttributeValue>) -> AttributeValue {
        AttributeValue::L(v)
    }
    fn path(text: &str) -> Operand {
        Operand::Path(p(text))
    }
    fn lit(v: AttributeValue) -> Operand {
        Operand::Literal(v)
    }
    fn call(name: &str, args: Vec<Operand>) -> Operand {
        Operand::Function(FunctionCall {
            name: name.to_owned(),
            args,
        })
    }
    fn plus(a: Operand, b: Operand) -> Operand {
        Operand::Arithmetic(Box::new(a), ArithmeticOp::Plus, Box::new(b))
    }
    fn minus(a: Operand, b: Operand) -> Operand {
        Operand::Arithmetic(Box::new(a), ArithmeticOp::Minus, Box::new(b))
    }

    fn item() -> Item {
        let mut map = Item::new();
        map.insert("x".into(), n("1"));
        let mut item = Item::new();
        item.insert("n".into(), n("10"));
        item.insert("s".into(), s("str"));
        item.insert("m".into(), AttributeValue::M(map));
        item.insert("l".into(), l(vec![n("0"), n("1"), n("2"), n("3")]));
        item.insert("ss".into(), ss(&["a", "b"]));
        item.insert("ns".into(), ns(&["1", "2"]));
        item
    }

    fn set(actions: Vec<(&str, Operand)>) -> Update {
        Update {
            set: actions.into_iter().map(|(t, v)| (p(t), v)).collect(),
            ..Update::default()
        }
    }

    fn apply(update: &Update) -> Result<(Item, Vec<Path>), ExprError> {
        let mut item = item();
        let paths = apply_update(update, &mut item)?;
        Ok((item, paths))
    }

    fn error(update: &Update) -> String {
        let mut changed = item();
        let message = apply_update(update, &mut changed)
            .unwrap_err()
            .message()
            .to_owned();
        assert_eq!(changed, item(), "an error must leave the item unchanged");
        message
    }

    #[test]
    fn set_values_paths_and_swaps() {
        let update = set(vec![
            ("n", path("s")),
            ("s", path("n")),
            ("m.y", lit(n("5"))),
        ]);
        let (result, paths) = apply(&update).unwrap();
        assert_eq!(result["n"], s("str"));
        assert_eq!(result["s"], n("10"));
        assert_eq!(path::get(&result, &p("m.y")).unwrap(), Some(&n("5")));
        assert_eq!(paths, vec![p("n"), p("s"), p("m.y")]);
    }

    #[test]
    fn arithmetic() {
        let (result, _) = apply(&set(vec![("n", plus(path("n"), lit(n("0.5"))))])).unwrap();
        assert_eq!(result["n"], n("10.5"));
        let (result, _) = apply(&set(vec![("n", minus(lit(n("1")), path("n")))])).unwrap();
        assert_eq!(result["n"], n("-9"));
        let update = set(vec![(
            "c",
            plus(
                call("if_not_exists", vec![path("c"), lit(n("0"))]),
                lit(n("1")),
            ),
        )]);
        let (result, _) = apply(&update).unwrap();
        assert_eq!(result["c"], n("1"));

        assert_eq!(
            error(&set(vec![("n", plus(path("nope"), lit(n("1"))))])),
            MISSING_ATTRIBUTE
        );
        assert_eq!(
            error(&set(vec![("n", plus(path("s"), lit(n("1"))))])),
            INCORRECT_OPERAND_TYPE
        );
        assert_eq!(
            error(&set(vec![("n", minus(path("n"), lit(s("1"))))])),
            INCORRECT_OPERAND_TYPE
        );
        let overflow = set(vec![("n", plus(lit(n("9e125")), lit(n("9e125"))))]);
        assert_eq!(error(&overflow), NumberError::Overflow.message());
        let precision = set(vec![("n", plus(lit(n("1e37")), lit(n("0.1"))))]);
        assert_eq!(error(&precision), NumberError::TooManyDigits.message());
    }

    #[test]
    fn functions() {
        let update = set(vec![
            (
                "a",
                call("list_append", vec![path("l"), lit(l(vec![s("x")]))]),
            ),
            (
                "b",
                call("list_append", vec![lit(l(vec![s("x")])), path("l")]),
            ),
            ("c", call("if_not_exists", vec![path("n"), lit(n("0"))])),
            (
                "d",
                call("if_not_exists", vec![path("m.zz"), lit(s("fallback"))]),
            ),
            (
                "e",
                call(
                    "list_append",
                    vec![
                        call("if_not_exists", vec![path("nope"), lit(l(vec![]))]),
                        lit(l(vec![n("1")])),
                    ],
                ),
            ),
        ]);
        let (result, _) = apply(&update).unwrap();
        assert_eq!(result["a"], l(vec![n("0"), n("1"), n("2"), n("3"), s("x")]));
        assert_eq!(result["b"], l(vec![s("x"), n("0"), n("1"), n("2"), n("3")]));
        assert_eq!(result["c"], n("10"));
        assert_eq!(result["d"], s("fallback"));
        assert_eq!(result["e"], l(vec![n("1")]));
        let missing = set(vec![(
            "a",
            call("list_append", vec![path("nope"), lit(l(vec![]))]),
        )]);
        assert_eq!(error(&missing), MISSING_ATTRIBUTE);
        let wrong = set(vec![("a", call("list_append", vec![path("l"), path("m")]))]);
        assert_eq!(error(&wrong), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&set(vec![("a", path("nope"))])), MISSING_ATTRIBUTE);
    }

    #[test]
    fn set_paths_and_appends() {
        for target in ["nope.x", "s.x", "l.x", "m[0]", "l[9].x", "m.x.y"] {
            assert_eq!(
                error(&set(vec![(target, lit(n("1")))])),
                INVALID_PATH_FOR_UPDATE,
                "{target}"
            );
        }
        let update = set(vec![
            ("l[9]", lit(s("nine"))),
            ("l[5]", lit(s("five"))),
            ("l[1]", lit(s("one"))),
        ]);
        let (result, paths) = apply(&update).unwrap();
        assert_eq!(
            result["l"],
            l(vec![n("0"), s("one"), n("2"), n("3"), s("five"), s("nine")])
        );
        assert_eq!(paths, vec![p("l[5]"), p("l[4]"), p("l[1]")]);
    }

    #[test]
    fn remove_uses_original_positions() {
        let update = Update {
            remove: vec![
                p("l[1]"),
                p("l[2]"),
                p("l[7]"),
                p("m.x"),
                p("m.zz"),
                p("nope"),
            ],
            ..Update::default()
        };
        let (result, paths) = apply(&update).unwrap();
        assert_eq!(result["l"], l(vec![n("0"), n("3")]));
        assert_eq!(result["m"], AttributeValue::M(Item::new()));
        assert_eq!(paths.len(), 6);
        for target in ["nope.x", "s[0]", "l.x", "m[0]"] {
            let update = Update {
                remove: vec![p(target)],
                ..Update::default()
            };
            assert_eq!(error(&update), INVALID_PATH_FOR_UPDATE, "{target}");
        }
    }

    #[test]
    fn set_and_remove_on_one_list_refer_to_the_original() {
        let update = Update {
            set: vec![(p("l[2]"), lit(s("two"))), (p("l[8]"), lit(s("new")))],
            remove: vec![p("l[0]"), p("l[4]")],
            ..Update::default()
        };
        let (result, _) = apply(&update).unwrap();
        // l[4] did not exist originally, so the appended element stays.
        assert_eq!(result["l"], l(vec![n("1"), s("two"), n("3"), s("new")]));
    }

    #[test]
    fn add_numbers_and_sets() {
        let update = Update {
            add: vec![
                (p("n"), lit(n("-0.5"))),
                (p("new"), lit(n("3"))),
                (p("ss"), lit(ss(&["c", "a"]))),
                (p("newset"), lit(ns(&["7"]))),
                (p("m.x"), lit(n("1"))),
                (p("m.y"), lit(ss(&["q"]))),
            ],
            ..Update::default()
        };
        let (result, paths) = apply(&update).unwrap();
        assert_eq!(result["n"], n("9.5"));
        assert_eq!(result["new"], n("3"));
        assert_eq!(result["ss"], ss(&["a", "b", "c"]));
        assert_eq!(result["newset"], ns(&["7"]));
        assert_eq!(path::get(&result, &p("m.x")).unwrap(), Some(&n("2")));
        assert_eq!(path::get(&result, &p("m.y")).unwrap(), Some(&ss(&["q"])));
        assert_eq!(paths.len(), 6);

        let add = |target: &str, value: AttributeValue| Update {
            add: vec![(p(target), lit(value))],
            ..Update::default()
        };
        assert_eq!(error(&add("s", n("1"))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&add("ss", n("1"))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&add("ss", ns(&["1"]))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&add("n", ss(&["1"]))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&add("new", s("x"))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&add("new", l(vec![]))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&add("nope.x", n("1"))), INVALID_PATH_FOR_UPDATE);
        assert_eq!(
            error(&add("n", n("1e-37"))),
            NumberError::TooManyDigits.message()
        );
    }

    #[test]
    fn delete_from_sets() {
        let delete = |target: &str, value: AttributeValue| Update {
            delete: vec![(p(target), lit(value))],
            ..Update::default()
        };
        let (result, paths) = apply(&delete("ss", ss(&["a", "zz"]))).unwrap();
        assert_eq!(result["ss"], ss(&["b"]));
        assert_eq!(paths, vec![p("ss")]);
        let (result, _) = apply(&delete("ns", ns(&["2.0", "1"]))).unwrap();
        assert!(!result.contains_key("ns"), "an emptied set is removed");
        let (result, _) = apply(&delete("nope", ss(&["a"]))).unwrap();
        assert_eq!(result, item());
        assert_eq!(error(&delete("ss", ns(&["1"]))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&delete("s", ss(&["s"]))), INCORRECT_OPERAND_TYPE);
        assert_eq!(error(&delete("ss", s("a"))), INCORRECT_OPERAND_TYPE);
        assert_eq!(
            error(&delete("nope.x", ss(&["a"]))),
            INVALID_PATH_FOR_UPDATE
        );
    }

    #[test]
    fn large_set_operations_match_small_ones() {
        let big: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let evens: Vec<String> = (0..200).step_by(2).map(|i| i.to_string()).collect();
        let united = union(&big, &evens);
        assert_eq!(united.len(), 150);
        assert_eq!(&united[..100], big.as_slice());
        assert_eq!(united[100], "100");
        let left = difference(&big, &evens);
        assert_eq!(left.len(), 50);
        assert!(left.iter().all(|m| m.parse::<u32>().unwrap() % 2 == 1));
        assert_eq!(union(&big[..3], &evens[..3]), ["0", "1", "2", "4"]);
        assert_eq!(difference(&big[..3], &evens[..3]), ["1"]);
    }

    #[test]
    fn first_error_in_clause_order_wins_and_nothing_changes() {
        let update = Update {
            set: vec![(p("ok"), lit(n("1"))), (p("bad"), path("nope"))],
            add: vec![(p("s"), lit(n("1")))],
            ..Update::default()
        };
        assert_eq!(error(&update), MISSING_ATTRIBUTE);
    }

    #[test]
    fn overlapping_targets_are_internal_errors_before_anything_changes() {
        let cases = [
            set(vec![("m", lit(s("x"))), ("m.x", lit(n("1")))]),
            set(vec![("l[1].x", lit(n("1"))), ("l[1]", lit(n("1")))]),
            Update {
                add: vec![(p("n"), lit(n("1")))],
                delete: vec![(p("n"), lit(ss(&["a"])))],
                ..Update::default()
            },
            Update {
                set: vec![(p("m.x"), lit(n("2")))],
                remove: vec![p("m")],
                ..Update::default()
            },
        ];
        for case in cases {
            assert!(error(&case).contains("overlap"), "{case:?}");
        }
        // Siblings and different list positions do not overlap.
        let fine = set(vec![
            ("m.x", lit(n("1"))),
            ("m.y", lit(n("1"))),
            ("l[1]", lit(n("1"))),
            ("l[2]", lit(n("1"))),
        ]);
        assert!(apply(&fine).is_ok());
    }

    #[test]
    fn unresolved_trees_are_internal_errors() {
        let cases = [
            set(vec![("a", Operand::Value(":v".into()))]),
            set(vec![("a", call("size", vec![path("s")]))]),
            set(vec![(
                "a",
                call(
                    "if_not_exists",
                    vec![Operand::Value(":v".into()), lit(n("1"))],
                ),
            )]),
            set(vec![("a", call("list_append", vec![path("l")]))]),
        ];
        for case in cases {
            assert!(error(&case).starts_with("Internal error: "), "{case:?}");
        }
        let mut deep = lit(n("1"));
        for _ in 0..1000 {
            deep = plus(deep, lit(n("1")));
        }
        assert!(error(&set(vec![("a", deep)])).starts_with("Internal error: "));
    }
}
