//! How fjall behaves when its file system runs out of space: the experiment behind the
//! "Disk full" section of docs/storage.md. It drives fjall directly (not `DiskStorage`), so
//! what it prints is fjall's own behaviour.
//!
//! Run as root on a scratch mount point (the probe mounts nothing itself):
//! ```text
//! mkdir -p /tmp/probe && mount -t tmpfs -o size=16m tmpfs /tmp/probe
//! cargo run --release -p stator-storage --example enospc_probe -- /tmp/probe journal
//! umount /tmp/probe
//! ```
//! Scenarios: `journal` (a big memtable, so the journal append is what fills the disk),
//! `flush` (small memtables: a memtable flush fills it first), `compaction` (many small
//! flushes, a few hundred KB free: a compaction's output fills it), each optionally
//! followed by `reopen-full` (close and reopen before space is freed instead of after).
//! Every step prints one line.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

const KEYS_PER_BATCH: u32 = 8;
const VALUE_BYTES: usize = 1000;

/// Incompressible bytes, so that compression cannot hide how much is written.
fn value(seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..VALUE_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn key(batch: u32, i: u32) -> Vec<u8> {
    [batch.to_be_bytes(), i.to_be_bytes()].concat()
}

fn open(dir: &Path, memtable: u64) -> fjall::Result<(Database, Keyspace)> {
    let db = Database::builder(dir).worker_threads(2).open()?;
    let data = db.keyspace("data", || {
        KeyspaceCreateOptions::default().max_memtable_size(memtable)
    })?;
    Ok((db, data))
}

fn commit(db: &Database, data: &Keyspace, batch: u32) -> fjall::Result<()> {
    commit_with(db, data, batch, PersistMode::Buffer)
}

fn commit_with(db: &Database, data: &Keyspace, batch: u32, mode: PersistMode) -> fjall::Result<()> {
    let mut b = db.batch().durability(Some(mode));
    for i in 0..KEYS_PER_BATCH {
        b.insert(
            data,
            key(batch, i),
            value(u64::from(batch) << 8 | u64::from(i)),
        );
    }
    b.commit()
}

/// Fills the file system with a file, then gives `leave` bytes back.
fn fill(path: &Path, leave: u64) -> std::io::Result<u64> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)?;
    let chunk = vec![0xAB; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(error) if error.raw_os_error() == Some(28) => break,
            Err(error) => return Err(error),
        }
    }
    let kept = written.saturating_sub(leave);
    file.set_len(kept)?;
    file.sync_all()?;
    Ok(kept)
}

/// Which of the batches `0..batches` are fully present, and whether any is partly present.
fn check(data: &Keyspace, batches: u32) -> (Vec<u32>, Vec<u32>) {
    let (mut whole, mut partial) = (Vec::new(), Vec::new());
    for batch in 0..batches {
        let present = (0..KEYS_PER_BATCH)
            .filter(|i| {
                data.get(key(batch, *i))
                    .ok()
                    .flatten()
                    .is_some_and(|v| *v == *value(u64::from(batch) << 8 | u64::from(*i)))
            })
            .count();
        if present == KEYS_PER_BATCH as usize {
            whole.push(batch);
        } else if present > 0 {
            partial.push(batch);
        }
    }
    (whole, partial)
}

/// `--sync` mode: every commit is fdatasync'ed. Meant for an ext4 file system on a loop
/// device whose backing file lives on a smaller tmpfs, so that write(2) succeeds (ext4 has
/// room) and the device's writes fail at writeback: fsync reports the error (EIO).
/// Also checks which file descriptors see that error: one opened before it (sees it, the
/// kernel's errseq), and one opened after fjall's descriptor saw it (does not).
fn sync_probe(mount: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let dir = mount.join("db");
    let _ = std::fs::remove_dir_all(&dir);
    let (db, data) = open(&dir, 1 << 20)?;
    let journal = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "jnl"))
        .ok_or("no journal file")?;
    let early = std::fs::File::open(&journal)?;
    let mut acked = 0u32;
    let failure = loop {
        match commit_with(&db, &data, acked, PersistMode::SyncData) {
            Ok(()) => acked += 1,
            Err(error) => break error,
        }
        if acked > 200_000 {
            return Err("no failure".into());
        }
    };
    println!("sync commit of batch {acked} failed: {failure:?}");
    println!(
        "next commit: {:?}",
        commit_with(&db, &data, acked + 1, PersistMode::SyncData)
    );
    println!(
        "fdatasync on a descriptor opened before the failure: {:?}",
        early.sync_data()
    );
    println!("  and again: {:?}", early.sync_data());
    let late = std::fs::File::open(&journal)?;
    println!(
        "fdatasync on a descriptor opened after it: {:?}",
        late.sync_data()
    );
    drop(data);
    drop(db);
    match open(&dir, 1 << 20) {
        Ok((db, data)) => {
            let (whole, partial) = check(&data, acked + 2);
            println!(
                "reopened: {} of {acked} acknowledged batches readable (from the page cache), \
                 partial {partial:?}; sync commit: {:?}",
                whole.iter().filter(|b| **b < acked).count(),
                commit_with(&db, &data, acked + 3, PersistMode::SyncData)
            );
        }
        Err(error) => println!("reopen failed: {error:?}"),
    }
    Ok(())
}

