//! Golden tests: the scripts in `tests/golden/` pin DynamoDB's observable behaviour for
//! numbers, DynamoDB JSON, item sizes and the storage encodings, including every error
//! text. Regenerate expected output with `UPDATE_GOLDENFILES=1 cargo test -p stator-types`
//! and review the diff.
//!
//! Commands (JSON arguments use goldenscript's literal form: `> decode {"a":{"S":"x"}}`):
//! - `number ARG…`: parse each; print the normalised form or the error message.
//! - `compare A B…`: parse and order each adjacent pair.
//! - `add A B` / `sub A B`: exact arithmetic.
//! - `info ARG…`: canonical parts, significant digits, adjusted exponent, stored size.
//! - `> decode ITEM`, `> decodev VALUE`, `> decodel LIST`: decode DynamoDB JSON; print the
//!   re-encoded JSON, `SerializationException: …` or `ValidationException: …`.
//! - `> nest TYPE LEVELS LEAF`: an item whose attribute `a` wraps LEAF in LEVELS `M` or `L`
//!   values, decoded.
//! - `> size ITEM`: the item's DynamoDB size.
//! - `keyenc TYPE [last] VALUE…`: key encodings in hex (`S` takes text, `B` base64, `N`
//!   numbers), checked to decode back.
//! - `keyhash TYPE VALUE`: the partition hash of the non-last encoding of VALUE.
//! - `> itemenc ITEM`: the item codec's bytes in hex, checked to decode back.
//! - `itemdec HEX`: decode item codec bytes.

#![allow(clippy::unwrap_used)]

use std::error::Error;
use std::fmt::Write as _;

use base64::Engine as _;
use stator_types::keycodec::{decode_key_value, encode_key_value, partition_hash, KeyType};
use stator_types::size::number_size;
use stator_types::{
    decode_item, encode_item, item_size, AttributeValue, Checked, Item, Number, NumberError,
};

struct TypesRunner;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    if !text.len().is_multiple_of(2) {
        return Err("odd hex length".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(&text[i..i + 2], 16)?))
        .collect()
}

fn number_or_error(result: Result<Number, NumberError>) -> String {
    match result {
        Ok(n) => n.to_string(),
        Err(e) => format!("error: {}", e.message()),
    }
}

/// Decodes `json` as `T` and renders the outcome the way the server would classify it.
fn decode<T>(json: &str) -> String
where
    Checked<T>: serde::de::DeserializeOwned,
    T: serde::Serialize,
{
    match serde_json::from_str::<Checked<T>>(json) {
        Err(e) => format!("SerializationException: {e}"),
        Ok(Checked(Err(e))) => format!("ValidationException: {}", e.message()),
        Ok(Checked(Ok(value))) => serde_json::to_string(&value).unwrap(),
    }
}

fn parse_item(json: &str) -> Result<Item, Box<dyn Error>> {
    match serde_json::from_str::<Checked<Item>>(json)? {
        Checked(Ok(item)) => Ok(item),
        Checked(Err(e)) => Err(e.message().into()),
    }
}

fn key_value(key_type: KeyType, text: &str) -> Result<AttributeValue, Box<dyn Error>> {
    Ok(match key_type {
        KeyType::S => AttributeValue::S(text.to_owned()),
        KeyType::B => AttributeValue::B(base64::engine::general_purpose::STANDARD.decode(text)?),
        KeyType::N => AttributeValue::N(Number::parse(text)?),
    })
}

fn key_type(name: &str) -> Result<KeyType, Box<dyn Error>> {
    match name {
        "S" => Ok(KeyType::S),
        "N" => Ok(KeyType::N),
        "B" => Ok(KeyType::B),
        other => Err(format!("unknown key type {other}").into()),
    }
}

impl goldenscript::Runner for TypesRunner {
    type Command = goldenscript::Command;

