//! Writing DynamoDB JSON straight into a byte buffer, for the hot read responses.
//!
//! Responses made of items (GetItem, Query, Scan) are mostly item JSON. Going through
//! serde costs a decode of every stored item into an attribute map (an allocation per
//! name and string, a tree per map) and a generic serializer on top; profiles of a
//! 100-item Query put more than half of the server's user-space time there. So items are
//! written here instead: [`crate::itemcodec::write_item_json`] transcodes a stored item's
//! bytes directly, and [`write_item`] writes an item built in memory (projections, keys).
//!
//! The output is byte-for-byte what `serde_json` writes for the same [`Item`] (compact,
//! names in order, the same string escapes), which the property tests check; the serde
//! path stays the reference for every other response.

use base64::Engine as _;

use crate::json::BASE64;
use crate::number::Number;
use crate::value::{AttributeValue, Item};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `word` needs attention: a control character (below
/// 0x20), `"`, `\`, or a non-ASCII byte. Bytes with the high bit set flag themselves;
/// for the others, a subtraction borrows into the high bit exactly when the byte is below
/// 0x20 or equal to the compared character. A borrow can also set high bits above a byte
/// that is flagged anyway, so the answer for the word as a whole is exact.
#[inline]
fn word_needs_attention(word: u64) -> bool {
    let control = word.wrapping_sub(ONES * 0x20);
    let quote = (word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    (control | quote | backslash | word) & HIGH != 0
}

/// Appends the escape of one ASCII byte that needs one, as `serde_json` writes it.
#[inline]
fn push_escaped(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xF)],
        ]),
    }
}

/// Escapes what needs it in `stretch`, the part of `bytes` that starts at `offset`, and
/// notes non-ASCII bytes; `copied` is where the next unwritten run of plain bytes begins.
#[inline(always)]
fn escape_stretch(
    out: &mut Vec<u8>,
    bytes: &[u8],
    offset: usize,
    stretch: &[u8],
    copied: &mut usize,
    non_ascii: &mut bool,
) {
    for (i, &b) in stretch.iter().enumerate() {
        if b >= 0x80 {
            *non_ascii = true;
        } else if b < 0x20 || b == b'"' || b == b'\\' {
            out.extend_from_slice(&bytes[*copied..offset + i]);
            push_escaped(out, b);
            *copied = offset + i + 1;
        }
    }
}

/// Appends `bytes` as a JSON string (with quotes). Returns whether any byte was non-ASCII,
/// so that a caller holding unchecked bytes knows whether UTF-8 validation is needed at
/// all: pure ASCII is always valid.
///
/// The last, partial word is checked byte by byte. Testing it as a space-padded word was
/// faster in criterion (`itemcodec/to_json_transcode`) but not in the server: Query of
/// 100-item pages of ~100-byte items in memory dropped from 34.4k to 27.4k per
/// server-CPU-second (A/B, 2026-12-03), the variable-length copy into the padded word
/// costing more on the short strings (names, keys) that dominate such pages.
#[inline]
fn write_string_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut non_ascii = false;
    // `copied` is where the next unwritten stretch of plain bytes begins.
    let mut copied = 0;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_needs_attention(u64::from_le_bytes(word)) {
            escape_stretch(out, bytes, offset, chunk, &mut copied, &mut non_ascii);
        }
        offset += 8;
    }
    escape_stretch(
        out,
        bytes,
        offset,
        chunks.remainder(),
        &mut copied,
        &mut non_ascii,
    );
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
    non_ascii
}

/// Appends `s` as a JSON string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    write_string_bytes(out, s.as_bytes());
}

/// Appends bytes that should be UTF-8 as a JSON string; `false` (with `out` partly
/// written) when they are not UTF-8.
pub(crate) fn write_utf8(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    !write_string_bytes(out, bytes) || std::str::from_utf8(bytes).is_ok()
}

/// Appends a number as a JSON string in DynamoDB's output form.
pub fn write_number(out: &mut Vec<u8>, n: &Number) {
    out.push(b'"');
    n.write_text(out);
    out.push(b'"');
}

/// Appends bytes as a padded standard base64 JSON string.
pub fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    // Encoded length: 4 characters per started group of 3 bytes.
    out.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let written = BASE64.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Appends an item as DynamoDB JSON: `{"name":{"S":"x"},…}`.
pub fn write_item(out: &mut Vec<u8>, item: &Item) {
    out.push(b'{');
    for (i, (name, value)) in item.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, name);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

/// Appends the JSON array of `items`.
fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, element) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, element);
    }
    out.push(b']');
}

/// Appends one attribute value as DynamoDB JSON: `{"<type>":<value>}`.
pub fn write_value(out: &mut Vec<u8>, value: &AttributeValue) {
    match value {
        AttributeValue::S(s) => {
            out.extend_from_slice(b"{\"S\":");
            write_str(out, s);
        }
        AttributeValue::N(n) => {
            out.extend_from_slice(b"{\"N\":");
            write_number(out, n);
        }
        AttributeValue::B(b) => {
            out.extend_from_slice(b"{\"B\":");
            write_base64(out, b);
        }
        AttributeValue::Bool(b) => {
            out.extend_from_slice(if *b {
                b"{\"BOOL\":true"
            } else {
                b"{\"BOOL\":false"
            });
        }
        AttributeValue::Null => out.extend_from_slice(b"{\"NULL\":true"),
        AttributeValue::M(m) => {
            out.extend_from_slice(b"{\"M\":");
            write_item(out, m);
        }
        AttributeValue::L(l) => {
            out.extend_from_slice(b"{\"L\":");
            write_list(out, l, write_value);
        }
        AttributeValue::Ss(set) => {
            out.extend_from_slice(b"{\"SS\":");
            write_list(out, set, |out, s| write_str(out, s));
        }
        AttributeValue::Ns(set) => {
            out.extend_from_slice(b"{\"NS\":");
            write_list(out, set, write_number);
        }
        AttributeValue::Bs(set) => {
            out.extend_from_slice(b"{\"BS\":");
            write_list(out, set, |out, b| write_base64(out, b));
        }
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via_serde(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap()
    }

    #[test]
    fn every_ascii_byte_escapes_like_serde_json() {
        for b in 0u8..0x80 {
            let s = String::from_utf8(vec![b]).unwrap();
            // Alone, inside a word, and at every position of a word.
            for text in [s.clone(), format!("abcdefg{s}hijklmnop"), s.repeat(17)] {
                let mut out = Vec::new();
                write_str(&mut out, &text);
                assert_eq!(out, via_serde(&text), "byte {b:#04x}");
            }
        }
    }

    #[test]
    fn non_ascii_passes_through_and_is_reported() {
        let text = "caf\u{e9} \u{1F680}\"\u{7f}\u{1}";
        let mut out = Vec::new();
        assert!(write_string_bytes(&mut out, text.as_bytes()));
        assert_eq!(out, via_serde(text));
        let mut out = Vec::new();
        assert!(!write_string_bytes(&mut out, b"plain ascii, long enough"));
        assert!(!write_utf8(&mut Vec::new(), b"abc\xff"));
        assert!(!write_utf8(&mut Vec::new(), b"abcdefgh\xc3"));
        assert!(write_utf8(&mut Vec::new(), "abcdefgh\u{e9}".as_bytes()));
    }

    #[test]
    fn base64_matches_serde_path() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            let mut out = Vec::new();
            write_value(&mut out, &AttributeValue::B(bytes.clone()));
            assert_eq!(out, serde_json::to_vec(&AttributeValue::B(bytes)).unwrap());
        }
    }
}