/// Prints fjall's warnings and errors (its background workers report failures only there).
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "  [fjall {} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    log::set_logger(&StderrLog).map_err(|e| e.to_string())?;
    log::set_max_level(log::LevelFilter::Warn);
    let args: Vec<String> = std::env::args().collect();
    let (Some(mount), Some(scenario)) = (args.get(1), args.get(2)) else {
        return Err("usage: enospc_probe MOUNT journal|flush|compaction [reopen-full]".into());
    };
    let reopen_full = args.get(3).is_some_and(|a| a == "reopen-full");
    let (memtable, leave) = match scenario.as_str() {
        "journal" => (64 << 20, 2 << 20),
        "flush" => (1 << 20, 3 << 19),
        "compaction" => (128 << 10, 6 << 20),
        "sync" => return sync_probe(Path::new(mount)),
        other => return Err(format!("unknown scenario {other}").into()),
    };
    let mount = Path::new(mount);
    let dir = mount.join("db");
    let filler = mount.join("filler");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&filler);

    let (db, data) = open(&dir, memtable)?;
    let filled = fill(&filler, leave)?;
    println!("filler {filled} bytes, {leave} bytes left free, memtable {memtable} bytes");

    let started = Instant::now();
    let mut acked = 0u32;
    let failure = loop {
        match commit(&db, &data, acked) {
            Ok(()) => acked += 1,
            Err(error) => break error,
        }
        if acked > 200_000 {
            return Err("the disk never filled up".into());
        }
    };
    println!(
        "commit of batch {acked} failed after {:?}: {failure} / {failure:?}",
        started.elapsed()
    );
    println!(
        "seqno {} visible {} journals {} flushes queued {} compactions done {}",
        db.seqno(),
        db.visible_seqno(),
        db.journal_count(),
        db.outstanding_flushes(),
        db.compactions_completed()
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let again = commit(&db, &data, acked + 1);
    println!("next commit while full: {again:?}");
    println!(
        "read of batch 0 while full: {:?}",
        data.get(key(0, 0)).map(|v| v.map(|v| v.len()))
    );
    println!(
        "persist(SyncAll) while full: {:?}",
        db.persist(PersistMode::SyncAll)
    );

    let reopen_and_check = |label: &str| -> fjall::Result<(Database, Keyspace)> {
        let started = Instant::now();
        let (db, data) = open(&dir, memtable)?;
        let (whole, partial) = check(&data, acked + 2);
        let missing: Vec<u32> = (0..acked).filter(|b| !whole.contains(b)).collect();
        let resurfaced: Vec<u32> = whole.iter().copied().filter(|b| *b >= acked).collect();
        println!(
            "{label}: reopened in {:?}; acknowledged batches missing {missing:?}; failed \
             batches present {resurfaced:?}; partly present {partial:?}; seqno {}",
            started.elapsed(),
            db.seqno()
        );
        Ok((db, data))
    };

    if reopen_full {
        let seqno = db.seqno();
        let closing = Instant::now();
        drop(data);
        drop(db);
        println!("closed (seqno was {seqno}) in {:?}", closing.elapsed());
        match reopen_and_check("reopen while still full") {
            Ok((db, data)) => {
                println!(
                    "commit after reopen, still full: {:?}",
                    commit(&db, &data, acked + 2)
                );
            }
            Err(error) => println!("reopen while still full failed: {error} / {error:?}"),
        }
        std::fs::remove_file(&filler)?;
    } else {
        std::fs::remove_file(&filler)?;
        println!(
            "space freed; commit on the same handle: {:?}",
            commit(&db, &data, acked + 1)
        );
        let seqno = db.seqno();
        let closing = Instant::now();
        drop(data);
        drop(db);
        println!("closed (seqno was {seqno}) in {:?}", closing.elapsed());
    }
    let (db, data) = reopen_and_check("reopen with space")?;
    println!("commit after reopen: {:?}", commit(&db, &data, acked + 5));
    drop(data);
    drop(db);
    let (_db, _data) = reopen_and_check("second reopen")?;
    Ok(())
}
