//! UpdateTable's `GlobalSecondaryIndexUpdates`: every validation error with its exact type and
//! message, and the life of an index added to a table that already holds items (backfill,
//! `CREATING` → `ACTIVE`, statistics, Query, deletion), plus throughput updates. The real
//! `stator` binary, driven by the official Rust SDK (and raw JSON where the SDK would refuse
//! to send the request), on both storage backends.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction,
    DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeyType,
    LocalSecondaryIndex, OnDemandThroughput, Projection, ProjectionType, ProvisionedThroughput,
    UpdateGlobalSecondaryIndexAction,
};
use aws_sdk_dynamodb::Client;
use common::schema::{attr, key, on_demand_table, projection, throughput, N, S};
use common::wait::{self, describe_gsi};
use common::{error_of, n, raw, s, unique_name, validation, Tables, TestServer};

on_both_backends!(
    server: request_constraints_are_reported_together,
    index_update_shape_errors,
    new_index_definition_errors,
    new_index_throughput_errors,
    index_update_and_delete_errors,
    index_backfill_lifecycle,
    index_throughput_updates,
    settings_combined_with_index_updates_are_all_applied,
    attribute_definitions_follow_index_keys,
);

// ---------------------------------------------------------------------------------------------
// Helpers

/// How long an index may take to be backfilled or removed.
const WAIT: Duration = Duration::from_secs(60);

/// A `Create` action for an index on `pk` (and `sk`), projecting everything.
fn create_action(name: &str, pk: &str, sk: Option<&str>) -> CreateGlobalSecondaryIndexAction {
    create_builder(name, pk, sk).build().unwrap()
}

fn create_builder(
    name: &str,
    pk: &str,
    sk: Option<&str>,
) -> aws_sdk_dynamodb::types::builders::CreateGlobalSecondaryIndexActionBuilder {
    let mut b = CreateGlobalSecondaryIndexAction::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .projection(projection(ProjectionType::All, &[]));
    if let Some(sk) = sk {
        b = b.key_schema(key(sk, KeyType::Range));
    }
    b
}

fn create(action: CreateGlobalSecondaryIndexAction) -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder().create(action).build()
}

fn delete(name: &str) -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder()
        .delete(
            DeleteGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .build()
                .unwrap(),
        )
        .build()
}

fn update(name: &str, t: Option<ProvisionedThroughput>) -> GlobalSecondaryIndexUpdate {
    GlobalSecondaryIndexUpdate::builder()
        .update(
            UpdateGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .set_provisioned_throughput(t)
                .build()
                .unwrap(),
        )
        .build()
}

fn gsi(name: &str, pk: &str, t: Option<ProvisionedThroughput>) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .projection(projection(ProjectionType::All, &[]))
        .set_provisioned_throughput(t)
        .build()
        .unwrap()
}

