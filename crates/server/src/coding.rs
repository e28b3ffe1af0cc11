//! HTTP content codings: undoing a request body's `Content-Encoding`, and choosing and
//! applying a response coding from `Accept-Encoding`.
//!
//! Requests: every `Content-Encoding` line, comma-separated, names case-insensitive, in the
//! order the codings were applied; `gzip` (one or more concatenated members, RFC 1952),
//! `deflate` (a zlib stream, RFC 1950, which is what HTTP means by it) and `identity` are
//! understood. Any other coding, or a body that is not exactly one complete stream of the
//! coding named, refuses the request before it runs: executing it would act on bytes the
//! client did not mean. The 16 MB request limit applies to every inflated size.
//!
//! Responses: a body larger than [`COMPRESS_ABOVE`] bytes is compressed when the request's
//! first `Accept-Encoding` line accepts `gzip` or `deflate`, chosen as DynamoDB chooses: of
//! the codings listed (`gzip`, `deflate`, `identity`, `*`; others are ignored), the highest
//! q-value wins and a tie goes to the one listed first; a q-value of 0 or less means "not
//! acceptable", one that does not parse counts as 1 and one above 1 as 1; `*` gives its
//! q-value to `gzip` and then `deflate` where they are not listed themselves.

use std::io::{Read, Write};

use bytes::Bytes;
use hyper::HeaderMap;
use stator_engine::{DynamoError, ErrorKind};

/// A response body is compressed only above this size: below it the coding's framing
/// costs more than it saves.
pub const COMPRESS_ABOVE: usize = 4096;

/// A content coding other than `identity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// gzip (RFC 1952).
    Gzip,
    /// A zlib stream (RFC 1950).
    Deflate,
}

impl Coding {
    /// The coding's name in `Content-Encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// The codings of a request's `Content-Encoding`, in the order they were applied.
pub fn request_codings(headers: &HeaderMap) -> Result<Vec<Coding>, DynamoError> {
    let mut codings = Vec::new();
    for value in headers.get_all(hyper::header::CONTENT_ENCODING) {
        let text = crate::headers::text(value).ok_or_else(|| unsupported_coding("(not ASCII)"))?;
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                codings.push(Coding::Gzip);
            } else if name.eq_ignore_ascii_case("deflate") {
                codings.push(Coding::Deflate);
            } else if !name.eq_ignore_ascii_case("identity") {
                return Err(unsupported_coding(name));
            }
        }
    }
    Ok(codings)
}

fn unsupported_coding(name: &str) -> DynamoError {
    DynamoError::new(
        ErrorKind::Serialization,
        format!("Unsupported Content-Encoding: {name} (supported: gzip, deflate, identity)"),
    )
}

/// Undoes `codings` (the last applied first). `too_large` is the error for an inflated
/// size over `limit`.
pub fn decode_body(
    mut bytes: Bytes,
    codings: &[Coding],
    limit: usize,
    too_large: fn() -> DynamoError,
) -> Result<Bytes, DynamoError> {
    for &coding in codings.iter().rev() {
        let input = bytes.as_ref();
        let mut inflated = Vec::new();
        let cap = limit as u64 + 1;
        let (read, complete) = match coding {
            Coding::Gzip => {
                let mut decoder = flate2::read::MultiGzDecoder::new(input);
                let read = (&mut decoder).take(cap).read_to_end(&mut inflated);
                // The decoder reads members until the input ends; bytes that are not a
                // member make it fail.
                (read, !input.is_empty())
            }
            Coding::Deflate => {
                let mut decoder = flate2::read::ZlibDecoder::new(input);
                let read = (&mut decoder).take(cap).read_to_end(&mut inflated);
                // The stream must end exactly where the body does.
                let consumed = decoder.total_in();
                (read, !input.is_empty() && consumed == input.len() as u64)
            }
        };
        if inflated.len() > limit {
            return Err(too_large());
        }
        if read.is_err() || !complete {
            return Err(DynamoError::new(
                ErrorKind::Serialization,
                format!("The request body is not valid {} data", coding.name()),
            ));
        }
        bytes = Bytes::from(inflated);
    }
    Ok(bytes)
}

