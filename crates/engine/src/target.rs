//! What a read addresses — a table, or one of its indexes — and every rule of Query and
//! Scan that depends on it, so that every front end (the JSON API, PartiQL, DAX) gets them
//! from the engine:
//!
//! - the index exists and can be read ([`Target::resolve`]): a table without the named
//!   index is a `ValidationException` (not a not-found error); an index being built cannot
//!   be read; one being deleted is gone;
//! - a global index allows no consistent read, and `Select=ALL_ATTRIBUTES` only if it
//!   projects everything ([`Target::check_read_options`]), and may only be asked for
//!   attributes it projects ([`Target::check_gsi_projection`]);
//! - a Query's key condition fits the key schema ([`check_key_condition`]), its filter
//!   names no key attribute ([`check_filter_keys`]);
//! - an `ExclusiveStartKey` has exactly the key attributes ([`Target::check_start_key`])
//!   and, for a Query, lies within the key condition ([`check_start_key_in_range`]);
//! - the `Select` a read gets when the request gives none ([`effective_select`]).
//!
//! Then the key layout of the target: its key space, which key components are last, the
//! storage key of a start key, and the `LastEvaluatedKey` of an entry.

use std::cmp::Ordering;

use stator_expr::{
    CompositeKeyCondition, Condition, Name, Path, PathElement, Projection, SortKeyCondition,
};
use stator_types::{AttributeValue, Item};

use crate::error::DynamoError;
use crate::itemcheck::check_not_empty;
use crate::keys;
use crate::schema::{
    IndexMeta, IndexStatus, KeyAttribute, KeySchema, ProjectionType, ScalarType, TableMeta,
};

/// `Select`: what a read returns of each item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Select {
    /// Every attribute of the item (for an LSI whose projection lacks some, they are fetched
    /// from the table, at extra read cost).
    #[default]
    AllAttributes,
    /// What the index projects.
    AllProjectedAttributes,
    /// The attributes of `projection`.
    SpecificAttributes,
    /// Only `Count` and `ScannedCount`.
    Count,
}

/// Which read: their messages differ in places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    Query,
    Scan,
}

/// A table, or one of its indexes.
#[derive(Clone, Copy, Debug)]
pub struct Target<'m> {
    pub meta: &'m TableMeta,
    pub index: Option<&'m IndexMeta>,
    /// Whether `index` is a global one.
    pub global: bool,
}

impl<'m> Target<'m> {
    /// Finds the index, applying DynamoDB's existence and state rules. A table that exists
    /// without the named index is a `ValidationException`, not a not-found error; a global
    /// index still being backfilled cannot be read; an index being deleted is gone.
    /// `now` (engine clock) tells whether a delayed creation still shows the index
    /// `CREATING`.
    pub fn resolve(
        meta: &'m TableMeta,
        index: Option<&str>,
        now: impl FnOnce() -> f64,
    ) -> Result<Self, DynamoError> {
        let Some(name) = index else {
            return Ok(Target {
                meta,
                index: None,
                global: false,
            });
        };
        let found = meta
            .global_indexes
            .iter()
            .map(|i| (i, true))
            .chain(meta.local_indexes.iter().map(|i| (i, false)))
            .find(|(i, _)| i.name == name && i.status != IndexStatus::Deleting);
        let Some((index, global)) = found else {
            return Err(DynamoError::validation(format!(
                "The table does not have the specified index: {name}"
            )));
        };
        let creating = index.status == IndexStatus::Creating
            || (index.creating_until.is_some() && index.status_at(now()) == IndexStatus::Creating);
        if creating {
            return Err(DynamoError::validation(
                "Cannot read from backfilling global secondary index",
            ));
        }
        Ok(Target {
            meta,
            index: Some(index),
            global,
        })
    }

