//! The one response writer: every answer Stator sends goes through [`json_response`],
//! [`error_response`] or [`text_response`], so every response carries `x-amzn-RequestId`,
//! `x-amz-crc32` (CRC-32 of the exact body bytes sent, which boto3 verifies), `Server` and
//! DynamoDB's content type. A JSON body over 4 KiB is compressed when the request accepts a
//! coding (see [`crate::coding`]). The request id is made once per request ([`RequestId::generate`]) by the
//! caller, which names the same id in the log.

use std::cell::Cell;
use std::fmt;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{
    HeaderName, HeaderValue, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, SERVER,
};
use hyper::{Response, StatusCode};
use stator_engine::{DynamoError, ErrorKind};

use crate::coding::{compress, Coding, COMPRESS_ABOVE};

pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let local = 0u8;
    // Mix in a stack address so threads started in the same nanosecond differ.
    (nanos ^ (&local as *const u8 as u64).rotate_left(32)) | 1
}

fn next_random() -> u64 {
    RNG.with(|state| {
        // xorshift64*: request ids need to be unique-looking, not unpredictable.
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A DynamoDB-style request id: 52 characters of upper-case letters and digits. Made on
/// the stack, so a request that logs nothing never formats or allocates it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 52]);

impl RequestId {
    /// A fresh id for a new request.
    pub fn generate() -> RequestId {
        RequestId(request_id_bytes())
    }

    pub fn as_str(&self) -> &str {
        // Always true: the id is made from an ASCII alphabet.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn request_id_bytes() -> [u8; 52] {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut id = [0u8; 52];
    let mut bits = 0u64;
    let mut left = 0;
    for byte in &mut id {
        if left < 5 {
            bits = next_random();
            left = 64;
        }
        *byte = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
        left -= 5;
    }
    id
}

/// A header value from bytes known to be visible ASCII (ids, digits, fixed texts).
fn ascii_value(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Server`: DynamoDB's own responses carry this exact value.
pub const SERVER_HEADER: &str = "Server";

fn response(
    id: &RequestId,
    status: StatusCode,
    content_type: &'static str,
    mut body: Vec<u8>,
    coding: Option<Coding>,
) -> Response<Full<Bytes>> {
    // Built field by field with constant header names: this runs for every request, and
    // `http`'s builder parses each name and value from text.
    static REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
    static CRC32: HeaderName = HeaderName::from_static("x-amz-crc32");
    let mut encoded = None;
    if let Some(coding) = coding.filter(|_| body.len() > COMPRESS_ABOVE) {
        // Writing into a Vec cannot fail; if it did, the body goes out uncompressed.
        if let Ok(packed) = compress(coding, &body) {
            body = packed;
            encoded = Some(coding);
        }
    }
    // The checksum covers the bytes sent, compressed or not.
    let crc = crc32fast::hash(&body);
    let mut digits = itoa_u64(u64::from(crc));
    let crc_value = ascii_value(digits.text());
    digits = itoa_u64(body.len() as u64);
    let length_value = ascii_value(digits.text());
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.reserve(7);
    headers.insert(REQUEST_ID.clone(), ascii_value(&id.0));
    headers.insert(CRC32.clone(), crc_value);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, length_value);
    headers.insert(SERVER, HeaderValue::from_static(SERVER_HEADER));
    if let Some(coding) = encoded {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The decimal digits of a number, without allocating.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn text(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn itoa_u64(mut n: u64) -> Digits {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Digits { buf, start }
}

/// A successful JSON answer.
pub fn json_response(
    id: &RequestId,
    body: Vec<u8>,
    coding: Option<Coding>,
) -> Response<Full<Bytes>> {
    response(id, StatusCode::OK, JSON_CONTENT_TYPE, body, coding)
}

/// The JSON body of an error: `{"__type":"<namespace>#<Type>","message":"..."}`.
///
/// The transaction errors follow their own model shapes, whose member is `Message`:
/// `TransactionCanceledException` is
/// `{"__type":…,"CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed",
/// "Item":{…},"Message":"The conditional request failed"}],"Message":"Transaction cancelled, …"}`
/// (one reason per action, in request order; `Item` only when the action asked for
/// `ALL_OLD`), and `IdempotentParameterMismatchException` is `{"__type":…,"Message":…}`.
/// The Rust SDK, for one, reads the exception's message only from `Message` for these.
pub fn error_body(error: &DynamoError) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(rename = "__type")]
        error_type: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
        /// The old item of a failed conditional write, when the request asked for it.
        #[serde(rename = "Item", skip_serializing_if = "Option::is_none")]
        item: Option<&'a stator_types::Item>,
        #[serde(
            rename = "CancellationReasons",
            skip_serializing_if = "Option::is_none"
        )]
        cancellation_reasons: Option<Vec<Reason<'a>>>,
        #[serde(rename = "Message", skip_serializing_if = "Option::is_none")]
        capital_message: Option<&'a str>,
        /// What a throttled request ran into (`ThrottlingReasons`, members in lower case
        /// as in DynamoDB's model).
        #[serde(rename = "ThrottlingReasons", skip_serializing_if = "Option::is_none")]
        throttling_reasons: Option<Vec<Throttling<'a>>>,
    }
    #[derive(serde::Serialize)]
    struct Throttling<'a> {
        reason: &'a str,
        resource: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Reason<'a> {
        #[serde(rename = "Code")]
        code: &'a str,
        #[serde(rename = "Item", skip_serializing_if = "Option::is_none")]
        item: Option<&'a stator_types::Item>,
        #[serde(rename = "Message", skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
    }
    let capital = matches!(
        error.kind,
        ErrorKind::TransactionCanceled | ErrorKind::IdempotentParameterMismatch
    );
    let cancellation_reasons = if error.kind == ErrorKind::TransactionCanceled {
        let reasons = error.cancellation_reasons.as_deref().unwrap_or_default();
        Some(
            reasons
                .iter()
                .map(|r| Reason {
                    code: r.code.as_str(),
                    item: r.item.as_ref(),
                    message: r.message.as_deref(),
                })
                .collect(),
        )
    } else {
        None
    };
    let body = Body {
        error_type: format!("{}#{}", error.kind.namespace(), error.kind.name()),
        message: (!capital).then_some(error.message.as_str()),
        item: error.item.as_deref(),
        cancellation_reasons,
        capital_message: capital.then_some(error.message.as_str()),
        throttling_reasons: error.throttling_reasons.as_ref().map(|reasons| {
            reasons
                .iter()
                .map(|r| Throttling {
                    reason: &r.reason,
                    resource: &r.resource,
                })
                .collect()
        }),
    };
    serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec())
}

