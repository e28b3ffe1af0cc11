//! BatchGetItem and BatchWriteItem through aws-sdk-dynamodb (and raw JSON for what the SDK
//! cannot send) against the real binary, on both storage backends: every validation path
//! with its exact error type and message, happy paths over two tables, projections and
//! consumed capacity per table, the 16 MB response limit with `UnprocessedKeys` and an
//! SDK-style retry loop, and the rule that an invalid batch writes nothing.
//!
//! Tables: `tb1` (partition key `pk` S), `tb2` (`pk` S, sort key `sk` N), and, where item
//! collections matter, `tb3` (`pk` S, `sk` N, an LSI `by_l` on `lsk` S).
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{
    AttributeValue as Av, BillingMode, DeleteRequest, KeyType, KeysAndAttributes,
    LocalSecondaryIndex, ProjectionType, PutRequest, ReturnConsumedCapacity,
    ReturnItemCollectionMetrics, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use common::schema::{attr, key, on_demand_table, projection, N, S};
use common::{
    error_of, item, n, not_found, raw, s, unique_name, validation, Item, Tables, TestServer,
    VALIDATION,
};

on_both_backends!(
    server: get_request_constraints,
    get_semantic_errors,
    get_expression_errors,
    write_request_constraints,
    write_semantic_errors,
    invalid_batch_writes_nothing,
    get_across_two_tables,
    get_projection_per_table,
    get_consumed_capacity_per_table,
    get_stops_at_16_mb_and_retry_loop_reads_everything_once,
    write_puts_then_deletes,
    write_item_collection_metrics,
);

const ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/";

fn key1(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn key2(pk: &str, sk: &str) -> Item {
    item(&[("pk", s(pk)), ("sk", n(sk))])
}

fn keys_of(keys: Vec<Item>) -> KeysAndAttributes {
    KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .build()
        .unwrap()
}

fn put(item: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
        .build()
}

fn delete(key: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(DeleteRequest::builder().set_key(Some(key)).build().unwrap())
        .build()
}

/// Creates `tb1` (pk S) and `tb2` (pk S, sk N), on demand, and returns the scenario's
/// table names (`tb3` is created only where it is used).
async fn setup(client: &Client) -> Tables {
    let t = Tables::new(&["tb1", "tb2", "tb3"]);
    on_demand_table(client, &t["tb1"], &[("pk", S)]).await;
    on_demand_table(client, &t["tb2"], &[("pk", S), ("sk", N)]).await;
    t
}

/// Asserts a validation error whose echoed value cannot be predicted exactly (DynamoDB
/// prints Java hash codes there): the message starts and ends as given.
fn assert_validation_shape(error: (String, String), start: &str, end: &str) {
    assert_eq!(error.0, VALIDATION, "{}", error.1);
    assert!(
        error.1.starts_with(start),
        "message {:?} does not start with {start:?}",
        error.1
    );
    assert!(
        error.1.ends_with(end),
        "message {:?} does not end with {end:?}",
        error.1
    );
}

async fn count(client: &Client, table: &str) -> i32 {
    client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .count()
}

// -------------------------------------------------------------------------------------------
// BatchGetItem validation

async fn get_request_constraints(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;

    assert_eq!(
        raw::call_error(server, "BatchGetItem", "{}"),
        validation(
            "1 validation error detected: Value null at 'requestItems' failed to satisfy \
             constraint: Member must not be null"
        )
    );
    assert_eq!(
        raw::call_error(server, "BatchGetItem", r#"{"RequestItems": {}}"#),
        validation("The requestItems parameter is required for BatchGetItem")
    );
    assert_eq!(
        raw::call_error(
            server,
            "BatchGetItem",
            &t.fill(r#"{"RequestItems": {"$tb1": {}}}"#)
        ),
        validation(&t.fill(
            "1 validation error detected: Value null at 'requestItems.$tb1.member.keys' failed \
             to satisfy constraint: Member must not be null"
        ))
    );

    // An empty key list (observed wording).
    let err = client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(&t.fill(
            "1 validation error detected: Value '[]' at 'requestItems.$tb1.member.keys' failed \
             to satisfy constraint: Member must have length greater than or equal to 1"
        ))
    );

    // More than 100 keys for one table: the list constraint, without the keys echoed.
    let many: Vec<_> = (0..101).map(|i| key1(&format!("k{i}"))).collect();
    let err = client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(many))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        (
            "ValidationException".to_string(),
            t.fill(
                "1 validation error detected: Value at 'RequestItems.$tb1.member.Keys' failed \
                 to satisfy constraint: Member must have length less than or equal to 100"
            )
        )
    );

    // More than 100 keys over all tables: a different sentence.
    let err = client
        .batch_get_item()
        .request_items(
            &t["tb1"],
            keys_of((0..60).map(|i| key1(&format!("k{i}"))).collect()),
        )
        .request_items(
            &t["tb2"],
            keys_of((0..41).map(|i| key2("p", &i.to_string())).collect()),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Too many items requested for the BatchGetItem call")
    );
    // Exactly 100 is fine.
    client
        .batch_get_item()
        .request_items(
            &t["tb1"],
            keys_of((0..60).map(|i| key1(&format!("k{i}"))).collect()),
        )
        .request_items(
            &t["tb2"],
            keys_of((0..40).map(|i| key2("p", &i.to_string())).collect()),
        )
        .send()
        .await
        .unwrap();

    // An invalid table name: the whole map is echoed (observed form).
    let err = client
        .batch_get_item()
        .request_items("ab", keys_of(vec![key1("a")]))
        .send()
        .await
        .unwrap_err();
    assert_validation_shape(
        error_of(&err),
        "1 validation error detected: Value '{ab=KeysAndAttributes(keys=[{pk=com.amazonaws.\
         dynamodb.v20120810.AttributeValue@",
        "}], attributesToGet=null, consistentRead=null, projectionExpression=null, \
         expressionAttributeNames=null, workloadProfileName=null)}' at 'requestItems' failed \
         to satisfy constraint: Map keys must satisfy constraint: [Member must have length \
         less than or equal to 255, Member must have length greater than or equal to 3, \
         Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]",
    );

    // A table entry that is null (decided wording).
    let (kind, message) = raw::call_error(
        server,
        "BatchGetItem",
        &t.fill(r#"{"RequestItems": {"$tb1": null}}"#),
    );
    assert_eq!(
        (kind, message),
        validation(&t.fill(
            "1 validation error detected: Value '{$tb1=null}' at 'requestItems' failed to \
             satisfy constraint: Map value must satisfy constraint: [Member must not be null]"
        ))
    );

    // An empty AttributesToGet list.
    assert_eq!(
        raw::call_error(
            server,
            "BatchGetItem",
            &t.fill(
                r#"{"RequestItems": {"$tb1": {"Keys": [{"pk": {"S": "a"}}],
                    "AttributesToGet": []}}}"#
            )
        ),
        validation(&t.fill(
            "1 validation error detected: Value '[]' at \
             'requestItems.$tb1.member.attributesToGet' failed to satisfy constraint: Member \
             must have length greater than or equal to 1"
        ))
    );

    // Every violation in one message, nested members before the enum.
    assert_eq!(
        raw::call_error(
            server,
            "BatchGetItem",
            &t.fill(r#"{"RequestItems": {"$tb1": {"Keys": []}}, "ReturnConsumedCapacity": "ALL"}"#)
        ),
        validation(&t.fill(
            "2 validation errors detected: Value '[]' at 'requestItems.$tb1.member.keys' failed \
             to satisfy constraint: Member must have length greater than or equal to 1; Value \
             'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must \
             satisfy enum value set: [INDEXES, TOTAL, NONE]"
        ))
    );

    // More than 100 tables.
    let tables: Vec<String> = (0..101)
        .map(|i| format!(r#""tbl{i}": {{"Keys": [{{"pk": {{"S": "a"}}}}]}}"#))
        .collect();
    let (kind, message) = raw::call_error(
        server,
        "BatchGetItem",
        &format!(r#"{{"RequestItems": {{{}}}}}"#, tables.join(", ")),
    );
    assert_eq!(kind, VALIDATION);
    assert!(message.starts_with("1 validation error detected: Value '{tbl0="));
    assert!(message.ends_with(
        "' at 'requestItems' failed to satisfy constraint: Member must have length less than \
         or equal to 100"
    ));
}

async fn get_semantic_errors(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let missing = unique_name("missing");

    // A missing table, by name or by ARN.
    for name in [missing.clone(), format!("{ARN_PREFIX}{missing}")] {
        let err = client
            .batch_get_item()
            .request_items(name, keys_of(vec![key1("a")]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err), not_found());
    }
    // Also when another table of the request exists.
    let err = client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(vec![key1("a")]))
        .request_items(&missing, keys_of(vec![key1("a")]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), not_found());

    // Keys that do not match the key schema: a missing sort key, a wrong type, an extra
    // attribute, a wrong name.
    let mismatch = validation("The provided key element does not match the schema");
    for (table, key) in [
        (&t["tb2"], key1("a")),
        (&t["tb2"], item(&[("pk", s("a")), ("sk", s("1"))])),
        (&t["tb1"], item(&[("pk", s("a")), ("x", s("1"))])),
        (&t["tb1"], item(&[("id", s("a"))])),
        (&t["tb1"], item(&[("pk", n("1"))])),
    ] {
        let err = client
            .batch_get_item()
            .request_items(table, keys_of(vec![key]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err), mismatch);
    }
    // An empty key value.
    let err = client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(vec![key1("")]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key \
             attribute cannot contain an empty string value. Key: pk"
        )
    );
    // An invalid attribute value.
    let err = client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(vec![item(&[("pk", Av::Ss(vec![]))])]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("One or more parameter values were invalid: An string set  may not be empty")
    );

    // The same key twice, also when the numbers are only written differently.
    let dup = validation("Provided list of item keys contains duplicates");
    let err = client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(vec![key1("a"), key1("b"), key1("a")]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), dup);
    let err = client
        .batch_get_item()
        .request_items(&t["tb2"], keys_of(vec![key2("a", "1"), key2("a", "1.0")]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), dup);
    // The same key value in two different tables is not a duplicate.
    client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(vec![key1("a")]))
        .request_items(
            format!("{ARN_PREFIX}{}", &t["tb2"]),
            keys_of(vec![key2("a", "1")]),
        )
        .send()
        .await
        .unwrap();
}

