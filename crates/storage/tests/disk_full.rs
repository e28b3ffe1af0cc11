//! The disk backend on a file system that really runs out of space: a small tmpfs mounted
//! for each test, filled with a filler file until writes fail.
//!
//! What must hold (docs/storage.md, "Disk full"): while the disk is full, commits fail and
//! nothing of a failed commit becomes visible, reads keep working and `health()` says
//! "disk full"; once the filler is deleted, writes succeed again without reopening the
//! store by hand, health is back to `Ok`, and the committed state is exactly the
//! acknowledged commits — also after a restart.
//!
//! Mounting needs root (CI runs as root). Without root the tests print why and pass; as
//! root, a mount that fails fails the test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use stator_storage::{DiskOptions, DiskStorage, Durability, Storage, StorageError};

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (after saying why) when not running as root.
    fn mount(size: &str) -> Option<Tmpfs> {
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("cannot run mount");
        assert!(
            status.success(),
            "mount -t tmpfs -o size={size} on {} failed: {status}",
            dir.path().display()
        );
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Fills the file system with one file, then gives `leave` bytes back.
fn fill(path: &Path, leave: u64) -> PathBuf {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)
        .unwrap();
    let chunk = vec![0xA5u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(error) if error.raw_os_error() == Some(28) => break,
            Err(error) => panic!("filling {}: {error}", path.display()),
        }
    }
    file.set_len(written.saturating_sub(leave)).unwrap();
    path.to_path_buf()
}

fn options(durability: Durability, memtable_bytes: u64) -> DiskOptions {
    DiskOptions {
        durability,
        memtable_bytes,
        reopen_interval: Duration::from_millis(50),
        reopen_min_free_bytes: 256 * 1024,
        ..DiskOptions::default()
    }
}

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Value bytes that do not compress, different for every commit.
fn value(commit: u32, len: usize) -> Vec<u8> {
    let mut x = u64::from(commit).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Commit `n`: three item keys and a counter, all or nothing. Applied to the model only if
/// the commit is acknowledged.
fn commit(
    storage: &DiskStorage,
    model: &mut Model,
    n: u32,
    len: usize,
) -> Result<(), StorageError> {
    let mut tx = storage.begin_write()?;
    let writes: Vec<(Vec<u8>, Vec<u8>)> = (0..3u8)
        .map(|part| {
            (
                [b"item".as_slice(), &n.to_be_bytes(), &[part]].concat(),
                value(n, len),
            )
        })
        .chain(std::iter::once((
            b"count".to_vec(),
            n.to_be_bytes().to_vec(),
        )))
        .collect();
    for (key, value) in &writes {
        tx.put(key, value)?;
    }
    tx.commit()?;
    model.extend(writes);
    Ok(())
}

fn assert_state_is(storage: &DiskStorage, model: &Model, when: &str) {
    let state: Model = common::committed(storage).into_iter().collect();
    if state != *model {
        let extra: Vec<_> = state.keys().filter(|k| !model.contains_key(*k)).collect();
        let missing: Vec<_> = model.keys().filter(|k| !state.contains_key(*k)).collect();
        panic!(
            "{when}: stored state differs from the acknowledged commits: {} extra keys \
             (first {:?}), {} missing (first {:?}), {} keys in all",
            extra.len(),
            extra.first(),
            missing.len(),
            missing.first(),
            state.len()
        );
    }
}

/// Commits until one fails; returns the number of the failed commit.
fn write_until_full(storage: &DiskStorage, model: &mut Model, from: u32, len: usize) -> u32 {
    for n in from..from + 200_000 {
        if let Err(error) = commit(storage, model, n, len) {
            println!("commit {n} failed: {error}");
            return n;
        }
    }
    panic!("the file system never filled up");
}

/// Retries commits until one succeeds; panics after `limit`.
fn write_until_recovered(storage: &DiskStorage, model: &mut Model, n: u32, len: usize) -> Duration {
    let started = Instant::now();
    loop {
        match commit(storage, model, n, len) {
            Ok(()) => return started.elapsed(),
            Err(error) if started.elapsed() < Duration::from_secs(20) => {
                println!("still failing: {error}");
                std::thread::sleep(Duration::from_millis(40));
            }
            Err(error) => panic!("writes did not recover after space was freed: {error}"),
        }
    }
}

/// The whole story, for one durability mode and memtable size: fill, fail cleanly, free,
/// recover, restart. `len` is the value size of each of a commit's three items.
fn full_then_freed(durability: Durability, memtable_bytes: u64, leave: u64, len: usize) {
    let Some(fs) = Tmpfs::mount("24m") else {
        return;
    };
    let db = fs.path().join("db");
    let mut model = Model::new();
    let storage = DiskStorage::open_with(&db, options(durability, memtable_bytes)).unwrap();
    assert!(storage.health().is_ok());
    commit(&storage, &mut model, 0, len).unwrap();
    let filler = fill(&fs.path().join("filler"), leave);

    let failed = write_until_full(&storage, &mut model, 1, len);
    let health = storage
        .health()
        .expect_err("health must report the full disk");
    println!("health while full: {health}");
    assert!(health.starts_with("disk full: "), "{health}");
    assert!(health.contains("(since 20"), "{health}");
    // Nothing of the failed commit is visible; everything acknowledged is.
    assert_state_is(&storage, &model, "right after the failed commit");
    // Writes keep failing while the disk is full, reads keep working.
    for n in failed + 1..failed + 4 {
        assert!(
            commit(&storage, &mut model, n, len).is_err(),
            "commit {n} on a full disk"
        );
        std::thread::sleep(Duration::from_millis(60));
    }
    assert_state_is(&storage, &model, "while the disk is full");
    assert!(storage.health().is_err());

    std::fs::remove_file(&filler).unwrap();
    // A reader holding a snapshot across the recovery: the reopen waits for it.
    let snapshot_count = storage.snapshot().unwrap().get(b"count").unwrap();
    let took = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let snapshot = storage.snapshot().unwrap();
            std::thread::sleep(Duration::from_millis(300));
            snapshot.get(b"count").unwrap()
        });
        std::thread::sleep(Duration::from_millis(50));
        let took = write_until_recovered(&storage, &mut model, failed + 10, len);
        assert_eq!(
            reader.join().unwrap(),
            snapshot_count,
            "the old snapshot changed"
        );
        took
    });
    println!("writes recovered {took:?} after the filler was deleted");
    assert!(
        storage.health().is_ok(),
        "health after recovery: {:?}",
        storage.health()
    );
    assert_state_is(&storage, &model, "after recovery");
    for n in failed + 11..failed + 200 {
        commit(&storage, &mut model, n, len).unwrap();
    }
    assert_state_is(&storage, &model, "after more writes");
    drop(storage);

    let storage = DiskStorage::open_with(&db, options(durability, memtable_bytes)).unwrap();
    assert_state_is(&storage, &model, "after a restart");
    assert!(storage.health().is_ok());
}

