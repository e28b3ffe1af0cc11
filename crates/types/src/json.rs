//! DynamoDB JSON: the wire form of attribute values (`{"S":"x"}`, `{"N":"1"}`, `{"M":{…}}`, …)
//! and the two classes of errors DynamoDB reports for it.
//!
//! DynamoDB parses a request body in two stages, and so must we:
//!
//! 1. **Shape** (`SerializationException`): JSON syntax, and JSON types that do not match the
//!    model — `{"S": 5}`, `{"SS": "x"}`, `{"BOOL": "yes"}`, `{"M": []}`, invalid base64 in
//!    `B`/`BS`. These are real serde errors here: they fail the whole body parse.
//! 2. **Values** (`ValidationException`): an empty `{}` or a null value, more than one type
//!    set, a number that does not parse or is out of range, an empty set, duplicate set
//!    members, `NULL: false`, nesting deeper than 32 levels. DynamoDB reports these only
//!    after its request-constraint validation (a bad `TableName` wins over a bad item), so
//!    they must *not* fail serde. The deserializers here consume the rest of the input
//!    normally and return [`Checked`]`(Err(first error))`; the operation's `validate()`
//!    reports it at the right point.
//!
//! Decoding is a hand-written streaming visitor: no `serde_json::Value`, no intermediate
//! strings for type tags or numbers, one pass with depth tracking.
//!
//! Decisions where DynamoDB's documentation is silent (chosen to match the service as far as
//! it is known, see the notes at each item):
//! - Unknown keys inside an attribute value (`{"X":"1"}`) are ignored, like every unknown
//!   member in AWS's JSON protocol; so `{"X":"1"}` is an *empty* attribute value.
//! - A JSON `null` member (`{"S": null}`) counts as absent, as the AWS JSON protocol treats
//!   null members; a `null` where a whole attribute value is expected (`{"a": null}` in an
//!   item or map, `[null]` in a list) is an empty attribute value.
//! - Repeating a member (`{"S":"a","S":"b"}`) keeps the last one, as JSON parsers do.
//! - The first value error in document order wins; inside one attribute value, "empty" and
//!   "more than one datatype" win over errors in its contents, and the depth limit wins over
//!   both (validation works top-down).
//! - Base64 must be standard alphabet with canonical padding; non-zero trailing bits are
//!   accepted (a lenient decoder, as in Java).
//! - In a duplicate-members message, members are listed as sent (numbers as their original
//!   strings, binaries as base64), like Java's `List.toString()`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::number::{Number, NumberError};
use crate::value::{AttributeValue, Item};

/// DynamoDB's document nesting limit: a top-level attribute value is level 1, and no value
/// may sit below level 32. Users measured that 31 `M` wrappers around a scalar are accepted
/// and 32 are rejected, which is this rule. (An empty `M`/`L` at level 32 is accepted.)
pub const MAX_NESTING_DEPTH: usize = 32;

/// The base64 flavour DynamoDB speaks: standard alphabet, `=` padding required on input and
/// written on output.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const EMPTY_VALUE: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const MULTIPLE_TYPES: &str = "Supplied AttributeValue has more than one datatypes set, must \
                              contain exactly one of the supported datatypes";
// DynamoDB's texts: "An string set" and the double space are really there (the number-set
// variant is quoted verbatim by SDK users; the string one follows the pattern). The binary
// one is worded differently.
const EMPTY_STRING_SET: &str =
    "One or more parameter values were invalid: An string set  may not be empty";
const EMPTY_NUMBER_SET: &str =
    "One or more parameter values were invalid: An number set  may not be empty";
const EMPTY_BINARY_SET: &str =
    "One or more parameter values were invalid: Binary sets should not be empty";
const NULL_NOT_TRUE: &str = "One or more parameter values were invalid: Null attribute value \
                             types must have the value of true";
const NESTING_TOO_DEEP: &str = "Nesting Levels have exceeded supported limits: Attributes in \
                                the item have nested levels beyond supported limit";

/// What kind of [`ValueError`] this is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueErrorKind {
    /// No type set (`{}`, only unknown or null members, or a JSON `null`).
    Empty,
    /// More than one type set.
    MultipleTypes,
    /// An `N` or `NS` member is not a valid number.
    Number(NumberError),
    /// An `SS`, `NS` or `BS` with no members.
    EmptySet,
    /// A set with duplicate members (numbers compare numerically).
    DuplicateSetMember,
    /// `{"NULL": false}`.
    NullNotTrue,
    /// Deeper than [`MAX_NESTING_DEPTH`].
    NestingTooDeep,
}