async fn get_expression_errors(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let with = |ka: KeysAndAttributes| {
        client
            .batch_get_item()
            .request_items(&t["tb1"], keys_of(vec![key1("a")]))
            .request_items(&t["tb2"], ka)
            .send()
    };

    let err = with(
        KeysAndAttributes::builder()
            .keys(key2("a", "1"))
            .projection_expression("pk")
            .attributes_to_get("pk")
            .build()
            .unwrap(),
    )
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

    let err = with(
        KeysAndAttributes::builder()
            .keys(key2("a", "1"))
            .expression_attribute_names("#p", "pk")
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "ExpressionAttributeNames can only be specified when using expressions: \
             ProjectionExpression is null"
        )
    );

    let err = with(
        KeysAndAttributes::builder()
            .keys(key2("a", "1"))
            .projection_expression("pk")
            .expression_attribute_names("#x", "x")
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}")
    );

    let err = with(
        KeysAndAttributes::builder()
            .keys(key2("a", "1"))
            .projection_expression("a,,b")
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Invalid ProjectionExpression: Syntax error; token: \",\", near: \",,b\"")
    );

    let err = with(
        KeysAndAttributes::builder()
            .keys(key2("a", "1"))
            .projection_expression("#nope")
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Invalid ProjectionExpression: An expression attribute name used in the document \
             path is not defined; attribute name: #nope"
        )
    );

    // Expression errors come before missing tables.
    let err = client
        .batch_get_item()
        .request_items(
            unique_name("missing"),
            KeysAndAttributes::builder()
                .keys(key1("a"))
                .projection_expression("a,,b")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, VALIDATION);
}

