//! Query and Scan: reading pages of items from a table or one of its secondary indexes.
//!
//! The API layer checks what needs only the request (member constraints, expressions, the
//! request-only `Select` rules, segments) and hands the engine a [`QueryRequest`] or
//! [`ScanRequest`]. The engine applies every rule that depends on the table, in DynamoDB's
//! order ([`crate::target`]: the index and its state, `ConsistentRead` and `Select` on a
//! GSI, attributes a GSI does not project, the key condition against the key schema, key
//! attributes in a Query filter, the start key), then turns the request into one range scan
//! over the table's or index's key space, reads at most `Limit` entries and at most 1 MB,
//! applies the filter and projection, and reports `Count`, `ScannedCount`,
//! `LastEvaluatedKey` and consumed capacity as DynamoDB does.

use std::collections::BTreeSet;
use std::ops::Bound;

use stator_expr::{
    CompositeKeyCondition, Condition, Name, Path, PathElement, Projection, SortKeyCondition,
};
use stator_storage::Direction;
use stator_types::{AttributeValue, Item};

use crate::capacity::{read_units, CapacityKind, ConsumedCapacity};
use crate::error::DynamoError;
use crate::keys;
use crate::records::{decode_stored, stored_size, ReadItem};
use crate::schema::ProjectionType;
use crate::target::{
    check_filter_keys, check_key_condition, check_start_key_in_range, effective_select, Read,
    Target,
};
use crate::Engine;

/// DynamoDB stops a page once it has read 1 MB of items, before filtering.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

pub use crate::target::Select;

/// A Query whose request-only rules were checked (its expressions parsed, resolved and
/// validated).
#[derive(Clone, Debug)]
pub struct QueryRequest {
    pub table: String,
    /// `IndexName`, for a query on a secondary index.
    pub index: Option<String>,
    /// The key condition (`KeyConditionExpression`, or the converted `KeyConditions`); the
    /// engine checks it against the key schema.
    pub key_condition: Condition,
    pub filter: Option<Condition>,
    /// The attributes to return (`ProjectionExpression` or `AttributesToGet`).
    pub projection: Option<Projection>,
    /// `Select` as requested; `None` takes DynamoDB's default.
    pub select: Option<Select>,
    /// Maximum number of items to evaluate (before the filter).
    pub limit: Option<usize>,
    /// `ScanIndexForward`.
    pub forward: bool,
    /// Key attributes of the item to start after (table key, plus index key for indexes).
    pub exclusive_start_key: Option<Item>,
    pub consistent: bool,
}

/// A Scan whose request-only rules were checked.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    pub table: String,
    pub index: Option<String>,
    pub filter: Option<Condition>,
    pub projection: Option<Projection>,
    /// `Select` as requested; `None` takes DynamoDB's default.
    pub select: Option<Select>,
    pub limit: Option<usize>,
    pub exclusive_start_key: Option<Item>,
    pub consistent: bool,
    /// `(Segment, TotalSegments)` for a parallel scan.
    pub segment: Option<(u32, u32)>,
}

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The items that passed the filter (empty for `Select::Count`).
    pub items: Vec<ReadItem>,
    /// `Count`: items that passed the filter.
    pub count: usize,
    /// `ScannedCount`: items evaluated before the filter.
    pub scanned_count: usize,
    pub last_evaluated_key: Option<Item>,
    /// What the read consumed (reported only if the client asked).
    pub consumed: ConsumedCapacity,
}

impl Page {
    /// The page's items as attribute maps.
    pub fn decoded_items(&self) -> Result<Vec<Item>, DynamoError> {
        self.items.iter().map(ReadItem::to_item).collect()
    }
}

/// A key range as two owned bounds.
struct KeyRange {
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
}

fn concat(prefix: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(prefix.len() + tail.len());
    v.extend_from_slice(prefix);
    v.extend_from_slice(tail);
    v
}