    fn run(
        &mut self,
        command: &goldenscript::Command,
        _: &goldenscript::Context,
    ) -> Result<String, Box<dyn Error>> {
        let mut out = String::new();
        // A literal command (`> …`) arrives as one name; split the verb from its argument.
        let (verb, rest) = command
            .name
            .split_once(' ')
            .unwrap_or((command.name.as_str(), ""));
        let mut args = command.consume_args();
        let positional: Vec<&str> = std::iter::from_fn(|| args.next_pos()).collect();
        match verb {
            "number" => {
                for arg in positional {
                    writeln!(out, "{arg:?} → {}", number_or_error(Number::parse(arg)))?;
                }
            }
            "info" => {
                for arg in positional {
                    let n = Number::parse(arg)?;
                    let (negative, coefficient, exponent) = n.parts();
                    writeln!(
                        out,
                        "{arg:?} → negative={negative} coefficient={coefficient} \
                         exponent={exponent} digits={} adjusted={} size={}",
                        n.significant_digits(),
                        n.adjusted_exponent(),
                        number_size(&n)
                    )?;
                }
            }
            "compare" => {
                for pair in positional.windows(2) {
                    let (a, b) = (Number::parse(pair[0])?, Number::parse(pair[1])?);
                    let symbol = match a.cmp(&b) {
                        std::cmp::Ordering::Less => "<",
                        std::cmp::Ordering::Equal => "=",
                        std::cmp::Ordering::Greater => ">",
                    };
                    writeln!(out, "{} {symbol} {}", pair[0], pair[1])?;
                }
            }
            "add" | "sub" => {
                let [a, b] = positional[..] else {
                    return Err("add/sub take two numbers".into());
                };
                let (x, y) = (Number::parse(a)?, Number::parse(b)?);
                let result = if verb == "add" {
                    x.checked_add(&y)
                } else {
                    x.checked_sub(&y)
                };
                let op = if verb == "add" { "+" } else { "-" };
                writeln!(out, "{a} {op} {b} = {}", number_or_error(result))?;
            }
            "decode" => writeln!(out, "{}", decode::<Item>(rest))?,
            "decodev" => writeln!(out, "{}", decode::<AttributeValue>(rest))?,
            "decodel" => writeln!(out, "{}", decode::<Vec<AttributeValue>>(rest))?,
            "nest" => {
                let mut parts = rest.splitn(3, ' ');
                let (Some(kind), Some(levels), Some(leaf)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err("nest TYPE LEVELS LEAF".into());
                };
                let levels: usize = levels.parse()?;
                let mut value = leaf.to_owned();
                for _ in 0..levels {
                    value = match kind {
                        "M" => format!(r#"{{"M":{{"x":{value}}}}}"#),
                        "L" => format!(r#"{{"L":[{value}]}}"#),
                        _ => return Err("nest type must be M or L".into()),
                    };
                }
                writeln!(out, "{}", decode::<Item>(&format!(r#"{{"a":{value}}}"#)))?;
            }
            "size" => writeln!(out, "{}", item_size(&parse_item(rest)?))?,
            "keyenc" => {
                let (type_name, values) = positional.split_first().ok_or("keyenc TYPE …")?;
                let key_type = key_type(type_name)?;
                let (last, values) = match values.split_first() {
                    Some((&"last", values)) => (true, values),
                    _ => (false, values),
                };
                for text in values {
                    let value = key_value(key_type, text)?;
                    let mut encoded = Vec::new();
                    encode_key_value(&value, last, &mut encoded);
                    let (decoded, used) = decode_key_value(key_type, last, &encoded)?;
                    if decoded != value || used != encoded.len() {
                        return Err(format!("{text:?} does not decode back").into());
                    }
                    writeln!(out, "{text:?} → {}", hex(&encoded))?;
                }
            }
            "keyhash" => {
                let [type_name, text] = positional[..] else {
                    return Err("keyhash TYPE VALUE".into());
                };
                let value = key_value(key_type(type_name)?, text)?;
                let mut encoded = Vec::new();
                encode_key_value(&value, false, &mut encoded);
                writeln!(out, "{text:?} → {:016x}", partition_hash(&encoded))?;
            }
            "itemenc" => {
                let item = parse_item(rest)?;
                let mut encoded = Vec::new();
                encode_item(&item, &mut encoded);
                if decode_item(&encoded)? != item {
                    return Err("item does not decode back".into());
                }
                writeln!(out, "{}", hex(&encoded))?;
            }
            "itemdec" => {
                let [text] = positional[..] else {
                    return Err("itemdec HEX".into());
                };
                match decode_item(&unhex(text)?) {
                    Ok(item) => writeln!(out, "{}", serde_json::to_string(&item)?)?,
                    Err(e) => writeln!(out, "error: {e}")?,
                }
            }
            other => return Err(format!("unknown command {other}").into()),
        }
        Ok(out)
    }
}

#[test]
fn numbers() -> std::io::Result<()> {
    goldenscript::run(&mut TypesRunner, "tests/golden/numbers.txt")
}

#[test]
fn arithmetic() -> std::io::Result<()> {
    goldenscript::run(&mut TypesRunner, "tests/golden/arithmetic.txt")
}

#[test]
fn json() -> std::io::Result<()> {
    goldenscript::run(&mut TypesRunner, "tests/golden/json.txt")
}

#[test]
fn size() -> std::io::Result<()> {
    goldenscript::run(&mut TypesRunner, "tests/golden/size.txt")
}

#[test]
fn keycodec() -> std::io::Result<()> {
    goldenscript::run(&mut TypesRunner, "tests/golden/keycodec.txt")
}

#[test]
fn itemcodec() -> std::io::Result<()> {
    goldenscript::run(&mut TypesRunner, "tests/golden/itemcodec.txt")
}
