//! Property tests of the storage order of multi-attribute index keys: for index entries of
//! one partition, byte order of the entry keys is DynamoDB's order of the sort key tuples
//! (component by component, each by its type: numbers numerically, strings and binaries by
//! unsigned bytes), then of the table key; and a partition tuple's prefix covers exactly
//! that partition's entries, so a Query of one partition never reads another's.

#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;

use proptest::prelude::*;
use stator_engine::keys::{index_entry_key, index_partition_prefix, index_prefix};
use stator_types::AttributeValue;

/// Key-typed values rich in what the encodings escape (0x00, 0xFF), short enough that
/// equal components and prefixes are common.
fn component() -> impl Strategy<Value = AttributeValue> {
    let bytes = || {
        proptest::collection::vec(
            prop_oneof![Just(0u8), Just(0xFF), Just(1u8), any::<u8>()],
            1..5,
        )
    };
    prop_oneof![
        "[\0ab\u{e9}]{1,4}".prop_map(AttributeValue::S),
        bytes().prop_map(AttributeValue::B),
        (-3i64..3, 0u32..3, -2i32..3).prop_map(|(int, frac, exp)| {
            AttributeValue::N(format!("{int}.{frac}E{exp}").parse().unwrap())
        }),
    ]
}

/// A tuple of `n` components whose types are fixed by `types` (0 = S, 1 = N, 2 = B), as a
/// key schema fixes them.
fn tuple(types: Vec<u8>) -> impl Strategy<Value = Vec<AttributeValue>> {
    types
        .into_iter()
        .map(|t| {
            component()
                .prop_filter("component of the schema's type", move |v| {
                    matches!(
                        (t, v),
                        (0, AttributeValue::S(_))
                            | (1, AttributeValue::N(_))
                            | (2, AttributeValue::B(_))
                    )
                })
                .boxed()
        })
        .collect::<Vec<_>>()
}

fn dynamodb_order(a: &[AttributeValue], b: &[AttributeValue]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match stator_expr::eval::order(x, y).unwrap() {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

fn refs(values: &[AttributeValue]) -> Vec<&AttributeValue> {
    values.iter().collect()
}

fn schema_types(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..3, 1..=max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sort_tuples_order_as_dynamodb_orders_them(
        (partition, a, b) in (schema_types(4), schema_types(4)).prop_flat_map(|(p, s)| {
            (tuple(p), tuple(s.clone()), tuple(s))
        }),
        pk_a in "[a-c]{1,3}",
        pk_b in "[a-c]{1,3}",
    ) {
        let pk_a = AttributeValue::S(pk_a);
        let pk_b = AttributeValue::S(pk_b);
        let key_a = index_entry_key(9, &refs(&partition), &refs(&a), &pk_a, None);
        let key_b = index_entry_key(9, &refs(&partition), &refs(&b), &pk_b, None);
        let expected = dynamodb_order(&a, &b)
            .then_with(|| stator_expr::eval::order(&pk_a, &pk_b).unwrap());
        prop_assert_eq!(key_a.cmp(&key_b), expected);
        let prefix = index_partition_prefix(&index_prefix(9), &refs(&partition));
        prop_assert!(key_a.starts_with(&prefix) && key_b.starts_with(&prefix));
    }

    #[test]
    fn a_partition_prefix_holds_only_its_own_entries(
        (a, b, sort) in (schema_types(4), schema_types(2)).prop_flat_map(|(p, s)| {
            (tuple(p.clone()), tuple(p), tuple(s))
        }),
    ) {
        let pk = AttributeValue::S("k".into());
        let prefix_a = index_partition_prefix(&index_prefix(9), &refs(&a));
        let entry_b = index_entry_key(9, &refs(&b), &refs(&sort), &pk, None);
        let same = dynamodb_order(&a, &b) == Ordering::Equal;
        prop_assert_eq!(entry_b.starts_with(&prefix_a), same);
    }

    #[test]
    fn an_equal_sort_prefix_covers_exactly_its_entries(
        (partition, a, b) in (schema_types(2), schema_types(4)).prop_flat_map(|(p, s)| {
            (tuple(p), tuple(s.clone()), tuple(s))
        }),
        covered in 1usize..4,
    ) {
        // A Query with = on the first `covered` sort components reads the prefix range of
        // their encodings; it must hold every entry whose components are equal, and no other.
        let covered = covered.min(a.len());
        let pk = AttributeValue::S("k".into());
        let mut prefix = index_partition_prefix(&index_prefix(9), &refs(&partition));
        for v in &a[..covered] {
            stator_engine::keys::push_sort_value(&mut prefix, v, false);
        }
        let entry_b = index_entry_key(9, &refs(&partition), &refs(&b), &pk, None);
        let equal = dynamodb_order(&a[..covered], &b[..covered]) == Ordering::Equal;
        prop_assert_eq!(entry_b.starts_with(&prefix), equal);
    }
}