/// Everything after `prefix`.
fn after_all(prefix: &[u8]) -> Bound<Vec<u8>> {
    keys::prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded)
}

/// The bytes a sort key value contributes, and whether a key can continue after them.
fn sort_value_bytes(value: &AttributeValue, last: bool) -> Vec<u8> {
    let mut v = Vec::new();
    keys::push_sort_value(&mut v, value, last);
    v
}

/// The key range of one partition, narrowed by a sort key condition: for a
/// multi-attribute index key, by the equalities on its first sort components and the
/// condition on the next one.
fn partition_range(
    target: &Target<'_>,
    key: &CompositeKeyCondition,
) -> Result<KeyRange, DynamoError> {
    let sort = key.sort.as_ref();
    let pp = match target.index {
        None => {
            let partition = key.partition.first().ok_or_else(|| {
                DynamoError::internal("a reduced key condition without a partition key value")
            })?;
            keys::partition_prefix(
                &target.space_prefix(),
                partition,
                target.partition_is_last(),
            )
        }
        Some(_) => {
            let partition: Vec<&AttributeValue> = key.partition.iter().collect();
            let mut pp = keys::index_partition_prefix(&target.space_prefix(), &partition);
            for value in &key.sort_prefix {
                keys::push_sort_value(&mut pp, value, false);
            }
            pp
        }
    };
    if target.partition_is_last() {
        // No sort key in the table's own key space: the partition is exactly one key.
        return Ok(KeyRange {
            start: Bound::Included(pp.clone()),
            end: Bound::Included(pp),
        });
    }
    let last = target.sort_is_last();
    // Bounds for "sort value <= v" and "sort value >= v" etc. When the sort value is the last
    // component the item key ends right after it; otherwise more components follow, so "all
    // keys whose sort value equals v" is the prefix range of its encoding.
    let lower_ge = |v: &AttributeValue| Bound::Included(concat(&pp, &sort_value_bytes(v, last)));
    let lower_gt = |v: &AttributeValue| {
        let k = concat(&pp, &sort_value_bytes(v, last));
        if last {
            Bound::Excluded(k)
        } else {
            after_all(&k)
        }
    };
    let upper_lt = |v: &AttributeValue| Bound::Excluded(concat(&pp, &sort_value_bytes(v, last)));
    let upper_le = |v: &AttributeValue| {
        let k = concat(&pp, &sort_value_bytes(v, last));
        if last {
            Bound::Included(k)
        } else {
            after_all(&k)
        }
    };
    let whole_start = Bound::Included(pp.clone());
    let whole_end = after_all(&pp);
    use stator_expr::Comparator as C;
    Ok(match sort {
        None => KeyRange {
            start: whole_start,
            end: whole_end,
        },
        Some(SortKeyCondition::Compare(op, v)) => match op {
            C::Eq => KeyRange {
                start: lower_ge(v),
                end: upper_le(v),
            },
            C::Lt => KeyRange {
                start: whole_start,
                end: upper_lt(v),
            },
            C::Le => KeyRange {
                start: whole_start,
                end: upper_le(v),
            },
            C::Gt => KeyRange {
                start: lower_gt(v),
                end: whole_end,
            },
            C::Ge => KeyRange {
                start: lower_ge(v),
                end: whole_end,
            },
            // Not a valid key condition; the API layer refuses it. Match nothing.
            C::Ne => KeyRange {
                start: Bound::Excluded(pp.clone()),
                end: Bound::Excluded(pp),
            },
        },
        Some(SortKeyCondition::Between(lo, hi)) => KeyRange {
            start: lower_ge(lo),
            end: upper_le(hi),
        },
        Some(SortKeyCondition::BeginsWith(prefix)) => {
            // The encoding of a string or binary, without the terminator it gets when not
            // last, is a byte prefix of the encoding of every value that starts with it.
            let mut bytes = sort_value_bytes(prefix, last);
            if !last {
                bytes.truncate(bytes.len().saturating_sub(2));
            }
            let k = concat(&pp, &bytes);
            KeyRange {
                start: Bound::Included(k.clone()),
                end: after_all(&k),
            }
        }
    })
}

