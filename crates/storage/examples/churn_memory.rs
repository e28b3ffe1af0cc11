//! Where the disk backend's memory goes under DDL churn: the storage traffic of
//! `scripts/soak.py` (tables and global secondary indexes created, filled, backfilled and
//! dropped), replayed against `DiskStorage` directly, printing the process's resident size
//! next to fjall's own accounting (`DiskStorage::stats`) so the two can be compared.
//!
//! It uses mimalloc as the global allocator, as the `stator` binary does.
//!
//! Run: `cargo run --release -p stator-storage --example churn_memory -- SECONDS
//! [memtable MiB] [cache MiB]` (defaults: 120 s and the server's settings).
//!
//! Per cycle, as the engine does it for one table (keys laid out like the engine's):
//! create (a catalog record), 200 items of ~1 KB each in its own transaction with its
//! stats record and the entry of one index, a backfill of a second index in
//! transactions of up to 1000 items, a few reads, the first index dropped, and the table
//! created three cycles earlier dropped: its data deleted in transactions of 1000 keys,
//! each starting from the prefix again, as the engine's background worker does.

use std::ops::Bound;
use std::time::{Duration, Instant};

use stator_storage::{Direction, DiskOptions, DiskStorage, Storage, StorageError};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ITEMS: u32 = 200;
const BATCH: usize = 1000;
const ALIVE: usize = 3;

fn prefix(tag: u8, id: u32) -> Vec<u8> {
    [&[tag][..], &id.to_be_bytes()].concat()
}

fn item_key(table: u32, i: u32) -> Vec<u8> {
    let hash = u64::from(i % 37).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    [
        prefix(1, table),
        hash.to_be_bytes().to_vec(),
        format!("p{}", i % 37).into_bytes(),
        vec![0, 0],
        i.to_be_bytes().to_vec(),
    ]
    .concat()
}

fn index_key(index: u32, group: u32, table_key: &[u8]) -> Vec<u8> {
    let hash = u64::from(group).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    [
        prefix(2, index),
        hash.to_be_bytes().to_vec(),
        format!("g{group}").into_bytes(),
        vec![0, 0],
        table_key.to_vec(),
    ]
    .concat()
}

fn value(i: u32) -> Vec<u8> {
    let mut x = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..1100)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 16) as u8
        })
        .collect()
}

fn add(
    tx: &mut dyn stator_storage::WriteTransaction,
    key: &[u8],
    delta: i64,
) -> Result<(), StorageError> {
    let old = tx.get(key)?.map_or(0, |v| {
        i64::from_be_bytes(v[..8].try_into().unwrap_or([0; 8]))
    });
    tx.put(key, &(old + delta).to_be_bytes())
}

/// Deletes every key under `prefix`, 1000 per transaction, each scan starting at the prefix.
fn drop_prefix(storage: &DiskStorage, prefix: &[u8]) -> Result<(), StorageError> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    loop {
        let mut tx = storage.begin_write()?;
        let keys: Vec<stator_storage::Bytes> = tx
            .range(
                Bound::Included(prefix),
                Bound::Excluded(&end),
                Direction::Forward,
            )?
            .take(BATCH)
            .map(|pair| pair.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        for key in &keys {
            tx.delete(key)?;
        }
        tx.commit()?;
        if keys.len() < BATCH {
            return Ok(());
        }
    }
}

