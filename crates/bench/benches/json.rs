//! Micro-benchmarks of the JSON boundary of a request.
//!
//! - `json_item`: one ~1 KB item in DynamoDB JSON decoded into `Checked<Item>` (the
//!   streaming, validating visitor of `stator_types::json`) and encoded back to bytes.
//! - `ops`: whole GetItem and PutItem request bodies run through the real operation
//!   handlers (`stator_server::json::handle` on `stator_api` operations) on an engine over `MemoryStorage`, without
//!   HTTP: body decode, validation, engine call, response encode. The table is created with
//!   the CreateTable handler and preloaded so that every GetItem finds its item.
//!
//! Run with `cargo bench -p stator-bench --bench json` (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use stator_api::{Context, Op};
use stator_engine::{Engine, EngineConfig};
use stator_server::json;
use stator_storage::{MemoryStorage, Storage};
use stator_types::{Checked, Item};

/// Items preloaded into the table; the request benchmarks cycle through their keys.
const PRELOADED: usize = 1024;
const TABLE: &str = "bench";

/// Deterministic filler text of `len` ASCII characters.
fn filler(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789 ";
    (0..len)
        .map(|i| char::from(ALPHABET[i % ALPHABET.len()]))
        .collect()
}

fn key_of(i: usize) -> String {
    format!("user#{i:06}")
}

/// A ~1 KB item in DynamoDB JSON: a string key, a number, a 1000-character string, a map and
/// a list.
fn item_json(pk: &str) -> serde_json::Value {
    json!({
        "pk": {"S": pk},
        "n": {"N": "42"},
        "payload": {"S": filler(1000)},
        "profile": {"M": {
            "city": {"S": "Lisbon"},
            "zip": {"N": "1100"},
            "active": {"BOOL": true}
        }},
        "tags": {"L": [
            {"S": "red"},
            {"S": "green"},
            {"N": "3.14"},
            {"NULL": true}
        ]}
    })
}

fn to_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a serde_json::Value always serializes")
}

fn decode_item(bytes: &[u8]) -> Item {
    serde_json::from_slice::<Checked<Item>>(bytes)
        .expect("the benchmark item has the right shape")
        .into_result()
        .expect("the benchmark item has valid values")
}

fn json_item(c: &mut Criterion) {
    let bytes = to_bytes(&item_json(&key_of(42)));
    let item = decode_item(&bytes);
    let encoded = serde_json::to_vec(&item).expect("an item always serializes");

    let mut group = c.benchmark_group("json_item");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("decode_1kb", |b| {
        b.iter(|| {
            let checked: Checked<Item> =
                serde_json::from_slice(black_box(&bytes)).expect("valid shape");
            black_box(checked)
        })
    });
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function("encode_1kb", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&item)).expect("serializes")))
    });
    group.bench_function("encode_1kb_reused_buffer", |b| {
        let mut out = Vec::with_capacity(encoded.len());
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&item)).expect("serializes");
            black_box(out.len())
        })
    });
    group.finish();
}

/// An engine over fresh memory storage with one `pk`-keyed table holding [`PRELOADED`]
/// items.
fn preloaded_engine() -> Arc<Engine> {
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let engine = Engine::open(storage, EngineConfig::default()).expect("engine opens on memory");
    let ctx = context(&engine);

    let create = op("CreateTable");
    let body = json!({
        "TableName": TABLE,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    json::handle(create, &ctx, &to_bytes(&body)).expect("CreateTable succeeds");

    let put = op("PutItem");
    for body in put_bodies() {
        json::handle(put, &ctx, &body).expect("preloading PutItem succeeds");
    }
    engine
}

/// The operation a target names.
fn op(name: &str) -> Op {
    stator_api::resolve(Some(&format!("DynamoDB_20120810.{name}"))).expect("a known operation")
}

fn context(engine: &Engine) -> Context<'_> {
    Context {
        engine,
        region: "us-east-1",
        host: None,
    }
}

/// One PutItem body per preloaded key.
fn put_bodies() -> Vec<Vec<u8>> {
    (0..PRELOADED)
        .map(|i| {
            to_bytes(&json!({
                "TableName": TABLE,
                "Item": item_json(&key_of(i)),
            }))
        })
        .collect()
}

/// One request body per preloaded key, built by `body`.
fn bodies(body: impl Fn(&str) -> serde_json::Value) -> Vec<Vec<u8>> {
    (0..PRELOADED)
        .map(|i| to_bytes(&body(&key_of(i))))
        .collect()
}

fn ops_requests(c: &mut Criterion) {
    let engine = preloaded_engine();
    let ctx = context(&engine);
    let get = op("GetItem");
    let put = op("PutItem");

    let get_bodies = bodies(|pk| json!({"TableName": TABLE, "Key": {"pk": {"S": pk}}}));
    let projected_get_bodies = bodies(|pk| {
        json!({
            "TableName": TABLE,
            "Key": {"pk": {"S": pk}},
            "ProjectionExpression": "pk, #n, profile.city, tags[0]",
            "ExpressionAttributeNames": {"#n": "n"}
        })
    });
    let put_bodies = put_bodies();
    let conditional_put_bodies = bodies(|pk| {
        json!({
            "TableName": TABLE,
            "Item": item_json(pk),
            "ConditionExpression": "attribute_exists(pk) AND #n = :n",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {":n": {"N": "42"}}
        })
    });

    // The benchmarks must measure the successful path: check each kind of request once.
    let found = json::handle(get, &ctx, &get_bodies[7]).expect("GetItem succeeds");
    assert!(
        found.windows(7).any(|w| w == b"\"Item\":"),
        "GetItem finds the preloaded item"
    );
    json::handle(put, &ctx, &conditional_put_bodies[7]).expect("conditional PutItem succeeds");
    json::handle(get, &ctx, &projected_get_bodies[7]).expect("projected GetItem succeeds");

    let mut group = c.benchmark_group("ops");
    // One request per iteration: criterion reports requests per second.
    group.throughput(Throughput::Elements(1));
    for (name, handler, requests) in [
        ("get_item", get, &get_bodies),
        ("get_item_projection", get, &projected_get_bodies),
        ("put_item_1kb", put, &put_bodies),
        ("put_item_1kb_condition", put, &conditional_put_bodies),
    ] {
        group.bench_function(name, |b| {
            let mut next = 0usize;
            b.iter(|| {
                let body = &requests[next % requests.len()];
                next = next.wrapping_add(1);
                black_box(json::handle(handler, &ctx, black_box(body)).expect("request succeeds"))
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = json_item, ops_requests
}
criterion_main!(benches);
