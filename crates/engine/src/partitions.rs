//! The partition model and the constants of capacity, in one place.
//!
//! A table (and each global secondary index) is a set of partitions, each a contiguous
//! range of the 64-bit partition-key hash that prefixes every item key ([`crate::keys`]),
//! the same hash that orders Scan. [`partitions_for`] is DynamoDB's published count;
//! [`PartitionMap::split_to`] reaches it by halving the widest ranges, and nothing ever
//! merges partitions, so a map only grows. What governs requests with these numbers is
//! `crate::throughput`; docs/capacity.md gives each number's source.

/// How long unused provisioned capacity stays banked as burst capacity (DynamoDB: "up to
/// five minutes (300 seconds) of unused read and write capacity").
pub const BURST_SECONDS: u64 = 300;
/// Read units per second one partition can serve (DynamoDB's per-partition maximum).
pub const PARTITION_READ_UNITS: i64 = 3_000;
/// Write units per second one partition can serve.
pub const PARTITION_WRITE_UNITS: i64 = 1_000;
/// The data one partition holds before it is split (10 GB).
pub const PARTITION_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// The partitions of a table or index: the first hash of each, ascending, the first 0.
/// Partition `i` holds the hashes from `starts[i]` up to the next start (the last one up
/// to 2^64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionMap {
    starts: Vec<u64>,
}

impl Default for PartitionMap {
    fn default() -> Self {
        PartitionMap { starts: vec![0] }
    }
}

impl PartitionMap {
    /// A map from stored starts; `None` if they are not a valid map.
    pub fn from_starts(starts: Vec<u64>) -> Option<PartitionMap> {
        let valid = starts.first() == Some(&0) && starts.windows(2).all(|w| w[0] < w[1]);
        valid.then_some(PartitionMap { starts })
    }

    pub fn starts(&self) -> &[u64] {
        &self.starts
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The hashes of partition `i`: its first, and the one after its last (2^64 for the
    /// last partition).
    pub fn range(&self, i: usize) -> (u64, u128) {
        let start = self.starts.get(i).copied().unwrap_or(0);
        let end = self
            .starts
            .get(i + 1)
            .map_or(1u128 << 64, |&next| u128::from(next));
        (start, end)
    }

    /// The partition holding `hash`.
    pub fn partition_of(&self, hash: u64) -> usize {
        // The first start is 0, so some start is <= hash.
        self.starts
            .partition_point(|&s| s <= hash)
            .saturating_sub(1)
    }

    /// Halves the widest partitions (the lowest-hashed first among equals) until there are
    /// at least `count`; never merges. A range of one hash cannot be halved.
    pub fn split_to(&mut self, count: usize) {
        while self.starts.len() < count {
            let widest = (0..self.starts.len())
                .map(|i| {
                    let (start, end) = self.range(i);
                    (end - u128::from(start), i)
                })
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            let Some((width, i)) = widest else { return };
            if width < 2 {
                return;
            }
            let (start, _) = self.range(i);
            // width < 2^65, so start + width / 2 < 2^64 fits.
            let middle = u64::try_from(u128::from(start) + width / 2).unwrap_or(u64::MAX);
            self.starts.insert(i + 1, middle);
        }
    }
}

/// The number of partitions DynamoDB's published formula gives a table or index:
/// ⌈RCU / 3000 + WCU / 1000⌉ for its throughput and ⌈size / 10 GB⌉ for its data, the
/// larger of the two, at least one.
pub fn partitions_for(read_units: i64, write_units: i64, size_bytes: u64) -> usize {
    // R / 3000 + W / 1000 = (R + 3 W) / 3000, exactly, in integers.
    let read = u128::try_from(read_units.max(0)).unwrap_or(0);
    let write = u128::try_from(write_units.max(0)).unwrap_or(0);
    let per_partition = u128::try_from(PARTITION_READ_UNITS).unwrap_or(1);
    let ratio = u128::try_from(PARTITION_READ_UNITS / PARTITION_WRITE_UNITS).unwrap_or(1);
    let by_throughput = (read + ratio * write).div_ceil(per_partition);
    let by_size = u128::from(size_bytes.div_ceil(PARTITION_BYTES));
    usize::try_from(by_throughput.max(by_size).max(1)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_counts_follow_the_published_formula() {
        assert_eq!(partitions_for(0, 0, 0), 1);
        assert_eq!(partitions_for(5, 5, 0), 1);
        assert_eq!(partitions_for(3000, 0, 0), 1);
        assert_eq!(partitions_for(3001, 0, 0), 2);
        assert_eq!(partitions_for(1500, 500, 0), 1);
        assert_eq!(partitions_for(1500, 501, 0), 2);
        assert_eq!(partitions_for(0, 1000, 0), 1);
        assert_eq!(partitions_for(0, 1001, 0), 2);
        assert_eq!(partitions_for(6000, 2000, 0), 4);
        assert_eq!(partitions_for(1, 1, PARTITION_BYTES), 1);
        assert_eq!(partitions_for(1, 1, PARTITION_BYTES + 1), 2);
        assert_eq!(partitions_for(1, 1, 5 * PARTITION_BYTES), 5);
    }

    #[test]
    fn splits_halve_the_widest_ranges() {
        let mut map = PartitionMap::default();
        map.split_to(1);
        assert_eq!(map.starts(), &[0]);
        map.split_to(2);
        assert_eq!(map.starts(), &[0, 1 << 63]);
        map.split_to(3);
        assert_eq!(map.starts(), &[0, 1 << 62, 1 << 63]);
        map.split_to(4);
        assert_eq!(map.starts(), &[0, 1 << 62, 1 << 63, 3 << 62]);
        map.split_to(2);
        assert_eq!(map.len(), 4, "never merges");
        assert_eq!(map.partition_of(0), 0);
        assert_eq!(map.partition_of((1 << 62) - 1), 0);
        assert_eq!(map.partition_of(1 << 62), 1);
        assert_eq!(map.partition_of(u64::MAX), 3);
        assert_eq!(map.range(3), (3 << 62, 1 << 64));
        assert!(PartitionMap::from_starts(vec![0, 5, 5]).is_none());
        assert!(PartitionMap::from_starts(vec![1]).is_none());
        assert!(PartitionMap::from_starts(vec![]).is_none());
    }
}
