//! Throttling through the official Rust SDK, against `--capacity enforce --clock manual`:
//! a throttled request is a `ProvisionedThroughputExceededException` whose
//! `ThrottlingReasons` the SDK parses; the SDK's standard retry loop keeps retrying it
//! and succeeds once the engine clock has moved (here, moved by a helper thread as soon
//! as the server has counted the throttle — no test sleeps for time to pass); and the
//! admin API shows the clock and the table's buckets and partitions.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeySchemaElement, KeyType, ProvisionedThroughput, ScalarAttributeType,
};
use common::raw::admin;
use common::schema::attr;
use common::{client_for, skip_in_endpoint_mode, TestServer};

fn enforcing_server() -> TestServer {
    TestServer::start_with(&[
        "--capacity",
        "enforce",
        "--clock",
        "manual=2026-01-01T00:00:00Z",
    ])
}

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, rcu: i64, wcu: i64) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(rcu)
                .write_capacity_units(wcu)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

fn put(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
    client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.to_string()))
}

#[tokio::test]
async fn a_throttle_parses_in_the_sdk_with_its_reasons() {
    if skip_in_endpoint_mode("needs its own server with --capacity enforce") {
        return;
    }
    let server = enforcing_server();
    let client = server.client();
    create_table(&client, "Throttled", 1, 1).await;
    put(&client, "Throttled", "a").send().await.unwrap();
    let error = put(&client, "Throttled", "b").send().await.unwrap_err();
    let Some(PutItemError::ProvisionedThroughputExceededException(e)) = error.as_service_error()
    else {
        panic!("not a throttle: {error:?}");
    };
    assert_eq!(
        e.message(),
        Some(
            "The level of configured provisioned throughput for the table was exceeded. \
             Consider increasing your provisioning level with the UpdateTable API."
        )
    );
    let reasons = e.throttling_reasons();
    assert_eq!(reasons.len(), 1);
    assert_eq!(
        reasons[0].reason(),
        Some("TableWriteProvisionedThroughputExceeded")
    );
    assert_eq!(
        reasons[0].resource(),
        Some("arn:aws:dynamodb:us-east-1:000000000000:table/Throttled")
    );
    // The admin API counts it, and shows the one partition.
    let (status, report) = admin(&server, "GET", "/_stator/tables/Throttled/partitions", "");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["capacityMode"], "enforce");
    assert_eq!(report["table"]["throttles"]["write"], 1);
    assert_eq!(report["table"]["partitions"].as_array().unwrap().len(), 1);
    assert_eq!(report["table"]["provisioned"]["write"], 1.0);
}

#[tokio::test]
async fn the_sdk_retry_loop_succeeds_once_the_clock_moves() {
    if skip_in_endpoint_mode("needs its own server with --capacity enforce --clock manual") {
        return;
    }
    let server = enforcing_server();
    let setup = server.client();
    create_table(&setup, "Retried", 1, 1).await;
    put(&setup, "Retried", "first").send().await.unwrap();
    // The clock mover: waits for the server to count a throttle (each look is one admin
    // request), then moves the engine clock by one second, which refills one unit.
    let mover = {
        let endpoint = server.endpoint.clone();
        std::thread::spawn(move || {
            let server_view = TestServer::viewing(&endpoint);
            for _ in 0..20_000 {
                let (_, report) = admin(
                    &server_view,
                    "GET",
                    "/_stator/tables/Retried/partitions",
                    "",
                );
                if report["table"]["throttles"]["write"].as_u64().unwrap_or(0) >= 1 {
                    let (status, clock) = admin(
                        &server_view,
                        "POST",
                        "/_stator/clock",
                        r#"{"advanceSeconds": 1}"#,
                    );
                    assert_eq!(status, 200);
                    return clock["now"].as_str().unwrap().to_string();
                }
                std::thread::yield_now();
            }
            panic!("the server never counted a throttle");
        })
    };
    let retrying = {
        let conf = client_for(&server.endpoint)
            .config()
            .to_builder()
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(50)
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(20)),
            )
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    };
    put(&retrying, "Retried", "second").send().await.unwrap();
    assert_eq!(mover.join().unwrap(), "2026-01-01T00:00:01.000Z");
    let (_, report) = admin(&server, "GET", "/_stator/tables/Retried/partitions", "");
    assert!(report["table"]["throttles"]["write"].as_u64().unwrap() >= 1);
    let got = setup
        .get_item()
        .table_name("Retried")
        .key("pk", AttributeValue::S("second".into()))
        .consistent_read(true)
        .send()
        .await;
    // One RCU for the read: the table was created with 1.
    assert!(got.unwrap().item.is_some());
}

#[tokio::test]
async fn the_admin_clock_and_capacity_endpoints() {
    if skip_in_endpoint_mode("needs its own server with --clock manual") {
        return;
    }
    let server = enforcing_server();
    let (status, clock) = admin(&server, "GET", "/_stator/clock", "");
    assert_eq!((status, clock["mode"].as_str()), (200, Some("manual")));
    assert_eq!(clock["now"], "2026-01-01T00:00:00.000Z");
    let (status, moved) = admin(
        &server,
        "POST",
        "/_stator/clock",
        r#"{"set": "2027-06-01T12:00:00+02:00"}"#,
    );
    assert_eq!(
        (status, moved["now"].as_str()),
        (200, Some("2027-06-01T10:00:00.000Z"))
    );
    let (status, refused) = admin(
        &server,
        "POST",
        "/_stator/clock",
        r#"{"advanceSeconds": "x"}"#,
    );
    assert_eq!(status, 400);
    assert!(refused["error"]
        .as_str()
        .unwrap()
        .contains("advanceSeconds"));
    // One table switched to report mode stops refusing.
    let client = server.client();
    create_table(&client, "Relaxed", 1, 1).await;
    put(&client, "Relaxed", "a").send().await.unwrap();
    assert!(put(&client, "Relaxed", "b").send().await.is_err());
    let (status, set) = admin(
        &server,
        "POST",
        "/_stator/tables/Relaxed/capacity",
        r#"{"mode": "report"}"#,
    );
    assert_eq!(
        (status, set["capacityMode"].as_str()),
        (200, Some("report"))
    );
    put(&client, "Relaxed", "b").send().await.unwrap();
    let (status, _) = admin(
        &server,
        "POST",
        "/_stator/tables/Relaxed/capacity",
        r#"{"mode": "loud"}"#,
    );
    assert_eq!(status, 400);
    let (status, missing) = admin(&server, "GET", "/_stator/tables/Nope/partitions", "");
    assert_eq!(status, 404, "{missing}");
}
