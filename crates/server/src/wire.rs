//! The one response writer: every answer Stator sends goes through [`json_response`] or
//! [`error_response`], so every response carries `x-amzn-RequestId`, `x-amz-crc32` (CRC-32 of
//! the exact body bytes, which boto3 verifies) and DynamoDB's content type.

use std::cell::Cell;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use stator_engine::{DynamoError, ErrorKind};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

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

/// A DynamoDB-style request id: 52 characters of upper-case letters and digits.
pub fn request_id() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut id = String::with_capacity(52);
    let mut bits = 0u64;
    let mut left = 0;
    for _ in 0..52 {
        if left < 5 {
            bits = next_random();
            left = 64;
        }
        id.push(ALPHABET[(bits & 31) as usize] as char);
        bits >>= 5;
        left -= 5;
    }
    id
}

fn response(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let crc = crc32fast::hash(&body);
    let mut builder = Response::builder()
        .status(status)
        .header("x-amzn-RequestId", request_id())
        .header("x-amz-crc32", crc.to_string())
        .header("Content-Type", content_type)
        .header("Content-Length", body.len().to_string());
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        builder = builder.header("Connection", "close");
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// A successful JSON answer.
pub fn json_response(body: Vec<u8>) -> Response<Full<Bytes>> {
    response(StatusCode::OK, CONTENT_TYPE, body)
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
                    code: &r.code,
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
    };
    serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec())
}

/// An error answer with the status its kind calls for.
pub fn error_response(error: &DynamoError) -> Response<Full<Bytes>> {
    let status =
        StatusCode::from_u16(error.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response(status, CONTENT_TYPE, error_body(error))
}

/// A plain-text answer (health check, unknown paths).
pub fn text_response(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    response(status, "text/plain", text.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_engine::transact::CancellationReason;

    #[test]
    fn request_ids_look_like_dynamodb_ones_and_differ() {
        let a = request_id();
        let b = request_id();
        assert_eq!(a.len(), 52);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
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
            CancellationReason {
                code: "None".to_string(),
                message: None,
                item: None,
            },
            CancellationReason {
                code: "ConditionalCheckFailed".to_string(),
                message: Some("The conditional request failed".to_string()),
                item: Some(item),
            },
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
    fn crc_header_matches_body() {
        let resp = json_response(b"{\"a\":1}".to_vec());
        let crc: u32 = resp.headers()["x-amz-crc32"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(crc, crc32fast::hash(b"{\"a\":1}"));
    }
}