fn cycle(storage: &DiskStorage, n: u32) -> Result<(), StorageError> {
    let table = n * 3 + 1;
    let (index1, index2) = (table + 1, table + 2);
    let mut tx = storage.begin_write()?;
    tx.put(
        &[&[0, b't'][..], format!("churn-{n:06}").as_bytes()].concat(),
        &[b'{'; 900],
    )?;
    tx.put(&prefix(0x73, table), &[0; 16])?;
    tx.commit()?;
    for i in 0..ITEMS {
        let key = item_key(table, i);
        let mut tx = storage.begin_write()?;
        let _old = tx.get(&key)?;
        tx.put(&key, &value(i))?;
        add(tx.as_mut(), &prefix(0x73, table), 1)?;
        tx.put(&index_key(index1, i % 11, &key), &value(i))?;
        add(tx.as_mut(), &prefix(0x73, index1), 1)?;
        tx.commit()?;
    }
    // Backfill of the second index.
    let mut tx = storage.begin_write()?;
    let items: Vec<(stator_storage::Bytes, stator_storage::Bytes)> = tx
        .range(
            Bound::Included(&prefix(1, table)),
            Bound::Excluded(&prefix(1, table + 1)),
            Direction::Forward,
        )?
        .take(BATCH)
        .collect::<Result<_, _>>()?;
    for (i, (key, value)) in items.iter().enumerate() {
        tx.put(&index_key(index2, i as u32 % 13, key), value)?;
        add(tx.as_mut(), &prefix(0x73, index2), 1)?;
    }
    tx.commit()?;
    // Reads: DescribeTable polls, two Queries, five GetItems.
    for i in 0..10 {
        let snapshot = storage.snapshot()?;
        snapshot.get(&prefix(0x73, table))?;
        snapshot.get(&item_key(table, i * 20))?;
    }
    for index in [index1, index2] {
        let snapshot = storage.snapshot()?;
        let start = prefix(2, index);
        let end = prefix(2, index + 1);
        let _ = snapshot
            .range(
                Bound::Included(&start),
                Bound::Excluded(&end),
                Direction::Forward,
            )?
            .take(20)
            .count();
    }
    drop_prefix(storage, &prefix(2, index1))?;
    if n >= ALIVE as u32 {
        let old = (n - ALIVE as u32) * 3 + 1;
        for id in [old, old + 2] {
            drop_prefix(storage, &prefix(1, id))?;
            drop_prefix(storage, &prefix(2, id))?;
        }
    }
    Ok(())
}

fn resident_mb() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("Rss:"), field("Anonymous:"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).map_or(Ok(120), |a| a.parse())?;
    let mut options = DiskOptions::default();
    if let Some(mib) = args.get(2) {
        options.memtable_bytes = mib.parse::<u64>()? << 20;
    }
    if let Some(mib) = args.get(3) {
        options.cache_bytes = mib.parse::<u64>()? << 20;
    }
    let dir = tempfile::tempdir()?;
    let storage = DiskStorage::open_with(&dir.path().join("db"), options.clone())?;
    println!(
        "churn for {seconds} s, memtable {} MiB, cache {} MiB",
        options.memtable_bytes >> 20,
        options.cache_bytes >> 20
    );
    println!(
        "{:>5} {:>6} {:>7} {:>7} {:>9} {:>9} {:>5} {:>6} {:>7} {:>6} {:>5} {:>7}",
        "t s",
        "cycles",
        "RSS MB",
        "anon",
        "wbuf MB",
        "kept MB",
        "vers",
        "sealed",
        "cache",
        "tables",
        "jnls",
        "disk MB"
    );
    let mb = |bytes: u64| bytes as f64 / 1048576.0;
    let started = Instant::now();
    let mut next = started;
    let mut n = 0;
    loop {
        if Instant::now() >= next {
            let (rss, anon) = resident_mb();
            let s = storage.stats()?;
            println!(
                "{:5.0} {:6} {:7.1} {:7.1} {:9.1} {:9.1} {:5} {:6} {:7.1} {:6} {:5} {:7.1}",
                started.elapsed().as_secs_f64(),
                n,
                rss,
                anon,
                mb(s.write_buffer_bytes),
                mb(s.memtables_retained_bytes),
                s.versions,
                s.sealed_memtables,
                mb(s.cache_bytes),
                s.table_files,
                s.journals,
                mb(s.disk_bytes)
            );
            if started.elapsed() >= Duration::from_secs(seconds) {
                return Ok(());
            }
            next += Duration::from_secs(10);
        }
        cycle(&storage, n)?;
        n += 1;
    }
}
