//! Document paths (`a.b[2].c`) applied to an [`Item`]: reading a value, and the two mutation
//! primitives update expressions are built from, with DynamoDB's rules.
//!
//! Every function here expects a *resolved* path (only [`Name::Literal`]); a placeholder is
//! reported as an internal error, never a panic. Navigation is a loop, never recursion, so a
//! path of any length is safe.
//!
//! DynamoDB's rules for writing through a path (all verified against the service's
//! documented or user-reported behaviour, see `update.rs`):
//! - Every element but the last must already exist and be of the container type the next
//!   element needs (`M` for `.name`, `L` for `[n]`). Otherwise the update fails with
//!   "The document path provided in the update expression is invalid for update": `SET a.b`
//!   does not create `a`, and `SET a[0]` needs `a` to be a list.
//! - Setting a list index at or beyond the end appends one element at the end (`SET a[10]`
//!   on a two-element list writes `a[2]`).
//! - Removing a list index shifts the later elements down; removing an index beyond the end,
//!   or a map key that is not there, does nothing. Several removals in one expression refer
//!   to the *original* positions, which [`remove_many`] implements by removing the highest
//!   positions first.

use std::cmp::Ordering;

use stator_types::{AttributeValue, Item};

use crate::ast::{Name, Path, PathElement};
use crate::error::ExprError;

/// DynamoDB's message when an update writes through a path whose parent is missing or of
/// the wrong type.
pub const INVALID_PATH_FOR_UPDATE: &str =
    "The document path provided in the update expression is invalid for update";

/// The error for a tree that still holds an `ExpressionAttributeNames` placeholder: the
/// caller skipped resolution, which is a bug in Stator, not in the request.
pub(crate) fn unresolved_name(placeholder: &str) -> ExprError {
    ExprError::internal(format_args!(
        "the expression attribute name {placeholder} was not resolved before evaluation"
    ))
}

fn invalid_for_update() -> ExprError {
    ExprError::message_only(INVALID_PATH_FOR_UPDATE)
}

/// The literal text of a resolved name.
fn literal(name: &Name) -> Result<&str, ExprError> {
    match name {
        Name::Literal(text) => Ok(text),
        Name::Placeholder(placeholder) => Err(unresolved_name(placeholder)),
    }
}

/// Splits a path into its top-level attribute name and the remaining steps. A path that
/// breaks the AST invariant (empty, or starting with an index) can never name an attribute.
fn split(path: &Path) -> Result<Option<(&str, &[PathElement])>, ExprError> {
    match path.0.split_first() {
        Some((PathElement::Attribute(name), rest)) => Ok(Some((literal(name)?, rest))),
        _ => Ok(None),
    }
}

/// One step down from `value`, or `None` if `value` has no such child.
fn child<'a>(
    value: &'a AttributeValue,
    element: &PathElement,
) -> Result<Option<&'a AttributeValue>, ExprError> {
    Ok(match (element, value) {
        (PathElement::Attribute(name), AttributeValue::M(map)) => map.get(literal(name)?),
        (PathElement::Index(index), AttributeValue::L(list)) => list.get(*index as usize),
        (PathElement::Attribute(name), _) => {
            literal(name)?;
            None
        }
        (PathElement::Index(_), _) => None,
    })
}

/// The value at `path`, or `None` if any step is missing or of the wrong type (`a.b` where
/// `a` is a list, `a[5]` of a three-element list).
pub fn get<'a>(item: &'a Item, path: &Path) -> Result<Option<&'a AttributeValue>, ExprError> {
    let Some((name, rest)) = split(path)? else {
        return Ok(None);
    };
    let Some(mut current) = item.get(name) else {
        // Still report a placeholder deeper in the path: the tree is unusable.
        for element in rest {
            if let PathElement::Attribute(name) = element {
                literal(name)?;
            }
        }
        return Ok(None);
    };
    for (position, element) in rest.iter().enumerate() {
        match child(current, element)? {
            Some(next) => current = next,
            None => {
                for element in &rest[position + 1..] {
                    if let PathElement::Attribute(name) = element {
                        literal(name)?;
                    }
                }
                return Ok(None);
            }
        }
    }
    Ok(Some(current))
}