// -------------------------------------------------------------------------------------------
// BatchWriteItem validation

async fn write_request_constraints(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;

    assert_eq!(
        raw::call_error(server, "BatchWriteItem", "{}"),
        validation(
            "1 validation error detected: Value null at 'requestItems' failed to satisfy \
             constraint: Member must not be null"
        )
    );
    assert_eq!(
        raw::call_error(server, "BatchWriteItem", r#"{"RequestItems": {}}"#),
        validation("The requestItems parameter is required for BatchWriteItem")
    );
    // An empty request list (observed wording).
    assert_eq!(
        raw::call_error(
            server,
            "BatchWriteItem",
            &t.fill(r#"{"RequestItems": {"$tb1": []}}"#)
        ),
        validation(&t.fill(
            "1 validation error detected: Value '{$tb1=[]}' at 'requestItems' failed to satisfy \
             constraint: Map value must satisfy constraint: [Member must have length less than \
             or equal to 25, Member must have length greater than or equal to 1]"
        ))
    );
    // A null request list (decided wording).
    assert_eq!(
        raw::call_error(
            server,
            "BatchWriteItem",
            &t.fill(r#"{"RequestItems": {"$tb1": null}}"#)
        ),
        validation(&t.fill(
            "1 validation error detected: Value '{$tb1=null}' at 'requestItems' failed to \
             satisfy constraint: Map value must satisfy constraint: [Member must not be null]"
        ))
    );
    // More than 25 requests for one table (observed wording).
    let err = client
        .batch_write_item()
        .request_items(
            &t["tb1"],
            (0..26).map(|i| put(key1(&format!("k{i}")))).collect(),
        )
        .send()
        .await
        .unwrap_err();
    assert_validation_shape(
        error_of(&err),
        &t.fill(
            "1 validation error detected: Value \
             '{$tb1=[com.amazonaws.dynamodb.v20120810.WriteRequest@",
        ),
        "]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy \
         constraint: [Member must have length less than or equal to 25, Member must have \
         length greater than or equal to 1]",
    );
    // More than 25 over all tables.
    let err = client
        .batch_write_item()
        .request_items(
            &t["tb1"],
            (0..20).map(|i| put(key1(&format!("k{i}")))).collect(),
        )
        .request_items(
            &t["tb2"],
            (0..6).map(|i| put(key2("p", &i.to_string()))).collect(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Too many items requested for the BatchWriteItem call")
    );
    assert_eq!(count(&client, &t["tb1"]).await, 0);

    // A PutRequest without Item, a DeleteRequest without Key.
    assert_eq!(
        raw::call_error(
            server,
            "BatchWriteItem",
            &t.fill(
                r#"{"RequestItems": {"$tb1": [{"PutRequest": {"Item": {"pk": {"S": "a"}}}},
                {"PutRequest": {}}, {"DeleteRequest": {}}]}}"#
            )
        ),
        validation(&t.fill(
            "2 validation errors detected: Value null at \
             'requestItems.$tb1.member.2.member.putRequest.item' failed to satisfy constraint: \
             Member must not be null; Value null at \
             'requestItems.$tb1.member.3.member.deleteRequest.key' failed to satisfy constraint: \
             Member must not be null"
        ))
    );

    // An invalid table name.
    let err = client
        .batch_write_item()
        .request_items("a;b", vec![put(key1("a"))])
        .send()
        .await
        .unwrap_err();
    assert_validation_shape(
        error_of(&err),
        "1 validation error detected: Value '{a;b=[com.amazonaws.dynamodb.v20120810.WriteRequest@",
        "]}' at 'requestItems' failed to satisfy constraint: Map keys must satisfy \
         constraint: [Member must have length less than or equal to 255, Member must have \
         length greater than or equal to 3, Member must satisfy regular expression pattern: \
         [a-zA-Z0-9_.-]+]",
    );

    // The two enums.
    assert_eq!(
        raw::call_error(
            server,
            "BatchWriteItem",
            &t.fill(
                r#"{"RequestItems": {"$tb1": [{"PutRequest": {"Item": {"pk": {"S": "a"}}}}]},
                "ReturnConsumedCapacity": "ALL", "ReturnItemCollectionMetrics": "ALL"}"#
            )
        ),
        validation(
            "2 validation errors detected: Value 'ALL' at 'returnConsumedCapacity' failed to \
             satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; \
             Value 'ALL' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member \
             must satisfy enum value set: [SIZE, NONE]"
        )
    );
    assert_eq!(count(&client, &t["tb1"]).await, 0);
}