/// The key range of a whole table or index, or of one parallel-scan segment of it: the
/// segments split the 64-bit partition-hash space into equal contiguous parts.
fn scan_range(target: &Target<'_>, segment: Option<(u32, u32)>) -> KeyRange {
    let space = target.space_prefix();
    let Some((segment, total)) = segment else {
        return KeyRange {
            start: Bound::Included(space.clone()),
            end: after_all(&space),
        };
    };
    let boundary = |i: u32| -> Option<u64> {
        // floor(i * 2^64 / total), exact in u128; None for the end of the hash space.
        let v = (u128::from(i) << 64) / u128::from(total.max(1));
        u64::try_from(v).ok().filter(|_| i < total)
    };
    let start = match boundary(segment) {
        Some(h) => Bound::Included(concat(&space, &h.to_be_bytes())),
        None => Bound::Included(space.clone()),
    };
    let end = match boundary(segment + 1) {
        Some(h) => Bound::Excluded(concat(&space, &h.to_be_bytes())),
        None => after_all(&space),
    };
    KeyRange { start, end }
}

fn bound_key(b: &Bound<Vec<u8>>) -> Option<&[u8]> {
    match b {
        Bound::Included(k) | Bound::Excluded(k) => Some(k),
        Bound::Unbounded => None,
    }
}

/// Whether `key` lies within the range.
fn contains(range: &KeyRange, key: &[u8]) -> bool {
    let after_start = match &range.start {
        Bound::Included(s) => key >= s.as_slice(),
        Bound::Excluded(s) => key > s.as_slice(),
        Bound::Unbounded => true,
    };
    let before_end = match &range.end {
        Bound::Included(e) => key <= e.as_slice(),
        Bound::Excluded(e) => key < e.as_slice(),
        Bound::Unbounded => true,
    };
    after_start && before_end
}

/// Narrows the range to what comes after `start_key` in the reading direction.
fn resume_after(range: &mut KeyRange, start_key: Vec<u8>, forward: bool) {
    if forward {
        let tighter = bound_key(&range.start).is_none_or(|s| start_key.as_slice() >= s);
        if tighter {
            range.start = Bound::Excluded(start_key);
        }
    } else {
        let tighter = bound_key(&range.end).is_none_or(|e| start_key.as_slice() <= e);
        if tighter {
            range.end = Bound::Excluded(start_key);
        }
    }
}

/// The top-level attribute names `paths` start with.
fn top_level_names<'p>(paths: impl Iterator<Item = &'p Path>) -> BTreeSet<&'p str> {
    paths
        .filter_map(|p| match p.0.first() {
            Some(PathElement::Attribute(Name::Literal(n))) => Some(n.as_str()),
            _ => None,
        })
        .collect()
}

/// The shared part of Query and Scan once the key range is known.
struct PageSpec<'a> {
    filter: Option<&'a Condition>,
    projection: Option<&'a Projection>,
    select: Select,
    limit: Option<usize>,
    forward: bool,
    consistent: bool,
}

