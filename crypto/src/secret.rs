//! Secret byte strings: zeroized on drop, never `Clone` or `Debug`, compared in constant time.

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Owned secret bytes (keys, shared secrets, PPKs, KEYMAT).
///
/// Deliberately neither `Clone` nor `Debug`: a copy must be explicit
/// ([`SecretBytes::dangerous_duplicate`]) so that every copy of key material is visible in review.
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are zeroized when this value drops.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A zero-filled secret of `len` bytes, to be written in place.
    pub fn zeroed(len: usize) -> Self {
        Self(vec![0; len])
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// The secret bytes. Callers must not copy them into non-zeroizing storage.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Mutable access, for filling a secret in place.
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// An explicit copy of the secret (for example one key going to two SAs).
    pub fn dangerous_duplicate(&self) -> Self {
        Self(self.0.clone())
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Splits off the first `n` bytes as a new secret, keeping the rest in `self`.
    ///
    /// # Panics
    /// If `n > self.len()`.
    pub fn split_prefix(&mut self, n: usize) -> Self {
        let rest = self.0.split_off(n);
        let head = std::mem::replace(&mut self.0, rest);
        Self(head)
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        ct_eq(&self.0, other)
    }
}

impl Drop for SecretBytes {
    #[inline(never)]
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Constant-time comparison of two byte strings (the lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
