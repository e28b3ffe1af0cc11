//! Golden tests for the parsing side: the scripts in `tests/golden/parse/` pin the lexer,
//! parser, printer, placeholder resolution, validation and key-condition rules, including
//! every error text. Regenerate expected output with
//! `UPDATE_GOLDENFILES=1 cargo test -p stator-expr --test parse_golden` and review the diff.
//!
//! Commands are goldenscript literal commands (`> verb rest of line`). In an expression,
//! `{{N*TEXT}}` expands to TEXT repeated N times (for limit tests).
//! - `condition EXPR`, `filter EXPR`, `keyexpr EXPR`: parse as a condition of that kind and
//!   print the tree as an S-expression; `update EXPR`, `projection EXPR` likewise. Every
//!   successful parse is also printed and re-parsed, and must give the same tree.
//! - `print KIND EXPR`: the printed (canonical) text of the parsed tree.
//! - `parses KIND EXPR`: only `ok` or the error (for huge inputs).
//! - `names JSON|none`, `values JSON|none`: set the request's placeholder maps.
//! - `check yes|no`: `check_placeholder_maps` with the maps, expressions present or not.
//! - `resolve KIND EXPR`: parse and resolve with the maps; print the resolved tree, then
//!   the result of `finish` if it is an error.
//! - `validate KIND EXPR`: parse, resolve (when any map is set) and validate; `ok` or error.
//! - `keycondition PK SK EXPR`: parse, resolve and reduce to a key condition (`SK` `-` for a
//!   table without sort key).
//!
//! KIND is `condition`, `filter`, `keycondition`, `update` or `projection`.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::error::Error;
use std::fmt::Write as _;

use stator_expr::print::Literal;
use stator_expr::{
    check_placeholder_maps, key_condition, parse_condition, parse_projection, parse_update,
    validate_condition, validate_projection, validate_update, Condition, ExprError, ExpressionKind,
    KeyCondition, Operand, Placeholders, Projection, SortKeyCondition, Update,
};
use stator_types::{AttributeValue, Checked};

#[derive(Default)]
struct ParseRunner {
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, Checked<AttributeValue>>>,
}

/// A parsed expression of any kind.
enum Tree {
    Condition(Condition),
    Update(Update),
    Projection(Projection),
}

fn kind_of(word: &str) -> Result<ExpressionKind, Box<dyn Error>> {
    Ok(match word {
        "condition" => ExpressionKind::Condition,
        "filter" => ExpressionKind::Filter,
        "keycondition" | "keyexpr" => ExpressionKind::KeyCondition,
        "update" => ExpressionKind::Update,
        "projection" => ExpressionKind::Projection,
        other => return Err(format!("unknown expression kind {other}").into()),
    })
}

fn parse(kind: ExpressionKind, text: &str) -> Result<Tree, ExprError> {
    Ok(match kind {
        ExpressionKind::Update => Tree::Update(parse_update(text)?),
        ExpressionKind::Projection => Tree::Projection(parse_projection(text)?),
        kind => Tree::Condition(parse_condition(text, kind)?),
    })
}

/// Expands `{{N*TEXT}}` templates.
fn expand(text: &str) -> Result<String, Box<dyn Error>> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("unclosed {{")?;
        let (count, body) = after[..end].split_once('*').ok_or("{{N*TEXT}}")?;
        out.push_str(&body.repeat(count.parse()?));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn sexpr_operand(operand: &Operand) -> String {
    match operand {
        Operand::Function(function) => {
            let mut out = format!("({}", function.name);
            for arg in &function.args {
                write!(out, " {}", sexpr_operand(arg)).unwrap();
            }
            out + ")"
        }
        Operand::Arithmetic(left, op, right) => {
            format!("({op} {} {})", sexpr_operand(left), sexpr_operand(right))
        }
        other => other.to_string(),
    }
}

fn sexpr_condition(condition: &Condition) -> String {
    match condition {
        Condition::Compare(left, comparator, right) => format!(
            "({comparator} {} {})",
            sexpr_operand(left),
            sexpr_operand(right)
        ),
        Condition::Between(a, low, high) => format!(
            "(BETWEEN {} {} {})",
            sexpr_operand(a),
            sexpr_operand(low),
            sexpr_operand(high)
        ),
        Condition::In(a, list) => {
            let mut out = format!("(IN {}", sexpr_operand(a));
            for item in list {
                write!(out, " {}", sexpr_operand(item)).unwrap();
            }
            out + ")"
        }
        Condition::Function(function) => sexpr_operand(&Operand::Function(function.clone())),
        Condition::And(left, right) => {
            format!("(AND {} {})", sexpr_condition(left), sexpr_condition(right))
        }
        Condition::Or(left, right) => {
            format!("(OR {} {})", sexpr_condition(left), sexpr_condition(right))
        }
        Condition::Not(inner) => format!("(NOT {})", sexpr_condition(inner)),
    }
}

