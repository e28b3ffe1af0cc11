//! The JSON protocol front end: DynamoDB's JSON 1.0 bodies in and out of the protocol-neutral
//! operations of `stator_api`.
//!
//! For each request: [`stator_api::resolve`] names the operation from `X-Amz-Target`;
//! [`decode`] turns the body into the operation's typed `Input` (malformed JSON and members
//! of the wrong JSON type are `SerializationException`, as in DynamoDB); the operation runs
//! (`stator_api::ops::<op>::run`: validation, engine call, typed `Output`); the output is
//! encoded. Most outputs go through serde; the ones made of items (GetItem, Query, Scan)
//! are written member by member ([`ObjectOut`]), each item straight from its stored bytes
//! ([`write_read_item`]), so a read never turns stored items into attribute maps.

use serde::de::DeserializeOwned;
use serde::Serialize;
use stator_api::ops::{self, read_common::PageOutput};
use stator_api::{Context, Op};
use stator_engine::records::ReadItem;
use stator_engine::{DynamoError, ErrorKind};

/// Runs operation `op` on a JSON request body and returns the JSON answer.
pub fn handle(op: Op, ctx: &Context<'_>, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
    match op {
        Op::BatchGetItem => serde_op(ctx, body, ops::batch_get_item::run),
        Op::BatchWriteItem => serde_op(ctx, body, ops::batch_write_item::run),
        Op::CreateTable => serde_op(ctx, body, ops::create_table::run),
        Op::DeleteItem => serde_op(ctx, body, ops::delete_item::run),
        Op::DeleteTable => serde_op(ctx, body, ops::delete_table::run),
        Op::DescribeEndpoints => {
            let out = ops::describe_endpoints::run(ctx, decode(body)?)?;
            encode(&out)
        }
        Op::DescribeLimits => serde_op(ctx, body, ops::describe_limits::run),
        Op::DescribeTable => serde_op(ctx, body, ops::describe_table::run),
        Op::GetItem => get_item_json(&ops::get_item::run(ctx, decode(body)?)?),
        Op::ListTables => serde_op(ctx, body, ops::list_tables::run),
        Op::ListTagsOfResource => serde_op(ctx, body, ops::list_tags_of_resource::run),
        Op::PutItem => serde_op(ctx, body, ops::put_item::run),
        Op::Query => page_json(&ops::query::run(ctx, decode(body)?)?),
        Op::Scan => page_json(&ops::scan::run(ctx, decode(body)?)?),
        Op::TagResource => empty_op(ctx, body, ops::tag_resource::run),
        Op::TransactGetItems => serde_op(ctx, body, ops::transact_get_items::run),
        Op::TransactWriteItems => {
            let mut input: ops::transact_write_items::Input = decode(body)?;
            input.request_fingerprint = crate::fingerprint::request_fingerprint(body);
            encode(&ops::transact_write_items::run(ctx, input)?)
        }
        Op::UntagResource => empty_op(ctx, body, ops::untag_resource::run),
        Op::UpdateItem => serde_op(ctx, body, ops::update_item::run),
        Op::UpdateTable => serde_op(ctx, body, ops::update_table::run),
    }
}

type Run<I, O> = fn(&Context<'_>, I) -> Result<O, DynamoError>;

/// An operation whose output serde writes.
fn serde_op<I: DeserializeOwned, O: Serialize>(
    ctx: &Context<'_>,
    body: &[u8],
    run: Run<I, O>,
) -> Result<Vec<u8>, DynamoError> {
    encode(&run(ctx, decode(body)?)?)
}

/// An operation that answers an empty body.
fn empty_op<I: DeserializeOwned>(
    ctx: &Context<'_>,
    body: &[u8],
    run: Run<I, ops::NoOutput>,
) -> Result<Vec<u8>, DynamoError> {
    run(ctx, decode(body)?)?;
    Ok(Vec::new())
}

/// Decodes a request body. Malformed JSON and members of the wrong JSON type are
/// `SerializationException`, as in DynamoDB.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DynamoError> {
    // An empty body is treated as an empty object, like the real service.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => strip_position(&e.to_string()),
            _ => "Start of structure or map found where not expected.".to_string(),
        };
        DynamoError::new(ErrorKind::Serialization, message)
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Encodes an output model.
pub fn encode<T: Serialize>(output: &T) -> Result<Vec<u8>, DynamoError> {
    serde_json::to_vec(output)
        .map_err(|e| DynamoError::internal(format!("cannot encode response: {e}")))
}

