//! TransactGetItems and TransactWriteItems end to end: the real binary driven by
//! aws-sdk-dynamodb (and raw HTTP for what the SDK will not send), on both storage backends.
//!
//! Covered: every request-validation path with DynamoDB's exact words; all-or-nothing
//! cancellation with `CancellationReasons` in request order (with the old item when
//! `ALL_OLD` is asked); ConditionCheck, Put, Update and Delete actions; idempotency through
//! `ClientRequestToken`; doubled capacity; consistent snapshots for TransactGetItems; and
//! concurrency: bank transfers between accounts from many clients that must keep the total
//! and never overdraw, and optimistic locking that never loses a write.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue as Av, ConditionCheck, Delete, Get, Put, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, TransactGetItem, TransactWriteItem, Update,
};
use common::schema::{on_demand_table, N, S};
use common::values::get_by_pk;
use common::{error_of, n, raw, s, unique_name, validation, Tables, TestServer, VALIDATION};

on_both_backends!(
    server: write_request_constraints,
    write_semantic_validation,
    get_request_validation,
    all_or_nothing_with_cancellation_reasons,
    cancellation_wire_shape,
    condition_check_put_update_delete,
    transact_get_items_responses,
    idempotent_retries,
    transactional_capacity_is_doubled,
    transact_get_sees_a_consistent_snapshot,
    bank_transfers_keep_the_total,
    optimistic_locking_never_loses_a_write,
);

const CANCELED: &str = "TransactionCanceledException";

fn put(table: &str, item: &[(&str, Av)]) -> TransactWriteItem {
    let mut p = Put::builder().table_name(table);
    for (k, v) in item {
        p = p.item(*k, v.clone());
    }
    TransactWriteItem::builder().put(p.build().unwrap()).build()
}

fn put_if(table: &str, item: &[(&str, Av)], condition: &str, all_old: bool) -> TransactWriteItem {
    let mut p = Put::builder()
        .table_name(table)
        .condition_expression(condition);
    for (k, v) in item {
        p = p.item(*k, v.clone());
    }
    if all_old {
        p = p.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    }
    TransactWriteItem::builder().put(p.build().unwrap()).build()
}

fn update(
    table: &str,
    pk: Av,
    expression: &str,
    condition: Option<&str>,
    values: &[(&str, Av)],
) -> TransactWriteItem {
    let mut u = Update::builder()
        .table_name(table)
        .key("pk", pk)
        .update_expression(expression)
        .set_condition_expression(condition.map(str::to_string));
    for (k, v) in values {
        u = u.expression_attribute_values(*k, v.clone());
    }
    TransactWriteItem::builder()
        .update(u.build().unwrap())
        .build()
}

fn delete(table: &str, pk: Av) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(table)
                .key("pk", pk)
                .build()
                .unwrap(),
        )
        .build()
}

fn check(table: &str, pk: Av, condition: &str, values: &[(&str, Av)]) -> TransactWriteItem {
    let mut c = ConditionCheck::builder()
        .table_name(table)
        .key("pk", pk)
        .condition_expression(condition);
    for (k, v) in values {
        c = c.expression_attribute_values(*k, v.clone());
    }
    TransactWriteItem::builder()
        .condition_check(c.build().unwrap())
        .build()
}

fn get_of(table: &str, pk: Av) -> TransactGetItem {
    TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(table)
                .key("pk", pk)
                .build()
                .unwrap(),
        )
        .build()
}

/// The codes of a TransactionCanceledException's reasons, or panics.
fn reasons_of(
    err: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Vec<aws_sdk_dynamodb::types::CancellationReason> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            e.cancellation_reasons().to_vec()
        }
        _ => panic!("not a cancellation: {err:?}"),
    }
}

fn codes(reasons: &[aws_sdk_dynamodb::types::CancellationReason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code().unwrap_or("?")).collect()
}

// -------------------------------------------------------------------------------------------
// Validation