fn sexpr_update(update: &Update) -> String {
    let mut parts = Vec::new();
    if !update.set.is_empty() {
        let actions: Vec<String> = update
            .set
            .iter()
            .map(|(path, value)| format!("({path} {})", sexpr_operand(value)))
            .collect();
        parts.push(format!("SET {}", actions.join(" ")));
    }
    if !update.remove.is_empty() {
        let paths: Vec<String> = update.remove.iter().map(ToString::to_string).collect();
        parts.push(format!("REMOVE {}", paths.join(" ")));
    }
    for (keyword, actions) in [("ADD", &update.add), ("DELETE", &update.delete)] {
        if !actions.is_empty() {
            let actions: Vec<String> = actions
                .iter()
                .map(|(path, value)| format!("({path} {})", sexpr_operand(value)))
                .collect();
            parts.push(format!("{keyword} {}", actions.join(" ")));
        }
    }
    parts.join(" | ")
}

fn sexpr(tree: &Tree) -> String {
    match tree {
        Tree::Condition(condition) => sexpr_condition(condition),
        Tree::Update(update) => sexpr_update(update),
        Tree::Projection(projection) => {
            let paths: Vec<String> = projection.0.iter().map(ToString::to_string).collect();
            format!("[{}]", paths.join("] ["))
        }
    }
}

fn printed(tree: &Tree) -> String {
    match tree {
        Tree::Condition(condition) => condition.to_string(),
        Tree::Update(update) => update.to_string(),
        Tree::Projection(projection) => projection.to_string(),
    }
}

/// Prints `tree` and parses it back; the result must be the same tree.
fn check_roundtrip(kind: ExpressionKind, tree: &Tree) -> Result<(), Box<dyn Error>> {
    let text = printed(tree);
    let again = parse(kind, &text).map_err(|e| format!("printed {text:?} does not parse: {e}"))?;
    let same = match (tree, &again) {
        (Tree::Condition(a), Tree::Condition(b)) => a == b,
        (Tree::Update(a), Tree::Update(b)) => a == b,
        (Tree::Projection(a), Tree::Projection(b)) => a == b,
        _ => false,
    };
    if !same {
        return Err(format!("printed {text:?} parses to a different tree").into());
    }
    Ok(())
}

fn sort_condition(sort: &SortKeyCondition) -> String {
    match sort {
        SortKeyCondition::Compare(comparator, value) => {
            format!("{comparator} {}", Literal(value))
        }
        SortKeyCondition::Between(low, high) => {
            format!("BETWEEN {} AND {}", Literal(low), Literal(high))
        }
        SortKeyCondition::BeginsWith(prefix) => format!("begins_with {}", Literal(prefix)),
    }
}

fn key_condition_text(key: &KeyCondition) -> String {
    let mut out = format!("partition = {}", Literal(&key.partition));
    if let Some(sort) = &key.sort {
        write!(out, "; sort {}", sort_condition(sort)).unwrap();
    }
    out
}

impl ParseRunner {
    /// The valid values of the values map (invalid ones are only seen by `check`).
    fn valid_values(&self) -> Option<HashMap<String, AttributeValue>> {
        self.values.as_ref().map(|values| {
            values
                .iter()
                .filter_map(|(k, v)| v.0.as_ref().ok().map(|v| (k.clone(), v.clone())))
                .collect()
        })
    }

    /// Parses and resolves; returns the resolved tree, or the first error, and the result
    /// of `finish`.
    fn resolve(
        &self,
        kind: ExpressionKind,
        text: &str,
    ) -> Result<(Tree, Result<(), ExprError>), ExprError> {
        let values = self.valid_values();
        let mut placeholders = Placeholders::new(self.names.as_ref(), values.as_ref());
        let tree = match parse(kind, text)? {
            Tree::Condition(c) => Tree::Condition(placeholders.resolve_condition(c, kind)?),
            Tree::Update(u) => Tree::Update(placeholders.resolve_update(u)?),
            Tree::Projection(p) => Tree::Projection(placeholders.resolve_projection(p)?),
        };
        Ok((tree, placeholders.finish()))
    }

    fn resolve_if_maps(&self, kind: ExpressionKind, text: &str) -> Result<Tree, ExprError> {
        if self.names.is_none() && self.values.is_none() {
            return parse(kind, text);
        }
        Ok(self.resolve(kind, text)?.0)
    }
}

impl goldenscript::Runner for ParseRunner {
    type Command = goldenscript::Command;

