//! Order-preserving byte encodings of key attribute values (`S`, `N`, `B`), and the
//! partition hash. These define Stator's on-disk key layout and must never change.
//!
//! The engine builds storage keys as `… ‖ hash64(pk) ‖ pk ‖ sk`, and indexes likewise; a
//! Query is a range scan, so for values of one type, comparing encodings as unsigned bytes
//! must give DynamoDB's order, and an encoding that is followed by another component must be
//! prefix-free so the next component cannot disturb the order. Encodings carry no type tag:
//! a key attribute's type is fixed by the table schema.
//!
//! **Strings and binaries** compare by unsigned bytes (UTF-8 bytes for strings, which is
//! DynamoDB's string order). When `last` the encoding is the raw bytes. Otherwise each `00`
//! byte becomes `00 FF` and the value ends with `00 00`: an end sorts before any continuation
//! (`00 00` < `00 FF` < `01`…), so byte order is kept and no encoding is a prefix of another.
//!
//! **Numbers** compare numerically and are self-delimiting, so `last` does not change them:
//! ```text
//! zero      20
//! positive  30  (adj + 130)  pairs…  00
//! negative  10  !(adj + 130) !pairs… FF      (! = bitwise complement)
//! ```
//! `adj` is the exponent in scientific notation, −130…125, so `adj + 130` is one byte. The
//! significant digits (no trailing zeros) are packed two per byte as `10·d1 + d2 + 1`
//! (1…100), an odd last digit padded with a 0; `00` ends them, which sorts a shorter digit
//! string first (0.1 < 0.101). For negatives everything after the class byte is
//! complemented, which reverses the order of magnitudes. A number takes at most 22 bytes.
//!
//! **Partition hash**: [`partition_hash`] is XXH3-64 (seed 0) of the encoded partition key;
//! it orders a table scan and splits parallel scan segments.

use crate::number::{coefficient_digits, Number, MIN_ADJUSTED_EXPONENT};
use crate::value::AttributeValue;

const NUMBER_NEGATIVE: u8 = 0x10;
const NUMBER_ZERO: u8 = 0x20;
const NUMBER_POSITIVE: u8 = 0x30;

/// A value of a type that cannot be a key attribute (only `S`, `N` and `B` can).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{type_name} is not a key attribute type")]
pub struct KeyTypeError {
    /// The offending value's type name (`BOOL`, `M`, …).
    pub type_name: &'static str,
}

/// The type of a key attribute, needed to decode its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// `S`
    S,
    /// `N`
    N,
    /// `B`
    B,
}

/// An encoding that is not one this module produces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt key encoding")]
pub struct KeyDecodeError;

/// Appends the order-preserving encoding of a key value. `last` is true when nothing follows
/// it in the key (see the module documentation).
///
/// Values of other types than `S`, `N` and `B` append nothing: callers validate key types
/// first (use [`try_encode_key_value`] to have that checked).
pub fn encode_key_value(v: &AttributeValue, last: bool, out: &mut Vec<u8>) {
    // Non-key types are documented to append nothing, so the error carries no information.
    let _ = try_encode_key_value(v, last, out);
}

/// [`encode_key_value`], failing (and appending nothing) for non-key types.
pub fn try_encode_key_value(
    v: &AttributeValue,
    last: bool,
    out: &mut Vec<u8>,
) -> Result<(), KeyTypeError> {
    match v {
        AttributeValue::S(s) => encode_bytes_key(s.as_bytes(), last, out),
        AttributeValue::B(b) => encode_bytes_key(b, last, out),
        AttributeValue::N(n) => encode_number_key(n, out),
        other => {
            return Err(KeyTypeError {
                type_name: other.type_name(),
            })
        }
    }
    Ok(())
}

