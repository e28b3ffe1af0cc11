//! Legacy parameters → AST: every operator, argument count and type, every message, and the
//! shape of the trees produced.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use stator_expr::legacy::{
    attribute_updates_to_update, attributes_to_get_to_projection, check_no_mixing,
    expected_to_condition, filter_to_condition, key_conditions_to_condition, AttributeUpdate,
    ExpectedAttribute, LegacyCondition,
};
use stator_expr::{
    apply_update, evaluate, key_condition, project, Comparator, Condition, ExprError, FunctionCall,
    KeyCondition, Name, Operand, Path, PathElement, Projection, SortKeyCondition, Update,
};
use stator_types::{AttributeValue as V, Item, Number};

// ---------------------------------------------------------------------------------------------
// Helpers

fn s(text: &str) -> V {
    V::S(text.to_owned())
}

fn n(text: &str) -> V {
    V::N(Number::parse(text).unwrap())
}

fn b(bytes: &[u8]) -> V {
    V::B(bytes.to_vec())
}

fn ss(items: &[&str]) -> V {
    V::Ss(items.iter().map(|item| (*item).to_owned()).collect())
}

fn ns(items: &[&str]) -> V {
    V::Ns(
        items
            .iter()
            .map(|item| Number::parse(item).unwrap())
            .collect(),
    )
}

fn bs(items: &[&[u8]]) -> V {
    V::Bs(items.iter().map(|item| item.to_vec()).collect())
}

/// One value of every type, named as DynamoDB names the type.
fn samples() -> Vec<V> {
    let mut map = Item::new();
    map.insert("k".to_owned(), s("v"));
    vec![
        s("x"),
        n("1"),
        b(b"x"),
        V::Bool(true),
        V::Null,
        V::M(map),
        V::L(vec![s("x")]),
        ss(&["x"]),
        ns(&["1"]),
        bs(&[b"x"]),
    ]
}

fn top(name: &str) -> Path {
    Path(vec![PathElement::Attribute(Name::Literal(name.to_owned()))])
}

fn attr(name: &str) -> Operand {
    Operand::Path(top(name))
}

fn lit(value: V) -> Operand {
    Operand::Literal(value)
}

fn cmp(name: &str, comparator: Comparator, value: V) -> Condition {
    Condition::Compare(attr(name), comparator, lit(value))
}

fn func(function: &str, args: Vec<Operand>) -> Condition {
    Condition::Function(FunctionCall {
        name: function.to_owned(),
        args,
    })
}

fn and(left: Condition, right: Condition) -> Condition {
    Condition::And(Box::new(left), Box::new(right))
}

fn or(left: Condition, right: Condition) -> Condition {
    Condition::Or(Box::new(left), Box::new(right))
}

fn cond(operator: &str, values: Vec<V>) -> LegacyCondition {
    LegacyCondition {
        comparison_operator: Some(operator.to_owned()),
        attribute_value_list: Some(values),
    }
}