impl Engine {
    /// Query: one page of items from one partition of a table or index.
    pub fn query(&self, req: QueryRequest) -> Result<Page, DynamoError> {
        let meta = self.data_table(&req.table)?;
        let target = Target::resolve(&meta, req.index.as_deref(), || self.now_epoch_seconds())?;
        target.check_read_options(req.consistent, req.select)?;
        target.check_gsi_projection(req.projection.as_ref(), req.filter.as_ref())?;
        let schema = target.key_schema();
        let key = check_key_condition(&req.key_condition, schema)?;
        if let Some(filter) = &req.filter {
            check_filter_keys(filter, schema)?;
        }
        if let Some(start) = &req.exclusive_start_key {
            target.check_start_key(Read::Query, start)?;
            check_start_key_in_range(start, schema, &key, req.forward)?;
        }
        let select = effective_select(req.select, req.projection.is_some(), target.index.is_some());
        let mut range = partition_range(&target, &key)?;
        if let Some(esk) = &req.exclusive_start_key {
            resume_after(&mut range, target.start_key(esk)?, req.forward);
        }
        let mut page = self.read_page(
            &target,
            range,
            PageSpec {
                filter: req.filter.as_ref(),
                projection: req.projection.as_ref(),
                select,
                limit: req.limit,
                forward: req.forward,
                consistent: req.consistent,
            },
        )?;
        // A partition of a table without a sort key holds one item: its Query is always
        // complete, and it takes no ExclusiveStartKey (see `Target::check_start_key`), so
        // no LastEvaluatedKey that a paginator would send back.
        if target.index.is_none() && meta.key_schema.sort.is_none() {
            page.last_evaluated_key = None;
        }
        Ok(page)
    }

    /// Scan: one page of items from a table or index, or from one segment of it.
    pub fn scan(&self, req: ScanRequest) -> Result<Page, DynamoError> {
        let meta = self.data_table(&req.table)?;
        let target = Target::resolve(&meta, req.index.as_deref(), || self.now_epoch_seconds())?;
        target.check_read_options(req.consistent, req.select)?;
        target.check_gsi_projection(req.projection.as_ref(), req.filter.as_ref())?;
        if let Some(start) = &req.exclusive_start_key {
            target.check_start_key(Read::Scan, start)?;
        }
        let select = effective_select(req.select, req.projection.is_some(), target.index.is_some());
        let mut range = scan_range(&target, req.segment);
        if let Some(esk) = &req.exclusive_start_key {
            let key = target.start_key(esk)?;
            if let Some((segment, total)) = req.segment {
                if !contains(&range, &key) {
                    return Err(DynamoError::validation(format!(
                        "The provided starting key is invalid: Invalid ExclusiveStartKey. \
                         Please use ExclusiveStartKey with correct Segment. TotalSegments: \
                         {total} Segment: {segment}"
                    )));
                }
            }
            resume_after(&mut range, key, true);
        }
        self.read_page(
            &target,
            range,
            PageSpec {
                filter: req.filter.as_ref(),
                projection: req.projection.as_ref(),
                select,
                limit: req.limit,
                forward: true,
                consistent: req.consistent,
            },
        )
    }

