//! Query and Scan through aws-sdk-dynamodb against the real binary: every validation path
//! with its exact error type and message, in DynamoDB's order, and a few happy-path reads
//! (Count, Items, LastEvaluatedKey, pagination, indexes, parallel scan).
//!
//! The table used throughout (`tbl`): partition key `pk` (S), sort key `sk` (N); a KEYS_ONLY
//! GSI `by_g` on `gpk` (S) / `gsk` (N); an ALL GSI `all_g` on `gpk`; an LSI `by_l` on `pk` /
//! `lsk` (S).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue as Av, BillingMode, ComparisonOperator, Condition, ConditionalOperator,
    GlobalSecondaryIndex, KeyType, LocalSecondaryIndex, ProjectionType, Select,
};
use aws_sdk_dynamodb::Client;
use common::schema::{attr, key, projection, N, S};
use common::{error_of, item, n, raw, s, unique_name, validation, Backend, Tables, TestServer};

/// One `#[tokio::test]` per scenario, each on its own in-memory server.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = super::TestServer::start(super::Backend::Memory);
                    super::$name(&server).await;
                }
            )*
        }
    };
}

scenarios!(
    request_constraints,
    missing_table_and_index,
    select_rules,
    expression_rules,
    key_condition_rules,
    filter_on_key_attributes,
    start_key_rules,
    segment_rules,
    index_read_rules,
    query_happy_path,
    query_pagination_and_direction,
    count_omits_items,
    scan_happy_path,
    parallel_scan_covers_table,
    index_reads,
);