/// A provisioned table keyed by `pk` (S) and `sk` (N), with a global index `g1` on `g`
/// (S) at 5/5.
async fn provisioned_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("sk", N))
        .attribute_definitions(attr("g", S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .provisioned_throughput(throughput(5, 5))
        .global_secondary_indexes(gsi("gsi1", "g", Some(throughput(5, 5))))
        .send()
        .await
        .unwrap();
}

/// Sends `updates` (with `defs`) to UpdateTable and returns the error's type and message.
async fn update_error(
    client: &Client,
    table: &str,
    defs: &[AttributeDefinition],
    updates: Vec<GlobalSecondaryIndexUpdate>,
) -> (String, String) {
    let err = client
        .update_table()
        .table_name(table)
        .set_attribute_definitions((!defs.is_empty()).then(|| defs.to_vec()))
        .set_global_secondary_index_updates(Some(updates))
        .send()
        .await
        .unwrap_err();
    error_of(&err)
}

fn invalid(detail: &str) -> (String, String) {
    validation(&format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

async fn attribute_names(client: &Client, table: &str) -> Vec<(String, String)> {
    let mut defs: Vec<(String, String)> = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .attribute_definitions()
        .iter()
        .map(|d| {
            (
                d.attribute_name().to_string(),
                d.attribute_type().as_str().to_string(),
            )
        })
        .collect();
    defs.sort();
    defs
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Validation errors

async fn request_constraints_are_reported_together(server: &TestServer) {
    let client = server.client();
    let t = Tables::new(&["constraints"]);
    on_demand_table(&client, &t["constraints"], &[("pk", S)]).await;

    // Create: index name too short, empty key schema, unknown projection type, zero capacity.
    assert_eq!(
        raw::call_error(
            server,
            "UpdateTable",
            &t.fill(
                r#"{"TableName":"$constraints","GlobalSecondaryIndexUpdates":[{"Create":{
                "IndexName":"ab","KeySchema":[],"Projection":{"ProjectionType":"SOME"},
                "ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":1}}}]}"#
            ),
        ),
        validation(
            "4 validation errors detected: \
             Value 'ab' at 'globalSecondaryIndexUpdates.1.member.create.indexName' failed to \
             satisfy constraint: Member must have length greater than or equal to 3; \
             Value '[]' at 'globalSecondaryIndexUpdates.1.member.create.keySchema' failed to \
             satisfy constraint: Member must have length greater than or equal to 1; \
             Value 'SOME' at 'globalSecondaryIndexUpdates.1.member.create.projection.\
             projectionType' failed to satisfy constraint: Member must satisfy enum value set: \
             [ALL, INCLUDE, KEYS_ONLY]; \
             Value '0' at 'globalSecondaryIndexUpdates.1.member.create.provisionedThroughput.\
             readCapacityUnits' failed to satisfy constraint: Member must have value greater \
             than or equal to 1"
        )
    );

    // Create without key schema or projection; three key elements; bad key type.
    assert_eq!(
        raw::call_error(
            server,
            "UpdateTable",
            &t.fill(
                r#"{"TableName":"$constraints","GlobalSecondaryIndexUpdates":[
                {"Create":{"IndexName":"idx"}},
                {"Create":{"IndexName":"idx2","Projection":{"ProjectionType":"ALL"},
                 "KeySchema":[{"AttributeName":"a","KeyType":"HASH"},
                              {"AttributeName":"b","KeyType":"RANGE"},
                              {"AttributeName":"c","KeyType":"SORT"}]}}]}"#
            ),
        ),
        // Three elements fit a GSI key schema (up to 8: multi-attribute keys).
        validation(
            "3 validation errors detected: \
             Value null at 'globalSecondaryIndexUpdates.1.member.create.keySchema' failed to \
             satisfy constraint: Member must not be null; \
             Value null at 'globalSecondaryIndexUpdates.1.member.create.projection' failed to \
             satisfy constraint: Member must not be null; \
             Value 'SORT' at 'globalSecondaryIndexUpdates.2.member.create.keySchema.3.member.\
             keyType' failed to satisfy constraint: Member must satisfy enum value set: \
             [HASH, RANGE]"
        )
    );

    // Update and Delete: the index name is required and follows the name pattern; update
    // capacities need both units. Attribute definitions come first, before the table name.
    assert_eq!(
        raw::call_error(
            server,
            "UpdateTable",
            &t.fill(
                r#"{"TableName":"$constraints",
                "AttributeDefinitions":[{"AttributeType":"X"}],
                "GlobalSecondaryIndexUpdates":[
                {"Update":{"ProvisionedThroughput":{"ReadCapacityUnits":1}}},
                {"Delete":{"IndexName":"no spaces"}}]}"#
            ),
        ),
        validation(
            "5 validation errors detected: \
             Value null at 'attributeDefinitions.1.member.attributeName' failed to satisfy \
             constraint: Member must not be null; \
             Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy \
             constraint: Member must satisfy enum value set: [B, N, S]; \
             Value null at 'globalSecondaryIndexUpdates.1.member.update.indexName' failed to \
             satisfy constraint: Member must not be null; \
             Value null at 'globalSecondaryIndexUpdates.1.member.update.provisionedThroughput.\
             writeCapacityUnits' failed to satisfy constraint: Member must not be null; \
             Value 'no spaces' at 'globalSecondaryIndexUpdates.2.member.delete.indexName' \
             failed to satisfy constraint: Member must satisfy regular expression pattern: \
             [a-zA-Z0-9_.-]+"
        )
    );

    // More than 20 non-key attributes in a projection.
    let many: Vec<String> = (0..21).map(|i| format!("\"a{i}\"")).collect();
    let (kind, message) = raw::call_error(
        server,
        "UpdateTable",
        &t.fill(&format!(
            r#"{{"TableName":"$constraints","GlobalSecondaryIndexUpdates":[{{"Create":{{
                "IndexName":"idx","KeySchema":[{{"AttributeName":"a","KeyType":"HASH"}}],
                "Projection":{{"ProjectionType":"INCLUDE","NonKeyAttributes":[{}]}}}}}}]}}"#,
            many.join(",")
        )),
    );
    assert_eq!(kind, "ValidationException");
    assert!(message.starts_with(
        "1 validation error detected: Value '[a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10,"
    ));
    assert!(message.ends_with(
        "at 'globalSecondaryIndexUpdates.1.member.create.projection.nonKeyAttributes' failed \
         to satisfy constraint: Member must have length less than or equal to 20"
    ));

    // Warm throughput alone is an index update of its own: here, of an index that does not
    // exist.
    let (kind, _) = raw::call_error(
        server,
        "UpdateTable",
        &t.fill(
            r#"{"TableName":"$constraints","GlobalSecondaryIndexUpdates":[{"Update":{
            "IndexName":"idx","WarmThroughput":{"ReadUnitsPerSecond":50000}}}]}"#,
        ),
    );
    assert_eq!(kind, "ResourceNotFoundException");
}