async fn write_request_constraints(server: &TestServer) {
    let client = server.client();
    let t = Tables::new(&["twr"]);
    on_demand_table(&client, &t["twr"], &[("pk", S)]).await;

    let reply = raw::call(server, "TransactWriteItems", "{}");
    assert_eq!(
        raw::error(&reply),
        validation(
            "1 validation error detected: Value null at 'transactItems' failed to satisfy \
             constraint: Member must not be null"
        )
    );

    let err = client
        .transact_write_items()
        .set_transact_items(Some(vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
        )
    );

    // 101 actions: the list is printed the way DynamoDB's Java validator prints it.
    let many: Vec<TransactWriteItem> = (0..101)
        .map(|i| put(&t["twr"], &[("pk", s(&format!("k{i}")))]))
        .collect();
    let err = client
        .transact_write_items()
        .set_transact_items(Some(many))
        .send()
        .await
        .unwrap_err();
    let (kind, message) = error_of(&err);
    assert_eq!(kind, VALIDATION);
    assert!(
        message.starts_with(
            "1 validation error detected: Value '[com.amazonaws.dynamodb.v20120810.\
             TransactWriteItem@"
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "]' at 'transactItems' failed to satisfy constraint: Member must have length \
             less than or equal to 100"
        ),
        "{message}"
    );
    assert_eq!(message.matches("TransactWriteItem@").count(), 101);

    // Required members of each action, in the model's order, all in one message.
    let reply = raw::call(
        server,
        "TransactWriteItems",
        &t.fill(r#"{"TransactItems":[{"Put":{}},{"ConditionCheck":{"TableName":"$twr","Key":{"pk":{"S":"a"}}}},
            {"Update":{"TableName":"$twr"}},{"Delete":{"Key":{"pk":{"S":"a"}},
            "ReturnValuesOnConditionCheckFailure":"ALL_NEW"}}],
            "ReturnConsumedCapacity":"ALL","ClientRequestToken":""}"#),
    );
    assert_eq!(
        raw::error(&reply),
        validation(
            "9 validation errors detected: \
             Value null at 'transactItems.1.member.put.item' failed to satisfy constraint: \
             Member must not be null; \
             Value null at 'transactItems.1.member.put.tableName' failed to satisfy \
             constraint: Member must not be null; \
             Value null at 'transactItems.2.member.conditionCheck.conditionExpression' failed \
             to satisfy constraint: Member must not be null; \
             Value null at 'transactItems.3.member.update.key' failed to satisfy constraint: \
             Member must not be null; \
             Value null at 'transactItems.3.member.update.updateExpression' failed to satisfy \
             constraint: Member must not be null; \
             Value null at 'transactItems.4.member.delete.tableName' failed to satisfy \
             constraint: Member must not be null; \
             Value 'ALL_NEW' at \
             'transactItems.4.member.delete.returnValuesOnConditionCheckFailure' failed to \
             satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]; \
             Value 'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must \
             satisfy enum value set: [INDEXES, TOTAL, NONE]; \
             Value '' at 'clientRequestToken' failed to satisfy constraint: Member must have \
             length greater than or equal to 1"
        )
    );

    let err = client
        .transact_write_items()
        .transact_items(put(&t["twr"], &[("pk", s("a"))]))
        .client_request_token("x".repeat(37))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(&format!(
            "1 validation error detected: Value '{}' at 'clientRequestToken' failed to satisfy \
             constraint: Member must have length less than or equal to 36",
            "x".repeat(37)
        ))
    );

    let err = client
        .transact_write_items()
        .transact_items(put("ab", &[("pk", s("a"))]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "1 validation error detected: Value 'ab' at 'transactItems.1.member.put.tableName' \
             failed to satisfy constraint: Member must have length greater than or equal to 3"
        )
    );
    // Nothing was written by any of these.
    assert_eq!(get_by_pk(&client, &t["twr"], s("a")).await, None);
    assert_eq!(get_by_pk(&client, &t["twr"], s("k0")).await, None);
}