/// An error answer with the status its kind calls for.
pub fn error_response(
    id: &RequestId,
    error: &DynamoError,
    coding: Option<Coding>,
) -> Response<Full<Bytes>> {
    let status =
        StatusCode::from_u16(error.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response(id, status, JSON_CONTENT_TYPE, error_body(error), coding)
}

/// An admin API answer (`crate::admin`): JSON with its own status.
pub fn admin_response(id: &RequestId, status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    response(id, status, "application/json", body, None)
}

/// A plain-text answer (health check, unknown paths).
pub fn text_response(id: &RequestId, status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    response(id, status, "text/plain", text.as_bytes().to_vec(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_engine::error::{CancellationCode, CancellationReason};

    #[test]
    fn request_ids_look_like_dynamodb_ones_and_differ() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert!(a
            .as_str()
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(a.as_str().len(), 52);
        assert_eq!(a.to_string(), a.as_str());
        assert_ne!(a, b);
    }

    #[test]
    fn error_body_uses_namespace_and_lowercase_message() {
        let err = DynamoError::new(ErrorKind::ResourceNotFound, "Requested resource not found");
        let body = String::from_utf8(error_body(&err)).unwrap();
        assert_eq!(
            body,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#
        );
        let err = DynamoError::validation("x");
        assert!(String::from_utf8(error_body(&err))
            .unwrap()
            .starts_with(r#"{"__type":"com.amazon.coral.validate#ValidationException""#));
    }

    #[test]
    fn transaction_cancellations_list_their_reasons() {
        let mut item = stator_types::Item::new();
        item.insert(
            "pk".to_string(),
            stator_types::AttributeValue::S("a".to_string()),
        );
        let mut err = DynamoError::new(
            ErrorKind::TransactionCanceled,
            "Transaction cancelled, please refer cancellation reasons for specific reasons \
             [None, ConditionalCheckFailed]",
        );
        err.cancellation_reasons = Some(vec![
            CancellationReason::none(),
            CancellationReason::new(
                CancellationCode::ConditionalCheckFailed,
                "The conditional request failed",
                Some(item),
            ),
        ]);
        let body = String::from_utf8(error_body(&err)).unwrap();
        assert_eq!(
            body,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Item":{"pk":{"S":"a"}},"Message":"The conditional request failed"}],"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"}"#
        );
        let err = DynamoError::new(ErrorKind::IdempotentParameterMismatch, "m");
        assert_eq!(
            String::from_utf8(error_body(&err)).unwrap(),
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException","Message":"m"}"#
        );
    }

    #[test]
    fn digits_are_decimal() {
        for n in [0u64, 7, 10, 4_294_967_295, u64::MAX] {
            assert_eq!(itoa_u64(n).text(), n.to_string().as_bytes());
        }
    }

    #[test]
    fn every_answer_carries_the_dynamodb_headers() {
        let request = RequestId::generate();
        let resp = json_response(&request, b"{}".to_vec(), None);
        assert_eq!(resp.status(), StatusCode::OK);
        let id = resp.headers()["x-amzn-RequestId"].to_str().unwrap();
        assert_eq!(id, request.as_str());
        assert_eq!(resp.headers()["content-type"], JSON_CONTENT_TYPE);
        assert_eq!(resp.headers()["content-length"], "2");
        assert!(resp.headers().get("connection").is_none());
        let err = DynamoError::new(ErrorKind::RequestEntityTooLarge, "too big");
        let resp = error_response(&request, &err, None);
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(resp.headers()["connection"], "close");
    }

    #[test]
    fn crc_header_matches_body() {
        let resp = json_response(&RequestId::generate(), b"{\"a\":1}".to_vec(), None);
        let crc: u32 = resp.headers()["x-amz-crc32"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(crc, crc32fast::hash(b"{\"a\":1}"));
    }
}