async fn write_semantic_errors(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    let missing = unique_name("missing");
    let write = |table: &str, requests: Vec<WriteRequest>| {
        client
            .batch_write_item()
            .request_items(table, requests)
            .send()
    };

    // Neither or both of PutRequest and DeleteRequest (decided wording).
    let err = write(&t["tb1"], vec![WriteRequest::builder().build()])
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Supplied WriteRequest is empty, must contain exactly one of PutRequest or \
             DeleteRequest"
        )
    );
    let both = WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(key1("a")))
                .build()
                .unwrap(),
        )
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(key1("b")))
                .build()
                .unwrap(),
        )
        .build();
    let err = write(&t["tb1"], vec![both]).await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Supplied WriteRequest has more than one request type set, must contain exactly \
             one of PutRequest or DeleteRequest"
        )
    );

    // A missing table, by name or ARN.
    for name in [missing.clone(), format!("{ARN_PREFIX}{missing}")] {
        let err = write(&name, vec![put(key1("a"))]).await.unwrap_err();
        assert_eq!(error_of(&err), not_found());
    }

    // Items without the key, or with a key of the wrong type: in a batch this is the
    // schema-mismatch text, not PutItem's.
    let mismatch = validation("The provided key element does not match the schema");
    for (table, item) in [
        (&t["tb1"], item(&[("x", s("a"))])),
        (&t["tb1"], item(&[("pk", n("1"))])),
        (&t["tb2"], key1("a")),
        (&t["tb2"], item(&[("pk", s("a")), ("sk", s("1"))])),
    ] {
        let err = write(table, vec![put(item)]).await.unwrap_err();
        assert_eq!(error_of(&err), mismatch, "{table}");
    }
    // Delete keys are checked like GetItem's.
    for (table, key) in [
        (&t["tb1"], item(&[("pk", s("a")), ("x", s("1"))])),
        (&t["tb2"], key1("a")),
    ] {
        let err = write(table, vec![delete(key)]).await.unwrap_err();
        assert_eq!(error_of(&err), mismatch, "{table}");
    }
    // PutItem's other item checks.
    let err = write(&t["tb1"], vec![put(key1(""))]).await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key \
             attribute cannot contain an empty string value. Key: pk"
        )
    );
    let big = item(&[("pk", s("a")), ("big", s(&"x".repeat(400 * 1024)))]);
    let err = write(&t["tb1"], vec![put(big)]).await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Item size has exceeded the maximum allowed size")
    );
    let err = write(
        &t["tb1"],
        vec![put(item(&[("pk", s("a")), ("e", Av::Ns(vec![]))]))],
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("One or more parameter values were invalid: An number set  may not be empty")
    );

    // Two requests on one item: two puts, a put and a delete, numbers written differently.
    let dup = validation("Provided list of item keys contains duplicates");
    let err = write(&t["tb1"], vec![put(key1("a")), put(key1("a"))])
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), dup);
    let err = write(&t["tb1"], vec![put(key1("a")), delete(key1("a"))])
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), dup);
    let err = write(
        &t["tb2"],
        vec![delete(key2("a", "10")), put(key2("a", "1e1"))],
    )
    .await
    .unwrap_err();
    assert_eq!(error_of(&err), dup);
    // The same key in two tables is fine.
    client
        .batch_write_item()
        .request_items(&t["tb1"], vec![put(key1("a"))])
        .request_items(&t["tb2"], vec![put(key2("a", "1"))])
        .send()
        .await
        .unwrap();
}

