//! Table definitions: key schema elements, attribute definitions, projections, throughput,
//! and the plain on-demand tables most scenarios start from.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, Projection, ProjectionType,
    ProvisionedThroughput, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

pub fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

pub fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

pub fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .unwrap()
}

/// A projection of the given type, with `non_key` attributes (for INCLUDE).
pub fn projection(t: ProjectionType, non_key: &[&str]) -> Projection {
    let mut b = Projection::builder().projection_type(t);
    for a in non_key {
        b = b.non_key_attributes(*a);
    }
    b.build()
}

/// Creates an on-demand table keyed by `keys`: the partition key, then the sort key if
/// given, e.g. `&[("pk", S), ("sk", N)]`.
pub async fn on_demand_table(client: &Client, name: &str, keys: &[(&str, ScalarAttributeType)]) {
    assert!(
        matches!(keys.len(), 1 | 2),
        "a key schema has one or two elements"
    );
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for ((attribute, t), key_type) in keys.iter().zip([KeyType::Hash, KeyType::Range]) {
        req = req
            .attribute_definitions(attr(attribute, t.clone()))
            .key_schema(key(attribute, key_type));
    }
    req.send().await.unwrap();
}

/// Short names for the three key attribute types.
pub const S: ScalarAttributeType = ScalarAttributeType::S;
pub const N: ScalarAttributeType = ScalarAttributeType::N;
pub const B: ScalarAttributeType = ScalarAttributeType::B;