async fn index_update_shape_errors(server: &TestServer) {
    let client = server.client();
    let shape = unique_name("shape");
    let nowhere = unique_name("nowhere");
    on_demand_table(&client, &shape, &[("pk", S)]).await;
    let defs = [attr("a", S), attr("b", S)];

    // Every entry names exactly one action.
    let exactly_one = invalid(
        "Exactly one of Create, Update or Delete must be specified for each \
         GlobalSecondaryIndexUpdate",
    );
    assert_eq!(
        update_error(
            &client,
            &shape,
            &[],
            vec![GlobalSecondaryIndexUpdate::builder().build()]
        )
        .await,
        exactly_one
    );
    let both = GlobalSecondaryIndexUpdate::builder()
        .create(create_action("idx-a", "a", None))
        .delete(
            DeleteGlobalSecondaryIndexAction::builder()
                .index_name("idx-b")
                .build()
                .unwrap(),
        )
        .build();
    assert_eq!(
        update_error(&client, &shape, &defs, vec![both]).await,
        exactly_one
    );

    // One index created or deleted per request, counted across creations and deletions.
    let limit = (
        "LimitExceededException".to_string(),
        "Subscriber limit exceeded: Only 1 online index can be created or deleted \
         simultaneously per table"
            .to_string(),
    );
    assert_eq!(
        update_error(
            &client,
            &shape,
            &defs,
            vec![
                create(create_action("idx-a", "a", None)),
                create(create_action("idx-b", "b", None)),
            ],
        )
        .await,
        limit
    );
    assert_eq!(
        update_error(
            &client,
            &shape,
            &defs,
            vec![create(create_action("idx-a", "a", None)), delete("other")],
        )
        .await,
        limit
    );

    // The same index twice.
    assert_eq!(
        update_error(
            &client,
            &shape,
            &[],
            vec![
                update("same", Some(throughput(1, 1))),
                update("same", Some(throughput(2, 2)))
            ],
        )
        .await,
        invalid(
            "Only one global secondary index update per index is allowed simultaneously. \
             Index: same"
        )
    );

    // AttributeDefinitions alone changes nothing.
    let err = client
        .update_table()
        .table_name(&shape)
        .attribute_definitions(attr("a", S))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, \
             GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    );

    // A valid request on a missing table.
    let (kind, message) = update_error(
        &client,
        &nowhere,
        &defs,
        vec![create(create_action("idx-a", "a", None))],
    )
    .await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        (
            "ResourceNotFoundException",
            format!("Requested resource not found: Table: {nowhere} not found").as_str()
        )
    );
}

