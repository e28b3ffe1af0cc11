//! A readable decoding of every record the engine stores, for `stator dump` and for the
//! write golden tests, which print the storage writes each request causes.
//!
//! A key is decoded by its tag (see [`crate::keys`]); item, index and collection keys need
//! the key schema of the table or index that owns their storage id, which the [`Decoder`]
//! learns from the catalog records it is shown (a dump shows it the whole catalog first; a
//! write log shows it every metadata record as it is written, and keeps what it learned, so
//! it can still name a dropped table's leftovers). One line per record:
//!
//! ```text
//! format version 1
//! table Music: id 1, generation 2, HASH pk S, RANGE sk S; gsi by_genre (id 2, ACTIVE) …
//! item Music pk=S:"a" sk=S:"1" = {"pk":{"S":"a"},…} (48 B)
//! index Music.by_genre genre=S:"x" | pk=S:"a" sk=S:"1" = {…} (48 B)
//! stats Music slot 0: 3 items, 144 B
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Bound;

use stator_storage::{Direction, Reader};
use stator_types::keycodec::{decode_key_value, KeyType};
use stator_types::AttributeValue;

use crate::catalog::decode_meta;
use crate::error::DynamoError;
use crate::records::{self, decode_stored, Stats};
use crate::schema::{KeyAttribute, KeyRole, KeySchema, ScalarType, TableMeta};

/// What a storage id belongs to.
#[derive(Clone, Debug)]
enum Owner {
    Table {
        name: String,
        key: KeySchema,
    },
    Index {
        table: String,
        name: String,
        table_key: KeySchema,
        key: KeySchema,
    },
}

/// Decodes keys and values into text, knowing the tables it has been shown.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    owners: HashMap<u32, Owner>,
}

fn key_type(t: ScalarType) -> KeyType {
    match t {
        ScalarType::S => KeyType::S,
        ScalarType::N => KeyType::N,
        ScalarType::B => KeyType::B,
    }
}