async fn write_semantic_validation(server: &TestServer) {
    let client = server.client();
    let tss = unique_name("tss");
    let tnn = unique_name("tnn");
    let missing = unique_name("missing");
    on_demand_table(&client, &tss, &[("pk", S)]).await;
    on_demand_table(&client, &tnn, &[("pk", N)]).await;
    let one_of = validation("TransactItems can only contain one of Check, Put, Update or Delete");

    // Two actions in one entry, or none.
    let both = TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(&tss)
                .item("pk", s("a"))
                .build()
                .unwrap(),
        )
        .delete(
            Delete::builder()
                .table_name(&tss)
                .key("pk", s("b"))
                .build()
                .unwrap(),
        )
        .build();
    let err = client
        .transact_write_items()
        .transact_items(both)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), one_of);
    let reply = raw::call(server, "TransactWriteItems", r#"{"TransactItems":[{}]}"#);
    assert_eq!(raw::error(&reply), one_of);

    // Two actions on one item, whatever their kinds; numbers compare by value.
    let dup = validation("Transaction request cannot include multiple operations on one item");
    let err = client
        .transact_write_items()
        .transact_items(check(&tss, s("a"), "attribute_not_exists(pk)", &[]))
        .transact_items(put(&tss, &[("pk", s("a")), ("x", n("1"))]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), dup);
    let err = client
        .transact_write_items()
        .transact_items(put(&tnn, &[("pk", n("1"))]))
        .transact_items(delete(&tnn, n("1.0")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), dup);
    // The same key in two tables is two items.
    client
        .transact_write_items()
        .transact_items(put(&tss, &[("pk", s("1"))]))
        .transact_items(put(&tnn, &[("pk", n("1"))]))
        .send()
        .await
        .unwrap();

    // Each action has its own placeholder maps.
    let err = client
        .transact_write_items()
        .transact_items(update(
            &tss,
            s("b"),
            "SET v = :v",
            None,
            &[(":v", n("1")), (":unused", n("2"))],
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
        )
    );
    let err = client
        .transact_write_items()
        .transact_items(update(&tss, s("b"), "SET v = :v", None, &[(":v", n("1"))]))
        .transact_items(check(&tss, s("c"), "v = :v", &[]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation(
            "Invalid ConditionExpression: An expression attribute value used in expression \
             is not defined; attribute value: :v"
        )
    );
    let err = client
        .transact_write_items()
        .transact_items(update(&tss, s("b"), "SET", None, &[]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, VALIDATION);
    assert!(error_of(&err)
        .1
        .starts_with("Invalid UpdateExpression: Syntax error"));

    // An invalid attribute value.
    let err = client
        .transact_write_items()
        .transact_items(put(&tss, &[("pk", s("e")), ("set", Av::Ss(vec![]))]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("One or more parameter values were invalid: An string set  may not be empty")
    );

    // More than 4 MB of items in one transaction (each item is under 400 KB).
    let big = "x".repeat(390 * 1024);
    let mut req = client.transact_write_items();
    for i in 0..11 {
        req = req.transact_items(put(&tss, &[("pk", s(&format!("big{i}"))), ("d", s(&big))]));
    }
    let err = req.send().await.unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Transaction request size cannot exceed 4 MB")
    );

    // The engine's checks: missing table, key schema.
    let err = client
        .transact_write_items()
        .transact_items(put(&tss, &[("pk", s("f"))]))
        .transact_items(put(&missing, &[("pk", s("f"))]))
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
        .transact_write_items()
        .transact_items(delete(&tss, n("1")))
        .send()
        .await
        .unwrap_err();
    let (kind, _) = error_of(&err);
    assert!(kind == VALIDATION || kind == CANCELED, "{err:?}");
    for pk in ["a", "b", "c", "e", "f", "big0"] {
        assert_eq!(get_by_pk(&client, &tss, s(pk)).await, None, "{pk}");
    }
}

async fn get_request_validation(server: &TestServer) {
    let client = server.client();
    let t = Tables::new(&["tgt"]);
    let nope = unique_name("nope");
    on_demand_table(&client, &t["tgt"], &[("pk", S)]).await;

    let reply = raw::call(
        server,
        "TransactGetItems",
        r#"{"ReturnConsumedCapacity":"SOME"}"#,
    );
    assert_eq!(
        raw::error(&reply),
        validation(
            "2 validation errors detected: Value null at 'transactItems' failed to satisfy \
             constraint: Member must not be null; Value 'SOME' at 'returnConsumedCapacity' \
             failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, \
             TOTAL, NONE]"
        )
    );
    let reply = raw::call(
        server,
        "TransactGetItems",
        &t.fill(r#"{"TransactItems":[{},{"Get":{"TableName":"$tgt"}},{"Get":{"Key":{"pk":{"S":"a"}}}}]}"#),
    );
    assert_eq!(
        raw::error(&reply),
        validation(
            "3 validation errors detected: Value null at 'transactItems.1.member.get' failed \
             to satisfy constraint: Member must not be null; Value null at \
             'transactItems.2.member.get.key' failed to satisfy constraint: Member must not be \
             null; Value null at 'transactItems.3.member.get.tableName' failed to satisfy \
             constraint: Member must not be null"
        )
    );
    let many: Vec<TransactGetItem> = (0..101)
        .map(|i| get_of(&t["tgt"], s(&format!("k{i}"))))
        .collect();
    let err = client
        .transact_get_items()
        .set_transact_items(Some(many))
        .send()
        .await
        .unwrap_err();
    let (kind, message) = error_of(&err);
    assert_eq!(kind, VALIDATION);
    assert!(message.starts_with(
        "1 validation error detected: Value '[com.amazonaws.dynamodb.v20120810.TransactGetItem@"
    ));
    assert!(message.ends_with(
        "]' at 'transactItems' failed to satisfy constraint: Member must have length less \
         than or equal to 100"
    ));

    // Projection placeholders are checked per Get.
    let err = client
        .transact_get_items()
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name(&t["tgt"])
                        .key("pk", s("a"))
                        .projection_expression("#a")
                        .expression_attribute_names("#a", "a")
                        .expression_attribute_names("#b", "b")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}")
    );

    // The engine's checks.
    let err = client
        .transact_get_items()
        .transact_items(get_of(&t["tgt"], s("a")))
        .transact_items(get_of(&nope, s("a")))
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
        .transact_get_items()
        .transact_items(get_of(&t["tgt"], n("1")))
        .send()
        .await
        .unwrap_err();
    let (kind, _) = error_of(&err);
    assert!(kind == VALIDATION || kind == CANCELED, "{err:?}");
}

// -------------------------------------------------------------------------------------------
// Semantics

/// One failing condition among four actions: nothing is written, and the reasons list every
/// action in order, with the old item where ALL_OLD was asked.
async fn all_or_nothing_with_cancellation_reasons(server: &TestServer) {
    let client = server.client();
    let acid = unique_name("acid");
    let other = unique_name("other");
    on_demand_table(&client, &acid, &[("pk", S)]).await;
    on_demand_table(&client, &other, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&acid)
        .item("pk", s("taken"))
        .item("owner", s("alice"))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&acid)
        .item("pk", s("counter"))
        .item("n", n("5"))
        .send()
        .await
        .unwrap();

    let err = client
        .transact_write_items()
        .transact_items(put(&acid, &[("pk", s("new1"))]))
        .transact_items(put_if(
            &acid,
            &[("pk", s("taken")), ("owner", s("bob"))],
            "attribute_not_exists(pk)",
            true,
        ))
        .transact_items(update(
            &acid,
            s("counter"),
            "ADD n :one",
            None,
            &[(":one", n("1"))],
        ))
        .transact_items(delete(&other, s("x")))
        .send()
        .await
        .unwrap_err();
    let (kind, message) = error_of(&err);
    assert_eq!(kind, CANCELED);
    assert_eq!(
        message,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, \
         ConditionalCheckFailed, None, None]"
    );
    let reasons = reasons_of(&err);
    assert_eq!(
        codes(&reasons),
        ["None", "ConditionalCheckFailed", "None", "None"]
    );
    assert_eq!(reasons[0].message(), None);
    assert_eq!(reasons[0].item(), None);
    assert_eq!(reasons[1].message(), Some("The conditional request failed"));
    let old = reasons[1].item().unwrap();
    assert_eq!(old.get("owner"), Some(&s("alice")));
    assert_eq!(old.len(), 2);

    // Nothing was written.
    assert_eq!(get_by_pk(&client, &acid, s("new1")).await, None);
    assert_eq!(
        get_by_pk(&client, &acid, s("taken")).await.unwrap()["owner"],
        s("alice")
    );
    assert_eq!(
        get_by_pk(&client, &acid, s("counter")).await.unwrap()["n"],
        n("5")
    );

    // Without ALL_OLD the reason carries no item.
    let err = client
        .transact_write_items()
        .transact_items(check(&acid, s("counter"), "n > :ten", &[(":ten", n("10"))]))
        .transact_items(put(&acid, &[("pk", s("new2"))]))
        .send()
        .await
        .unwrap_err();
    let reasons = reasons_of(&err);
    assert_eq!(codes(&reasons), ["ConditionalCheckFailed", "None"]);
    assert_eq!(reasons[0].item(), None);
    assert_eq!(get_by_pk(&client, &acid, s("new2")).await, None);

    // The same transaction succeeds once the condition holds: all four actions apply.
    client
        .transact_write_items()
        .transact_items(put(&acid, &[("pk", s("new1"))]))
        .transact_items(put_if(
            &acid,
            &[("pk", s("free")), ("owner", s("bob"))],
            "attribute_not_exists(pk)",
            true,
        ))
        .transact_items(update(
            &acid,
            s("counter"),
            "ADD n :one",
            None,
            &[(":one", n("1"))],
        ))
        .transact_items(delete(&other, s("x")))
        .send()
        .await
        .unwrap();
    assert!(get_by_pk(&client, &acid, s("new1")).await.is_some());
    assert_eq!(
        get_by_pk(&client, &acid, s("free")).await.unwrap()["owner"],
        s("bob")
    );
    assert_eq!(
        get_by_pk(&client, &acid, s("counter")).await.unwrap()["n"],
        n("6")
    );
}