async fn new_index_definition_errors(server: &TestServer) {
    let client = server.client();
    let defs_table = unique_name("defs");
    client
        .create_table()
        .table_name(&defs_table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("sk", N))
        .attribute_definitions(attr("l", S))
        .attribute_definitions(attr("g", S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("local")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("l", KeyType::Range))
                .projection(projection(ProjectionType::All, &[]))
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(gsi("global", "g", None))
        .send()
        .await
        .unwrap();
    let defs = [attr("a", S), attr("b", N)];
    let one = |action| vec![create(action)];

    // Key schema shape.
    let range_first = CreateGlobalSecondaryIndexAction::builder()
        .index_name("idx")
        .key_schema(key("a", KeyType::Range))
        .projection(projection(ProjectionType::All, &[]))
        .build()
        .unwrap();
    assert_eq!(
        update_error(&client, &defs_table, &defs, one(range_first)).await,
        validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    );
    // Two HASH elements are a multi-attribute key (valid); a HASH after a RANGE is not.
    let hash_after_range = create_builder("idx", "a", None)
        .key_schema(key("b", KeyType::Range))
        .key_schema(key("c", KeyType::Hash))
        .build()
        .unwrap();
    assert_eq!(
        update_error(&client, &defs_table, &defs, one(hash_after_range)).await,
        validation(
            "Invalid KeySchema: A HASH KeySchemaElement cannot follow a RANGE KeySchemaElement"
        )
    );
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &defs,
            one(create_action("idx", "a", Some("a")))
        )
        .await,
        validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    );

    // Key attributes must be defined in this request, even those the table defines already.
    let no_definition =
        validation("Invalid KeySchema: Some index key attribute have no definition");
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &[],
            one(create_action("idx", "a", None))
        )
        .await,
        no_definition
    );
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &defs,
            one(create_action("idx", "a", Some("c")))
        )
        .await,
        no_definition
    );
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &defs,
            one(create_action("idx", "a", Some("sk")))
        )
        .await,
        no_definition
    );
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &[attr("a", S), attr("a", N)],
            one(create_action("idx", "a", None))
        )
        .await,
        invalid("Duplicate AttributeName in AttributeDefinitions: a")
    );

    // Projections.
    let with = |p: Projection| {
        create_builder("idx", "a", None)
            .projection(p)
            .build()
            .unwrap()
    };
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &defs,
            one(with(projection(ProjectionType::Include, &[])))
        )
        .await,
        invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    );
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &defs,
            one(with(projection(ProjectionType::KeysOnly, &["x"])))
        )
        .await,
        invalid("ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified")
    );
    assert_eq!(
        update_error(
            &client,
            &defs_table,
            &defs,
            one(with(projection(ProjectionType::Include, &["x", "y", "x"])))
        )
        .await,
        invalid("Duplicate attribute in NonKeyAttributes: x for index: idx")
    );

    // Names already taken by a global or a local index.
    for taken in ["global", "local"] {
        assert_eq!(
            update_error(
                &client,
                &defs_table,
                &defs,
                one(create_action(taken, "a", None))
            )
            .await,
            invalid("Attempting to create an index which already exists")
        );
    }
}