    /// The key schema the read is ordered by: the index's, or the table's.
    pub fn key_schema(&self) -> &'m KeySchema {
        match self.index {
            Some(index) => &index.key_schema,
            None => &self.meta.key_schema,
        }
    }

    fn global_index(&self) -> Option<&'m IndexMeta> {
        self.index.filter(|_| self.global)
    }

    /// `ConsistentRead=true` on a GSI, and `Select=ALL_ATTRIBUTES` on a GSI that does not
    /// project everything (a GSI cannot fetch from the table, unlike an LSI).
    pub fn check_read_options(
        &self,
        consistent: bool,
        select: Option<Select>,
    ) -> Result<(), DynamoError> {
        let Some(index) = self.global_index() else {
            return Ok(());
        };
        if consistent {
            return Err(DynamoError::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        if select == Some(Select::AllAttributes)
            && index.projection.projection_type != ProjectionType::All
        {
            return Err(DynamoError::invalid_parameter(format_args!(
                "Select type ALL_ATTRIBUTES is not supported for global secondary index {} \
                 because its projection type is not ALL",
                index.name
            )));
        }
        Ok(())
    }

    /// A GSI cannot fetch from the table, so a read of it may only ask for attributes it
    /// projects (observed: `One or more parameter values were invalid: Global secondary index
    /// my_index does not project [table_column]`). Decided: the filter's attributes count
    /// too, and several missing attributes are listed in order of appearance as `[a, b]`.
    pub fn check_gsi_projection(
        &self,
        projection: Option<&Projection>,
        filter: Option<&Condition>,
    ) -> Result<(), DynamoError> {
        let Some(index) = self.global_index() else {
            return Ok(());
        };
        if index.projection.projection_type == ProjectionType::All {
            return Ok(());
        }
        let projected = |name: &str| {
            self.meta.key_schema.attributes().any(|a| a.name == name)
                || index.key_schema.attributes().any(|a| a.name == name)
                || (index.projection.projection_type == ProjectionType::Include
                    && index
                        .projection
                        .non_key_attributes
                        .iter()
                        .any(|a| a == name))
        };
        let mut paths: Vec<&Path> = projection.map(|p| p.0.iter().collect()).unwrap_or_default();
        if let Some(filter) = filter {
            paths.extend(filter.paths());
        }
        let mut missing: Vec<&str> = Vec::new();
        for name in paths.into_iter().filter_map(first_name) {
            if !projected(name) && !missing.contains(&name) {
                missing.push(name);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(DynamoError::invalid_parameter(format_args!(
            "Global secondary index {} does not project [{}]",
            index.name,
            missing.join(", ")
        )))
    }

    /// The attributes an `ExclusiveStartKey` must consist of: the table's key, plus the
    /// index's key attributes for an index.
    fn start_key_attributes(&self) -> Vec<&KeyAttribute> {
        let mut attributes: Vec<&KeyAttribute> = self.meta.key_schema.attributes().collect();
        if let Some(index) = self.index {
            for attribute in index.key_schema.attributes() {
                if !attributes.iter().any(|a| a.name == attribute.name) {
                    attributes.push(attribute);
                }
            }
        }
        attributes
    }

    /// Checks an `ExclusiveStartKey`'s shape: exactly the start-key attributes, each of its
    /// key type and not empty.
    ///
    /// DynamoDB words a shape mismatch differently per operation (both observed): Scan adds
    /// GetItem's key message, Query does not, except for a key attribute of the wrong type,
    /// which a Query reports with GetItem's message alone. A Query of a table without a
    /// sort key takes no start key.
    pub fn check_start_key(&self, read: Read, key: &Item) -> Result<(), DynamoError> {
        let mismatch = || match read {
            Read::Query => DynamoError::validation("The provided starting key is invalid"),
            Read::Scan => DynamoError::validation(
                "The provided starting key is invalid: The provided key element does not match \
                 the schema",
            ),
        };
        let attributes = self.start_key_attributes();
        if key.len() != attributes.len() {
            return Err(mismatch());
        }
        for attribute in &attributes {
            let value = key.get(&attribute.name).ok_or_else(mismatch)?;
            if !attribute.attr_type.matches(value) {
                // A Query names a key attribute of the wrong type with GetItem's text.
                return Err(match read {
                    Read::Query => DynamoError::validation(crate::itemcheck::KEY_MISMATCH),
                    Read::Scan => mismatch(),
                });
            }
        }
        // A Query of a table without a sort key reads at most one item, so there is
        // nothing to continue (decided text: the Query family's own).
        if read == Read::Query && self.index.is_none() && self.meta.key_schema.sort.is_none() {
            return Err(mismatch());
        }
        for attribute in &attributes {
            let kind = match key.get(&attribute.name) {
                Some(AttributeValue::S(s)) if s.is_empty() => "string",
                Some(AttributeValue::B(b)) if b.is_empty() => "binary",
                _ => continue,
            };
            // Decided: GetItem's empty-key text behind the start-key prefix.
            return Err(DynamoError::validation(format!(
                "The provided starting key is invalid: One or more parameter values are not \
                 valid. The AttributeValue for a key attribute cannot contain an empty {kind} \
                 value. Key: {}",
                attribute.name
            )));
        }
        Ok(())
    }

    /// The prefix of the target's key space.
    pub(crate) fn space_prefix(&self) -> Vec<u8> {
        match self.index {
            Some(index) => keys::index_prefix(index.storage_id),
            None => keys::table_items_prefix(self.meta.storage_id),
        }
    }

    /// In the table's own key space the partition key is last when there is no sort key and
    /// the sort key is always last; in an index the base table key follows, so neither is.
    pub(crate) fn partition_is_last(&self) -> bool {
        self.index.is_none() && self.meta.key_schema.sort.is_none()
    }

    pub(crate) fn sort_is_last(&self) -> bool {
        self.index.is_none()
    }

    /// The storage key of the entry an `ExclusiveStartKey` (already shape-checked with
    /// [`Target::check_start_key`]) identifies.
    pub(crate) fn start_key(&self, esk: &Item) -> Result<Vec<u8>, DynamoError> {
        let get = |name: &str| {
            esk.get(name)
                .ok_or_else(|| DynamoError::validation("The provided starting key is invalid"))
        };
        let pk = get(&self.meta.key_schema.partition.name)?;
        let sk = match &self.meta.key_schema.sort {
            Some(attr) => Some(get(&attr.name)?),
            None => None,
        };
        Ok(match self.index {
            None => keys::item_key(self.meta.storage_id, pk, sk),
            Some(index) => {
                let schema = &index.key_schema;
                let partition = schema
                    .hash_components()
                    .map(|a| get(&a.name))
                    .collect::<Result<Vec<_>, _>>()?;
                let sort = schema
                    .range_components()
                    .map(|a| get(&a.name))
                    .collect::<Result<Vec<_>, _>>()?;
                keys::index_entry_key(index.storage_id, &partition, &sort, pk, sk)
            }
        })
    }

    /// `LastEvaluatedKey` for an entry: the table key, plus the index key for an index.
    pub(crate) fn last_evaluated_key(&self, item: &Item) -> Item {
        self.meta
            .key_schema
            .attributes()
            .chain(self.index.iter().flat_map(|i| i.key_schema.attributes()))
            .filter_map(|attr| item.get(&attr.name).map(|v| (attr.name.clone(), v.clone())))
            .collect()
    }
}

/// The top-level attribute a path starts with.
fn first_name(path: &Path) -> Option<&str> {
    match path.0.first() {
        Some(PathElement::Attribute(Name::Literal(name))) => Some(name),
        _ => None,
    }
}

/// A Query's key condition, reduced and checked against the key schema of the table or
/// index: shape (by `stator_expr::validate::key_condition_components`), then each value's
/// type against its key attribute's type, then empty partition key values.
pub fn check_key_condition(
    condition: &Condition,
    schema: &KeySchema,
) -> Result<CompositeKeyCondition, DynamoError> {
    let partition_names: Vec<&str> = schema.hash_components().map(|a| a.name.as_str()).collect();
    let sort_names: Vec<&str> = schema.range_components().map(|a| a.name.as_str()).collect();
    let reduced =
        stator_expr::validate::key_condition_components(condition, &partition_names, &sort_names)?;
    let mismatch =
        || DynamoError::invalid_parameter("Condition parameter type does not match schema type");
    for (attribute, value) in schema.hash_components().zip(&reduced.partition) {
        if !attribute.attr_type.matches(value) {
            return Err(mismatch());
        }
    }
    let mut sort_attributes = schema.range_components();
    // The values first: `zip` polls its left side first, and an attribute taken for a value
    // that is not there would be lost to the last condition's check below.
    for (value, attribute) in reduced.sort_prefix.iter().zip(sort_attributes.by_ref()) {
        if !attribute.attr_type.matches(value) {
            return Err(mismatch());
        }
    }
    if let (Some(sort), Some(attribute)) = (&reduced.sort, sort_attributes.next()) {
        let values: Vec<&AttributeValue> = match sort {
            SortKeyCondition::Compare(_, value) | SortKeyCondition::BeginsWith(value) => {
                vec![value]
            }
            SortKeyCondition::Between(low, high) => vec![low, high],
        };
        if values.iter().any(|v| !attribute.attr_type.matches(v)) {
            return Err(mismatch());
        }
        // begins_with only has a meaning for strings and binaries; a number sort key with a
        // number prefix already failed the operand check, so this is the remaining case.
        if matches!(sort, SortKeyCondition::BeginsWith(_))
            && !matches!(attribute.attr_type, ScalarType::S | ScalarType::B)
        {
            return Err(mismatch());
        }
    }
    for (attribute, value) in schema.hash_components().zip(&reduced.partition) {
        check_not_empty(attribute, value)?;
    }
    Ok(reduced)
}

/// A Query's filter may not name a key attribute of the table or index it reads: those
/// belong in the key condition. (Scan has no such rule.) The first key attribute found, in
/// reading order, is reported.
pub fn check_filter_keys(filter: &Condition, schema: &KeySchema) -> Result<(), DynamoError> {
    let key = filter
        .paths()
        .into_iter()
        .filter_map(first_name)
        .find(|name| schema.attributes().any(|a| a.name == *name));
    match key {
        Some(name) => Err(DynamoError::validation(format!(
            "Filter Expression can only contain non-primary key attributes: Primary key \
             attribute: {name}"
        ))),
        None => Ok(()),
    }
}

/// A Query's `ExclusiveStartKey` must lie inside the key condition: in the queried partition
/// (`The provided starting key is outside query boundaries based on provided condition`) and
/// not before the start of the sort key range in the direction of reading (`The provided
/// starting key does not match the range key predicate`; observed for `sk >= :v` with a start
/// key below `:v`), nor past its end (`… outside query boundaries based on provided
/// conditions`).
pub fn check_start_key_in_range(
    key: &Item,
    schema: &KeySchema,
    condition: &CompositeKeyCondition,
    forward: bool,
) -> Result<(), DynamoError> {
    let equal = |attribute: &KeyAttribute, value: &AttributeValue| {
        key.get(&attribute.name)
            .is_some_and(|v| stator_expr::eval::values_equal(v, value))
    };
    let inside = schema
        .hash_components()
        .zip(&condition.partition)
        .all(|(a, v)| equal(a, v));
    if !inside {
        return Err(DynamoError::validation(
            "The provided starting key is outside query boundaries based on provided condition",
        ));
    }
    let mut sort_attributes = schema.range_components();
    // Decided: a start key off the equalities on the first sort components of a
    // multi-attribute key is past the range's end, like one past its bounds.
    let on_prefix = condition
        .sort_prefix
        .iter()
        .zip(sort_attributes.by_ref())
        .all(|(v, a)| equal(a, v));
    if !on_prefix {
        return Err(DynamoError::validation(
            "The provided starting key is outside query boundaries based on provided conditions",
        ));
    }
    let (Some(sort), Some(attribute)) = (&condition.sort, sort_attributes.next()) else {
        return Ok(());
    };
    let Some(start) = key.get(&attribute.name) else {
        return Ok(());
    };
    let order = |bound: &AttributeValue| stator_expr::eval::order(start, bound);
    let before_start = if forward {
        match sort {
            SortKeyCondition::Compare(comparator, bound) => {
                use stator_expr::Comparator as C;
                matches!(comparator, C::Eq | C::Gt | C::Ge) && order(bound) == Some(Ordering::Less)
            }
            SortKeyCondition::Between(low, _) => order(low) == Some(Ordering::Less),
            SortKeyCondition::BeginsWith(prefix) => order(prefix) == Some(Ordering::Less),
        }
    } else {
        match sort {
            SortKeyCondition::Compare(comparator, bound) => {
                use stator_expr::Comparator as C;
                matches!(comparator, C::Eq | C::Lt | C::Le)
                    && order(bound) == Some(Ordering::Greater)
            }
            SortKeyCondition::Between(_, high) => order(high) == Some(Ordering::Greater),
            SortKeyCondition::BeginsWith(prefix) => {
                order(prefix) == Some(Ordering::Greater) && !has_prefix(start, prefix)
            }
        }
    };
    if before_start {
        return Err(DynamoError::validation(
            "The provided starting key does not match the range key predicate",
        ));
    }
    use stator_expr::Comparator as C;
    use std::cmp::Ordering::{Equal, Greater, Less};
    let past_end = if forward {
        match sort {
            SortKeyCondition::Compare(C::Eq | C::Le, bound) => order(bound) == Some(Greater),
            SortKeyCondition::Compare(C::Lt, bound) => {
                matches!(order(bound), Some(Greater | Equal))
            }
            SortKeyCondition::Compare(..) => false,
            SortKeyCondition::Between(_, high) => order(high) == Some(Greater),
            SortKeyCondition::BeginsWith(prefix) => {
                order(prefix) == Some(Greater) && !has_prefix(start, prefix)
            }
        }
    } else {
        match sort {
            SortKeyCondition::Compare(C::Eq | C::Ge, bound) => order(bound) == Some(Less),
            SortKeyCondition::Compare(C::Gt, bound) => matches!(order(bound), Some(Less | Equal)),
            SortKeyCondition::Compare(..) => false,
            SortKeyCondition::Between(low, _) => order(low) == Some(Less),
            SortKeyCondition::BeginsWith(prefix) => order(prefix) == Some(Less),
        }
    };
    if past_end {
        return Err(DynamoError::validation(
            "The provided starting key is outside query boundaries based on provided conditions",
        ));
    }
    Ok(())
}

fn has_prefix(value: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (value, prefix) {
        (AttributeValue::S(v), AttributeValue::S(p)) => v.as_bytes().starts_with(p.as_bytes()),
        (AttributeValue::B(v), AttributeValue::B(p)) => v.starts_with(p),
        _ => false,
    }
}

/// The `Select` the engine gets: as given, else `SPECIFIC_ATTRIBUTES` when there is a
/// projection, else `ALL_PROJECTED_ATTRIBUTES` for an index and `ALL_ATTRIBUTES` for a table
/// (the documented defaults).
pub fn effective_select(select: Option<Select>, projection: bool, index: bool) -> Select {
    match select {
        Some(select) => select,
        None if projection => Select::SpecificAttributes,
        None if index => Select::AllProjectedAttributes,
        None => Select::AllAttributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_expr::resolve::Placeholders;
    use stator_expr::ExpressionKind;
    use std::collections::HashMap;

    fn schema(sort: bool) -> KeySchema {
        KeySchema::simple(
            KeyAttribute {
                name: "pk".into(),
                attr_type: ScalarType::S,
            },
            sort.then(|| KeyAttribute {
                name: "sk".into(),
                attr_type: ScalarType::N,
            }),
        )
    }

    fn parse(text: &str, values: &[(&str, AttributeValue)]) -> Condition {
        let values: HashMap<String, AttributeValue> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let c = stator_expr::parser::parse_condition(text, ExpressionKind::KeyCondition).unwrap();
        Placeholders::new(None, Some(&values))
            .resolve_condition(c, ExpressionKind::KeyCondition)
            .unwrap()
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.parse().unwrap())
    }

    #[test]
    fn key_condition_types_are_checked() {
        let c = parse("pk = :p", &[(":p", n("1"))]);
        let err = check_key_condition(&c, &schema(false)).unwrap_err();
        assert_eq!(
            err.message,
            "One or more parameter values were invalid: Condition parameter type does not match \
             schema type"
        );
        let c = parse(
            "pk = :p AND sk > :s",
            &[(":p", AttributeValue::S("a".into())), (":s", n("2"))],
        );
        let reduced = check_key_condition(&c, &schema(true)).unwrap();
        assert_eq!(reduced.partition, vec![AttributeValue::S("a".into())]);
    }

    #[test]
    fn start_key_range() {
        let c = parse(
            "pk = :p AND sk >= :s",
            &[(":p", AttributeValue::S("a".into())), (":s", n("10"))],
        );
        let reduced = check_key_condition(&c, &schema(true)).unwrap();
        let key = |pk: &str, sk: &str| -> Item {
            [
                ("pk".to_string(), AttributeValue::S(pk.into())),
                ("sk".to_string(), n(sk)),
            ]
            .into_iter()
            .collect()
        };
        assert!(check_start_key_in_range(&key("a", "10"), &schema(true), &reduced, true).is_ok());
        assert!(check_start_key_in_range(&key("a", "9"), &schema(true), &reduced, true).is_err());
        // Reading backwards, 9 is past the end of `sk >= 10`.
        let err =
            check_start_key_in_range(&key("a", "9"), &schema(true), &reduced, false).unwrap_err();
        assert_eq!(
            err.message,
            "The provided starting key is outside query boundaries based on provided conditions"
        );
        assert!(check_start_key_in_range(&key("a", "11"), &schema(true), &reduced, false).is_ok());
        let c = parse(
            "pk = :p AND sk < :s",
            &[(":p", AttributeValue::S("a".into())), (":s", n("10"))],
        );
        let below = check_key_condition(&c, &schema(true)).unwrap();
        assert!(check_start_key_in_range(&key("a", "9"), &schema(true), &below, true).is_ok());
        assert!(check_start_key_in_range(&key("a", "10"), &schema(true), &below, true).is_err());
        let err =
            check_start_key_in_range(&key("b", "10"), &schema(true), &reduced, true).unwrap_err();
        assert!(err.message.contains("outside query boundaries"));
    }

    #[test]
    fn select_defaults() {
        assert_eq!(
            effective_select(None, false, true),
            Select::AllProjectedAttributes
        );
        assert_eq!(
            effective_select(None, true, true),
            Select::SpecificAttributes
        );
        assert_eq!(effective_select(None, false, false), Select::AllAttributes);
        assert_eq!(
            effective_select(Some(Select::Count), true, false),
            Select::Count
        );
    }
}