/// The coding a response should use, from the request's first `Accept-Encoding` line;
/// `None`: send it uncompressed.
pub fn response_coding(headers: &HeaderMap) -> Option<Coding> {
    let value = crate::headers::text(headers.get(hyper::header::ACCEPT_ENCODING)?)?;
    choose(value)
}

/// What one `Accept-Encoding` member names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listed {
    Coding(Coding),
    Identity,
    Any,
}

/// The q-value of a member's parameters (`;q=0.5`): absent or unparseable 1, clamped to
/// at most 1.
fn q_value<'a>(params: impl Iterator<Item = &'a str>) -> f64 {
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            return match value.trim().parse::<f64>() {
                Ok(q) if q.is_nan() => 1.0,
                Ok(q) => q.min(1.0),
                Err(_) => 1.0,
            };
        }
    }
    1.0
}

/// DynamoDB's choice among the members of one `Accept-Encoding` value.
fn choose(value: &str) -> Option<Coding> {
    let mut listed: Vec<(Listed, f64)> = Vec::new();
    for member in value.split(',') {
        let mut parts = member.split(';');
        let name = parts.next().unwrap_or("").trim();
        let what = if name.eq_ignore_ascii_case("gzip") {
            Listed::Coding(Coding::Gzip)
        } else if name.eq_ignore_ascii_case("deflate") {
            Listed::Coding(Coding::Deflate)
        } else if name.eq_ignore_ascii_case("identity") {
            Listed::Identity
        } else if name == "*" {
            Listed::Any
        } else {
            continue;
        };
        listed.push((what, q_value(parts)));
    }
    // `*` stands, at its place in the list, for gzip and then deflate where those are not
    // listed by name.
    let named = |c: Coding| listed.iter().any(|(l, _)| *l == Listed::Coding(c));
    let (gzip_named, deflate_named) = (named(Coding::Gzip), named(Coding::Deflate));
    let mut candidates: Vec<(Listed, f64)> = Vec::with_capacity(listed.len() + 1);
    for &(what, q) in &listed {
        if what == Listed::Any {
            if !gzip_named {
                candidates.push((Listed::Coding(Coding::Gzip), q));
            }
            if !deflate_named {
                candidates.push((Listed::Coding(Coding::Deflate), q));
            }
        } else {
            candidates.push((what, q));
        }
    }
    let mut best: Option<(Listed, f64)> = None;
    for (what, q) in candidates {
        if q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((what, q));
        }
    }
    match best {
        Some((Listed::Coding(coding), _)) => Some(coding),
        _ => None,
    }
}

