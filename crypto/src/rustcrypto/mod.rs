//! The pure-Rust provider (RustCrypto and dalek crates, no C code).
//!
//! - AEADs: `aes-gcm`, `chacha20poly1305`;
//! - ML-KEM: `ml-kem` 0.3 (0.2 looks up secret-indexed tables in its CBD sampler, fixed in 0.3.3);
//! - X25519: `x25519-dalek`; ECP-256/384: `p256`, `p384`;
//! - signatures: `ed25519-dalek`, `p256`/`p384` ECDSA, `rsa`;
//! - HMAC, AES-CBC and MODP-2048: the code shared with the default provider;
//! - randomness: the operating system (`getrandom`).

mod aead;
mod dh;
mod kem;
mod sign;

use crate::modp::Modp2048;
use crate::table::TableProvider;
use crate::{CryptoError, CryptoProvider};

static PROVIDER: TableProvider = TableProvider {
    name: "rustcrypto",
    fill_random,
    modp_2048: &MODP_2048,
    aead: aead::aead,
    dh: dh::key_exchange,
    kem: kem::key_exchange,
    signature: sign::algorithm,
    signing_key: sign::signing_key,
};

static MODP_2048: Modp2048 = Modp2048::new(fill_random);

/// The pure-Rust provider.
pub fn rustcrypto_provider() -> &'static dyn CryptoProvider {
    &PROVIDER
}

/// Fills `out` from the operating system's random source.
fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(out).map_err(|_| CryptoError::Internal)
}

/// Hooks for the known-answer tests: fixed private keys and randomness.
#[cfg(test)]
pub(crate) static TEST_HARNESS: crate::tests::harness::Harness = crate::tests::harness::Harness {
    provider: &PROVIDER,
    dh_from_private: dh::from_private,
    kem_from_expanded_dk: kem::from_expanded_dk,
    kem_from_seed: Some(kem::from_seed),
    kem_encapsulate_deterministic: Some(kem::encapsulate_deterministic),
};