fn entries<T: Clone>(items: &[(&str, T)]) -> Vec<(String, T)> {
    items
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

/// `ScanFilter` with one entry on attribute `a`.
fn scan_one(operator: &str, values: Vec<V>) -> Result<Option<Condition>, ExprError> {
    filter_to_condition(
        &entries(&[("a", cond(operator, values))]),
        None,
        "ScanFilter",
    )
}

fn message<T: std::fmt::Debug>(result: Result<T, ExprError>) -> String {
    result.unwrap_err().message().to_owned()
}

const ALL_OPERATORS: [&str; 13] = [
    "EQ",
    "NE",
    "LE",
    "LT",
    "GE",
    "GT",
    "NOT_NULL",
    "NULL",
    "CONTAINS",
    "NOT_CONTAINS",
    "BEGINS_WITH",
    "IN",
    "BETWEEN",
];

// ---------------------------------------------------------------------------------------------
// Comparison operators: the trees

#[test]
fn every_operator_builds_its_expression_equivalent() {
    let cases: Vec<(&str, Vec<V>, Condition)> = vec![
        ("EQ", vec![n("5")], cmp("a", Comparator::Eq, n("5"))),
        ("NE", vec![n("5")], cmp("a", Comparator::Ne, n("5"))),
        ("LE", vec![n("5")], cmp("a", Comparator::Le, n("5"))),
        ("LT", vec![n("5")], cmp("a", Comparator::Lt, n("5"))),
        ("GE", vec![n("5")], cmp("a", Comparator::Ge, n("5"))),
        ("GT", vec![n("5")], cmp("a", Comparator::Gt, n("5"))),
        (
            "NOT_NULL",
            vec![],
            func("attribute_exists", vec![attr("a")]),
        ),
        (
            "NULL",
            vec![],
            func("attribute_not_exists", vec![attr("a")]),
        ),
        (
            "CONTAINS",
            vec![s("x")],
            func("contains", vec![attr("a"), lit(s("x"))]),
        ),
        (
            "NOT_CONTAINS",
            vec![s("x")],
            Condition::And(
                Box::new(func("attribute_exists", vec![attr("a")])),
                Box::new(Condition::Not(Box::new(func(
                    "contains",
                    vec![attr("a"), lit(s("x"))],
                )))),
            ),
        ),
        (
            "BEGINS_WITH",
            vec![s("x")],
            func("begins_with", vec![attr("a"), lit(s("x"))]),
        ),
        (
            "IN",
            vec![s("x"), s("1"), s("y")],
            Condition::In(attr("a"), vec![lit(s("x")), lit(s("1")), lit(s("y"))]),
        ),
        (
            "BETWEEN",
            vec![n("1"), n("9")],
            Condition::Between(attr("a"), lit(n("1")), lit(n("9"))),
        ),
    ];
    assert_eq!(cases.len(), ALL_OPERATORS.len());
    for (operator, values, expected) in cases {
        assert_eq!(
            scan_one(operator, values).unwrap(),
            Some(expected),
            "{operator}"
        );
    }
}

#[test]
fn attribute_names_are_literal_top_level_names() {
    // A legacy name is never a path: dots, brackets and `#`/`:` are part of the name.
    for name in ["a.b", "list[0]", "#n", ":v", "", "ünï cödé"] {
        let condition = filter_to_condition(
            &entries(&[(name, cond("NULL", vec![]))]),
            None,
            "ScanFilter",
        )
        .unwrap()
        .unwrap();
        assert_eq!(condition, func("attribute_not_exists", vec![attr(name)]));
    }
}

#[test]
fn in_keeps_every_value_in_order() {
    let values: Vec<V> = (0..150).map(|i| n(&i.to_string())).collect();
    let condition = scan_one("IN", values.clone()).unwrap().unwrap();
    assert_eq!(
        condition,
        Condition::In(attr("a"), values.into_iter().map(lit).collect())
    );
}

// ---------------------------------------------------------------------------------------------
// Comparison operators: argument counts

#[test]
fn argument_counts() {
    let expected_ok = |operator: &str, count: usize| match operator {
        "NULL" | "NOT_NULL" => count == 0,
        "IN" => count >= 1,
        "BETWEEN" => count == 2,
        _ => count == 1,
    };
    for operator in ALL_OPERATORS {
        for count in 0..4 {
            let values: Vec<V> = (0..count).map(|i| n(&i.to_string())).collect();
            // Strings for BEGINS_WITH, which does not take numbers.
            let values = if operator == "BEGINS_WITH" {
                (0..count).map(|i| s(&i.to_string())).collect()
            } else {
                values
            };
            let result = scan_one(operator, values);
            if expected_ok(operator, count) {
                assert!(result.is_ok(), "{operator} with {count}: {result:?}");
            } else {
                assert_eq!(
                    message(result),
                    format!(
                        "One or more parameter values were invalid: Invalid number of \
                         argument(s) for the {operator} ComparisonOperator"
                    ),
                    "{operator} with {count}"
                );
            }
        }
    }
}

#[test]
fn a_missing_attribute_value_list_is_an_empty_one() {
    let no_list = LegacyCondition {
        comparison_operator: Some("EQ".to_owned()),
        attribute_value_list: None,
    };
    assert_eq!(
        message(filter_to_condition(
            &entries(&[("a", no_list)]),
            None,
            "ScanFilter"
        )),
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ \
         ComparisonOperator"
    );
    let not_null = LegacyCondition {
        comparison_operator: Some("NOT_NULL".to_owned()),
        attribute_value_list: None,
    };
    assert_eq!(
        filter_to_condition(&entries(&[("a", not_null)]), None, "ScanFilter").unwrap(),
        Some(func("attribute_exists", vec![attr("a")]))
    );
}

// ---------------------------------------------------------------------------------------------
// Comparison operators: argument types

#[test]
fn argument_types() {
    // Which types each operator's AttributeValueList accepts.
    let accepted = |operator: &str, type_name: &str| match operator {
        "EQ" | "NE" => true,
        "LE" | "LT" | "GE" | "GT" | "IN" | "BETWEEN" => matches!(type_name, "S" | "N" | "B"),
        "CONTAINS" | "NOT_CONTAINS" => matches!(type_name, "S" | "N" | "B" | "BOOL" | "NULL"),
        "BEGINS_WITH" => matches!(type_name, "S" | "B"),
        other => panic!("{other} takes no values"),
    };
    for operator in ALL_OPERATORS {
        if matches!(operator, "NULL" | "NOT_NULL") {
            continue;
        }
        for value in samples() {
            let type_name = value.type_name();
            let values = if operator == "BETWEEN" {
                vec![value.clone(), value.clone()]
            } else {
                vec![value.clone()]
            };
            let result = scan_one(operator, values);
            if accepted(operator, type_name) {
                assert!(result.is_ok(), "{operator} {type_name}: {result:?}");
            } else {
                assert_eq!(
                    message(result),
                    format!(
                        "One or more parameter values were invalid: ComparisonOperator \
                         {operator} is not valid for {type_name} AttributeValue type"
                    ),
                    "{operator} {type_name}"
                );
            }
        }
    }
}

#[test]
fn the_first_value_of_a_bad_type_is_named() {
    assert_eq!(
        message(scan_one("IN", vec![s("x"), V::Bool(true), ss(&["y"])])),
        "One or more parameter values were invalid: ComparisonOperator IN is not valid for BOOL \
         AttributeValue type"
    );
}

#[test]
fn the_count_is_checked_before_the_types() {
    assert_eq!(
        message(scan_one("LT", vec![ss(&["x"]), ss(&["y"])])),
        "One or more parameter values were invalid: Invalid number of argument(s) for the LT \
         ComparisonOperator"
    );
}

#[test]
fn between_needs_two_values_of_one_type() {
    assert_eq!(
        message(scan_one("BETWEEN", vec![n("1"), s("2")])),
        "One or more parameter values were invalid: AttributeValues inside AttributeValueList \
         must be of same type"
    );
    // A bad type is reported before the mismatch.
    assert_eq!(
        message(scan_one("BETWEEN", vec![n("1"), V::Null])),
        "One or more parameter values were invalid: ComparisonOperator BETWEEN is not valid for \
         NULL AttributeValue type"
    );
}

#[test]
fn between_bounds_must_be_in_order() {
    let reversed = "The BETWEEN condition was provided a range where the lower bound is bigger \
                    than the upper bound";
    assert_eq!(
        message(scan_one("BETWEEN", vec![n("10"), n("9")])),
        reversed
    );
    assert_eq!(
        message(scan_one("BETWEEN", vec![n("-1"), n("-2")])),
        reversed
    );
    assert_eq!(message(scan_one("BETWEEN", vec![s("b"), s("a")])), reversed);
    // Strings compare by UTF-8 bytes: "a" (0x61) is above "B" (0x42).
    assert_eq!(message(scan_one("BETWEEN", vec![s("a"), s("B")])), reversed);
    assert_eq!(
        message(scan_one("BETWEEN", vec![b(&[0x80]), b(&[0x7f])])),
        reversed
    );
    // Numbers compare numerically, not as text.
    assert!(scan_one("BETWEEN", vec![n("9"), n("10")]).is_ok());
    assert!(scan_one("BETWEEN", vec![n("1e2"), n("100")]).is_ok());
    assert!(scan_one("BETWEEN", vec![s("B"), s("a")]).is_ok());
    assert!(scan_one("BETWEEN", vec![b(&[0x7f]), b(&[0x80])]).is_ok());
    assert!(scan_one("BETWEEN", vec![s("x"), s("x")]).is_ok());
}

// ---------------------------------------------------------------------------------------------
// QueryFilter / ScanFilter

#[test]
fn empty_filter_is_no_condition() {
    assert_eq!(filter_to_condition(&[], None, "ScanFilter").unwrap(), None);
}

#[test]
fn unknown_operator_is_an_enum_violation_named_after_the_parameter() {
    for (parameter, member) in [("ScanFilter", "scanFilter"), ("QueryFilter", "queryFilter")] {
        for text in ["eq", "NOT_EQUAL", ""] {
            let result =
                filter_to_condition(&entries(&[("a", cond(text, vec![]))]), None, parameter);
            assert_eq!(
                message(result),
                format!(
                    "1 validation error detected: Value '{text}' at \
                     '{member}.a.member.comparisonOperator' failed to satisfy constraint: Member \
                     must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, \
                     NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
                )
            );
        }
    }
}

#[test]
fn missing_operator_is_a_null_violation() {
    let no_operator = LegacyCondition {
        comparison_operator: None,
        attribute_value_list: Some(vec![s("x")]),
    };
    assert_eq!(
        message(filter_to_condition(
            &entries(&[("a", no_operator)]),
            None,
            "QueryFilter"
        )),
        "1 validation error detected: Value null at 'queryFilter.a.member.comparisonOperator' \
         failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn validator_violations_are_collected_and_come_before_argument_errors() {
    let filter = entries(&[
        ("bad_args", cond("EQ", vec![])),
        ("no_op", LegacyCondition::default()),
        ("bad_op", cond("XX", vec![])),
    ]);
    assert_eq!(
        message(filter_to_condition(&filter, Some("OR"), "ScanFilter")),
        "2 validation errors detected: Value null at 'scanFilter.no_op.member.comparisonOperator' \
         failed to satisfy constraint: Member must not be null; Value 'XX' at \
         'scanFilter.bad_op.member.comparisonOperator' failed to satisfy constraint: Member must \
         satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, \
         BEGINS_WITH, GE, CONTAINS]"
    );
}

#[test]
fn argument_errors_are_reported_in_request_order() {
    let filter = entries(&[
        ("a", cond("EQ", vec![n("1")])),
        ("b", cond("GT", vec![V::Null])),
        ("c", cond("EQ", vec![])),
    ]);
    assert_eq!(
        message(filter_to_condition(&filter, None, "ScanFilter")),
        "One or more parameter values were invalid: ComparisonOperator GT is not valid for NULL \
         AttributeValue type"
    );
}

#[test]
fn conditional_operator_joins_in_request_order() {
    let filter = entries(&[
        ("a", cond("EQ", vec![n("1")])),
        ("b", cond("NULL", vec![])),
        ("c", cond("LT", vec![s("z")])),
    ]);
    let a = cmp("a", Comparator::Eq, n("1"));
    let b_ = func("attribute_not_exists", vec![attr("b")]);
    let c = cmp("c", Comparator::Lt, s("z"));
    assert_eq!(
        filter_to_condition(&filter, None, "ScanFilter").unwrap(),
        Some(and(and(a.clone(), b_.clone()), c.clone()))
    );
    assert_eq!(
        filter_to_condition(&filter, Some("AND"), "ScanFilter").unwrap(),
        Some(and(and(a.clone(), b_.clone()), c.clone()))
    );
    assert_eq!(
        filter_to_condition(&filter, Some("OR"), "ScanFilter").unwrap(),
        Some(or(or(a, b_), c))
    );
}

#[test]
fn many_conditions_pair_up_in_request_order() {
    let names = ["a", "b", "c", "d", "e"];
    let filter: Vec<(String, LegacyCondition)> = names
        .iter()
        .map(|name| ((*name).to_owned(), cond("NULL", vec![])))
        .collect();
    let leaf = |name: &str| func("attribute_not_exists", vec![attr(name)]);
    assert_eq!(
        filter_to_condition(&filter[..4], None, "ScanFilter").unwrap(),
        Some(and(and(leaf("a"), leaf("b")), and(leaf("c"), leaf("d"))))
    );
    assert_eq!(
        filter_to_condition(&filter, Some("OR"), "ScanFilter").unwrap(),
        Some(or(
            or(or(leaf("a"), leaf("b")), or(leaf("c"), leaf("d"))),
            leaf("e")
        ))
    );
}

#[test]
fn huge_inputs_stay_shallow_and_fast() {
    // A 100,000-entry filter must neither build a 100,000-deep tree (whose drop or walk would
    // overflow the stack) nor take quadratic time.
    const COUNT: usize = 100_000;
    let filter: Vec<(String, LegacyCondition)> = (0..COUNT)
        .map(|i| (format!("a{i}"), cond("NULL", vec![])))
        .collect();
    let condition = filter_to_condition(&filter, Some("AND"), "ScanFilter")
        .unwrap()
        .unwrap();
    fn depth(condition: &Condition) -> usize {
        match condition {
            Condition::And(left, right) | Condition::Or(left, right) => {
                1 + depth(left).max(depth(right))
            }
            Condition::Not(inner) => 1 + depth(inner),
            _ => 1,
        }
    }
    assert_eq!(depth(&condition), 18); // ⌈log₂ 100,000⌉ + 1
    assert!(evaluate(&condition, &Item::new()).unwrap());
    assert!(!evaluate(&condition, &item(&[("a99999", n("1"))])).unwrap());
    drop(condition);

    let names: Vec<String> = (0..COUNT).map(|i| format!("a{i}")).collect();
    assert_eq!(
        attributes_to_get_to_projection(&names).unwrap().0.len(),
        COUNT
    );
    let updates: Vec<(String, AttributeUpdate)> = (0..COUNT)
        .map(|i| (format!("a{}", i % 1000), update(Some("ADD"), Some(n("1")))))
        .collect();
    assert_eq!(
        attribute_updates_to_update(&updates).unwrap().add.len(),
        1000
    );
}

#[test]
fn conditional_operator_needs_two_or_more_conditions() {
    assert_eq!(
        message(filter_to_condition(&[], Some("AND"), "ScanFilter")),
        "ConditionalOperator cannot be used without Filter or Expected"
    );
    assert_eq!(
        message(filter_to_condition(
            &entries(&[("a", cond("NULL", vec![]))]),
            Some("OR"),
            "QueryFilter"
        )),
        "ConditionalOperator can only be used when Filter or Expected has two or more elements"
    );
}

#[test]
fn unknown_conditional_operator_is_an_enum_violation() {
    let filter = entries(&[("a", cond("NULL", vec![])), ("b", cond("NULL", vec![]))]);
    for text in ["and", "XOR", ""] {
        assert_eq!(
            message(filter_to_condition(&filter, Some(text), "ScanFilter")),
            format!(
                "1 validation error detected: Value '{text}' at 'conditionalOperator' failed to \
                 satisfy constraint: Member must satisfy enum value set: [AND, OR]"
            )
        );
    }
}

#[test]
fn conditional_operator_usage_is_checked_before_arguments() {
    assert_eq!(
        message(filter_to_condition(
            &entries(&[("a", cond("EQ", vec![]))]),
            Some("AND"),
            "ScanFilter"
        )),
        "ConditionalOperator can only be used when Filter or Expected has two or more elements"
    );
}

// ---------------------------------------------------------------------------------------------
// Expected

fn expected_value(value: V) -> ExpectedAttribute {
    ExpectedAttribute {
        value: Some(value),
        ..ExpectedAttribute::default()
    }
}

fn expected_one(entry: ExpectedAttribute) -> Result<Option<Condition>, ExprError> {
    expected_to_condition(&entries(&[("a", entry)]), None)
}

#[test]
fn expected_value_alone_means_equal() {
    assert_eq!(
        expected_one(expected_value(n("5"))).unwrap(),
        Some(cmp("a", Comparator::Eq, n("5")))
    );
    // Any type: EQ is defined for all of them, lists and maps included.
    for value in samples() {
        assert_eq!(
            expected_one(expected_value(value.clone())).unwrap(),
            Some(cmp("a", Comparator::Eq, value))
        );
    }
}

#[test]
fn expected_exists_true_with_value_compares_the_value() {
    // Not an existence test: `{Exists: true, Value: 5}` fails when the stored value is 6.
    let entry = ExpectedAttribute {
        exists: Some(true),
        ..expected_value(n("5"))
    };
    assert_eq!(
        expected_one(entry).unwrap(),
        Some(cmp("a", Comparator::Eq, n("5")))
    );
}

#[test]
fn expected_exists_false_means_absent() {
    let entry = ExpectedAttribute {
        exists: Some(false),
        ..ExpectedAttribute::default()
    };
    assert_eq!(
        expected_one(entry).unwrap(),
        Some(func("attribute_not_exists", vec![attr("a")]))
    );
}

#[test]
fn expected_exists_and_value_rules() {
    let prefix = "1 validation error detected: One or more parameter values were invalid: ";
    let cases = [
        (
            ExpectedAttribute {
                exists: Some(true),
                ..ExpectedAttribute::default()
            },
            "Value must be provided when Exists is true for Attribute: a",
        ),
        (
            ExpectedAttribute::default(),
            "Value must be provided when Exists is null for Attribute: a",
        ),
        (
            ExpectedAttribute {
                exists: Some(false),
                ..expected_value(s("x"))
            },
            "Value cannot be used when Exists is false for Attribute: a",
        ),
    ];
    for (entry, detail) in cases {
        assert_eq!(message(expected_one(entry)), format!("{prefix}{detail}"));
    }
}

#[test]
fn expected_comparison_operator_rules() {
    let prefix = "1 validation error detected: One or more parameter values were invalid: ";
    let with_operator =
        |exists: Option<bool>, value: Option<V>, list: Option<Vec<V>>| ExpectedAttribute {
            value,
            exists,
            comparison_operator: Some("EQ".to_owned()),
            attribute_value_list: list,
        };
    // Exists, true or false, cannot accompany a ComparisonOperator.
    for exists in [true, false] {
        for list in [None, Some(vec![s("x")])] {
            assert_eq!(
                message(expected_one(with_operator(Some(exists), None, list))),
                format!(
                    "{prefix}Exists and ComparisonOperator cannot be used together for \
                     Attribute: a"
                )
            );
        }
    }
    // Value and AttributeValueList never go together.
    assert_eq!(
        message(expected_one(with_operator(
            None,
            Some(s("x")),
            Some(vec![s("y")])
        ))),
        format!("{prefix}Value and AttributeValueList cannot be used together for Attribute: a")
    );
    // AttributeValueList needs a ComparisonOperator — checked before every Exists rule.
    for (exists, value) in [
        (None, None),
        (Some(true), None),
        (Some(false), Some(s("x"))),
        (Some(true), Some(s("x"))),
    ] {
        let entry = ExpectedAttribute {
            value,
            exists,
            comparison_operator: None,
            attribute_value_list: Some(vec![s("x")]),
        };
        assert_eq!(
            message(expected_one(entry)),
            format!(
                "{prefix}AttributeValueList can only be used with a ComparisonOperator for \
                 Attribute: a"
            )
        );
    }
}

#[test]
fn expected_comparison_operator_applies_to_the_list_or_to_value() {
    let with = |operator: &str, value: Option<V>, list: Option<Vec<V>>| ExpectedAttribute {
        value,
        exists: None,
        comparison_operator: Some(operator.to_owned()),
        attribute_value_list: list,
    };
    assert_eq!(
        expected_one(with("GT", None, Some(vec![n("3")]))).unwrap(),
        Some(cmp("a", Comparator::Gt, n("3")))
    );
    // DynamoDB accepts Value with a ComparisonOperator; Value is the one argument.
    assert_eq!(
        expected_one(with("GT", Some(n("3")), None)).unwrap(),
        Some(cmp("a", Comparator::Gt, n("3")))
    );
    assert_eq!(
        expected_one(with("NOT_NULL", None, None)).unwrap(),
        Some(func("attribute_exists", vec![attr("a")]))
    );
    assert_eq!(
        message(expected_one(with("NULL", Some(n("3")), None))),
        "One or more parameter values were invalid: Invalid number of argument(s) for the NULL \
         ComparisonOperator"
    );
    assert_eq!(
        message(expected_one(with("BETWEEN", Some(n("3")), None))),
        "One or more parameter values were invalid: Invalid number of argument(s) for the \
         BETWEEN ComparisonOperator"
    );
    assert_eq!(
        message(expected_one(with("BEGINS_WITH", None, Some(vec![n("3")])))),
        "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid \
         for N AttributeValue type"
    );
    assert_eq!(
        message(expected_one(with("Eq", None, Some(vec![n("3")])))),
        "1 validation error detected: Value 'Eq' at 'expected.a.member.comparisonOperator' \
         failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, \
         LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
    );
}

#[test]
fn expected_every_operator_matches_the_filter_conversion() {
    for operator in ALL_OPERATORS {
        let values = match operator {
            "NULL" | "NOT_NULL" => vec![],
            "BETWEEN" => vec![s("a"), s("b")],
            "IN" => vec![s("a"), s("b"), s("c")],
            _ => vec![s("a")],
        };
        let entry = ExpectedAttribute {
            comparison_operator: Some(operator.to_owned()),
            attribute_value_list: Some(values.clone()),
            ..ExpectedAttribute::default()
        };
        assert_eq!(
            expected_one(entry).unwrap(),
            scan_one(operator, values).unwrap(),
            "{operator}"
        );
    }
}

#[test]
fn expected_violations_are_collected_before_argument_errors() {
    let expected = entries(&[
        (
            "a",
            ExpectedAttribute {
                comparison_operator: Some("EQ".to_owned()),
                attribute_value_list: Some(vec![]),
                ..ExpectedAttribute::default()
            },
        ),
        (
            "b",
            ExpectedAttribute {
                exists: Some(true),
                ..ExpectedAttribute::default()
            },
        ),
        (
            "c",
            ExpectedAttribute {
                exists: Some(false),
                ..expected_value(n("1"))
            },
        ),
    ]);
    assert_eq!(
        message(expected_to_condition(&expected, None)),
        "2 validation errors detected: One or more parameter values were invalid: Value must be \
         provided when Exists is true for Attribute: b; One or more parameter values were \
         invalid: Value cannot be used when Exists is false for Attribute: c"
    );
}

#[test]
fn expected_joins_with_conditional_operator() {
    let expected = entries(&[
        ("version", expected_value(n("5"))),
        (
            "lock",
            ExpectedAttribute {
                exists: Some(false),
                ..ExpectedAttribute::default()
            },
        ),
    ]);
    let version = cmp("version", Comparator::Eq, n("5"));
    let lock = func("attribute_not_exists", vec![attr("lock")]);
    assert_eq!(
        expected_to_condition(&expected, None).unwrap(),
        Some(and(version.clone(), lock.clone()))
    );
    assert_eq!(
        expected_to_condition(&expected, Some("OR")).unwrap(),
        Some(or(version, lock))
    );
}

#[test]
fn expected_conditional_operator_usage() {
    assert_eq!(expected_to_condition(&[], None).unwrap(), None);
    assert_eq!(
        message(expected_to_condition(&[], Some("OR"))),
        "ConditionalOperator cannot be used without Filter or Expected"
    );
    assert_eq!(
        message(expected_to_condition(
            &entries(&[("a", expected_value(n("1")))]),
            Some("AND")
        )),
        "ConditionalOperator can only be used when Filter or Expected has two or more elements"
    );
    assert_eq!(
        message(expected_to_condition(
            &entries(&[("a", expected_value(n("1"))), ("b", expected_value(n("2")))]),
            Some("or")
        )),
        "1 validation error detected: Value 'or' at 'conditionalOperator' failed to satisfy \
         constraint: Member must satisfy enum value set: [AND, OR]"
    );
}

// ---------------------------------------------------------------------------------------------
// KeyConditions

#[test]
fn key_conditions_join_with_and_in_request_order() {
    let conditions = entries(&[
        ("sk", cond("BETWEEN", vec![s("a"), s("m")])),
        ("pk", cond("EQ", vec![s("p")])),
    ]);
    assert_eq!(
        key_conditions_to_condition(&conditions).unwrap(),
        and(
            Condition::Between(attr("sk"), lit(s("a")), lit(s("m"))),
            cmp("pk", Comparator::Eq, s("p"))
        )
    );
    assert_eq!(
        key_conditions_to_condition(&entries(&[("pk", cond("EQ", vec![n("1")]))])).unwrap(),
        cmp("pk", Comparator::Eq, n("1"))
    );
}

#[test]
fn key_conditions_accept_the_indexable_operators() {
    for (operator, values) in [
        ("EQ", vec![s("x")]),
        ("LE", vec![s("x")]),
        ("LT", vec![s("x")]),
        ("GE", vec![s("x")]),
        ("GT", vec![s("x")]),
        ("BEGINS_WITH", vec![s("x")]),
        ("BETWEEN", vec![s("x"), s("y")]),
    ] {
        let conditions = entries(&[
            ("pk", cond("EQ", vec![s("p")])),
            ("sk", cond(operator, values)),
        ]);
        assert!(
            key_conditions_to_condition(&conditions).is_ok(),
            "{operator}"
        );
    }
}

#[test]
fn key_conditions_reject_the_other_operators() {
    for (operator, values) in [
        ("NE", vec![s("x")]),
        ("NOT_NULL", vec![]),
        ("NULL", vec![]),
        ("CONTAINS", vec![s("x")]),
        ("NOT_CONTAINS", vec![s("x")]),
        ("IN", vec![s("x")]),
    ] {
        let conditions = entries(&[
            ("pk", cond("EQ", vec![s("p")])),
            ("sk", cond(operator, values)),
        ]);
        assert_eq!(
            message(key_conditions_to_condition(&conditions)),
            "Attempted conditional constraint is not an indexable operation",
            "{operator}"
        );
    }
}

#[test]
fn key_conditions_check_arguments_before_indexability() {
    assert_eq!(
        message(key_conditions_to_condition(&entries(&[(
            "pk",
            cond("IN", vec![])
        )]))),
        "One or more parameter values were invalid: Invalid number of argument(s) for the IN \
         ComparisonOperator"
    );
    assert_eq!(
        message(key_conditions_to_condition(&entries(&[(
            "pk",
            cond("BEGINS_WITH", vec![n("1")])
        )]))),
        "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid \
         for N AttributeValue type"
    );
}

#[test]
fn key_conditions_have_one_to_eight_entries() {
    // Eight: four HASH and four RANGE components of a multi-attribute GSI key; how many
    // the queried key takes is checked against its schema later.
    let one = cond("EQ", vec![s("x")]);
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    let many = |n: usize| -> Vec<(String, LegacyCondition)> {
        entries(
            &names[..n]
                .iter()
                .map(|k| (*k, one.clone()))
                .collect::<Vec<_>>(),
        )
    };
    assert!(key_conditions_to_condition(&many(3)).is_ok());
    assert!(key_conditions_to_condition(&many(8)).is_ok());
    for conditions in [vec![], many(9)] {
        assert_eq!(
            message(key_conditions_to_condition(&conditions)),
            "Conditions can be of length 1 or 2 only"
        );
    }
}

#[test]
fn key_conditions_validator_violations() {
    assert_eq!(
        message(key_conditions_to_condition(&entries(&[
            ("pk", LegacyCondition::default()),
            ("sk", cond("NE", vec![s("x")])),
        ]))),
        "1 validation error detected: Value null at 'keyConditions.pk.member.comparisonOperator' \
         failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        message(key_conditions_to_condition(&entries(&[(
            "pk",
            cond("==", vec![s("x")])
        )]))),
        "1 validation error detected: Value '==' at 'keyConditions.pk.member.comparisonOperator' \
         failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, \
         LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
    );
}