/// The JSON DynamoDB sends for a cancellation, member for member.
async fn cancellation_wire_shape(server: &TestServer) {
    let client = server.client();
    let t = Tables::new(&["wire"]);
    on_demand_table(&client, &t["wire"], &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&t["wire"])
        .item("pk", s("a"))
        .item("v", n("1"))
        .send()
        .await
        .unwrap();
    let reply = raw::call(
        server,
        "TransactWriteItems",
        &t.fill(
            r#"{"TransactItems":[
            {"Put":{"TableName":"$wire","Item":{"pk":{"S":"b"}}}},
            {"ConditionCheck":{"TableName":"$wire","Key":{"pk":{"S":"a"}},
              "ConditionExpression":"v = :two","ExpressionAttributeValues":{":two":{"N":"2"}},
              "ReturnValuesOnConditionCheckFailure":"ALL_OLD"}}]}"#,
        ),
    );
    assert_eq!(reply.0, 400);
    assert_eq!(
        reply.1,
        serde_json::json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "CancellationReasons": [
                {"Code": "None"},
                {"Code": "ConditionalCheckFailed",
                 "Item": {"pk": {"S": "a"}, "v": {"N": "1"}},
                 "Message": "The conditional request failed"}
            ],
            "Message": "Transaction cancelled, please refer cancellation reasons for specific \
                        reasons [None, ConditionalCheckFailed]"
        })
    );
    // A success answers an empty object when nothing extra was asked for.
    let reply = raw::call(
        server,
        "TransactWriteItems",
        &t.fill(r#"{"TransactItems":[{"Put":{"TableName":"$wire","Item":{"pk":{"S":"c"}}}}]}"#),
    );
    assert_eq!(reply, (200, serde_json::json!({})));
}