async fn invalid_batch_writes_nothing(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    // Twenty valid puts over two tables, then one invalid request in the second table: the
    // whole batch is refused before any write.
    let mut tb2: Vec<WriteRequest> = (0..9).map(|i| put(key2("p", &i.to_string()))).collect();
    tb2.push(put(key1("no-sort-key")));
    let err = client
        .batch_write_item()
        .request_items(
            &t["tb1"],
            (0..15).map(|i| put(key1(&format!("k{i}")))).collect(),
        )
        .request_items(&t["tb2"], tb2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("The provided key element does not match the schema")
    );
    assert_eq!(count(&client, &t["tb1"]).await, 0);
    assert_eq!(count(&client, &t["tb2"]).await, 0);

    // Same with a missing table named last, and with a duplicate at the end.
    let err = client
        .batch_write_item()
        .request_items(&t["tb1"], vec![put(key1("a"))])
        .request_items(unique_name("zz-missing"), vec![put(key1("a"))])
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), not_found());
    let err = client
        .batch_write_item()
        .request_items(
            &t["tb1"],
            vec![put(key1("a")), put(key1("b")), delete(key1("a"))],
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Provided list of item keys contains duplicates")
    );
    assert_eq!(count(&client, &t["tb1"]).await, 0);
}

// -------------------------------------------------------------------------------------------
// BatchGetItem reads

