//! What the disk backend knows about its own failures: the current fault (what health
//! reports), the undo record of a commit that failed half-way through fjall's journal
//! write, and the journal watch that tells a failed fsync apart from other failures.
//!
//! A fault starts with the first failed write (logged once with `tracing::error!`) and ends
//! with the first write that succeeds after it (logged once with `tracing::info!`); in
//! between, [`crate::Storage::health`] answers with its reason and start time. A
//! *permanent* fault (a failed fsync) never ends while the process runs.
//!
//! Why a journal watch: after fsync fails, Linux may have marked the unwritten pages clean,
//! so a second fsync succeeds without writing them (see docs/storage.md, "Disk full"). fjall
//! syncs its journal from its own background threads too (before every memtable flush, and
//! when it rotates journals); when such a sync fails, fjall only logs it and refuses further
//! writes, exactly as it does after a harmless out-of-space error while writing a table
//! file. To tell the two apart, the backend keeps its own read-only descriptor of every
//! journal file, opened before the error: the kernel reports a writeback error to every
//! descriptor that was open when it happened, once each, so an fdatasync on those
//! descriptors answers "did any journal sync fail?" even when fjall's descriptor has
//! already consumed the error. Reopening is allowed only when it answers no.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// A problem that makes writes fail.
pub(super) struct Fault {
    /// What health reports, e.g. "disk full: cannot append to the journal: …".
    pub(super) reason: String,
    /// A failed fsync: writes stay refused until the process restarts.
    pub(super) permanent: bool,
    since: SystemTime,
    started: Instant,
}

impl Fault {
    pub(super) fn new(reason: String, permanent: bool) -> Self {
        Fault {
            reason,
            permanent,
            since: SystemTime::now(),
            started: Instant::now(),
        }
    }

    /// The health answer: the reason and when it started.
    pub(super) fn describe(&self) -> String {
        format!("{} (since {})", self.reason, utc_timestamp(self.since))
    }

    pub(super) fn duration(&self) -> std::time::Duration {
        self.started.elapsed()
    }
}

/// How to take back a commit whose journal write failed, should fjall write the rest of its
/// record later.
///
/// When the journal append fails, fjall's buffered writer may still hold the tail of the
/// batch (even all of it, if only the final flush to the OS failed). Closing the database
/// flushes that buffer; once space is back, the flush succeeds and the next open replays a
/// batch whose commit was reported as failed. The backend writes nothing after such a
/// failure (fjall refuses, and so does the backend until it has reopened), so the failed
/// batch would be the only one with a sequence number at or above `seqno`: after a
/// reopen, `db.seqno() > seqno` means it came back, and `writes` (the values its keys had
/// before) are committed to take it back before anyone can read.
pub(super) struct Undo {
    /// The sequence number the failed batch was given (the visible one at its start).
    pub(super) seqno: u64,
    /// Each key the failed batch wrote, with its value before (`None`: absent).
    pub(super) writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// Read-only descriptors of the journal files, to learn of fsync failures fjall's own
/// descriptor saw (see the module doc).
#[derive(Default)]
pub(super) struct JournalWatch {
    files: Vec<(PathBuf, File)>,
}

impl JournalWatch {
    /// Opens the journal files that appeared since the last call and closes those fjall
    /// deleted (an open descriptor would keep a deleted journal's space allocated).
    pub(super) fn refresh(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let present: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "jnl"))
            .collect();
        self.files.retain(|(path, _)| present.contains(path));
        for path in present {
            if self.files.iter().any(|(watched, _)| *watched == path) {
                continue;
            }
            if let Ok(file) = File::open(&path) {
                self.files.push((path, file));
            }
        }
    }

    /// `Err` if a writeback of any watched journal failed since it was opened (this call
    /// consumes that report; the caller makes the fault permanent).
    pub(super) fn check(&self) -> Result<(), String> {
        for (path, file) in &self.files {
            file.sync_data()
                .map_err(|error| format!("{}: {error}", path.display()))?;
        }
        Ok(())
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.files.len()
    }
}

/// Bytes this process may still allocate on the file system holding `path` (root may use
/// the blocks ext4 reserves for it), or `None` if the file system does not say.
pub(super) fn free_bytes(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    let blocks = if rustix::process::geteuid().is_root() {
        stat.f_bfree
    } else {
        stat.f_bavail
    };
    Some(blocks.saturating_mul(stat.f_frsize))
}

/// Whether an I/O error means the file system (or a quota) is full.
pub(super) fn is_out_of_space(error: &std::io::Error) -> bool {
    const EDQUOT: i32 = 122;
    error.kind() == std::io::ErrorKind::StorageFull
        || error.kind() == std::io::ErrorKind::QuotaExceeded
        || error.raw_os_error() == Some(EDQUOT)
}

/// `2026-12-02T15:47:03Z`: UTC, to the second.
pub(super) fn utc_timestamp(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_iso8601() {
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(utc_timestamp(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(at(1_700_000_000)), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn out_of_space_errors_are_recognised() {
        assert!(is_out_of_space(&std::io::Error::from_raw_os_error(28)));
        assert!(is_out_of_space(&std::io::Error::from_raw_os_error(122)));
        assert!(!is_out_of_space(&std::io::Error::from_raw_os_error(5)));
    }

    #[test]
    fn watch_follows_journal_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut watch = JournalWatch::default();
        std::fs::write(dir.path().join("0.jnl"), b"x").unwrap();
        std::fs::write(dir.path().join("version"), b"x").unwrap();
        watch.refresh(dir.path());
        assert_eq!(watch.len(), 1);
        std::fs::write(dir.path().join("1.jnl"), b"x").unwrap();
        std::fs::remove_file(dir.path().join("0.jnl")).unwrap();
        watch.refresh(dir.path());
        assert_eq!(watch.len(), 1);
        assert!(watch.check().is_ok());
    }

    #[test]
    fn free_bytes_of_a_real_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).is_some_and(|free| free > 0));
    }
}