async fn condition_check_put_update_delete(server: &TestServer) {
    let client = server.client();
    let orders = unique_name("orders");
    let stock = unique_name("stock");
    on_demand_table(&client, &orders, &[("pk", S)]).await;
    on_demand_table(&client, &stock, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&stock)
        .item("pk", s("widget"))
        .item("qty", n("3"))
        .item("active", Av::Bool(true))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&orders)
        .item("pk", s("stale"))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&orders)
        .item("pk", s("customer"))
        .item("standing", s("ok"))
        .send()
        .await
        .unwrap();

    // Place an order: the customer must be in good standing (ConditionCheck), stock goes
    // down only if there is some (conditional Update), the order is created only once
    // (conditional Put) and a stale entry goes (Delete).
    let place = |order: &str| {
        client
            .transact_write_items()
            .transact_items(check(
                &orders,
                s("customer"),
                "standing = :ok",
                &[(":ok", s("ok"))],
            ))
            .transact_items(update(
                &stock,
                s("widget"),
                "SET qty = qty - :one",
                Some("qty >= :one AND active = :t"),
                &[(":one", n("1")), (":t", Av::Bool(true))],
            ))
            .transact_items(put_if(
                &orders,
                &[("pk", s(order)), ("what", s("widget"))],
                "attribute_not_exists(pk)",
                false,
            ))
            .transact_items(delete(&orders, s("stale")))
    };
    place("o1").send().await.unwrap();
    assert_eq!(
        get_by_pk(&client, &stock, s("widget")).await.unwrap()["qty"],
        n("2")
    );
    assert_eq!(
        get_by_pk(&client, &orders, s("o1")).await.unwrap()["what"],
        s("widget")
    );
    assert_eq!(get_by_pk(&client, &orders, s("stale")).await, None);

    // Deleting a missing item is fine; the same order twice fails at the Put.
    let err = place("o1").send().await.unwrap_err();
    assert_eq!(
        codes(&reasons_of(&err)),
        ["None", "None", "ConditionalCheckFailed", "None"]
    );
    assert_eq!(
        get_by_pk(&client, &stock, s("widget")).await.unwrap()["qty"],
        n("2")
    );

    place("o2").send().await.unwrap();
    place("o3").send().await.unwrap();
    // Out of stock: the Update's condition fails.
    let err = place("o4").send().await.unwrap_err();
    assert_eq!(
        codes(&reasons_of(&err)),
        ["None", "ConditionalCheckFailed", "None", "None"]
    );
    assert_eq!(get_by_pk(&client, &orders, s("o4")).await, None);
    assert_eq!(
        get_by_pk(&client, &stock, s("widget")).await.unwrap()["qty"],
        n("0")
    );

    // A customer in bad standing: the ConditionCheck fails, nothing else happens.
    client
        .update_item()
        .table_name(&stock)
        .key("pk", s("widget"))
        .update_expression("SET qty = :ten")
        .expression_attribute_values(":ten", n("10"))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&orders)
        .item("pk", s("customer"))
        .item("standing", s("blocked"))
        .send()
        .await
        .unwrap();
    let err = place("o5").send().await.unwrap_err();
    assert_eq!(
        codes(&reasons_of(&err)),
        ["ConditionalCheckFailed", "None", "None", "None"]
    );
    assert_eq!(
        get_by_pk(&client, &stock, s("widget")).await.unwrap()["qty"],
        n("10")
    );
    assert_eq!(get_by_pk(&client, &orders, s("o5")).await, None);

    // An Update creates a missing item, like UpdateItem; names work per action.
    let named = Update::builder()
        .table_name(&stock)
        .key("pk", s("gadget"))
        .update_expression("SET #q = :five")
        .expression_attribute_names("#q", "qty")
        .expression_attribute_values(":five", n("5"))
        .build()
        .unwrap();
    client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().update(named).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        get_by_pk(&client, &stock, s("gadget")).await.unwrap(),
        HashMap::from([("pk".to_string(), s("gadget")), ("qty".to_string(), n("5"))])
    );
    // A Delete with a condition.
    let err = client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&stock)
                        .key("pk", s("gadget"))
                        .condition_expression("qty = :zero")
                        .expression_attribute_values(":zero", n("0"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(codes(&reasons_of(&err)), ["ConditionalCheckFailed"]);
    assert!(get_by_pk(&client, &stock, s("gadget")).await.is_some());
}

async fn transact_get_items_responses(server: &TestServer) {
    let client = server.client();
    let t = Tables::new(&["gaa", "gbb"]);
    on_demand_table(&client, &t["gaa"], &[("pk", S)]).await;
    on_demand_table(&client, &t["gbb"], &[("pk", N)]).await;
    client
        .put_item()
        .table_name(&t["gaa"])
        .item("pk", s("a"))
        .item("x", n("1"))
        .item("y", s("why"))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&t["gbb"])
        .item("pk", n("7"))
        .item("z", Av::Bool(true))
        .send()
        .await
        .unwrap();
    let projected = TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(&t["gaa"])
                .key("pk", s("a"))
                .projection_expression("#y")
                .expression_attribute_names("#y", "y")
                .build()
                .unwrap(),
        )
        .build();
    // Two Gets of one item are refused as a whole.
    let err = client
        .transact_get_items()
        .transact_items(projected.clone())
        .transact_items(get_of(&t["gaa"], s("a")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        validation("Transaction request cannot include multiple operations on one item")
    );
    client
        .put_item()
        .table_name(&t["gaa"])
        .item("pk", s("c"))
        .item("x", n("1"))
        .item("y", s("also"))
        .send()
        .await
        .unwrap();
    let out = client
        .transact_get_items()
        .transact_items(get_of(&t["gbb"], n("7")))
        .transact_items(get_of(&t["gaa"], s("missing")))
        .transact_items(projected)
        .transact_items(get_of(&t["gaa"], s("c")))
        .send()
        .await
        .unwrap();
    let responses = out.responses();
    assert_eq!(responses.len(), 4);
    assert_eq!(
        responses[0].item().unwrap(),
        &HashMap::from([
            ("pk".to_string(), n("7")),
            ("z".to_string(), Av::Bool(true))
        ])
    );
    assert_eq!(responses[1].item(), None);
    assert_eq!(
        responses[2].item().unwrap(),
        &HashMap::from([("y".to_string(), s("why"))])
    );
    assert_eq!(responses[3].item().unwrap().len(), 3);
    assert!(out.consumed_capacity().is_empty());

    // The wire form: `{}` for a missing item.
    let reply = raw::call(
        server,
        "TransactGetItems",
        &t.fill(
            r#"{"TransactItems":[{"Get":{"TableName":"$gaa","Key":{"pk":{"S":"nope"}}}},
            {"Get":{"TableName":"$gbb","Key":{"pk":{"N":"7.0"}}}}]}"#,
        ),
    );
    assert_eq!(
        reply,
        (
            200,
            serde_json::json!({"Responses": [{}, {"Item": {"pk": {"N": "7"}, "z": {"BOOL": true}}}]})
        )
    );
}

