//! Property tests for the parsing side:
//! - printing round-trips: for generated trees in placeholder form whose literal names are
//!   plain, non-reserved identifiers, `parse(print(tree)) == tree`, for conditions, updates
//!   and projections;
//! - no input makes the parser (or resolution and validation after it) panic: arbitrary
//!   strings, and "token soups" of the language's own tokens in random order.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use proptest::prelude::*;
use stator_expr::reserved::is_reserved;
use stator_expr::{
    key_condition, parse_condition, parse_projection, parse_update, validate_condition,
    validate_projection, validate_update, ArithmeticOp, Comparator, Condition, ExpressionKind,
    FunctionCall, Name, Operand, Path, PathElement, Placeholders, Projection, Update,
};
use stator_types::{AttributeValue, Number};

fn identifier() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_]{0,7}".prop_filter("not a reserved word", |s| !is_reserved(s))
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        3 => identifier().prop_map(Name::Literal),
        1 => "#[a-zA-Z0-9_]{1,6}".prop_map(Name::Placeholder),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    let step = prop_oneof![
        name().prop_map(PathElement::Attribute),
        prop_oneof![0u32..20, 0u32..=i32::MAX as u32].prop_map(PathElement::Index),
    ];
    (name(), prop::collection::vec(step, 0..4)).prop_map(|(first, rest)| {
        let mut elements = vec![PathElement::Attribute(first)];
        elements.extend(rest);
        Path(elements)
    })
}

fn value() -> impl Strategy<Value = String> {
    ":[a-zA-Z0-9_]{1,6}"
}

fn function_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("size".to_owned()),
        Just("begins_with".to_owned()),
        Just("if_not_exists".to_owned()),
        Just("list_append".to_owned()),
        identifier(),
    ]
}

/// Operands without arithmetic (what may stand in a condition or a function argument).
fn operand() -> impl Strategy<Value = Operand> {
    let leaf = prop_oneof![
        path().prop_map(Operand::Path),
        value().prop_map(Operand::Value),
    ];
    leaf.prop_recursive(3, 8, 3, |inner| {
        (function_name(), prop::collection::vec(inner, 1..4))
            .prop_map(|(name, args)| Operand::Function(FunctionCall { name, args }))
    })
}

fn comparator() -> impl Strategy<Value = Comparator> {
    prop_oneof![
        Just(Comparator::Eq),
        Just(Comparator::Ne),
        Just(Comparator::Lt),
        Just(Comparator::Le),
        Just(Comparator::Gt),
        Just(Comparator::Ge),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        (operand(), comparator(), operand()).prop_map(|(l, c, r)| Condition::Compare(l, c, r)),
        (operand(), operand(), operand()).prop_map(|(a, l, h)| Condition::Between(a, l, h)),
        (operand(), prop::collection::vec(operand(), 1..4)).prop_map(|(a, l)| Condition::In(a, l)),
        (function_name(), prop::collection::vec(operand(), 1..3))
            .prop_map(|(name, args)| Condition::Function(FunctionCall { name, args })),
    ];
    leaf.prop_recursive(5, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(l, r)| Condition::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone())
                .prop_map(|(l, r)| Condition::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

/// A SET value: an operand, or two joined by one `+` or `-` (DynamoDB allows no more).
fn set_value() -> impl Strategy<Value = Operand> {
    let op = prop_oneof![Just(ArithmeticOp::Plus), Just(ArithmeticOp::Minus)];
    (operand(), prop::option::of((op, operand()))).prop_map(|(first, rest)| match rest {
        None => first,
        Some((op, right)) => Operand::Arithmetic(Box::new(first), op, Box::new(right)),
    })
}

fn update() -> impl Strategy<Value = Update> {
    (
        prop::collection::vec((path(), set_value()), 0..3),
        prop::collection::vec(path(), 0..3),
        prop::collection::vec((path(), value().prop_map(Operand::Value)), 0..3),
        prop::collection::vec((path(), value().prop_map(Operand::Value)), 0..3),
    )
        .prop_filter("at least one action", |(s, r, a, d)| {
            !(s.is_empty() && r.is_empty() && a.is_empty() && d.is_empty())
        })
        .prop_map(|(set, remove, add, delete)| Update {
            set,
            remove,
            add,
            delete,
            legacy: false,
        })
}

fn projection() -> impl Strategy<Value = Projection> {
    prop::collection::vec(path(), 1..5).prop_map(Projection)
}

/// The language's tokens (and some near misses), for token soups.
fn token() -> impl Strategy<Value = String> {
    let fixed = [
        "a",
        "b",
        "#n",
        ":v",
        "1",
        "99999999999",
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "size",
        "begins_with",
        "attribute_exists",
        "attribute_type",
        "contains",
        "if_not_exists",
        "list_append",
        "status",
        "#",
        ":",
        "é",
        "\u{0}",
        "!",
    ];
    prop_oneof![
        4 => prop::sample::select(fixed.to_vec()).prop_map(str::to_owned),
        1 => identifier(),
    ]
}

fn soup() -> impl Strategy<Value = String> {
    let separator = prop_oneof![Just(""), Just(" "), Just("\t"), Just("\n")];
    prop::collection::vec((token(), separator), 0..40).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(token, separator)| token + separator)
            .collect()
    })
}

