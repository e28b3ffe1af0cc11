//! Printing: `Display` for the AST, producing expression text that parses back to the same
//! tree.
//!
//! For every tree in placeholder form whose literal names are plain, non-reserved
//! identifiers, `parse(tree.to_string()) == tree` (property-tested in `tests/roundtrip.rs`).
//! Parentheses are minimal: `OR` binds loosest, then `AND`, then `NOT`; both binary
//! operators are left-associative, so only a right operand of equal or looser binding, or
//! a looser left operand, is parenthesised. Update arithmetic is a left-associative chain
//! without parentheses in DynamoDB's grammar; a right-nested chain (which the parser never
//! builds) is printed with parentheses that the parser does not accept.
//!
//! Resolved literals ([`Operand::Literal`]) print in DynamoDB JSON (`{"S":"x"}`), which is
//! for people and tests only: it is not expression syntax.

use std::fmt::{self, Display, Formatter, Write as _};

use stator_types::AttributeValue;

use crate::ast::{
    ArithmeticOp, Comparator, Condition, FunctionCall, Name, Operand, Path, PathElement,
    Projection, Update,
};

impl Display for Name {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Name::Literal(name) | Name::Placeholder(name) => f.write_str(name),
        }
    }
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, element) in self.0.iter().enumerate() {
            match element {
                PathElement::Attribute(name) if i == 0 => write!(f, "{name}")?,
                PathElement::Attribute(name) => write!(f, ".{name}")?,
                PathElement::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Display for Comparator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        })
    }
}

impl Display for ArithmeticOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArithmeticOp::Plus => "+",
            ArithmeticOp::Minus => "-",
        })
    }
}

impl Display for FunctionCall {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        write_list(f, &self.args)?;
        f.write_char(')')
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(path) => write!(f, "{path}"),
            Operand::Value(name) => f.write_str(name),
            Operand::Literal(value) => write!(f, "{}", Literal(value)),
            Operand::Function(function) => write!(f, "{function}"),
            Operand::Arithmetic(left, op, right) => {
                write!(f, "{left} {op} ")?;
                if matches!(**right, Operand::Arithmetic(..)) {
                    write!(f, "({right})")
                } else {
                    write!(f, "{right}")
                }
            }
        }
    }
}

/// Binding strength: a higher number binds tighter.
fn precedence(condition: &Condition) -> u8 {
    match condition {
        Condition::Or(..) => 1,
        Condition::And(..) => 2,
        Condition::Not(..) => 3,
        _ => 4,
    }
}

/// Writes `condition`, parenthesised when it binds looser than `min`.
fn write_operand_condition(f: &mut Formatter<'_>, condition: &Condition, min: u8) -> fmt::Result {
    if precedence(condition) < min {
        write!(f, "({condition})")
    } else {
        write!(f, "{condition}")
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare(left, comparator, right) => {
                write!(f, "{left} {comparator} {right}")
            }
            Condition::Between(operand, low, high) => {
                write!(f, "{operand} BETWEEN {low} AND {high}")
            }
            Condition::In(operand, list) => {
                write!(f, "{operand} IN (")?;
                write_list(f, list)?;
                f.write_char(')')
            }
            Condition::Function(function) => write!(f, "{function}"),
            Condition::And(left, right) | Condition::Or(left, right) => {
                let own = precedence(self);
                let word = if own == 1 { "OR" } else { "AND" };
                write_operand_condition(f, left, own)?;
                write!(f, " {word} ")?;
                write_operand_condition(f, right, own + 1)
            }
            Condition::Not(inner) => {
                f.write_str("NOT ")?;
                write_operand_condition(f, inner, 3)
            }
        }
    }
}

impl Display for Update {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut clause = |f: &mut Formatter<'_>, keyword: &str| -> fmt::Result {
            if !first {
                f.write_char(' ')?;
            }
            first = false;
            write!(f, "{keyword} ")
        };
        if !self.set.is_empty() {
            clause(f, "SET")?;
            for (i, (path, value)) in self.set.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{path} = {value}")?;
            }
        }
        if !self.remove.is_empty() {
            clause(f, "REMOVE")?;
            write_list(f, &self.remove)?;
        }
        for (keyword, actions) in [("ADD", &self.add), ("DELETE", &self.delete)] {
            if actions.is_empty() {
                continue;
            }
            clause(f, keyword)?;
            for (i, (path, value)) in actions.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{path} {value}")?;
            }
        }
        Ok(())
    }
}

impl Display for Projection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_list(f, &self.0)
    }
}

fn write_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// An attribute value in DynamoDB JSON (`{"N":"1"}`, binaries in base64), for messages and
/// test output.
pub struct Literal<'a>(pub &'a AttributeValue);

impl Display for Literal<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let tag = self.0.type_name();
        write!(f, "{{\"{tag}\":")?;
        match self.0 {
            AttributeValue::S(s) => write_json_string(f, s)?,
            AttributeValue::N(n) => write!(f, "\"{n}\"")?,
            AttributeValue::B(b) => write_base64(f, b)?,
            AttributeValue::Bool(b) => write!(f, "{b}")?,
            AttributeValue::Null => f.write_str("true")?,
            AttributeValue::M(map) => {
                f.write_char('{')?;
                for (i, (name, value)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_json_string(f, name)?;
                    write!(f, ":{}", Literal(value))?;
                }
                f.write_char('}')?;
            }
            AttributeValue::L(list) => {
                f.write_char('[')?;
                for (i, value) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{}", Literal(value))?;
                }
                f.write_char(']')?;
            }
            AttributeValue::Ss(set) => write_array(f, set, |f, s| write_json_string(f, s))?,
            AttributeValue::Ns(set) => write_array(f, set, |f, n| write!(f, "\"{n}\""))?,
            AttributeValue::Bs(set) => write_array(f, set, |f, b| write_base64(f, b))?,
        }
        f.write_char('}')
    }
}

fn write_array<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    mut each: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    f.write_char('[')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        each(f, item)?;
    }
    f.write_char(']')
}

fn write_json_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn write_base64(f: &mut Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    f.write_char('"')?;
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (n >> (18 - 6 * i)) & 63;
                f.write_char(char::from(ALPHABET[sextet as usize]))?;
            } else {
                f.write_char('=')?;
            }
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "\"\""),
            (b"\x00\x01\x02", "\"AAEC\""),
            (b"\x00\x01", "\"AAE=\""),
            (b"\xff", "\"/w==\""),
        ];
        for (bytes, expected) in cases {
            let text = Literal(&AttributeValue::B(bytes.to_vec())).to_string();
            assert_eq!(text, format!("{{\"B\":{expected}}}"));
        }
    }
}
