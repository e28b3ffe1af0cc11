//! Checks of an item or key against a table's schema, before anything is read or written:
//! the key attributes (present, of the right type, not empty, within DynamoDB's size
//! limits), the index key attributes an item carries, the 400 KB item limit, and updates
//! that would touch a key attribute. Every front end and every write path (single items,
//! batches, transactions) uses these, so the rules and their texts exist once.

use stator_expr::{Name, Path, PathElement, Update};
use stator_types::{item_size, AttributeValue, Item, MAX_ITEM_SIZE};

use crate::error::DynamoError;
use crate::schema::{KeyAttribute, KeyRole, TableMeta};

/// DynamoDB's limit on the bytes of a partition key value.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// DynamoDB's limit on the bytes of a sort key value.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

fn key_type_error(attr: &KeyAttribute, actual: &AttributeValue) -> DynamoError {
    DynamoError::invalid_parameter(format!(
        "Type mismatch for key {} expected: {} actual: {}",
        attr.name,
        attr.attr_type.as_str(),
        actual.type_name()
    ))
}

/// Rejects empty string/binary key values with DynamoDB's message.
pub fn check_not_empty(attr: &KeyAttribute, value: &AttributeValue) -> Result<(), DynamoError> {
    let kind = match value {
        AttributeValue::S(s) if s.is_empty() => "string",
        AttributeValue::B(b) if b.is_empty() => "binary",
        _ => return Ok(()),
    };
    Err(DynamoError::validation(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute \
         cannot contain an empty {kind} value. Key: {}",
        attr.name
    )))
}

fn key_value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        other => stator_types::value_size(other),
    }
}

/// The size limit of an index key attribute: the partition key's, or the sort key's. Each
/// component of a multi-attribute key has its part's limit on its own.
fn index_key_limit(role: KeyRole) -> usize {
    match role {
        KeyRole::Hash => MAX_PARTITION_KEY_BYTES,
        KeyRole::Range => MAX_SORT_KEY_BYTES,
    }
}

/// Whether `value` as an index key component of `role` fits DynamoDB's index key limits.
/// Items written before an index existed may break them; the backfill leaves those out
/// (as DynamoDB does, reporting them as index key violations).
pub fn fits_index_key(role: KeyRole, value: &AttributeValue) -> bool {
    key_value_size(value) <= index_key_limit(role)
}

