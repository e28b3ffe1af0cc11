//! Attribute values and items: short builders for the values tests write, and the reads
//! tests use to check what was stored.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue as Av;
use aws_sdk_dynamodb::Client;

/// An item, a key, or any other attribute map.
pub type Item = HashMap<String, Av>;

/// A string value.
pub fn s(v: &str) -> Av {
    Av::S(v.to_string())
}

/// A number value, written as given (the server normalises it).
pub fn n(v: &str) -> Av {
    Av::N(v.to_string())
}

/// An attribute map from `(name, value)` pairs.
pub fn item(pairs: &[(&str, Av)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The item whose partition key `pk` is `pk` (a table without a sort key), read strongly
/// consistent; `None` when there is none.
pub async fn get_by_pk(client: &Client, table: &str, pk: Av) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key("pk", pk)
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item()
        .cloned()
}
