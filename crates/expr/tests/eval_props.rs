//! Property tests of the evaluation side on arbitrary resolved trees and items:
//! - `evaluate`, `apply_update` and `project` never panic, whatever the tree;
//! - a failed update leaves the item unchanged;
//! - `NOT c` is the negation of `c`, and `a <> b` of `a = b`;
//! - `SET p = :v` then reading the reported path gives `:v`;
//! - `ADD a :n` on a number agrees with `Number::checked_add`, result and error;
//! - `REMOVE a` of a present top-level attribute removes exactly it;
//! - projection selects a sub-item: what it returns agrees with the item at every selected
//!   path, and projecting on every top-level name returns the item;
//! - value equality is an equivalence that ignores the order of set members.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use stator_expr::eval::values_equal;
use stator_expr::path;
use stator_expr::{
    apply_update, evaluate, project, ArithmeticOp, Comparator, Condition, FunctionCall, Name,
    Operand, Path, PathElement, Update,
};
use stator_types::{AttributeValue, Item, Number};

// ---------------------------------------------------------------------------------------
// Strategies. Names come from a small pool so that paths often hit.

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("c".to_owned()),
        Just("x".to_owned()),
        Just("é".to_owned()),
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        (-20i64..20).prop_map(Number::from),
        (
            any::<bool>(),
            0u128..100_000_000_000_000_000_000_000_000_000_000_000_000,
            -131i32..=126
        )
            .prop_filter_map("out of range", |(negative, coefficient, exponent)| {
                Number::from_parts(negative, coefficient, exponent).ok()
            }),
        prop_oneof![
            Just("9.9999999999999999999999999999999999999e125"),
            Just("-9.9999999999999999999999999999999999999e125"),
            Just("1e-130"),
            Just("99999999999999999999999999999999999999"),
            Just("0.1"),
        ]
        .prop_map(|text| Number::parse(text).unwrap()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[abé]{1,3}", Just("𝄞".to_owned()),]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..4, 0..3)
}

fn scalar() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        text().prop_map(AttributeValue::S),
        number().prop_map(AttributeValue::N),
        bytes().prop_map(AttributeValue::B),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::btree_set(text(), 1..4)
            .prop_map(|set| AttributeValue::Ss(set.into_iter().collect())),
        proptest::collection::btree_set(number(), 1..4)
            .prop_map(|set| AttributeValue::Ns(set.into_iter().collect())),
        proptest::collection::btree_set(bytes(), 1..4)
            .prop_map(|set| AttributeValue::Bs(set.into_iter().collect())),
    ]
}

fn value() -> impl Strategy<Value = AttributeValue> {
    scalar().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
            proptest::collection::btree_map(name(), inner, 0..4).prop_map(AttributeValue::M),
        ]
    })
}

fn item() -> impl Strategy<Value = Item> {
    proptest::collection::btree_map(name(), value(), 0..5)
}

fn element() -> impl Strategy<Value = PathElement> {
    prop_oneof![
        name().prop_map(|n| PathElement::Attribute(Name::Literal(n))),
        (0u32..4).prop_map(PathElement::Index),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    (name(), proptest::collection::vec(element(), 0..3)).prop_map(|(first, rest)| {
        let mut elements = vec![PathElement::Attribute(Name::Literal(first))];
        elements.extend(rest);
        Path(elements)
    })
}

fn function_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("size"),
        Just("if_not_exists"),
        Just("list_append"),
        Just("attribute_exists"),
        Just("attribute_not_exists"),
        Just("attribute_type"),
        Just("begins_with"),
        Just("contains"),
        Just("nonsense"),
    ]
    .prop_map(str::to_owned)
}

fn type_name() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        Just("S"),
        Just("N"),
        Just("B"),
        Just("BOOL"),
        Just("NULL"),
        Just("M"),
        Just("L"),
        Just("SS"),
        Just("NS"),
        Just("BS"),
        Just("X"),
    ]
    .prop_map(|t| AttributeValue::S(t.to_owned()))
}

