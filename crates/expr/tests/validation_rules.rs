//! Validation rules added on top of the golden scripts: literal BETWEEN bounds in the wrong
//! order, ordering comparisons against literals that have no order, and document paths
//! deeper than 32 levels are errors raised before any item is read.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use stator_expr::parser::parse_condition;
use stator_expr::resolve::Placeholders;
use stator_expr::validate::validate_condition;
use stator_expr::ExpressionKind;
use stator_types::{AttributeValue, Number};

fn check(text: &str, values: &[(&str, AttributeValue)]) -> Result<(), String> {
    let values: HashMap<String, AttributeValue> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let parsed = parse_condition(text, ExpressionKind::Condition).unwrap();
    let mut placeholders = Placeholders::new(None, Some(&values));
    let resolved = placeholders
        .resolve_condition(parsed, ExpressionKind::Condition)
        .unwrap();
    validate_condition(&resolved, ExpressionKind::Condition).map_err(|e| e.message().to_string())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(v).unwrap())
}

#[test]
fn reversed_number_bounds_are_rejected_with_dynamodb_text() {
    assert_eq!(
        check("a BETWEEN :hi AND :lo", &[(":hi", n("6")), (":lo", n("1"))]),
        Err(
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be \
             greater than or equal to lower bound; lower bound operand: AttributeValue: {N:6}, \
             upper bound operand: AttributeValue: {N:1}"
                .to_string()
        )
    );
}

#[test]
fn reversed_string_bounds_are_rejected() {
    let err = check(
        "a BETWEEN :hi AND :lo",
        &[
            (":hi", AttributeValue::S("b".into())),
            (":lo", AttributeValue::S("a".into())),
        ],
    )
    .unwrap_err();
    assert!(err.ends_with(
        "lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"
    ));
}

#[test]
fn ordered_equal_and_path_bounds_pass() {
    assert_eq!(
        check("a BETWEEN :lo AND :hi", &[(":hi", n("6")), (":lo", n("1"))]),
        Ok(())
    );
    assert_eq!(check("a BETWEEN :x AND :x", &[(":x", n("1"))]), Ok(()));
    assert_eq!(check("a BETWEEN b AND :x", &[(":x", n("1"))]), Ok(()));
}

#[test]
fn ordering_against_non_scalar_literals_is_rejected() {
    let cases = [
        ("a < :v", AttributeValue::Bool(true), "<", "BOOL"),
        ("a >= :v", AttributeValue::Null, ">=", "NULL"),
        ("a > :v", AttributeValue::L(vec![]), ">", "L"),
        (
            "a BETWEEN :v AND :w",
            AttributeValue::M(Default::default()),
            "BETWEEN",
            "M",
        ),
    ];
    for (text, value, operator, type_name) in cases {
        let err = check(text, &[(":v", value), (":w", n("1"))]).unwrap_err();
        assert_eq!(
            err,
            format!(
                "Invalid ConditionExpression: Incorrect operand type for operator or function; \
                 operator or function: {operator}, operand type: {type_name}"
            ),
            "{text}"
        );
    }
    // Equality is defined on every type, and paths are only checked at evaluation.
    assert_eq!(
        check("a = :v", &[(":v", AttributeValue::Bool(true))]),
        Ok(())
    );
    assert_eq!(check("a < b", &[]), Ok(()));
}

#[test]
fn document_paths_deeper_than_32_levels_are_rejected() {
    let path = |depth: usize| {
        (0..depth)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(".")
    };
    assert!(parse_condition(
        &format!("attribute_exists({})", path(32)),
        ExpressionKind::Condition
    )
    .is_ok());
    let err = parse_condition(
        &format!("attribute_exists({})", path(33)),
        ExpressionKind::Condition,
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "Invalid ConditionExpression: The document path has too many nesting levels; nesting \
         levels: 33"
    );
    let err = stator_expr::parser::parse_projection(&format!("x, {}[0]", path(32))).unwrap_err();
    assert!(err
        .message()
        .starts_with("Invalid ProjectionExpression: The document path has too many"));
}
