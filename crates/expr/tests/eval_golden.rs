//! Golden tests of the evaluation side: conditions, updates and projections run through the
//! whole expression pipeline (parse → resolve → validate → evaluate) against items written
//! in DynamoDB JSON. The scripts in `tests/golden/eval/` are the specification; regenerate
//! their expected output with `UPDATE_GOLDENFILES=1 cargo test -p stator-expr --test
//! eval_golden` and review the diff.
//!
//! Commands are goldenscript literals (`> verb rest-of-line`), so expressions and JSON need
//! no quoting:
//! - `> item JSON`: the current item (`{}` for an item that does not exist). No output.
//! - `> values JSON`: the current `ExpressionAttributeValues` (DynamoDB JSON map). No output.
//! - `> names JSON`: the current `ExpressionAttributeNames` (`{"#a":"a"}`). No output.
//! - `> condition EXPR`: evaluates a ConditionExpression: `EXPR → true|false`.
//! - `> update EXPR`: applies an UpdateExpression to a copy of the current item:
//!   `EXPR → NEW ITEM` and the updated paths the engine gets back.
//! - `> apply EXPR`: like `update`, and the result becomes the current item.
//! - `> returns EXPR`: like `update`, printing what `ReturnValues` `UPDATED_OLD` and
//!   `UPDATED_NEW` return (the old and new item projected on the updated paths).
//! - `> project PATHS`: projects the current item on a ProjectionExpression.
//!
//! Any failure prints `error (STAGE): MESSAGE` with the stage that reported it (`parse`,
//! `resolve`, `validate`, `evaluate`). The tag `[novalidate]` before `>` skips validation,
//! to pin what evaluation does with trees that validation would have rejected.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::error::Error;
use std::fmt::Write as _;

use stator_expr::{
    apply_update, evaluate, parse_condition, parse_projection, parse_update, project,
    validate_condition, validate_projection, validate_update, ExprError, ExpressionKind, Path,
    Placeholders,
};
use stator_types::{AttributeValue, Checked, Item};

#[derive(Default)]
struct EvalRunner {
    item: Item,
    values: HashMap<String, AttributeValue>,
    names: HashMap<String, String>,
}

/// A failure and the pipeline stage that reported it.
struct Failure(&'static str, ExprError);

fn stage<T>(name: &'static str, result: Result<T, ExprError>) -> Result<T, Failure> {
    result.map_err(|e| Failure(name, e))
}

fn decode_map(json: &str) -> Result<Item, Box<dyn Error>> {
    match serde_json::from_str::<Checked<Item>>(json)? {
        Checked(Ok(item)) => Ok(item),
        Checked(Err(e)) => Err(e.message().into()),
    }
}

fn json(item: &Item) -> String {
    serde_json::to_string(item).unwrap()
}

fn paths(paths: &[Path]) -> String {
    if paths.is_empty() {
        return "(none)".to_owned();
    }
    paths
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl EvalRunner {
    fn placeholders(&self) -> Placeholders<'_> {
        Placeholders::new(Some(&self.names), Some(&self.values))
    }

    fn condition(&self, text: &str, validate: bool) -> Result<bool, Failure> {
        let kind = ExpressionKind::Condition;
        let parsed = stage("parse", parse_condition(text, kind))?;
        let resolved = stage(
            "resolve",
            self.placeholders().resolve_condition(parsed, kind),
        )?;
        if validate {
            stage("validate", validate_condition(&resolved, kind))?;
        }
        stage("evaluate", evaluate(&resolved, &self.item))
    }

    fn update(&self, text: &str, validate: bool) -> Result<(Item, Vec<Path>), Failure> {
        let parsed = stage("parse", parse_update(text))?;
        let resolved = stage("resolve", self.placeholders().resolve_update(parsed))?;
        if validate {
            stage("validate", validate_update(&resolved))?;
        }
        let mut item = self.item.clone();
        let updated = match apply_update(&resolved, &mut item) {
            Ok(updated) => updated,
            Err(e) => {
                // The contract: an evaluation error leaves the item unchanged.
                assert_eq!(item, self.item, "{text}: a failed update changed the item");
                return Err(Failure("evaluate", e));
            }
        };
        Ok((item, updated))
    }

    fn project(&self, text: &str, validate: bool) -> Result<Item, Failure> {
        let parsed = stage("parse", parse_projection(text))?;
        let resolved = stage("resolve", self.placeholders().resolve_projection(parsed))?;
        if validate {
            stage("validate", validate_projection(&resolved))?;
        }
        Ok(project(&resolved.0, &self.item))
    }
}

impl goldenscript::Runner for EvalRunner {
    type Command = goldenscript::Command;

    fn run(
        &mut self,
        command: &goldenscript::Command,
        context: &goldenscript::Context,
    ) -> Result<String, Box<dyn Error>> {
        let mut out = String::new();
        let (verb, rest) = command
            .name
            .split_once(' ')
            .unwrap_or((command.name.as_str(), ""));
        let rest = rest.trim();
        let validate = !context.tags.contains("novalidate");
        let failed = |out: &mut String, Failure(stage, error): Failure| {
            writeln!(out, "{rest} → error ({stage}): {}", error.message())
        };
        match verb {
            "item" => self.item = decode_map(rest)?,
            "values" => self.values = decode_map(rest)?.into_iter().collect(),
            "names" => self.names = serde_json::from_str(rest)?,
            "condition" => match self.condition(rest, validate) {
                Ok(result) => writeln!(out, "{rest} → {result}")?,
                Err(failure) => failed(&mut out, failure)?,
            },
            "update" | "apply" => match self.update(rest, validate) {
                Ok((item, updated)) => {
                    writeln!(out, "{rest} → {}", json(&item))?;
                    writeln!(out, "  updated: {}", paths(&updated))?;
                    if verb == "apply" {
                        self.item = item;
                    }
                }
                Err(failure) => failed(&mut out, failure)?,
            },
            "returns" => match self.update(rest, validate) {
                Ok((item, updated)) => {
                    writeln!(out, "{rest}")?;
                    writeln!(
                        out,
                        "  UPDATED_OLD: {}",
                        json(&project(&updated, &self.item))
                    )?;
                    writeln!(out, "  UPDATED_NEW: {}", json(&project(&updated, &item)))?;
                }
                Err(failure) => failed(&mut out, failure)?,
            },
            "project" => match self.project(rest, validate) {
                Ok(item) => writeln!(out, "{rest} → {}", json(&item))?,
                Err(failure) => failed(&mut out, failure)?,
            },
            other => return Err(format!("unknown command {other}").into()),
        }
        Ok(out)
    }
}

/// Runs every script in `tests/golden/eval/`, each with a fresh runner, and reports all
/// failing scripts at once.
#[test]
fn eval_golden_scripts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/eval");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no scripts in {}", dir.display());
    let mut failures = Vec::new();
    for script in &scripts {
        let outcome =
            std::panic::catch_unwind(|| goldenscript::run(&mut EvalRunner::default(), script));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{}: {e}", script.display())),
            Err(_) => failures.push(format!("{}: panicked (see output above)", script.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "failing scripts:\n{}",
        failures.join("\n")
    );
}
