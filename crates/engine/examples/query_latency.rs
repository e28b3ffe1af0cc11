//! Benchmark: Query latency for one 100-item partition as the table grows.
//!
//! Loads a table in steps (10 thousand, 100 thousand, 1 million items, in partitions of 100
//! items of ~200 bytes) and after each step measures the latency of Querying one random
//! 100-item partition, on the on-disk backend by default (`--memory` for in-memory). A Query
//! is a range scan of one partition's keys, so its cost should not depend on the table size.
//!
//! ```sh
//! cargo run --release -p stator-engine --example query_latency -- [--memory] [--max N]
//! ```
//! Prints one line per size: items, p50 / p90 / p99 latency in microseconds over 2000
//! queries of random partitions, the ratio of p50 to the first size's p50, and the p50 of
//! 2000 queries of one *hot* partition (the same one each time). Every query returns exactly
//! 100 items (checked), so the work per query is constant; the hot column separates the
//! cost of the work from the cost of fetching a cold partition from memory or disk.

use std::sync::Arc;
use std::time::Instant;

use stator_engine::ddl::NewTable;
use stator_engine::items::PutRequest;
use stator_engine::query::{QueryRequest, Select};
use stator_engine::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType};
use stator_engine::{Engine, EngineConfig};
use stator_storage::{DiskStorage, Durability, MemoryStorage, Storage};
use stator_types::{AttributeValue, Item, Number};

const PARTITION_SIZE: u64 = 100;
const QUERIES: usize = 2000;

/// A small deterministic generator (xorshift), so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let memory = args.iter().any(|a| a == "--memory");
    let max: u64 = args
        .iter()
        .position(|a| a == "--max")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let storage: Arc<dyn Storage> = if memory {
        Arc::new(MemoryStorage::new())
    } else {
        Arc::new(DiskStorage::open(dir.path(), Durability::Process)?)
    };
    let engine = Engine::open(storage, EngineConfig::default())?;
    let key = |name: &str, t| KeyAttribute {
        name: name.to_string(),
        attr_type: t,
    };
    engine.create_table(NewTable {
        name: "bench".into(),
        region: "us-east-1".into(),
        attribute_definitions: vec![key("pk", ScalarType::S), key("sk", ScalarType::N)],
        key_schema: KeySchema::simple(key("pk", ScalarType::S), Some(key("sk", ScalarType::N))),
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        on_demand: None,
        warm: None,
        global_indexes: Vec::new(),
        local_indexes: Vec::new(),
        stream_view_type: None,
        sse: None,
        table_class: None,
        deletion_protection: false,
        tags: Vec::new(),
    })?;
    let payload = AttributeValue::S("x".repeat(180));
    let mut loaded = 0u64;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut first_p50 = None;
    println!("backend: {}", if memory { "memory" } else { "disk" });
    println!(
        "{:>10} {:>9} {:>9} {:>9} {:>7} {:>11}",
        "items", "p50 µs", "p90 µs", "p99 µs", "p50/x", "hot p50 µs"
    );
    let mut size = 10_000u64;
    while size <= max {
        while loaded < size {
            let partition = loaded / PARTITION_SIZE;
            let item: Item = [
                ("pk".to_string(), AttributeValue::S(format!("p{partition}"))),
                (
                    "sk".to_string(),
                    AttributeValue::N(Number::from_i64((loaded % PARTITION_SIZE) as i64)),
                ),
                ("data".to_string(), payload.clone()),
            ]
            .into_iter()
            .collect();
            engine.put_item(PutRequest {
                table: "bench".into(),
                item,
                ..Default::default()
            })?;
            loaded += 1;
        }
        let partitions = size / PARTITION_SIZE;
        let mut times = Vec::with_capacity(QUERIES);
        let mut hot_times = Vec::with_capacity(QUERIES);
        for round in 0..2 * QUERIES {
            let hot = round >= QUERIES;
            let p = if hot { 0 } else { rng.next() % partitions };
            let start = Instant::now();
            let page = engine.query(QueryRequest {
                table: "bench".into(),
                index: None,
                key_condition: stator_expr::KeyCondition {
                    partition: AttributeValue::S(format!("p{p}")),
                    sort: None,
                }
                .to_condition("pk", Some("sk")),
                filter: None,
                projection: None,
                select: Some(Select::AllAttributes),
                limit: None,
                forward: true,
                exclusive_start_key: None,
                consistent: false,
            })?;
            let micros = start.elapsed().as_secs_f64() * 1e6;
            if hot {
                hot_times.push(micros);
            } else {
                times.push(micros);
            }
            assert_eq!(page.count as u64, PARTITION_SIZE);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        hot_times.sort_by(|a, b| a.total_cmp(b));
        let p50 = percentile(&times, 0.5);
        let base = *first_p50.get_or_insert(p50);
        println!(
            "{:>10} {:>9.1} {:>9.1} {:>9.1} {:>7.2} {:>11.1}",
            size,
            p50,
            percentile(&times, 0.9),
            percentile(&times, 0.99),
            p50 / base,
            percentile(&hot_times, 0.5)
        );
        size *= 10;
    }
    Ok(())
}
