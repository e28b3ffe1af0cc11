//! The engine's one clock: every time-based rule reads it, never the system time directly.
//!
//! [`SystemClock`] is the wall clock. [`ManualClock`] moves only when told to (`advance`,
//! `set`), so tests of time-based behaviour (timestamps, the ClientRequestToken window, and
//! the capacity, TTL and stream rules that will read it) run without sleeping and give the
//! same answers every run.
//!
//! The clock gives wall-clock time (since the Unix epoch), because what DynamoDB reports —
//! `CreationDateTime`, last increase/decrease times, TTL expiry — is wall-clock time. A
//! manual clock never goes backwards unless `set` moves it there; the system clock may (NTP),
//! and rules that measure an interval treat a negative one as zero.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The time since the Unix epoch.
    fn now(&self) -> Duration;

    /// The manual clock behind this one, if it is one (for the admin API).
    fn as_manual(&self) -> Option<&ManualClock> {
        None
    }
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// A clock that moves only when told to, at nanosecond resolution.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock reading `start` (time since the Unix epoch).
    pub fn new(start: Duration) -> ManualClock {
        ManualClock {
            nanos: AtomicU64::new(saturating_nanos(start)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = saturating_nanos(by);
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(by))
            });
    }

    /// Sets the clock to `to` (time since the Unix epoch), also backwards.
    pub fn set(&self, to: Duration) {
        self.nanos.store(saturating_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn as_manual(&self) -> Option<&ManualClock> {
        Some(self)
    }
}

/// Nanoseconds of `d`, capped at `u64::MAX` (the year 2554).
fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Seconds since the Unix epoch with millisecond precision, as DynamoDB reports timestamps.
pub fn epoch_seconds(now: Duration) -> f64 {
    (now.as_millis() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Duration::from_secs(1_700_000_000));
        assert_eq!(clock.now(), Duration::from_secs(1_700_000_000));
        assert_eq!(clock.now(), Duration::from_secs(1_700_000_000));
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), Duration::from_millis(1_700_000_001_500));
        clock.set(Duration::from_secs(5));
        assert_eq!(clock.now(), Duration::from_secs(5));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
        assert!(clock.as_manual().is_some());
        assert!(SystemClock.as_manual().is_none());
    }

    #[test]
    fn the_system_clock_reads_the_wall_clock() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let read = SystemClock.now();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(before <= read && read <= after);
    }

    #[test]
    fn epoch_seconds_keep_milliseconds() {
        assert_eq!(epoch_seconds(Duration::from_micros(1_500_999)), 1.5);
        assert_eq!(epoch_seconds(Duration::from_secs(1_700_000_000)), 1.7e9);
    }
}
