//! The digest of a JSON request that tells a retried TransactWriteItems from a different
//! request with the same `ClientRequestToken` (see `stator_api::ops::transact_write_items`).

/// A stable 64-bit digest of the request apart from its `ClientRequestToken`: the JSON
/// value hashed in a canonical form (object members sorted by name, every value tagged with
/// its type and length), so a retry is recognized whatever order a client writes members
/// in. FNV-1a with a final avalanche step, written out here so the digest is the same on
/// every platform and Rust release (std's `DefaultHasher` promises neither), should the
/// idempotency records ever be persisted.
pub fn request_fingerprint(body: &[u8]) -> u64 {
    let mut hasher = Fnv::new();
    let trimmed: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    match serde_json::from_slice::<serde_json::Value>(trimmed) {
        Ok(mut value) => {
            if let serde_json::Value::Object(members) = &mut value {
                members.remove("ClientRequestToken");
            }
            hash_value(&mut hasher, &value);
        }
        // Cannot happen for a body that decoded into the input model; hash the bytes.
        Err(_) => hasher.bytes(trimmed),
    }
    hasher.finish()
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn tag(&mut self, tag: u8, len: usize) {
        self.bytes(&[tag]);
        self.bytes(&(len as u64).to_le_bytes());
    }

    fn text(&mut self, tag: u8, text: &str) {
        self.tag(tag, text.len());
        self.bytes(text.as_bytes());
    }

    fn finish(&self) -> u64 {
        // splitmix64's finalizer, so nearby inputs spread over the whole range.
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
}

fn hash_value(hasher: &mut Fnv, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => hasher.tag(0, 0),
        Value::Bool(b) => hasher.tag(1, usize::from(*b)),
        Value::Number(n) => hasher.text(2, &n.to_string()),
        Value::String(s) => hasher.text(3, s),
        Value::Array(list) => {
            hasher.tag(4, list.len());
            for v in list {
                hash_value(hasher, v);
            }
        }
        Value::Object(members) => {
            hasher.tag(5, members.len());
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            for (name, v) in sorted {
                hasher.text(6, name);
                hash_value(hasher, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_token_and_member_order() {
        let a = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"}}}}],"ClientRequestToken":"x"}"#;
        let b = br#"{"ClientRequestToken":"y","TransactItems":[{"Put":{"Item":{"pk":{"S":"a"}},"TableName":"t"}}]}"#;
        let c = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"b"}}}}],"ClientRequestToken":"x"}"#;
        assert_eq!(request_fingerprint(a), request_fingerprint(b));
        assert_ne!(request_fingerprint(a), request_fingerprint(c));
        // Asking for capacity is a different request.
        let d = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"}}}}],"ReturnConsumedCapacity":"TOTAL"}"#;
        assert_ne!(request_fingerprint(a), request_fingerprint(d));
        // Structure is part of the digest: ["ab"] is not ["a", "b"].
        assert_ne!(
            request_fingerprint(br#"{"X":["ab"]}"#),
            request_fingerprint(br#"{"X":["a","b"]}"#)
        );
        // Never panics on odd input.
        let _ = request_fingerprint(b"");
        let _ = request_fingerprint(b"not json");
    }
}
