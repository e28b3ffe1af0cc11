//! Wire-protocol tests with hand-written HTTP requests: what SDKs never send but the server
//! must still answer the way DynamoDB does.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;

use common::raw::{self, Reply, AUTH};
use common::{unique_name, Backend, TestServer};

/// A ListTables answer: exactly `{"TableNames": []}` from the test's own (empty) server;
/// from a shared endpoint, whatever tables exist there, in order, at most `limit` of them,
/// and LastEvaluatedTableName, if present, naming the last one.
fn assert_listing(server: &TestServer, body: serde_json::Value, limit: usize) {
    if !server.is_shared() {
        assert_eq!(body, serde_json::json!({"TableNames": []}));
        return;
    }
    let members = body.as_object().unwrap();
    let names: Vec<&str> = members["TableNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert!(names.len() <= limit, "{} names, Limit {limit}", names.len());
    assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    for (member, value) in members {
        match member.as_str() {
            "TableNames" => {}
            "LastEvaluatedTableName" => assert_eq!(value.as_str(), names.last().copied()),
            other => panic!("unexpected member {other} in {body}"),
        }
    }
}

fn assert_checksummed(reply: &Reply) {
    let crc: u32 = reply.header("x-amz-crc32").unwrap().parse().unwrap();
    assert_eq!(crc, crc32fast::hash(&reply.body));
    assert_eq!(reply.header("x-amzn-RequestId").unwrap().len(), 52);
}

#[test]
fn health_check_answers_get() {
    let server = TestServer::start(Backend::Memory);
    let reply = raw::send(&server, "GET", &[], b"");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("server"), Some("Server"));
    // DynamoDB names the host the client addressed.
    assert_eq!(
        String::from_utf8(reply.body).unwrap(),
        format!("healthy: {} ", server.authority)
    );
}

#[test]
fn success_and_errors_carry_request_id_and_crc() {
    let server = TestServer::start(Backend::Memory);
    let ok = raw::post(&server, "DynamoDB_20120810.ListTables", "{}");
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    assert_listing(&server, ok.json(), 100);
    assert_checksummed(&ok);

    let err = raw::post(
        &server,
        "DynamoDB_20120810.DescribeTable",
        &format!(r#"{{"TableName":"{}"}}"#, unique_name("none")),
    );
    assert_eq!(err.status, 400);
    assert_eq!(
        err.error_type(),
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    );
    assert_checksummed(&err);
}

#[test]
fn protocol_errors_use_coral_namespaces() {
    let server = TestServer::start(Backend::Memory);
    let reply = raw::post(&server, "DynamoDB_20120810.NoSuchThing", "{}");
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#UnknownOperationException"
    );

    let reply = raw::post(&server, "DynamoDB_20120810.ListTables", "{not json");
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#SerializationException"
    );

    let reply = raw::post(
        &server,
        "DynamoDB_20120810.ListTables",
        r#"{"Limit":"ten"}"#,
    );
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#SerializationException"
    );

    let reply = raw::post(&server, "DynamoDB_20120810.DescribeTable", "{}");
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.validate#ValidationException"
    );
    assert_eq!(
        reply.json()["message"],
        "1 validation error detected: Value null at 'tableName' failed to satisfy \
         constraint: Member must not be null"
    );

    // Attribute-value problems are validation errors, reported after request constraints.
    let reply = raw::post(
        &server,
        "DynamoDB_20120810.PutItem",
        r#"{"TableName":"t","Item":{"a":{}}}"#,
    );
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.validate#ValidationException"
    );
    let reply = raw::post(
        &server,
        "DynamoDB_20120810.PutItem",
        r#"{"TableName":"t","Item":{"a":{"S":5}}}"#,
    );
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#SerializationException"
    );
}

#[test]
fn streams_targets_are_recognised_and_refused_with_a_clear_message() {
    let server = TestServer::start(Backend::Memory);
    for operation in [
        "ListStreams",
        "DescribeStream",
        "GetShardIterator",
        "GetRecords",
    ] {
        let reply = raw::post(
            &server,
            &format!("DynamoDBStreams_20120810.{operation}"),
            "{}",
        );
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.error_type(),
            "com.amazon.coral.service#UnknownOperationException"
        );
        assert_eq!(
            reply.json()["message"],
            format!("Stator does not support the DynamoDB Streams operation {operation} yet")
        );
    }
    // An operation name that is not one of the service's stays an unknown operation, with
    // DynamoDB's empty message.
    let reply = raw::post(&server, "DynamoDBStreams_20120810.PutItem", "{}");
    assert_eq!(reply.json()["message"], "");
}

#[test]
fn authentication_is_required_and_checked_for_shape() {
    let server = TestServer::start(Backend::Memory);
    let reply = raw::send(
        &server,
        "POST",
        &[("X-Amz-Target", "DynamoDB_20120810.ListTables")],
        b"{}",
    );
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );
    assert_eq!(
        reply.json()["message"],
        "Request is missing Authentication Token"
    );

    let reply = raw::send(
        &server,
        "POST",
        &[
            ("Authorization", "garbage"),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
        ],
        b"{}",
    );
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#IncompleteSignatureException"
    );
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .ends_with("Authorization=garbage"));
}

#[test]
fn gzip_bodies_are_accepted() {
    use flate2::write::GzEncoder;
    let server = TestServer::start(Backend::Memory);
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(br#"{"Limit": 5}"#).unwrap();
    let body = enc.finish().unwrap();
    let reply = raw::send(
        &server,
        "POST",
        &[
            ("Authorization", AUTH),
            ("X-Amz-Date", "20261121T000000Z"),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ("Content-Encoding", "gzip"),
        ],
        &body,
    );
    assert_eq!(reply.status, 200);
    assert_listing(&server, reply.json(), 5);
}

#[test]
fn bodies_over_16_mb_are_refused_with_413() {
    let server = TestServer::start(Backend::Memory);
    let body = vec![b' '; 16 * 1024 * 1024 + 1];
    let reply = raw::post(
        &server,
        "DynamoDB_20120810.ListTables",
        std::str::from_utf8(&body).unwrap(),
    );
    assert_eq!(reply.status, 413);
    // The server keeps serving.
    let ok = raw::post(&server, "DynamoDB_20120810.ListTables", "{}");
    assert_eq!(ok.status, 200);
}
