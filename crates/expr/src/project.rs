//! Projection: the part of an item that a list of document paths selects
//! (ProjectionExpression, `AttributesToGet`, and `ReturnValues` `UPDATED_OLD`/`UPDATED_NEW`
//! over the paths an update targeted).
//!
//! DynamoDB's rules:
//! - A top-level name returns that attribute whole.
//! - A nested path returns the enclosing structure holding only the requested parts:
//!   `a.b` gives `{"a": {"M": {"b": …}}}`; `a[1]` gives `{"a": {"L": [a[1]]}}` — the list
//!   keeps only the selected elements, compacted, in their original order (`a[3], a[1]` gives
//!   `[a[1], a[3]]`).
//! - Several paths into the same map or list merge into one structure.
//! - A path that is absent, or that steps into a value of the wrong type, contributes
//!   nothing; no empty enclosing map or list is created for it.
//! - A path that selects a whole value wins over paths inside it (DynamoDB rejects such
//!   overlapping paths in expressions; `ReturnValues` may meet them).
//!
//! The result is built from a small tree of borrowed references and then cloned once, so
//! only the selected values are copied.

use std::collections::BTreeMap;

use stator_types::{AttributeValue, Item};

use crate::ast::{Name, Path, PathElement};

/// The longest path followed. DynamoDB items nest at most 32 levels, so a longer path
/// cannot select anything in a valid item; bounding the length bounds the recursion that
/// builds the result.
pub const MAX_PATH_LENGTH: usize = 64;

/// Projects `item` on `paths`. Unresolved placeholders (a bug in the caller) select nothing.
pub fn project(paths: &[Path], item: &Item) -> Item {
    let mut roots: BTreeMap<&str, Node<'_>> = BTreeMap::new();
    for path in paths {
        insert(&mut roots, item, path);
    }
    roots
        .into_iter()
        .filter_map(|(name, node)| Some((name.to_owned(), node.into_value()?)))
        .collect()
}

/// The selection inside one value.
enum Node<'a> {
    /// Just created; every completed insertion replaces it.
    Empty,
    /// The whole value.
    Whole(&'a AttributeValue),
    /// Some entries of a map.
    Map(BTreeMap<&'a str, Node<'a>>),
    /// Some elements of a list, by original index.
    List(BTreeMap<u32, Node<'a>>),
}

/// A borrowed step of a path that exists in the item.
enum Key<'a> {
    Name(&'a str),
    Index(u32),
}

fn literal(name: &Name) -> Option<&str> {
    match name {
        Name::Literal(text) => Some(text),
        Name::Placeholder(_) => None,
    }
}

/// Adds one path to the selection tree, if the item has a value there.
fn insert<'a>(roots: &mut BTreeMap<&'a str, Node<'a>>, item: &'a Item, path: &Path) {
    if path.0.len() > MAX_PATH_LENGTH {
        return;
    }
    let Some((PathElement::Attribute(first), rest)) = path.0.split_first() else {
        return;
    };
    let Some((name, mut value)) = literal(first).and_then(|name| item.get_key_value(name)) else {
        return;
    };
    // Follow the whole path before touching the tree, so an absent path adds nothing.
    let mut keys: Vec<Key<'a>> = Vec::with_capacity(rest.len());
    for element in rest {
        let step = match (element, value) {
            (PathElement::Attribute(key), AttributeValue::M(map)) => literal(key)
                .and_then(|key| map.get_key_value(key))
                .map(|(key, child)| (Key::Name(key.as_str()), child)),
            (PathElement::Index(index), AttributeValue::L(list)) => list
                .get(*index as usize)
                .map(|child| (Key::Index(*index), child)),
            _ => None,
        };
        let Some((key, child)) = step else {
            return;
        };
        keys.push(key);
        value = child;
    }

    let mut slot = roots.entry(name.as_str()).or_insert(Node::Empty);
    for key in keys {
        if matches!(slot, Node::Empty) {
            *slot = match key {
                Key::Name(_) => Node::Map(BTreeMap::new()),
                Key::Index(_) => Node::List(BTreeMap::new()),
            };
        }
        slot = match (slot, key) {
            (Node::Map(children), Key::Name(key)) => children.entry(key).or_insert(Node::Empty),
            (Node::List(children), Key::Index(index)) => {
                children.entry(index).or_insert(Node::Empty)
            }
            // Already selected whole (or, impossibly, a map and a list at one place).
            _ => return,
        };
    }
    *slot = Node::Whole(value);
}