/// Any resolved operand, including ones validation would reject.
fn operand() -> impl Strategy<Value = Operand> {
    let leaf = prop_oneof![
        3 => path().prop_map(Operand::Path),
        3 => value().prop_map(Operand::Literal),
        1 => type_name().prop_map(Operand::Literal),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (
                function_name(),
                proptest::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(name, args)| Operand::Function(FunctionCall { name, args })),
            (inner.clone(), any::<bool>(), inner).prop_map(|(a, plus, b)| {
                let op = if plus {
                    ArithmeticOp::Plus
                } else {
                    ArithmeticOp::Minus
                };
                Operand::Arithmetic(Box::new(a), op, Box::new(b))
            }),
        ]
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
        (operand(), comparator(), operand()).prop_map(|(a, c, b)| Condition::Compare(a, c, b)),
        (operand(), operand(), operand()).prop_map(|(a, b, c)| Condition::Between(a, b, c)),
        (operand(), proptest::collection::vec(operand(), 1..4))
            .prop_map(|(a, list)| Condition::In(a, list)),
        (function_name(), proptest::collection::vec(operand(), 0..3))
            .prop_map(|(name, args)| Condition::Function(FunctionCall { name, args })),
    ];
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

fn update() -> impl Strategy<Value = Update> {
    (
        proptest::collection::vec((path(), operand()), 0..3),
        proptest::collection::vec(path(), 0..3),
        proptest::collection::vec((path(), value().prop_map(Operand::Literal)), 0..2),
        proptest::collection::vec((path(), value().prop_map(Operand::Literal)), 0..2),
    )
        .prop_map(|(set, remove, add, delete)| Update {
            set,
            remove,
            add,
            delete,
            legacy: false,
        })
}

/// A condition operand of a shape validation accepts: a path, a value or `size(path)`.
fn valid_operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        4 => path().prop_map(Operand::Path),
        4 => value().prop_map(Operand::Literal),
        1 => path().prop_map(|p| Operand::Function(FunctionCall {
            name: "size".to_owned(),
            args: vec![Operand::Path(p)],
        })),
    ]
}

fn call(name: &str, args: Vec<Operand>) -> FunctionCall {
    FunctionCall {
        name: name.to_owned(),
        args,
    }
}

/// A condition of a shape validation accepts.
fn valid_condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        (valid_operand(), comparator(), valid_operand())
            .prop_map(|(a, c, b)| Condition::Compare(a, c, b)),
        (valid_operand(), valid_operand(), valid_operand())
            .prop_map(|(a, b, c)| Condition::Between(a, b, c)),
        (
            valid_operand(),
            proptest::collection::vec(valid_operand(), 1..4)
        )
            .prop_map(|(a, list)| Condition::In(a, list)),
        path().prop_map(|p| Condition::Function(call("attribute_exists", vec![Operand::Path(p)]))),
        path().prop_map(|p| Condition::Function(call(
            "attribute_not_exists",
            vec![Operand::Path(p)]
        ))),
        (path(), type_name()).prop_map(|(p, t)| Condition::Function(call(
            "attribute_type",
            vec![Operand::Path(p), Operand::Literal(t)]
        ))),
        (path(), valid_operand())
            .prop_map(|(p, o)| Condition::Function(call("begins_with", vec![Operand::Path(p), o]))),
        (path(), valid_operand())
            .prop_map(|(p, o)| Condition::Function(call("contains", vec![Operand::Path(p), o]))),
    ];
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

/// A path, usually of one name, so that updates often succeed.
fn target() -> impl Strategy<Value = Path> {
    prop_oneof![3 => name().prop_map(|n| top(&n)), 1 => path()]
}

