//! Property tests: `Number` against an arbitrary-precision reference (`bigdecimal`), key
//! encodings against DynamoDB's value order, and round trips of the item codec and JSON.

#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::str::FromStr;

use bigdecimal::{BigDecimal, Zero};
use proptest::prelude::*;
use stator_types::keycodec::{
    decode_key_value, encode_bytes_key, encode_key_value, encode_number_key, KeyType,
};
use stator_types::{
    decode_item, encode_item, write_item_json, AttributeValue, Checked, Item, Number, NumberError,
};

// ---------------------------------------------------------------------------------------
// Strategies.

/// A string of `len` decimal digits with a non-zero first and last digit.
fn significant_digits(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, len).prop_map(move |mut digits| {
        if let Some(first) = digits.first_mut() {
            if *first == 0 {
                *first = 1;
            }
        }
        if let Some(last) = digits.last_mut() {
            if *last == 0 {
                *last = 7;
            }
        }
        digits.iter().map(|d| char::from(b'0' + d)).collect()
    })
}

/// Text of a valid number: sign, significant digits, adjusted exponent in range. Exponents
/// and digit counts favour the edges (0, 1, 37, 38 digits; the ends of the range).
fn number_text() -> impl Strategy<Value = String> {
    let digits = prop_oneof![1usize..=38, Just(1usize), Just(37), Just(38)];
    let adjusted = prop_oneof![-130i32..=125, -3i32..=3, Just(-130), Just(125), 30i32..=45];
    (
        any::<bool>(),
        digits.prop_flat_map(significant_digits),
        adjusted,
    )
        .prop_map(|(negative, digits, adjusted)| {
            let exponent = adjusted - (digits.len() as i32 - 1);
            format!("{}{digits}e{exponent}", if negative { "-" } else { "" })
        })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        1 => Just(Number::ZERO),
        20 => number_text().prop_map(|text| Number::parse(&text).unwrap()),
    ]
}

/// Numbers whose exponents are close to each other, so sums carry, borrow and cancel.
fn close_numbers() -> impl Strategy<Value = (Number, Number)> {
    let digits = prop_oneof![1usize..=38, Just(38)];
    let part = (any::<bool>(), digits.prop_flat_map(significant_digits));
    (part.clone(), part, -45i32..=45, -45i32..=45).prop_map(|((na, da), (nb, db), ea, eb)| {
        let text = |negative: bool, digits: &str, exponent: i32| {
            format!("{}{digits}e{exponent}", if negative { "-" } else { "" })
        };
        (
            Number::parse(&text(na, &da, ea)).unwrap(),
            Number::parse(&text(nb, &db, eb)).unwrap(),
        )
    })
}

/// Numbers near the ends of the range, mostly with many digits, so that sums overflow or
/// underflow, in both the fast (u128) and the wide paths of `checked_add`.
fn extreme_number() -> impl Strategy<Value = Number> {
    // Runs of nines make carries propagate through every digit.
    let digits = prop_oneof![
        (30usize..=38).prop_flat_map(significant_digits),
        (1usize..=38).prop_flat_map(significant_digits),
        (30usize..=38).prop_map(|len| "9".repeat(len)),
    ];
    let adjusted = prop_oneof![118i32..=125, 80i32..=125, -130i32..=-122];
    (any::<bool>(), digits, adjusted).prop_map(|(negative, digits, adjusted)| {
        let exponent = adjusted - (digits.len() as i32 - 1);
        let sign = if negative { "-" } else { "" };
        Number::parse(&format!("{sign}{digits}e{exponent}")).unwrap()
    })
}

fn big(n: &Number) -> BigDecimal {
    BigDecimal::from_str(&n.to_string()).unwrap()
}

/// What DynamoDB's exact arithmetic must produce for an exact result.
fn expected(exact: &BigDecimal) -> Result<BigDecimal, NumberError> {
    let exact = exact.normalized();
    if exact.is_zero() {
        return Ok(exact);
    }
    let (coefficient, scale) = exact.as_bigint_and_exponent();
    let digits = coefficient.magnitude().to_string().len() as i64;
    let adjusted = digits - 1 - scale;
    if adjusted > 125 {
        Err(NumberError::Overflow)
    } else if adjusted < -130 {
        Err(NumberError::Underflow)
    } else if digits > 38 {
        Err(NumberError::TooManyDigits)
    } else {
        Ok(exact)
    }
}