async fn new_index_throughput_errors(server: &TestServer) {
    let client = server.client();
    let ondemand = unique_name("ondemand");
    let prov = unique_name("prov");
    let full = unique_name("full");
    on_demand_table(&client, &ondemand, &[("pk", S)]).await;
    provisioned_table(&client, &prov).await;
    let defs = [attr("a", S)];

    assert_eq!(
        update_error(
            &client,
            &ondemand,
            &defs,
            vec![create(
                create_builder("idx", "a", None)
                    .provisioned_throughput(throughput(1, 1))
                    .build()
                    .unwrap()
            )],
        )
        .await,
        invalid(
            "ProvisionedThroughput should not be specified for index: idx when BillingMode is \
             PAY_PER_REQUEST"
        )
    );
    assert_eq!(
        update_error(
            &client,
            &prov,
            &defs,
            vec![create(create_action("idx", "a", None))]
        )
        .await,
        invalid("Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: idx")
    );
    assert_eq!(
        update_error(
            &client,
            &prov,
            &defs,
            vec![create(
                create_builder("idx", "a", None)
                    .provisioned_throughput(throughput(1, 1))
                    .on_demand_throughput(
                        OnDemandThroughput::builder()
                            .max_read_request_units(10)
                            .build()
                    )
                    .build()
                    .unwrap()
            )],
        )
        .await,
        invalid(
            "OnDemandThroughput cannot be specified for index: idx when BillingMode is \
             PROVISIONED"
        )
    );

    // The billing mode the table will have decides: switching an on-demand table to
    // PROVISIONED in the same request needs the new index's throughput.
    let err = client
        .update_table()
        .table_name(&ondemand)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(1, 1))
        .attribute_definitions(attr("a", S))
        .global_secondary_index_updates(create(create_action("idx", "a", None)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        invalid("Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: idx")
    );

    // At most 20 global indexes.
    let mut request = client
        .create_table()
        .table_name(&full)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("g", S))
        .key_schema(key("pk", KeyType::Hash));
    for i in 0..20 {
        request = request.global_secondary_indexes(gsi(&format!("g{i:02}"), "g", None));
    }
    request.send().await.unwrap();
    assert_eq!(
        update_error(
            &client,
            &full,
            &defs,
            vec![create(create_action("g20", "a", None))]
        )
        .await,
        invalid("GlobalSecondaryIndex count exceeds the per-table limit of 20")
    );
}

