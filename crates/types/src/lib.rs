//! Stator's item model: everything about DynamoDB values that does not depend on a table.
//!
//! - [`number`]: DynamoDB's exact 38-digit decimal [`Number`], its syntax, limits,
//!   arithmetic, order and output form.
//! - [`value`]: [`AttributeValue`] and [`Item`].
//! - [`json`]: the wire form (DynamoDB JSON) with DynamoDB's split between shape errors
//!   (`SerializationException`, serde errors) and value errors (`ValidationException`,
//!   [`ValueError`] inside [`Checked`]).
//! - [`size`]: DynamoDB's item size rules and the 400 KB limit.
//! - [`keycodec`]: order-preserving encodings of key values and the partition hash, which
//!   fix the on-disk key layout.
//! - [`itemcodec`]: the compact binary encoding of items stored as values.
//! - [`constraint`]: the request validator's wording of constraint violations, shared by
//!   every layer that reports them.
//! - [`jsonout`]: item JSON written straight into a buffer (and transcoded from stored
//!   bytes) for the read responses, identical to the serde output.
//!
//! A request flows through it as: JSON body → `Checked<Item>` (validated values) → engine
//! (sizes, key encodings) → `encode_item` into storage; and back: whole items go from
//! stored bytes to response JSON with `write_item_json`, while items the engine must look
//! into (filters, projections, conditions) go through `decode_item` and are written with
//! `jsonout` or `Serialize`.

pub mod constraint;
pub mod itemcodec;
pub mod json;
pub mod jsonout;
pub mod keycodec;
pub mod number;
pub mod size;
pub mod value;

pub use itemcodec::{decode_item, encode_item, write_item_json, CodecError};
pub use json::{Checked, ValueError};
pub use number::{Number, NumberError};
pub use size::{
    attribute_name_problem, item_size, value_size, MAX_ATTRIBUTE_NAME_BYTES, MAX_ITEM_SIZE,
};
pub use value::{AttributeValue, Item};
