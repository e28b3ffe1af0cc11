//! The compact binary encoding of a whole item, used for storage values.
//!
//! The engine encodes every item it writes with [`encode_item`] and decodes every item it
//! reads with [`decode_item`]; it is on the path of every request, so both are single passes
//! with no intermediate structures. Storage may hand back corrupt bytes (a damaged disk, a
//! bug, a format from the future): decoding checks everything and never panics, and it
//! accepts only the canonical form [`encode_item`] writes (valid numbers, ordered names,
//! non-empty sets, minimal varints), so whatever decodes re-encodes to the same bytes. Set
//! members are not re-checked for distinctness: that would cost a sort on every read, and
//! only the JSON layer creates sets.
//!
//! Layout (varint = unsigned LEB128; `str`/`bytes` = varint length, then the bytes):
//! ```text
//! item    := 0x01 (format version) map
//! map     := varint count, (str name, value)*   names strictly increasing (BTreeMap order)
//! value   := 0x01 str                    S
//!          | 0x02 number                 N
//!          | 0x03 bytes                  B
//!          | 0x04 | 0x05                 BOOL false | true
//!          | 0x06                        NULL
//!          | 0x07 map                    M
//!          | 0x08 varint count, value*   L
//!          | 0x09 varint count, str*     SS
//!          | 0x0A varint count, number*  NS
//!          | 0x0B varint count, bytes*   BS
//! number  := varint zigzag(exponent), varint (coefficient << 1 | negative)
//! ```
//! A number is its canonical parts (see `Number::parts`), so `1` takes 2 bytes and a
//! 38-digit number at most 23. Sets keep their members' order; empty sets are rejected.
//! Decoding nests at most [`MAX_DECODE_DEPTH`] levels, so a hostile input cannot exhaust
//! the stack.

use std::collections::BTreeMap;

use crate::jsonout;
use crate::number::Number;
use crate::value::{AttributeValue, Item};

const FORMAT_VERSION: u8 = 0x01;

const TAG_S: u8 = 0x01;
const TAG_N: u8 = 0x02;
const TAG_B: u8 = 0x03;
const TAG_FALSE: u8 = 0x04;
const TAG_TRUE: u8 = 0x05;
const TAG_NULL: u8 = 0x06;
const TAG_M: u8 = 0x07;
const TAG_L: u8 = 0x08;
const TAG_SS: u8 = 0x09;
const TAG_NS: u8 = 0x0A;
const TAG_BS: u8 = 0x0B;

/// How deep [`decode_item`] follows nested maps and lists. Valid items nest at most 32
/// levels; the margin leaves room for values the engine builds.
pub const MAX_DECODE_DEPTH: usize = 64;

/// Why bytes are not an encoded item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The first byte is not a format version this build reads.
    #[error("unsupported item format version {0}")]
    UnsupportedVersion(u8),
    /// The input ends inside a value.
    #[error("truncated item encoding")]
    Truncated,
    /// Bytes remain after the item.
    #[error("trailing bytes after item encoding")]
    TrailingBytes,
    /// An unknown value tag.
    #[error("invalid value tag {0:#04x}")]
    InvalidTag(u8),
    /// A varint longer than its type allows.
    #[error("invalid varint")]
    InvalidVarint,
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 in string")]
    InvalidUtf8,
    /// A number that is not canonical or out of DynamoDB's range.
    #[error("invalid number")]
    InvalidNumber,
    /// Map names not strictly increasing.
    #[error("map names out of order")]
    UnorderedNames,
    /// An empty set.
    #[error("empty set")]
    EmptySet,
    /// Nested deeper than [`MAX_DECODE_DEPTH`].
    #[error("item nested too deeply")]
    TooDeep,
}

/// Appends the encoding of an item to `out`.
pub fn encode_item(item: &Item, out: &mut Vec<u8>) {
    out.push(FORMAT_VERSION);
    encode_map(item, out);
}

fn put_varint(mut v: u128, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_len(len: usize, out: &mut Vec<u8>) {
    put_varint(len as u128, out);
}

fn put_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    put_len(bytes.len(), out);
    out.extend_from_slice(bytes);
}

fn put_number(n: &Number, out: &mut Vec<u8>) {
    let (negative, coefficient, exponent) = n.parts();
    let zigzag = ((exponent << 1) ^ (exponent >> 31)) as u32;
    put_varint(u128::from(zigzag), out);
    // The coefficient is below 10^38 < 2^127, so the shift cannot overflow.
    put_varint((coefficient << 1) | u128::from(negative), out);
}

fn encode_map(map: &Item, out: &mut Vec<u8>) {
    put_len(map.len(), out);
    for (name, value) in map {
        put_bytes(name.as_bytes(), out);
        encode_value(value, out);
    }
}

