//! Fuzz target: any bytes, read as UTF-8 text (lossily), go through everything the parsing
//! side does with an expression — parse as every kind, print, re-parse the printed text,
//! resolve, validate, reduce to a key condition. Nothing may panic, and a tree parsed from
//! the text must parse back from its printed form (unless the canonical form, which puts
//! spaces around operators, outgrows the 4 KB expression limit).

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use stator_expr::parser::MAX_EXPRESSION_SIZE;
use stator_expr::{
    key_condition, parse_condition, parse_projection, parse_update, validate_condition,
    validate_projection, validate_update, ExpressionKind, Placeholders,
};
use stator_types::{AttributeValue, Number};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let names = HashMap::from([
        ("#n".to_owned(), "name".to_owned()),
        ("#a".to_owned(), "a".to_owned()),
    ]);
    let values = HashMap::from([
        (":v".to_owned(), AttributeValue::N(Number::from_i64(1))),
        (":s".to_owned(), AttributeValue::S("x".to_owned())),
        (":l".to_owned(), AttributeValue::L(vec![])),
    ]);
    for kind in [
        ExpressionKind::Condition,
        ExpressionKind::Filter,
        ExpressionKind::KeyCondition,
    ] {
        if let Ok(condition) = parse_condition(&text, kind) {
            let printed = condition.to_string();
            assert!(
                printed.len() > MAX_EXPRESSION_SIZE
                    || parse_condition(&printed, kind).as_ref() == Ok(&condition),
                "{printed}"
            );
            let _ = validate_condition(&condition, kind);
            let mut placeholders = Placeholders::new(Some(&names), Some(&values));
            if let Ok(resolved) = placeholders.resolve_condition(condition, kind) {
                let _ = resolved.to_string();
                let _ = validate_condition(&resolved, kind);
                let _ = key_condition(&resolved, "a", Some("name"));
                let _ = placeholders.finish();
            }
        }
    }
    if let Ok(update) = parse_update(&text) {
        let printed = update.to_string();
        assert!(
            printed.len() > MAX_EXPRESSION_SIZE || parse_update(&printed).as_ref() == Ok(&update),
            "{printed}"
        );
        let _ = validate_update(&update);
        let mut placeholders = Placeholders::new(Some(&names), Some(&values));
        if let Ok(resolved) = placeholders.resolve_update(update) {
            let _ = resolved.to_string();
            let _ = validate_update(&resolved);
        }
    }
    if let Ok(projection) = parse_projection(&text) {
        let printed = projection.to_string();
        assert!(
            printed.len() > MAX_EXPRESSION_SIZE
                || parse_projection(&printed).as_ref() == Ok(&projection),
            "{printed}"
        );
        let _ = validate_projection(&projection);
    }
});