/// Large memtables: the journal append is what fails. Small commits fit in fjall's write
/// buffer, so a failed one is still buffered when the database is closed for the reopen,
/// and fjall completes its record then: the backend must take it back.
#[test]
fn journal_append_fails_then_recovers() {
    full_then_freed(Durability::Process, 32 << 20, 1 << 20, 100);
}

#[test]
fn journal_append_fails_then_recovers_in_sync_mode() {
    full_then_freed(Durability::Sync, 32 << 20, 1 << 20, 100);
}

/// Small memtables and larger commits: background memtable flushes (and compactions) run
/// into the full disk too, fjall's worker threads stop, and the database refuses writes
/// before the journal is full.
#[test]
fn background_flush_fails_then_recovers() {
    full_then_freed(Durability::Process, 512 << 10, 1536 << 10, 2000);
}

/// Many threads writing while the disk fills and is freed: every commit that returned `Ok`
/// is there in the end, and no commit is there in part.
#[test]
fn concurrent_writers_through_a_full_disk() {
    let Some(fs) = Tmpfs::mount("24m") else {
        return;
    };
    let db = fs.path().join("db");
    let storage = DiskStorage::open_with(&db, options(Durability::Sync, 1 << 20)).unwrap();
    let filler = fill(&fs.path().join("filler"), 2 << 20);
    let freed = std::sync::atomic::AtomicBool::new(false);
    let models: Vec<Model> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4u32)
            .map(|thread| {
                let storage = &storage;
                let freed = &freed;
                scope.spawn(move || {
                    let mut model = Model::new();
                    let mut failures = 0;
                    let mut n = thread << 24;
                    let started = Instant::now();
                    while started.elapsed() < Duration::from_secs(30) {
                        n += 1;
                        match commit(storage, &mut model, n, 500) {
                            Ok(()) if freed.load(std::sync::atomic::Ordering::SeqCst) => {
                                if failures > 0 {
                                    break;
                                }
                            }
                            Ok(()) => {}
                            Err(_) => {
                                failures += 1;
                                std::thread::sleep(Duration::from_millis(5));
                            }
                        }
                    }
                    assert!(failures > 0, "writer {thread} never saw the disk full");
                    model.remove(b"count".as_slice());
                    model
                })
            })
            .collect();
        // Free the disk once every writer has seen it full (health says so).
        let started = Instant::now();
        while storage.health().is_ok() && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        std::fs::remove_file(&filler).unwrap();
        freed.store(true, std::sync::atomic::Ordering::SeqCst);
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut expected: Model = models.into_iter().flatten().collect();
    let check = |storage: &DiskStorage, expected: &Model, when: &str| {
        let mut state: Model = common::committed(storage).into_iter().collect();
        state.remove(b"count".as_slice());
        assert!(
            state == *expected,
            "{when}: {} stored keys, {} acknowledged",
            state.len(),
            expected.len()
        );
    };
    check(&storage, &expected, "after recovery");
    assert!(storage.health().is_ok());
    drop(storage);
    let storage = DiskStorage::open_with(&db, options(Durability::Sync, 1 << 20)).unwrap();
    check(&storage, &expected, "after a restart");
    commit(&storage, &mut expected, 1, 10).unwrap();
}

