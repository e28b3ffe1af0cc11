//! The workloads: what each request looks like and what counts as a correct answer.
//!
//! Data model (the same on every server):
//! - table `bench` (`pk` S, hash key only): items `user#<9 digits>` with a number `n` and a
//!   string `d`, about 1 KB each by DynamoDB's size rules;
//! - table `bench_query` (`pk` S hash, `sk` S range): partitions `part#<6 digits>` of 100
//!   items `sk = 000..099`, each about 100 bytes (a typical item collection).
//!
//! Requests are built into reusable buffers with no JSON library: the bodies are fixed shapes
//! with keys and payloads spliced in, so building one costs the driver well under a
//! microsecond. Answers are checked with byte searches that accept any JSON spacing.

use clap::ValueEnum;

/// Table names the workloads use.
pub const TABLE: &str = "bench";
pub const QUERY_TABLE: &str = "bench_query";
/// Items per query partition.
pub const PARTITION_ITEMS: u64 = 100;
/// Items per BatchWriteItem request (DynamoDB's maximum).
pub const BATCH: usize = 25;
/// Items per TransactWriteItems request.
pub const TRANSACT: usize = 4;
/// Length of the `d` payload of a `bench` item: with `pk` (16 bytes), `n` and `d`'s name the
/// item is 1,024 bytes by DynamoDB's size rules.
pub const PAYLOAD: usize = 1005;
/// Length of the `d` payload of a `bench_query` item (about 100 bytes in all).
pub const QUERY_PAYLOAD: usize = 80;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// PutItem of 1 KB items at random keys of the key space.
    Put,
    /// GetItem of random existing keys (needs `load` first).
    Get,
    /// UpdateItem `SET n = n + :one` with `attribute_exists(pk)` on random existing keys.
    Update,
    /// Query of one whole 100-item partition (one page) chosen at random.
    Query,
    /// Scan of the `bench` table in full 1 MB pages, starting over at the end.
    Scan,
    /// BatchWriteItem of 25 1 KB items at distinct random keys.
    BatchWrite,
    /// TransactWriteItems of 4 Puts of 1 KB items at distinct random keys.
    Transact,
    /// 50% GetItem, 50% PutItem.
    Mixed,
    /// Creates the tables and preloads `--items` items (and `--partitions` query partitions)
    /// with BatchWriteItem.
    Load,
    /// The GetItem request, any 200 answer accepted: for the `{}` ceiling server.
    Ping,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Update => "update",
            Workload::Query => "query",
            Workload::Scan => "scan",
            Workload::BatchWrite => "batch-write",
            Workload::Transact => "transact",
            Workload::Mixed => "mixed",
            Workload::Load => "load",
            Workload::Ping => "ping",
        }
    }
}

/// xorshift64*: a fast, well-spread generator; one per connection, seeded distinctly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }
}

/// Appends `value` in decimal.
pub fn push_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = value;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `value` zero-padded to `width` digits.
pub fn push_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut v = value;
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&digits[..width]);
}

/// Random alphanumeric text from which payloads are cut at random offsets, so stored values
/// are neither constant nor trivially compressible.
pub struct Payloads {
    text: Vec<u8>,
}

impl Payloads {
    pub fn new(rng: &mut Rng) -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let text = (0..8192)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
            .collect();
        Payloads { text }
    }
    pub fn cut(&self, rng: &mut Rng, len: usize) -> &[u8] {
        let start = rng.below((self.text.len() - len) as u64) as usize;
        &self.text[start..start + len]
    }
}