/// The same token and the same request: the second call succeeds without writing again. The
/// same token with a different request: IdempotentParameterMismatchException.
async fn idempotent_retries(server: &TestServer) {
    let client = server.client();
    let t = Tables::new(&["idem"]);
    // ClientRequestTokens are server-wide: unique ones, so that no other test's requests
    // count as retries of these.
    let token1 = unique_name("token-1");
    let token2 = unique_name("token-2");
    let token3 = unique_name("token-3");
    on_demand_table(&client, &t["idem"], &[("pk", S)]).await;
    let bump = |token: &str, by: &str| {
        client
            .transact_write_items()
            .client_request_token(token)
            .transact_items(update(
                &t["idem"],
                s("counter"),
                "ADD n :by",
                None,
                &[(":by", n(by))],
            ))
    };
    bump(&token1, "1").send().await.unwrap();
    assert_eq!(
        get_by_pk(&client, &t["idem"], s("counter")).await.unwrap()["n"],
        n("1")
    );
    bump(&token1, "1").send().await.unwrap();
    assert_eq!(
        get_by_pk(&client, &t["idem"], s("counter")).await.unwrap()["n"],
        n("1")
    );

    let err = bump(&token1, "2").send().await.unwrap_err();
    assert_eq!(error_of(&err).0, "IdempotentParameterMismatchException");
    assert!(matches!(
        err.as_service_error(),
        Some(TransactWriteItemsError::IdempotentParameterMismatchException(_))
    ));
    assert_eq!(
        get_by_pk(&client, &t["idem"], s("counter")).await.unwrap()["n"],
        n("1")
    );

    // A new token is a new request; no token at all is never deduplicated (the SDK fills
    // one in, so send the request raw).
    bump(&token2, "1").send().await.unwrap();
    assert_eq!(
        get_by_pk(&client, &t["idem"], s("counter")).await.unwrap()["n"],
        n("2")
    );
    let body = &t.fill(
        r#"{"TransactItems":[{"Update":{"TableName":"$idem","Key":{"pk":{"S":"counter"}},
        "UpdateExpression":"ADD n :one","ExpressionAttributeValues":{":one":{"N":"1"}}}}]}"#,
    );
    assert_eq!(raw::call(server, "TransactWriteItems", body).0, 200);
    assert_eq!(raw::call(server, "TransactWriteItems", body).0, 200);
    assert_eq!(
        get_by_pk(&client, &t["idem"], s("counter")).await.unwrap()["n"],
        n("4")
    );

    // A retried request whose first attempt was cancelled is cancelled again, and still
    // writes nothing.
    let failing = || {
        client
            .transact_write_items()
            .client_request_token(&token3)
            .transact_items(update(
                &t["idem"],
                s("counter"),
                "ADD n :one",
                Some("n > :big"),
                &[(":one", n("1")), (":big", n("100"))],
            ))
    };
    let err = failing().send().await.unwrap_err();
    assert_eq!(error_of(&err).0, CANCELED);
    let err = failing().send().await.unwrap_err();
    assert_eq!(error_of(&err).0, CANCELED);
    assert_eq!(
        get_by_pk(&client, &t["idem"], s("counter")).await.unwrap()["n"],
        n("4")
    );
}