fn check_key_sizes(pk: &AttributeValue, sk: Option<&AttributeValue>) -> Result<(), DynamoError> {
    if key_value_size(pk) > MAX_PARTITION_KEY_BYTES {
        // DynamoDB's text really has no space in "of2048".
        return Err(DynamoError::invalid_parameter(
            "Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if sk.is_some_and(|sk| key_value_size(sk) > MAX_SORT_KEY_BYTES) {
        return Err(DynamoError::invalid_parameter(
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// DynamoDB's message for a `Key` that does not match the table's key schema.
pub const KEY_MISMATCH: &str = "The provided key element does not match the schema";

/// Validates a `Key` parameter (GetItem, DeleteItem, UpdateItem): exactly the table's key
/// attributes, of the right types, non-empty, within size limits.
pub fn check_key<'a>(
    meta: &TableMeta,
    key: &'a Item,
) -> Result<(&'a AttributeValue, Option<&'a AttributeValue>), DynamoError> {
    let mismatch = || DynamoError::validation(KEY_MISMATCH);
    let expected = 1 + usize::from(meta.key_schema.sort.is_some());
    if key.len() != expected {
        return Err(mismatch());
    }
    let mut values = [None, None];
    for (slot, attr) in meta.key_schema.attributes().enumerate() {
        let value = key.get(&attr.name).ok_or_else(mismatch)?;
        if !attr.attr_type.matches(value) {
            return Err(mismatch());
        }
        values[slot] = Some(value);
    }
    for (attr, value) in meta.key_schema.attributes().zip(values.iter().flatten()) {
        check_not_empty(attr, value)?;
    }
    let pk = values[0].ok_or_else(mismatch)?;
    check_key_sizes(pk, values[1])?;
    Ok((pk, values[1]))
}

/// Validates a whole item to be stored: key attributes present and well-typed, index key
/// attributes well-typed and non-empty where present, item size within the limit.
pub fn check_item<'a>(
    meta: &TableMeta,
    item: &'a Item,
) -> Result<(&'a AttributeValue, Option<&'a AttributeValue>, usize), DynamoError> {
    let mut values = [None, None];
    for (slot, attr) in meta.key_schema.attributes().enumerate() {
        let value = item.get(&attr.name).ok_or_else(|| {
            DynamoError::invalid_parameter(format!("Missing the key {} in the item", attr.name))
        })?;
        if !attr.attr_type.matches(value) {
            return Err(key_type_error(attr, value));
        }
        check_not_empty(attr, value)?;
        values[slot] = Some(value);
    }
    for index in meta.global_indexes.iter().chain(&meta.local_indexes) {
        for (role, attr) in index.key_schema.components() {
            let Some(value) = item.get(&attr.name) else {
                continue;
            };
            if !attr.attr_type.matches(value) {
                return Err(DynamoError::invalid_parameter(format!(
                    "Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attr.name,
                    attr.attr_type.as_str(),
                    value.type_name(),
                    index.name
                )));
            }
            let kind = match value {
                AttributeValue::S(s) if s.is_empty() => Some("string"),
                AttributeValue::B(b) if b.is_empty() => Some("binary"),
                _ => None,
            };
            if let Some(kind) = kind {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a \
                     secondary index key is not supported. The AttributeValue for a key \
                     attribute cannot contain an empty {kind} value. IndexName: {}, \
                     IndexKey: {}",
                    index.name, attr.name
                )));
            }
            let limit = index_key_limit(role);
            let size = key_value_size(value);
            if size > limit {
                return Err(DynamoError::invalid_parameter(format!(
                    "Size limit exceeded for Index Key {} Actual Size: {size} bytes Max Size: \
                     {limit} bytes IndexName: {}",
                    attr.name, index.name
                )));
            }
        }
    }
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    let pk = values[0].ok_or_else(|| DynamoError::internal("key schema without partition key"))?;
    check_key_sizes(pk, values[1])?;
    Ok((pk, values[1], size))
}

fn first_name(path: &Path) -> Option<&str> {
    match path.0.first() {
        Some(PathElement::Attribute(Name::Literal(name))) => Some(name),
        _ => None,
    }
}

/// DynamoDB refuses any update action on a key attribute, before looking at the item.
pub fn check_update_spares_key(meta: &TableMeta, update: &Update) -> Result<(), DynamoError> {
    let paths = update
        .set
        .iter()
        .map(|(p, _)| p)
        .chain(update.remove.iter())
        .chain(update.add.iter().map(|(p, _)| p))
        .chain(update.delete.iter().map(|(p, _)| p));
    for path in paths {
        if let Some(name) = first_name(path) {
            if meta.key_schema.attributes().any(|k| k.name == name) {
                return Err(DynamoError::invalid_parameter(format!(
                    "Cannot update attribute {name}. This attribute is part of the key"
                )));
            }
        }
    }
    Ok(())
}

/// The limit check of an item an update produced (DynamoDB words it apart from PutItem's).
pub fn check_updated_size(item: &Item) -> Result<usize, DynamoError> {
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(DynamoError::validation(
            "Item size to update has exceeded the maximum allowed size",
        ));
    }
    Ok(size)
}

/// In a batch, an item without the table's key attributes, or with one of the wrong type,
/// is refused with the schema-mismatch text (PutItem words these cases differently).
pub fn check_batch_put_key(meta: &TableMeta, item: &Item) -> Result<(), DynamoError> {
    for attr in meta.key_schema.attributes() {
        match item.get(&attr.name) {
            Some(value) if attr.attr_type.matches(value) => {}
            _ => return Err(DynamoError::validation(KEY_MISMATCH)),
        }
    }
    Ok(())
}

/// DynamoDB's text for a batch that names one item twice.
pub fn duplicate_keys() -> DynamoError {
    DynamoError::validation("Provided list of item keys contains duplicates")
}