async fn index_update_and_delete_errors(server: &TestServer) {
    let client = server.client();
    let ondemand = unique_name("ondemand");
    let prov = unique_name("prov");
    let od_with_index = unique_name("od-with-index");
    on_demand_table(&client, &ondemand, &[("pk", S)]).await;
    provisioned_table(&client, &prov).await;

    for updates in [
        vec![update("nope", Some(throughput(1, 1)))],
        vec![delete("nope")],
    ] {
        assert_eq!(
            update_error(&client, &prov, &[], updates).await,
            (
                "ResourceNotFoundException".to_string(),
                format!("Requested resource not found: Table: {prov} index: nope not found")
            )
        );
    }
    assert_eq!(
        update_error(&client, &prov, &[], vec![update("gsi1", None)]).await,
        invalid("ProvisionedThroughput or OnDemandThroughput must be specified for index: gsi1")
    );
    assert_eq!(
        update_error(
            &client,
            &prov,
            &[],
            vec![update("gsi1", Some(throughput(5, 5)))]
        )
        .await,
        validation(
            "The provisioned throughput for the index gsi1 will not change. The requested value \
             equals the current value. Current ReadCapacityUnits provisioned for the index: 5. \
             Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the \
             index: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer \
             Guide for current limits and how to request higher limits."
        )
    );
    let on_demand_update = GlobalSecondaryIndexUpdate::builder()
        .update(
            UpdateGlobalSecondaryIndexAction::builder()
                .index_name("gsi1")
                .on_demand_throughput(
                    OnDemandThroughput::builder()
                        .max_read_request_units(10)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .build();
    assert_eq!(
        update_error(&client, &prov, &[], vec![on_demand_update]).await,
        invalid(
            "OnDemandThroughput cannot be specified for index: gsi1 when BillingMode is \
             PROVISIONED"
        )
    );

    // Switching to on-demand forbids index capacities in the same request...
    let err = client
        .update_table()
        .table_name(&prov)
        .billing_mode(BillingMode::PayPerRequest)
        .global_secondary_index_updates(update("gsi1", Some(throughput(6, 6))))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        invalid(
            "ProvisionedThroughput should not be specified for index: gsi1 when BillingMode is \
             PAY_PER_REQUEST"
        )
    );

    // ...and switching back to PROVISIONED needs the capacity of every index that stays.
    client
        .create_table()
        .table_name(&od_with_index)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("g", S))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(gsi("gsi1", "g", None))
        .send()
        .await
        .unwrap();
    let err = client
        .update_table()
        .table_name(&od_with_index)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(1, 1))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        invalid("Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: gsi1")
    );
    assert_eq!(
        update_error(
            &client,
            &ondemand,
            &[],
            vec![update("nope", Some(throughput(1, 1)))]
        )
        .await,
        (
            "ResourceNotFoundException".to_string(),
            format!("Requested resource not found: Table: {ondemand} index: nope not found")
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Lifecycle (needs the engine to apply index updates)

const ITEMS: usize = 3000;

/// Item `i` has the index keys `category` (S) and `price` (N) unless `i` is a multiple of 3,
/// which makes the new index sparse: 2,000 of the 3,000 items belong in it.
fn has_index_keys(i: usize) -> bool {
    !i.is_multiple_of(3)
}

async fn index_backfill_lifecycle(server: &TestServer) {
    let client = server.client();
    let catalog = unique_name("catalog");
    on_demand_table(&client, &catalog, &[("pk", S)]).await;
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in (0..ITEMS).collect::<Vec<_>>().chunks(ITEMS / 20) {
        let client = client.clone();
        let catalog = catalog.clone();
        let chunk = chunk.to_vec();
        tasks.spawn(async move {
            for i in chunk {
                let mut put = client
                    .put_item()
                    .table_name(&catalog)
                    .item("pk", s(&format!("item-{i:05}")))
                    .item("title", s(&format!("Item number {i}")));
                if has_index_keys(i) {
                    put = put
                        .item("category", s(&format!("c{}", i % 10)))
                        .item("price", n(&i.to_string()));
                }
                put.send().await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    let out = client
        .update_table()
        .table_name(&catalog)
        .attribute_definitions(attr("category", S))
        .attribute_definitions(attr("price", N))
        .global_secondary_index_updates(create(create_action(
            "by-category",
            "category",
            Some("price"),
        )))
        .send()
        .await
        .unwrap();
    let desc = out.table_description().unwrap();
    assert_eq!(desc.table_status().unwrap().as_str(), "UPDATING");
    let created = desc
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some("by-category"))
        .expect("the new index in UpdateTable's answer");
    // CREATING while the existing items are backfilled (ACTIVE if that was instant).
    match created.index_status().unwrap().as_str() {
        "CREATING" => assert_eq!(created.backfilling(), Some(true)),
        "ACTIVE" => {}
        other => panic!("new index reported as {other}"),
    }

    let active = wait::gsi_active(&client, &catalog, "by-category", WAIT).await;
    let expected = (0..ITEMS).filter(|i| has_index_keys(*i)).count() as i64;
    let count = active.item_count().unwrap_or_default();
    assert!(
        count > 0 && count <= expected,
        "index ItemCount {count}, expected up to {expected}"
    );
    assert!(active.index_size_bytes().unwrap_or_default() > 0);
    assert_eq!(
        attribute_names(&client, &catalog).await,
        pairs(&[("category", "S"), ("pk", "S"), ("price", "N")])
    );

    // The index answers queries with exactly the items that have its keys.
    let mut found = Vec::new();
    let mut start = None;
    let mut query_supported = true;
    loop {
        let result = client
            .query()
            .table_name(&catalog)
            .index_name("by-category")
            .key_condition_expression("#c = :c")
            .expression_attribute_names("#c", "category")
            .expression_attribute_values(":c", s("c1"))
            .set_exclusive_start_key(start.take())
            .send()
            .await;
        match result {
            Ok(page) => {
                for item in page.items() {
                    found.push(item["price"].as_n().unwrap().parse::<usize>().unwrap());
                }
                match page.last_evaluated_key() {
                    Some(k) => start = Some(k.clone()),
                    None => break,
                }
            }
            Err(err) if error_of(&err).0 == "UnknownOperationException" => {
                eprintln!(
                    "SKIPPED: Query of the new index: the server does not implement Query yet \
                     ({})",
                    error_of(&err).1
                );
                query_supported = false;
                break;
            }
            Err(err) => panic!("Query of the new index failed: {:?}", error_of(&err)),
        }
    }
    if query_supported {
        let expected: Vec<usize> = (0..ITEMS)
            .filter(|i| has_index_keys(*i) && i % 10 == 1)
            .collect();
        assert_eq!(found, expected, "index entries in sort-key (price) order");
    }

    // Writes after the backfill keep the index up to date (seen through its statistics).
    client
        .put_item()
        .table_name(&catalog)
        .item("pk", s("late"))
        .item("category", s("c1"))
        .item("price", n("1"))
        .send()
        .await
        .unwrap();

    // Deleting the index: DELETING, then gone.
    let out = client
        .update_table()
        .table_name(&catalog)
        .global_secondary_index_updates(delete("by-category"))
        .send()
        .await
        .unwrap();
    let deleting = out
        .table_description()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some("by-category"))
        .map(|g| g.index_status().unwrap().as_str().to_string());
    assert!(
        matches!(deleting.as_deref(), None | Some("DELETING")),
        "index status after Delete: {deleting:?}"
    );
    wait::gsi_gone(&client, &catalog, "by-category", WAIT).await;

    // The same name can be used again once the index is gone.
    client
        .update_table()
        .table_name(&catalog)
        .attribute_definitions(attr("category", S))
        .global_secondary_index_updates(create(create_action("by-category", "category", None)))
        .send()
        .await
        .unwrap();
    let again = wait::gsi_active(&client, &catalog, "by-category", WAIT).await;
    assert_eq!(again.key_schema().len(), 1);
}

async fn index_throughput_updates(server: &TestServer) {
    let client = server.client();
    let prov = unique_name("prov");
    let od_with_index = unique_name("od-with-index");
    provisioned_table(&client, &prov).await;

    let out = client
        .update_table()
        .table_name(&prov)
        .global_secondary_index_updates(update("gsi1", Some(throughput(7, 9))))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.table_description()
            .unwrap()
            .table_status()
            .unwrap()
            .as_str(),
        "UPDATING"
    );
    let g = describe_gsi(&client, &prov, "gsi1").await.unwrap();
    let pt = g.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(7), Some(9))
    );
    assert_eq!(g.index_status().unwrap().as_str(), "ACTIVE");

    // A new index on a provisioned table carries its own capacity.
    client
        .update_table()
        .table_name(&prov)
        .attribute_definitions(attr("h", N))
        .global_secondary_index_updates(create(
            create_builder("gsi2", "h", Some("sk"))
                .provisioned_throughput(throughput(3, 4))
                .build()
                .unwrap(),
        ))
        .attribute_definitions(attr("sk", N))
        .send()
        .await
        .unwrap();
    let g2 = wait::gsi_active(&client, &prov, "gsi2", WAIT).await;
    let pt = g2.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(3), Some(4))
    );

    // On-demand maximums of an index on an on-demand table.
    client
        .create_table()
        .table_name(&od_with_index)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("g", S))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(gsi("gsi1", "g", None))
        .send()
        .await
        .unwrap();
    client
        .update_table()
        .table_name(&od_with_index)
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .update(
                    UpdateGlobalSecondaryIndexAction::builder()
                        .index_name("gsi1")
                        .on_demand_throughput(
                            OnDemandThroughput::builder()
                                .max_read_request_units(100)
                                .max_write_request_units(50)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let g = describe_gsi(&client, &od_with_index, "gsi1").await.unwrap();
    let od = g.on_demand_throughput().unwrap();
    assert_eq!(
        (od.max_read_request_units(), od.max_write_request_units()),
        (Some(100), Some(50))
    );

    // Switching to PROVISIONED with capacity for the table and its index.
    client
        .update_table()
        .table_name(&od_with_index)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(2, 2))
        .global_secondary_index_updates(update("gsi1", Some(throughput(4, 4))))
        .send()
        .await
        .unwrap();
    let g = describe_gsi(&client, &od_with_index, "gsi1").await.unwrap();
    let pt = g.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(4), Some(4))
    );
}