// ---------------------------------------------------------------------------------------------
// AttributeUpdates

fn update(action: Option<&str>, value: Option<V>) -> AttributeUpdate {
    AttributeUpdate {
        value,
        action: action.map(str::to_owned),
    }
}

fn update_one(action: Option<&str>, value: Option<V>) -> Result<Update, ExprError> {
    attribute_updates_to_update(&entries(&[("a", update(action, value))]))
}

#[test]
fn put_is_set_and_the_default() {
    for action in [None, Some("PUT")] {
        for value in samples() {
            assert_eq!(
                update_one(action, Some(value.clone())).unwrap(),
                Update {
                    set: vec![(top("a"), lit(value))],
                    legacy: true,
                    ..Update::default()
                }
            );
        }
    }
}

#[test]
fn put_and_add_need_a_value() {
    for action in [None, Some("PUT"), Some("ADD")] {
        assert_eq!(
            message(update_one(action, None)),
            "One or more parameter values were invalid: Only DELETE action is allowed when no \
             attribute value is specified"
        );
    }
}

#[test]
fn delete_without_value_is_remove() {
    assert_eq!(
        update_one(Some("DELETE"), None).unwrap(),
        Update {
            remove: vec![top("a")],
            legacy: true,
            ..Update::default()
        }
    );
}

