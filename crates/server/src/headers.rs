//! Request header values as text. [`text`] accepts exactly what `HeaderValue::to_str`
//! accepts (visible ASCII and tab) but tests every byte without an early exit, which the
//! compiler turns into a vector loop: the `Authorization` header alone is some 250 bytes
//! on every request, and a byte-at-a-time test of it was a measurable part of a GetItem.

use hyper::header::HeaderValue;

/// The value as text, or `None` if it holds a byte outside visible ASCII and tab.
pub fn text(value: &HeaderValue) -> Option<&str> {
    let bytes = value.as_bytes();
    let visible = bytes.iter().fold(true, |ok, &b| {
        ok & (((32..127).contains(&b)) | (b == b'\t'))
    });
    if visible {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_to_str_accepts() {
        // A header value cannot hold other control bytes; the bytes above 127 it can hold
        // are what the two tests must both refuse.
        let mut checked = 0;
        for b in 0..=255u8 {
            for bytes in [
                vec![b],
                b"AWS4-HMAC-SHA256 Credential=a/b"
                    .iter()
                    .copied()
                    .chain([b])
                    .collect(),
            ] {
                if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                    assert_eq!(text(&value), value.to_str().ok(), "{bytes:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 2 * 200, "{checked}");
        let accented = HeaderValue::from_bytes("café".as_bytes()).expect("a header value");
        assert_eq!(text(&accented), None);
        assert_eq!(text(&HeaderValue::from_static("a\tb")), Some("a\tb"));
    }
}