fn check_arithmetic(a: &Number, b: &Number) -> Result<(), TestCaseError> {
    let sum = a.checked_add(b).map(|n| big(&n));
    prop_assert_eq!(sum, expected(&(big(a) + big(b))), "{} + {}", a, b);
    let difference = a.checked_sub(b).map(|n| big(&n));
    prop_assert_eq!(difference, expected(&(big(a) - big(b))), "{} - {}", a, b);
    Ok(())
}

/// Byte strings rich in the bytes the escaping treats specially.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(0u8), Just(0xFF), Just(1u8), any::<u8>()],
        0..8,
    )
}

fn attribute_value() -> impl Strategy<Value = AttributeValue> {
    let leaf = prop_oneof![
        ".{0,8}".prop_map(AttributeValue::S),
        number().prop_map(AttributeValue::N),
        bytes().prop_map(AttributeValue::B),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::btree_set(".{0,4}", 1..4)
            .prop_map(|set| AttributeValue::Ss(set.into_iter().rev().collect())),
        proptest::collection::vec(number(), 1..4).prop_map(|numbers| {
            let unique: BTreeSet<Number> = numbers.into_iter().collect();
            AttributeValue::Ns(unique.into_iter().collect())
        }),
        proptest::collection::btree_set(bytes(), 1..4)
            .prop_map(|set| AttributeValue::Bs(set.into_iter().collect())),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
            proptest::collection::btree_map(".{0,4}", inner, 0..4).prop_map(AttributeValue::M),
        ]
    })
}

/// Items whose names and strings are long runs of the characters JSON escapes, mixed with
/// multi-byte UTF-8, so that every position of the 8-byte scan meets them.
fn escapy_item() -> impl Strategy<Value = Item> {
    let text = "[\"\\\\\u{0}-\u{1f}\u{7f}a-c\u{e9}\u{1F680}]{0,24}";
    proptest::collection::btree_map(
        text,
        prop_oneof![
            text.prop_map(AttributeValue::S),
            proptest::collection::btree_set(text, 1..3)
                .prop_map(|set| AttributeValue::Ss(set.into_iter().collect())),
        ],
        0..4,
    )
}

fn item() -> impl Strategy<Value = Item> {
    proptest::collection::btree_map(".{0,6}", attribute_value(), 0..6)
}