/// Creates table `tbl` (see the module docs; under a unique name, returned) and puts
/// `pk=a, sk=1..=5` and `pk=b, sk=1`, each with `gpk=g`, `gsk=sk`, `lsk="l<sk>"` and a
/// non-key attribute `v`.
async fn setup(client: &Client) -> Tables {
    let t = Tables::new(&["tbl"]);
    client
        .create_table()
        .table_name(&t["tbl"])
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("sk", N))
        .attribute_definitions(attr("gpk", S))
        .attribute_definitions(attr("gsk", N))
        .attribute_definitions(attr("lsk", S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_g")
                .key_schema(key("gpk", KeyType::Hash))
                .key_schema(key("gsk", KeyType::Range))
                .projection(projection(ProjectionType::KeysOnly, &[]))
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("all_g")
                .key_schema(key("gpk", KeyType::Hash))
                .projection(projection(ProjectionType::All, &[]))
                .build()
                .unwrap(),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by_l")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("lsk", KeyType::Range))
                .projection(projection(ProjectionType::All, &[]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let items = (1..=5).map(|i| ("a", i)).chain(std::iter::once(("b", 1)));
    for (pk, sk) in items {
        client
            .put_item()
            .table_name(&t["tbl"])
            .item("pk", s(pk))
            .item("sk", n(&sk.to_string()))
            .item("gpk", s("g"))
            .item("gsk", n(&sk.to_string()))
            .item("lsk", s(&format!("l{sk}")))
            .item("v", n(&(sk * 10).to_string()))
            .send()
            .await
            .unwrap();
    }
    t
}

/// A query on `tbl` for partition `a`, to be refined by each case.
fn query_a(
    client: &Client,
    tbl: &str,
) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
    client
        .query()
        .table_name(tbl)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
}

// -------------------------------------------------------------------------------------------
// Validation

async fn request_constraints(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let err = query_a(&client, tbl)
        .table_name("ab")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy \
             constraint: Member must have length greater than or equal to 3"
        )
    );

    // Query words its Limit check without the value; Scan echoes it.
    let err = query_a(&client, tbl).limit(0).send().await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Value at 'Limit' failed to satisfy constraint: \
             Member must have value greater than or equal to 1"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
             Member must have value greater than or equal to 1"
        )
    );

    let err = client
        .scan()
        .table_name(tbl)
        .index_name("x!")
        .select(Select::from("EVERYTHING"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "3 validation errors detected: Value 'x!' at 'indexName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
             Value 'x!' at 'indexName' failed to satisfy constraint: Member must have length \
             greater than or equal to 3; Value 'EVERYTHING' at 'select' failed to satisfy \
             constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, \
             ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        )
    );

    let reply = raw::call(server, "Query", r#"{"KeyConditionExpression": "pk = :p"}"#);
    assert_eq!(
        raw::error(&reply),
        validation(
            "1 validation error detected: Value null at 'tableName' failed to satisfy \
             constraint: Member must not be null"
        )
    );

    // Constraint violations come before attribute-value problems.
    let err = client
        .scan()
        .table_name(tbl)
        .limit(0)
        .set_exclusive_start_key(Some(item(&[("pk", n("abc"))])))
        .send()
        .await
        .unwrap_err();
    assert!(error_of(&err).1.contains("at 'limit'"));
    let err = client
        .scan()
        .table_name(tbl)
        .set_exclusive_start_key(Some(item(&[("pk", n("abc")), ("sk", n("1"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("The parameter cannot be converted to a numeric value: abc")
    );

    let err = client
        .scan()
        .table_name(tbl)
        .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::from("ALL"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to \
             satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        )
    );
}

async fn missing_table_and_index(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let err = query_a(&client, tbl)
        .table_name(unique_name("absent"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        (
            "ResourceNotFoundException".to_string(),
            "Requested resource not found".to_string()
        )
    );
    let err = client
        .scan()
        .table_name(unique_name("absent"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ResourceNotFoundException");

    // The table exists but the index does not: a ValidationException, not a not-found.
    let err = query_a(&client, tbl)
        .index_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("The table does not have the specified index: nope")
    );
    let err = client
        .scan()
        .table_name(tbl)
        .index_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("The table does not have the specified index: nope")
    );
}

async fn select_rules(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    // SPECIFIC_ATTRIBUTES needs a projection; Query wraps the message, Scan does not.
    let err = query_a(&client, tbl)
        .select(Select::SpecificAttributes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Must specify the AttributesToGet or \
             ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .select(Select::SpecificAttributes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get \
             SPECIFIC_ATTRIBUTES"
        )
    );

    // A projection with any other Select.
    let err = client
        .scan()
        .table_name(tbl)
        .select(Select::Count)
        .projection_expression("v")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Cannot specify the ProjectionExpression when choosing to get COUNT")
    );
    let err = client
        .scan()
        .table_name(tbl)
        .select(Select::AllAttributes)
        .attributes_to_get("v")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES")
    );
    // The projection conflict is reported before the missing index.
    let err = query_a(&client, tbl)
        .select(Select::AllProjectedAttributes)
        .projection_expression("v")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Cannot specify the ProjectionExpression when \
             choosing to get ALL_PROJECTED_ATTRIBUTES"
        )
    );

    // ALL_PROJECTED_ATTRIBUTES only on an index.
    let err = query_a(&client, tbl)
        .select(Select::AllProjectedAttributes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when \
             Querying using an IndexName"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .select(Select::AllProjectedAttributes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    );

    // ALL_ATTRIBUTES on a GSI that does not project everything.
    let err = client
        .query()
        .table_name(tbl)
        .index_name("by_g")
        .key_condition_expression("gpk = :g")
        .expression_attribute_values(":g", s("g"))
        .select(Select::AllAttributes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not \
             supported for global secondary index by_g because its projection type is not ALL"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .index_name("by_g")
        .select(Select::AllAttributes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not \
         supported for global secondary index by_g because its projection type is not ALL"
    );
}

async fn expression_rules(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let err = client.query().table_name(tbl).send().await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in \
             the request."
        )
    );

    // Legacy and expression parameters do not mix.
    let err = client
        .query()
        .table_name(tbl)
        .key_conditions(
            "pk",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Eq)
                .attribute_value_list(s("a"))
                .build()
                .unwrap(),
        )
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Can not use both expression and non-expression parameters in the same request: \
             Non-expression parameters: {KeyConditions} Expression parameters: \
             {KeyConditionExpression}"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .attributes_to_get("v")
        .projection_expression("v")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Can not use both expression and non-expression parameters in the same request: \
             Non-expression parameters: {AttributesToGet} Expression parameters: \
             {ProjectionExpression}"
        )
    );

    // Placeholders are shared by all expressions of the request.
    let err = query_a(&client, tbl)
        .filter_expression("#v > :one")
        .expression_attribute_names("#v", "v")
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":two", n("2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:two}"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .filter_expression("v > :missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Invalid FilterExpression: An expression attribute value used in expression is \
             not defined; attribute value: :missing"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "ExpressionAttributeValues can only be specified when using expressions: \
             ProjectionExpression and FilterExpression are null"
        )
    );
    let err = query_a(&client, tbl)
        .projection_expression("v, v")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Invalid ProjectionExpression: Two document paths overlap with each other; must \
             remove or rewrite one of these paths; path one: [v], path two: [v]"
        )
    );

    // ConditionalOperator needs a filter with at least two conditions.
    let err = client
        .scan()
        .table_name(tbl)
        .conditional_operator(ConditionalOperator::Or)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("ConditionalOperator cannot be used without Filter or Expected")
    );
    let err = client
        .scan()
        .table_name(tbl)
        .scan_filter(
            "v",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Gt)
                .attribute_value_list(n("1"))
                .build()
                .unwrap(),
        )
        .conditional_operator(ConditionalOperator::Or)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more \
             elements"
        )
    );
}