/// An attribute value that is well-formed JSON but invalid for DynamoDB: reported as a
/// `ValidationException` whose message is [`ValueError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    kind: ValueErrorKind,
    message: Cow<'static, str>,
}

impl ValueError {
    /// The full `ValidationException` message text.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What went wrong.
    pub fn kind(&self) -> &ValueErrorKind {
        &self.kind
    }

    fn fixed(kind: ValueErrorKind, message: &'static str) -> ValueError {
        ValueError {
            kind,
            message: Cow::Borrowed(message),
        }
    }

    fn empty() -> ValueError {
        ValueError::fixed(ValueErrorKind::Empty, EMPTY_VALUE)
    }

    fn number(error: NumberError) -> ValueError {
        let message = Cow::Owned(error.message());
        ValueError {
            kind: ValueErrorKind::Number(error),
            message,
        }
    }

    fn duplicates(members: &str) -> ValueError {
        let message = format!(
            "One or more parameter values were invalid: Input collection [{members}] contains \
             duplicates."
        );
        ValueError {
            kind: ValueErrorKind::DuplicateSetMember,
            message: Cow::Owned(message),
        }
    }
}

impl From<NumberError> for ValueError {
    fn from(error: NumberError) -> ValueError {
        ValueError::number(error)
    }
}

/// The result of decoding DynamoDB JSON whose shape was right: the value, or the first
/// [`ValueError`] found in it. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked<T>(pub Result<T, ValueError>);

impl<T> Checked<T> {
    /// The decoded value or the value error.
    pub fn into_result(self) -> Result<T, ValueError> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Checked<AttributeValue> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AvSeed { depth: 1 }.deserialize(deserializer).map(Checked)
    }
}

impl<'de> Deserialize<'de> for Checked<Item> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        MapSeed { depth: 1 }.deserialize(deserializer).map(Checked)
    }
}

impl<'de> Deserialize<'de> for Checked<Vec<AttributeValue>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ListSeed { depth: 1 }.deserialize(deserializer).map(Checked)
    }
}

// ---------------------------------------------------------------------------------------
// Shape errors (SerializationException).

/// What the model expects at a position.
#[derive(Clone, Copy)]
enum Expected {
    String,
    Boolean,
    Structure,
    List,
}

/// What the JSON has there.
#[derive(Clone, Copy)]
enum Found {
    String,
    Number,
    Boolean,
    Null,
    Structure,
    List,
}

/// A shape error, worded like DynamoDB's `SerializationException` messages. Verified texts
/// (quoted by users of the real service): "Start of structure or map found where not
/// expected", "Start of list found where not expected", "NUMBER_VALUE cannot be converted to
/// String", "Unexpected field type" (a scalar where a structure or map belongs). The
/// boolean variants follow the same pattern but are unverified.
fn wrong_type<E: de::Error>(expected: Expected, found: Found) -> E {
    let message = match (expected, found) {
        (_, Found::Structure) => "Start of structure or map found where not expected",
        (_, Found::List) => "Start of list found where not expected",
        (Expected::String, Found::Number) => "NUMBER_VALUE cannot be converted to String",
        (Expected::String, Found::Boolean) => "BOOLEAN_VALUE cannot be converted to String",
        (Expected::Boolean, Found::String) => "STRING_VALUE cannot be converted to Boolean",
        (Expected::Boolean, Found::Number) => "NUMBER_VALUE cannot be converted to Boolean",
        _ => "Unexpected field type",
    };
    E::custom(message)
}

/// Implements the `Visitor` methods for JSON kinds a visitor does not accept, as
/// [`wrong_type`] errors.
macro_rules! reject {
    ($expected:expr; $($kind:ident),*) => { $( reject!(@one $expected, $kind); )* };
    (@one $expected:expr, string) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(wrong_type($expected, Found::String))
        }
    };
    (@one $expected:expr, number) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(wrong_type($expected, Found::Number))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(wrong_type($expected, Found::Number))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(wrong_type($expected, Found::Number))
        }
    };
    (@one $expected:expr, bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(wrong_type($expected, Found::Boolean))
        }
    };
    (@one $expected:expr, null) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(wrong_type($expected, Found::Null))
        }
    };
    (@one $expected:expr, map) => {
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(wrong_type($expected, Found::Structure))
        }
    };
    (@one $expected:expr, seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(wrong_type($expected, Found::List))
        }
    };
}

// ---------------------------------------------------------------------------------------
// Seeds for the members of an attribute value.

/// Wraps a seed so that a JSON `null` yields `None` (an absent member).
struct OptSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OptSeed<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OptSeed<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer).map(Some)
    }
}

