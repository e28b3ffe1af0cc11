//! Expressions end to end through aws-sdk-dynamodb: conditional writes, update expressions
//! on nested documents, sets and lists, ReturnValues, projections, legacy parameters, and
//! concurrent increments and optimistic locking that must never lose an update.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeValue as Av, AttributeValueUpdate, ComparisonOperator,
    ExpectedAttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use aws_sdk_dynamodb::Client;
use common::schema::{on_demand_table, S};
use common::values::get_by_pk;
use common::{error_of, n, s, unique_name};

on_both_backends!(
    conditional_put_and_delete,
    condition_failure_returns_old_item_when_asked,
    update_expressions_on_documents_sets_and_lists,
    update_return_values,
    update_errors_are_dynamodb_errors,
    projections_on_get_item,
    legacy_parameters,
    concurrent_increments_never_lose_updates,
    optimistic_locking_never_loses_updates,
);

async fn conditional_put_and_delete(client: Client) {
    let cond = unique_name("cond");
    on_demand_table(&client, &cond, &[("pk", S)]).await;
    // attribute_not_exists: create-if-absent, twice.
    for attempt in 0..2 {
        let result = client
            .put_item()
            .table_name(&cond)
            .item("pk", s("a"))
            .item("v", n(&attempt.to_string()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if attempt == 0 {
            result.unwrap();
        } else {
            let err = result.unwrap_err();
            assert_eq!(
                error_of(&err),
                (
                    "ConditionalCheckFailedException".to_string(),
                    "The conditional request failed".to_string()
                )
            );
        }
    }
    assert_eq!(
        get_by_pk(&client, &cond, s("a")).await.unwrap()["v"],
        n("0")
    );

    // A delete guarded by a comparison with placeholders.
    let err = client
        .delete_item()
        .table_name(&cond)
        .key("pk", s("a"))
        .condition_expression("#v > :min")
        .expression_attribute_names("#v", "v")
        .expression_attribute_values(":min", n("5"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ConditionalCheckFailedException");
    assert!(get_by_pk(&client, &cond, s("a")).await.is_some());
    client
        .delete_item()
        .table_name(&cond)
        .key("pk", s("a"))
        .condition_expression("#v BETWEEN :lo AND :hi")
        .expression_attribute_names("#v", "v")
        .expression_attribute_values(":lo", n("-1"))
        .expression_attribute_values(":hi", n("1"))
        .send()
        .await
        .unwrap();
    assert!(get_by_pk(&client, &cond, s("a")).await.is_none());
}

async fn condition_failure_returns_old_item_when_asked(client: Client) {
    let ccf = unique_name("ccf");
    on_demand_table(&client, &ccf, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&ccf)
        .item("pk", s("a"))
        .item("state", s("locked"))
        .send()
        .await
        .unwrap();
    let err = client
        .update_item()
        .table_name(&ccf)
        .key("pk", s("a"))
        .update_expression("SET #s = :open")
        .condition_expression("#s = :open")
        .expression_attribute_names("#s", "state")
        .expression_attribute_values(":open", s("open"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    match service {
        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) => {
            assert_eq!(e.item().unwrap()["state"], s("locked"));
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        get_by_pk(&client, &ccf, s("a")).await.unwrap()["state"],
        s("locked")
    );
}

async fn update_expressions_on_documents_sets_and_lists(client: Client) {
    let docs = unique_name("docs");
    on_demand_table(&client, &docs, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&docs)
        .item("pk", s("p"))
        .item(
            "profile",
            Av::M(HashMap::from([
                ("name".to_string(), s("Ada")),
                ("langs".to_string(), Av::L(vec![s("en"), s("fr")])),
                ("gone".to_string(), Av::Bool(true)),
            ])),
        )
        .item("tags", Av::Ss(vec!["a".into(), "b".into()]))
        .item("count", n("10"))
        .send()
        .await
        .unwrap();

    // Two actions on overlapping paths are refused before anything is written.
    let err = client
        .update_item()
        .table_name(&docs)
        .key("pk", s("p"))
        .update_expression("SET profile.langs[1] = :de, profile.langs = :l")
        .expression_attribute_values(":de", s("de"))
        .expression_attribute_values(":l", Av::L(vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ValidationException");
    assert!(error_of(&err)
        .1
        .starts_with("Invalid UpdateExpression: Two document paths"));

    client
        .update_item()
        .table_name(&docs)
        .key("pk", s("p"))
        .update_expression(
            "SET profile.#n = :name, profile.langs[1] = :de, #c = #c - :two, \
             created = if_not_exists(created, :now) REMOVE profile.gone \
             ADD tags :c, visits :one DELETE other_set :x",
        )
        .expression_attribute_names("#n", "name")
        .expression_attribute_names("#c", "count")
        .expression_attribute_values(":name", s("Grace"))
        .expression_attribute_values(":de", s("de"))
        .expression_attribute_values(":two", n("2"))
        .expression_attribute_values(":now", n("1700000000"))
        .expression_attribute_values(":c", Av::Ss(vec!["c".into()]))
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":x", Av::Ss(vec!["x".into()]))
        .send()
        .await
        .unwrap();
    client
        .update_item()
        .table_name(&docs)
        .key("pk", s("p"))
        .update_expression(
            "SET profile.langs = list_append(profile.langs, :more), created = \
             if_not_exists(created, :later) DELETE tags :a",
        )
        .expression_attribute_values(":more", Av::L(vec![s("es")]))
        .expression_attribute_values(":later", n("1"))
        .expression_attribute_values(":a", Av::Ss(vec!["a".into()]))
        .send()
        .await
        .unwrap();

    let item = get_by_pk(&client, &docs, s("p")).await.unwrap();
    let profile = item["profile"].as_m().unwrap();
    assert_eq!(profile["name"], s("Grace"));
    assert_eq!(profile["langs"], Av::L(vec![s("en"), s("de"), s("es")]));
    assert!(!profile.contains_key("gone"));
    assert_eq!(item["count"], n("8"));
    assert_eq!(item["visits"], n("1"));
    assert_eq!(item["created"], n("1700000000"));
    let mut tags = item["tags"].as_ss().unwrap().clone();
    tags.sort();
    assert_eq!(tags, ["b", "c"]);
    assert!(!item.contains_key("other_set"));
}

async fn update_return_values(client: Client) {
    let retv = unique_name("retv");
    on_demand_table(&client, &retv, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&retv)
        .item("pk", s("k"))
        .item("a", n("1"))
        .item("b", s("keep"))
        .send()
        .await
        .unwrap();
    let update = |rv: ReturnValue| {
        client
            .update_item()
            .table_name(&retv)
            .key("pk", s("k"))
            .update_expression("SET a = a + :one")
            .expression_attribute_values(":one", n("1"))
            .return_values(rv)
            .send()
    };
    let out = update(ReturnValue::UpdatedOld).await.unwrap();
    assert_eq!(
        out.attributes().unwrap(),
        &HashMap::from([("a".to_string(), n("1"))])
    );
    let out = update(ReturnValue::UpdatedNew).await.unwrap();
    assert_eq!(
        out.attributes().unwrap(),
        &HashMap::from([("a".to_string(), n("3"))])
    );
    let out = update(ReturnValue::AllOld).await.unwrap();
    assert_eq!(out.attributes().unwrap()["a"], n("3"));
    assert_eq!(out.attributes().unwrap()["b"], s("keep"));
    let out = update(ReturnValue::AllNew).await.unwrap();
    assert_eq!(out.attributes().unwrap()["a"], n("5"));
    assert_eq!(out.attributes().unwrap().len(), 3);
    let out = update(ReturnValue::None).await.unwrap();
    assert!(out.attributes().is_none());
    // An upsert creates the item from the key and the update.
    let out = client
        .update_item()
        .table_name(&retv)
        .key("pk", s("new"))
        .update_expression("SET a = :v")
        .expression_attribute_values(":v", s("x"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.attributes().unwrap(),
        &HashMap::from([("pk".to_string(), s("new")), ("a".to_string(), s("x"))])
    );
}

async fn update_errors_are_dynamodb_errors(client: Client) {
    let uerr = unique_name("uerr");
    on_demand_table(&client, &uerr, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&uerr)
        .item("pk", s("k"))
        .item("greeting", s("hello"))
        .send()
        .await
        .unwrap();
    // (update expression, expression attribute values, DynamoDB's message)
    type Case<'a> = (&'a str, Vec<(&'a str, Av)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "SET pk = :v",
            vec![(":v", s("x"))],
            "One or more parameter values were invalid: Cannot update attribute pk. This \
             attribute is part of the key",
        ),
        (
            "SET greeting = greeting + :v",
            vec![(":v", n("1"))],
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET no_such_attr = no_such_attr + :v",
            vec![(":v", n("1"))],
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET nothere.child = :v",
            vec![(":v", n("1"))],
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET a = :v",
            vec![(":v", n("1")), (":unused", n("2"))],
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
        ),
        (
            "SET a = :undefined",
            vec![(":v", n("1"))],
            "Invalid UpdateExpression: An expression attribute value used in expression is \
             not defined; attribute value: :undefined",
        ),
    ];
    for (expression, values, expected) in cases {
        let mut req = client
            .update_item()
            .table_name(&uerr)
            .key("pk", s("k"))
            .update_expression(expression);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        let err = req.send().await.unwrap_err();
        assert_eq!(
            error_of(&err),
            ("ValidationException".to_string(), expected.to_string()),
            "{expression}"
        );
    }
    // A syntax error names the offending token.
    let err = client
        .update_item()
        .table_name(&uerr)
        .key("pk", s("k"))
        .update_expression("SET a = ")
        .send()
        .await
        .unwrap_err();
    assert!(error_of(&err)
        .1
        .starts_with("Invalid UpdateExpression: Syntax error; token: "));
    // A reserved word as a bare name.
    let err = client
        .update_item()
        .table_name(&uerr)
        .key("pk", s("k"))
        .update_expression("SET status = :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    // Nothing changed.
    assert_eq!(
        get_by_pk(&client, &uerr, s("k")).await.unwrap(),
        HashMap::from([
            ("pk".to_string(), s("k")),
            ("greeting".to_string(), s("hello"))
        ])
    );
}

async fn projections_on_get_item(client: Client) {
    let proj = unique_name("proj");
    on_demand_table(&client, &proj, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&proj)
        .item("pk", s("k"))
        .item(
            "doc",
            Av::M(HashMap::from([
                ("a".to_string(), n("1")),
                ("b".to_string(), Av::L(vec![s("x"), s("y"), s("z")])),
            ])),
        )
        .item("other", s("o"))
        .send()
        .await
        .unwrap();
    let got = client
        .get_item()
        .table_name(&proj)
        .key("pk", s("k"))
        .projection_expression("doc.b[1], #o, no_such_attr")
        .expression_attribute_names("#o", "other")
        .send()
        .await
        .unwrap();
    let item = got.item().unwrap();
    assert_eq!(item.len(), 2);
    assert_eq!(
        item["doc"],
        Av::M(HashMap::from([("b".to_string(), Av::L(vec![s("y")]))]))
    );
    assert_eq!(item["other"], s("o"));
    let got = client
        .get_item()
        .table_name(&proj)
        .key("pk", s("k"))
        .attributes_to_get("other")
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().unwrap().len(), 1);
}

async fn legacy_parameters(client: Client) {
    let legacy = unique_name("legacy");
    on_demand_table(&client, &legacy, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&legacy)
        .item("pk", s("k"))
        .item("n", n("1"))
        .expected(
            "pk",
            ExpectedAttributeValue::builder().exists(false).build(),
        )
        .send()
        .await
        .unwrap();
    let err = client
        .put_item()
        .table_name(&legacy)
        .item("pk", s("k"))
        .expected(
            "pk",
            ExpectedAttributeValue::builder().exists(false).build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ConditionalCheckFailedException");
    client
        .update_item()
        .table_name(&legacy)
        .key("pk", s("k"))
        .attribute_updates(
            "n",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Add)
                .value(n("41"))
                .build(),
        )
        .expected(
            "n",
            ExpectedAttributeValue::builder()
                .comparison_operator(ComparisonOperator::Eq)
                .attribute_value_list(n("1"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        get_by_pk(&client, &legacy, s("k")).await.unwrap()["n"],
        n("42")
    );
    let err = client
        .update_item()
        .table_name(&legacy)
        .key("pk", s("k"))
        .update_expression("SET n = :v")
        .expression_attribute_values(":v", n("1"))
        .expected(
            "n",
            ExpectedAttributeValue::builder()
                .exists(true)
                .value(n("42"))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ValidationException");
    assert!(error_of(&err)
        .1
        .starts_with("Can not use both expression and non-expression parameters"));
}

/// Many clients increment one counter at once; the final value is the number of successes.
async fn concurrent_increments_never_lose_updates(client: Client) {
    let counter = unique_name("counter");
    on_demand_table(&client, &counter, &[("pk", S)]).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0u32;
            for _ in 0..50 {
                let sent = client
                    .update_item()
                    .table_name(&counter)
                    .key("pk", s("c"))
                    .update_expression("SET n = if_not_exists(n, :zero) + :one")
                    .expression_attribute_values(":zero", n("0"))
                    .expression_attribute_values(":one", n("1"))
                    .send()
                    .await;
                if sent.is_ok() {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut successes = 0;
    for t in tasks {
        successes += t.await.unwrap();
    }
    assert_eq!(successes, 400);
    assert_eq!(
        get_by_pk(&client, &counter, s("c")).await.unwrap()["n"],
        n("400")
    );
}

/// Optimistic locking: read the version, write with `version = :read`; conflicting writers
/// fail the condition and retry. Every successful write bumps the version exactly once.
async fn optimistic_locking_never_loses_updates(client: Client) {
    let locking = unique_name("locking");
    on_demand_table(&client, &locking, &[("pk", S)]).await;
    client
        .put_item()
        .table_name(&locking)
        .item("pk", s("doc"))
        .item("version", n("0"))
        .item("total", n("0"))
        .send()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let client = client.clone();
        let locking = locking.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u32;
            let mut conflicts = 0u32;
            while done < 20 {
                let item = get_by_pk(&client, &locking, s("doc")).await.unwrap();
                let version = item["version"].as_n().unwrap().clone();
                let next: u64 = version.parse::<u64>().unwrap() + 1;
                let sent = client
                    .update_item()
                    .table_name(&locking)
                    .key("pk", s("doc"))
                    .update_expression("SET #ver = :next, #tot = #tot + :one")
                    .condition_expression("#ver = :read")
                    .expression_attribute_names("#ver", "version")
                    .expression_attribute_names("#tot", "total")
                    .expression_attribute_values(":next", n(&next.to_string()))
                    .expression_attribute_values(":read", n(&version))
                    .expression_attribute_values(":one", n("1"))
                    .send()
                    .await;
                match sent {
                    Ok(_) => done += 1,
                    Err(e) => {
                        assert_eq!(error_of(&e).0, "ConditionalCheckFailedException");
                        conflicts += 1;
                    }
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let item = get_by_pk(&client, &locking, s("doc")).await.unwrap();
    assert_eq!(item["version"], n("120"));
    assert_eq!(item["total"], n("120"));
}
