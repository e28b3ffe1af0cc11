//! Authentication checks on the `Authorization` header.
//!
//! Like DynamoDB Local, Stator accepts any well-formed AWS Signature Version 4 header without
//! verifying the signature (key verification is a later feature). What it does check is what
//! DynamoDB rejects before looking at credentials: a request with no authentication at all
//! gets `MissingAuthenticationTokenException`, and a header that is not a complete SigV4
//! header gets `IncompleteSignatureException` listing each missing part, followed by the
//! header as received. The region in the credential scope is returned so that ARNs can name
//! the region the client believes it is talking to.

use hyper::HeaderMap;
use stator_engine::{DynamoError, ErrorKind};

/// The parts of a SigV4 `Authorization` header that matter to Stator.
#[derive(Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub region: String,
}

const DEFAULT_REGION: &str = "us-east-1";

/// `X-Amz-Date` as a constant name (a `&str` key is parsed on every look-up).
static X_AMZ_DATE: hyper::header::HeaderName = hyper::header::HeaderName::from_static("x-amz-date");

/// Checks the request's authentication and returns who signed it.
pub fn check(headers: &HeaderMap) -> Result<Credentials, DynamoError> {
    let Some(header) = headers.get(hyper::header::AUTHORIZATION) else {
        return Err(DynamoError::new(
            ErrorKind::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        ));
    };
    let header = crate::headers::text(header).unwrap_or("");
    let has_date = headers.contains_key(&X_AMZ_DATE) || headers.contains_key(hyper::header::DATE);

    let params = header
        .strip_prefix("AWS4-HMAC-SHA256")
        .filter(|rest| rest.starts_with(' '))
        .map(str::trim);
    let mut credential = None;
    let mut signed_headers = false;
    let mut signature = false;
    if let Some(params) = params {
        for part in pieces(params, b',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if part
                .strip_prefix("SignedHeaders=")
                .is_some_and(|v| !v.is_empty())
            {
                signed_headers = true;
            } else if part
                .strip_prefix("Signature=")
                .is_some_and(|v| !v.is_empty())
            {
                signature = true;
            }
        }
    }

    // Credential must be <key>/<date>/<region>/<service>/aws4_request.
    let scope = credential.map(Scope::parse);
    let well_formed_scope = scope
        .as_ref()
        .is_some_and(|s| s.parts == 5 && !s.key.is_empty() && s.last == "aws4_request");

    let mut problems = Vec::new();
    if credential.is_none() {
        problems.push("Authorization header requires 'Credential' parameter.".to_string());
    }
    if !signature {
        problems.push("Authorization header requires 'Signature' parameter.".to_string());
    }
    if !signed_headers {
        problems.push("Authorization header requires 'SignedHeaders' parameter.".to_string());
    }
    if !has_date {
        problems.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header."
                .to_string(),
        );
    }
    if problems.is_empty() && !well_formed_scope {
        problems.push(format!(
            "Credential should be scoped to a valid region, not '{}'. Credential should be \
             scoped to correct service: 'dynamodb'. Credential should be scoped with a valid \
             terminator: 'aws4_request', not '{}'.",
            scope.as_ref().map_or("", |s| s.region),
            scope.as_ref().map_or("", |s| s.last),
        ));
    }
    if !problems.is_empty() {
        return Err(DynamoError::new(
            ErrorKind::IncompleteSignature,
            format!("{} Authorization={header}", problems.join(" ")),
        ));
    }
    let (key, region) = scope.map_or(("", ""), |s| (s.key, s.region));
    let region = if region.is_empty() {
        DEFAULT_REGION
    } else {
        region
    };
    Ok(Credentials {
        access_key: key.to_string(),
        region: region.to_string(),
    })
}

/// `text` cut at every `sep`, as `str::split` would, found with the `memchr` crate's vector
/// search: `str::split`'s searcher, over the ~250-byte header of every request, cost some
/// 1,500 instructions a GetItem (a twentieth of the request). `sep` is ASCII, so every
/// piece is whole UTF-8.
fn pieces(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(sep.is_ascii());
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(sep, current.as_bytes()) {
            Some(at) => {
                rest = current.get(at + 1..);
                current.get(..at)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The `/`-separated parts of a credential scope that the checks look at.
struct Scope<'a> {
    /// How many parts there are.
    parts: usize,
    key: &'a str,
    /// The third part (empty when there are fewer).
    region: &'a str,
    last: &'a str,
}

impl<'a> Scope<'a> {
    fn parse(credential: &'a str) -> Scope<'a> {
        let mut scope = Scope {
            parts: 0,
            key: "",
            region: "",
            last: "",
        };
        for (i, part) in pieces(credential, b'/').enumerate() {
            match i {
                0 => scope.key = part,
                2 => scope.region = part,
                _ => {}
            }
            scope.parts = i + 1;
            scope.last = part;
        }
        scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_as_str_split_does() {
        for text in [
            "",
            ",",
            "a",
            "a,b",
            ",a,",
            "a,,b",
            "é,ü,",
            "Credential=a/b, Signature=c",
        ] {
            let ours: Vec<&str> = pieces(text, b',').collect();
            let std: Vec<&str> = text.split(',').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    fn headers(auth: Option<&str>, date: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert("authorization", a.parse().unwrap());
        }
        if date {
            h.insert("x-amz-date", "20261121T000000Z".parse().unwrap());
        }
        h
    }

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKID/20261121/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef";

    #[test]
    fn missing_header_is_missing_token() {
        let err = check(&headers(None, true)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::MissingAuthenticationToken);
        assert_eq!(err.message, "Request is missing Authentication Token");
    }

    #[test]
    fn well_formed_header_is_accepted_and_region_extracted() {
        let creds = check(&headers(Some(GOOD), true)).unwrap();
        assert_eq!(creds.region, "eu-west-1");
        assert_eq!(creds.access_key, "AKID");
    }

    #[test]
    fn garbage_header_lists_every_missing_part() {
        let err = check(&headers(Some("foo"), false)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::IncompleteSignature);
        assert_eq!(
            err.message,
            "Authorization header requires 'Credential' parameter. Authorization header \
             requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
             parameter. Authorization header requires existence of either a 'X-Amz-Date' or \
             a 'Date' header. Authorization=foo"
        );
    }

    #[test]
    fn missing_date_alone_is_reported() {
        let err = check(&headers(Some(GOOD), false)).unwrap_err();
        assert!(err.message.starts_with(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ));
    }

    #[test]
    fn bad_scope_is_incomplete() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=ab";
        let err = check(&headers(Some(auth), true)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::IncompleteSignature);
    }
}
