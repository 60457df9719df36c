//! Key identifiers and the secret key type.

use std::fmt;
use std::str::FromStr;

use ipsec_crypto::SecretBytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::ProtocolError;

/// An ETSI GS QKD 014 `key_ID`: a UUID (§6.3, Table 11), shown in its hyphenated form.
///
/// Not secret: it is what goes into PPK_IDENTITY and the logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Uuid);

impl KeyId {
    /// A fresh random (version 4) key ID, drawn from the aws-lc-rs system RNG.
    ///
    /// # Panics
    /// If the system RNG fails, which aws-lc-rs treats as fatal as well.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        // The OS RNG failing leaves no safe way to mint identifiers; aws-lc-rs aborts too.
        #[allow(clippy::expect_used)]
        aws_lc_rs::rand::fill(&mut bytes).expect("system RNG");
        Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// The UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The 16 UUID bytes (RFC 9562 network order).
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl From<Uuid> for KeyId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl FromStr for KeyId {
    type Err = ProtocolError;

    /// Accepts only the 36-character hyphenated form the spec shows (any hex case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != HYPHENATED_LEN {
            return Err(ProtocolError::BadKeyId(truncated(s)));
        }
        Uuid::try_parse(s)
            .map(Self)
            .map_err(|_| ProtocolError::BadKeyId(truncated(s)))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0.hyphenated())
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One QKD key as delivered by a KME: its `key_ID`, the secret bytes and any extensions.
///
/// Deliberately not `Clone`: a key is handed on once ([`QkdKey::into_secret`]) and zeroized
/// when dropped. `Debug` prints the key ID and length only.
pub struct QkdKey {
    key_id: KeyId,
    key: SecretBytes,
    key_id_extension: Option<Map<String, Value>>,
    key_extension: Option<Map<String, Value>>,
}

impl QkdKey {
    /// A key without extensions.
    pub fn new(key_id: KeyId, key: SecretBytes) -> Self {
        Self {
            key_id,
            key,
            key_id_extension: None,
            key_extension: None,
        }
    }

    /// A key with the `key_ID_extension` and `key_extension` objects of the key container.
    pub fn with_extensions(
        key_id: KeyId,
        key: SecretBytes,
        key_id_extension: Option<Map<String, Value>>,
        key_extension: Option<Map<String, Value>>,
    ) -> Self {
        Self {
            key_id,
            key,
            key_id_extension,
            key_extension,
        }
    }

    /// Hands the key on: its ID and the secret bytes. The `QkdKey` is gone afterwards.
    pub fn into_secret(self) -> (KeyId, SecretBytes) {
        (self.key_id, self.key)
    }

    /// The key ID (not secret).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The key length in bits (ETSI sizes are in bits).
    pub fn size_bits(&self) -> usize {
        self.key.len() * 8
    }

    /// The key bytes. Callers must not copy them into non-zeroizing storage.
    pub fn dangerous_key(&self) -> &[u8] {
        self.key.expose()
    }

    /// The secret, borrowed.
    pub fn secret(&self) -> &SecretBytes {
        &self.key
    }

    /// The KME's `key_ID_extension` object, passed through unchanged.
    pub fn key_id_extension(&self) -> Option<&Map<String, Value>> {
        self.key_id_extension.as_ref()
    }

    /// The KME's `key_extension` object, passed through unchanged.
    pub fn key_extension(&self) -> Option<&Map<String, Value>> {
        self.key_extension.as_ref()
    }
}

impl fmt::Debug for QkdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QkdKey")
            .field("key_id", &self.key_id)
            .field("size_bits", &self.size_bits())
            .finish_non_exhaustive()
    }
}

/// At most this much of a bad key ID is quoted back in an error.
fn truncated(s: &str) -> String {
    s.chars().take(64).collect()
}

const HYPHENATED_LEN: usize = 36;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_parses_hyphenated_only() {
        let id: KeyId = "550E8400-E29B-41D4-A716-446655440000".parse().unwrap();
        assert_eq!(id.to_string(), "550e8400-e29b-41d4-a716-446655440000");
        assert!("550e8400e29b41d4a716446655440000".parse::<KeyId>().is_err());
        assert!(
            "{550e8400-e29b-41d4-a716-446655440000}"
                .parse::<KeyId>()
                .is_err()
        );
        assert!("not-a-uuid".parse::<KeyId>().is_err());
    }

    #[test]
    fn random_ids_are_v4_and_distinct() {
        let a = KeyId::random();
        let b = KeyId::random();
        assert_ne!(a, b);
        assert_eq!(a.as_uuid().get_version_num(), 4);
    }

    #[test]
    fn debug_never_prints_key_bytes() {
        let key = QkdKey::new(KeyId::random(), SecretBytes::new(vec![0xAB; 32]));
        let shown = format!("{key:?}");
        assert!(shown.contains("size_bits: 256"));
        assert!(!shown.to_lowercase().contains("ab, ab") && !shown.contains("171"));
    }
}
