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
use crate::{
    Aead, AeadAlgorithm, BlockCipher, CbcAlgorithm, CryptoError, CryptoProvider, Integ,
    IntegAlgorithm, KeGroup, KeyExchange, Prf, PrfAlgorithm, SignatureAlgorithm, SignatureError,
    SignatureScheme, SigningKey, cbc_aes, hmac_sha2,
};

/// The provider type behind [`rustcrypto_provider`].
struct RustCryptoProvider;

static PROVIDER: RustCryptoProvider = RustCryptoProvider;

static MODP_2048: Modp2048 = Modp2048::new(fill_random);

/// The pure-Rust provider.
pub fn rustcrypto_provider() -> &'static dyn CryptoProvider {
    &PROVIDER
}

/// Fills `out` from the operating system's random source.
fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(out).map_err(|_| CryptoError::Internal)
}

impl CryptoProvider for RustCryptoProvider {
    fn name(&self) -> &'static str {
        "rustcrypto"
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        fill_random(out)
    }

    fn prf(&self, alg: PrfAlgorithm) -> Option<&'static dyn Prf> {
        hmac_sha2::prf(alg)
    }

    fn aead(&self, alg: AeadAlgorithm) -> Option<&'static dyn Aead> {
        aead::aead(alg)
    }

    fn cbc(&self, alg: CbcAlgorithm) -> Option<&'static dyn BlockCipher> {
        cbc_aes::cbc(alg)
    }

    fn integ(&self, alg: IntegAlgorithm) -> Option<&'static dyn Integ> {
        hmac_sha2::integ(alg)
    }

    fn key_exchange(&self, group: KeGroup) -> Option<&'static dyn KeyExchange> {
        match group {
            KeGroup::Modp2048 => Some(&MODP_2048),
            KeGroup::Ecp256 | KeGroup::Ecp384 | KeGroup::X25519 => dh::key_exchange(group),
            KeGroup::MlKem512 | KeGroup::MlKem768 | KeGroup::MlKem1024 => kem::key_exchange(group),
        }
    }

    fn signature(&self, scheme: SignatureScheme) -> Option<&'static dyn SignatureAlgorithm> {
        sign::algorithm(scheme)
    }

    fn signing_key(&self, pkcs8: &[u8]) -> Result<Box<dyn SigningKey>, SignatureError> {
        sign::signing_key(pkcs8)
    }
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