fn encode_value(value: &AttributeValue, out: &mut Vec<u8>) {
    match value {
        AttributeValue::S(s) => {
            out.push(TAG_S);
            put_bytes(s.as_bytes(), out);
        }
        AttributeValue::N(n) => {
            out.push(TAG_N);
            put_number(n, out);
        }
        AttributeValue::B(b) => {
            out.push(TAG_B);
            put_bytes(b, out);
        }
        AttributeValue::Bool(b) => out.push(if *b { TAG_TRUE } else { TAG_FALSE }),
        AttributeValue::Null => out.push(TAG_NULL),
        AttributeValue::M(m) => {
            out.push(TAG_M);
            encode_map(m, out);
        }
        AttributeValue::L(l) => {
            out.push(TAG_L);
            put_len(l.len(), out);
            for element in l {
                encode_value(element, out);
            }
        }
        AttributeValue::Ss(set) => {
            out.push(TAG_SS);
            put_len(set.len(), out);
            for member in set {
                put_bytes(member.as_bytes(), out);
            }
        }
        AttributeValue::Ns(set) => {
            out.push(TAG_NS);
            put_len(set.len(), out);
            for member in set {
                put_number(member, out);
            }
        }
        AttributeValue::Bs(set) => {
            out.push(TAG_BS);
            put_len(set.len(), out);
            for member in set {
                put_bytes(member, out);
            }
        }
    }
}

/// Decodes an item written by [`encode_item`]. Never panics; any deviation from the
/// canonical encoding is a [`CodecError`].
pub fn decode_item(bytes: &[u8]) -> Result<Item, CodecError> {
    let mut reader = Reader { bytes, pos: 0 };
    match reader.byte()? {
        FORMAT_VERSION => {}
        other => return Err(CodecError::UnsupportedVersion(other)),
    }
    let item = reader.map(0)?;
    if reader.pos != bytes.len() {
        return Err(CodecError::TrailingBytes);
    }
    Ok(item)
}