/// Checks that an update may write at `path` in `item`: every step but the last exists and
/// the last step's parent is the container it needs. Returns DynamoDB's
/// "document path … is invalid for update" error otherwise.
pub fn check_writable(item: &Item, path: &Path) -> Result<(), ExprError> {
    let Some((name, rest)) = split(path)? else {
        return Err(invalid_for_update());
    };
    let Some((last, middle)) = rest.split_last() else {
        return Ok(());
    };
    let mut current = item.get(name).ok_or_else(invalid_for_update)?;
    for element in middle {
        current = child(current, element)?.ok_or_else(invalid_for_update)?;
    }
    match (last, current) {
        (PathElement::Attribute(name), AttributeValue::M(_)) => {
            literal(name)?;
            Ok(())
        }
        (PathElement::Index(_), AttributeValue::L(_)) => Ok(()),
        _ => Err(invalid_for_update()),
    }
}

/// Where [`set`] wrote its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOutcome {
    /// At the path as given (a new or replaced attribute, map entry or list element).
    AtPath,
    /// The path's last step was a list index at or beyond the end, so the value was
    /// appended at this index instead.
    AppendedAt(u32),
}

/// Walks to the parent of the last step of `rest`, below the top-level attribute `name`.
fn parent_mut<'a>(
    item: &'a mut Item,
    name: &str,
    middle: &[PathElement],
) -> Result<&'a mut AttributeValue, ExprError> {
    let mut current = item.get_mut(name).ok_or_else(invalid_for_update)?;
    for element in middle {
        current = match (element, current) {
            (PathElement::Attribute(name), AttributeValue::M(map)) => {
                map.get_mut(literal(name)?).ok_or_else(invalid_for_update)?
            }
            (PathElement::Index(index), AttributeValue::L(list)) => {
                list.get_mut(*index as usize)
                    .ok_or_else(invalid_for_update)?
            }
            _ => return Err(invalid_for_update()),
        };
    }
    Ok(current)
}

/// Writes `value` at `path` with DynamoDB's `SET` rules (see the module documentation). On
/// error the item is unchanged.
pub fn set(item: &mut Item, path: &Path, value: AttributeValue) -> Result<SetOutcome, ExprError> {
    let Some((name, rest)) = split(path)? else {
        return Err(invalid_for_update());
    };
    let Some((last, middle)) = rest.split_last() else {
        insert(item, name, value);
        return Ok(SetOutcome::AtPath);
    };
    match (last, parent_mut(item, name, middle)?) {
        (PathElement::Attribute(key), AttributeValue::M(map)) => {
            insert(map, literal(key)?, value);
            Ok(SetOutcome::AtPath)
        }
        (PathElement::Index(index), AttributeValue::L(list)) => {
            if let Some(slot) = list.get_mut(*index as usize) {
                *slot = value;
                Ok(SetOutcome::AtPath)
            } else {
                let appended_at = u32::try_from(list.len()).unwrap_or(u32::MAX);
                list.push(value);
                Ok(SetOutcome::AppendedAt(appended_at))
            }
        }
        _ => Err(invalid_for_update()),
    }
}

/// Inserts or replaces `map[key]`, allocating the key only when it is new.
fn insert(map: &mut Item, key: &str, value: AttributeValue) {
    if let Some(slot) = map.get_mut(key) {
        *slot = value;
    } else {
        map.insert(key.to_owned(), value);
    }
}

/// Removes the value at `path` with DynamoDB's `REMOVE` rules: the parent must exist and be
/// the right container (otherwise "document path … is invalid for update"); a missing key or
/// an index beyond the end is no change (`Ok(None)`); removing a list element shifts the
/// later ones down. Returns the removed value.
pub fn remove(item: &mut Item, path: &Path) -> Result<Option<AttributeValue>, ExprError> {
    let Some((name, rest)) = split(path)? else {
        return Err(invalid_for_update());
    };
    let Some((last, middle)) = rest.split_last() else {
        return Ok(item.remove(name));
    };
    match (last, parent_mut(item, name, middle)?) {
        (PathElement::Attribute(key), AttributeValue::M(map)) => Ok(map.remove(literal(key)?)),
        (PathElement::Index(index), AttributeValue::L(list)) => {
            let index = *index as usize;
            Ok((index < list.len()).then(|| list.remove(index)))
        }
        _ => Err(invalid_for_update()),
    }
}

