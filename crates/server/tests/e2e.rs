//! End-to-end tests: the real `stator` binary driven by the official Rust SDK, on both
//! storage backends.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue as Av, BillingMode, GlobalSecondaryIndex, KeyType, LocalSecondaryIndex,
    Projection, ProjectionType, ReturnConsumedCapacity, ReturnItemCollectionMetrics, ReturnValue,
    SseSpecification, SseType, StreamSpecification, StreamViewType, TableClass, Tag,
};
use aws_sdk_dynamodb::Client;
use common::schema::{attr, key, on_demand_table, throughput, N, S};
use common::{error_of, n, s, unique_name};

on_both_backends!(
    table_lifecycle,
    list_tables_pages,
    item_round_trip_all_types,
    put_and_delete_return_old_values,
    update_item_without_expressions_creates_key_only_item,
    consumed_capacity_follows_dynamodb_rounding,
    key_and_item_validation_errors,
    missing_tables_and_duplicates,
    update_table_settings_and_deletion_protection,
    tags_round_trip,
    unsupported_operations_fail_loudly,
    indexes_streams_and_table_settings_are_stored_and_reported,
    index_definition_errors,
    index_writes_report_capacity_and_collection_metrics,
);

async fn table_lifecycle(client: Client) {
    let music = unique_name("Music");
    let created = client
        .create_table()
        .table_name(&music)
        .attribute_definitions(attr("Artist", S))
        .attribute_definitions(attr("SongTitle", S))
        .key_schema(key("Artist", KeyType::Hash))
        .key_schema(key("SongTitle", KeyType::Range))
        .provisioned_throughput(throughput(5, 7))
        .send()
        .await
        .unwrap();
    let desc = created.table_description().unwrap();
    assert_eq!(desc.table_name(), Some(music.as_str()));
    assert_eq!(desc.table_status().unwrap().as_str(), "CREATING");
    let arn = desc.table_arn().unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:dynamodb:us-east-1:000000000000:table/{music}")
    );

    client
        .put_item()
        .table_name(&music)
        .item("Artist", s("No One You Know"))
        .item("SongTitle", s("Call Me Today"))
        .item("Year", n("2015"))
        .send()
        .await
        .unwrap();

    let described = client
        .describe_table()
        .table_name(&music)
        .send()
        .await
        .unwrap();
    let t = described.table().unwrap();
    assert_eq!(t.table_status().unwrap().as_str(), "ACTIVE");
    assert_eq!(t.item_count(), Some(1));
    assert!(t.table_size_bytes().unwrap() > 20);
    assert_eq!(t.key_schema().len(), 2);
    assert_eq!(t.key_schema()[0].key_type().as_str(), "HASH");
    assert_eq!(t.attribute_definitions().len(), 2);
    let pt = t.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(5), Some(7))
    );
    assert_eq!(
        t.billing_mode_summary()
            .unwrap()
            .billing_mode()
            .unwrap()
            .as_str(),
        "PROVISIONED"
    );
    assert!(t.creation_date_time().is_some());
    assert_eq!(t.table_id().unwrap().len(), 36);

    // The table is usable by ARN too.
    let got = client
        .get_item()
        .table_name(arn)
        .key("Artist", s("No One You Know"))
        .key("SongTitle", s("Call Me Today"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().unwrap()["Year"], n("2015"));

    let deleted = client
        .delete_table()
        .table_name(&music)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted
            .table_description()
            .unwrap()
            .table_status()
            .unwrap()
            .as_str(),
        "DELETING"
    );
    let err = client
        .describe_table()
        .table_name(&music)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        (
            "ResourceNotFoundException".to_string(),
            format!("Requested resource not found: Table: {music} not found")
        )
    );
    // The name is free again and the new table is empty.
    on_demand_table(&client, &music, &[("pk", S)]).await;
    let t = client
        .describe_table()
        .table_name(&music)
        .send()
        .await
        .unwrap();
    assert_eq!(t.table().unwrap().item_count(), Some(0));
}

