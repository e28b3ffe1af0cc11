//! Micro-benchmarks of the expression language (`stator_expr`), stage by stage, as a
//! request goes through it:
//!
//! - `expr_parse`: text → AST for a condition, an update and a projection expression.
//! - `expr_prepare`: the whole per-request preparation the server does (parse, resolve the
//!   placeholders, check that every placeholder was used, validate), and resolve + validate
//!   alone on an already parsed AST.
//! - `expr_eval`: a resolved condition evaluated against an item, an update applied to an
//!   item, and a projection of an item.
//!
//! Run with `cargo bench -p stator-bench --bench expr` (add `-- --quick` for a fast pass).

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use stator_expr::{
    apply_update, evaluate, parse_condition, parse_projection, parse_update, project,
    validate_condition, validate_projection, validate_update, Condition, ExpressionKind,
    Placeholders, Projection, Update,
};
use stator_types::{AttributeValue, Item, Number};

const CONDITION: &str = "attribute_exists(pk) AND #n < :limit AND begins_with(#s, :p)";
// `old` is a DynamoDB reserved word, so the removed attribute is named through `#old`.
const UPDATE: &str = "SET n = n + :one, #t = :now REMOVE #old";
const PROJECTION: &str = "pk, #n, profile.city, tags[1], payload";

fn number(text: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(text).expect("benchmark numbers are valid"))
}

fn string(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

/// A ~1 KB item that satisfies [`CONDITION`] and has every attribute the update and the
/// projection touch.
fn item() -> Item {
    let payload: String = (0..1000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let profile: Item = BTreeMap::from([
        ("city".to_string(), string("Lisbon")),
        ("zip".to_string(), number("1100")),
        ("active".to_string(), AttributeValue::Bool(true)),
    ]);
    BTreeMap::from([
        ("pk".to_string(), string("user#000042")),
        ("n".to_string(), number("42")),
        ("status".to_string(), string("us-west-active")),
        ("payload".to_string(), AttributeValue::S(payload)),
        ("profile".to_string(), AttributeValue::M(profile)),
        (
            "tags".to_string(),
            AttributeValue::L(vec![string("red"), string("green"), number("3.14")]),
        ),
        ("old".to_string(), AttributeValue::Bool(false)),
    ])
}

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn values(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The placeholder maps of each expression (each benchmark uses its own, so that every
/// defined placeholder is used and `Placeholders::finish` succeeds).
struct Maps {
    condition_names: HashMap<String, String>,
    condition_values: HashMap<String, AttributeValue>,
    update_names: HashMap<String, String>,
    update_values: HashMap<String, AttributeValue>,
    projection_names: HashMap<String, String>,
}

impl Maps {
    fn new() -> Maps {
        Maps {
            condition_names: names(&[("#n", "n"), ("#s", "status")]),
            condition_values: values(&[(":limit", number("100")), (":p", string("us-"))]),
            update_names: names(&[("#t", "updated_at"), ("#old", "old")]),
            update_values: values(&[
                (":one", number("1")),
                (":now", string("2024-05-01T12:00:00Z")),
            ]),
            projection_names: names(&[("#n", "n")]),
        }
    }

    fn prepare_condition(&self, text: &str) -> Condition {
        let parsed = parse_condition(text, ExpressionKind::Condition).expect("parses");
        self.resolve_condition(parsed)
    }

    fn resolve_condition(&self, parsed: Condition) -> Condition {
        let mut placeholders =
            Placeholders::new(Some(&self.condition_names), Some(&self.condition_values));
        let resolved = placeholders
            .resolve_condition(parsed, ExpressionKind::Condition)
            .expect("resolves");
        placeholders.finish().expect("every placeholder is used");
        validate_condition(&resolved, ExpressionKind::Condition).expect("valid");
        resolved
    }

    fn prepare_update(&self, text: &str) -> Update {
        self.resolve_update(parse_update(text).expect("parses"))
    }

    fn resolve_update(&self, parsed: Update) -> Update {
        let mut placeholders =
            Placeholders::new(Some(&self.update_names), Some(&self.update_values));
        let resolved = placeholders.resolve_update(parsed).expect("resolves");
        placeholders.finish().expect("every placeholder is used");
        validate_update(&resolved).expect("valid");
        resolved
    }

    fn prepare_projection(&self, text: &str) -> Projection {
        self.resolve_projection(parse_projection(text).expect("parses"))
    }

    fn resolve_projection(&self, parsed: Projection) -> Projection {
        let mut placeholders = Placeholders::new(Some(&self.projection_names), None);
        let resolved = placeholders.resolve_projection(parsed).expect("resolves");
        placeholders.finish().expect("every placeholder is used");
        validate_projection(&resolved).expect("valid");
        resolved
    }
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("expr_parse");
    group.bench_function("condition", |b| {
        b.iter(|| {
            black_box(
                parse_condition(black_box(CONDITION), ExpressionKind::Condition).expect("parses"),
            )
        })
    });
    group.bench_function("update", |b| {
        b.iter(|| black_box(parse_update(black_box(UPDATE)).expect("parses")))
    });
    group.bench_function("projection", |b| {
        b.iter(|| black_box(parse_projection(black_box(PROJECTION)).expect("parses")))
    });
    group.finish();
}

fn prepare(c: &mut Criterion) {
    let maps = Maps::new();
    let parsed_condition = parse_condition(CONDITION, ExpressionKind::Condition).expect("parses");
    let parsed_update = parse_update(UPDATE).expect("parses");
    let parsed_projection = parse_projection(PROJECTION).expect("parses");

    let mut group = c.benchmark_group("expr_prepare");
    group.bench_function("condition", |b| {
        b.iter(|| black_box(maps.prepare_condition(black_box(CONDITION))))
    });
    group.bench_function("update", |b| {
        b.iter(|| black_box(maps.prepare_update(black_box(UPDATE))))
    });
    group.bench_function("projection", |b| {
        b.iter(|| black_box(maps.prepare_projection(black_box(PROJECTION))))
    });
    // Resolution consumes the parsed tree, so each iteration gets a fresh copy (the copy is
    // not timed).
    group.bench_function("resolve_validate_condition", |b| {
        b.iter_batched(
            || parsed_condition.clone(),
            |parsed| black_box(maps.resolve_condition(parsed)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("resolve_validate_update", |b| {
        b.iter_batched(
            || parsed_update.clone(),
            |parsed| black_box(maps.resolve_update(parsed)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("resolve_validate_projection", |b| {
        b.iter_batched(
            || parsed_projection.clone(),
            |parsed| black_box(maps.resolve_projection(parsed)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn eval(c: &mut Criterion) {
    let maps = Maps::new();
    let condition = maps.prepare_condition(CONDITION);
    let update = maps.prepare_update(UPDATE);
    let projection = maps.prepare_projection(PROJECTION);
    let item = item();
    assert!(
        evaluate(&condition, &item).expect("evaluates"),
        "the benchmark item satisfies the condition, so every operand is evaluated"
    );

    let mut group = c.benchmark_group("expr_eval");
    group.bench_function("condition_true", |b| {
        b.iter(|| black_box(evaluate(black_box(&condition), black_box(&item)).expect("ok")))
    });
    // The item is cloned outside the timed section; the update changes it in place.
    group.bench_function("apply_update_1kb_item", |b| {
        b.iter_batched_ref(
            || item.clone(),
            |target| black_box(apply_update(black_box(&update), target).expect("applies")),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("project_1kb_item", |b| {
        b.iter(|| black_box(project(black_box(&projection.0), black_box(&item))))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse, prepare, eval
}
criterion_main!(benches);
