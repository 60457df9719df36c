//! What a provider hands the test suite: the provider itself, plus hooks that fix private keys
//! and randomness where its libraries allow, for the known-answer tests.

use crate::{ActiveKeyExchange, CryptoProvider, KeError, KeGroup, SecretBytes};

/// One provider under test.
#[allow(clippy::type_complexity)] // Plain function pointers; the house style has no type aliases.
pub(crate) struct Harness {
    /// The provider.
    pub(crate) provider: &'static dyn CryptoProvider,
    /// An initiator with a fixed private key: raw X25519 scalar, big-endian ECP scalar or MODP
    /// exponent. `None` for other groups or a key the library refuses.
    pub(crate) dh_from_private: fn(KeGroup, &[u8]) -> Option<Box<dyn ActiveKeyExchange>>,
    /// An ML-KEM initiator from a FIPS 203 expanded decapsulation key.
    pub(crate) kem_from_expanded_dk: fn(KeGroup, &[u8]) -> Option<Box<dyn ActiveKeyExchange>>,
    /// An ML-KEM initiator from the seed `d | z`, where the library has deterministic key
    /// generation.
    pub(crate) kem_from_seed: Option<fn(KeGroup, &[u8; 64]) -> Option<Box<dyn ActiveKeyExchange>>>,
    /// ML-KEM encapsulation with a fixed message `m`, where the library allows it.
    pub(crate) kem_encapsulate_deterministic:
        Option<fn(KeGroup, &[u8], &[u8; 32]) -> Result<(Vec<u8>, SecretBytes), KeError>>,
}

/// Parses a vector file of `name = hex` lines (`#` starts a comment line).
pub(crate) fn vector_file(text: &str) -> Vec<(&str, Vec<u8>)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (name, value) = line.split_once('=').expect("vector line has '='");
            (
                name.trim(),
                hex::decode(value.trim()).expect("vector value is hex"),
            )
        })
        .collect()
}

/// The value named `name` in a parsed vector file.
pub(crate) fn field<'a>(fields: &'a [(&str, Vec<u8>)], name: &str) -> &'a [u8] {
    fields
        .iter()
        .find(|(field, _)| *field == name)
        .map(|(_, value)| value.as_slice())
        .unwrap_or_else(|| panic!("vector field {name} missing"))
}

/// Decodes a hex literal.
pub(crate) fn h(hex: &str) -> Vec<u8> {
    hex::decode(hex.split_whitespace().collect::<String>()).expect("valid hex literal")
}
