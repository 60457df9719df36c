//! The default provider: the fastest library measured on the target machines for each primitive
//! (`/work/shared/docs/performance.md`).
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
use crate::{
    Aead, AeadAlgorithm, BlockCipher, CbcAlgorithm, CryptoError, CryptoProvider, Integ,
    IntegAlgorithm, KeGroup, KeyExchange, Prf, PrfAlgorithm, SignatureAlgorithm, SignatureError,
    SignatureScheme, SigningKey, cbc_aes, hmac_sha2,
};

/// The provider type behind [`default_provider`].
struct DefaultProvider;

static PROVIDER: DefaultProvider = DefaultProvider;

static MODP_2048: Modp2048 = Modp2048::new(fill_random);

/// The default provider: ring AEADs, aws-lc-rs ML-KEM and (EC)DH, RustCrypto HMAC and CBC.
pub fn default_provider() -> &'static dyn CryptoProvider {
    &PROVIDER
}

/// Fills `out` from the aws-lc-rs random generator.
fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    aws_lc_rs::rand::fill(out).map_err(|_| CryptoError::Internal)
}

impl CryptoProvider for DefaultProvider {
    fn name(&self) -> &'static str {
        "default (ring, aws-lc-rs)"
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

/// Hooks for the known-answer tests: fixed private keys where the libraries allow them.
#[cfg(test)]
pub(crate) static TEST_HARNESS: crate::tests::harness::Harness = crate::tests::harness::Harness {
    provider: &PROVIDER,
    dh_from_private: dh::from_private,
    kem_from_expanded_dk: kem::from_expanded_dk,
    kem_from_seed: None,
    kem_encapsulate_deterministic: None,
};
