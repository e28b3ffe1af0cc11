//! Table names that cannot collide: on a shared endpoint the tests of this process, of the
//! other test binaries and of other runs create tables side by side, so every name is the
//! scenario's short name plus a per-process random id and a per-process counter
//! (`tb1-k3x9q2-17`). Names stay valid DynamoDB table names (`[a-zA-Z0-9_.-]`, at most 255).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Six random base-36 characters, fixed for this process.
pub fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        // RandomState is seeded from the OS per process; mixing in the pid and the clock
        // keeps two processes started in the same instant apart as well.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        let mut bits = hasher.finish();
        let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..6)
            .map(|_| {
                let c = digits[(bits % 36) as usize] as char;
                bits /= 36;
                c
            })
            .collect()
    })
}

/// A table name (or any other server-wide name, such as a ClientRequestToken) no other
/// call in any process returns: `{base}-{run_id}-{counter}`.
pub fn unique_name(base: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{base}-{}-{n}", run_id())
}

/// The tables of one scenario: a unique name for each short name the scenario uses.
/// `tables["tb1"]` is the name to send; [`Tables::fill`] puts the names into raw JSON
/// bodies and expected messages written with `$tb1` placeholders.
pub struct Tables {
    names: Vec<(String, String)>,
}

impl Tables {
    pub fn new(short_names: &[&str]) -> Tables {
        let mut names: Vec<(String, String)> = short_names
            .iter()
            .map(|short| (short.to_string(), unique_name(short)))
            .collect();
        // Longest first, so that `$tb10` is never filled as `$tb1` followed by `0`.
        names.sort_by_key(|(short, _)| std::cmp::Reverse(short.len()));
        Tables { names }
    }

    /// `template` with every `$short` replaced by that table's unique name. A `$` that
    /// names no table of this scenario fails the test: a typo must not go unnoticed.
    pub fn fill(&self, template: &str) -> String {
        let mut out = template.to_string();
        for (short, unique) in &self.names {
            out = out.replace(&format!("${short}"), unique);
        }
        assert!(
            !out.contains('$'),
            "unfilled placeholder in {template:?} (tables: {:?})",
            self.names
        );
        out
    }
}

impl std::ops::Index<&str> for Tables {
    type Output = str;

    fn index(&self, short: &str) -> &str {
        self.names
            .iter()
            .find(|(s, _)| s == short)
            .map(|(_, unique)| unique.as_str())
            .unwrap_or_else(|| panic!("no table {short:?} in this scenario"))
    }
}