/// A JSON string (`S`, `SS` members).
struct StringSeed;

impl<'de> DeserializeSeed<'de> for StringSeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringSeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    reject!(Expected::String; number, bool, null, map, seq);
}

/// A JSON string holding a number (`N`, `NS` members). The number is parsed straight from
/// the borrowed text; its validity is a value error, not a shape error.
struct NumberSeed;

impl<'de> DeserializeSeed<'de> for NumberSeed {
    type Value = Result<Number, NumberError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NumberSeed {
    type Value = Result<Number, NumberError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number in a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Number::parse(v))
    }

    reject!(Expected::String; number, bool, null, map, seq);
}

/// [`NumberSeed`] that also appends the text as sent to `raw` (for duplicate messages).
struct RawNumberSeed<'a> {
    raw: &'a mut String,
}

impl<'de> DeserializeSeed<'de> for RawNumberSeed<'_> {
    type Value = Result<Number, NumberError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RawNumberSeed<'_> {
    type Value = Result<Number, NumberError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number in a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if !self.raw.is_empty() {
            self.raw.push_str(", ");
        }
        self.raw.push_str(v);
        Ok(Number::parse(v))
    }

    reject!(Expected::String; number, bool, null, map, seq);
}

/// A base64 string (`B`, `BS` members). Invalid base64 is a shape error.
struct BinarySeed;

impl<'de> DeserializeSeed<'de> for BinarySeed {
    type Value = Vec<u8>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BinarySeed {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        BASE64
            .decode(v)
            .map_err(|_| E::custom("Base64 encoded binary data is invalid or has wrong padding"))
    }

    reject!(Expected::String; number, bool, null, map, seq);
}

/// A JSON boolean (`BOOL`, `NULL`).
struct BoolSeed;

impl<'de> DeserializeSeed<'de> for BoolSeed {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BoolSeed {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    reject!(Expected::Boolean; string, number, null, map, seq);
}

/// Reports whether a set has two equal members.
fn has_duplicates<T: Ord>(members: &[T]) -> bool {
    if members.len() <= 16 {
        members
            .iter()
            .enumerate()
            .any(|(i, a)| members[i + 1..].iter().any(|b| a == b))
    } else {
        let mut sorted: Vec<&T> = members.iter().collect();
        sorted.sort_unstable();
        sorted.windows(2).any(|pair| pair[0] == pair[1])
    }
}

/// `SS`: a list of strings; empty and duplicate sets are value errors.
struct StringSetSeed;

impl<'de> DeserializeSeed<'de> for StringSetSeed {
    type Value = Result<Vec<String>, ValueError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringSetSeed {
    type Value = Result<Vec<String>, ValueError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = seq.next_element_seed(StringSeed)? {
            members.push(member);
        }
        if members.is_empty() {
            return Ok(Err(ValueError::fixed(
                ValueErrorKind::EmptySet,
                EMPTY_STRING_SET,
            )));
        }
        if has_duplicates(&members) {
            return Ok(Err(ValueError::duplicates(&members.join(", "))));
        }
        Ok(Ok(members))
    }

    reject!(Expected::List; string, number, bool, null, map);
}

/// `NS`: a list of number strings; invalid numbers, empty and duplicate sets are value errors.
struct NumberSetSeed;

impl<'de> DeserializeSeed<'de> for NumberSetSeed {
    type Value = Result<Vec<Number>, ValueError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NumberSetSeed {
    type Value = Result<Vec<Number>, ValueError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of number strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        let mut raw = String::new();
        let mut first_error = None;
        while let Some(member) = seq.next_element_seed(RawNumberSeed { raw: &mut raw })? {
            match member {
                Ok(number) => members.push(number),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if let Some(error) = first_error {
            return Ok(Err(ValueError::number(error)));
        }
        if members.is_empty() {
            return Ok(Err(ValueError::fixed(
                ValueErrorKind::EmptySet,
                EMPTY_NUMBER_SET,
            )));
        }
        if has_duplicates(&members) {
            return Ok(Err(ValueError::duplicates(&raw)));
        }
        Ok(Ok(members))
    }

    reject!(Expected::List; string, number, bool, null, map);
}

/// `BS`: a list of base64 strings; empty and duplicate sets are value errors.
struct BinarySetSeed;

impl<'de> DeserializeSeed<'de> for BinarySetSeed {
    type Value = Result<Vec<Vec<u8>>, ValueError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BinarySetSeed {
    type Value = Result<Vec<Vec<u8>>, ValueError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of base64 strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = seq.next_element_seed(BinarySeed)? {
            members.push(member);
        }
        if members.is_empty() {
            return Ok(Err(ValueError::fixed(
                ValueErrorKind::EmptySet,
                EMPTY_BINARY_SET,
            )));
        }
        if has_duplicates(&members) {
            let listed: Vec<String> = members.iter().map(|m| BASE64.encode(m)).collect();
            return Ok(Err(ValueError::duplicates(&listed.join(", "))));
        }
        Ok(Ok(members))
    }

    reject!(Expected::List; string, number, bool, null, map);
}

// ---------------------------------------------------------------------------------------
// Attribute values, maps and lists.

/// The member names of an attribute value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
    Unknown,
}

impl Tag {
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

struct TagSeed;

impl<'de> DeserializeSeed<'de> for TagSeed {
    type Value = Tag;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tag, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for TagSeed {
    type Value = Tag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value type")
    }