/// Index updates may come with other table settings in one request (Terraform and CDK switch
/// the billing mode and give every index its capacity in one call); each change is applied.
async fn settings_combined_with_index_updates_are_all_applied(server: &TestServer) {
    let client = server.client();
    let combined = unique_name("combined");
    provisioned_table(&client, &combined).await;
    client
        .update_table()
        .table_name(&combined)
        .provisioned_throughput(throughput(8, 8))
        .deletion_protection_enabled(true)
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::KeysOnly)
                .build()
                .unwrap(),
        )
        .global_secondary_index_updates(update("gsi1", Some(throughput(6, 6))))
        .send()
        .await
        .unwrap();
    let d = client
        .describe_table()
        .table_name(&combined)
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    assert_eq!(
        t.provisioned_throughput().unwrap().read_capacity_units(),
        Some(8)
    );
    assert_eq!(t.deletion_protection_enabled(), Some(true));
    assert!(t.stream_specification().is_some(), "stream not enabled");
    let g = &t.global_secondary_indexes()[0];
    assert_eq!(
        g.provisioned_throughput().unwrap().read_capacity_units(),
        Some(6)
    );

    // On-demand tables report zero capacity for their indexes, as for themselves.
    client
        .update_table()
        .table_name(&combined)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let g = describe_gsi(&client, &combined, "gsi1").await.unwrap();
    let pt = g.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(0), Some(0))
    );
}