fn push_user_key(out: &mut Vec<u8>, id: u64) {
    out.extend_from_slice(br#"{"pk":{"S":"user#"#);
    push_padded(out, id, 9);
    out.extend_from_slice(br#""}}"#);
}

/// A `bench` item: `{"pk":{"S":"user#…"},"n":{"N":"0"},"d":{"S":"…"}}`.
pub fn push_item(out: &mut Vec<u8>, id: u64, payload: &[u8]) {
    out.extend_from_slice(br#"{"pk":{"S":"user#"#);
    push_padded(out, id, 9);
    out.extend_from_slice(br#""},"n":{"N":"0"},"d":{"S":""#);
    out.extend_from_slice(payload);
    out.extend_from_slice(br#""}}"#);
}

/// A `bench_query` item.
pub fn push_query_item(out: &mut Vec<u8>, partition: u64, sort: u64, payload: &[u8]) {
    out.extend_from_slice(br#"{"pk":{"S":"part#"#);
    push_padded(out, partition, 6);
    out.extend_from_slice(br#""},"sk":{"S":""#);
    push_padded(out, sort, 3);
    out.extend_from_slice(br#""},"n":{"N":"0"},"d":{"S":""#);
    out.extend_from_slice(payload);
    out.extend_from_slice(br#""}}"#);
}

pub fn put_item(out: &mut Vec<u8>, id: u64, payload: &[u8]) {
    out.extend_from_slice(br#"{"TableName":"bench","Item":"#);
    push_item(out, id, payload);
    out.push(b'}');
}

pub fn get_item(out: &mut Vec<u8>, id: u64) {
    out.extend_from_slice(br#"{"TableName":"bench","Key":"#);
    push_user_key(out, id);
    out.push(b'}');
}

pub fn update_item(out: &mut Vec<u8>, id: u64) {
    out.extend_from_slice(br#"{"TableName":"bench","Key":"#);
    push_user_key(out, id);
    out.extend_from_slice(
        br#","UpdateExpression":"SET n = n + :one","ConditionExpression":"attribute_exists(pk)","ExpressionAttributeValues":{":one":{"N":"1"}}}"#,
    );
}

pub fn query(out: &mut Vec<u8>, partition: u64) {
    out.extend_from_slice(
        br#"{"TableName":"bench_query","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"part#"#,
    );
    push_padded(out, partition, 6);
    out.extend_from_slice(br#""}}}"#);
}

/// A Scan page request, continuing after `start_key` (raw JSON of the last evaluated key).
pub fn scan(out: &mut Vec<u8>, start_key: Option<&[u8]>) {
    out.extend_from_slice(br#"{"TableName":"bench""#);
    if let Some(key) = start_key {
        out.extend_from_slice(br#","ExclusiveStartKey":"#);
        out.extend_from_slice(key);
    }
    out.push(b'}');
}

/// Picks `n` distinct keys of `0..keys` (a batch or transaction may not name one key twice).
pub fn distinct_keys(rng: &mut Rng, keys: u64, n: usize, into: &mut Vec<u64>) {
    into.clear();
    while into.len() < n {
        let k = rng.below(keys);
        if !into.contains(&k) {
            into.push(k);
        }
    }
}

/// BatchWriteItem of PutRequests for `items` (each a finished item JSON, written by `put`).
pub fn batch_write(
    out: &mut Vec<u8>,
    table: &str,
    count: usize,
    mut put: impl FnMut(&mut Vec<u8>, usize),
) {
    out.extend_from_slice(br#"{"RequestItems":{""#);
    out.extend_from_slice(table.as_bytes());
    out.extend_from_slice(br#"":["#);
    for i in 0..count {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"PutRequest":{"Item":"#);
        put(out, i);
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}}");
}

pub fn transact_puts(out: &mut Vec<u8>, ids: &[u64], payloads: &Payloads, rng: &mut Rng) {
    out.extend_from_slice(br#"{"TransactItems":["#);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"Put":{"TableName":"bench","Item":"#);
        push_item(out, *id, payloads.cut(rng, PAYLOAD));
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}");
}

/// The value that follows `"name":` in a JSON text, as raw bytes (an object, array, string
/// or scalar), found by scanning from the last occurrence of the member name. Good for the
/// flat answers checked here; not a general JSON parser.
pub fn member<'a>(body: &'a [u8], name: &str) -> Option<&'a [u8]> {
    // `"name"` without building it: this runs on every answer the driver checks.
    let n = name.len() + 2;
    let at = body
        .windows(n)
        .rposition(|w| w[0] == b'"' && w[n - 1] == b'"' && &w[1..n - 1] == name.as_bytes())?
        + n;
    let rest = &body[at..];
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[colon] != b':' {
        return None;
    }
    let rest = &rest[colon + 1..];
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let value = &rest[start..];
    let end = value_end(value)?;
    Some(&value[..end])
}

fn value_end(value: &[u8]) -> Option<usize> {
    match value.first()? {
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut in_string = false;
            let mut escaped = false;
            for (i, b) in value.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if *b == b'\\' {
                        escaped = true;
                    } else if *b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        b'"' => {
            let mut escaped = false;
            for (i, b) in value.iter().enumerate().skip(1) {
                if escaped {
                    escaped = false;
                } else if *b == b'\\' {
                    escaped = true;
                } else if *b == b'"' {
                    return Some(i + 1);
                }
            }
            None
        }
        _ => Some(
            value
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(value.len()),
        ),
    }
}

/// Whether an object value is empty (`{}` with any spacing).
pub fn is_empty_object(value: &[u8]) -> bool {
    value.first() == Some(&b'{')
        && value[1..value.len() - 1]
            .iter()
            .all(|b| b.is_ascii_whitespace())
}

/// The `Count` of a Query or Scan answer.
pub fn count(body: &[u8]) -> Option<u64> {
    std::str::from_utf8(member(body, "Count")?)
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_json_of_the_expected_shape() {
        let mut rng = Rng::new(7);
        let payloads = Payloads::new(&mut rng);
        let mut out = Vec::new();
        put_item(&mut out, 42, payloads.cut(&mut rng, PAYLOAD));
        let v: serde_json::Value = serde_json::from_slice(&out).expect("put json");
        assert_eq!(v["Item"]["pk"]["S"], "user#000000042");
        assert_eq!(v["Item"]["d"]["S"].as_str().map(str::len), Some(PAYLOAD));

        out.clear();
        let mut ids = Vec::new();
        distinct_keys(&mut rng, 10, TRANSACT, &mut ids);
        transact_puts(&mut out, &ids, &payloads, &mut rng);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("transact json");
        assert_eq!(v["TransactItems"].as_array().map(Vec::len), Some(TRANSACT));

        out.clear();
        batch_write(&mut out, QUERY_TABLE, 3, |o, i| {
            push_query_item(o, 5, i as u64, b"xyz")
        });
        let v: serde_json::Value = serde_json::from_slice(&out).expect("batch json");
        assert_eq!(
            v["RequestItems"]["bench_query"][2]["PutRequest"]["Item"]["sk"]["S"],
            "002"
        );

        out.clear();
        query(&mut out, 12);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("query json");
        assert_eq!(v["ExpressionAttributeValues"][":p"]["S"], "part#000012");
    }

    #[test]
    fn member_finds_values_with_any_spacing() {
        let body = br#"{"Items": [{"a": {"S": "}\"{"}}], "Count": 100, "LastEvaluatedKey": {"pk": {"S": "x"}}}"#;
        assert_eq!(count(body), Some(100));
        assert_eq!(
            member(body, "LastEvaluatedKey"),
            Some(&br#"{"pk": {"S": "x"}}"#[..])
        );
        assert_eq!(member(body, "Missing"), None);
        assert!(is_empty_object(b"{ }"));
        assert!(!is_empty_object(br#"{"t":[]}"#));
    }

    #[test]
    fn keys_are_distinct_and_in_range() {
        let mut rng = Rng::new(1);
        let mut ids = Vec::new();
        for _ in 0..1000 {
            distinct_keys(&mut rng, 30, BATCH, &mut ids);
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), BATCH);
            assert!(ids.iter().all(|k| *k < 30));
        }
    }
}
