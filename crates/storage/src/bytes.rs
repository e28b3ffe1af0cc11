//! [`Bytes`]: the keys and values reads hand back.
//!
//! A read answers with the store's own bytes whenever the backend can share them: the
//! memory backend keeps every key and value in an `Arc<[u8]>`, fjall in its reference
//! counted slices, and a write transaction's uncommitted values in `Arc`s too, so a range
//! scan or a `get` clones a pointer instead of allocating and copying. Profiles of a Query
//! returning 100 items of 1 KB put about a tenth of the server's CPU in those copies before
//! this type existed. A backend that has only owned buffers (a network client) hands them
//! over without a copy either.
//!
//! No backend type shows through: `Bytes` is read as `&[u8]` (`Deref`) and turned into a
//! `Vec<u8>` where an owned buffer is needed.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Immutable bytes shared with the store, or owned.
#[derive(Clone)]
pub struct Bytes(Repr);

#[derive(Clone)]
enum Repr {
    Shared(Arc<[u8]>),
    Fjall(fjall::Slice),
    Owned(Vec<u8>),
}

impl Bytes {
    pub(crate) fn shared(bytes: Arc<[u8]>) -> Self {
        Bytes(Repr::Shared(bytes))
    }

    pub(crate) fn fjall(slice: fjall::Slice) -> Self {
        Bytes(Repr::Fjall(slice))
    }

    /// The bytes as an owned buffer (copied unless they already are one).
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Owned(bytes) => bytes,
            Repr::Shared(bytes) => bytes.to_vec(),
            Repr::Fjall(slice) => slice.to_vec(),
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Shared(bytes) => bytes,
            Repr::Fjall(slice) => slice,
            Repr::Owned(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(Repr::Owned(bytes))
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(Repr::Owned(bytes.to_vec()))
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Bytes {}

impl PartialEq<[u8]> for Bytes {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

impl PartialEq<Vec<u8>> for Bytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_the_same() {
        let forms = [
            Bytes::shared(Arc::from(&b"abc"[..])),
            Bytes::fjall(fjall::Slice::from(&b"abc"[..])),
            Bytes::from(b"abc".to_vec()),
        ];
        for bytes in forms {
            assert_eq!(&*bytes, b"abc");
            assert_eq!(bytes, b"abc".to_vec());
            assert_eq!(bytes.clone().into_vec(), b"abc".to_vec());
        }
    }
}