/// Transactions cost twice the units of the single-item operations, per table.
async fn transactional_capacity_is_doubled(server: &TestServer) {
    let client = server.client();
    let cap = unique_name("cap");
    let cap2 = unique_name("cap2");
    on_demand_table(&client, &cap, &[("pk", S)]).await;
    on_demand_table(&client, &cap2, &[("pk", S)]).await;
    // pk (2) + "k1" (2) + data (4) + 1016 characters = exactly 1 KB: 1 WCU, 2 in a
    // transaction.
    let kb = "x".repeat(1016);
    let out = client
        .transact_write_items()
        .transact_items(put(&cap, &[("pk", s("k1")), ("data", s(&kb))]))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let consumed = out.consumed_capacity();
    assert_eq!(consumed.len(), 1);
    assert_eq!(consumed[0].table_name(), Some(cap.as_str()));
    assert_eq!(consumed[0].capacity_units(), Some(2.0));

    // One byte more is 2 WCU, 4 in a transaction; a second table gets its own entry.
    let out = client
        .transact_write_items()
        .transact_items(put(
            &cap,
            &[("pk", s("k2")), ("data", s(&format!("{kb}y")))],
        ))
        .transact_items(put(&cap2, &[("pk", s("k1"))]))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
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
    assert_eq!(consumed, [(cap.clone(), 4.0), (cap2.clone(), 2.0)]);

    // A small item read in a transaction: 2 RCU (a strongly consistent read of up to 4 KB
    // is 1). Nothing is reported without ReturnConsumedCapacity.
    let out = client
        .transact_get_items()
        .transact_items(get_of(&cap2, s("k1")))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let consumed = out.consumed_capacity();
    assert_eq!(consumed.len(), 1);
    assert_eq!(consumed[0].table_name(), Some(cap2.as_str()));
    assert_eq!(consumed[0].capacity_units(), Some(2.0));
    let out = client
        .transact_get_items()
        .transact_items(get_of(&cap2, s("k1")))
        .send()
        .await
        .unwrap();
    assert!(out.consumed_capacity().is_empty());
}