/// A `SET` right-hand side of a shape validation accepts.
fn valid_set_value() -> impl Strategy<Value = Operand> {
    let leaf = prop_oneof![
        1 => target().prop_map(Operand::Path),
        2 => value().prop_map(Operand::Literal),
        2 => number().prop_map(|n| Operand::Literal(AttributeValue::N(n))),
    ];
    leaf.prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            (target(), inner.clone()).prop_map(|(p, v)| Operand::Function(call(
                "if_not_exists",
                vec![Operand::Path(p), v]
            ))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Operand::Function(call("list_append", vec![a, b]))),
            (inner.clone(), any::<bool>(), inner).prop_map(|(a, plus, b)| {
                let op = if plus {
                    ArithmeticOp::Plus
                } else {
                    ArithmeticOp::Minus
                };
                Operand::Arithmetic(Box::new(a), op, Box::new(b))
            }),
        ]
    })
}

fn set_value() -> impl Strategy<Value = AttributeValue> {
    scalar().prop_filter("a set", |v| {
        matches!(
            v,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
        )
    })
}

/// An update of a shape validation accepts (paths may still overlap).
fn valid_update() -> impl Strategy<Value = Update> {
    let add_value = prop_oneof![number().prop_map(AttributeValue::N), set_value(),];
    (
        proptest::collection::vec((target(), valid_set_value()), 0..3),
        proptest::collection::vec(target(), 0..3),
        proptest::collection::vec((target(), add_value.prop_map(Operand::Literal)), 0..2),
        proptest::collection::vec((target(), set_value().prop_map(Operand::Literal)), 0..2),
    )
        .prop_map(|(set, remove, add, delete)| Update {
            set,
            remove,
            add,
            delete,
            legacy: false,
        })
}

fn top(name: &str) -> Path {
    Path(vec![PathElement::Attribute(Name::Literal(name.to_owned()))])
}