    // Member names are case-sensitive, as in every AWS JSON protocol.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag, E> {
        Ok(match v {
            "S" => Tag::S,
            "N" => Tag::N,
            "B" => Tag::B,
            "BOOL" => Tag::Bool,
            "NULL" => Tag::Null,
            "M" => Tag::M,
            "L" => Tag::L,
            "SS" => Tag::Ss,
            "NS" => Tag::Ns,
            "BS" => Tag::Bs,
            _ => Tag::Unknown,
        })
    }
}

/// One attribute value at nesting level `depth` (a top-level attribute is level 1).
#[derive(Clone, Copy)]
struct AvSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for AvSeed {
    type Value = Result<AttributeValue, ValueError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AvSeed {
    type Value = Result<AttributeValue, ValueError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let child = AvSeed {
            depth: self.depth + 1,
        };
        let mut types = 0u16;
        // The value of the last member set; with exactly one type set, that type's value.
        let mut last: Option<Result<AttributeValue, ValueError>> = None;
        while let Some(tag) = map.next_key_seed(TagSeed)? {
            let value = match tag {
                Tag::S => map
                    .next_value_seed(OptSeed(StringSeed))?
                    .map(|s| Ok(AttributeValue::S(s))),
                Tag::N => map
                    .next_value_seed(OptSeed(NumberSeed))?
                    .map(|n| n.map(AttributeValue::N).map_err(ValueError::number)),
                Tag::B => map
                    .next_value_seed(OptSeed(BinarySeed))?
                    .map(|b| Ok(AttributeValue::B(b))),
                Tag::Bool => map
                    .next_value_seed(OptSeed(BoolSeed))?
                    .map(|b| Ok(AttributeValue::Bool(b))),
                Tag::Null => map.next_value_seed(OptSeed(BoolSeed))?.map(|b| {
                    if b {
                        Ok(AttributeValue::Null)
                    } else {
                        Err(ValueError::fixed(
                            ValueErrorKind::NullNotTrue,
                            NULL_NOT_TRUE,
                        ))
                    }
                }),
                Tag::M => map
                    .next_value_seed(OptSeed(MapSeed { depth: child.depth }))?
                    .map(|m| m.map(AttributeValue::M)),
                Tag::L => map
                    .next_value_seed(OptSeed(ListSeed { depth: child.depth }))?
                    .map(|l| l.map(AttributeValue::L)),
                Tag::Ss => map
                    .next_value_seed(OptSeed(StringSetSeed))?
                    .map(|s| s.map(AttributeValue::Ss)),
                Tag::Ns => map
                    .next_value_seed(OptSeed(NumberSetSeed))?
                    .map(|s| s.map(AttributeValue::Ns)),
                Tag::Bs => map
                    .next_value_seed(OptSeed(BinarySetSeed))?
                    .map(|s| s.map(AttributeValue::Bs)),
                Tag::Unknown => {
                    map.next_value::<IgnoredAny>()?;
                    None
                }
            };
            if let Some(value) = value {
                types |= tag.bit();
                last = Some(value);
            }
        }
        if self.depth > MAX_NESTING_DEPTH {
            return Ok(Err(ValueError::fixed(
                ValueErrorKind::NestingTooDeep,
                NESTING_TOO_DEEP,
            )));
        }
        match (types.count_ones(), last) {
            (1, Some(value)) => Ok(value),
            (0, _) | (_, None) => Ok(Err(ValueError::empty())),
            _ => Ok(Err(ValueError::fixed(
                ValueErrorKind::MultipleTypes,
                MULTIPLE_TYPES,
            ))),
        }
    }

    /// `null` where an attribute value belongs: nothing is set, so it is empty.
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        if self.depth > MAX_NESTING_DEPTH {
            return Ok(Err(ValueError::fixed(
                ValueErrorKind::NestingTooDeep,
                NESTING_TOO_DEEP,
            )));
        }
        Ok(Err(ValueError::empty()))
    }