/// ListTables in name order, paged by Limit and ExclusiveStartTableName. The five tables
/// share a unique prefix. On the test's own server they are the only tables: the listing
/// starts at the beginning and ends after them. On a shared endpoint other tables sort
/// before and after them: the listing starts at the prefix (just before the first of them),
/// and only the end of the whole listing is known.
async fn list_tables_pages(client: Client) {
    let prefix = format!("{}-", unique_name("tbl"));
    let name = |letter: &str| format!("{prefix}{letter}");
    for letter in ["c", "a", "e", "b", "d"] {
        on_demand_table(&client, &name(letter), &[("pk", S)]).await;
    }
    let own_server = !common::endpoint_mode();
    let start = (!own_server).then(|| prefix.clone());
    let page = client
        .list_tables()
        .set_exclusive_start_table_name(start.clone())
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.table_names(), [name("a"), name("b")]);
    assert_eq!(page.last_evaluated_table_name(), Some(name("b").as_str()));
    let page = client
        .list_tables()
        .exclusive_start_table_name(name("b"))
        .limit(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.table_names(), [name("c"), name("d"), name("e")]);
    if own_server {
        assert_eq!(page.last_evaluated_table_name(), None);
    } else {
        // More tables may follow: then the full page names its last table.
        let last = page.last_evaluated_table_name();
        assert!(
            last.is_none() || last == Some(name("e").as_str()),
            "{last:?}"
        );
    }
    // Past the greatest possible name the listing is over on any server.
    let end = client
        .list_tables()
        .exclusive_start_table_name("z".repeat(255))
        .send()
        .await
        .unwrap();
    assert!(end.table_names().is_empty());
    assert_eq!(end.last_evaluated_table_name(), None);

    // The SDK's paginator follows LastEvaluatedTableName one name at a time (on a shared
    // endpoint, until it leaves the prefix).
    let mut names = client
        .list_tables()
        .set_exclusive_start_table_name(start)
        .limit(1)
        .into_paginator()
        .items()
        .send();
    let mut all = Vec::new();
    while let Some(listed) = names.next().await {
        let listed = listed.unwrap();
        if !own_server && !listed.starts_with(&prefix) {
            break;
        }
        all.push(listed);
    }
    assert_eq!(all, ["a", "b", "c", "d", "e"].map(name));
    let err = client.list_tables().limit(101).send().await.unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: \
         Member must have value less than or equal to 100"
    );
}