/// Removes several paths as one `REMOVE` clause does: every path refers to the item as it
/// was before any of them was removed (`REMOVE a[1], a[2]` removes the original second and
/// third elements). Paths are removed from the highest list positions down, which keeps the
/// positions still to be removed valid. Stops at the first invalid path; the item may then
/// be partly changed, so callers that need all-or-nothing check with [`check_writable`]
/// first.
pub fn remove_many(item: &mut Item, paths: &[&Path]) -> Result<(), ExprError> {
    let mut ordered: Vec<&Path> = paths.to_vec();
    ordered.sort_by(|a, b| compare_paths(b, a));
    for path in ordered {
        remove(item, path)?;
    }
    Ok(())
}

/// A total order on paths used to sequence list operations: element by element, names by
/// their text, list indexes numerically, a name before an index, and a path before its
/// extensions. Sorting `SET` targets ascending applies appends "in order by element number",
/// as DynamoDB documents; sorting `REMOVE` targets descending keeps original positions valid.
pub fn compare_paths(a: &Path, b: &Path) -> Ordering {
    for (x, y) in a.0.iter().zip(&b.0) {
        let order = match (x, y) {
            (PathElement::Attribute(p), PathElement::Attribute(q)) => {
                name_text(p).cmp(name_text(q))
            }
            (PathElement::Index(i), PathElement::Index(j)) => i.cmp(j),
            (PathElement::Attribute(_), PathElement::Index(_)) => Ordering::Less,
            (PathElement::Index(_), PathElement::Attribute(_)) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.0.len().cmp(&b.0.len())
}

fn name_text(name: &Name) -> &str {
    match name {
        Name::Literal(text) | Name::Placeholder(text) => text,
    }
}

/// Helpers shared by the evaluation side's unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    #![allow(clippy::unwrap_used)]

    use crate::ast::{Name, Path, PathElement};

    /// Parses the small path syntax `a.b[2].c` used by these tests.
    pub(crate) fn p(text: &str) -> Path {
        let mut elements = Vec::new();
        for part in text.split('.') {
            let (name, mut indexes) = match part.find('[') {
                Some(at) => (&part[..at], &part[at..]),
                None => (part, ""),
            };
            if !name.is_empty() {
                elements.push(PathElement::Attribute(Name::Literal(name.to_owned())));
            }
            while let Some(end) = indexes.find(']') {
                elements.push(PathElement::Index(indexes[1..end].parse().unwrap()));
                indexes = &indexes[end + 1..];
            }
        }
        Path(elements)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::test_support::p;
    use super::*;
    use stator_types::Number;

    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from(v))
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    fn sample() -> Item {
        let mut inner = Item::new();
        inner.insert("c".into(), s("deep"));
        let mut map = Item::new();
        map.insert(
            "b".into(),
            AttributeValue::L(vec![n(0), n(1), AttributeValue::M(inner)]),
        );
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::M(map));
        item.insert("l".into(), AttributeValue::L(vec![n(0), n(1), n(2), n(3)]));
        item.insert("s".into(), s("x"));
        item
    }

    #[test]
    fn get_follows_maps_and_lists() {
        let item = sample();
        assert_eq!(get(&item, &p("a.b[2].c")).unwrap(), Some(&s("deep")));
        assert_eq!(get(&item, &p("a.b[1]")).unwrap(), Some(&n(1)));
        assert_eq!(get(&item, &p("s")).unwrap(), Some(&s("x")));
    }

    #[test]
    fn get_of_missing_or_mistyped_steps_is_none() {
        let item = sample();
        for path in [
            "z",
            "a.z",
            "a.b[3]",
            "a.b.c",
            "a[0]",
            "s.x",
            "s[0]",
            "l[4]",
            "a.b[2].c.d",
        ] {
            assert_eq!(get(&item, &p(path)).unwrap(), None, "{path}");
        }
    }

    #[test]
    fn placeholders_are_internal_errors() {
        let item = sample();
        let path = Path(vec![
            PathElement::Attribute(Name::Literal("a".into())),
            PathElement::Attribute(Name::Placeholder("#b".into())),
        ]);
        assert!(get(&item, &path).unwrap_err().message().contains("#b"));
        // Even when an earlier step is missing.
        let path = Path(vec![
            PathElement::Attribute(Name::Literal("zz".into())),
            PathElement::Attribute(Name::Placeholder("#b".into())),
        ]);
        assert!(get(&item, &path).is_err());
        let mut item = sample();
        assert!(set(&mut item, &path, n(1)).is_err());
        assert!(remove(&mut item, &path).is_err());
        assert_eq!(item, sample());
    }

    #[test]
    fn set_replaces_inserts_and_appends() {
        let mut item = sample();
        assert_eq!(
            set(&mut item, &p("a.b[0]"), s("new")).unwrap(),
            SetOutcome::AtPath
        );
        assert_eq!(get(&item, &p("a.b[0]")).unwrap(), Some(&s("new")));
        assert_eq!(set(&mut item, &p("a.x"), n(7)).unwrap(), SetOutcome::AtPath);
        assert_eq!(get(&item, &p("a.x")).unwrap(), Some(&n(7)));
        assert_eq!(
            set(&mut item, &p("l[9]"), n(9)).unwrap(),
            SetOutcome::AppendedAt(4)
        );
        assert_eq!(
            set(&mut item, &p("l[5]"), n(5)).unwrap(),
            SetOutcome::AppendedAt(5)
        );
        assert_eq!(get(&item, &p("l[4]")).unwrap(), Some(&n(9)));
        assert_eq!(set(&mut item, &p("new"), n(1)).unwrap(), SetOutcome::AtPath);
        assert_eq!(get(&item, &p("new")).unwrap(), Some(&n(1)));
    }

    #[test]
    fn set_through_missing_or_mistyped_parent_is_invalid() {
        for path in [
            "z.a", "a.z.y", "a[0]", "a.b.c", "s.x", "s[0]", "l[7].x", "a.b[3].c",
        ] {
            let mut item = sample();
            let error = set(&mut item, &p(path), n(1)).unwrap_err();
            assert_eq!(error.message(), INVALID_PATH_FOR_UPDATE, "{path}");
            assert_eq!(item, sample(), "{path}");
            assert!(check_writable(&item, &p(path)).is_err(), "{path}");
        }
        for path in ["z", "a.z", "a.b[9]", "l[0]", "a.b[2].q"] {
            assert!(check_writable(&sample(), &p(path)).is_ok(), "{path}");
        }
    }

    #[test]
    fn remove_shifts_and_ignores_missing_leaves() {
        let mut item = sample();
        assert_eq!(remove(&mut item, &p("l[1]")).unwrap(), Some(n(1)));
        assert_eq!(
            get(&item, &p("l")).unwrap(),
            Some(&AttributeValue::L(vec![n(0), n(2), n(3)]))
        );
        assert_eq!(remove(&mut item, &p("l[3]")).unwrap(), None);
        assert_eq!(remove(&mut item, &p("a.zz")).unwrap(), None);
        assert_eq!(remove(&mut item, &p("zz")).unwrap(), None);
        assert_eq!(remove(&mut item, &p("a.b[2].c")).unwrap(), Some(s("deep")));
        assert_eq!(remove(&mut item, &p("s")).unwrap(), Some(s("x")));
        for path in ["zz.a", "s.x", "a[0]", "l.x", "a.b[7].c"] {
            assert_eq!(
                remove(&mut item, &p(path)).unwrap_err().message(),
                INVALID_PATH_FOR_UPDATE,
                "{path}"
            );
        }
    }

    #[test]
    fn remove_many_uses_original_positions() {
        let mut item = sample();
        let paths = [p("l[1]"), p("l[3]"), p("l[0]"), p("l[9]")];
        let refs: Vec<&Path> = paths.iter().collect();
        remove_many(&mut item, &refs).unwrap();
        assert_eq!(
            get(&item, &p("l")).unwrap(),
            Some(&AttributeValue::L(vec![n(2)]))
        );

        // A nested element and an earlier sibling of its list.
        let mut item = sample();
        let paths = [p("a.b[0]"), p("a.b[2].c")];
        let refs: Vec<&Path> = paths.iter().collect();
        remove_many(&mut item, &refs).unwrap();
        let expected = AttributeValue::L(vec![n(1), AttributeValue::M(Item::new())]);
        assert_eq!(get(&item, &p("a.b")).unwrap(), Some(&expected));
    }

    #[test]
    fn path_order() {
        assert_eq!(compare_paths(&p("a[2]"), &p("a[10]")), Ordering::Less);
        assert_eq!(compare_paths(&p("a"), &p("a.b")), Ordering::Less);
        assert_eq!(compare_paths(&p("a.b"), &p("a[0]")), Ordering::Less);
        assert_eq!(compare_paths(&p("b"), &p("a.z")), Ordering::Greater);
        assert_eq!(compare_paths(&p("a[1].x"), &p("a[1].x")), Ordering::Equal);
    }
}