/// Maps that define every placeholder the soups and generators use often.
fn maps() -> (HashMap<String, String>, HashMap<String, AttributeValue>) {
    let names = HashMap::from([("#n".to_owned(), "name".to_owned())]);
    let values = HashMap::from([
        (":v".to_owned(), AttributeValue::N(Number::from_i64(1))),
        (":s".to_owned(), AttributeValue::S("x".to_owned())),
    ]);
    (names, values)
}

/// Everything the parsing side does with a text; must never panic, whatever the text.
fn exercise(text: &str) {
    let (names, values) = maps();
    for kind in [
        ExpressionKind::Condition,
        ExpressionKind::Filter,
        ExpressionKind::KeyCondition,
    ] {
        if let Ok(condition) = parse_condition(text, kind) {
            let _ = condition.to_string();
            let mut placeholders = Placeholders::new(Some(&names), Some(&values));
            if let Ok(resolved) = placeholders.resolve_condition(condition.clone(), kind) {
                let _ = validate_condition(&resolved, kind);
                let _ = key_condition(&resolved, "a", Some("b"));
                let _ = placeholders.finish();
            }
            let _ = validate_condition(&condition, kind);
        }
    }
    if let Ok(update) = parse_update(text) {
        let _ = update.to_string();
        let mut placeholders = Placeholders::new(Some(&names), Some(&values));
        if let Ok(resolved) = placeholders.resolve_update(update.clone()) {
            let _ = validate_update(&resolved);
        }
        let _ = validate_update(&update);
    }
    if let Ok(projection) = parse_projection(text) {
        let _ = projection.to_string();
        let _ = validate_projection(&projection);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn condition_roundtrip(tree in condition()) {
        let text = tree.to_string();
        let parsed = parse_condition(&text, ExpressionKind::Condition);
        prop_assert_eq!(parsed, Ok(tree), "text: {}", text);
    }

    #[test]
    fn update_roundtrip(tree in update()) {
        let text = tree.to_string();
        prop_assert_eq!(parse_update(&text), Ok(tree), "text: {}", text);
    }

    #[test]
    fn projection_roundtrip(tree in projection()) {
        let text = tree.to_string();
        prop_assert_eq!(parse_projection(&text), Ok(tree), "text: {}", text);
    }

    #[test]
    fn arbitrary_strings_do_not_panic(text in any::<String>()) {
        exercise(&text);
    }

    #[test]
    fn token_soups_do_not_panic(text in soup()) {
        exercise(&text);
    }
}

#[test]
fn huge_and_deep_inputs_do_not_panic() {
    for text in [
        "(".repeat(5000),
        "NOT ".repeat(1100),
        format!("{}a = :v{}", "(".repeat(2000), ")".repeat(2000)),
        format!("{}a{}", "size(".repeat(800), ")".repeat(800)),
        "a.".repeat(2000),
        "é".repeat(3000),
        "\u{0}".repeat(4096),
    ] {
        exercise(&text);
    }
}