fn value_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::S(s) => format!("S:{s:?}"),
        AttributeValue::N(n) => format!("N:{n}"),
        AttributeValue::B(b) => {
            let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("B:0x{hex}")
        }
        other => format!("{}:?", other.type_name()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes key components `attrs` from `bytes`, the last one encoded as last when
/// `last_is_last`. Returns the text and the bytes left.
fn decode_components<'b>(
    attrs: &[&KeyAttribute],
    mut bytes: &'b [u8],
    last_is_last: bool,
) -> Option<(Vec<String>, &'b [u8])> {
    let mut parts = Vec::with_capacity(attrs.len());
    for (i, attr) in attrs.iter().enumerate() {
        let last = last_is_last && i + 1 == attrs.len();
        let (value, used) = decode_key_value(key_type(attr.attr_type), last, bytes).ok()?;
        parts.push(format!("{}={}", attr.name, value_text(&value)));
        bytes = &bytes[used..];
    }
    Some((parts, bytes))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn item_json(value: &[u8]) -> String {
    match decode_stored(value) {
        Ok(stored) => {
            let mut json = Vec::new();
            stator_types::jsonout::write_item(&mut json, &stored.item);
            format!("{} ({} B)", String::from_utf8_lossy(&json), stored.size)
        }
        Err(_) => format!("<corrupt item> {}", hex(value)),
    }
}

impl Decoder {
    /// A decoder that knows every table in `reader`'s catalog.
    pub fn from_catalog(reader: &dyn Reader) -> Result<Decoder, DynamoError> {
        let mut decoder = Decoder::default();
        let (start, end) = crate::keys::table_meta_range();
        for entry in reader.range(
            Bound::Included(&start),
            Bound::Excluded(&end),
            Direction::Forward,
        )? {
            let (_, value) = entry?;
            decoder.learn(&decode_meta(&value)?);
        }
        Ok(decoder)
    }

    /// Remembers the storage ids of a table and its indexes.
    pub fn learn(&mut self, meta: &TableMeta) {
        self.owners.insert(
            meta.storage_id,
            Owner::Table {
                name: meta.name.clone(),
                key: meta.key_schema.clone(),
            },
        );
        for index in meta.global_indexes.iter().chain(&meta.local_indexes) {
            self.owners.insert(
                index.storage_id,
                Owner::Index {
                    table: meta.name.clone(),
                    name: index.name.clone(),
                    table_key: meta.key_schema.clone(),
                    key: index.key_schema.clone(),
                },
            );
        }
    }

    /// Learns from a record about to be described, if it is table metadata.
    pub fn learn_from(&mut self, key: &[u8], value: Option<&[u8]>) {
        if key.starts_with(&[0x00, b't']) {
            if let Some(meta) = value.and_then(|v| decode_meta(v).ok()) {
                self.learn(&meta);
            }
        }
    }

    fn owner_name(&self, id: u32) -> String {
        match self.owners.get(&id) {
            Some(Owner::Table { name, .. }) => name.clone(),
            Some(Owner::Index { table, name, .. }) => format!("{table}.{name}"),
            None => format!("#{id}"),
        }
    }

    /// One line for the record `key` = `value` (`None`: the key is deleted).
    pub fn describe(&self, key: &[u8], value: Option<&[u8]>) -> String {
        let mut line = self
            .describe_key(key)
            .unwrap_or_else(|| format!("key 0x{}", hex(key)));
        match value {
            None => {}
            Some(value) => {
                line.push_str(" = ");
                line.push_str(&self.describe_value(key, value));
            }
        }
        line
    }

    fn describe_key(&self, key: &[u8]) -> Option<String> {
        let (&tag, rest) = key.split_first()?;
        match tag {
            0x00 => {
                let (&kind, rest) = rest.split_first()?;
                let id = u32_at(rest, 0);
                Some(match kind {
                    b'v' => "format version".to_string(),
                    b'n' => "next storage id".to_string(),
                    b't' => format!("table {}", String::from_utf8_lossy(rest)),
                    b'g' => format!("generation {}", self.owner_name(id?)),
                    b's' => format!("stats {} slot {}", self.owner_name(id?), u32_at(rest, 4)?),
                    b'd' => format!("dropped #{}", id?),
                    b'x' => format!("deleting table {}", String::from_utf8_lossy(rest)),
                    _ => return None,
                })
            }
            0x01..=0x03 => {
                let id = u32_at(rest, 0)?;
                // 4 bytes of id, 8 of partition hash, then the key components.
                let components = rest.get(12..)?;
                let (kind, text) = match (tag, self.owners.get(&id)) {
                    (0x01, Some(Owner::Table { name, key })) => {
                        let attrs: Vec<&KeyAttribute> = key.attributes().collect();
                        let (parts, left) = decode_components(&attrs, components, true)?;
                        left.is_empty().then_some(())?;
                        ("item", format!("{name} {}", parts.join(" ")))
                    }
                    (0x03, Some(Owner::Table { name, key })) => {
                        let (parts, left) = decode_components(&[&key.partition], components, true)?;
                        left.is_empty().then_some(())?;
                        ("collection", format!("{name} {}", parts.join(" ")))
                    }
                    (
                        0x02,
                        Some(Owner::Index {
                            table,
                            name,
                            table_key,
                            key,
                        }),
                    ) => {
                        let index_attrs: Vec<&KeyAttribute> = key.attributes().collect();
                        let (index_parts, left) =
                            decode_components(&index_attrs, components, false)?;
                        let table_attrs: Vec<&KeyAttribute> = table_key.attributes().collect();
                        let (table_parts, left) = decode_components(&table_attrs, left, true)?;
                        left.is_empty().then_some(())?;
                        (
                            "index",
                            format!(
                                "{table}.{name} {} | {}",
                                index_parts.join(" "),
                                table_parts.join(" ")
                            ),
                        )
                    }
                    _ => {
                        let kind = match tag {
                            0x01 => "item",
                            0x02 => "index",
                            _ => "collection",
                        };
                        (kind, format!("#{id} 0x{}", hex(components)))
                    }
                };
                Some(format!("{kind} {text}"))
            }
            _ => None,
        }
    }

    fn describe_value(&self, key: &[u8], value: &[u8]) -> String {
        let tag = key.first().copied();
        let kind = key.get(1).copied();
        match (tag, kind) {
            (Some(0x00), Some(b'v')) | (Some(0x00), Some(b'n')) => {
                records::decode_u32(value, "record").map_or_else(|_| hex(value), |v| v.to_string())
            }
            (Some(0x00), Some(b't')) => match decode_meta(value) {
                Ok(meta) => meta_summary(&meta),
                Err(_) => format!("<corrupt metadata> {}", hex(value)),
            },
            (Some(0x00), Some(b'g')) => {
                records::decode_generation(value).map_or_else(|_| hex(value), |g| g.to_string())
            }
            (Some(0x00), Some(b's')) => match Stats::decode(value) {
                Ok(s) => format!("{} items, {} B", s.count, s.bytes),
                Err(_) => hex(value),
            },
            (Some(0x00), Some(b'd')) => "(marker)".to_string(),
            (Some(0x00), Some(b'x')) => {
                match serde_json::from_slice::<crate::catalog::DeletingTable>(value) {
                    Ok(d) => format!("{} until {}", meta_summary(&d.meta), d.until),
                    Err(_) => format!("<corrupt record> {}", hex(value)),
                }
            }
            (Some(0x01), _) | (Some(0x02), _) => item_json(value),
            (Some(0x03), _) => records::decode_collection_size(value)
                .map_or_else(|_| hex(value), |size| format!("{size} B")),
            _ => hex(value),
        }
    }
}

/// The metadata fields a dump shows (not the ARN, UUID or timestamps).
fn meta_summary(meta: &TableMeta) -> String {
    let key = |schema: &KeySchema| {
        let parts: Vec<String> = schema
            .components()
            .map(|(role, a)| {
                let role = match role {
                    KeyRole::Hash => "HASH",
                    KeyRole::Range => "RANGE",
                };
                format!("{role} {} {}", a.name, a.attr_type.as_str())
            })
            .collect();
        parts.join(", ")
    };
    let mut out = format!(
        "id {}, generation {}, {}",
        meta.storage_id,
        meta.generation,
        key(&meta.key_schema)
    );
    for (kind, indexes) in [("gsi", &meta.global_indexes), ("lsi", &meta.local_indexes)] {
        for index in indexes {
            let _ = write!(
                out,
                "; {kind} {} (id {}, {}, {}, {})",
                index.name,
                index.storage_id,
                index.status.as_str(),
                key(&index.key_schema),
                index.projection.projection_type.as_str()
            );
        }
    }
    if meta.deletion_protection {
        out.push_str("; deletion protection");
    }
    out
}

/// Writes every record in `reader` as one line each, in key order.
pub fn dump(reader: &dyn Reader, out: &mut dyn std::io::Write) -> Result<(), DynamoError> {
    let decoder = Decoder::from_catalog(reader)?;
    for entry in reader.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
        let (key, value) = entry?;
        writeln!(out, "{}", decoder.describe(&key, Some(&value)))
            .map_err(|e| DynamoError::internal(format!("cannot write the dump: {e}")))?;
    }
    Ok(())
}