fn encoded(v: &AttributeValue, last: bool) -> Vec<u8> {
    let mut out = Vec::new();
    encode_key_value(v, last, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn number_display_round_trips(n in number()) {
        let text = n.to_string();
        prop_assert_eq!(Number::parse(&text).unwrap(), n);
        prop_assert!(!text.contains(['e', 'E', '+']));
        prop_assert_eq!(big(&n), BigDecimal::from_str(&text).unwrap());
    }

    #[test]
    fn number_parse_matches_bigdecimal(text in number_text(), zeros_before in 0usize..3, zeros_after in 0usize..3) {
        // The same value written with redundant zeros parses to the same number.
        let n = Number::parse(&text).unwrap();
        prop_assert_eq!(big(&n), BigDecimal::from_str(&text).unwrap());
        let (sign, rest) = text.strip_prefix('-').map_or(("", text.as_str()), |r| ("-", r));
        let (mantissa, exponent) = rest.split_once('e').unwrap();
        let padded = format!("{sign}{}{mantissa}.{}e{exponent}", "0".repeat(zeros_before), "0".repeat(zeros_after));
        prop_assert_eq!(Number::parse(&padded).unwrap(), n);
    }

    #[test]
    fn number_order_matches_bigdecimal(a in number(), b in number()) {
        prop_assert_eq!(a.cmp(&b), big(&a).cmp(&big(&b)));
        prop_assert_eq!(a == b, big(&a) == big(&b));
    }

    #[test]
    fn close_number_order_matches_bigdecimal((a, b) in close_numbers()) {
        prop_assert_eq!(a.cmp(&b), big(&a).cmp(&big(&b)));
    }

    #[test]
    fn arithmetic_matches_bigdecimal(a in number(), b in number()) {
        check_arithmetic(&a, &b)?;
    }

    #[test]
    fn close_arithmetic_matches_bigdecimal((a, b) in close_numbers()) {
        check_arithmetic(&a, &b)?;
    }

    #[test]
    fn extreme_arithmetic_matches_bigdecimal(a in extreme_number(), b in extreme_number()) {
        check_arithmetic(&a, &b)?;
    }

    #[test]
    fn from_i64_matches_display(v in any::<i64>()) {
        prop_assert_eq!(Number::from_i64(v).to_string(), v.to_string());
        prop_assert_eq!(Number::from_i64(v).to_i64(), Some(v));
    }

    #[test]
    fn number_key_order_is_numeric_order(a in number(), b in number()) {
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        encode_number_key(&a, &mut ea);
        encode_number_key(&b, &mut eb);
        prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
        let (decoded, used) = decode_key_value(KeyType::N, false, &ea).unwrap();
        prop_assert_eq!(decoded, AttributeValue::N(a));
        prop_assert_eq!(used, ea.len());
    }

    #[test]
    fn close_number_key_order_is_numeric_order((a, b) in close_numbers()) {
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        encode_number_key(&a, &mut ea);
        encode_number_key(&b, &mut eb);
        prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
    }

    #[test]
    fn string_key_order_is_byte_order(a in "[\0a-c\u{e9}\u{1F680}]{0,6}", b in "[\0a-c\u{e9}\u{1F680}]{0,6}") {
        let expected = a.as_bytes().cmp(b.as_bytes());
        for last in [false, true] {
            let (va, vb) = (AttributeValue::S(a.clone()), AttributeValue::S(b.clone()));
            prop_assert_eq!(encoded(&va, last).cmp(&encoded(&vb, last)), expected);
            let (decoded, _) = decode_key_value(KeyType::S, last, &encoded(&va, last)).unwrap();
            prop_assert_eq!(decoded, va);
        }
    }

    #[test]
    fn binary_key_order_is_unsigned_byte_order(a in bytes(), b in bytes()) {
        let expected = a.cmp(&b);
        for last in [false, true] {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            encode_bytes_key(&a, last, &mut ea);
            encode_bytes_key(&b, last, &mut eb);
            prop_assert_eq!(ea.cmp(&eb), expected);
            let (decoded, used) = decode_key_value(KeyType::B, last, &ea).unwrap();
            prop_assert_eq!(decoded, AttributeValue::B(a.clone()));
            prop_assert_eq!(used, ea.len());
        }
    }

    #[test]
    fn composite_binary_keys_order_as_tuples(a1 in bytes(), a2 in bytes(), b1 in bytes(), b2 in bytes()) {
        let key = |first: &[u8], second: &[u8]| {
            let mut out = Vec::new();
            encode_bytes_key(first, false, &mut out);
            encode_bytes_key(second, true, &mut out);
            out
        };
        prop_assert_eq!(key(&a1, &a2).cmp(&key(&b1, &b2)), (&a1, &a2).cmp(&(&b1, &b2)));
    }

    #[test]
    fn composite_string_keys_order_as_tuples(
        a1 in "[\0ab]{0,4}", a2 in "[\0ab]{0,4}", b1 in "[\0ab]{0,4}", b2 in "[\0ab]{0,4}",
    ) {
        let key = |first: &str, second: &str| {
            let mut out = encoded(&AttributeValue::S(first.to_owned()), false);
            out.extend(encoded(&AttributeValue::S(second.to_owned()), true));
            out
        };
        let expected = (a1.as_bytes(), a2.as_bytes()).cmp(&(b1.as_bytes(), b2.as_bytes()));
        prop_assert_eq!(key(&a1, &a2).cmp(&key(&b1, &b2)), expected);
    }

    #[test]
    fn composite_number_keys_order_as_tuples(a1 in number(), a2 in bytes(), b1 in number(), b2 in bytes()) {
        // A number partition key followed by a binary sort key, and the reverse.
        let key = |n: &Number, b: &[u8]| {
            let mut out = Vec::new();
            encode_number_key(n, &mut out);
            encode_bytes_key(b, true, &mut out);
            out
        };
        prop_assert_eq!(key(&a1, &a2).cmp(&key(&b1, &b2)), (a1, &a2).cmp(&(b1, &b2)));
        let reversed = |b: &[u8], n: &Number| {
            let mut out = Vec::new();
            encode_bytes_key(b, false, &mut out);
            encode_number_key(n, &mut out);
            out
        };
        prop_assert_eq!(reversed(&a2, &a1).cmp(&reversed(&b2, &b1)), (&a2, a1).cmp(&(&b2, b1)));
    }

    #[test]
    fn item_codec_round_trips(item in item()) {
        let mut out = Vec::new();
        encode_item(&item, &mut out);
        prop_assert_eq!(decode_item(&out).unwrap(), item);
    }

    #[test]
    fn json_round_trips(item in item()) {
        let json = serde_json::to_string(&item).unwrap();
        let Checked(decoded) = serde_json::from_str::<Checked<Item>>(&json).unwrap();
        prop_assert_eq!(decoded.unwrap(), item);
    }

    #[test]
    fn decode_item_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_item(&bytes);
        let mut versioned = vec![1u8];
        versioned.extend(&bytes);
        let _ = decode_item(&versioned);
    }

    #[test]
    fn decode_item_rejects_or_accepts_damaged_items(item in item(), position in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut out = Vec::new();
        encode_item(&item, &mut out);
        let mut damaged = out.clone();
        let at = position.index(damaged.len());
        damaged[at] = byte;
        // Whatever decodes must be canonical: it re-encodes to the same bytes.
        if let Ok(decoded) = decode_item(&damaged) {
            let mut again = Vec::new();
            encode_item(&decoded, &mut again);
            prop_assert_eq!(again, damaged);
        }
        let truncated = &out[..cut.index(out.len())];
        prop_assert!(decode_item(truncated).is_err());
    }

    #[test]
    fn item_json_written_directly_equals_serde(item in item(), escapy in escapy_item()) {
        for item in [item, escapy] {
            let reference = serde_json::to_vec(&item).unwrap();
            let mut encoded = Vec::new();
            encode_item(&item, &mut encoded);
            let mut transcoded = Vec::new();
            write_item_json(&encoded, &mut transcoded).unwrap();
            prop_assert_eq!(&transcoded, &reference);
            let mut written = Vec::new();
            stator_types::jsonout::write_item(&mut written, &item);
            prop_assert_eq!(&written, &reference);
        }
    }

    #[test]
    fn item_json_transcoding_checks_what_decoding_checks(item in item(), position in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut out = Vec::new();
        encode_item(&item, &mut out);
        let mut damaged = out.clone();
        let at = position.index(damaged.len());
        damaged[at] = byte;
        let truncated = out[..cut.index(out.len())].to_vec();
        for bytes in [damaged, truncated] {
            let mut json = Vec::new();
            match decode_item(&bytes) {
                Ok(decoded) => {
                    write_item_json(&bytes, &mut json).unwrap();
                    prop_assert_eq!(json, serde_json::to_vec(&decoded).unwrap());
                }
                Err(e) => prop_assert_eq!(write_item_json(&bytes, &mut json), Err(e)),
            }
        }
    }

    #[test]
    fn key_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        for key_type in [KeyType::S, KeyType::N, KeyType::B] {
            for last in [false, true] {
                let _ = decode_key_value(key_type, last, &bytes);
            }
        }
    }

    #[test]
    fn json_decoding_never_panics(text in "[{}\\[\\]\":,SNBLM0-9a-z ]{0,40}") {
        let _ = serde_json::from_str::<Checked<Item>>(&text);
        let _ = serde_json::from_str::<Checked<AttributeValue>>(&text);
    }
}

#[test]
fn ordering_is_total_on_signs() {
    let n = |s: &str| Number::parse(s).unwrap();
    assert_eq!(n("-1").cmp(&n("0")), Ordering::Less);
    assert_eq!(n("0").cmp(&n("-0")), Ordering::Equal);
}