    reject!(Expected::Structure; string, number, bool, seq);
}

/// A JSON object of attribute values (an item, an `M`, `ExpressionAttributeValues`) whose
/// values are at level `depth`.
struct MapSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for MapSeed {
    type Value = Result<Item, ValueError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MapSeed {
    type Value = Result<Item, ValueError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let seed = AvSeed { depth: self.depth };
        let mut item = BTreeMap::new();
        let mut first_error = None;
        while let Some(name) = map.next_key::<String>()? {
            match map.next_value_seed(seed)? {
                // After an error the result is discarded, so stop building it.
                Ok(value) if first_error.is_none() => {
                    item.insert(name, value);
                }
                Ok(_) => {}
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Ok(match first_error {
            Some(error) => Err(error),
            None => Ok(item),
        })
    }

    reject!(Expected::Structure; string, number, bool, null, seq);
}

/// A JSON array of attribute values (an `L`) whose elements are at level `depth`.
struct ListSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ListSeed {
    type Value = Result<Vec<AttributeValue>, ValueError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed {
    type Value = Result<Vec<AttributeValue>, ValueError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of attribute values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let seed = AvSeed { depth: self.depth };
        let mut list = Vec::new();
        let mut first_error = None;
        while let Some(element) = seq.next_element_seed(seed)? {
            match element {
                Ok(value) if first_error.is_none() => list.push(value),
                Ok(_) => {}
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Ok(match first_error {
            Some(error) => Err(error),
            None => Ok(list),
        })
    }

    reject!(Expected::List; string, number, bool, null, map);
}

// ---------------------------------------------------------------------------------------
// Serialization (responses). Numbers and binaries are written straight into the output.

/// Writes a value's `Display` form as a JSON string.
struct DisplayString<'a, T: fmt::Display>(&'a T);

impl<T: fmt::Display> Serialize for DisplayString<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// Writes bytes as a standard padded base64 JSON string.
struct Base64String<'a>(&'a [u8]);

impl Serialize for Base64String<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&base64::display::Base64Display::new(self.0, &BASE64))
    }
}

struct NumberList<'a>(&'a [Number]);

impl Serialize for NumberList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for number in self.0 {
            seq.serialize_element(&DisplayString(number))?;
        }
        seq.end()
    }
}

struct BinaryList<'a>(&'a [Vec<u8>]);

impl Serialize for BinaryList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for binary in self.0 {
            seq.serialize_element(&Base64String(binary))?;
        }
        seq.end()
    }
}

/// DynamoDB JSON: `{"<type>": <value>}` with numbers as normalised strings and binaries as
/// padded standard base64.
impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", &DisplayString(n))?,
            AttributeValue::B(b) => map.serialize_entry("B", &Base64String(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::Ss(s) => map.serialize_entry("SS", s)?,
            AttributeValue::Ns(n) => map.serialize_entry("NS", &NumberList(n))?,
            AttributeValue::Bs(b) => map.serialize_entry("BS", &BinaryList(b))?,
        }
        map.end()
    }
}

/// A number serializes as its normalised decimal string (as in `{"N":"1.5"}`).
impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Result<Result<Item, ValueError>, serde_json::Error> {
        serde_json::from_str::<Checked<Item>>(json).map(|c| c.0)
    }

    #[test]
    fn round_trip() {
        let json = r#"{"a":{"N":"1"},"b":{"M":{"c":{"BS":["AAE="]}}},"d":{"L":[{"NULL":true}]}}"#;
        let item = decode(json).unwrap().unwrap();
        assert_eq!(serde_json::to_string(&item).unwrap(), json);
    }

    #[test]
    fn value_errors_do_not_stop_parsing() {
        // The value error comes first, the syntax error after it still fails the parse.
        assert!(decode(r#"{"a":{},"b":{"S":5}}"#).is_err());
        let err = decode(r#"{"a":{},"b":{"S":"x"}}"#).unwrap().unwrap_err();
        assert_eq!(err.kind(), &ValueErrorKind::Empty);
    }

    #[test]
    fn duplicates_detected_in_large_sets() {
        let members: Vec<String> = (0..40).map(|i| format!("\"{}\"", i % 39)).collect();
        let json = format!(r#"{{"a":{{"NS":[{}]}}}}"#, members.join(","));
        let err = decode(&json).unwrap().unwrap_err();
        assert_eq!(err.kind(), &ValueErrorKind::DuplicateSetMember);
    }
}