#[test]
fn delete_with_a_set_removes_elements_and_other_types_are_errors() {
    for value in samples() {
        let result = update_one(Some("DELETE"), Some(value.clone()));
        let long = match value.type_name() {
            "S" => "STRING",
            "N" => "NUMBER",
            "B" => "BINARY",
            "BOOL" => "BOOLEAN",
            "NULL" => "NULL",
            "M" => "MAP",
            "L" => "LIST",
            _ => {
                assert_eq!(
                    result.unwrap(),
                    Update {
                        delete: vec![(top("a"), lit(value))],
                        legacy: true,
                        ..Update::default()
                    }
                );
                continue;
            }
        };
        assert_eq!(
            message(result),
            format!(
                "One or more parameter values were invalid: DELETE action with value is not \
                 supported for the type {long}"
            )
        );
    }
}

#[test]
fn add_takes_numbers_and_sets_only() {
    for value in samples() {
        let result = update_one(Some("ADD"), Some(value.clone()));
        let long = match value.type_name() {
            "S" => "STRING",
            "B" => "BINARY",
            "BOOL" => "BOOLEAN",
            "NULL" => "NULL",
            "M" => "MAP",
            "L" => "LIST",
            _ => {
                assert_eq!(
                    result.unwrap(),
                    Update {
                        add: vec![(top("a"), lit(value))],
                        legacy: true,
                        ..Update::default()
                    }
                );
                continue;
            }
        };
        assert_eq!(
            message(result),
            format!(
                "One or more parameter values were invalid: ADD action is not supported for the \
                 type {long}"
            )
        );
    }
}