/// An ext4 file system on a loop device whose backing file lives on a smaller tmpfs: ext4
/// believes it has room, so write(2) succeeds, and the device's writes fail at writeback,
/// so fsync fails — what a thin-provisioned volume does when its pool runs out.
struct OverCommittedExt4 {
    lower: Tmpfs,
    device: String,
    upper: tempfile::TempDir,
}

impl OverCommittedExt4 {
    fn mount() -> Option<OverCommittedExt4> {
        let lower = Tmpfs::mount("24m")?;
        let image = lower.path().join("image");
        let run = |program: &str, args: &[&str]| {
            let output = Command::new(program)
                .args(args)
                .output()
                .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
            assert!(
                output.status.success(),
                "{program} {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        let image_arg = image.to_str().unwrap();
        run("truncate", &["-s", "256M", image_arg]);
        run("mkfs.ext4", &["-q", "-O", "^has_journal", image_arg]);
        let device = run("losetup", &["-f", "--show", image_arg]);
        let upper = tempfile::tempdir().unwrap();
        let fs = OverCommittedExt4 {
            lower,
            device,
            upper,
        };
        run("mount", &[&fs.device, fs.upper.path().to_str().unwrap()]);
        Some(fs)
    }
}

impl Drop for OverCommittedExt4 {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.upper.path()).status();
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

/// After a failed fsync, Stator never acknowledges another write: retrying the fsync (or
/// reopening and syncing) could report success without the data having been written.
#[test]
fn a_failed_fsync_refuses_writes_until_restart() {
    let Some(fs) = OverCommittedExt4::mount() else {
        return;
    };
    let db = fs.upper.path().join("db");
    // Memtables larger than the device's real room: no memtable flush writes a table file,
    // so the first writeback to fail is the journal's, in a commit's group sync.
    let storage = DiskStorage::open_with(&db, options(Durability::Sync, 64 << 20)).unwrap();
    let mut model = Model::new();
    let failed = write_until_full(&storage, &mut model, 0, 2000);
    let health = storage
        .health()
        .expect_err("health must report the failed fsync");
    println!("health after the failed fsync: {health}");
    assert!(
        health.starts_with("fsync of the journal failed"),
        "{health}"
    );
    // Give the device room again: writes must still be refused, however long we wait.
    let status = Command::new("mount")
        .args(["-o", "remount,size=512m"])
        .arg(fs.lower.path())
        .status()
        .unwrap();
    assert!(status.success(), "remounting the lower tmpfs failed");
    for n in failed + 1..failed + 6 {
        std::thread::sleep(Duration::from_millis(80));
        let error = commit(&storage, &mut model, n, 10).expect_err("a write after a failed fsync");
        assert!(error.to_string().contains("fsync"), "{error}");
    }
    assert!(storage.health().is_err());
}

/// A store closed after a failed commit, once space is back but before any write: closing
/// flushes fjall's journal buffer, which completes the failed commit's record, so the close
/// must take it back first.
#[test]
fn a_failed_commit_does_not_come_back_after_a_restart() {
    let Some(fs) = Tmpfs::mount("24m") else {
        return;
    };
    let db = fs.path().join("db");
    let mut model = Model::new();
    let storage = DiskStorage::open_with(&db, options(Durability::Process, 32 << 20)).unwrap();
    let filler = fill(&fs.path().join("filler"), 1 << 20);
    write_until_full(&storage, &mut model, 0, 100);
    std::fs::remove_file(&filler).unwrap();
    drop(storage);
    let storage = DiskStorage::open_with(&db, options(Durability::Process, 32 << 20)).unwrap();
    assert_state_is(&storage, &model, "after a restart");
    assert!(storage.health().is_ok());
}
