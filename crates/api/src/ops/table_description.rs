//! The `TableDescription` structure shared by CreateTable, DescribeTable, UpdateTable and
//! DeleteTable responses, built from the engine's table view.

use serde_json::{json, Map, Value};
use stator_engine::ddl::TableView;
use stator_engine::schema::{BillingMode, IndexMeta, KeyRole, KeySchema, Throughput};

fn key_schema(schema: &KeySchema) -> Value {
    // As declared: every HASH element, then every RANGE element (multi-attribute keys).
    let out = schema
        .components()
        .map(|(role, a)| {
            let key_type = match role {
                KeyRole::Hash => "HASH",
                KeyRole::Range => "RANGE",
            };
            json!({"AttributeName": a.name, "KeyType": key_type})
        })
        .collect();
    Value::Array(out)
}

fn throughput(t: &Throughput) -> Value {
    let mut out = Map::new();
    if let Some(at) = t.last_increase {
        out.insert("LastIncreaseDateTime".into(), json!(at));
    }
    if let Some(at) = t.last_decrease {
        out.insert("LastDecreaseDateTime".into(), json!(at));
    }
    out.insert("NumberOfDecreasesToday".into(), json!(t.decreases_today));
    out.insert("ReadCapacityUnits".into(), json!(t.read_capacity_units));
    out.insert("WriteCapacityUnits".into(), json!(t.write_capacity_units));
    Value::Object(out)
}

fn projection(index: &IndexMeta) -> Value {
    let mut out = Map::new();
    out.insert(
        "ProjectionType".into(),
        json!(index.projection.projection_type.as_str()),
    );
    if !index.projection.non_key_attributes.is_empty() {
        out.insert(
            "NonKeyAttributes".into(),
            json!(index.projection.non_key_attributes),
        );
    }
    Value::Object(out)
}

fn on_demand(o: &stator_engine::schema::OnDemandThroughput) -> Value {
    json!({
        "MaxReadRequestUnits": o.max_read_request_units.unwrap_or(-1),
        "MaxWriteRequestUnits": o.max_write_request_units.unwrap_or(-1),
    })
}

/// A `WarmThroughput` description; its `Status` follows the table's or the index's.
fn warm(w: &stator_engine::schema::WarmThroughput, status: &str) -> Value {
    json!({
        "ReadUnitsPerSecond": w.read_units_per_second,
        "WriteUnitsPerSecond": w.write_units_per_second,
        "Status": status,
    })
}

/// The reduced `TableDescription` DeleteTable answers with, as DynamoDB does: name, status,
/// id, ARN, billing mode, provisioned throughput, size and item count; no creation time,
/// key schema, attribute definitions or index lists.
pub fn describe_deleted(view: &TableView) -> Value {
    let meta = &view.meta;
    let mut t = Map::new();
    t.insert("TableName".into(), json!(meta.name));
    t.insert("TableStatus".into(), json!(view.status));
    t.insert("TableId".into(), json!(meta.table_id));
    t.insert("TableArn".into(), json!(meta.arn));
    t.insert(
        "BillingModeSummary".into(),
        json!({"BillingMode": meta.billing_mode.as_str()}),
    );
    t.insert("ProvisionedThroughput".into(), throughput(&meta.throughput));
    t.insert("TableSizeBytes".into(), json!(view.size_bytes));
    t.insert("ItemCount".into(), json!(view.item_count));
    Value::Object(t)
}