async fn get_across_two_tables(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    for i in 0..3 {
        client
            .put_item()
            .table_name(&t["tb1"])
            .set_item(Some(item(&[
                ("pk", s(&format!("a{i}"))),
                ("v", n(&i.to_string())),
            ])))
            .send()
            .await
            .unwrap();
        client
            .put_item()
            .table_name(&t["tb2"])
            .set_item(Some(item(&[
                ("pk", s("p")),
                ("sk", n(&i.to_string())),
                ("w", s("x")),
            ])))
            .send()
            .await
            .unwrap();
    }

    let out = client
        .batch_get_item()
        .request_items(
            &t["tb1"],
            keys_of(vec![key1("a0"), key1("missing"), key1("a2")]),
        )
        .request_items(
            &t["tb2"],
            keys_of(vec![key2("p", "1"), key2("p", "99"), key2("q", "0")]),
        )
        .send()
        .await
        .unwrap();
    let responses = out.responses().unwrap();
    let mut tb1: Vec<String> = responses[&t["tb1"]]
        .iter()
        .map(|i| i["pk"].as_s().unwrap().clone())
        .collect();
    tb1.sort();
    assert_eq!(tb1, ["a0", "a2"]);
    assert_eq!(responses[&t["tb1"]][0].len(), 2);
    assert_eq!(responses[&t["tb2"]].len(), 1);
    assert_eq!(
        responses[&t["tb2"]][0],
        item(&[("pk", s("p")), ("sk", n("1")), ("w", s("x"))])
    );
    assert!(out.unprocessed_keys().unwrap().is_empty());
    assert!(out.consumed_capacity().is_empty());

    // A table where nothing is found is listed with no items; a table ARN is answered under
    // the ARN the client used.
    let arn = format!("{ARN_PREFIX}{}", &t["tb2"]);
    let out = client
        .batch_get_item()
        .request_items(&t["tb1"], keys_of(vec![key1("nothing")]))
        .request_items(arn.clone(), keys_of(vec![key2("p", "2")]))
        .send()
        .await
        .unwrap();
    let responses = out.responses().unwrap();
    assert!(responses[&t["tb1"]].is_empty());
    assert_eq!(responses[&arn].len(), 1);

    // The raw answer always carries Responses and an empty UnprocessedKeys, and nothing else
    // unless asked.
    let (status, body) = raw::call(
        server,
        "BatchGetItem",
        &t.fill(r#"{"RequestItems": {"$tb1": {"Keys": [{"pk": {"S": "a1"}}]}}}"#),
    );
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({
            "Responses": {&t["tb1"]: [{"pk": {"S": "a1"}, "v": {"N": "1"}}]},
            "UnprocessedKeys": {}
        })
    );
}

async fn get_projection_per_table(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    client
        .put_item()
        .table_name(&t["tb1"])
        .set_item(Some(item(&[
            ("pk", s("a")),
            ("name", s("n")),
            ("m", Av::M(item(&[("x", n("1")), ("y", n("2"))]))),
            ("other", s("o")),
        ])))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&t["tb2"])
        .set_item(Some(item(&[
            ("pk", s("a")),
            ("sk", n("1")),
            ("x", s("1")),
            ("y", s("2")),
        ])))
        .send()
        .await
        .unwrap();

    let out = client
        .batch_get_item()
        .request_items(
            &t["tb1"],
            KeysAndAttributes::builder()
                .keys(key1("a"))
                .projection_expression("#n, m.y")
                .expression_attribute_names("#n", "name")
                .consistent_read(true)
                .build()
                .unwrap(),
        )
        .request_items(
            &t["tb2"],
            KeysAndAttributes::builder()
                .keys(key2("a", "1"))
                .attributes_to_get("y")
                .attributes_to_get("sk")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let responses = out.responses().unwrap();
    assert_eq!(
        responses[&t["tb1"]],
        vec![item(&[
            ("name", s("n")),
            ("m", Av::M(item(&[("y", n("2"))])))
        ])]
    );
    assert_eq!(
        responses[&t["tb2"]],
        vec![item(&[("sk", n("1")), ("y", s("2"))])]
    );
}

async fn get_consumed_capacity_per_table(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    // tb1: two small items read eventually consistent (0.5 each). tb2: a 5 KB item read
    // strongly consistent (2) plus a missing one (1).
    for pk in ["a", "b"] {
        client
            .put_item()
            .table_name(&t["tb1"])
            .set_item(Some(key1(pk)))
            .send()
            .await
            .unwrap();
    }
    client
        .put_item()
        .table_name(&t["tb2"])
        .set_item(Some(item(&[
            ("pk", s("a")),
            ("sk", n("1")),
            ("pad", s(&"x".repeat(5 * 1024))),
        ])))
        .send()
        .await
        .unwrap();
    let request = |rcc: ReturnConsumedCapacity| {
        client
            .batch_get_item()
            .request_items(&t["tb1"], keys_of(vec![key1("a"), key1("b")]))
            .request_items(
                &t["tb2"],
                KeysAndAttributes::builder()
                    .keys(key2("a", "1"))
                    .keys(key2("a", "2"))
                    .consistent_read(true)
                    .build()
                    .unwrap(),
            )
            .return_consumed_capacity(rcc)
            .send()
    };

    let out = request(ReturnConsumedCapacity::Total).await.unwrap();
    let mut consumed: Vec<(String, f64)> = out
        .consumed_capacity()
        .iter()
        .map(|c| {
            assert!(c.table().is_none());
            (
                c.table_name().unwrap().to_string(),
                c.capacity_units().unwrap(),
            )
        })
        .collect();
    consumed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        consumed,
        vec![(t["tb1"].to_string(), 1.0), (t["tb2"].to_string(), 3.0)]
    );

    let out = request(ReturnConsumedCapacity::Indexes).await.unwrap();
    assert_eq!(out.consumed_capacity().len(), 2);
    for c in out.consumed_capacity() {
        let table = c.table().unwrap();
        assert_eq!(table.capacity_units(), c.capacity_units());
        assert_eq!(c.read_capacity_units(), c.capacity_units());
    }

    let out = request(ReturnConsumedCapacity::None).await.unwrap();
    assert!(out.consumed_capacity().is_empty());
}