async fn key_condition_rules(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let query = |expression: &str, vals: &[(&str, Av)]| {
        client
            .query()
            .table_name(tbl)
            .key_condition_expression(expression)
            .set_expression_attribute_values(Some(item(vals)))
    };

    let err = query("pk = :p", &[(":p", n("1"))])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "One or more parameter values were invalid: Condition parameter type does not \
             match schema type"
        )
    );
    let err = query("pk = :p AND sk > :s", &[(":p", s("a")), (":s", s("x"))])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Condition parameter type does not match \
         schema type"
    );
    // begins_with on a number sort key: a string prefix does not match the key's type.
    let err = query(
        "pk = :p AND begins_with(sk, :s)",
        &[(":p", s("a")), (":s", s("1"))],
    )
    .send()
    .await
    .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Condition parameter type does not match \
         schema type"
    );
    let err = query("sk = :s", &[(":s", n("1"))])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Query condition missed key schema element: pk")
    );
    let err = query("pk.x = :p", &[(":p", s("a"))])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("KeyConditionExpressions cannot have conditions on nested attributes")
    );
    let err = query("v = :v", &[(":v", n("1"))]).send().await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Query condition missed key schema element: pk")
    );
    let err = query("pk = :p AND v = :v", &[(":p", s("a")), (":v", n("1"))])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Query key condition not supported")
    );
    let err = query("pk = :p OR sk = :s", &[(":p", s("a")), (":s", n("1"))])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Invalid operator used in KeyConditionExpression: OR")
    );
    let err = query("pk = :p", &[(":p", s(""))]).send().await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key \
             attribute cannot contain an empty string value. Key: pk"
        )
    );

    // On an index, the index's key schema applies.
    let err = client
        .query()
        .table_name(tbl)
        .index_name("by_g")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Query condition missed key schema element: gpk")
    );
    let err = client
        .query()
        .table_name(tbl)
        .index_name("by_l")
        .key_condition_expression("pk = :p AND lsk > :l")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":l", n("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Condition parameter type does not match \
         schema type"
    );

    // Legacy KeyConditions go through the same checks.
    let err = client
        .query()
        .table_name(tbl)
        .key_conditions(
            "pk",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Eq)
                .attribute_value_list(n("1"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Condition parameter type does not match \
         schema type"
    );
    let err = client
        .query()
        .table_name(tbl)
        .key_conditions(
            "pk",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Ne)
                .attribute_value_list(s("a"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Attempted conditional constraint is not an indexable operation")
    );
}

async fn filter_on_key_attributes(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let err = query_a(&client, tbl)
        .filter_expression("v > :v OR sk > :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Filter Expression can only contain non-primary key attributes: Primary key \
             attribute: sk"
        )
    );
    // Inside a function too.
    let err = query_a(&client, tbl)
        .filter_expression("attribute_exists(#k)")
        .expression_attribute_names("#k", "pk")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "Filter Expression can only contain non-primary key attributes: Primary key \
         attribute: pk"
    );
    // On an index, its key attributes are the primary key.
    let err = client
        .query()
        .table_name(tbl)
        .index_name("by_g")
        .key_condition_expression("gpk = :g")
        .filter_expression("gsk > :v")
        .expression_attribute_values(":g", s("g"))
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "Filter Expression can only contain non-primary key attributes: Primary key \
         attribute: gsk"
    );
    // Legacy QueryFilter as well.
    let err = client
        .query()
        .table_name(tbl)
        .key_conditions(
            "pk",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Eq)
                .attribute_value_list(s("a"))
                .build()
                .unwrap(),
        )
        .query_filter(
            "sk",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Gt)
                .attribute_value_list(n("1"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "Filter Expression can only contain non-primary key attributes: Primary key \
         attribute: sk"
    );
}

