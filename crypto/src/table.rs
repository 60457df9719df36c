//! A provider as a table of the functions that differ between libraries. HMAC, CBC and
//! MODP-2048 are shared code, so only randomness, AEADs, (EC)DH, KEMs and signatures vary.

use crate::modp::Modp2048;
use crate::{
    Aead, AeadAlgorithm, BlockCipher, CbcAlgorithm, CryptoError, CryptoProvider, Integ,
    IntegAlgorithm, KeGroup, KeyExchange, Prf, PrfAlgorithm, SignatureAlgorithm, SignatureError,
    SignatureScheme, SigningKey, cbc_aes, hmac_algorithms,
};

/// Loads a PKCS#8 private key.
pub(crate) type SigningKeyLoader = fn(&[u8]) -> Result<Box<dyn SigningKey>, SignatureError>;

/// The library-specific parts of a provider.
pub(crate) struct TableProvider {
    pub name: &'static str,
    pub fill_random: fn(&mut [u8]) -> Result<(), CryptoError>,
    pub modp_2048: &'static Modp2048,
    pub aead: fn(AeadAlgorithm) -> Option<&'static dyn Aead>,
    /// X25519 and the NIST curves.
    pub dh: fn(KeGroup) -> Option<&'static dyn KeyExchange>,
    /// ML-KEM.
    pub kem: fn(KeGroup) -> Option<&'static dyn KeyExchange>,
    pub signature: fn(SignatureScheme) -> Option<&'static dyn SignatureAlgorithm>,
    pub signing_key: SigningKeyLoader,
}

impl CryptoProvider for TableProvider {
    fn name(&self) -> &'static str {
        self.name
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        (self.fill_random)(out)
    }

    fn prf(&self, alg: PrfAlgorithm) -> Option<&'static dyn Prf> {
        hmac_algorithms::prf(alg)
    }

    fn aead(&self, alg: AeadAlgorithm) -> Option<&'static dyn Aead> {
        (self.aead)(alg)
    }

    fn cbc(&self, alg: CbcAlgorithm) -> Option<&'static dyn BlockCipher> {
        cbc_aes::cbc(alg)
    }

    fn integ(&self, alg: IntegAlgorithm) -> Option<&'static dyn Integ> {
        hmac_algorithms::integ(alg)
    }

    fn key_exchange(&self, group: KeGroup) -> Option<&'static dyn KeyExchange> {
        match group {
            KeGroup::Modp2048 => Some(self.modp_2048),
            KeGroup::Ecp256 | KeGroup::Ecp384 | KeGroup::X25519 => (self.dh)(group),
            KeGroup::MlKem512 | KeGroup::MlKem768 | KeGroup::MlKem1024 => (self.kem)(group),
        }
    }

    fn signature(&self, scheme: SignatureScheme) -> Option<&'static dyn SignatureAlgorithm> {
        (self.signature)(scheme)
    }

    fn signing_key(&self, pkcs8: &[u8]) -> Result<Box<dyn SigningKey>, SignatureError> {
        (self.signing_key)(pkcs8)
    }
}