#[test]
fn unknown_actions_are_enum_violations() {
    let updates = entries(&[
        ("a", update(Some("put"), Some(n("1")))),
        ("b", update(Some("PUT"), None)),
        ("c", update(Some("REMOVE"), None)),
    ]);
    assert_eq!(
        message(attribute_updates_to_update(&updates)),
        "2 validation errors detected: Value 'put' at 'attributeUpdates.a.member.action' failed \
         to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]; Value \
         'REMOVE' at 'attributeUpdates.c.member.action' failed to satisfy constraint: Member \
         must satisfy enum value set: [ADD, PUT, DELETE]"
    );
}

#[test]
fn attribute_updates_keep_request_order_within_each_clause() {
    let updates = entries(&[
        ("z", update(Some("ADD"), Some(n("1")))),
        ("y", update(None, Some(s("new")))),
        ("x", update(Some("DELETE"), None)),
        ("w", update(Some("DELETE"), Some(ss(&["gone"])))),
        ("v", update(Some("PUT"), Some(n("2")))),
        ("u", update(Some("ADD"), Some(ss(&["more"])))),
        ("t", update(Some("DELETE"), None)),
    ]);
    assert_eq!(
        attribute_updates_to_update(&updates).unwrap(),
        Update {
            set: vec![(top("y"), lit(s("new"))), (top("v"), lit(n("2")))],
            remove: vec![top("x"), top("t")],
            add: vec![(top("z"), lit(n("1"))), (top("u"), lit(ss(&["more"])))],
            delete: vec![(top("w"), lit(ss(&["gone"])))],
            legacy: true,
        }
    );
    assert_eq!(
        attribute_updates_to_update(&[]).unwrap(),
        Update {
            legacy: true,
            ..Update::default()
        }
    );
}

#[test]
fn the_first_bad_update_is_reported() {
    let updates = entries(&[
        ("a", update(Some("ADD"), Some(n("1")))),
        ("b", update(Some("ADD"), Some(s("x")))),
        ("c", update(Some("PUT"), None)),
    ]);
    assert_eq!(
        message(attribute_updates_to_update(&updates)),
        "One or more parameter values were invalid: ADD action is not supported for the type \
         STRING"
    );
}

// ---------------------------------------------------------------------------------------------
// AttributesToGet

#[test]
fn attributes_to_get_is_a_projection_of_top_level_names() {
    let names: Vec<String> = ["b", "a.b", "list[0]", "a"]
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert_eq!(
        attributes_to_get_to_projection(&names).unwrap(),
        Projection(vec![top("b"), top("a.b"), top("list[0]"), top("a")])
    );
}

