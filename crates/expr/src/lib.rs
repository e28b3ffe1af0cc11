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
// --- evaluation side: path, eval, update, project ---
// --- legacy parameters: legacy ---

pub use ast::*;
pub use error::ExprError;