    fn read_page(
        &self,
        target: &Target<'_>,
        range: KeyRange,
        spec: PageSpec<'_>,
    ) -> Result<Page, DynamoError> {
        let meta = target.meta;
        // An LSI whose projection is not ALL answers requests for other attributes by
        // fetching the item from the table, at the table's read cost (DynamoDB does the
        // same). A GSI never fetches: the API layer refuses such requests.
        let fetch_from_table = match target.index {
            Some(index)
                if !target.global && index.projection.projection_type != ProjectionType::All =>
            {
                let projected: BTreeSet<&str> = meta
                    .key_schema
                    .attributes()
                    .chain(index.key_schema.attributes())
                    .map(|a| a.name.as_str())
                    .chain(
                        index
                            .projection
                            .non_key_attributes
                            .iter()
                            .map(String::as_str),
                    )
                    .collect();
                let mut paths = spec.filter.map(Condition::paths).unwrap_or_default();
                if spec.select == Select::SpecificAttributes {
                    paths.extend(spec.projection.iter().flat_map(|p| p.0.iter()));
                }
                spec.select == Select::AllAttributes
                    || top_level_names(paths.into_iter())
                        .iter()
                        .any(|n| !projected.contains(n))
            }
            _ => false,
        };

        // The partition the page starts in (a Scan from the start of the table knows none).
        let first_key = match &range.start {
            Bound::Included(k) | Bound::Excluded(k) => Some(k.as_slice()),
            Bound::Unbounded => None,
        };
        let hash = first_key.and_then(keys::hash_of);
        let index_name = target.index.map(|i| i.name.as_str());
        let snapshot = self.storage.snapshot()?;
        let direction = if spec.forward {
            Direction::Forward
        } else {
            Direction::Reverse
        };
        let start = match &range.start {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match &range.end {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut page = Page {
            items: Vec::new(),
            count: 0,
            scanned_count: 0,
            last_evaluated_key: None,
            consumed: ConsumedCapacity::zero(&meta.name, CapacityKind::Read),
        };
        let mut bytes_read = 0usize;
        let mut fetched_bytes = 0usize;
        let mut last: Option<Item> = None;
        let mut stopped_early = false;
        // The stored item is decoded only when the read must look into it: to filter, to
        // project, to complete an LSI entry, or to name the last key of a cut-short page.
        // Otherwise it goes into the page in its stored form.
        let look_inside =
            fetch_from_table || spec.filter.is_some() || spec.select == Select::SpecificAttributes;
        for value in snapshot.range_values(start, end, direction)? {
            let value = value?;
            page.scanned_count += 1;
            bytes_read += stored_size(&value)?;
            let reached_limit = spec.limit.is_some_and(|l| page.scanned_count >= l);
            let full_page = bytes_read >= MAX_PAGE_BYTES;
            stopped_early = reached_limit || full_page;
            // `entry` is what the table or index holds; `full` is the whole item when an LSI
            // had to fetch it. The filter sees the fullest view; the result is what `Select`
            // asks for (an LSI query for projected attributes returns only those, even when
            // the filter needed more).
            let entry = if look_inside || stopped_early {
                Some(decode_stored(&value)?.item)
            } else {
                None
            };
            let mut full = None;
            if let (true, Some(entry)) = (fetch_from_table, &entry) {
                let pk = entry.get(&meta.key_schema.partition.name);
                let sk = meta
                    .key_schema
                    .sort
                    .as_ref()
                    .and_then(|s| entry.get(&s.name));
                if let Some(pk) = pk {
                    let key = keys::item_key(meta.storage_id, pk, sk);
                    if let Some(bytes) = snapshot.get(&key)? {
                        let base = decode_stored(&bytes)?;
                        fetched_bytes += base.size;
                        full = Some(base.item);
                    }
                }
            }
            let view = full.as_ref().or(entry.as_ref());
            let passes = match (spec.filter, view) {
                (Some(f), Some(view)) => stator_expr::evaluate(f, view)?,
                _ => true,
            };
            if stopped_early {
                last = entry.as_ref().map(|e| target.last_evaluated_key(e));
            }
            if passes {
                page.count += 1;
                match spec.select {
                    Select::Count => {}
                    Select::SpecificAttributes => {
                        let paths = spec.projection.map_or(&[][..], |p| p.0.as_slice());
                        if let Some(view) = view {
                            page.items
                                .push(ReadItem::Built(stator_expr::project(paths, view)));
                        }
                    }
                    Select::AllAttributes => page.items.push(match full {
                        Some(full) => ReadItem::Built(full),
                        None => ReadItem::Stored(value),
                    }),
                    Select::AllProjectedAttributes => page.items.push(ReadItem::Stored(value)),
                }
            }
            if stopped_early {
                break;
            }
        }
        if stopped_early {
            page.last_evaluated_key = last;
        }
        let units = read_units(bytes_read, spec.consistent);
        let fetched = if fetch_from_table && fetched_bytes > 0 {
            read_units(fetched_bytes, spec.consistent)
        } else {
            0.0
        };
        page.consumed.table_units = units;
        if let Some(index) = target.index {
            page.consumed.table_units = fetched;
            let list = if target.global {
                &mut page.consumed.global_indexes
            } else {
                &mut page.consumed.local_indexes
            };
            list.push((index.name.clone(), units));
        }
        self.govern_in(meta, &page.consumed, index_name, hash)?;
        Ok(page)
    }
}
