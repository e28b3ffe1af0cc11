//! Stator's own HTTP endpoints, beside the DynamoDB protocol on the same port: JSON under
//! `/_stator/`, off the DynamoDB wire format (docs/admin-api.md lists them).
//!
//! - `GET /_stator/clock`, `POST /_stator/clock` (`{"advanceSeconds": N}` or
//!   `{"set": "<RFC 3339>"}`, manual clock only): the engine clock;
//! - `GET /_stator/tables/{name}/partitions`: capacity, buckets and partitions of a table
//!   and its global indexes;
//! - `POST /_stator/tables/{name}/capacity` (`{"mode": "off|report|enforce|default"}`):
//!   one table's capacity mode.
//!
//! The caller ([`crate::http`]) answers these only for clients on a loopback address
//! unless the server runs with `--admin-anywhere`. Every answer is JSON; an error is
//! `{"error": "<what is wrong>"}` with a 4xx status, never a DynamoDB error body.

use std::time::Duration;

use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use stator_engine::clock::{parse_rfc3339, rfc3339_millis};
use stator_engine::throughput::{CapacityMode, ResourceReport, ThrottleCounts};
use stator_engine::Engine;

/// Whether `path` is one of Stator's own endpoints rather than the DynamoDB protocol.
pub fn is_admin_path(path: &str) -> bool {
    path == "/_stator" || path.starts_with("/_stator/")
}

/// An admin answer: status and JSON body.
pub type Reply = (StatusCode, Vec<u8>);

fn reply(status: StatusCode, body: &Value) -> Reply {
    (status, serde_json::to_vec(body).unwrap_or_default())
}

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    reply(status, &json!({ "error": message.into() }))
}

/// The answer for clients that may not use the admin API (not on loopback).
pub fn forbidden() -> Reply {
    error(
        StatusCode::FORBIDDEN,
        "Stator's admin API answers only loopback clients; start the server with \
         --admin-anywhere to allow others",
    )
}

/// Answers one admin request (`body` already read and size-limited).
pub fn answer(engine: &Engine, method: &Method, path: &str, body: &[u8]) -> Reply {
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (segments.as_slice(), method) {
        (["_stator", "clock"], &Method::GET) => clock_view(engine),
        (["_stator", "clock"], &Method::POST) => move_clock(engine, body),
        (["_stator", "tables", table, "partitions"], &Method::GET) => partitions(engine, table),
        (["_stator", "tables", table, "capacity"], &Method::POST) => {
            set_capacity(engine, table, body)
        }
        (["_stator", "clock"], _)
        | (["_stator", "tables", _, "partitions"], _)
        | (["_stator", "tables", _, "capacity"], _) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}"),
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            format!("no admin endpoint {path} (see docs/admin-api.md)"),
        ),
    }
}

fn clock_view(engine: &Engine) -> Reply {
    let clock = &engine.config().clock;
    let now = clock.now();
    reply(
        StatusCode::OK,
        &json!({
            "now": rfc3339_millis(now),
            "epochSeconds": stator_engine::clock::epoch_seconds(now),
            "mode": if clock.as_manual().is_some() { "manual" } else { "system" },
        }),
    )
}

fn parse_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        )),
    }
}

fn move_clock(engine: &Engine, body: &[u8]) -> Reply {
    let Some(manual) = engine.config().clock.as_manual() else {
        return error(
            StatusCode::BAD_REQUEST,
            "the engine clock is the system clock; start the server with --clock manual to \
             move it",
        );
    };
    let fields = match parse_body(body) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let advance = fields.get("advanceSeconds");
    let set = fields.get("set");
    let unknown: Vec<&String> = fields
        .keys()
        .filter(|k| *k != "advanceSeconds" && *k != "set")
        .collect();
    if !unknown.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown field {}: give advanceSeconds or set", unknown[0]),
        );
    }
    match (advance, set) {
        (Some(seconds), None) => {
            let by = seconds
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s).ok());
            let Some(by) = by else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "advanceSeconds must be a non-negative number (use set to move the \
                     clock back)",
                );
            };
            manual.advance(by);
        }
        (None, Some(time)) => {
            let Some(to) = time.as_str().and_then(parse_rfc3339) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "set must be an RFC 3339 time such as 2026-01-01T00:00:00Z",
                );
            };
            manual.set(to);
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "give exactly one of advanceSeconds and set",
            )
        }
    }
    clock_view(engine)
}

fn table_or_404(
    engine: &Engine,
    name: &str,
) -> Result<std::sync::Arc<stator_engine::schema::TableMeta>, Reply> {
    engine
        .table(name)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no table named {name}")))
}

fn pair(p: Option<(f64, f64)>) -> Value {
    p.map_or(
        Value::Null,
        |(read, write)| json!({ "read": read, "write": write }),
    )
}

fn counts(c: ThrottleCounts) -> Value {
    json!({ "read": c.read, "write": c.write })
}

/// A hash as the admin API writes it: 16 hex digits (`0x…`); the end of the last
/// partition, 2^64, as `0x10000000000000000`.
fn hex(hash: u128) -> String {
    format!("0x{hash:016x}")
}

