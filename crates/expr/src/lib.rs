//! DynamoDB's expression language, with no I/O: text → tokens → AST → resolved AST →
//! validated → evaluated against an item.
//!
//! ```text
//! lexer ──► parser ──► ast::{Condition, Update, Projection}     (placeholders intact)
//!                         │
//!            resolve ─────┤  #names, :values substituted; undefined / unused reported
//!            validate ────┤  per-context rules: functions allowed, key-condition shape,
//!                         │  overlapping or conflicting paths, clause rules
//!            eval ────────┘  conditions → bool; update → new item + updated paths;
//!                            projection → projected item
//! legacy: Expected, AttributeUpdates, AttributesToGet, KeyConditions, QueryFilter,
//!         ScanFilter → the same AST, so there is one evaluator.
//! ```
//! Every error is an [`ExprError`] carrying DynamoDB's full `ValidationException` message,
//! including its context prefix (`Invalid UpdateExpression: …`).

pub mod ast;
pub mod error;

// --- parsing side: lexer, parser, print, reserved, resolve, validate ---
pub mod lexer;
pub mod parser;
pub mod print;
pub mod reserved;
pub mod resolve;
pub mod validate;
pub use parser::{parse_condition, parse_projection, parse_update};
pub use resolve::{check_placeholder_maps, Placeholders};
pub use validate::{
    key_condition, key_condition_components, validate_condition, validate_projection,
    validate_update, CompositeKeyCondition, KeyCondition, SortKeyCondition,
};
// --- evaluation side: path, eval, update, project ---
pub mod eval;
pub mod path;
pub mod project;
pub mod update;
pub use eval::evaluate;
pub use project::project;
pub use update::apply_update;
// --- legacy parameters: legacy ---
pub mod legacy;

pub use ast::*;
pub use error::ExprError;