    fn run(
        &mut self,
        command: &goldenscript::Command,
        _: &goldenscript::Context,
    ) -> Result<String, Box<dyn Error>> {
        let mut out = String::new();
        let (verb, rest) = command
            .name
            .split_once(' ')
            .unwrap_or((command.name.as_str(), ""));
        match verb {
            "condition" | "filter" | "keyexpr" | "update" | "projection" => {
                let kind = kind_of(verb)?;
                match parse(kind, &expand(rest)?) {
                    Ok(tree) => {
                        check_roundtrip(kind, &tree)?;
                        writeln!(out, "{}", sexpr(&tree))?;
                    }
                    Err(e) => writeln!(out, "{e}")?,
                }
            }
            "print" | "parses" => {
                let (kind, text) = rest.split_once(' ').ok_or("KIND EXPR")?;
                let kind = kind_of(kind)?;
                match parse(kind, &expand(text)?) {
                    Ok(tree) if verb == "print" => writeln!(out, "{}", printed(&tree))?,
                    Ok(_) => writeln!(out, "ok")?,
                    Err(e) => writeln!(out, "{e}")?,
                }
            }
            "names" => {
                self.names = match rest {
                    "none" => None,
                    json => Some(serde_json::from_str(json)?),
                };
            }
            "values" => {
                self.values = match rest {
                    "none" => None,
                    json => Some(serde_json::from_str(json)?),
                };
            }
            "check" => {
                let present = match rest {
                    "yes" => true,
                    "no" => false,
                    _ => return Err("check yes|no".into()),
                };
                match check_placeholder_maps(
                    self.names.as_ref(),
                    self.values.as_ref(),
                    present,
                    &["ConditionExpression"],
                ) {
                    Ok(()) => writeln!(out, "ok")?,
                    Err(e) => writeln!(out, "{e}")?,
                }
            }
            "resolve" => {
                let (kind, text) = rest.split_once(' ').ok_or("KIND EXPR")?;
                match self.resolve(kind_of(kind)?, &expand(text)?) {
                    Ok((tree, finish)) => {
                        writeln!(out, "{}", printed(&tree))?;
                        if let Err(e) = finish {
                            writeln!(out, "finish: {e}")?;
                        }
                    }
                    Err(e) => writeln!(out, "{e}")?,
                }
            }
            "validate" => {
                let (kind, text) = rest.split_once(' ').ok_or("KIND EXPR")?;
                let kind = kind_of(kind)?;
                let result =
                    self.resolve_if_maps(kind, &expand(text)?)
                        .and_then(|tree| match &tree {
                            Tree::Condition(c) => validate_condition(c, kind),
                            Tree::Update(u) => validate_update(u),
                            Tree::Projection(p) => validate_projection(p),
                        });
                match result {
                    Ok(()) => writeln!(out, "ok")?,
                    Err(e) => writeln!(out, "{e}")?,
                }
            }
            "keycondition" => {
                let mut parts = rest.splitn(3, ' ');
                let (Some(pk), Some(sk), Some(text)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err("keycondition PK SK EXPR".into());
                };
                let sk = (sk != "-").then_some(sk);
                let result = self
                    .resolve_if_maps(ExpressionKind::KeyCondition, &expand(text)?)
                    .and_then(|tree| match tree {
                        Tree::Condition(c) => key_condition(&c, pk, sk),
                        _ => unreachable!("a key condition parses as a condition"),
                    });
                match result {
                    Ok(key) => writeln!(out, "{}", key_condition_text(&key))?,
                    Err(e) => writeln!(out, "{e}")?,
                }
            }
            other => return Err(format!("unknown command {other}").into()),
        }
        Ok(out)
    }
}

fn run(name: &str) -> std::io::Result<()> {
    goldenscript::run(
        &mut ParseRunner::default(),
        format!("tests/golden/parse/{name}.txt"),
    )
}

#[test]
fn conditions() -> std::io::Result<()> {
    run("conditions")
}

#[test]
fn syntax_errors() -> std::io::Result<()> {
    run("syntax_errors")
}

#[test]
fn updates() -> std::io::Result<()> {
    run("updates")
}

#[test]
fn projections() -> std::io::Result<()> {
    run("projections")
}

#[test]
fn reserved() -> std::io::Result<()> {
    run("reserved")
}

#[test]
fn limits() -> std::io::Result<()> {
    run("limits")
}

#[test]
fn printing() -> std::io::Result<()> {
    run("printing")
}

#[test]
fn resolve() -> std::io::Result<()> {
    run("resolve")
}

#[test]
fn placeholder_maps() -> std::io::Result<()> {
    run("placeholder_maps")
}

#[test]
fn validate_conditions() -> std::io::Result<()> {
    run("validate_conditions")
}

#[test]
fn validate_updates() -> std::io::Result<()> {
    run("validate_updates")
}

#[test]
fn key_conditions() -> std::io::Result<()> {
    run("key_conditions")
}
