//! What only the disk backend promises: data survives closing, reopening and a killed
//! process; Sync mode's group commit; fast start-up; one process per directory.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{committed, put_all};
use stator_storage::{DiskStorage, Durability, Storage};

fn open(path: &Path) -> DiskStorage {
    DiskStorage::open(path, Durability::Process).unwrap()
}

#[test]
fn open_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("db");
    let storage = open(&path);
    put_all(&storage, &[(b"k", b"v")]);
    assert!(path.is_dir());
}

#[test]
fn reopen_sees_committed_writes_and_not_uncommitted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let storage = open(&path);
        put_all(&storage, &[(b"a", b"1"), (b"b", b"1"), (b"c", b"1")]);
        let mut tx = storage.begin_write().unwrap();
        tx.put(b"a", b"2").unwrap();
        tx.delete(b"b").unwrap();
        tx.commit().unwrap();
        let mut dropped = storage.begin_write().unwrap();
        dropped.put(b"uncommitted", b"x").unwrap();
        dropped.delete(b"c").unwrap();
        drop(dropped);
    }
    let storage = open(&path);
    assert_eq!(
        committed(&storage),
        vec![
            (b"a".to_vec(), b"2".to_vec()),
            (b"c".to_vec(), b"1".to_vec()),
        ]
    );
}

#[test]
fn flush_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let storage = DiskStorage::open(&path, Durability::Sync).unwrap();
        put_all(&storage, &[(b"k", b"v")]);
        storage.flush().unwrap();
    }
    assert_eq!(
        open(&path)
            .snapshot()
            .unwrap()
            .get(b"k")
            .unwrap()
            .map(stator_storage::Bytes::into_vec),
        Some(b"v".to_vec())
    );
}

#[test]
fn a_second_open_of_the_same_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let _first = open(&path);
    assert!(DiskStorage::open(&path, Durability::Process).is_err());
}

#[test]
fn sync_mode_with_concurrent_committers() {
    const THREADS: u32 = 8;
    const COMMITS: u32 = 25;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let storage = DiskStorage::open(&path, Durability::Sync).unwrap();
        assert_eq!(storage.durability(), Durability::Sync);
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let storage = &storage;
                scope.spawn(move || {
                    for commit in 0..COMMITS {
                        let mut tx = storage.begin_write().unwrap();
                        tx.put(&[thread.to_be_bytes(), commit.to_be_bytes()].concat(), b"v")
                            .unwrap();
                        let count = tx
                            .get(b"count")
                            .unwrap()
                            .map_or(0, |v| u32::from_be_bytes((&*v).try_into().unwrap()));
                        tx.put(b"count", &(count + 1).to_be_bytes()).unwrap();
                        tx.commit().unwrap();
                    }
                });
            }
        });
    }
    let storage = open(&path);
    let snapshot = storage.snapshot().unwrap();
    let count = snapshot
        .get(b"count")
        .unwrap()
        .map(stator_storage::Bytes::into_vec)
        .unwrap();
    assert_eq!(
        u32::from_be_bytes(count.try_into().unwrap()),
        THREADS * COMMITS
    );
    assert_eq!(
        common::scan_all(&*snapshot).len(),
        (THREADS * COMMITS + 1) as usize
    );
}

/// Start-up must be quick: the server has to answer within 50 ms of launch.
#[test]
fn open_existing_is_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let storage = open(&path);
        for batch in 0..50u32 {
            let mut tx = storage.begin_write().unwrap();
            for i in 0..100u32 {
                tx.put(&[batch.to_be_bytes(), i.to_be_bytes()].concat(), &[7; 100])
                    .unwrap();
            }
            tx.commit().unwrap();
        }
    }
    let mut fastest = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let storage = open(&path);
        fastest = fastest.min(started.elapsed());
        assert_eq!(
            storage
                .snapshot()
                .unwrap()
                .get(&[0; 8])
                .unwrap()
                .map(stator_storage::Bytes::into_vec),
            Some(vec![7; 100])
        );
    }
    println!("open of an existing directory with 5000 keys: {fastest:?}");
    // Measured at ~10 ms (fjall fsyncs the journal on recovery); the fastest of five
    // attempts absorbs a busy test machine.
    assert!(fastest < Duration::from_millis(50), "open took {fastest:?}");
}

/// Process durability: a commit that returned is in the OS when the process is killed.
///
/// The test runs itself as a child process that commits and then sends itself SIGKILL
/// (no destructors, no buffer flushes); the parent reopens the directory. If commits left
/// their journal record in fjall's in-process buffer, the last ones would be lost.
#[cfg(unix)]
#[test]
fn process_mode_commit_survives_kill() {
    use std::os::unix::process::ExitStatusExt;

    const CHILD_ENV: &str = "STATOR_STORAGE_KILL_CHILD_DIR";
    const COMMITS: u32 = 20;
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        let storage = open(Path::new(&path));
        for i in 0..COMMITS {
            put_all(&storage, &[(&i.to_be_bytes(), b"committed")]);
        }
        let mut open_tx = storage.begin_write().unwrap();
        open_tx.put(b"uncommitted", b"x").unwrap();
        std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_secs(10));
        unreachable!("the child should have been killed");
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "process_mode_commit_survives_kill",
            "--exact",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "child did not die by SIGKILL: {status:?}"
    );
    let storage = open(&path);
    let snapshot = storage.snapshot().unwrap();
    for i in 0..COMMITS {
        assert_eq!(
            snapshot
                .get(&i.to_be_bytes())
                .unwrap()
                .map(stator_storage::Bytes::into_vec),
            Some(b"committed".to_vec()),
            "commit {i} lost"
        );
    }
    assert_eq!(
        snapshot
            .get(b"uncommitted")
            .unwrap()
            .map(stator_storage::Bytes::into_vec),
        None
    );
}