async fn get_stops_at_16_mb_and_retry_loop_reads_everything_once(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    // 100 items of ~350 KB: 35 MB, about twice what one response may carry.
    let big = "x".repeat(350 * 1000);
    let ids: Vec<String> = (0..100).map(|i| format!("item-{i:03}")).collect();
    for chunk in ids.chunks(25) {
        let out = client
            .batch_write_item()
            .request_items(
                &t["tb1"],
                chunk
                    .iter()
                    .map(|id| put(item(&[("pk", s(id)), ("big", s(&big)), ("v", n("1"))])))
                    .collect(),
            )
            .send()
            .await
            .unwrap();
        assert!(out.unprocessed_items().unwrap().is_empty());
    }

    let request = KeysAndAttributes::builder()
        .set_keys(Some(ids.iter().map(|id| key1(id)).collect()))
        .projection_expression("#k, big")
        .expression_attribute_names("#k", "pk")
        .consistent_read(true)
        .build()
        .unwrap();
    let out = client
        .batch_get_item()
        .request_items(&t["tb1"], request.clone())
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let first = &out.responses().unwrap()[&t["tb1"]];
    let returned_bytes: usize = first
        .iter()
        .map(|item| item["big"].as_s().unwrap().len() + item["pk"].as_s().unwrap().len() + 5)
        .sum();
    // The response stops near 16 MB: over it by less than one item, or under it by less.
    assert!(first.len() > 40 && first.len() < 60, "{}", first.len());
    assert!(returned_bytes > 16 * 1024 * 1024 - 400 * 1024);
    assert!(returned_bytes < 16 * 1024 * 1024 + 400 * 1024);
    // Only what was read is charged: 86 RCUs per ~350 KB item, strongly consistent.
    assert_eq!(
        out.consumed_capacity()[0].capacity_units(),
        Some(86.0 * first.len() as f64)
    );
    // The rest comes back in request form, with the client's own parameters.
    let left = &out.unprocessed_keys().unwrap()[&t["tb1"]];
    assert_eq!(left.keys().len(), 100 - first.len());
    assert_eq!(left.projection_expression(), Some("#k, big"));
    assert_eq!(
        left.expression_attribute_names(),
        request.expression_attribute_names()
    );
    assert_eq!(left.consistent_read(), Some(true));
    assert!(left.attributes_to_get().is_empty());
    let returned: HashSet<&str> = first
        .iter()
        .map(|i| i["pk"].as_s().unwrap().as_str())
        .collect();
    for key in left.keys() {
        assert!(!returned.contains(key["pk"].as_s().unwrap().as_str()));
    }

    // An SDK-style retry loop reads every item exactly once.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut pending = HashMap::from([(t["tb1"].to_string(), request)]);
    let mut calls = 0;
    while !pending.is_empty() {
        calls += 1;
        assert!(calls <= 10, "the retry loop does not converge");
        let out = client
            .batch_get_item()
            .set_request_items(Some(pending))
            .send()
            .await
            .unwrap();
        for item in &out.responses().unwrap()[&t["tb1"]] {
            assert_eq!(item.len(), 2);
            assert_eq!(item["big"].as_s().unwrap().len(), big.len());
            *seen.entry(item["pk"].as_s().unwrap().clone()).or_default() += 1;
        }
        pending = out.unprocessed_keys().cloned().unwrap_or_default();
    }
    assert!(calls >= 3, "{calls}");
    assert_eq!(seen.len(), 100);
    assert!(seen.values().all(|&times| times == 1));
}

// -------------------------------------------------------------------------------------------
// BatchWriteItem writes

