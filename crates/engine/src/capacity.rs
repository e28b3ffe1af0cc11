//! Capacity units as DynamoDB charges them.
//!
//! Reads: one RCU per started 4 KB of item for a strongly consistent read, half that for an
//! eventually consistent one (twice for transactional reads); a read of an item that is not
//! there still costs the minimum. Writes: one WCU per started 1 KB, where a write that
//! replaces or removes an item is charged on the larger of the old and new item sizes; the
//! minimum is one unit.
//!
//! Every operation computes what it consumed, whether or not the client asked to see it
//! (`ReturnConsumedCapacity` only decides what the answer reports), so that throttling and
//! metrics can rely on it. [`CapacityTally`] adds up a multi-item request per table.

/// Whether a request wants consumed capacity back (`ReturnConsumedCapacity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReturnCapacity {
    #[default]
    None,
    Total,
    Indexes,
}

/// Capacity consumed by one request on one table.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsumedCapacity {
    pub table_name: String,
    /// Units charged to the base table (reads or writes, as `kind` says).
    pub table_units: f64,
    pub kind: CapacityKind,
    /// Units charged to each global secondary index, by name.
    pub global_indexes: Vec<(String, f64)>,
    /// Units charged to each local secondary index, by name.
    pub local_indexes: Vec<(String, f64)>,
}

impl ConsumedCapacity {
    /// `CapacityUnits`: the table's units plus every index's.
    pub fn total(&self) -> f64 {
        self.table_units
            + self
                .global_indexes
                .iter()
                .chain(&self.local_indexes)
                .map(|(_, u)| u)
                .sum::<f64>()
    }
}

impl ConsumedCapacity {
    /// Nothing consumed yet on `table`.
    pub fn zero(table: &str, kind: CapacityKind) -> Self {
        ConsumedCapacity {
            table_name: table.to_string(),
            table_units: 0.0,
            kind,
            global_indexes: Vec::new(),
            local_indexes: Vec::new(),
        }
    }
}

/// Write units charged to each index by one item write: (global, local), by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndexUnits {
    pub global: Vec<(String, f64)>,
    pub local: Vec<(String, f64)>,
}

/// Adds up the capacity one request consumed on one table and its indexes.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityTally {
    pub table: String,
    pub units: f64,
    pub global: Vec<(String, f64)>,
    pub local: Vec<(String, f64)>,
    pub kind: CapacityKind,
}

impl CapacityTally {
    pub fn new(table: &str, kind: CapacityKind) -> Self {
        CapacityTally {
            table: table.to_string(),
            units: 0.0,
            global: Vec::new(),
            local: Vec::new(),
            kind,
        }
    }

    /// Adds index write units, scaled by `factor` (2 inside transactions).
    pub fn add_indexes(&mut self, units: &IndexUnits, factor: f64) {
        fn add(list: &mut Vec<(String, f64)>, name: &str, units: f64) {
            match list.iter_mut().find(|(n, _)| n == name) {
                Some((_, total)) => *total += units,
                None => list.push((name.to_string(), units)),
            }
        }
        for (name, u) in &units.global {
            add(&mut self.global, name, u * factor);
        }
        for (name, u) in &units.local {
            add(&mut self.local, name, u * factor);
        }
    }

    pub fn into_consumed(self) -> ConsumedCapacity {
        ConsumedCapacity {
            table_name: self.table,
            table_units: self.units,
            kind: self.kind,
            global_indexes: self.global,
            local_indexes: self.local,
        }
    }
}

/// Finds the tally of `table` in `tallies`, adding one if there is none yet.
pub fn tally_for<'t>(
    tallies: &'t mut Vec<CapacityTally>,
    table: &str,
    kind: CapacityKind,
) -> &'t mut CapacityTally {
    let at = match tallies.iter().position(|t| t.table == table) {
        Some(at) => at,
        None => {
            tallies.push(CapacityTally::new(table, kind));
            tallies.len() - 1
        }
    };
    &mut tallies[at]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapacityKind {
    Read,
    Write,
}

const READ_UNIT_BYTES: usize = 4 * 1024;
const WRITE_UNIT_BYTES: usize = 1024;

fn units(size: usize, unit: usize) -> f64 {
    // At least one unit even for an absent or empty item.
    size.div_ceil(unit).max(1) as f64
}

/// RCUs for reading an item of `size` bytes (0 if it does not exist).
pub fn read_units(size: usize, consistent: bool) -> f64 {
    let full = units(size, READ_UNIT_BYTES);
    if consistent {
        full
    } else {
        full / 2.0
    }
}

/// WCUs for a write whose old item had `old_size` bytes and new item `new_size` bytes
/// (0 for "no item").
pub fn write_units(old_size: usize, new_size: usize) -> f64 {
    units(old_size.max(new_size), WRITE_UNIT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_round_up_per_4kb_and_halve_when_eventual() {
        assert_eq!(read_units(0, true), 1.0);
        assert_eq!(read_units(0, false), 0.5);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(10_000, false), 1.5);
    }

    #[test]
    fn tallies_add_index_units_per_name() {
        let mut tallies = Vec::new();
        let units = IndexUnits {
            global: vec![("g".to_string(), 1.0)],
            local: vec![("l".to_string(), 2.0)],
        };
        tally_for(&mut tallies, "t", CapacityKind::Write).add_indexes(&units, 2.0);
        let t = tally_for(&mut tallies, "t", CapacityKind::Write);
        t.add_indexes(&units, 1.0);
        t.units += 4.0;
        assert_eq!(tallies.len(), 1);
        let consumed = tallies.remove(0).into_consumed();
        assert_eq!(consumed.global_indexes, vec![("g".to_string(), 3.0)]);
        assert_eq!(consumed.local_indexes, vec![("l".to_string(), 6.0)]);
        assert_eq!(consumed.total(), 13.0);
    }

    #[test]
    fn writes_use_the_larger_item_per_1kb() {
        assert_eq!(write_units(0, 1), 1.0);
        assert_eq!(write_units(0, 1024), 1.0);
        assert_eq!(write_units(0, 1025), 2.0);
        assert_eq!(write_units(3000, 10), 3.0);
        assert_eq!(write_units(0, 0), 1.0);
    }
}