#[test]
fn attributes_to_get_must_not_be_empty() {
    assert_eq!(
        message(attributes_to_get_to_projection(&[])),
        "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy \
         constraint: Member must have length greater than or equal to 1"
    );
}

#[test]
fn attributes_to_get_must_not_repeat_a_name() {
    let names: Vec<String> = ["a", "b", "c", "b", "a"]
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert_eq!(
        message(attributes_to_get_to_projection(&names)),
        "One or more parameter values were invalid: Duplicate value in attribute name: b"
    );
}

// ---------------------------------------------------------------------------------------------
// Mixing legacy and expression parameters

#[test]
fn mixing_is_allowed_only_with_one_kind() {
    assert!(check_no_mixing(&[], &[]).is_ok());
    assert!(check_no_mixing(&["Expected", "AttributeUpdates"], &[]).is_ok());
    assert!(check_no_mixing(&[], &["ConditionExpression", "UpdateExpression"]).is_ok());
}

#[test]
fn mixing_message() {
    assert_eq!(
        message(check_no_mixing(&["Expected"], &["ConditionExpression"])),
        "Can not use both expression and non-expression parameters in the same request: \
         Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    );
    assert_eq!(
        message(check_no_mixing(
            &["AttributesToGet"],
            &["KeyConditionExpression"]
        )),
        "Can not use both expression and non-expression parameters in the same request: \
         Non-expression parameters: {AttributesToGet} Expression parameters: \
         {KeyConditionExpression}"
    );
    assert_eq!(
        message(check_no_mixing(
            &["AttributesToGet", "QueryFilter"],
            &["FilterExpression", "ProjectionExpression"]
        )),
        "Can not use both expression and non-expression parameters in the same request: \
         Non-expression parameters: {AttributesToGet, QueryFilter} Expression parameters: \
         {FilterExpression, ProjectionExpression}"
    );
}

// ---------------------------------------------------------------------------------------------
// Repeated names: JSON object semantics

#[test]
fn a_repeated_name_keeps_its_first_position_and_last_value() {
    let filter = entries(&[
        ("a", cond("EQ", vec![n("1")])),
        ("b", cond("NULL", vec![])),
        ("a", cond("GT", vec![n("2")])),
    ]);
    assert_eq!(
        filter_to_condition(&filter, None, "ScanFilter").unwrap(),
        Some(and(
            cmp("a", Comparator::Gt, n("2")),
            func("attribute_not_exists", vec![attr("b")])
        ))
    );
    // One distinct name: a ConditionalOperator has nothing to join.
    let twice = entries(&[("a", expected_value(n("1"))), ("a", expected_value(n("2")))]);
    assert_eq!(
        message(expected_to_condition(&twice, Some("OR"))),
        "ConditionalOperator can only be used when Filter or Expected has two or more elements"
    );
    // Only the last occurrence is validated.
    let fixed = entries(&[
        ("a", ExpectedAttribute::default()),
        ("a", expected_value(n("2"))),
    ]);
    assert_eq!(
        expected_to_condition(&fixed, None).unwrap(),
        Some(cmp("a", Comparator::Eq, n("2")))
    );
    let key = entries(&[
        ("pk", cond("EQ", vec![s("x")])),
        ("pk", cond("EQ", vec![s("y")])),
        ("sk", cond("GT", vec![s("z")])),
    ]);
    assert_eq!(
        key_conditions_to_condition(&key).unwrap(),
        and(
            cmp("pk", Comparator::Eq, s("y")),
            cmp("sk", Comparator::Gt, s("z"))
        )
    );
    let updates = entries(&[
        ("a", update(Some("ADD"), Some(n("1")))),
        ("a", update(Some("DELETE"), None)),
    ]);
    assert_eq!(
        attribute_updates_to_update(&updates).unwrap(),
        Update {
            remove: vec![top("a")],
            legacy: true,
            ..Update::default()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Legacy semantics, evaluated by the one evaluator

fn item(attributes: &[(&str, V)]) -> Item {
    attributes
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

/// Evaluates one `ScanFilter` entry on attribute `a` against `item`.
fn scan_matches(operator: &str, values: Vec<V>, item: &Item) -> bool {
    let condition = scan_one(operator, values).unwrap().unwrap();
    evaluate(&condition, item).unwrap()
}

fn expected_holds(expected: &[(&str, ExpectedAttribute)], op: Option<&str>, item: &Item) -> bool {
    let condition = expected_to_condition(&entries(expected), op)
        .unwrap()
        .unwrap();
    evaluate(&condition, item).unwrap()
}

#[test]
fn operators_on_a_missing_attribute() {
    let empty = Item::new();
    let other = item(&[("b", n("1"))]);
    for target in [&empty, &other] {
        // NE holds when the attribute is absent, and NULL does; nothing else (not even
        // NOT_CONTAINS, unlike `NOT contains(a, :v)`).
        assert!(scan_matches("NE", vec![n("1")], target));
        assert!(!scan_matches("NOT_CONTAINS", vec![s("x")], target));
        assert!(scan_matches("NULL", vec![], target));
        assert!(!scan_matches("NOT_NULL", vec![], target));
        assert!(!scan_matches("EQ", vec![n("1")], target));
        for operator in ["LE", "LT", "GE", "GT", "CONTAINS", "BEGINS_WITH"] {
            assert!(!scan_matches(operator, vec![s("1")], target), "{operator}");
        }
        assert!(!scan_matches("IN", vec![n("1"), n("2")], target));
        assert!(!scan_matches("BETWEEN", vec![n("0"), n("9")], target));
    }
}

#[test]
fn operators_across_types_do_not_match() {
    // {"S":"6"} does not equal {"N":"6"}; {"N":"6"} does not equal {"NS":["6","2","1"]}.
    let string_six = item(&[("a", s("6"))]);
    assert!(!scan_matches("EQ", vec![n("6")], &string_six));
    assert!(scan_matches("NE", vec![n("6")], &string_six));
    assert!(!scan_matches("LE", vec![n("6")], &string_six));
    assert!(!scan_matches("GE", vec![n("6")], &string_six));
    assert!(!scan_matches("BETWEEN", vec![n("0"), n("9")], &string_six));
    let number_set = item(&[("a", ns(&["6", "2", "1"]))]);
    assert!(!scan_matches("EQ", vec![n("6")], &number_set));
    assert!(scan_matches("NE", vec![n("6")], &number_set));
    // BEGINS_WITH needs a string or binary attribute.
    let number = item(&[("a", n("123"))]);
    assert!(!scan_matches("BEGINS_WITH", vec![s("1")], &number));
}

#[test]
fn null_and_not_null_test_presence_not_the_null_type() {
    let null = item(&[("a", V::Null)]);
    assert!(scan_matches("NOT_NULL", vec![], &null));
    assert!(!scan_matches("NULL", vec![], &null));
    assert!(scan_matches("EQ", vec![V::Null], &null));
}

#[test]
fn comparisons_and_ranges() {
    let ten = item(&[("a", n("10"))]);
    assert!(scan_matches("EQ", vec![n("10.0")], &ten));
    assert!(scan_matches("GT", vec![n("9")], &ten));
    assert!(scan_matches("GE", vec![n("10")], &ten));
    assert!(!scan_matches("LT", vec![n("10")], &ten));
    assert!(scan_matches("LE", vec![n("1e1")], &ten));
    assert!(scan_matches("BETWEEN", vec![n("10"), n("10")], &ten));
    assert!(scan_matches("BETWEEN", vec![n("-1"), n("11")], &ten));
    assert!(!scan_matches("BETWEEN", vec![n("11"), n("12")], &ten));
    assert!(scan_matches("IN", vec![n("9"), n("10")], &ten));
    assert!(!scan_matches("IN", vec![n("9"), n("11")], &ten));
    // Strings order by UTF-8 bytes: "a" > "B".
    let lower = item(&[("a", s("a"))]);
    assert!(scan_matches("GT", vec![s("B")], &lower));
    assert!(scan_matches("BEGINS_WITH", vec![s("")], &lower));
    let binary = item(&[("a", b(&[0x80, 1]))]);
    assert!(scan_matches("GT", vec![b(&[0x7f])], &binary));
    assert!(scan_matches("BEGINS_WITH", vec![b(&[0x80])], &binary));
}

#[test]
fn contains_on_strings_binaries_sets_and_lists() {
    let cases: Vec<(V, V, bool)> = vec![
        (s("hello"), s("ell"), true),
        (s("hello"), s("xyz"), false),
        (b(&[1, 2, 3]), b(&[2, 3]), true),
        (b(&[1, 2, 3]), b(&[3, 2]), false),
        (ss(&["x", "y"]), s("y"), true),
        (ss(&["x", "y"]), s("z"), false),
        (ns(&["1", "2"]), n("2.0"), true),
        (ns(&["1", "2"]), s("2"), false),
        (bs(&[b"x"]), b(b"x"), true),
        (V::L(vec![n("1"), s("two")]), s("two"), true),
        (V::L(vec![n("1"), s("two")]), n("2"), false),
        (V::L(vec![V::Bool(true)]), V::Bool(true), true),
        (n("123"), n("2"), false),
    ];
    for (stored, needle, found) in cases {
        let stored_item = item(&[("a", stored.clone())]);
        assert_eq!(
            scan_matches("CONTAINS", vec![needle.clone()], &stored_item),
            found,
            "{stored:?} CONTAINS {needle:?}"
        );
        assert_eq!(
            scan_matches("NOT_CONTAINS", vec![needle.clone()], &stored_item),
            !found,
            "{stored:?} NOT_CONTAINS {needle:?}"
        );
    }
}

#[test]
fn expected_semantics() {
    let stored = item(&[("version", n("6")), ("session", s("keep-me"))]);
    let exists_false = ExpectedAttribute {
        exists: Some(false),
        ..ExpectedAttribute::default()
    };
    let exists_true_5 = ExpectedAttribute {
        exists: Some(true),
        ..expected_value(n("5"))
    };
    let exists_true_6 = ExpectedAttribute {
        exists: Some(true),
        ..expected_value(n("6"))
    };
    // Exists: true with a stale Value fails; with the current one it holds.
    assert!(!expected_holds(
        &[("version", exists_true_5.clone())],
        None,
        &stored
    ));
    assert!(expected_holds(&[("version", exists_true_6)], None, &stored));
    assert!(expected_holds(
        &[("version", expected_value(n("6.00")))],
        None,
        &stored
    ));
    // Exists: false holds only for an absent attribute (and for a missing item).
    assert!(!expected_holds(
        &[("version", exists_false.clone())],
        None,
        &stored
    ));
    assert!(expected_holds(
        &[("lock", exists_false.clone())],
        None,
        &stored
    ));
    assert!(expected_holds(
        &[("version", exists_false.clone())],
        None,
        &Item::new()
    ));
    // Value on a missing item never matches.
    assert!(!expected_holds(
        &[("version", expected_value(n("6")))],
        None,
        &Item::new()
    ));
    // AND by default, OR on request.
    let both = [("version", exists_true_5), ("lock", exists_false)];
    assert!(!expected_holds(&both, None, &stored));
    assert!(!expected_holds(&both, Some("AND"), &stored));
    assert!(expected_holds(&both, Some("OR"), &stored));
    // A ComparisonOperator with Value.
    let le = ExpectedAttribute {
        comparison_operator: Some("LE".to_owned()),
        ..expected_value(n("6"))
    };
    assert!(expected_holds(&[("version", le)], None, &stored));
}

#[test]
fn expected_sets_compare_as_sets() {
    let stored = item(&[("tags", ss(&["a", "b"]))]);
    assert!(expected_holds(
        &[("tags", expected_value(ss(&["b", "a"])))],
        None,
        &stored
    ));
    assert!(!expected_holds(
        &[("tags", expected_value(ss(&["a"])))],
        None,
        &stored
    ));
}

#[test]
fn key_conditions_select_like_a_key_condition_expression() {
    let conditions = entries(&[
        ("pk", cond("EQ", vec![s("user#1")])),
        ("sk", cond("BEGINS_WITH", vec![s("order#")])),
    ]);
    let condition = key_conditions_to_condition(&conditions).unwrap();
    let hit = item(&[("pk", s("user#1")), ("sk", s("order#2024"))]);
    let wrong_sort = item(&[("pk", s("user#1")), ("sk", s("profile"))]);
    let wrong_partition = item(&[("pk", s("user#2")), ("sk", s("order#2024"))]);
    assert!(evaluate(&condition, &hit).unwrap());
    assert!(!evaluate(&condition, &wrong_sort).unwrap());
    assert!(!evaluate(&condition, &wrong_partition).unwrap());
}

#[test]
fn key_conditions_reduce_like_a_key_condition_expression() {
    // The engine reduces converted KeyConditions with the same analysis it applies to a
    // KeyConditionExpression; the converted tree has exactly that shape.
    let cases: Vec<(LegacyCondition, SortKeyCondition)> = vec![
        (
            cond("BETWEEN", vec![n("1"), n("2")]),
            SortKeyCondition::Between(n("1"), n("2")),
        ),
        (
            cond("BEGINS_WITH", vec![s("x")]),
            SortKeyCondition::BeginsWith(s("x")),
        ),
        (
            cond("LT", vec![s("x")]),
            SortKeyCondition::Compare(Comparator::Lt, s("x")),
        ),
        (
            cond("EQ", vec![s("x")]),
            SortKeyCondition::Compare(Comparator::Eq, s("x")),
        ),
    ];
    for (sort, expected) in cases {
        // Either order: the sort key condition may come first.
        for conditions in [
            entries(&[("pk", cond("EQ", vec![s("p")])), ("sk", sort.clone())]),
            entries(&[("sk", sort.clone()), ("pk", cond("EQ", vec![s("p")]))]),
        ] {
            let condition = key_conditions_to_condition(&conditions).unwrap();
            assert_eq!(
                key_condition(&condition, "pk", Some("sk")).unwrap(),
                KeyCondition {
                    partition: s("p"),
                    sort: Some(expected.clone()),
                }
            );
        }
    }
    let only_partition = key_conditions_to_condition(&entries(&[("pk", cond("EQ", vec![n("7")]))]));
    assert_eq!(
        key_condition(&only_partition.unwrap(), "pk", None).unwrap(),
        KeyCondition {
            partition: n("7"),
            sort: None,
        }
    );
}

fn updated(updates: &[(&str, AttributeUpdate)], mut target: Item) -> Result<Item, ExprError> {
    let update = attribute_updates_to_update(&entries(updates))?;
    apply_update(&update, &mut target)?;
    Ok(target)
}

#[test]
fn add_to_a_missing_attribute_starts_from_zero_or_the_empty_set() {
    assert_eq!(
        updated(&[("count", update(Some("ADD"), Some(n("3"))))], Item::new()).unwrap(),
        item(&[("count", n("3"))])
    );
    assert_eq!(
        updated(
            &[("count", update(Some("ADD"), Some(n("-3"))))],
            Item::new()
        )
        .unwrap(),
        item(&[("count", n("-3"))])
    );
    assert_eq!(
        updated(
            &[("tags", update(Some("ADD"), Some(ss(&["x"]))))],
            Item::new()
        )
        .unwrap(),
        item(&[("tags", ss(&["x"]))])
    );
}

#[test]
fn add_adds_numbers_and_unites_sets() {
    let stored = item(&[
        ("count", n("10")),
        ("tags", ss(&["a", "b"])),
        ("ids", ns(&["1"])),
    ]);
    let result = updated(
        &[
            ("count", update(Some("ADD"), Some(n("-2.5")))),
            ("tags", update(Some("ADD"), Some(ss(&["b", "c"])))),
            ("ids", update(Some("ADD"), Some(ns(&["1.0", "2"])))),
        ],
        stored,
    )
    .unwrap();
    assert_eq!(result.get("count"), Some(&n("7.5")));
    assert_eq!(result.get("tags"), Some(&ss(&["a", "b", "c"])));
    assert_eq!(result.get("ids"), Some(&ns(&["1", "2"])));
}

#[test]
fn add_of_a_mismatched_type_fails_and_changes_nothing() {
    // DynamoDB words this "Type mismatch for attribute to update" for AttributeUpdates; the
    // shared update evaluator reports its expression wording. Only the failure is pinned here.
    let stored = item(&[("tags", ss(&["a"])), ("count", n("1"))]);
    for (name, value) in [
        ("tags", ns(&["1"])),
        ("tags", n("1")),
        ("count", ss(&["a"])),
    ] {
        let add = update(Some("ADD"), Some(value));
        let converted = attribute_updates_to_update(&entries(&[(name, add)])).unwrap();
        let mut target = stored.clone();
        assert!(apply_update(&converted, &mut target).is_err(), "{name}");
        assert_eq!(target, stored);
    }
}

#[test]
fn delete_removes_attributes_and_set_elements() {
    let stored = item(&[
        ("gone", s("x")),
        ("tags", ss(&["a", "b", "c"])),
        ("last", ns(&["1"])),
    ]);
    let result = updated(
        &[
            ("gone", update(Some("DELETE"), None)),
            ("tags", update(Some("DELETE"), Some(ss(&["a", "c", "z"])))),
            ("last", update(Some("DELETE"), Some(ns(&["1"])))),
            ("absent", update(Some("DELETE"), None)),
            ("absent_set", update(Some("DELETE"), Some(ss(&["q"])))),
        ],
        stored,
    )
    .unwrap();
    // Deleting every element removes the attribute: DynamoDB stores no empty sets.
    assert_eq!(result, item(&[("tags", ss(&["b"]))]));
}

#[test]
fn put_replaces_whatever_was_there() {
    let stored = item(&[("a", ss(&["x"])), ("keep", n("1"))]);
    let result = updated(
        &[
            ("a", update(None, Some(s("new")))),
            ("b", update(Some("PUT"), Some(V::L(vec![n("1")])))),
        ],
        stored,
    )
    .unwrap();
    assert_eq!(
        result,
        item(&[("a", s("new")), ("b", V::L(vec![n("1")])), ("keep", n("1"))])
    );
}

#[test]
fn attributes_to_get_projects_top_level_attributes() {
    let mut map = Item::new();
    map.insert("b".to_owned(), n("1"));
    let stored = item(&[("a", V::M(map)), ("a.b", s("dotted")), ("c", n("3"))]);
    let names: Vec<String> = ["a.b", "c", "missing"]
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    let projection = attributes_to_get_to_projection(&names).unwrap();
    assert_eq!(
        project(&projection.0, &stored),
        item(&[("a.b", s("dotted")), ("c", n("3"))])
    );
}

// ---------------------------------------------------------------------------------------------
// No input panics

fn any_value() -> impl Strategy<Value = V> {
    prop_oneof![
        "[a-c]{0,2}".prop_map(V::S),
        (-3i64..3).prop_map(|i| V::N(Number::from_i64(i))),
        prop::collection::vec(any::<u8>(), 0..3).prop_map(V::B),
        any::<bool>().prop_map(V::Bool),
        Just(V::Null),
        Just(V::L(vec![])),
        Just(V::M(Item::new())),
        Just(ss(&["a", "b"])),
        Just(ns(&["1"])),
        Just(bs(&[b"a"])),
    ]
}

fn any_operator() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("EQ".to_owned()),
        Just("NE".to_owned()),
        Just("LE".to_owned()),
        Just("LT".to_owned()),
        Just("GE".to_owned()),
        Just("GT".to_owned()),
        Just("NOT_NULL".to_owned()),
        Just("NULL".to_owned()),
        Just("CONTAINS".to_owned()),
        Just("NOT_CONTAINS".to_owned()),
        Just("BEGINS_WITH".to_owned()),
        Just("IN".to_owned()),
        Just("BETWEEN".to_owned()),
        "[A-Z_]{0,4}",
    ])
}

fn any_list() -> impl Strategy<Value = Option<Vec<V>>> {
    prop::option::of(prop::collection::vec(any_value(), 0..4))
}

fn any_name() -> impl Strategy<Value = String> {
    "[ab.#:]{0,2}"
}

fn any_conditional() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("AND".to_owned()),
        Just("OR".to_owned()),
        "[A-Za-z]{0,3}"
    ])
}