/// Appends the encoding of a string's UTF-8 bytes or of a binary.
pub fn encode_bytes_key(bytes: &[u8], last: bool, out: &mut Vec<u8>) {
    if last {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(bytes.len() + 2);
    let mut rest = bytes;
    while let Some(zero) = rest.iter().position(|&b| b == 0) {
        out.extend_from_slice(&rest[..zero]);
        out.extend_from_slice(&[0x00, 0xFF]);
        rest = &rest[zero + 1..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(&[0x00, 0x00]);
}

/// Appends the encoding of a number.
pub fn encode_number_key(n: &Number, out: &mut Vec<u8>) {
    let (negative, coefficient, _) = n.parts();
    if coefficient == 0 {
        out.push(NUMBER_ZERO);
        return;
    }
    // Complementing (XOR 0xFF) everything after the class byte reverses the order.
    let flip = if negative { 0xFF } else { 0x00 };
    out.push(if negative {
        NUMBER_NEGATIVE
    } else {
        NUMBER_POSITIVE
    });
    // In range by Number's invariant: 0..=255.
    let biased = (n.adjusted_exponent() - MIN_ADJUSTED_EXPONENT) as u8;
    out.push(biased ^ flip);
    let mut digits = [0u8; 38];
    let len = coefficient_digits(coefficient, &mut digits);
    for pair in digits[..len].chunks(2) {
        let high = pair[0];
        let low = pair.get(1).copied().unwrap_or(0);
        out.push((high * 10 + low + 1) ^ flip);
    }
    out.push(flip);
}

/// Decodes one encoded key value of the given type from the start of `bytes`, returning it
/// and the number of bytes it took. `last` must be what it was when encoding (a last
/// string or binary takes all of `bytes`).
pub fn decode_key_value(
    key_type: KeyType,
    last: bool,
    bytes: &[u8],
) -> Result<(AttributeValue, usize), KeyDecodeError> {
    match key_type {
        KeyType::N => {
            let (number, used) = decode_number_key(bytes)?;
            Ok((AttributeValue::N(number), used))
        }
        KeyType::B => {
            let (raw, used) = decode_bytes_key(bytes, last)?;
            Ok((AttributeValue::B(raw), used))
        }
        KeyType::S => {
            let (raw, used) = decode_bytes_key(bytes, last)?;
            let s = String::from_utf8(raw).map_err(|_| KeyDecodeError)?;
            Ok((AttributeValue::S(s), used))
        }
    }
}

fn decode_bytes_key(bytes: &[u8], last: bool) -> Result<(Vec<u8>, usize), KeyDecodeError> {
    if last {
        return Ok((bytes.to_vec(), bytes.len()));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    loop {
        match bytes.get(i) {
            None => return Err(KeyDecodeError),
            Some(0) => match bytes.get(i + 1) {
                Some(0x00) => return Ok((out, i + 2)),
                Some(0xFF) => {
                    out.push(0);
                    i += 2;
                }
                _ => return Err(KeyDecodeError),
            },
            Some(&b) => {
                out.push(b);
                i += 1;
            }
        }
    }
}

fn decode_number_key(bytes: &[u8]) -> Result<(Number, usize), KeyDecodeError> {
    let flip = match bytes.first() {
        Some(&NUMBER_ZERO) => return Ok((Number::ZERO, 1)),
        Some(&NUMBER_POSITIVE) => 0x00,
        Some(&NUMBER_NEGATIVE) => 0xFF,
        _ => return Err(KeyDecodeError),
    };
    let adjusted = i32::from(bytes.get(1).ok_or(KeyDecodeError)? ^ flip) + MIN_ADJUSTED_EXPONENT;
    let mut coefficient: u128 = 0;
    let mut digits: i32 = 0;
    let mut i = 2;
    loop {
        let byte = bytes.get(i).ok_or(KeyDecodeError)? ^ flip;
        i += 1;
        if byte == 0 {
            break;
        }
        if byte > 100 || digits >= 38 {
            return Err(KeyDecodeError);
        }
        coefficient = coefficient * 100 + u128::from(byte - 1);
        digits += 2;
    }
    if digits == 0 {
        return Err(KeyDecodeError);
    }
    // An odd digit count was padded with a zero; the canonical check below rejects any other
    // trailing zero.
    if coefficient.is_multiple_of(10) {
        coefficient /= 10;
        digits -= 1;
    }
    let negative = flip == 0xFF;
    let exponent = adjusted - digits + 1;
    let number =
        Number::from_canonical_parts(negative, coefficient, exponent).ok_or(KeyDecodeError)?;
    if number.adjusted_exponent() != adjusted {
        return Err(KeyDecodeError);
    }
    Ok((number, i))
}

/// The partition hash of an encoded partition key: XXH3-64 with seed 0. It fixes the
/// on-disk order of partitions and must never change.
pub fn partition_hash(encoded_partition_key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(encoded_partition_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_number_key(&Number::parse(s).unwrap(), &mut out);
        out
    }

    #[test]
    fn number_layout() {
        assert_eq!(num("0"), [0x20]);
        assert_eq!(num("1"), [0x30, 130, 11, 0]);
        assert_eq!(num("12"), [0x30, 131, 13, 0]);
        assert_eq!(num("-1"), [0x10, !130, !11, 0xFF]);
        assert_eq!(num("1e-130"), [0x30, 0, 11, 0]);
    }

    #[test]
    fn decode_round_trip() {
        for s in [
            "0",
            "1",
            "-1",
            "123.456",
            "-9.9999999999999999999999999999999999999e125",
            "1e-130",
        ] {
            let encoded = num(s);
            let (value, used) = decode_key_value(KeyType::N, false, &encoded).unwrap();
            assert_eq!(used, encoded.len());
            assert_eq!(value, AttributeValue::N(Number::parse(s).unwrap()));
        }
        let mut out = Vec::new();
        encode_bytes_key(b"a\0b", false, &mut out);
        assert_eq!(out, b"a\0\xFFb\0\0");
        assert_eq!(
            decode_key_value(KeyType::B, false, &out).unwrap(),
            (AttributeValue::B(b"a\0b".to_vec()), 6)
        );
    }
}