async fn start_key_rules(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    // Missing sort key: Query and Scan word it differently.
    let err = query_a(&client, tbl)
        .set_exclusive_start_key(Some(item(&[("pk", s("a"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("The provided starting key is invalid")
    );
    let scan_mismatch = validation(
        "The provided starting key is invalid: The provided key element does not match the \
         schema",
    );
    let err = client
        .scan()
        .table_name(tbl)
        .set_exclusive_start_key(Some(item(&[("pk", s("a"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), scan_mismatch);
    // Wrong type, extra attribute.
    let err = client
        .scan()
        .table_name(tbl)
        .set_exclusive_start_key(Some(item(&[("pk", s("a")), ("sk", s("1"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), scan_mismatch);
    let err = client
        .scan()
        .table_name(tbl)
        .set_exclusive_start_key(Some(item(&[("pk", s("a")), ("sk", n("1")), ("v", n("1"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), scan_mismatch);
    // An index needs the table key and the index key.
    let err = client
        .scan()
        .table_name(tbl)
        .index_name("by_g")
        .set_exclusive_start_key(Some(item(&[("gpk", s("g")), ("gsk", n("1"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), scan_mismatch);
    let err = client
        .query()
        .table_name(tbl)
        .index_name("by_g")
        .key_condition_expression("gpk = :g")
        .expression_attribute_values(":g", s("g"))
        .set_exclusive_start_key(Some(item(&[("pk", s("a")), ("sk", n("1"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("The provided starting key is invalid")
    );

    // Outside the queried partition, or before the start of the sort key range.
    let err = query_a(&client, tbl)
        .set_exclusive_start_key(Some(item(&[("pk", s("b")), ("sk", n("1"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "The provided starting key is outside query boundaries based on provided condition"
        )
    );
    let err = client
        .query()
        .table_name(tbl)
        .key_condition_expression("pk = :p AND sk >= :s")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":s", n("3"))
        .set_exclusive_start_key(Some(item(&[("pk", s("a")), ("sk", n("2"))])))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("The provided starting key does not match the range key predicate")
    );
}

async fn segment_rules(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let err = client
        .scan()
        .table_name(tbl)
        .segment(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "The TotalSegments parameter is required but was not present in the request when \
             Segment parameter is present"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .total_segments(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "The Segment parameter is required but was not present in the request when \
             parameter TotalSegments is present"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .segment(5)
        .total_segments(5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "The Segment parameter is zero-based and must be less than parameter \
             TotalSegments: Segment: 5 is not less than TotalSegments: 5"
        )
    );
    let err = client
        .scan()
        .table_name(tbl)
        .segment(1_000_000)
        .total_segments(1_000_001)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "2 validation errors detected: Value '1000001' at 'totalSegments' failed to \
             satisfy constraint: Member must have value less than or equal to 1000000; Value \
             '1000000' at 'segment' failed to satisfy constraint: Member must have value less \
             than or equal to 999999"
        )
    );
}

async fn index_read_rules(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    // A GSI cannot fetch what it does not project.
    let err = client
        .query()
        .table_name(tbl)
        .index_name("by_g")
        .key_condition_expression("gpk = :g")
        .expression_attribute_values(":g", s("g"))
        .projection_expression("pk, v")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "One or more parameter values were invalid: Global secondary index by_g does not \
             project [v]"
        )
    );
    // An LSI can (the item is fetched from the table).
    client
        .query()
        .table_name(tbl)
        .index_name("by_l")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .projection_expression("pk, v")
        .send()
        .await
        .unwrap();

    let err = client
        .query()
        .table_name(tbl)
        .index_name("all_g")
        .key_condition_expression("gpk = :g")
        .expression_attribute_values(":g", s("g"))
        .consistent_read(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Consistent reads are not supported on global secondary indexes")
    );
    let err = client
        .scan()
        .table_name(tbl)
        .index_name("all_g")
        .consistent_read(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Consistent reads are not supported on global secondary indexes")
    );
}

// -------------------------------------------------------------------------------------------
// Happy paths (they need the engine's Query and Scan)

fn sks(items: &[HashMap<String, Av>]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["sk"].as_n().unwrap().clone())
        .collect()
}

async fn query_happy_path(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let out = query_a(&client, tbl).send().await.unwrap();
    assert_eq!(out.count(), 5);
    assert_eq!(out.scanned_count(), 5);
    assert_eq!(sks(out.items()), ["1", "2", "3", "4", "5"]);
    assert!(out.last_evaluated_key().is_none());

    let out = client
        .query()
        .table_name(tbl)
        .key_condition_expression("pk = :p AND sk BETWEEN :lo AND :hi")
        .filter_expression("v <> :v")
        .projection_expression("sk, v")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":lo", n("2"))
        .expression_attribute_values(":hi", n("4"))
        .expression_attribute_values(":v", n("30"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.count(), 2);
    assert_eq!(out.scanned_count(), 3);
    assert_eq!(sks(out.items()), ["2", "4"]);
    assert_eq!(out.items()[0].len(), 2);

    // Consumed capacity: 5 small items read eventually consistently are half a unit.
    let out = query_a(&client, tbl)
        .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let consumed = out.consumed_capacity().unwrap();
    assert_eq!(consumed.table_name(), Some(tbl));
    assert_eq!(consumed.capacity_units(), Some(0.5));

    // Legacy parameters read the same way.
    let out = client
        .query()
        .table_name(tbl)
        .key_conditions(
            "pk",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Eq)
                .attribute_value_list(s("a"))
                .build()
                .unwrap(),
        )
        .key_conditions(
            "sk",
            Condition::builder()
                .comparison_operator(ComparisonOperator::Gt)
                .attribute_value_list(n("3"))
                .build()
                .unwrap(),
        )
        .attributes_to_get("sk")
        .send()
        .await
        .unwrap();
    assert_eq!(sks(out.items()), ["4", "5"]);
}

async fn query_pagination_and_direction(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let out = query_a(&client, tbl)
        .scan_index_forward(false)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(sks(out.items()), ["5", "4"]);
    assert_eq!(out.count(), 2);
    let last = out.last_evaluated_key().unwrap().clone();
    assert_eq!(last, item(&[("pk", s("a")), ("sk", n("4"))]));

    let mut seen = sks(out.items());
    let mut next = Some(last);
    while let Some(key) = next {
        let out = query_a(&client, tbl)
            .scan_index_forward(false)
            .limit(2)
            .set_exclusive_start_key(Some(key))
            .send()
            .await
            .unwrap();
        seen.extend(sks(out.items()));
        next = out.last_evaluated_key().cloned();
    }
    assert_eq!(seen, ["5", "4", "3", "2", "1"]);
}

async fn count_omits_items(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;

    let reply = raw::call(
        server,
        "Query",
        &t.fill(
            r#"{"TableName": "$tbl", "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}}, "Select": "COUNT"}"#,
        ),
    );
    assert_eq!(reply.0, 200, "{}", reply.1);
    assert_eq!(reply.1["Count"], 5);
    assert_eq!(reply.1["ScannedCount"], 5);
    assert!(reply.1.get("Items").is_none());

    let reply = raw::call(
        server,
        "Scan",
        &t.fill(r#"{"TableName": "$tbl", "Select": "COUNT"}"#),
    );
    assert_eq!(reply.0, 200, "{}", reply.1);
    assert_eq!(reply.1["Count"], 6);
    assert!(reply.1.get("Items").is_none());
}

async fn scan_happy_path(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let out = client.scan().table_name(tbl).send().await.unwrap();
    assert_eq!(out.count(), 6);
    assert_eq!(out.scanned_count(), 6);
    assert!(out.last_evaluated_key().is_none());

    // A Scan filter may name key attributes.
    let out = client
        .scan()
        .table_name(tbl)
        .filter_expression("pk = :p AND sk > :s")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":s", n("3"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.count(), 2);
    assert_eq!(out.scanned_count(), 6);

    // Pages of two cover the table exactly once.
    let mut total = 0;
    let mut next = None;
    loop {
        let out = client
            .scan()
            .table_name(tbl)
            .limit(2)
            .set_exclusive_start_key(next)
            .send()
            .await
            .unwrap();
        assert!(out.count() <= 2);
        total += out.count();
        next = out.last_evaluated_key().cloned();
        if next.is_none() {
            break;
        }
    }
    assert_eq!(total, 6);
}

async fn parallel_scan_covers_table(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    let mut keys = Vec::new();
    for segment in 0..3 {
        let out = client
            .scan()
            .table_name(tbl)
            .segment(segment)
            .total_segments(3)
            .send()
            .await
            .unwrap();
        for item in out.items() {
            keys.push((
                item["pk"].as_s().unwrap().clone(),
                item["sk"].as_n().unwrap().clone(),
            ));
        }
    }
    keys.sort();
    assert_eq!(keys.len(), 6);
    keys.dedup();
    assert_eq!(keys.len(), 6);
}

async fn index_reads(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let tbl = &t["tbl"];

    // KEYS_ONLY GSI: the default Select is ALL_PROJECTED_ATTRIBUTES, so only keys come back.
    let out = client
        .query()
        .table_name(tbl)
        .index_name("by_g")
        .key_condition_expression("gpk = :g AND gsk >= :s")
        .expression_attribute_values(":g", s("g"))
        .expression_attribute_values(":s", n("5"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.count(), 1);
    let item = &out.items()[0];
    let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["gpk", "gsk", "pk", "sk"]);

    // ALL GSI: everything, and Select=ALL_ATTRIBUTES is allowed.
    let out = client
        .query()
        .table_name(tbl)
        .index_name("all_g")
        .key_condition_expression("gpk = :g")
        .expression_attribute_values(":g", s("g"))
        .select(Select::AllAttributes)
        .send()
        .await
        .unwrap();
    assert_eq!(out.count(), 6);
    assert!(out.items().iter().all(|i| i.contains_key("v")));

    // LSI: ordered by the index sort key, consistent reads allowed; the page's last key
    // carries the table key and the index key.
    let out = client
        .query()
        .table_name(tbl)
        .index_name("by_l")
        .key_condition_expression("pk = :p AND begins_with(lsk, :l)")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":l", s("l"))
        .consistent_read(true)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.count(), 1);
    let last = out.last_evaluated_key().unwrap();
    let mut names: Vec<&str> = last.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["lsk", "pk", "sk"]);
}
