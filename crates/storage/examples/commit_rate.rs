//! A rough measurement of storage commit rates and disk start-up time, for the numbers
//! quoted in the backends' docs. Not a benchmark suite: one workload, two seconds each.
//!
//! Workload: a read-modify-write transaction per commit (get a ~20 B key among 10,000, put
//! back a 200 B value, commit), after a warm-up that writes every key once.
//!
//! Run: `cargo run --release -p stator-storage --example commit_rate -- DIR`
//! (DIR: a scratch directory on the disk to measure; its `commit-rate-*` children are
//! replaced).

use std::path::Path;
use std::time::{Duration, Instant};

use stator_storage::{DiskStorage, Durability, MemoryStorage, Storage, StorageError};

const RUN_FOR: Duration = Duration::from_secs(2);

fn read_modify_write(storage: &dyn Storage, i: u64) -> Result<(), StorageError> {
    let key = [b"table-0-item".as_slice(), &(i % 10_000).to_be_bytes()].concat();
    let mut tx = storage.begin_write()?;
    let mut value = tx.get(&key)?.map_or_else(|| vec![0; 200], |v| v.into_vec());
    value[0] = value[0].wrapping_add(1);
    tx.put(&key, &value)?;
    tx.commit()
}

fn measure(name: &str, storage: &dyn Storage, threads: u64) -> Result<(), StorageError> {
    for i in 0..10_000 {
        read_modify_write(storage, i)?;
    }
    let started = Instant::now();
    let commits = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || -> Result<u64, StorageError> {
                    let mut done = 0;
                    while started.elapsed() < RUN_FOR {
                        read_modify_write(storage, thread * 7_919 + done)?;
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("worker panicked"))
            .sum::<Result<u64, StorageError>>()
    })?;
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    println!("{name:<14} {threads:>2} thread(s): {rate:>9.0} commits/s");
    Ok(())
}

fn fresh(dir: &Path, name: &str, durability: Durability) -> Result<DiskStorage, StorageError> {
    let path = dir.join(format!("commit-rate-{name}"));
    if path.exists() {
        std::fs::remove_dir_all(&path).map_err(|e| StorageError::Io(e.to_string()))?;
    }
    DiskStorage::open(&path, durability)
}

fn main() -> Result<(), StorageError> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| StorageError::Other("usage: commit_rate DIR".into()))?;
    let dir = Path::new(&dir);
    measure("memory", &MemoryStorage::new(), 1)?;
    measure(
        "disk process",
        &fresh(dir, "process", Durability::Process)?,
        1,
    )?;
    for threads in [1, 8, 32] {
        measure("disk sync", &fresh(dir, "sync", Durability::Sync)?, threads)?;
    }

    // Start-up: reopen the process-mode directory (10,000 keys, journal not yet flushed).
    let path = dir.join("commit-rate-process");
    let mut fastest = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let storage = DiskStorage::open(&path, Durability::Process)?;
        fastest = fastest.min(started.elapsed());
        drop(storage);
    }
    println!("open existing (10,000 keys): {fastest:?} (fastest of 5)");
    Ok(())
}