async fn item_round_trip_all_types(client: Client) {
    let types = unique_name("types");
    on_demand_table(&client, &types, &[("pk", S), ("sk", N)]).await;
    let nested = Av::M(HashMap::from([
        (
            "list".to_string(),
            Av::L(vec![s("a"), n("1"), Av::Bool(false), Av::Null(true)]),
        ),
        (
            "deep".to_string(),
            Av::M(HashMap::from([("x".to_string(), s(""))])),
        ),
    ]));
    let item = HashMap::from([
        ("pk".to_string(), s("p1")),
        ("sk".to_string(), n("-12.50")),
        ("str".to_string(), s("héllo")),
        ("empty".to_string(), s("")),
        ("num".to_string(), n("1.0e3")),
        (
            "big".to_string(),
            n("9.9999999999999999999999999999999999999E+125"),
        ),
        ("tiny".to_string(), n("-1E-130")),
        ("bin".to_string(), Av::B(Blob::new(vec![0u8, 1, 2, 255]))),
        ("bool".to_string(), Av::Bool(true)),
        ("null".to_string(), Av::Null(true)),
        ("ss".to_string(), Av::Ss(vec!["x".into(), "y".into()])),
        ("ns".to_string(), Av::Ns(vec!["1".into(), "2.5".into()])),
        (
            "bs".to_string(),
            Av::Bs(vec![Blob::new(vec![1u8]), Blob::new(vec![2u8])]),
        ),
        ("doc".to_string(), nested.clone()),
    ]);
    client
        .put_item()
        .table_name(&types)
        .set_item(Some(item.clone()))
        .send()
        .await
        .unwrap();
    let got = client
        .get_item()
        .table_name(&types)
        .key("pk", s("p1"))
        .key("sk", n("-12.5"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let got = got.item().unwrap();
    assert_eq!(got.len(), item.len());
    // Numbers come back normalised.
    assert_eq!(got["sk"], n("-12.5"));
    assert_eq!(got["num"], n("1000"));
    assert_eq!(
        got["big"],
        n(&format!(
            "99999999999999999999999999999999999999{}",
            "0".repeat(88)
        ))
    );
    assert_eq!(got["tiny"], n(&format!("-0.{}1", "0".repeat(129))));
    for name in ["str", "empty", "bin", "bool", "null", "doc"] {
        assert_eq!(got[name], item[name], "attribute {name}");
    }
    let mut ss = got["ss"].as_ss().unwrap().clone();
    ss.sort();
    assert_eq!(ss, ["x", "y"]);
    let mut ns = got["ns"].as_ns().unwrap().clone();
    ns.sort();
    assert_eq!(ns, ["1", "2.5"]);
    assert_eq!(got["bs"].as_bs().unwrap().len(), 2);

    // A missing item is an empty answer, not an error.
    let none = client
        .get_item()
        .table_name(&types)
        .key("pk", s("nope"))
        .key("sk", n("1"))
        .send()
        .await
        .unwrap();
    assert!(none.item().is_none());
}

async fn put_and_delete_return_old_values(client: Client) {
    let retvals = unique_name("retvals");
    on_demand_table(&client, &retvals, &[("pk", S)]).await;
    let first = client
        .put_item()
        .table_name(&retvals)
        .item("pk", s("k"))
        .item("v", n("1"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(first.attributes().is_none());
    let second = client
        .put_item()
        .table_name(&retvals)
        .item("pk", s("k"))
        .item("v", n("2"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(second.attributes().unwrap()["v"], n("1"));
    let err = client
        .put_item()
        .table_name(&retvals)
        .item("pk", s("k"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        (
            "ValidationException".to_string(),
            "ReturnValues can only be ALL_OLD or NONE".to_string()
        )
    );
    let deleted = client
        .delete_item()
        .table_name(&retvals)
        .key("pk", s("k"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.attributes().unwrap()["v"], n("2"));
    let again = client
        .delete_item()
        .table_name(&retvals)
        .key("pk", s("k"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(again.attributes().is_none());
    let t = client
        .describe_table()
        .table_name(&retvals)
        .send()
        .await
        .unwrap();
    assert_eq!(t.table().unwrap().item_count(), Some(0));
    assert_eq!(t.table().unwrap().table_size_bytes(), Some(0));
}

async fn update_item_without_expressions_creates_key_only_item(client: Client) {
    let upd = unique_name("upd");
    on_demand_table(&client, &upd, &[("pk", S), ("sk", N)]).await;
    let out = client
        .update_item()
        .table_name(&upd)
        .key("pk", s("a"))
        .key("sk", n("1"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let attrs = out.attributes().unwrap();
    assert_eq!(attrs.len(), 2);
    assert_eq!(attrs["pk"], s("a"));
    let got = client
        .get_item()
        .table_name(&upd)
        .key("pk", s("a"))
        .key("sk", n("1"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().unwrap().len(), 2);
    // An existing item is left as it is.
    client
        .put_item()
        .table_name(&upd)
        .item("pk", s("b"))
        .item("sk", n("1"))
        .item("x", s("keep"))
        .send()
        .await
        .unwrap();
    let out = client
        .update_item()
        .table_name(&upd)
        .key("pk", s("b"))
        .key("sk", n("1"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(out.attributes().unwrap()["x"], s("keep"));
}

async fn consumed_capacity_follows_dynamodb_rounding(client: Client) {
    let cap = unique_name("cap");
    on_demand_table(&client, &cap, &[("pk", S)]).await;
    let put = client
        .put_item()
        .table_name(&cap)
        .item("pk", s("small"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let cc = put.consumed_capacity().unwrap();
    assert_eq!(cc.table_name(), Some(cap.as_str()));
    assert_eq!(cc.capacity_units(), Some(1.0));

    // ~1.5 KB item: 2 WCU.
    let put = client
        .put_item()
        .table_name(&cap)
        .item("pk", s("mid"))
        .item("data", s(&"x".repeat(1500)))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let cc = put.consumed_capacity().unwrap();
    assert_eq!(cc.capacity_units(), Some(2.0));
    assert_eq!(cc.table().unwrap().capacity_units(), Some(2.0));

    // ~10 KB item: 3 RCU strongly consistent, 1.5 eventually consistent.
    client
        .put_item()
        .table_name(&cap)
        .item("pk", s("big"))
        .item("data", s(&"x".repeat(10_000)))
        .send()
        .await
        .unwrap();
    for (consistent, expected) in [(true, 3.0), (false, 1.5)] {
        let got = client
            .get_item()
            .table_name(&cap)
            .key("pk", s("big"))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.consumed_capacity().unwrap().capacity_units(),
            Some(expected)
        );
    }
    // A miss still costs the minimum.
    let got = client
        .get_item()
        .table_name(&cap)
        .key("pk", s("absent"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(got.consumed_capacity().unwrap().capacity_units(), Some(0.5));
    // Overwriting the 10 KB item with a small one is charged on the larger size.
    let put = client
        .put_item()
        .table_name(&cap)
        .item("pk", s("big"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.consumed_capacity().unwrap().capacity_units(),
        Some(10.0)
    );
    // Without the parameter, nothing is reported.
    let put = client
        .put_item()
        .table_name(&cap)
        .item("pk", s("quiet"))
        .send()
        .await
        .unwrap();
    assert!(put.consumed_capacity().is_none());
}

async fn key_and_item_validation_errors(client: Client) {
    let val = unique_name("val");
    on_demand_table(&client, &val, &[("pk", S), ("sk", N)]).await;
    let cases: Vec<(HashMap<String, Av>, &str)> = vec![
        (
            HashMap::from([("sk".to_string(), n("1"))]),
            "One or more parameter values were invalid: Missing the key pk in the item",
        ),
        (
            HashMap::from([("pk".to_string(), n("1")), ("sk".to_string(), n("1"))]),
            "One or more parameter values were invalid: Type mismatch for key pk expected: S \
             actual: N",
        ),
        (
            HashMap::from([("pk".to_string(), s("")), ("sk".to_string(), n("1"))]),
            "One or more parameter values are not valid. The AttributeValue for a key \
             attribute cannot contain an empty string value. Key: pk",
        ),
        (
            HashMap::from([
                ("pk".to_string(), s(&"k".repeat(2049))),
                ("sk".to_string(), n("1")),
            ]),
            "One or more parameter values were invalid: Size of hashkey has exceeded the \
             maximum size limit of2048 bytes",
        ),
        (
            HashMap::from([
                ("pk".to_string(), s("a")),
                ("sk".to_string(), n("1")),
                ("big".to_string(), s(&"x".repeat(400 * 1024))),
            ]),
            "Item size has exceeded the maximum allowed size",
        ),
        (
            HashMap::from([
                ("pk".to_string(), s("a")),
                ("sk".to_string(), n("1")),
                ("set".to_string(), Av::Ss(vec![])),
            ]),
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            HashMap::from([
                ("pk".to_string(), s("a")),
                ("sk".to_string(), n("1")),
                ("bad".to_string(), n("1e126")),
            ]),
            "Number overflow. Attempting to store a number with magnitude larger than \
             supported range",
        ),
    ];
    for (item, expected) in cases {
        let err = client
            .put_item()
            .table_name(&val)
            .set_item(Some(item.clone()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_of(&err),
            ("ValidationException".to_string(), expected.to_string()),
            "item {item:?}"
        );
    }
    // Nothing was stored by any of the failed writes.
    let t = client
        .describe_table()
        .table_name(&val)
        .send()
        .await
        .unwrap();
    assert_eq!(t.table().unwrap().item_count(), Some(0));

    for key in [
        HashMap::from([("pk".to_string(), s("a"))]),
        HashMap::from([("pk".to_string(), s("a")), ("sk".to_string(), s("1"))]),
        HashMap::from([
            ("pk".to_string(), s("a")),
            ("sk".to_string(), n("1")),
            ("extra".to_string(), n("1")),
        ]),
    ] {
        let err = client
            .get_item()
            .table_name(&val)
            .set_key(Some(key))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_of(&err),
            (
                "ValidationException".to_string(),
                "The provided key element does not match the schema".to_string()
            )
        );
    }
}

async fn missing_tables_and_duplicates(client: Client) {
    let nope = unique_name("nope");
    let dup = unique_name("dup");
    let nodefs = unique_name("nodefs");
    let nothroughput = unique_name("nothroughput");
    let err = client
        .get_item()
        .table_name(&nope)
        .key("pk", s("a"))
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
    on_demand_table(&client, &dup, &[("pk", S)]).await;
    let err = client
        .create_table()
        .table_name(&dup)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        (
            "ResourceInUseException".to_string(),
            format!("Table already exists: {dup}")
        )
    );
    let err = client
        .create_table()
        .table_name("x!")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "2 validation errors detected: Value 'x!' at 'tableName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value \
         'x!' at 'tableName' failed to satisfy constraint: Member must have length greater \
         than or equal to 3"
    );
    let err = client
        .create_table()
        .table_name(&nodefs)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("other", S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "Invalid KeySchema: Some index key attribute have no definition"
    );
    let err = client
        .create_table()
        .table_name(&nothroughput)
        .attribute_definitions(attr("pk", S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits \
         must both be specified when BillingMode is PROVISIONED"
    );
}

async fn update_table_settings_and_deletion_protection(client: Client) {
    let settings = unique_name("settings");
    client
        .create_table()
        .table_name(&settings)
        .attribute_definitions(attr("pk", S))
        .key_schema(key("pk", KeyType::Hash))
        .provisioned_throughput(throughput(1, 1))
        .deletion_protection_enabled(true)
        .send()
        .await
        .unwrap();
    let err = client
        .delete_table()
        .table_name(&settings)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ValidationException");
    assert!(error_of(&err).1.contains("protected against deletion"));

    let out = client
        .update_table()
        .table_name(&settings)
        .provisioned_throughput(throughput(10, 5))
        .send()
        .await
        .unwrap();
    let pt = out
        .table_description()
        .unwrap()
        .provisioned_throughput()
        .unwrap();
    assert_eq!(pt.read_capacity_units(), Some(10));
    assert!(pt.last_increase_date_time().is_some());

    client
        .update_table()
        .table_name(&settings)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let d = client
        .describe_table()
        .table_name(&settings)
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    assert_eq!(
        t.billing_mode_summary()
            .unwrap()
            .billing_mode()
            .unwrap()
            .as_str(),
        "PAY_PER_REQUEST"
    );
    assert_eq!(
        t.provisioned_throughput().unwrap().read_capacity_units(),
        Some(0)
    );

    let err = client
        .update_table()
        .table_name(&settings)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ValidationException");

    client
        .update_table()
        .table_name(&settings)
        .deletion_protection_enabled(false)
        .send()
        .await
        .unwrap();
    client
        .delete_table()
        .table_name(&settings)
        .send()
        .await
        .unwrap();
}

async fn tags_round_trip(client: Client) {
    let tagged = unique_name("tagged");
    on_demand_table(&client, &tagged, &[("pk", S)]).await;
    let arn = client
        .describe_table()
        .table_name(&tagged)
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .table_arn()
        .unwrap()
        .to_string();
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("env", "test"))
        .tags(tag("team", "db"))
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = client
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("env", "test")]);
    let err = client
        .list_tags_of_resource()
        .resource_arn(format!(
            "arn:aws:dynamodb:us-east-1:000000000000:table/{}",
            unique_name("absent")
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ResourceNotFoundException");
}

async fn unsupported_operations_fail_loudly(client: Client) {
    let later = unique_name("later");
    on_demand_table(&client, &later, &[("pk", S)]).await;
    let err = client
        .create_backup()
        .table_name(&later)
        .backup_name("nightly")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        (
            "UnknownOperationException".to_string(),
            "Stator does not support the CreateBackup operation yet".to_string()
        )
    );
}

fn gsi(name: &str, pk: &str, sk: Option<&str>, projection: Projection) -> GlobalSecondaryIndex {
    let mut b = GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .projection(projection);
    if let Some(sk) = sk {
        b = b.key_schema(key(sk, KeyType::Range));
    }
    b.build().unwrap()
}

fn lsi(name: &str, pk: &str, sk: &str) -> LocalSecondaryIndex {
    LocalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .key_schema(key(sk, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .unwrap()
}

async fn indexes_streams_and_table_settings_are_stored_and_reported(client: Client) {
    let catalog = unique_name("catalog");
    client
        .create_table()
        .table_name(&catalog)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("sk", S))
        .attribute_definitions(attr("category", S))
        .attribute_definitions(attr("price", N))
        .attribute_definitions(attr("created", S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(gsi(
            "by-category-price",
            "category",
            Some("price"),
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .non_key_attributes("name")
                .build(),
        ))
        .local_secondary_indexes(lsi("by-created", "pk", "created"))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .sse_specification(
            SseSpecification::builder()
                .enabled(true)
                .sse_type(SseType::Kms)
                .build(),
        )
        .table_class(TableClass::StandardInfrequentAccess)
        .tags(Tag::builder().key("app").value("shop").build().unwrap())
        .send()
        .await
        .unwrap();
    let d = client
        .describe_table()
        .table_name(&catalog)
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    let g = &t.global_secondary_indexes()[0];
    assert_eq!(g.index_name(), Some("by-category-price"));
    assert_eq!(g.index_status().unwrap().as_str(), "ACTIVE");
    assert_eq!(g.key_schema()[1].attribute_name(), "price");
    let p = g.projection().unwrap();
    assert_eq!(p.projection_type().unwrap().as_str(), "INCLUDE");
    assert_eq!(p.non_key_attributes(), ["name"]);
    assert!(g
        .index_arn()
        .unwrap()
        .ends_with(&format!("table/{catalog}/index/by-category-price")));
    let l = &t.local_secondary_indexes()[0];
    assert_eq!(l.index_name(), Some("by-created"));
    assert_eq!(l.key_schema()[1].attribute_name(), "created");
    let stream = t.stream_specification().unwrap();
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type().unwrap().as_str(),
        "NEW_AND_OLD_IMAGES"
    );
    assert!(t
        .latest_stream_arn()
        .unwrap()
        .contains(&format!("table/{catalog}/stream/")));
    assert_eq!(
        t.sse_description().unwrap().sse_type().unwrap().as_str(),
        "KMS"
    );
    assert_eq!(
        t.table_class_summary()
            .unwrap()
            .table_class()
            .unwrap()
            .as_str(),
        "STANDARD_INFREQUENT_ACCESS"
    );
    assert_eq!(t.deletion_protection_enabled(), Some(false));

    // Index key attributes of the wrong type are rejected when written.
    let err = client
        .put_item()
        .table_name(&catalog)
        .item("pk", s("p"))
        .item("sk", s("s"))
        .item("price", s("cheap"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Type mismatch for Index Key price \
         Expected: N Actual: S IndexName: by-category-price"
    );
    // Items without index keys are fine (sparse indexes).
    client
        .put_item()
        .table_name(&catalog)
        .item("pk", s("p"))
        .item("sk", s("s"))
        .send()
        .await
        .unwrap();

    // Streams can be switched off and on again, but not enabled twice.
    let err = client
        .update_table()
        .table_name(&catalog)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::KeysOnly)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ValidationException");
    client
        .update_table()
        .table_name(&catalog)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(false)
                .build()
                .unwrap(),
        )
        .table_class(TableClass::Standard)
        .send()
        .await
        .unwrap();
    let d = client
        .describe_table()
        .table_name(&catalog)
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    assert!(t.stream_specification().is_none());
    assert_eq!(
        t.table_class_summary()
            .unwrap()
            .table_class()
            .unwrap()
            .as_str(),
        "STANDARD"
    );
}

async fn index_definition_errors(client: Client) {
    let bad = unique_name("bad-indexes");
    // Each case: a CreateTable request and DynamoDB's message.
    let base = || {
        client
            .create_table()
            .table_name(&bad)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk", S))
    };
    let err = base()
        .attribute_definitions(attr("x", S))
        .key_schema(key("pk", KeyType::Hash))
        .local_secondary_indexes(lsi("lsi-one", "pk", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Table KeySchema does not have a range \
         key, which is required when specifying a LocalSecondaryIndex"
    );

    let mut too_many = base()
        .attribute_definitions(attr("sk", S))
        .attribute_definitions(attr("x", S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range));
    for i in 0..6 {
        too_many = too_many.local_secondary_indexes(lsi(&format!("lsi{i}"), "pk", "x"));
    }
    let err = too_many.send().await.unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds \
         per-table limit of 5"
    );

    let keys_only = || {
        Projection::builder()
            .projection_type(ProjectionType::KeysOnly)
            .build()
    };
    let mut too_many = base()
        .attribute_definitions(attr("x", S))
        .key_schema(key("pk", KeyType::Hash));
    for i in 0..21 {
        too_many =
            too_many.global_secondary_indexes(gsi(&format!("gsi{i}"), "x", None, keys_only()));
    }
    let err = too_many.send().await.unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the \
         per-table limit of 20"
    );

    let err = base()
        .attribute_definitions(attr("x", S))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(gsi("same", "x", None, keys_only()))
        .global_secondary_indexes(gsi("same", "pk", None, keys_only()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Duplicate index name: same"
    );

    let err = base()
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(gsi("gsi-g", "undefined", None, keys_only()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Some index key attributes are not \
         defined in AttributeDefinitions. Keys: [undefined], AttributeDefinitions: [pk]"
    );

    let err = base()
        .attribute_definitions(attr("x", S))
        .attribute_definitions(attr("unused", S))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(gsi("gsi-x", "x", None, keys_only()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Some AttributeDefinitions are not used. \
         AttributeDefinitions: [pk, x, unused], keys used: [pk, x]"
    );

    let err = base()
        .attribute_definitions(attr("unused", S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: Number of attributes in KeySchema does \
         not exactly match number of attributes defined in AttributeDefinitions"
    );

    let err = client
        .create_table()
        .table_name(&bad)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("x", S))
        .key_schema(key("pk", KeyType::Hash))
        .provisioned_throughput(throughput(1, 1))
        .global_secondary_indexes(gsi("gsi-g", "x", None, keys_only()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "One or more parameter values were invalid: ProvisionedThroughput is not specified \
         for index: gsi-g"
    );

    let err = base()
        .key_schema(key("pk", KeyType::Range))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err).1,
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    );
    // None of the failed requests created the table.
    let err = client
        .describe_table()
        .table_name(&bad)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).0, "ResourceNotFoundException");
}

async fn index_writes_report_capacity_and_collection_metrics(client: Client) {
    let metrics_table = unique_name("metrics");
    let nolsi = unique_name("nolsi");
    client
        .create_table()
        .table_name(&metrics_table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S))
        .attribute_definitions(attr("sk", S))
        .attribute_definitions(attr("x", S))
        .attribute_definitions(attr("g", S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .local_secondary_indexes(lsi("by-x", "pk", "x"))
        .global_secondary_indexes(gsi(
            "by-g",
            "g",
            None,
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        ))
        .send()
        .await
        .unwrap();
    let out = client
        .put_item()
        .table_name(&metrics_table)
        .item("pk", s("p"))
        .item("sk", s("1"))
        .item("x", s("a"))
        .item("g", s("G"))
        .item("data", s(&"z".repeat(1500)))
        .return_item_collection_metrics(ReturnItemCollectionMetrics::Size)
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let metrics = out.item_collection_metrics().unwrap();
    assert_eq!(metrics.item_collection_key().unwrap()["pk"], s("p"));
    assert_eq!(metrics.size_estimate_range_gb(), [0.0, 1.0]);
    // ~1.5 KB item: 2 WCU for the table and for the ALL-projected GSI entry, 1 WCU for the
    // small KEYS_ONLY LSI entry; the total adds them up.
    let cc = out.consumed_capacity().unwrap();
    assert_eq!(cc.table().unwrap().capacity_units(), Some(2.0));
    assert_eq!(
        cc.global_secondary_indexes().unwrap()["by-g"].capacity_units(),
        Some(2.0)
    );
    assert_eq!(
        cc.local_secondary_indexes().unwrap()["by-x"].capacity_units(),
        Some(1.0)
    );
    assert_eq!(cc.capacity_units(), Some(5.0));

    // A GSI query is charged to the index, not the table.
    let q = client
        .query()
        .table_name(&metrics_table)
        .index_name("by-g")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("G"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    assert_eq!((q.count(), q.scanned_count()), (1, 1));
    let cc = q.consumed_capacity().unwrap();
    assert_eq!(cc.table().unwrap().capacity_units(), Some(0.0));
    assert_eq!(
        cc.global_secondary_indexes().unwrap()["by-g"].capacity_units(),
        Some(0.5)
    );
    // Without LSIs there are no metrics to report.
    on_demand_table(&client, &nolsi, &[("pk", S)]).await;
    let out = client
        .put_item()
        .table_name(&nolsi)
        .item("pk", s("p"))
        .return_item_collection_metrics(ReturnItemCollectionMetrics::Size)
        .send()
        .await
        .unwrap();
    assert!(out.item_collection_metrics().is_none());
}