/// Appends an item's DynamoDB JSON to `out`: an item in its stored form is transcoded
/// straight from its codec bytes (the same checks as decoding, output byte-identical to
/// serde's), a built one goes through the JSON writer. On an error `out` holds a partial
/// answer that must be discarded.
pub fn write_read_item(item: &ReadItem, out: &mut Vec<u8>) -> Result<(), DynamoError> {
    match item {
        ReadItem::Stored(bytes) => {
            let encoded = stator_engine::records::stored_encoding(bytes)?;
            stator_types::write_item_json(encoded, out)
                .map_err(|_| DynamoError::internal("corrupt item in storage"))
        }
        ReadItem::Built(item) => {
            stator_types::jsonout::write_item(out, item);
            Ok(())
        }
    }
}

/// The size of an item's JSON, roughly, to size an answer's buffer once.
fn estimate(item: &ReadItem) -> usize {
    match item {
        ReadItem::Stored(bytes) => bytes.len() * 2,
        ReadItem::Built(_) => 128,
    }
}

/// `{"Item":…,"ConsumedCapacity":…}`, the item written from its stored bytes.
fn get_item_json(out: &ops::get_item::Output) -> Result<Vec<u8>, DynamoError> {
    let mut body = ObjectOut::with_capacity(out.item.as_ref().map_or(64, estimate) + 64);
    if let Some(item) = &out.item {
        write_read_item(item, body.member("Item"))?;
    }
    body.serde_member("ConsumedCapacity", out.consumed_capacity.as_ref())?;
    Ok(body.finish())
}

/// `{"Items":[…],"Count":n,"ScannedCount":n,"LastEvaluatedKey":{…},"ConsumedCapacity":{…}}`,
/// with `Items` absent for `Select=COUNT`.
fn page_json(page: &PageOutput) -> Result<Vec<u8>, DynamoError> {
    let items_size: usize = page.items.iter().flatten().map(estimate).sum();
    let mut body = ObjectOut::with_capacity(items_size + 256);
    if let Some(items) = &page.items {
        body.items_member("Items", items)?;
    }
    // Counts are integers: written as serde_json writes a usize.
    body.serde_member("Count", Some(&page.count))?;
    body.serde_member("ScannedCount", Some(&page.scanned_count))?;
    if let Some(key) = &page.last_evaluated_key {
        stator_types::jsonout::write_item(body.member("LastEvaluatedKey"), key);
    }
    body.serde_member("ConsumedCapacity", page.consumed_capacity.as_ref())?;
    Ok(body.finish())
}

/// A JSON object written member by member, for the outputs made mostly of items: items go
/// in with [`write_read_item`], anything else through serde.
pub struct ObjectOut {
    buf: Vec<u8>,
    empty: bool,
}

impl ObjectOut {
    pub fn with_capacity(capacity: usize) -> ObjectOut {
        let mut buf = Vec::with_capacity(capacity);
        buf.push(b'{');
        ObjectOut { buf, empty: true }
    }

    /// Starts a member and returns the buffer to write its value into.
    pub fn member(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        stator_types::jsonout::write_str(&mut self.buf, name);
        self.buf.push(b':');
        &mut self.buf
    }

    /// A member whose value serde writes; nothing when `value` is `None`.
    pub fn serde_member<T: Serialize>(
        &mut self,
        name: &str,
        value: Option<&T>,
    ) -> Result<(), DynamoError> {
        if let Some(value) = value {
            serde_json::to_writer(self.member(name), value)
                .map_err(|e| DynamoError::internal(format!("cannot encode response: {e}")))?;
        }
        Ok(())
    }

    /// A list of items.
    pub fn items_member(&mut self, name: &str, items: &[ReadItem]) -> Result<(), DynamoError> {
        let out = self.member(name);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_read_item(item, out)?;
        }
        out.push(b']');
        Ok(())
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(b'}');
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialization_errors_for_wrong_types() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct In {
            #[serde(rename = "TableName")]
            table_name: Option<String>,
        }
        let err = decode::<In>(br#"{"TableName": 5}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Serialization);
        assert!(!err.message.contains("line"));
        let err = decode::<In>(b"{not json").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Serialization);
        assert!(decode::<In>(b"").is_ok());
    }

    #[test]
    fn an_unknown_enum_value_is_a_validation_error_not_a_serialization_one() {
        let input: stator_api::ops::put_item::Input =
            decode(br#"{"TableName":"t","Item":{},"ReturnValues":"SOME"}"#).unwrap();
        let err = stator_api::ops::put_item::validate(input).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Validation);
        assert!(err.message.contains("Value 'SOME' at 'returnValues'"));
    }
}