/// Writes the DynamoDB JSON of an item encoded by [`encode_item`] straight from its bytes
/// (see [`crate::jsonout`]), checking exactly what [`decode_item`] checks; on an error,
/// `out` holds a partial answer that must be discarded. The output equals `serde_json`'s
/// for the decoded item.
pub fn write_item_json(bytes: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
    let mut reader = Reader { bytes, pos: 0 };
    match reader.byte()? {
        FORMAT_VERSION => {}
        other => return Err(CodecError::UnsupportedVersion(other)),
    }
    out.reserve(bytes.len() + bytes.len() / 2);
    reader.map_json(0, out)?;
    if reader.pos != bytes.len() {
        return Err(CodecError::TrailingBytes);
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.bytes.get(self.pos).ok_or(CodecError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self, max_bits: u32) -> Result<u128, CodecError> {
        let mut value: u128 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            let chunk = u128::from(b & 0x7F);
            if shift >= max_bits || (shift > 0 && chunk >> (max_bits - shift) != 0) {
                return Err(CodecError::InvalidVarint);
            }
            value |= chunk << shift;
            if b & 0x80 == 0 {
                // Reject non-minimal encodings (a final zero byte after the first).
                if b == 0 && shift > 0 {
                    return Err(CodecError::InvalidVarint);
                }
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// A length or count. It can never exceed the bytes left (every element takes at least
    /// one byte), which also bounds allocations made from it.
    fn len(&mut self) -> Result<usize, CodecError> {
        let len = self.varint(64)?;
        let left = (self.bytes.len() - self.pos) as u128;
        if len > left {
            return Err(CodecError::Truncated);
        }
        Ok(len as usize)
    }

    fn slice(&mut self) -> Result<&'a [u8], CodecError> {
        let len = self.len()?;
        let slice = self
            .bytes
            .get(self.pos..self.pos + len)
            .ok_or(CodecError::Truncated)?;
        self.pos += len;
        Ok(slice)
    }

    fn string(&mut self) -> Result<String, CodecError> {
        let raw = self.slice()?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| CodecError::InvalidUtf8)
    }

    fn number(&mut self) -> Result<Number, CodecError> {
        let zigzag = self.varint(32)? as u32;
        let exponent = ((zigzag >> 1) as i32) ^ -((zigzag & 1) as i32);
        let packed = self.varint(128)?;
        Number::from_canonical_parts(packed & 1 == 1, packed >> 1, exponent)
            .ok_or(CodecError::InvalidNumber)
    }

    fn str_json(&mut self, out: &mut Vec<u8>) -> Result<&'a [u8], CodecError> {
        let raw = self.slice()?;
        if jsonout::write_utf8(out, raw) {
            Ok(raw)
        } else {
            Err(CodecError::InvalidUtf8)
        }
    }

    fn number_json(&mut self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        jsonout::write_number(out, &self.number()?);
        Ok(())
    }

    fn bytes_json(&mut self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        jsonout::write_base64(out, self.slice()?);
        Ok(())
    }

    fn map_json(&mut self, depth: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let count = self.len()?;
        out.push(b'{');
        let mut previous: Option<&[u8]> = None;
        for i in 0..count {
            if i > 0 {
                out.push(b',');
            }
            let name = self.str_json(out)?;
            // Byte order is `String` order, the order `encode_item` wrote.
            if previous.is_some_and(|p| p >= name) {
                return Err(CodecError::UnorderedNames);
            }
            previous = Some(name);
            out.push(b':');
            self.value_json(depth + 1, out)?;
        }
        out.push(b'}');
        Ok(())
    }

    /// A JSON array of `count` elements written by `each`.
    fn list_json(
        &mut self,
        count: usize,
        out: &mut Vec<u8>,
        mut each: impl FnMut(&mut Self, &mut Vec<u8>) -> Result<(), CodecError>,
    ) -> Result<(), CodecError> {
        out.push(b'[');
        for i in 0..count {
            if i > 0 {
                out.push(b',');
            }
            each(self, out)?;
        }
        out.push(b']');
        Ok(())
    }

    fn value_json(&mut self, depth: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(CodecError::TooDeep);
        }
        match self.byte()? {
            TAG_S => {
                out.extend_from_slice(b"{\"S\":");
                self.str_json(out)?;
            }
            TAG_N => {
                out.extend_from_slice(b"{\"N\":");
                self.number_json(out)?;
            }
            TAG_B => {
                out.extend_from_slice(b"{\"B\":");
                self.bytes_json(out)?;
            }
            TAG_FALSE => out.extend_from_slice(b"{\"BOOL\":false"),
            TAG_TRUE => out.extend_from_slice(b"{\"BOOL\":true"),
            TAG_NULL => out.extend_from_slice(b"{\"NULL\":true"),
            TAG_M => {
                out.extend_from_slice(b"{\"M\":");
                self.map_json(depth, out)?;
            }
            TAG_L => {
                out.extend_from_slice(b"{\"L\":");
                let count = self.len()?;
                self.list_json(count, out, |r, out| r.value_json(depth + 1, out))?;
            }
            TAG_SS => {
                out.extend_from_slice(b"{\"SS\":");
                let count = self.set_count()?;
                self.list_json(count, out, |r, out| r.str_json(out).map(|_| ()))?;
            }
            TAG_NS => {
                out.extend_from_slice(b"{\"NS\":");
                let count = self.set_count()?;
                self.list_json(count, out, Self::number_json)?;
            }
            TAG_BS => {
                out.extend_from_slice(b"{\"BS\":");
                let count = self.set_count()?;
                self.list_json(count, out, Self::bytes_json)?;
            }
            other => return Err(CodecError::InvalidTag(other)),
        }
        out.push(b'}');
        Ok(())
    }

    fn map(&mut self, depth: usize) -> Result<Item, CodecError> {
        let count = self.len()?;
        let mut map = BTreeMap::new();
        for _ in 0..count {
            let name = self.string()?;
            if map
                .last_key_value()
                .is_some_and(|(previous, _): (&String, _)| *previous >= name)
            {
                return Err(CodecError::UnorderedNames);
            }
            let value = self.value(depth + 1)?;
            map.insert(name, value);
        }
        Ok(map)
    }

    fn set_count(&mut self) -> Result<usize, CodecError> {
        match self.len()? {
            0 => Err(CodecError::EmptySet),
            n => Ok(n),
        }
    }

    fn value(&mut self, depth: usize) -> Result<AttributeValue, CodecError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(CodecError::TooDeep);
        }
        Ok(match self.byte()? {
            TAG_S => AttributeValue::S(self.string()?),
            TAG_N => AttributeValue::N(self.number()?),
            TAG_B => AttributeValue::B(self.slice()?.to_vec()),
            TAG_FALSE => AttributeValue::Bool(false),
            TAG_TRUE => AttributeValue::Bool(true),
            TAG_NULL => AttributeValue::Null,
            TAG_M => AttributeValue::M(self.map(depth)?),
            TAG_L => {
                let count = self.len()?;
                let mut list = Vec::with_capacity(count);
                for _ in 0..count {
                    list.push(self.value(depth + 1)?);
                }
                AttributeValue::L(list)
            }
            TAG_SS => {
                let count = self.set_count()?;
                let mut set = Vec::with_capacity(count);
                for _ in 0..count {
                    set.push(self.string()?);
                }
                AttributeValue::Ss(set)
            }
            TAG_NS => {
                let count = self.set_count()?;
                let mut set = Vec::with_capacity(count);
                for _ in 0..count {
                    set.push(self.number()?);
                }
                AttributeValue::Ns(set)
            }
            TAG_BS => {
                let count = self.set_count()?;
                let mut set = Vec::with_capacity(count);
                for _ in 0..count {
                    set.push(self.slice()?.to_vec());
                }
                AttributeValue::Bs(set)
            }
            other => return Err(CodecError::InvalidTag(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_numbers_are_small() {
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::N(Number::from_i64(1)));
        let mut out = Vec::new();
        encode_item(&item, &mut out);
        assert_eq!(out, [FORMAT_VERSION, 1, 1, b'a', TAG_N, 0, 2]);
        assert_eq!(decode_item(&out).unwrap(), item);
    }

    #[test]
    fn rejects_non_minimal_varints() {
        assert_eq!(
            decode_item(&[FORMAT_VERSION, 0x80, 0x00]),
            Err(CodecError::InvalidVarint)
        );
        assert_eq!(
            decode_item(&[FORMAT_VERSION, 0x00, 0x00]),
            Err(CodecError::TrailingBytes)
        );
    }
}
