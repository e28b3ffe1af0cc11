//! A write transaction's private write set, and the merged view of it over a snapshot.
//!
//! Used by both backends: puts and deletes go into an ordered map (a delete is a `None`
//! that hides the committed value); `get` asks the overlay first and falls back to the
//! snapshot; `range` walks the overlay's range and the snapshot's range side by side, in
//! either direction, letting the overlay win on equal keys and dropping keys it deletes.
//! `commit` hands the write set, already in key order, to the backend.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;

use crate::{Bytes, Direction, KeyValue, RangeIter, StorageError};

/// Uncommitted writes: `Some(value)` for a put, `None` for a delete. Values are kept in an
/// `Arc`, so reading them back is a pointer copy and the memory backend commits them into
/// its map as they are.
#[derive(Default)]
pub(crate) struct Overlay {
    writes: BTreeMap<Vec<u8>, Option<Arc<[u8]>>>,
}

/// What the overlay knows about one key.
pub(crate) enum Lookup<'a> {
    /// Not written in this transaction: ask the snapshot.
    Untouched,
    /// Put or deleted in this transaction.
    Written(Option<&'a Arc<[u8]>>),
}

impl Overlay {
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) {
        self.writes.insert(key.to_vec(), Some(Arc::from(value)));
    }

    pub(crate) fn delete(&mut self, key: &[u8]) {
        self.writes.insert(key.to_vec(), None);
    }

    pub(crate) fn lookup(&self, key: &[u8]) -> Lookup<'_> {
        match self.writes.get(key) {
            None => Lookup::Untouched,
            Some(value) => Lookup::Written(value.as_ref()),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// How many keys the transaction wrote.
    pub(crate) fn len(&self) -> usize {
        self.writes.len()
    }

    /// The writes in key order, without consuming them (the disk backend may need them
    /// again: to retry on a reopened database, or to undo a failed commit).
    pub(crate) fn writes(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.writes
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_deref()))
    }

    /// The writes in key order, consumed by commit.
    pub(crate) fn into_writes(self) -> impl Iterator<Item = (Vec<u8>, Option<Arc<[u8]>>)> {
        self.writes.into_iter()
    }

    /// Merges this overlay's writes within the bounds into `base`, a range over the same
    /// bounds and direction. The caller has rejected empty (inverted) bounds.
    pub(crate) fn merge<'a>(
        &'a self,
        base: RangeIter<'a>,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        direction: Direction,
    ) -> RangeIter<'a> {
        if self.writes.is_empty() {
            return base;
        }
        let writes = self.writes.range::<[u8], _>((start, end));
        let writes: WriteIter<'a> = match direction {
            Direction::Forward => Box::new(writes),
            Direction::Reverse => Box::new(writes.rev()),
        };
        Box::new(Merge {
            base,
            base_next: None,
            base_done: false,
            writes: writes.peekable(),
            direction,
        })
    }
}

type WriteIter<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Option<Arc<[u8]>>)> + 'a>;

struct Merge<'a> {
    base: RangeIter<'a>,
    /// The base pair read ahead to compare with the next write.
    base_next: Option<KeyValue>,
    /// The base is exhausted or failed; after a failure the merge ends after the error.
    base_done: bool,
    writes: Peekable<WriteIter<'a>>,
    direction: Direction,
}

impl Iterator for Merge<'_> {
    type Item = Result<KeyValue, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.base_next.is_none() && !self.base_done {
                match self.base.next() {
                    None => self.base_done = true,
                    Some(Ok(pair)) => self.base_next = Some(pair),
                    Some(Err(error)) => {
                        self.base_done = true;
                        self.writes = (Box::new(std::iter::empty()) as WriteIter<'_>).peekable();
                        return Some(Err(error));
                    }
                }
            }
            // Which side holds the next key in scan order?
            let order = match (&self.base_next, self.writes.peek()) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((base_key, _)), Some((write_key, _))) => {
                    let order = (**base_key).cmp(write_key.as_slice());
                    match self.direction {
                        Direction::Forward => order,
                        Direction::Reverse => order.reverse(),
                    }
                }
            };
            if order == Ordering::Less {
                return self.base_next.take().map(Ok);
            }
            if order == Ordering::Equal {
                // The transaction's write replaces (or deletes) the committed pair.
                self.base_next = None;
            }
            if let Some((key, Some(value))) = self.writes.next() {
                return Some(Ok((
                    Bytes::from(key.as_slice()),
                    Bytes::shared(value.clone()),
                )));
            }
            // A delete: nothing to yield for this key.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(pairs: &[(&str, &str)], direction: Direction) -> RangeIter<'static> {
        let mut pairs: Vec<KeyValue> = pairs
            .iter()
            .map(|(k, v)| (Bytes::from(k.as_bytes()), Bytes::from(v.as_bytes())))
            .collect();
        if direction == Direction::Reverse {
            pairs.reverse();
        }
        Box::new(pairs.into_iter().map(Ok))
    }

    fn keys(iter: RangeIter<'_>) -> Vec<String> {
        iter.map(|pair| {
            let (k, v) = pair.unwrap();
            format!(
                "{}={}",
                String::from_utf8(k.into_vec()).unwrap(),
                String::from_utf8(v.into_vec()).unwrap()
            )
        })
        .collect()
    }

    #[test]
    fn merges_puts_and_deletes_in_both_directions() {
        let committed = [("b", "1"), ("d", "1"), ("f", "1")];
        let mut overlay = Overlay::default();
        overlay.put(b"a", b"2");
        overlay.delete(b"d");
        overlay.put(b"f", b"2");
        overlay.put(b"g", b"2");
        overlay.delete(b"h");
        let forward = overlay.merge(
            base(&committed, Direction::Forward),
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Forward,
        );
        assert_eq!(keys(forward), ["a=2", "b=1", "f=2", "g=2"]);
        let reverse = overlay.merge(
            base(&committed, Direction::Reverse),
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Reverse,
        );
        assert_eq!(keys(reverse), ["g=2", "f=2", "b=1", "a=2"]);
    }

    #[test]
    fn ends_after_a_base_error() {
        let mut overlay = Overlay::default();
        overlay.put(b"z", b"1");
        let failing: RangeIter<'static> = Box::new(
            vec![
                Err(StorageError::Io("boom".into())),
                Ok((Bytes::from(&b"a"[..]), Bytes::from(&b"1"[..]))),
            ]
            .into_iter(),
        );
        let mut merged = overlay.merge(
            failing,
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Forward,
        );
        assert!(matches!(merged.next(), Some(Err(StorageError::Io(_)))));
        assert!(merged.next().is_none());
    }
}
