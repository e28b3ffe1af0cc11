//! The workloads: what each request looks like and what counts as a correct answer.
//!
//! Data model (the same on every server):
//! - table `bench` (`pk` S, hash key only): items `user#<9 digits>` with a number `n` and a
//!   string `d`, about 1 KB each by DynamoDB's size rules;
//! - table `bench_query` (`pk` S hash, `sk` S range): partitions `part#<6 digits>` of 100
//!   items `sk = 000..099`, each about 100 bytes (a typical item collection);
//! - table `bench_query_1kb` (`pk` S hash, `sk` S range): partitions `cust#<6 digits>` of 100
//!   orders `sk = order#000..099`, each about 1 KB of ordinary attributes (eleven strings,
//!   three numbers; the longest string 400 bytes), so one whole partition is a ~100 KB page,
//!   the size of answer applications read;
//! - table `bench_query_1kb_flat` (`pk` S hash, `sk` S range): as many partitions
//!   `flat#<6 digits>` of 100 items `sk = 000..099`, each about 1 KB in one long string
//!   beside a number. The same bytes per page as `bench_query_1kb` in four attributes instead
//!   of fourteen: servers whose cost grows with the number of attributes and servers whose
//!   cost grows with the bytes rank differently on the two, so both are measured.
//!
//! Requests are built into reusable buffers with no JSON library: the bodies are fixed shapes
//! with keys and payloads spliced in, so building one costs the driver well under a
//! microsecond. Answers are checked with byte searches that accept any JSON spacing.

use clap::ValueEnum;

/// Table names the workloads use.
pub const TABLE: &str = "bench";
pub const QUERY_TABLE: &str = "bench_query";
pub const QUERY_1KB_TABLE: &str = "bench_query_1kb";
pub const QUERY_1KB_FLAT_TABLE: &str = "bench_query_1kb_flat";
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
/// Lengths of the free-text attributes of a `bench_query_1kb` order: with the other,
/// fixed-width attributes the item is about 1,024 bytes by DynamoDB's size rules (the unit
/// test computes it).
pub const ORDER_DESCRIPTION: usize = 400;
pub const ORDER_NOTES: usize = 297;
/// Length of the `payload` of a `bench_query_1kb_flat` item: with `pk` (`flat#` and 6 digits),
/// `sk` (3 digits), `n` (6 digits: 4 bytes, fewer when it ends in zeros) and the names the
/// item is 1,022-1,024 bytes by DynamoDB's size rules (the unit test computes it).
pub const FLAT_PAYLOAD: usize = 994;

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
    /// Query of one whole partition of 100 items of ~1 KB (one ~100 KB page) chosen at random.
    #[value(name = "query-1kb")]
    Query1kb,
    /// Query of one whole partition of 100 items of ~1 KB held in one string each (one
    /// ~100 KB page, four attributes per item) chosen at random.
    #[value(name = "query-1kb-flat")]
    Query1kbFlat,
    /// Scan of the `bench` table in full 1 MB pages, starting over at the end.
    Scan,
    /// BatchWriteItem of 25 1 KB items at distinct random keys.
    BatchWrite,
    /// TransactWriteItems of 4 Puts of 1 KB items at distinct random keys.
    Transact,
    /// 50% GetItem, 50% PutItem.
    Mixed,
    /// Creates the tables and preloads `--items` items, `--partitions` partitions in
    /// `bench_query` and `--partitions-1kb` in each 1 KB query table, with BatchWriteItem.
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
            Workload::Query1kb => "query-1kb",
            Workload::Query1kbFlat => "query-1kb-flat",
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
    /// Letters and digits, no spaces: identifiers and opaque values.
    pub fn new(rng: &mut Rng) -> Self {
        Self::from_alphabet(
            rng,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        )
    }

    /// Lower-case words of random length separated by spaces (one character in seven is a
    /// space): descriptions, names and addresses.
    pub fn prose(rng: &mut Rng) -> Self {
        Self::from_alphabet(rng, b"abcdefghijklmnopqrstuvwxyz      ")
    }

    fn from_alphabet(rng: &mut Rng, alphabet: &[u8]) -> Self {
        let text = (0..8192)
            .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
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

/// The text sources a `bench_query_1kb` order is cut from.
pub struct OrderText<'a> {
    pub tokens: &'a Payloads,
    pub prose: &'a Payloads,
}

