//! Wire-protocol tests with hand-written HTTP requests: what SDKs never send but the server
//! must still answer the way DynamoDB does.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{Backend, TestServer};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn error_type(&self) -> String {
        self.json()["__type"].as_str().unwrap().to_string()
    }
}

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/dynamodb/aws4_request, \
                    SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123abcd";

fn send(server: &TestServer, method: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let mut request = format!(
        "{method} / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.port,
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // The server may answer (413) before reading a huge body; ignore a reset while writing.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body,
    }
}

fn call(server: &TestServer, target: &str, body: &str) -> Reply {
    send(
        server,
        "POST",
        &[
            ("Authorization", AUTH),
            ("X-Amz-Date", "20261121T000000Z"),
            ("X-Amz-Target", target),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        body.as_bytes(),
    )
}

fn assert_checksummed(reply: &Reply) {
    let crc: u32 = reply.header("x-amz-crc32").unwrap().parse().unwrap();
    assert_eq!(crc, crc32fast::hash(&reply.body));
    assert_eq!(reply.header("x-amzn-RequestId").unwrap().len(), 52);
}

#[test]
fn health_check_answers_get() {
    let server = TestServer::start(Backend::Memory);
    let reply = send(&server, "GET", &[], b"");
    assert_eq!(reply.status, 200);
    assert!(String::from_utf8(reply.body)
        .unwrap()
        .starts_with("healthy: dynamodb."));
}

#[test]
fn success_and_errors_carry_request_id_and_crc() {
    let server = TestServer::start(Backend::Memory);
    let ok = call(&server, "DynamoDB_20120810.ListTables", "{}");
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    assert_eq!(ok.json(), serde_json::json!({"TableNames": []}));
    assert_checksummed(&ok);

    let err = call(
        &server,
        "DynamoDB_20120810.DescribeTable",
        r#"{"TableName":"none"}"#,
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
    let reply = call(&server, "DynamoDB_20120810.NoSuchThing", "{}");
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#UnknownOperationException"
    );

    let reply = call(&server, "DynamoDB_20120810.ListTables", "{not json");
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#SerializationException"
    );

    let reply = call(
        &server,
        "DynamoDB_20120810.ListTables",
        r#"{"Limit":"ten"}"#,
    );
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.service#SerializationException"
    );

    let reply = call(&server, "DynamoDB_20120810.DescribeTable", "{}");
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
    let reply = call(
        &server,
        "DynamoDB_20120810.PutItem",
        r#"{"TableName":"t","Item":{"a":{}}}"#,
    );
    assert_eq!(
        reply.error_type(),
        "com.amazon.coral.validate#ValidationException"
    );
    let reply = call(
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
fn authentication_is_required_and_checked_for_shape() {
    let server = TestServer::start(Backend::Memory);
    let reply = send(
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

    let reply = send(
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
    let reply = send(
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
    assert_eq!(reply.json(), serde_json::json!({"TableNames": []}));
}

#[test]
fn bodies_over_16_mb_are_refused_with_413() {
    let server = TestServer::start(Backend::Memory);
    let body = vec![b' '; 16 * 1024 * 1024 + 1];
    let reply = call(
        &server,
        "DynamoDB_20120810.ListTables",
        std::str::from_utf8(&body).unwrap(),
    );
    assert_eq!(reply.status, 413);
    // The server keeps serving.
    let ok = call(&server, "DynamoDB_20120810.ListTables", "{}");
    assert_eq!(ok.status, 200);
}