impl Node<'_> {
    /// Builds the projected value (`None` for an [`Node::Empty`] left by nothing). Recursion
    /// depth is the tree depth, at most [`MAX_PATH_LENGTH`].
    fn into_value(self) -> Option<AttributeValue> {
        match self {
            Node::Empty => None,
            Node::Whole(value) => Some(value.clone()),
            Node::Map(children) => Some(AttributeValue::M(
                children
                    .into_iter()
                    .filter_map(|(name, node)| Some((name.to_owned(), node.into_value()?)))
                    .collect(),
            )),
            Node::List(children) => Some(AttributeValue::L(
                children
                    .into_values()
                    .filter_map(Node::into_value)
                    .collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::path::test_support::p;
    use stator_types::Number;

    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from(v))
    }
    fn m(entries: Vec<(&str, AttributeValue)>) -> AttributeValue {
        AttributeValue::M(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }
    fn l(values: Vec<AttributeValue>) -> AttributeValue {
        AttributeValue::L(values)
    }

    fn item() -> Item {
        let AttributeValue::M(item) = m(vec![
            (
                "a",
                m(vec![
                    ("b", n(1)),
                    ("c", n(2)),
                    ("d", l(vec![n(10), n(11), n(12)])),
                ]),
            ),
            (
                "l",
                l(vec![m(vec![("x", n(0)), ("y", n(1))]), n(1), n(2), n(3)]),
            ),
            ("s", AttributeValue::S("x".into())),
        ]) else {
            unreachable!()
        };
        item
    }

    fn projected(paths: &[&str]) -> Item {
        let paths: Vec<Path> = paths.iter().map(|t| p(t)).collect();
        project(&paths, &item())
    }

    fn one(name: &str, value: AttributeValue) -> Item {
        let mut item = Item::new();
        item.insert(name.to_owned(), value);
        item
    }

    #[test]
    fn top_level_and_missing() {
        assert_eq!(projected(&["s"]), one("s", AttributeValue::S("x".into())));
        assert_eq!(
            projected(&["nope", "a.zz", "l[9]", "s.x", "s[0]", "a[0]", "l.x"]),
            Item::new()
        );
        assert_eq!(projected(&[]), Item::new());
    }

    #[test]
    fn nested_paths_keep_their_enclosing_structure() {
        assert_eq!(projected(&["a.b"]), one("a", m(vec![("b", n(1))])));
        assert_eq!(
            projected(&["a.d[1]"]),
            one("a", m(vec![("d", l(vec![n(11)]))]))
        );
        assert_eq!(
            projected(&["l[0].y"]),
            one("l", l(vec![m(vec![("y", n(1))])]))
        );
    }

    #[test]
    fn paths_merge_and_lists_compact_in_original_order() {
        assert_eq!(
            projected(&["a.c", "a.b", "a.d[2]", "a.d[0]", "a.zz"]),
            one(
                "a",
                m(vec![("b", n(1)), ("c", n(2)), ("d", l(vec![n(10), n(12)]))])
            )
        );
        assert_eq!(
            projected(&["l[3]", "l[1]", "l[7]"]),
            one("l", l(vec![n(1), n(3)]))
        );
        assert_eq!(
            projected(&["l[0].x", "l[2]", "l[0].y"]),
            one("l", l(vec![m(vec![("x", n(0)), ("y", n(1))]), n(2)]))
        );
    }

    #[test]
    fn a_whole_value_wins_over_parts_in_either_order() {
        let whole = one("a", item()["a"].clone());
        assert_eq!(projected(&["a.b", "a"]), whole);
        assert_eq!(projected(&["a", "a.b"]), whole);
        assert_eq!(
            projected(&["a.d", "a.d[1]"]),
            one("a", m(vec![("d", l(vec![n(10), n(11), n(12)]))]))
        );
    }

    #[test]
    fn placeholders_and_overlong_paths_select_nothing() {
        let placeholder = Path(vec![PathElement::Attribute(Name::Placeholder("#a".into()))]);
        assert_eq!(project(&[placeholder], &item()), Item::new());
        let mut deep = n(1);
        for _ in 0..MAX_PATH_LENGTH + 5 {
            deep = l(vec![deep]);
        }
        let item = one("d", deep);
        let mut path = vec![PathElement::Attribute(Name::Literal("d".into()))];
        path.extend(std::iter::repeat_n(PathElement::Index(0), MAX_PATH_LENGTH));
        assert_eq!(project(&[Path(path.clone())], &item), Item::new());
        path.truncate(MAX_PATH_LENGTH);
        assert_eq!(project(&[Path(path)], &item).len(), 1);
    }
}