/// The `TableDescription` JSON object.
pub fn describe(view: &TableView) -> Value {
    let meta = &view.meta;
    let mut t = Map::new();
    t.insert(
        "AttributeDefinitions".into(),
        Value::Array(
            meta.attribute_definitions
                .iter()
                .map(|a| json!({"AttributeName": a.name, "AttributeType": a.attr_type.as_str()}))
                .collect(),
        ),
    );
    t.insert("TableName".into(), json!(meta.name));
    t.insert("KeySchema".into(), key_schema(&meta.key_schema));
    t.insert("TableStatus".into(), json!(view.status));
    t.insert("CreationDateTime".into(), json!(meta.creation_time));
    t.insert("ProvisionedThroughput".into(), throughput(&meta.throughput));
    t.insert("TableSizeBytes".into(), json!(view.size_bytes));
    t.insert("ItemCount".into(), json!(view.item_count));
    t.insert("TableArn".into(), json!(meta.arn));
    t.insert("TableId".into(), json!(meta.table_id));
    let mut billing = Map::new();
    billing.insert("BillingMode".into(), json!(meta.billing_mode.as_str()));
    if let Some(at) = meta.pay_per_request_since {
        billing.insert("LastUpdateToPayPerRequestDateTime".into(), json!(at));
    }
    t.insert("BillingModeSummary".into(), Value::Object(billing));
    t.insert("WarmThroughput".into(), warm(&meta.warm, view.status));
    if meta.billing_mode == BillingMode::PayPerRequest || meta.on_demand.is_some() {
        t.insert(
            "OnDemandThroughput".into(),
            on_demand(&meta.on_demand.clone().unwrap_or_default()),
        );
    }
    let stats = |name: &str| view.index_stats.get(name).copied().unwrap_or((0, 0));
    if !meta.local_indexes.is_empty() {
        let lsis: Vec<Value> = meta
            .local_indexes
            .iter()
            .map(|i| {
                json!({
                    "IndexName": i.name,
                    "KeySchema": key_schema(&i.key_schema),
                    "Projection": projection(i),
                    "IndexSizeBytes": stats(&i.name).1,
                    "ItemCount": stats(&i.name).0,
                    "IndexArn": meta.index_arn(&i.name),
                })
            })
            .collect();
        t.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
    }
    if !meta.global_indexes.is_empty() {
        let gsis: Vec<Value> = meta
            .global_indexes
            .iter()
            .map(|i| {
                let mut g = Map::new();
                g.insert("IndexName".into(), json!(i.name));
                g.insert("KeySchema".into(), key_schema(&i.key_schema));
                g.insert("Projection".into(), projection(i));
                g.insert("IndexStatus".into(), json!(i.status.as_str()));
                if i.status == stator_engine::schema::IndexStatus::Creating {
                    g.insert("Backfilling".into(), json!(true));
                }
                g.insert(
                    "ProvisionedThroughput".into(),
                    throughput(&i.throughput.clone().unwrap_or_default()),
                );
                if meta.billing_mode == BillingMode::PayPerRequest || i.on_demand.is_some() {
                    g.insert(
                        "OnDemandThroughput".into(),
                        on_demand(&i.on_demand.clone().unwrap_or_default()),
                    );
                }
                g.insert("WarmThroughput".into(), warm(&i.warm, i.status.as_str()));
                g.insert("IndexSizeBytes".into(), json!(stats(&i.name).1));
                g.insert("ItemCount".into(), json!(stats(&i.name).0));
                g.insert("IndexArn".into(), json!(meta.index_arn(&i.name)));
                Value::Object(g)
            })
            .collect();
        t.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    if let Some(stream) = &meta.stream {
        t.insert(
            "StreamSpecification".into(),
            json!({"StreamEnabled": true, "StreamViewType": stream.view_type}),
        );
        t.insert("LatestStreamLabel".into(), json!(stream.label));
        t.insert("LatestStreamArn".into(), json!(meta.stream_arn()));
    }
    if let Some(sse) = &meta.sse {
        let key = sse.kms_master_key_id.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:kms:{}:{}:key/stator-managed",
                region_of(&meta.arn),
                account_of(&meta.arn)
            )
        });
        t.insert(
            "SSEDescription".into(),
            json!({"Status": "ENABLED", "SSEType": sse.sse_type, "KMSMasterKeyArn": key}),
        );
    }
    t.insert(
        "TableClassSummary".into(),
        json!({"TableClass": meta.table_class}),
    );
    t.insert(
        "DeletionProtectionEnabled".into(),
        json!(meta.deletion_protection),
    );
    Value::Object(t)
}

fn region_of(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or("")
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}
