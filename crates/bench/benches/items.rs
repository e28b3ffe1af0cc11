//! Micro-benchmarks of the per-item work below the JSON layer:
//!
//! - `keycodec`: the order-preserving key encodings of `stator_types::keycodec` (a string
//!   key last in the key and followed by a sort key, a number, a binary), decoding a number
//!   key, the partition hash, and the engine's whole storage key (`keys::item_key`).
//! - `item_size`: DynamoDB's item size rules for a small item and a ~1 KB item.
//! - `itemcodec`: the binary storage encoding of items, both ways, small and ~1 KB.
//!
//! Run with `cargo bench -p stator-bench --bench items` (add `-- --quick` for a fast pass).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stator_types::keycodec::{
    decode_key_value, encode_key_value, encode_number_key, partition_hash, KeyType,
};
use stator_types::{
    decode_item, encode_item, item_size, write_item_json, AttributeValue, Item, Number,
};

fn number(text: &str) -> Number {
    Number::parse(text).expect("benchmark numbers are valid")
}

fn string(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

/// A small item: a key and two short attributes.
fn small_item() -> Item {
    BTreeMap::from([
        ("pk".to_string(), string("user#000042")),
        ("n".to_string(), AttributeValue::N(number("42"))),
        ("name".to_string(), string("Ada Lovelace")),
    ])
}

/// A ~1 KB order, shaped like the `query-1kb` workload's items: 14 attributes, short and
/// long strings (prose with spaces and punctuation), three numbers.
fn order_item() -> Item {
    let prose = |len: usize| -> String {
        let words = [
            "parcel",
            "left",
            "at",
            "the",
            "door,",
            "signed",
            "by",
            "a",
            "neighbour.",
        ];
        let mut text = String::new();
        let mut i = 0;
        while text.len() < len {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(words[i % words.len()]);
            i += 1;
        }
        text.truncate(len);
        text
    };
    BTreeMap::from([
        ("pk".to_string(), string("cust#000042")),
        ("sk".to_string(), string("order#0007")),
        ("status".to_string(), string("SHIPPED")),
        ("placed_at".to_string(), string("2026-11-30T17:04:55Z")),
        ("customer".to_string(), string("Ada Lovelace")),
        ("email".to_string(), string("ada.lovelace@example.com")),
        ("street".to_string(), string("12 Analytical Engine Road")),
        ("city".to_string(), string("London")),
        (
            "product".to_string(),
            string("Difference engine spare gear, brass"),
        ),
        ("quantity".to_string(), AttributeValue::N(number("3"))),
        ("price".to_string(), AttributeValue::N(number("129.95"))),
        ("weight_g".to_string(), AttributeValue::N(number("4200"))),
        ("notes".to_string(), AttributeValue::S(prose(400))),
        ("review".to_string(), AttributeValue::S(prose(297))),
    ])
}

/// A ~1 KB item: a key, a number, a 1000-character string, a map and a list.
fn large_item() -> Item {
    let payload: String = (0..1000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let profile: Item = BTreeMap::from([
        ("city".to_string(), string("Lisbon")),
        ("zip".to_string(), AttributeValue::N(number("1100"))),
        ("active".to_string(), AttributeValue::Bool(true)),
    ]);
    BTreeMap::from([
        ("pk".to_string(), string("user#000042")),
        ("n".to_string(), AttributeValue::N(number("42"))),
        ("payload".to_string(), AttributeValue::S(payload)),
        ("profile".to_string(), AttributeValue::M(profile)),
        (
            "tags".to_string(),
            AttributeValue::L(vec![
                string("red"),
                string("green"),
                AttributeValue::N(number("3.14")),
                AttributeValue::Null,
            ]),
        ),
    ])
}

fn keycodec(c: &mut Criterion) {
    let string_key = string("user#000042:orders");
    let number_key = AttributeValue::N(number("-12345.6789"));
    let number_value = number("-12345.6789");
    let binary_key = AttributeValue::B((0u8..16).collect());
    let mut encoded_number = Vec::new();
    encode_number_key(&number_value, &mut encoded_number);
    let mut encoded_partition = Vec::new();
    encode_key_value(&string_key, false, &mut encoded_partition);
    let sort_key = AttributeValue::N(number("1714564800"));

    let mut group = c.benchmark_group("keycodec");
    // Each encoder appends to a reused buffer, as the engine's key builders do.
    let mut out = Vec::with_capacity(64);
    group.bench_function("encode_string_last", |b| {
        b.iter(|| {
            out.clear();
            encode_key_value(black_box(&string_key), true, &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("encode_string_followed", |b| {
        b.iter(|| {
            out.clear();
            encode_key_value(black_box(&string_key), false, &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("encode_number", |b| {
        b.iter(|| {
            out.clear();
            encode_key_value(black_box(&number_key), true, &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("encode_binary_16b", |b| {
        b.iter(|| {
            out.clear();
            encode_key_value(black_box(&binary_key), false, &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("decode_number", |b| {
        b.iter(|| {
            black_box(
                decode_key_value(KeyType::N, true, black_box(&encoded_number)).expect("decodes"),
            )
        })
    });
    group.bench_function("partition_hash", |b| {
        b.iter(|| black_box(partition_hash(black_box(&encoded_partition))))
    });
    group.bench_function("item_key_string_number", |b| {
        b.iter(|| {
            black_box(stator_engine::keys::item_key(
                black_box(7),
                black_box(&string_key),
                Some(black_box(&sort_key)),
            ))
        })
    });
    group.finish();
}

fn sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("item_size");
    for (name, item) in [
        ("small", small_item()),
        ("1kb", large_item()),
        ("order", order_item()),
    ] {
        group.throughput(Throughput::Bytes(item_size(&item) as u64));
        group.bench_function(name, |b| b.iter(|| black_box(item_size(black_box(&item)))));
    }
    group.finish();
}

fn itemcodec(c: &mut Criterion) {
    let mut group = c.benchmark_group("itemcodec");
    for (name, item) in [
        ("small", small_item()),
        ("1kb", large_item()),
        ("order", order_item()),
    ] {
        let mut encoded = Vec::new();
        encode_item(&item, &mut encoded);
        assert_eq!(
            decode_item(&encoded).expect("decodes"),
            item,
            "the codec round-trips the benchmark item"
        );
        group.throughput(Throughput::Bytes(encoded.len() as u64));
        let mut out = Vec::with_capacity(encoded.len());
        group.bench_function(format!("encode_{name}"), |b| {
            b.iter(|| {
                out.clear();
                encode_item(black_box(&item), &mut out);
                black_box(out.len())
            })
        });
        group.bench_function(format!("decode_{name}"), |b| {
            b.iter(|| black_box(decode_item(black_box(&encoded)).expect("decodes")))
        });
        // Stored bytes to response JSON: the old path (decode, then serde) against the
        // transcoder the read responses use.
        let mut json = Vec::with_capacity(encoded.len() * 2);
        group.bench_function(format!("to_json_via_decode_serde_{name}"), |b| {
            b.iter(|| {
                json.clear();
                let item = decode_item(black_box(&encoded)).expect("decodes");
                serde_json::to_writer(&mut json, &item).expect("writes");
                black_box(json.len())
            })
        });
        group.bench_function(format!("to_json_transcode_{name}"), |b| {
            b.iter(|| {
                json.clear();
                write_item_json(black_box(&encoded), &mut json).expect("transcodes");
                black_box(json.len())
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
    targets = keycodec, sizes, itemcodec
}
criterion_main!(benches);
