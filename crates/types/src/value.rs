//! The in-memory model of DynamoDB attribute values and items.
//!
//! An [`Item`] maps attribute names to [`AttributeValue`]s. It is a `BTreeMap`, so every
//! encoding of an item (JSON output, the storage codec) lists attributes in one stable order
//! (by UTF-8 bytes of the name); DynamoDB itself promises no attribute order.
//!
//! Values are built by the JSON layer (`json.rs`, which also validates them), by the storage
//! codec (`itemcodec.rs`) and by the expression evaluator. Sets (`SS`, `NS`, `BS`) are kept
//! as vectors in the order the client sent them, after duplicates were rejected; set
//! equality and set operations are order-insensitive and are the evaluator's business, so
//! the derived `PartialEq` here compares sets element by element in order.

use std::collections::BTreeMap;

use crate::number::Number;

/// An item, or any attribute-name → value map (`M` values, `ExpressionAttributeValues`).
pub type Item = BTreeMap<String, AttributeValue>;

/// One DynamoDB attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// `S`: a UTF-8 string (may be empty outside keys).
    S(String),
    /// `N`: a number.
    N(Number),
    /// `B`: binary data (sent base64-encoded on the wire).
    B(Vec<u8>),
    /// `BOOL`.
    Bool(bool),
    /// `NULL` (always `true` on the wire).
    Null,
    /// `M`: a map of names to values.
    M(Item),
    /// `L`: a list of values.
    L(Vec<AttributeValue>),
    /// `SS`: a non-empty set of distinct strings.
    Ss(Vec<String>),
    /// `NS`: a non-empty set of numerically distinct numbers.
    Ns(Vec<Number>),
    /// `BS`: a non-empty set of distinct binaries.
    Bs(Vec<Vec<u8>>),
}

impl AttributeValue {
    /// The type's name as DynamoDB writes it: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`,
    /// `NS` or `BS`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    /// How many levels deep this value reaches: 1 for a scalar, a set or an empty `M`/`L`,
    /// and one more than the deepest element for a non-empty `M`/`L`. A top-level attribute
    /// value is at level 1, so DynamoDB's 32-level limit means `nesting_depth() <= 32`
    /// (see `json::MAX_NESTING_DEPTH`).
    pub fn nesting_depth(&self) -> usize {
        match self {
            AttributeValue::M(map) => 1 + map.values().map(Self::nesting_depth).max().unwrap_or(0),
            AttributeValue::L(list) => 1 + list.iter().map(Self::nesting_depth).max().unwrap_or(0),
            _ => 1,
        }
    }
}
