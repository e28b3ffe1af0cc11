//! Hand-written HTTP/1.1 requests, for what SDKs never send (malformed JSON, null members,
//! missing headers, huge bodies) and for checking the exact JSON DynamoDB answers. One
//! connection per request (`Connection: close`), to the test's server or the shared
//! endpoint alike.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::TestServer;

/// A well-formed SigV4 `Authorization` header: the server checks its shape, not its key.
pub const AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/dynamodb/aws4_request, \
                        SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123abcd";

/// The target prefix of DynamoDB's JSON API.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// An HTTP answer: status, headers in order, body bytes.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The whole `__type`, namespace included.
    pub fn error_type(&self) -> String {
        self.json()["__type"].as_str().unwrap().to_string()
    }
}

/// Sends `method /` with `headers` (plus Host, Connection and Content-Length) and `body`.
pub fn send(server: &TestServer, method: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send_to(server, method, "/", headers, body)
}

/// A request to one of Stator's own endpoints (`/_stator/…`): status and JSON body.
pub fn admin(
    server: &TestServer,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let reply = send_to(server, method, path, &[], body.as_bytes());
    (reply.status, reply.json())
}

/// [`send`] to `path`.
pub fn send_to(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(server.authority.as_str()).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.authority,
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
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&raw)));
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

/// A signed-looking POST with the full `X-Amz-Target` value `target`.
pub fn post(server: &TestServer, target: &str, body: &str) -> Reply {
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

/// A raw JSON request to DynamoDB operation `operation`; returns the status and the parsed
/// body.
pub fn call(server: &TestServer, operation: &str, body: &str) -> (u16, serde_json::Value) {
    let reply = post(server, &format!("{TARGET_PREFIX}{operation}"), body);
    (reply.status, reply.json())
}

/// The error type (after `#`) and message of a raw answer, which must be a 400.
/// DynamoDB spells the member `message`, except in TransactionCanceledException
/// (`Message`).
pub fn error(reply: &(u16, serde_json::Value)) -> (String, String) {
    assert_eq!(reply.0, 400, "{}", reply.1);
    let kind = reply.1["__type"].as_str().unwrap();
    let kind = kind.rsplit('#').next().unwrap().to_string();
    let member = if kind == "TransactionCanceledException" {
        "Message"
    } else {
        "message"
    };
    let message = reply.1[member]
        .as_str()
        .unwrap_or_else(|| panic!("no {member} in {}", reply.1));
    (kind, message.to_string())
}

/// [`call`] and then [`error`].
pub fn call_error(server: &TestServer, operation: &str, body: &str) -> (String, String) {
    error(&call(server, operation, body))
}