/// `body` compressed with `coding`.
pub fn compress(coding: Coding, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let level = flate2::Compression::fast();
    let out = Vec::with_capacity(body.len() / 4 + 64);
    match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(out, level);
            encoder.write_all(body)?;
            encoder.finish()
        }
        Coding::Deflate => {
            let mut encoder = flate2::write::ZlibEncoder::new(out, level);
            encoder.write_all(body)?;
            encoder.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_choice() {
        let cases: &[(&str, Option<Coding>)] = &[
            ("", None),
            ("gzip", Some(Coding::Gzip)),
            ("GZIP", Some(Coding::Gzip)),
            ("deflate", Some(Coding::Deflate)),
            ("gzip, deflate", Some(Coding::Gzip)),
            ("deflate, gzip", Some(Coding::Deflate)),
            ("identity", None),
            ("br", None),
            ("br, deflate", Some(Coding::Deflate)),
            ("gzip;q=0.5, deflate", Some(Coding::Deflate)),
            ("gzip;q=0.5, deflate;q=0.5", Some(Coding::Gzip)),
            ("deflate;q=0.5, gzip;q=0.5", Some(Coding::Deflate)),
            ("gzip;q=0", None),
            ("gzip;q=-1, deflate;q=0.1", Some(Coding::Deflate)),
            ("gzip;q=0.0001", Some(Coding::Gzip)),
            ("identity, gzip;q=0.9", None),
            ("identity;q=0.5, gzip;q=0.9", Some(Coding::Gzip)),
            ("gzip;q=abc, deflate;q=0.9", Some(Coding::Gzip)),
            ("deflate;q=0.9, gzip;q=abc", Some(Coding::Gzip)),
            ("deflate;q=5, gzip;q=1", Some(Coding::Deflate)),
            ("gzip;q=1, deflate;q=5", Some(Coding::Gzip)),
            ("*", Some(Coding::Gzip)),
            ("*;q=0", None),
            ("gzip;q=0, *", Some(Coding::Deflate)),
            ("deflate;q=0.1, *;q=0.5", Some(Coding::Gzip)),
            ("gzip;q=0.1, *;q=0.5", Some(Coding::Deflate)),
            ("gzip;q=0, deflate;q=0, *", None),
            ("identity;q=1, *;q=0.5", None),
            ("*;q=0.5, identity", None),
            (" gzip ; q = 0.4 , deflate ; q=0.3", Some(Coding::Gzip)),
            ("gzip;level=1", Some(Coding::Gzip)),
        ];
        for (value, expected) in cases {
            assert_eq!(choose(value), *expected, "Accept-Encoding: {value}");
        }
    }

    #[test]
    fn only_the_first_accept_encoding_line_counts() {
        let mut headers = HeaderMap::new();
        headers.append(hyper::header::ACCEPT_ENCODING, "identity".parse().unwrap());
        headers.append(hyper::header::ACCEPT_ENCODING, "gzip".parse().unwrap());
        assert_eq!(response_coding(&headers), None);
        let mut headers = HeaderMap::new();
        headers.append(hyper::header::ACCEPT_ENCODING, "deflate".parse().unwrap());
        headers.append(hyper::header::ACCEPT_ENCODING, "gzip".parse().unwrap());
        assert_eq!(response_coding(&headers), Some(Coding::Deflate));
    }

    fn too_large() -> DynamoError {
        DynamoError::new(ErrorKind::RequestEntityTooLarge, "too large")
    }

    #[test]
    fn request_bodies_round_trip_through_every_coding() {
        let body = br#"{"TableName":"t"}"#.repeat(50);
        for coding in [Coding::Gzip, Coding::Deflate] {
            let packed = compress(coding, &body).unwrap();
            let out = decode_body(Bytes::from(packed), &[coding], 1 << 20, too_large).unwrap();
            assert_eq!(out.as_ref(), body.as_slice(), "{coding:?}");
        }
        let layered = compress(Coding::Deflate, &compress(Coding::Gzip, &body).unwrap()).unwrap();
        let out = decode_body(
            Bytes::from(layered),
            &[Coding::Gzip, Coding::Deflate],
            1 << 20,
            too_large,
        )
        .unwrap();
        assert_eq!(out.as_ref(), body.as_slice());
    }

    #[test]
    fn malformed_bodies_and_unknown_codings_are_refused() {
        let plain = Bytes::from_static(br#"{"TableName":"t"}"#);
        for coding in [Coding::Gzip, Coding::Deflate] {
            let err = decode_body(plain.clone(), &[coding], 1 << 20, too_large).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Serialization);
            let empty = decode_body(Bytes::new(), &[coding], 1 << 20, too_large).unwrap_err();
            assert_eq!(empty.kind, ErrorKind::Serialization);
        }
        let mut trailing = compress(Coding::Deflate, &plain).unwrap();
        trailing.extend_from_slice(b"junk");
        let err = decode_body(
            Bytes::from(trailing),
            &[Coding::Deflate],
            1 << 20,
            too_large,
        )
        .unwrap_err();
        assert_eq!(err.message, "The request body is not valid deflate data");
        let bomb = compress(Coding::Gzip, &vec![b' '; 4096]).unwrap();
        let err = decode_body(Bytes::from(bomb), &[Coding::Gzip], 1024, too_large).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RequestEntityTooLarge);

        let mut headers = HeaderMap::new();
        headers.append(
            hyper::header::CONTENT_ENCODING,
            "gzip, garbage".parse().unwrap(),
        );
        let err = request_codings(&headers).unwrap_err();
        assert_eq!(
            err.message,
            "Unsupported Content-Encoding: garbage (supported: gzip, deflate, identity)"
        );
        let mut headers = HeaderMap::new();
        headers.append(hyper::header::CONTENT_ENCODING, "Identity".parse().unwrap());
        headers.append(
            hyper::header::CONTENT_ENCODING,
            "GZIP, deflate".parse().unwrap(),
        );
        assert_eq!(
            request_codings(&headers).unwrap(),
            vec![Coding::Gzip, Coding::Deflate]
        );
    }
}
