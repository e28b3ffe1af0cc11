//! Parallel Scan through the real binary and the official Rust SDK, on both backends: a
//! table of 5,000 items (1,250 partitions of 4 items) scanned with TotalSegments 1, 3, 8,
//! 100 and 10,000 (twice as many segments as items, most of them empty), each segment paged
//! with a small Limit. Every item must come back from exactly one segment, exactly once.
//! A whole-table Scan paged with Limit returns every item once, in hash order (not the
//! order of insertion, not key order), the same order every time.
//!
//! The table is loaded once per backend; the checks then run one after another and all
//! failures are reported together.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue as Av, Select};
use aws_sdk_dynamodb::Client;
use common::schema::{on_demand_table, N, S};
use common::{error_of, n, s, unique_name, Backend, TestServer};

/// The table's short name (each load gets a unique name built from it).
const TABLE: &str = "Events";
const PARTITIONS: usize = 1_250;
const PER_PARTITION: usize = 4;
const ITEMS: usize = PARTITIONS * PER_PARTITION;

type Key = (String, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_scan_memory() {
    if let Some(server) = TestServer::for_variant(Backend::Memory, "parallel_scan") {
        run_all(server.client()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_scan_disk() {
    if let Some(server) = TestServer::for_variant(Backend::Disk, "parallel_scan") {
        run_all(server.client()).await;
    }
}

/// Partition keys in insertion order: `device-0000` … `device-1249`; sort keys 0–3.
fn key_at(i: usize) -> Key {
    (
        format!("device-{:04}", i / PER_PARTITION),
        (i % PER_PARTITION).to_string(),
    )
}

fn key_of(item: &HashMap<String, Av>) -> Key {
    match (item.get("pk"), item.get("sk")) {
        (Some(Av::S(pk)), Some(Av::N(sk))) => (pk.clone(), sk.clone()),
        other => panic!("item without its key: {other:?}"),
    }
}

/// Creates and fills the table; returns its name.
async fn load(client: &Client) -> String {
    let table = unique_name(TABLE);
    on_demand_table(client, &table, &[("pk", S), ("sk", N)]).await;
    // Inserted in key order by 16 writers, each a contiguous slice.
    let mut tasks = tokio::task::JoinSet::new();
    let slice = ITEMS.div_ceil(16);
    for w in 0..16 {
        let client = client.clone();
        let table = table.clone();
        tasks.spawn(async move {
            for i in w * slice..((w + 1) * slice).min(ITEMS) {
                let (pk, sk) = key_at(i);
                client
                    .put_item()
                    .table_name(&table)
                    .item("pk", s(&pk))
                    .item("sk", Av::N(sk))
                    .item("seq", n(&i.to_string()))
                    .item("kind", s(if i % 7 == 0 { "alarm" } else { "reading" }))
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    table
}

/// One segment paged to its end with `limit`: the keys it returned, the number of requests,
/// and any rule a page broke.
async fn scan_segment(
    client: Client,
    table: &str,
    segment: Option<(i32, i32)>,
    limit: Option<i32>,
) -> (Vec<Key>, usize, Vec<String>) {
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    let mut start = None;
    let mut requests = 0;
    loop {
        requests += 1;
        let mut req = client
            .scan()
            .table_name(table)
            .set_limit(limit)
            .set_exclusive_start_key(start.take());
        if let Some((seg, total)) = segment {
            req = req.segment(seg).total_segments(total);
        }
        let page = match req.send().await {
            Ok(page) => page,
            Err(e) => {
                problems.push(format!("segment {segment:?}: {:?}", error_of(&e)));
                return (keys, requests, problems);
            }
        };
        if let Some(l) = limit {
            if page.scanned_count() > l {
                problems.push(format!(
                    "segment {segment:?}: a page scanned {} items with Limit {l}",
                    page.scanned_count()
                ));
            }
        }
        if page.count() as usize != page.items().len() {
            problems.push(format!(
                "segment {segment:?}: Count {} but {} items",
                page.count(),
                page.items().len()
            ));
        }
        keys.extend(page.items().iter().map(key_of));
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return (keys, requests, problems),
        }
        if requests > 20_000 {
            problems.push(format!("segment {segment:?}: runaway paging"));
            return (keys, requests, problems);
        }
    }
}

/// Scans all `total` segments, `parallel` at a time, each paged with `limit`; checks that
/// every item came back exactly once. Returns the number of non-empty segments.
async fn check_segments(
    client: &Client,
    table: &str,
    total: i32,
    limit: Option<i32>,
    parallel: usize,
    failures: &mut Vec<String>,
) -> usize {
    let mut seen: HashMap<Key, i32> = HashMap::new();
    let mut duplicates = Vec::new();
    let mut non_empty = 0;
    let mut next = 0;
    let mut tasks = tokio::task::JoinSet::new();
    while next < total || !tasks.is_empty() {
        while next < total && tasks.len() < parallel {
            let client = client.clone();
            let table = table.to_string();
            let segment = next;
            tasks.spawn(async move {
                let result = scan_segment(client, &table, Some((segment, total)), limit).await;
                (segment, result)
            });
            next += 1;
        }
        let (segment, (keys, _, problems)) = tasks.join_next().await.unwrap().unwrap();
        failures.extend(problems);
        if !keys.is_empty() {
            non_empty += 1;
        }
        let mut local = HashSet::new();
        for key in keys {
            if !local.insert(key.clone()) {
                duplicates.push(format!("{key:?} twice in segment {segment}"));
            }
            if let Some(other) = seen.insert(key.clone(), segment) {
                if other != segment {
                    duplicates.push(format!("{key:?} in segments {other} and {segment}"));
                }
            }
        }
    }
    let what = format!("TotalSegments={total} Limit={limit:?}");
    if !duplicates.is_empty() {
        failures.push(format!(
            "{what}: {} duplicates, e.g. {:?}",
            duplicates.len(),
            &duplicates[..duplicates.len().min(5)]
        ));
    }
    let missing: Vec<Key> = (0..ITEMS)
        .map(key_at)
        .filter(|k| !seen.contains_key(k))
        .collect();
    if !missing.is_empty() {
        failures.push(format!(
            "{what}: {} items missing, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    let expected: HashSet<Key> = (0..ITEMS).map(key_at).collect();
    let extra = seen.keys().filter(|k| !expected.contains(*k)).count();
    if extra > 0 {
        failures.push(format!("{what}: {extra} items that were never written"));
    }
    non_empty
}

async fn run_all(client: Client) {
    let table = load(&client).await;
    let mut failures: Vec<String> = Vec::new();

    // The table holds what was written.
    let count = client
        .scan()
        .table_name(&table)
        .select(Select::Count)
        .send()
        .await
        .unwrap();
    if count.count() as usize != ITEMS || count.last_evaluated_key().is_some() {
        failures.push(format!(
            "Select=COUNT scan: Count {} ScannedCount {} LastEvaluatedKey {:?}",
            count.count(),
            count.scanned_count(),
            count.last_evaluated_key()
        ));
    }

    // A whole-table Scan paged with Limit: every item once, in hash order, repeatably.
    let (first, requests, problems) = scan_segment(client.clone(), &table, None, Some(97)).await;
    failures.extend(problems);
    if requests != ITEMS.div_ceil(97) {
        failures.push(format!(
            "full scan with Limit 97 took {requests} requests, expected {}",
            ITEMS.div_ceil(97)
        ));
    }
    let distinct: HashSet<&Key> = first.iter().collect();
    if first.len() != ITEMS || distinct.len() != ITEMS {
        failures.push(format!(
            "full scan returned {} items, {} distinct, expected {ITEMS}",
            first.len(),
            distinct.len()
        ));
    }
    let inserted: Vec<Key> = (0..ITEMS).map(key_at).collect();
    if first == inserted {
        failures.push("full scan returned the items in insertion (= key) order".into());
    }
    // Items of one partition come back together, in sort key order.
    let mut partitions_seen = HashSet::new();
    let mut previous: Option<&Key> = None;
    for key in &first {
        match previous {
            Some(p) if p.0 == key.0 => {
                if p.1.parse::<u32>().unwrap() + 1 != key.1.parse::<u32>().unwrap() {
                    failures.push(format!("partition {} out of sort key order", key.0));
                    break;
                }
            }
            _ => {
                if !partitions_seen.insert(key.0.clone()) {
                    failures.push(format!("partition {} split across the scan", key.0));
                    break;
                }
            }
        }
        previous = Some(key);
    }
    let (again, _, problems) = scan_segment(client.clone(), &table, None, Some(500)).await;
    failures.extend(problems);
    if again != first {
        failures.push("two full scans of an unchanged table returned different orders".into());
    }
    // Limit equal to the table size: a LastEvaluatedKey, then an empty page.
    let (exact, requests, problems) =
        scan_segment(client.clone(), &table, None, Some(ITEMS as i32)).await;
    failures.extend(problems);
    if exact != first || requests != 2 {
        failures.push(format!(
            "scan with Limit {ITEMS}: {} items in {requests} requests, expected {ITEMS} in 2",
            exact.len()
        ));
    }

    // TotalSegments 1 is the whole table, in the same order.
    let (one, _, problems) = scan_segment(client.clone(), &table, Some((0, 1)), Some(250)).await;
    failures.extend(problems);
    if one != first {
        failures.push("Segment 0 of 1 differs from a full scan".into());
    }

    // Segments scanned concurrently, as a parallel scan does, with small limits.
    for (total, limit, parallel) in [
        (1, Some(50), 1),
        (3, Some(50), 3),
        (8, Some(25), 8),
        (100, Some(7), 16),
    ] {
        let non_empty =
            check_segments(&client, &table, total, limit, parallel, &mut failures).await;
        // 1,250 partitions spread over the hash space: a handful of segments all get some
        // (a split that leaves one empty is not splitting the hash space).
        if total <= 8 && non_empty != total as usize {
            failures.push(format!(
                "TotalSegments={total}: only {non_empty} segments returned items"
            ));
        }
    }
    // More segments than items: most segments are empty, none returns an item twice.
    let non_empty = check_segments(&client, &table, 10_000, Some(3), 32, &mut failures).await;
    if non_empty > PARTITIONS {
        failures.push(format!(
            "TotalSegments=10000: {non_empty} non-empty segments for {PARTITIONS} partitions \
             (a partition's items belong to one segment)"
        ));
    }
    if non_empty < 2 {
        failures.push(format!(
            "TotalSegments=10000: {non_empty} non-empty segments"
        ));
    }

    // A filtered parallel scan: Count adds up to the matching items, ScannedCount to all.
    let mut counted = 0;
    let mut scanned = 0;
    for segment in 0..4 {
        let out = client
            .scan()
            .table_name(&table)
            .segment(segment)
            .total_segments(4)
            .filter_expression("kind = :k")
            .expression_attribute_values(":k", s("alarm"))
            .send()
            .await
            .unwrap();
        if out.last_evaluated_key().is_some() {
            failures.push(format!(
                "filtered segment {segment} of 4 did not fit one page"
            ));
        }
        counted += out.count() as usize;
        scanned += out.scanned_count() as usize;
    }
    let alarms = (0..ITEMS).filter(|i| i % 7 == 0).count();
    if (counted, scanned) != (alarms, ITEMS) {
        failures.push(format!(
            "filtered parallel scan: Count {counted} ScannedCount {scanned}, \
             expected {alarms} and {ITEMS}"
        ));
    }

    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
