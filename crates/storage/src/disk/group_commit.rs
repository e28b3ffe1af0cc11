//! Group commit for [`crate::Durability::Sync`]: a leader/follower scheme over two
//! monotonic counters, so that many concurrent commits share one fdatasync.
//!
//! Each commit takes a ticket *after* its journal write has reached the OS; it then waits
//! until a sync that started after that ticket was taken has finished. Whoever finds no sync
//! running becomes the leader: it reads the counter, syncs, publishes the counter value as
//! synced and wakes the waiters (mutex + condvar, no polling).
//!
//! A sync can fail in two ways. A *permanent* failure (the fsync itself failed) fails every
//! later commit: after a failed fsync the kernel may have dropped the dirty pages, so a
//! retry could report success without writing them. A *transient* failure (the database
//! stopped taking writes for another reason, e.g. a full disk while writing a table file)
//! fails only the commits that sync was meant to cover; later ones sync afresh, on the
//! reopened database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::StorageError;

/// Why a sync did not cover the commits it was run for.
pub(super) enum SyncFailure {
    /// fsync failed: nothing may be acknowledged any more.
    Permanent(StorageError),
    /// Only this sync failed.
    Transient(StorageError),
}

#[derive(Default)]
pub(super) struct GroupCommit {
    /// Number of commits whose journal batch has reached the OS. Taken after the write, so a
    /// sync that starts after reading value `n` covers commits `1..=n`.
    commits: AtomicU64,
    state: Mutex<SyncState>,
    synced_changed: Condvar,
}

#[derive(Default)]
struct SyncState {
    /// Every commit numbered up to this is on stable storage.
    synced: u64,
    /// A leader is running a sync right now.
    syncing: bool,
    /// Set forever by the first permanently failed sync.
    failure: Option<String>,
    /// Commits numbered up to this (and above `synced`) were covered by a sync that failed
    /// transiently, whose error this is.
    failed_through: u64,
    transient: String,
}

impl GroupCommit {
    /// Registers a commit whose journal write has completed; returns its ticket.
    pub(super) fn committed(&self) -> u64 {
        self.commits.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn lock(&self) -> MutexGuard<'_, SyncState> {
        // The state is a few plain fields updated together; a panic cannot tear them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once a sync that covers `ticket` has completed, running it if no one else is.
    pub(super) fn wait_synced(
        &self,
        ticket: u64,
        sync: impl Fn() -> Result<(), SyncFailure>,
    ) -> Result<(), StorageError> {
        let mut state = self.lock();
        loop {
            if state.synced >= ticket {
                return Ok(());
            }
            if let Some(failure) = &state.failure {
                return Err(StorageError::Io(format!(
                    "an earlier fsync failed, commits cannot be made durable: {failure}"
                )));
            }
            if state.failed_through >= ticket {
                return Err(StorageError::Io(format!(
                    "the sync of this commit failed: {}",
                    state.transient
                )));
            }
            if state.syncing {
                state = self
                    .synced_changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Become the leader for every commit registered so far, ours included.
            state.syncing = true;
            let target = self.commits.load(Ordering::SeqCst);
            drop(state);
            let leader = LeaderGuard { group: self };
            let result = sync();
            state = self.lock();
            match result {
                Ok(()) => state.synced = state.synced.max(target),
                Err(SyncFailure::Permanent(error)) => state.failure = Some(error.to_string()),
                Err(SyncFailure::Transient(error)) => {
                    state.failed_through = state.failed_through.max(target);
                    state.transient = error.to_string();
                }
            }
            leader.finish(&mut state);
        }
    }
}

/// Ends a leader's turn on every way out, so a panicking sync cannot leave followers
/// waiting for a leader that is gone.
struct LeaderGuard<'g> {
    group: &'g GroupCommit,
}

impl LeaderGuard<'_> {
    fn finish(self, state: &mut SyncState) {
        state.syncing = false;
        self.group.synced_changed.notify_all();
        std::mem::forget(self);
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        // Only reached when the sync panicked.
        self.group.lock().syncing = false;
        self.group.synced_changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn group_commit_shares_syncs_between_waiters() {
        let group = Arc::new(GroupCommit::default());
        let syncs = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let group = Arc::clone(&group);
                let syncs = Arc::clone(&syncs);
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let ticket = group.committed();
                        group
                            .wait_synced(ticket, || {
                                syncs.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(2));
                                Ok(())
                            })
                            .unwrap();
                        assert!(group.lock().synced >= ticket);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let syncs = syncs.load(Ordering::SeqCst);
        assert!(
            syncs < 400,
            "400 commits took {syncs} syncs: none were shared"
        );
    }

    #[test]
    fn a_failed_fsync_fails_every_later_commit() {
        let group = GroupCommit::default();
        let first = group.committed();
        let error = group
            .wait_synced(first, || {
                Err(SyncFailure::Permanent(StorageError::Io(
                    "disk on fire".into(),
                )))
            })
            .unwrap_err();
        assert!(error.to_string().contains("disk on fire"));
        let second = group.committed();
        let error = group.wait_synced(second, || Ok(())).unwrap_err();
        assert!(error.to_string().contains("an earlier fsync failed"));
    }

    #[test]
    fn a_transient_failure_fails_only_the_commits_it_covered() {
        let group = GroupCommit::default();
        let first = group.committed();
        let error = group
            .wait_synced(first, || {
                Err(SyncFailure::Transient(StorageError::Io("poisoned".into())))
            })
            .unwrap_err();
        assert!(error.to_string().contains("poisoned"));
        assert!(group.wait_synced(first, || Ok(())).is_err());
        let second = group.committed();
        group.wait_synced(second, || Ok(())).unwrap();
    }

    #[test]
    fn a_panicking_sync_does_not_strand_followers() {
        let group = Arc::new(GroupCommit::default());
        let panicking = Arc::clone(&group);
        let outcome = std::thread::spawn(move || {
            let ticket = panicking.committed();
            let _ = panicking.wait_synced(ticket, || panic!("sync panicked"));
        })
        .join();
        assert!(outcome.is_err());
        let ticket = group.committed();
        group.wait_synced(ticket, || Ok(())).unwrap();
    }
}
