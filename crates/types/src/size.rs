//! DynamoDB's item size: what the 400 KB item limit, capacity units, and the key size
//! limits are measured in.
//!
//! The rules are those of the AWS Developer Guide page "DynamoDB item sizes and formats":
//! - an attribute costs its name's UTF-8 bytes plus its value's size;
//! - `S`: UTF-8 bytes; `B`: raw bytes (not base64);
//! - `N`: "(1 byte per two significant digits) + (1 byte)", leading and trailing zeros not
//!   counted (see [`number_size`] for how we round);
//! - `BOOL`, `NULL`: 1 byte;
//! - `M`, `L`: 3 bytes of overhead plus, per element, 1 byte of overhead and the element's
//!   size (a map element's size includes its name's UTF-8 bytes);
//! - sets: the sum of their members' sizes (the guide gives no per-member overhead).
//!
//! The engine calls [`item_size`] on every write (limit check, capacity) and on reads
//! (capacity), so this walks the value once and never allocates.

use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// DynamoDB's maximum item size: 400 KB, names and values included.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// The longest attribute name, in UTF-8 bytes (64 KB less one). Key attributes and names
/// projected into an index have their own, lower limit of 255 bytes.
pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 65535;

/// Why DynamoDB refuses `name` as an attribute name, if it does: it is empty, or longer than
/// [`MAX_ATTRIBUTE_NAME_BYTES`]. Callers put the text in their own context.
pub fn attribute_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("Empty attribute name")
    } else if name.len() > MAX_ATTRIBUTE_NAME_BYTES {
        Some("Attribute name is too large, must be less than 65536 bytes")
    } else {
        None
    }
}

/// The stored size of a number: 1 byte plus one byte per two significant digits, rounded up
/// (`ceil(digits / 2) + 1`), so 1–2 digits take 2 bytes and 38 digits take 20 bytes.
///
/// The guide only says "approximately"; this is the exact rule we chose. It is the storage
/// cost of a base-100 encoding with an exponent byte, which the guide's wording describes.
/// Leading and trailing zeros (also those of integers like `1000`) are not significant, as
/// the guide says, and the sign costs nothing. Zero has no significant digits: 1 byte.
pub fn number_size(number: &Number) -> usize {
    (number.significant_digits() as usize).div_ceil(2) + 1
}

/// The size of a value without the name of the attribute holding it.
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, value)| name.len() + 1 + value_size(value))
                .sum::<usize>()
        }
        AttributeValue::L(list) => {
            3 + list
                .iter()
                .map(|value| 1 + value_size(value))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(number_size).sum(),
        AttributeValue::Bs(set) => set.iter().map(Vec::len).sum(),
    }
}

/// The size of an item: for each attribute, its name's UTF-8 bytes plus its value's size.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}
