//! The default provider: the fastest library measured on the target machines for each primitive
//! (the measurements are in `docs/performance.md`).
//!
//! - AEADs: ring (AES-256-GCM 1.6× faster than aws-lc-rs and 3× faster than RustCrypto here);
//! - ML-KEM, X25519, ECP-256/384: aws-lc-rs;
//! - signatures (Ed25519, ECDSA, RSA PKCS#1 v1.5 and PSS): aws-lc-rs, fastest measured for
//!   Ed25519 and ECDSA;
//! - HMAC PRFs and integrity: RustCrypto `hmac` + `sha2`, fastest here for short inputs;
//! - AES-CBC (legacy peers): RustCrypto `aes` + `cbc`;
//! - MODP-2048: the shared constant-time `crypto-bigint` code;
//! - randomness: aws-lc-rs (the AWS-LC DRBG seeded from the OS).

mod aead;
mod dh;
mod kem;
mod sign;

use crate::modp::Modp2048;
use crate::table::TableProvider;
use crate::{CryptoError, CryptoProvider};

static PROVIDER: TableProvider = TableProvider {
    name: "default (ring, aws-lc-rs)",
    fill_random,
    modp_2048: &MODP_2048,
    aead: aead::aead,
    dh: dh::key_exchange,
    kem: kem::key_exchange,
    signature: sign::algorithm,
    signing_key: sign::signing_key,
};

static MODP_2048: Modp2048 = Modp2048::new(fill_random);

/// The default provider: ring AEADs, aws-lc-rs ML-KEM and (EC)DH, RustCrypto HMAC and CBC.
pub fn default_provider() -> &'static dyn CryptoProvider {
    &PROVIDER
}

/// Fills `out` from the aws-lc-rs random generator.
fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    aws_lc_rs::rand::fill(out).map_err(|_| CryptoError::Internal)
}

/// Hooks for the known-answer tests: fixed private keys where the libraries allow them.
#[cfg(test)]
pub(crate) static TEST_HARNESS: crate::tests::harness::Harness = crate::tests::harness::Harness {
    provider: &PROVIDER,
    dh_from_private: dh::from_private,
    kem_from_expanded_dk: kem::from_expanded_dk,
    kem_from_seed: None,
    kem_encapsulate_deterministic: None,
};