/// A permutation of a set's members (a rotation is enough to change the order).
fn rotated(value: &AttributeValue, by: usize) -> AttributeValue {
    fn rotate<T: Clone>(members: &[T], by: usize) -> Vec<T> {
        let mut members = members.to_vec();
        if !members.is_empty() {
            let by = by % members.len();
            members.rotate_left(by);
        }
        members
    }
    match value {
        AttributeValue::Ss(set) => AttributeValue::Ss(rotate(set, by)),
        AttributeValue::Ns(set) => AttributeValue::Ns(rotate(set, by)),
        AttributeValue::Bs(set) => AttributeValue::Bs(rotate(set, by)),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn evaluate_never_panics(c in condition(), item in item()) {
        let _ = evaluate(&c, &item);
    }

    #[test]
    fn valid_conditions_evaluate_and_negate(c in valid_condition(), item in item()) {
        prop_assert!(evaluate(&c, &item).is_ok(), "{:?}", c);
    }

    #[test]
    fn negation_is_consistent(c in prop_oneof![condition(), valid_condition()], item in item()) {
        let direct = evaluate(&c, &item);
        let negated = evaluate(&Condition::Not(Box::new(c.clone())), &item);
        match (direct, negated) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, !b),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }

    #[test]
    fn ne_is_the_negation_of_eq(a in valid_operand(), b in valid_operand(), item in item()) {
        let eq = evaluate(&Condition::Compare(a.clone(), Comparator::Eq, b.clone()), &item);
        let ne = evaluate(&Condition::Compare(a, Comparator::Ne, b), &item);
        prop_assert_eq!(eq.unwrap(), !ne.unwrap());
    }

    #[test]
    fn apply_update_never_panics_and_failures_change_nothing(
        u in prop_oneof![update(), valid_update()],
        item in item(),
    ) {
        let mut changed = item.clone();
        match apply_update(&u, &mut changed) {
            Ok(paths) => {
                let targets = u.set.len() + u.remove.len() + u.add.len() + u.delete.len();
                prop_assert_eq!(paths.len(), targets);
                // Projections on the reported paths never panic either.
                let _ = project(&paths, &item);
                let _ = project(&paths, &changed);
            }
            Err(_) => prop_assert_eq!(changed, item),
        }
    }

    #[test]
    fn set_then_read_back(item in item(), target in path(), v in value()) {
        let u = Update { set: vec![(target.clone(), Operand::Literal(v.clone()))], ..Update::default() };
        let mut changed = item.clone();
        match apply_update(&u, &mut changed) {
            Ok(paths) => {
                prop_assert_eq!(paths.len(), 1);
                prop_assert_eq!(path::get(&changed, &paths[0]).unwrap(), Some(&v));
                // Only the appended index may differ from the path written.
                prop_assert_eq!(paths[0].0.len(), target.0.len());
            }
            Err(e) => {
                prop_assert_eq!(e.message(), path::INVALID_PATH_FOR_UPDATE);
                prop_assert!(path::check_writable(&item, &target).is_err());
                prop_assert_eq!(changed, item);
            }
        }
    }

    #[test]
    fn add_number_matches_checked_add(x in number(), y in number(), mut item in item()) {
        item.insert("a".to_owned(), AttributeValue::N(x));
        let u = Update { add: vec![(top("a"), Operand::Literal(AttributeValue::N(y)))], ..Update::default() };
        let mut changed = item.clone();
        let result = apply_update(&u, &mut changed);
        match x.checked_add(&y) {
            Ok(sum) => {
                prop_assert!(result.is_ok());
                prop_assert_eq!(changed.get("a"), Some(&AttributeValue::N(sum)));
                prop_assert_eq!(changed.len(), item.len());
            }
            Err(e) => {
                let error = result.unwrap_err();
                prop_assert_eq!(error.message(), e.message());
                prop_assert_eq!(&changed, &item);
            }
        }
        // SET a = a + :y agrees with ADD.
        let set = Update {
            set: vec![(
                top("a"),
                Operand::Arithmetic(
                    Box::new(Operand::Path(top("a"))),
                    ArithmeticOp::Plus,
                    Box::new(Operand::Literal(AttributeValue::N(y))),
                ),
            )],
            ..Update::default()
        };
        let mut via_set = item.clone();
        let set_result = apply_update(&set, &mut via_set).map(|_| ());
        prop_assert_eq!(set_result.map_err(|e| e.message().to_owned()), x.checked_add(&y).map(|_| ()).map_err(|e| e.message()));
        let expected = x.checked_add(&y).ok().map(AttributeValue::N);
        prop_assert_eq!(via_set.get("a"), expected.as_ref().or(item.get("a")));
    }

    #[test]
    fn remove_of_a_present_attribute_removes_exactly_it(mut item in item(), v in value(), name in name()) {
        item.insert(name.clone(), v);
        let u = Update { remove: vec![top(&name)], ..Update::default() };
        let mut changed = item.clone();
        apply_update(&u, &mut changed).unwrap();
        let mut expected = item.clone();
        expected.remove(&name);
        prop_assert_eq!(changed, expected);
    }

    #[test]
    fn projection_selects_a_sub_item(item in item(), paths in proptest::collection::vec(path(), 0..4)) {
        let projected = project(&paths, &item);
        for name in projected.keys() {
            prop_assert!(item.contains_key(name));
        }
        if let [p] = paths.as_slice() {
            let original = path::get(&item, p).unwrap();
            if p.0.iter().all(|e| matches!(e, PathElement::Attribute(_))) {
                // A path of names only is found at the same place.
                prop_assert_eq!(path::get(&projected, p).unwrap(), original);
            }
            // A path selects something exactly when it exists.
            prop_assert_eq!(projected.is_empty(), original.is_none());
        }
        let everything: Vec<Path> = item.keys().map(|k| top(k)).collect();
        prop_assert_eq!(project(&everything, &item), item);
    }

    #[test]
    fn equality_is_an_equivalence_ignoring_set_order(a in value(), b in value(), by in 0usize..4) {
        prop_assert!(values_equal(&a, &a));
        prop_assert_eq!(values_equal(&a, &b), values_equal(&b, &a));
        prop_assert!(values_equal(&a, &rotated(&a, by)));
        if a == b {
            prop_assert!(values_equal(&a, &b));
        }
    }
}