/// Writers move units between two items inside transactions; readers reading both items in
/// one TransactGetItems must always see the same total.
async fn transact_get_sees_a_consistent_snapshot(server: &TestServer) {
    let client = server.client();
    let snap = unique_name("snap");
    on_demand_table(&client, &snap, &[("pk", S)]).await;
    client
        .transact_write_items()
        .transact_items(put(&snap, &[("pk", s("a")), ("v", n("100"))]))
        .transact_items(put(&snap, &[("pk", s("b")), ("v", n("100"))]))
        .send()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..2 {
        let client = client.clone();
        let snap = snap.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..150 {
                let (from, to) = if (i + w) % 2 == 0 {
                    ("a", "b")
                } else {
                    ("b", "a")
                };
                let amount = n(&((i % 7) + 1).to_string());
                let sent = client
                    .transact_write_items()
                    .transact_items(update(
                        &snap,
                        s(from),
                        "SET v = v - :amt",
                        None,
                        &[(":amt", amount.clone())],
                    ))
                    .transact_items(update(
                        &snap,
                        s(to),
                        "SET v = v + :amt",
                        None,
                        &[(":amt", amount)],
                    ))
                    .send()
                    .await;
                if let Err(e) = sent {
                    panic!("transfer failed: {e:?}");
                }
            }
        }));
    }
    for _ in 0..3 {
        let client = client.clone();
        let snap = snap.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..150 {
                let out = client
                    .transact_get_items()
                    .transact_items(get_of(&snap, s("a")))
                    .transact_items(get_of(&snap, s("b")))
                    .send()
                    .await
                    .unwrap();
                let total: i64 = out
                    .responses()
                    .iter()
                    .map(|r| {
                        r.item().unwrap()["v"]
                            .as_n()
                            .unwrap()
                            .parse::<i64>()
                            .unwrap()
                    })
                    .sum();
                assert_eq!(total, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// A tiny deterministic random generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }
}

/// 10 accounts of 1,000 each; 8 clients make 200 random transfers each, the debit guarded
/// by `balance >= :amt`. Afterwards the total is unchanged and no balance is negative.
async fn bank_transfers_keep_the_total(server: &TestServer) {
    const ACCOUNTS: u64 = 10;
    let client = server.client();
    let bank = unique_name("bank");
    on_demand_table(&client, &bank, &[("pk", S)]).await;
    let mut seed = client.transact_write_items();
    for a in 0..ACCOUNTS {
        seed = seed.transact_items(put(
            &bank,
            &[("pk", s(&format!("acct-{a}"))), ("balance", n("1000"))],
        ));
    }
    seed.send().await.unwrap();

    let mut tasks = Vec::new();
    for c in 0..8u64 {
        let client = client.clone();
        let bank = bank.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (c + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
            let (mut done, mut refused) = (0u32, 0u32);
            for _ in 0..200 {
                let from = rng.next(ACCOUNTS);
                let to = (from + 1 + rng.next(ACCOUNTS - 1)) % ACCOUNTS;
                let amount = n(&(1 + rng.next(400)).to_string());
                let sent = client
                    .transact_write_items()
                    .transact_items(update(
                        &bank,
                        s(&format!("acct-{from}")),
                        "SET balance = balance - :amt",
                        Some("balance >= :amt"),
                        &[(":amt", amount.clone())],
                    ))
                    .transact_items(update(
                        &bank,
                        s(&format!("acct-{to}")),
                        "SET balance = balance + :amt",
                        None,
                        &[(":amt", amount)],
                    ))
                    .send()
                    .await;
                match sent {
                    Ok(_) => done += 1,
                    Err(e) => {
                        assert_eq!(codes(&reasons_of(&e)), ["ConditionalCheckFailed", "None"]);
                        refused += 1;
                    }
                }
            }
            (done, refused)
        }));
    }
    let (mut done, mut refused) = (0, 0);
    for t in tasks {
        let (d, r) = t.await.unwrap();
        done += d;
        refused += r;
    }
    assert_eq!(done + refused, 1600);
    assert!(done > 0);

    let mut total = 0i64;
    for a in 0..ACCOUNTS {
        let item = get_by_pk(&client, &bank, s(&format!("acct-{a}")))
            .await
            .unwrap();
        let balance: i64 = item["balance"].as_n().unwrap().parse().unwrap();
        assert!(balance >= 0, "acct-{a} is overdrawn: {balance}");
        total += balance;
    }
    assert_eq!(total, 10_000);
}

/// Optimistic locking across two items: each writer reads the version, then in one
/// transaction bumps it (if unchanged) and records its write in a log item. Every success is
/// counted exactly once; conflicts are cancelled and retried.
async fn optimistic_locking_never_loses_a_write(server: &TestServer) {
    let client = server.client();
    let lock = unique_name("lock");
    on_demand_table(&client, &lock, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&lock)
        .item("pk", s("doc"))
        .item("version", n("0"))
        .send()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..5 {
        let client = client.clone();
        let lock = lock.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u32;
            while done < 15 {
                let item = get_by_pk(&client, &lock, s("doc")).await.unwrap();
                let version = item["version"].as_n().unwrap().clone();
                let next = version.parse::<u64>().unwrap() + 1;
                let sent = client
                    .transact_write_items()
                    .transact_items(update(
                        &lock,
                        s("doc"),
                        "SET version = :next",
                        Some("version = :read"),
                        &[(":next", n(&next.to_string())), (":read", n(&version))],
                    ))
                    .transact_items(put_if(
                        &lock,
                        &[
                            ("pk", s(&format!("log-{next}"))),
                            ("writer", n(&w.to_string())),
                        ],
                        "attribute_not_exists(pk)",
                        false,
                    ))
                    .send()
                    .await;
                match sent {
                    Ok(_) => done += 1,
                    Err(e) => {
                        // The version moved on; the log entry may exist already too.
                        let reasons = reasons_of(&e);
                        assert_eq!(reasons[0].code(), Some("ConditionalCheckFailed"));
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let item = get_by_pk(&client, &lock, s("doc")).await.unwrap();
    assert_eq!(item["version"], n("75"));
    for v in 1..=75 {
        assert!(
            get_by_pk(&client, &lock, s(&format!("log-{v}")))
                .await
                .is_some(),
            "version {v} has no log entry"
        );
    }
    assert_eq!(get_by_pk(&client, &lock, s("log-76")).await, None);
}