async fn write_puts_then_deletes(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    // An item that the batch replaces.
    client
        .put_item()
        .table_name(&t["tb1"])
        .set_item(Some(item(&[("pk", s("k0")), ("old", s("yes"))])))
        .send()
        .await
        .unwrap();

    let out = client
        .batch_write_item()
        .request_items(
            &t["tb1"],
            (0..15)
                .map(|i| {
                    put(item(&[
                        ("pk", s(&format!("k{i}"))),
                        ("v", n(&i.to_string())),
                    ]))
                })
                .collect(),
        )
        .request_items(
            format!("{ARN_PREFIX}{}", &t["tb2"]),
            (0..10)
                .map(|i| {
                    put(item(&[
                        ("pk", s("p")),
                        ("sk", n(&i.to_string())),
                        ("pad", s(&"y".repeat(1500))),
                    ]))
                })
                .collect(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_items().unwrap().is_empty());
    assert!(out.item_collection_metrics().is_none());
    let mut consumed: Vec<(String, f64)> = out
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap().to_string(),
                c.capacity_units().unwrap(),
            )
        })
        .collect();
    consumed.sort_by(|a, b| a.0.cmp(&b.0));
    // tb1: 15 small items, 1 WCU each; tb2: 10 items of ~1.5 KB, 2 WCUs each.
    assert_eq!(
        consumed,
        vec![(t["tb1"].to_string(), 15.0), (t["tb2"].to_string(), 20.0)]
    );
    assert_eq!(count(&client, &t["tb1"]).await, 15);
    assert_eq!(count(&client, &t["tb2"]).await, 10);
    let replaced = client
        .get_item()
        .table_name(&t["tb1"])
        .set_key(Some(key1("k0")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        replaced.item().unwrap(),
        &item(&[("pk", s("k0")), ("v", n("0"))])
    );

    // Deletes, including one of an item that does not exist.
    let out = client
        .batch_write_item()
        .request_items(
            &t["tb1"],
            (0..15).map(|i| delete(key1(&format!("k{i}")))).collect(),
        )
        .request_items(
            &t["tb2"],
            (0..9)
                .map(|i| delete(key2("p", &i.to_string())))
                .chain([delete(key2("nobody", "1"))])
                .collect(),
        )
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_items().unwrap().is_empty());
    assert!(out.consumed_capacity().is_empty());
    assert_eq!(count(&client, &t["tb1"]).await, 0);
    assert_eq!(count(&client, &t["tb2"]).await, 1);
    let described = client
        .describe_table()
        .table_name(&t["tb1"])
        .send()
        .await
        .unwrap();
    assert_eq!(described.table().unwrap().item_count(), Some(0));

    // The raw answer is exactly `{"UnprocessedItems": {}}` when nothing more is asked.
    let (status, body) = raw::call(
        server,
        "BatchWriteItem",
        &t.fill(r#"{"RequestItems": {"$tb1": [{"PutRequest": {"Item": {"pk": {"S": "z"}}}}]}}"#),
    );
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"UnprocessedItems": {}}));
}

async fn write_item_collection_metrics(server: &TestServer) {
    let client = server.client();
    let t = setup(&client).await;
    client
        .create_table()
        .table_name(&t["tb3"])
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("sk", N))
        .attribute_definitions(attr("lsk", S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
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

    let out = client
        .batch_write_item()
        .request_items(
            &t["tb3"],
            vec![
                put(item(&[("pk", s("a")), ("sk", n("1")), ("lsk", s("x"))])),
                put(item(&[("pk", s("b")), ("sk", n("1"))])),
            ],
        )
        .request_items(&t["tb1"], vec![put(key1("a"))])
        .return_item_collection_metrics(ReturnItemCollectionMetrics::Size)
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let metrics = out.item_collection_metrics().unwrap();
    assert_eq!(metrics.len(), 1, "only tables with local indexes report");
    let tb3 = &metrics[&t["tb3"]];
    assert_eq!(tb3.len(), 2);
    let mut keys: Vec<&Item> = tb3
        .iter()
        .map(|m| m.item_collection_key().unwrap())
        .collect();
    keys.sort_by_key(|k| k["pk"].as_s().unwrap().clone());
    assert_eq!(keys, vec![&key1("a"), &key1("b")]);
    for m in tb3 {
        assert_eq!(m.size_estimate_range_gb().len(), 2);
    }
    // The LSI entry written for `a` is charged to the index.
    let t3_capacity = out
        .consumed_capacity()
        .iter()
        .find(|c| c.table_name() == Some(&t["tb3"]))
        .unwrap();
    assert_eq!(t3_capacity.capacity_units(), Some(3.0));
    assert_eq!(
        t3_capacity.local_secondary_indexes().unwrap()["by_l"].capacity_units(),
        Some(1.0)
    );

    // Not asked: not reported.
    let out = client
        .batch_write_item()
        .request_items(&t["tb3"], vec![delete(key2("a", "1"))])
        .send()
        .await
        .unwrap();
    assert!(out.item_collection_metrics().is_none());
}