fn resource_json(report: &ResourceReport) -> Value {
    json!({
        "provisioned": pair(report.provisioned.map(|(r, w)| (r as f64, w as f64))),
        "available": pair(report.available),
        "burst": pair(report.burst),
        "throttles": counts(report.throttles),
        "consumedLastMinute": pair(Some(report.last_minute)),
        "peakSecond": pair(Some(report.peak_second)),
        "partitions": report.partitions.iter().enumerate().map(|(i, p)| json!({
            "partition": i,
            "hashStart": hex(u128::from(p.range.0)),
            "hashEnd": hex(p.range.1),
            "share": pair(p.share),
            "available": pair(Some(p.available)),
            "throttles": counts(p.throttles),
            "consumedLastMinute": pair(Some(p.last_minute)),
            "peakSecond": pair(Some(p.peak_second)),
        })).collect::<Vec<_>>(),
    })
}

fn partitions(engine: &Engine, name: &str) -> Reply {
    let meta = match table_or_404(engine, name) {
        Ok(meta) => meta,
        Err(reply) => return reply,
    };
    let report = engine.governor().report(&meta);
    let indexes: Vec<Value> = report
        .indexes
        .iter()
        .map(|(name, r)| {
            let mut value = resource_json(r);
            if let Value::Object(map) = &mut value {
                map.insert("indexName".to_string(), json!(name));
            }
            value
        })
        .collect();
    reply(
        StatusCode::OK,
        &json!({
            "tableName": meta.name,
            "capacityMode": report.mode.as_str(),
            "billingMode": meta.billing_mode.as_str(),
            "table": resource_json(&report.table),
            "globalSecondaryIndexes": indexes,
        }),
    )
}

fn set_capacity(engine: &Engine, name: &str, body: &[u8]) -> Reply {
    let meta = match table_or_404(engine, name) {
        Ok(meta) => meta,
        Err(reply) => return reply,
    };
    let fields = match parse_body(body) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let mode = match fields.get("mode").and_then(Value::as_str) {
        Some("default") => None,
        Some(text) => match CapacityMode::parse(text) {
            Some(mode) => Some(mode),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "mode must be off, report, enforce or default",
                )
            }
        },
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "give mode: off, report, enforce or default",
            )
        }
    };
    engine.governor().set_mode(&meta, mode);
    reply(
        StatusCode::OK,
        &json!({
            "tableName": meta.name,
            "capacityMode": engine.governor().mode_of(&meta).as_str(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use stator_engine::clock::ManualClock;
    use stator_engine::EngineConfig;
    use stator_storage::MemoryStorage;
    use std::sync::Arc;

    fn engine(clock: Arc<dyn stator_engine::clock::Clock>) -> Arc<Engine> {
        let config = EngineConfig {
            clock,
            ..EngineConfig::default()
        };
        Engine::open(Arc::new(MemoryStorage::new()), config).unwrap()
    }

    fn body(reply: &Reply) -> Value {
        serde_json::from_slice(&reply.1).unwrap()
    }

    #[test]
    fn the_manual_clock_moves_and_the_system_clock_refuses() {
        let start = Duration::from_secs(1_800_000_000);
        let e = engine(Arc::new(ManualClock::new(start)));
        let got = answer(&e, &Method::GET, "/_stator/clock", b"");
        assert_eq!(got.0, StatusCode::OK);
        assert_eq!(body(&got)["now"], "2027-01-15T08:00:00.000Z");
        assert_eq!(body(&got)["mode"], "manual");
        let moved = answer(
            &e,
            &Method::POST,
            "/_stator/clock",
            br#"{"advanceSeconds": 1.5}"#,
        );
        assert_eq!(body(&moved)["now"], "2027-01-15T08:00:01.500Z");
        let set = answer(
            &e,
            &Method::POST,
            "/_stator/clock",
            br#"{"set": "2026-01-01T00:00:00Z"}"#,
        );
        assert_eq!(body(&set)["epochSeconds"], 1_767_225_600.0);
        for bad in [
            &br#"{"advanceSeconds": -1}"#[..],
            br#"{"set": "yesterday"}"#,
            br#"{"advanceSeconds": 1, "set": "2026-01-01T00:00:00Z"}"#,
            br#"{}"#,
            br#"{"advance": 1}"#,
            b"[1]",
            b"not json",
        ] {
            let got = answer(&e, &Method::POST, "/_stator/clock", bad);
            assert_eq!(
                got.0,
                StatusCode::BAD_REQUEST,
                "{}",
                String::from_utf8_lossy(bad)
            );
            assert!(body(&got)["error"].is_string());
        }
        assert_eq!(
            body(&answer(&e, &Method::GET, "/_stator/clock", b""))["epochSeconds"],
            1_767_225_600.0
        );
        let system = engine(Arc::new(stator_engine::clock::SystemClock));
        let refused = answer(
            &system,
            &Method::POST,
            "/_stator/clock",
            br#"{"advanceSeconds": 1}"#,
        );
        assert_eq!(refused.0, StatusCode::BAD_REQUEST);
        assert_eq!(
            body(&answer(&system, &Method::GET, "/_stator/clock", b""))["mode"],
            "system"
        );
    }

    #[test]
    fn unknown_paths_and_methods_are_refused() {
        let e = engine(Arc::new(stator_engine::clock::SystemClock));
        assert_eq!(
            answer(&e, &Method::GET, "/_stator/nothing", b"").0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            answer(&e, &Method::DELETE, "/_stator/clock", b"").0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            answer(&e, &Method::GET, "/_stator/tables/none/partitions", b"").0,
            StatusCode::NOT_FOUND
        );
        assert!(is_admin_path("/_stator/clock"));
        assert!(!is_admin_path("/_statorx"));
        assert!(!is_admin_path("/"));
    }
}
