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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `t` (since the Unix epoch) as RFC 3339 in UTC with milliseconds:
/// `2026-12-08T01:02:03.456Z`.
pub fn rfc3339_millis(t: Duration) -> String {
    let secs = i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    let millis = t.subsec_millis();
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// Parses an RFC 3339 timestamp (`2026-12-08T01:02:03Z`, optional fraction of a second,
/// `Z` or a `±HH:MM` offset; `t` and `z` in either case) into time since the Unix epoch.
/// `None` for anything else, or a time before 1970.
pub fn parse_rfc3339(text: &str) -> Option<Duration> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, c)| b.get(at) != Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = (1..=12).contains(&month)
        && day >= 1
        && usize::try_from(month - 1)
            .ok()
            .and_then(|m| month_days.get(m))
            .is_some_and(|&max| day <= max)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let mut at = 19;
    let mut nanos: i64 = 0;
    if b.get(at) == Some(&b'.') {
        let start = at + 1;
        at = start;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let fraction = b.get(start..at)?;
        if fraction.is_empty() {
            return None;
        }
        for (i, d) in fraction.iter().take(9).enumerate() {
            nanos += i64::from(d - b'0') * 10i64.pow(8 - u32::try_from(i).ok()?);
        }
    }
    let offset_secs = match b.get(at..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(at + 1..at + 3)?;
            let minutes = digits(at + 4..at + 6)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' {
                offset
            } else {
                -offset
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    Some(Duration::new(secs, u32::try_from(nanos).ok()?))
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
    fn rfc3339_round_trips_and_refuses_what_is_not_a_time() {
        let t = Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339_millis(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.123Z"), Some(t));
        assert_eq!(rfc3339_millis(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00Z"),
            Some(Duration::from_secs(951_782_400))
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T01:30:00+01:30"),
            Some(Duration::from_secs(951_782_400))
        );
        assert_eq!(
            parse_rfc3339("2026-01-01t00:00:00.5z"),
            Some(Duration::from_millis(1_767_225_600_500))
        );
        for bad in [
            "",
            "2026",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+1:00",
            "1969-12-31T23:59:59Z",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_seconds_keep_milliseconds() {
        assert_eq!(epoch_seconds(Duration::from_micros(1_500_999)), 1.5);
        assert_eq!(epoch_seconds(Duration::from_secs(1_700_000_000)), 1.7e9);
    }
}