proptest! {
    #[test]
    fn no_input_panics(
        expected in prop::collection::vec(
            (any_name(), prop::option::of(any_value()), prop::option::of(any::<bool>()),
             any_operator(), any_list()),
            0..4,
        ),
        filter in prop::collection::vec((any_name(), any_operator(), any_list()), 0..4),
        updates in prop::collection::vec(
            (any_name(), prop::option::of(any_value()),
             prop::option::of(prop_oneof![
                 Just("PUT".to_owned()), Just("ADD".to_owned()), Just("DELETE".to_owned()),
                 "[A-Z]{0,3}"
             ])),
            0..4,
        ),
        names in prop::collection::vec(any_name(), 0..4),
        conditional in any_conditional(),
    ) {
        let expected: Vec<(String, ExpectedAttribute)> = expected
            .into_iter()
            .map(|(name, value, exists, comparison_operator, attribute_value_list)| {
                let entry = ExpectedAttribute {
                    value,
                    exists,
                    comparison_operator,
                    attribute_value_list,
                };
                (name, entry)
            })
            .collect();
        let filter: Vec<(String, LegacyCondition)> = filter
            .into_iter()
            .map(|(name, comparison_operator, attribute_value_list)| {
                (name, LegacyCondition { comparison_operator, attribute_value_list })
            })
            .collect();
        let updates: Vec<(String, AttributeUpdate)> = updates
            .into_iter()
            .map(|(name, value, action)| (name, AttributeUpdate { value, action }))
            .collect();
        let _ = expected_to_condition(&expected, conditional.as_deref());
        let _ = filter_to_condition(&filter, conditional.as_deref(), "ScanFilter");
        let _ = key_conditions_to_condition(&filter);
        let _ = attribute_updates_to_update(&updates);
        let _ = attributes_to_get_to_projection(&names);
    }
}

#[test]
fn in_needs_values_of_one_type() {
    for values in [vec![s("10"), n("10")], vec![n("1"), n("2"), b(b"3")]] {
        assert_eq!(
            message(scan_one("IN", values).map(|_| ())),
            "One or more parameter values were invalid: AttributeValues inside \
             AttributeValueList must be of same type"
        );
    }
}