/// Order states, all of one length so that every order has the same size.
const ORDER_STATUS: [&str; 4] = ["pending", "packing", "shipped", "arrived"];

/// A `bench_query_1kb` item: order `sort` of customer `partition`, about 1 KB of the kind of
/// attributes an application stores (names, an address, a timestamp, amounts, free text), so
/// a server's per-attribute work (names, type tags, number normalisation, string escaping)
/// counts as it does for real items, not only its per-byte copying of one long string.
pub fn push_order_item(
    out: &mut Vec<u8>,
    partition: u64,
    sort: u64,
    rng: &mut Rng,
    text: &OrderText<'_>,
) {
    let OrderText { tokens, prose } = *text;
    out.extend_from_slice(br#"{"pk":{"S":"cust#"#);
    push_padded(out, partition, 6);
    out.extend_from_slice(br#""},"sk":{"S":"order#"#);
    push_padded(out, sort, 3);
    out.extend_from_slice(br#""},"status":{"S":""#);
    out.extend_from_slice(ORDER_STATUS[rng.below(ORDER_STATUS.len() as u64) as usize].as_bytes());
    out.extend_from_slice(br#""},"created_at":{"S":"2026-"#);
    push_padded(out, 1 + rng.below(12), 2);
    out.push(b'-');
    push_padded(out, 1 + rng.below(28), 2);
    out.push(b'T');
    push_padded(out, rng.below(24), 2);
    out.push(b':');
    push_padded(out, rng.below(60), 2);
    out.push(b':');
    push_padded(out, rng.below(60), 2);
    out.extend_from_slice(br#"Z"},"customer_name":{"S":""#);
    out.extend_from_slice(prose.cut(rng, 24));
    out.extend_from_slice(br#""},"email":{"S":""#);
    out.extend_from_slice(tokens.cut(rng, 16));
    out.extend_from_slice(br#"@example.com"},"street":{"S":""#);
    out.extend_from_slice(prose.cut(rng, 40));
    out.extend_from_slice(br#""},"city":{"S":""#);
    out.extend_from_slice(prose.cut(rng, 16));
    out.extend_from_slice(br#""},"total_cents":{"N":""#);
    push_decimal(out, 100_000 + rng.below(900_000));
    out.extend_from_slice(br#""},"quantity":{"N":""#);
    push_decimal(out, 1 + rng.below(9));
    out.extend_from_slice(br#""},"updated_at":{"N":""#);
    push_decimal(out, 1_790_000_000 + rng.below(10_000_000));
    out.extend_from_slice(br#""},"product":{"S":""#);
    out.extend_from_slice(prose.cut(rng, 60));
    out.extend_from_slice(br#""},"description":{"S":""#);
    out.extend_from_slice(prose.cut(rng, ORDER_DESCRIPTION));
    out.extend_from_slice(br#""},"notes":{"S":""#);
    out.extend_from_slice(prose.cut(rng, ORDER_NOTES));
    out.extend_from_slice(br#""}}"#);
}

/// A `bench_query_1kb_flat` item: `{"pk":{"S":"flat#…"},"sk":{"S":"…"},"n":{"N":"…"},
/// "payload":{"S":"…"}}`, about 1 KB of which almost all is the one string: the shape of an
/// application that stores a serialised document or blob beside its keys.
pub fn push_flat_item(out: &mut Vec<u8>, partition: u64, sort: u64, number: u64, payload: &[u8]) {
    out.extend_from_slice(br#"{"pk":{"S":"flat#"#);
    push_padded(out, partition, 6);
    out.extend_from_slice(br#""},"sk":{"S":""#);
    push_padded(out, sort, 3);
    out.extend_from_slice(br#""},"n":{"N":""#);
    push_decimal(out, number);
    out.extend_from_slice(br#""},"payload":{"S":""#);
    out.extend_from_slice(payload);
    out.extend_from_slice(br#""}}"#);
}

/// The `n` of a `bench_query_1kb_flat` item: six digits, so that every item has nearly the
/// same size.
pub fn flat_number(rng: &mut Rng) -> u64 {
    100_000 + rng.below(900_000)
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

pub fn query_1kb(out: &mut Vec<u8>, partition: u64) {
    out.extend_from_slice(
        br#"{"TableName":"bench_query_1kb","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"cust#"#,
    );
    push_padded(out, partition, 6);
    out.extend_from_slice(br#""}}}"#);
}

pub fn query_1kb_flat(out: &mut Vec<u8>, partition: u64) {
    out.extend_from_slice(
        br#"{"TableName":"bench_query_1kb_flat","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"flat#"#,
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

        out.clear();
        query_1kb(&mut out, 12);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("query-1kb json");
        assert_eq!(v["TableName"], QUERY_1KB_TABLE);
        assert_eq!(v["ExpressionAttributeValues"][":p"]["S"], "cust#000012");

        out.clear();
        query_1kb_flat(&mut out, 12);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("query-1kb-flat json");
        assert_eq!(v["TableName"], QUERY_1KB_FLAT_TABLE);
        assert_eq!(v["ExpressionAttributeValues"][":p"]["S"], "flat#000012");
    }

    /// An item's size by DynamoDB's rules: attribute names plus values, a string its UTF-8
    /// length, a number one byte per two significant digits plus one.
    fn dynamodb_size(item: &serde_json::Value) -> usize {
        let map = item.as_object().expect("an item is an object");
        map.iter()
            .map(|(name, value)| {
                let value = if let Some(s) = value["S"].as_str() {
                    s.len()
                } else if let Some(n) = value["N"].as_str() {
                    let digits = n.trim_matches('0').chars().filter(char::is_ascii_digit);
                    digits.count().div_ceil(2) + 1
                } else {
                    panic!("only strings and numbers here: {value}")
                };
                name.len() + value
            })
            .sum()
    }

    #[test]
    fn orders_are_about_1kb_of_several_attributes() {
        let mut rng = Rng::new(3);
        let tokens = Payloads::new(&mut rng);
        let prose = Payloads::prose(&mut rng);
        let text = OrderText {
            tokens: &tokens,
            prose: &prose,
        };
        let mut out = Vec::new();
        for sort in 0..PARTITION_ITEMS {
            out.clear();
            push_order_item(&mut out, 7, sort, &mut rng, &text);
            let item: serde_json::Value = serde_json::from_slice(&out).expect("order json");
            assert_eq!(item["pk"]["S"], "cust#000007");
            assert_eq!(item["sk"]["S"].as_str().map(str::len), Some(9));
            assert_eq!(item.as_object().map(|m| m.len()), Some(14));
            let size = dynamodb_size(&item);
            assert!((1_010..=1_030).contains(&size), "size {size}: {item}");
            // The answer check looks for the last `"Count"`: no attribute may be named so.
            assert!(!out.windows(7).any(|w| w == b"\"Count\""));
        }
    }

    #[test]
    fn flat_items_are_about_1kb_in_one_string() {
        let mut rng = Rng::new(5);
        let payloads = Payloads::new(&mut rng);
        let mut out = Vec::new();
        let mut first_payload = None;
        for sort in 0..PARTITION_ITEMS {
            out.clear();
            let number = flat_number(&mut rng);
            push_flat_item(
                &mut out,
                7,
                sort,
                number,
                payloads.cut(&mut rng, FLAT_PAYLOAD),
            );
            let item: serde_json::Value = serde_json::from_slice(&out).expect("flat item json");
            assert_eq!(item["pk"]["S"], "flat#000007");
            assert_eq!(item["sk"]["S"].as_str().map(str::len), Some(3));
            assert_eq!(item["n"]["N"], number.to_string());
            assert_eq!(item.as_object().map(|m| m.len()), Some(4));
            let size = dynamodb_size(&item);
            assert!((1_022..=1_024).contains(&size), "size {size}: {item}");
            let payload = item["payload"]["S"].as_str().expect("payload is a string");
            assert_eq!(payload.len(), FLAT_PAYLOAD);
            // Varied printable text that JSON carries as is: the server's per-byte work is
            // copying, not escaping, and not one repeated character either.
            assert!(payload.bytes().all(|b| b.is_ascii_alphanumeric()));
            let distinct = payload.bytes().collect::<std::collections::BTreeSet<_>>();
            assert!(distinct.len() > 30, "payload too uniform: {payload}");
            // The answer check looks for the last `"Count"`: no attribute may be named so.
            assert!(!out.windows(7).any(|w| w == b"\"Count\""));
            match &first_payload {
                None => first_payload = Some(payload.to_string()),
                Some(first) => assert_ne!(first, payload, "item {sort} repeats the first payload"),
            }
        }
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
