//! The lock that serializes write transactions in both backends.
//!
//! A write transaction must be `Send` (the trait says so), and a `std::sync::MutexGuard` is
//! not, so the lock is a flag under a mutex plus a condition variable: `acquire` waits until
//! the flag is clear and sets it; dropping the guard clears it and wakes one waiter. The
//! guard is a plain reference and may be dropped on any thread.
//!
//! The lock also keeps the writers' epoch (see `WriteTransaction::writer_epoch`): a
//! counter only lock holders read or advance, so no two of them ever see it move under
//! them.
//!
//! Poisoning is ignored: the protected state is one `bool` that is only ever assigned, and
//! a transaction that panicked has written nothing (its writes live in the transaction), so
//! the next writer can safely proceed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Admits one writer at a time.
#[derive(Default)]
pub(crate) struct WriterLock {
    busy: Mutex<bool>,
    released: Condvar,
    /// Read and advanced only under the lock; the mutex orders those accesses, so relaxed
    /// atomics suffice.
    epoch: AtomicU64,
}

/// Proof of holding the [`WriterLock`]; releases it on drop.
pub(crate) struct WriterGuard<'l> {
    lock: &'l WriterLock,
}

impl WriterLock {
    fn flag(&self) -> MutexGuard<'_, bool> {
        self.busy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits (without spinning) until no other writer holds the lock, then takes it.
    pub(crate) fn acquire(&self) -> WriterGuard<'_> {
        let mut busy = self.flag();
        while *busy {
            busy = self
                .released
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *busy = true;
        WriterGuard { lock: self }
    }

    /// Takes the lock if no writer holds it, without waiting.
    pub(crate) fn try_acquire(&self) -> Option<WriterGuard<'_>> {
        let mut busy = self.flag();
        if *busy {
            return None;
        }
        *busy = true;
        Some(WriterGuard { lock: self })
    }
}

impl WriterGuard<'_> {
    /// The writers' epoch now.
    pub(crate) fn epoch(&self) -> u64 {
        self.lock.epoch.load(Ordering::Relaxed)
    }

    /// Moves the writers' epoch on (whether or not the holder's transaction then commits).
    pub(crate) fn advance_epoch(&self) {
        self.lock.epoch.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        *self.lock.flag() = false;
        self.lock.released.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn admits_one_writer_at_a_time() {
        let lock = Arc::new(WriterLock::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                let inside = Arc::clone(&inside);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let _guard = lock.acquire();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }

    #[test]
    fn try_acquire_fails_while_held_and_succeeds_after() {
        let lock = WriterLock::default();
        let guard = lock.acquire();
        assert!(lock.try_acquire().is_none());
        drop(guard);
        assert!(lock.try_acquire().is_some());
    }

    #[test]
    fn guard_can_be_released_on_another_thread() {
        let lock = WriterLock::default();
        let guard = lock.acquire();
        std::thread::scope(|scope| {
            scope.spawn(move || drop(guard));
        });
        drop(lock.acquire());
    }
}