/// DynamoDB keeps `AttributeDefinitions` equal to the attributes the table's and its indexes'
/// key schemas use: a redeclaration of a defined attribute with another type is refused, an
/// unused one is dropped, and a deleted index's attributes go with it.
async fn attribute_definitions_follow_index_keys(server: &TestServer) {
    let client = server.client();
    let defs = unique_name("defs");
    on_demand_table(&client, &defs, &[("pk", S)]).await;
    let err = client
        .update_table()
        .table_name(&defs)
        .attribute_definitions(attr("pk", N))
        .attribute_definitions(attr("g", S))
        .global_secondary_index_updates(create(create_action("by-g", "g", Some("pk"))))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "One or more parameter values were invalid: Attributes cannot be redefined. \
             AttributeName: pk, current type: S, requested type: N"
        )
    );
    client
        .update_table()
        .table_name(&defs)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("g", S))
        .attribute_definitions(attr("unused", S))
        .global_secondary_index_updates(create(create_action("by-g", "g", Some("pk"))))
        .send()
        .await
        .unwrap();
    wait::gsi_active(&client, &defs, "by-g", WAIT).await;
    assert_eq!(
        attribute_names(&client, &defs).await,
        pairs(&[("g", "S"), ("pk", "S")])
    );
    // The table key keeps its type: string keys still work.
    client
        .put_item()
        .table_name(&defs)
        .item("pk", s("x"))
        .item("g", s("y"))
        .send()
        .await
        .unwrap();

    client
        .update_table()
        .table_name(&defs)
        .global_secondary_index_updates(delete("by-g"))
        .send()
        .await
        .unwrap();
    wait::gsi_gone(&client, &defs, "by-g", WAIT).await;
    assert_eq!(attribute_names(&client, &defs).await, pairs(&[("pk", "S")]));
}
