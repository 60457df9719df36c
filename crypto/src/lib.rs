//! Crypto provider trait shared by the IKEv2 engine and the ESP datapath.
//!
//! Every algorithm sits behind a trait object handed out by a [`CryptoProvider`], so the engine
//! and the datapath never name a library. Two providers exist:
//!
//! - [`default_provider`] (feature `default-provider`): aws-lc-rs for ML-KEM, X25519, ECDH and
//!   signatures, ring for the AEADs, chosen from measurements on the target machines;
//! - [`rustcrypto_provider`] (feature `rustcrypto`): pure Rust, no C code.
//!
//! Secrets cross this API only as [`SecretBytes`] (zeroized, no `Clone`, no `Debug`).

mod secret;
// Parsing helpers in `sign` serve the providers; without both compiled in, some go unused.
#[cfg_attr(
    not(all(feature = "default-provider", feature = "rustcrypto")),
    allow(dead_code)
)]
mod sign;

#[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
mod cbc_aes;
#[cfg(feature = "default-provider")]
mod default;
#[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
mod hmac_algorithms;
#[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
mod ke_wire;
#[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
mod modp;
#[cfg(feature = "rustcrypto")]
mod rustcrypto;
#[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
mod table;
#[cfg(all(test, any(feature = "default-provider", feature = "rustcrypto")))]
mod tests;

#[cfg(feature = "default-provider")]
pub use default::default_provider;
#[cfg(feature = "rustcrypto")]
pub use rustcrypto::rustcrypto_provider;
pub use secret::{SecretBytes, ct_eq};
pub use sign::{KeyType, SignatureAlgorithm, SignatureError, SignatureScheme, SigningKey};

/// Length of the explicit IV that IKEv2 SK payloads and ESP carry for the AEADs (RFC 4106 §3.1,
/// RFC 7634 §2).
pub const AEAD_IV_LEN: usize = 8;
/// Length of the ICV of every AEAD here (the "16" in AES-GCM-16).
pub const AEAD_TAG_LEN: usize = 16;
/// Length of the salt that follows the cipher key in the key material (RFC 4106 §8.1,
/// RFC 5282 §7.1, RFC 7634 §2).
pub const AEAD_SALT_LEN: usize = 4;

/// A source of every algorithm the engine and datapath use.
pub trait CryptoProvider: Send + Sync + 'static {
    /// Short name for logs and benchmark labels.
    fn name(&self) -> &'static str;
    /// Fills `out` from a cryptographically secure random source.
    ///
    /// # Errors
    /// When the system RNG fails.
    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError>;
    /// A pseudo-random function, if supported.
    fn prf(&self, alg: PrfAlgorithm) -> Option<&'static dyn Prf>;
    /// An AEAD in IPsec framing (salt in the key material, 8-octet explicit IV).
    fn aead(&self, alg: AeadAlgorithm) -> Option<&'static dyn Aead>;
    /// A CBC block cipher (for peers that do not offer an AEAD).
    fn cbc(&self, alg: CbcAlgorithm) -> Option<&'static dyn BlockCipher>;
    /// A truncated-HMAC integrity algorithm (paired with a CBC cipher).
    fn integ(&self, alg: IntegAlgorithm) -> Option<&'static dyn Integ>;
    /// A key exchange method (Diffie-Hellman or KEM).
    fn key_exchange(&self, group: KeGroup) -> Option<&'static dyn KeyExchange>;
    /// A signature scheme as a verifier, if supported (RFC 7427 authentication and X.509 chains).
    fn signature(&self, scheme: SignatureScheme) -> Option<&'static dyn SignatureAlgorithm> {
        let _ = scheme;
        None
    }
    /// Loads a private key from an unencrypted PKCS#8 DER document (RFC 5208 / RFC 5958).
    ///
    /// # Errors
    /// [`SignatureError::InvalidKey`] for a malformed or unsupported key;
    /// [`SignatureError::Unsupported`] when the provider does not sign at all.
    fn signing_key(&self, pkcs8: &[u8]) -> Result<Box<dyn SigningKey>, SignatureError> {
        let _ = pkcs8;
        Err(SignatureError::Unsupported)
    }
}

/// PRFs (RFC 7296 §3.3.2 transform type 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrfAlgorithm {
    /// PRF_HMAC_SHA1 (RFC 2104): only for legacy peers that offer nothing better (free5GC's
    /// UE), and only when a connection's proposals name it.
    HmacSha1,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

/// AEADs with a 16-octet ICV and 8-octet explicit IV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AeadAlgorithm {
    Aes128Gcm16,
    Aes256Gcm16,
    ChaCha20Poly1305,
}

/// CBC ciphers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CbcAlgorithm {
    Aes128Cbc,
    Aes256Cbc,
}

/// Truncated HMAC integrity algorithms (RFC 4868).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegAlgorithm {
    /// AUTH_HMAC_SHA1_96 (RFC 2404): legacy peers only, when configured.
    HmacSha1_96,
    HmacSha256_128,
    HmacSha384_192,
    HmacSha512_256,
}

/// Key exchange methods (the "Key Exchange Method" transform registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeGroup {
    Modp2048,
    Ecp256,
    Ecp384,
    X25519,
    MlKem512,
    MlKem768,
    MlKem1024,
}

impl KeGroup {
    /// Whether this is a KEM (ML-KEM), where the two sides send different kinds of data.
    pub fn is_kem(self) -> bool {
        matches!(self, Self::MlKem512 | Self::MlKem768 | Self::MlKem1024)
    }
}

/// A PRF algorithm; keys are set up once and used many times (prf+ iterations).
pub trait Prf: Send + Sync {
    /// Which algorithm this is.
    fn algorithm(&self) -> PrfAlgorithm;
    /// Output length in bytes, also the preferred key length (RFC 7296 §2.13).
    fn output_len(&self) -> usize;
    /// A keyed instance. Any key length is accepted (HMAC).
    fn key(&self, key: &[u8]) -> Box<dyn PrfKey>;
}

/// A keyed PRF.
pub trait PrfKey: Send + Sync {
    /// Writes `prf(key, data[0] | data[1] | …)` into `out`, whose length is the output length.
    fn compute(&self, data: &[&[u8]], out: &mut [u8]);
}

/// An AEAD algorithm in IPsec framing.
pub trait Aead: Send + Sync {
    /// Which algorithm this is.
    fn algorithm(&self) -> AeadAlgorithm;
    /// Length of the key material: cipher key plus the 4-octet salt.
    fn keymat_len(&self) -> usize;
    /// A key from `keymat` (cipher key followed by the salt).
    ///
    /// # Errors
    /// When `keymat` has the wrong length.
    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError>;
}

/// A keyed AEAD. The nonce is `salt | iv` (12 octets).
pub trait AeadKey: Send + Sync {
    /// Encrypts `data` in place and returns the ICV.
    ///
    /// # Errors
    /// Only on an internal library failure.
    fn seal_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError>;
    /// Verifies `tag` and decrypts `data` in place.
    ///
    /// # Errors
    /// [`CryptoError::Authentication`] when the ICV does not verify; `data` is then garbage.
    fn open_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError>;
}

/// A CBC block cipher.
pub trait BlockCipher: Send + Sync {
    /// Which algorithm this is.
    fn algorithm(&self) -> CbcAlgorithm;
    /// Key length in bytes.
    fn key_len(&self) -> usize;
    /// Block (and IV) length in bytes.
    fn block_len(&self) -> usize;
    /// A keyed instance.
    ///
    /// # Errors
    /// When `key` has the wrong length.
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn BlockCipherKey>, CryptoError>;
}

/// A keyed CBC cipher. `data` must be a whole number of blocks (the caller pads).
pub trait BlockCipherKey: Send + Sync {
    /// Encrypts in place.
    ///
    /// # Errors
    /// When `data` is not block-aligned or `iv` has the wrong length.
    fn encrypt_in_place(&self, iv: &[u8], data: &mut [u8]) -> Result<(), CryptoError>;
    /// Decrypts in place.
    ///
    /// # Errors
    /// When `data` is not block-aligned or `iv` has the wrong length.
    fn decrypt_in_place(&self, iv: &[u8], data: &mut [u8]) -> Result<(), CryptoError>;
}

/// A truncated-HMAC integrity algorithm.
pub trait Integ: Send + Sync {
    /// Which algorithm this is.
    fn algorithm(&self) -> IntegAlgorithm;
    /// Key length in bytes.
    fn key_len(&self) -> usize;
    /// Truncated tag length in bytes.
    fn tag_len(&self) -> usize;
    /// A keyed instance.
    ///
    /// # Errors
    /// When `key` has the wrong length.
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn IntegKey>, CryptoError>;
}

/// A keyed integrity algorithm.
pub trait IntegKey: Send + Sync {
    /// Writes the truncated tag over `data[0] | data[1] | …` into `tag` (length `tag_len`).
    fn sign(&self, data: &[&[u8]], tag: &mut [u8]);
    /// Checks a tag in constant time.
    fn verify(&self, data: &[&[u8]], tag: &[u8]) -> bool;
}

/// A key exchange method: Diffie-Hellman or a KEM, behind one shape.
///
/// The initiator calls [`KeyExchange::start`], sends [`ActiveKeyExchange::public`] and completes
/// with the responder's data. The responder calls [`KeyExchange::respond`] on the initiator's data
/// and sends back what it returns (its DH public value, or the KEM ciphertext).
pub trait KeyExchange: Send + Sync {
    /// Which method this is.
    fn group(&self) -> KeGroup;
    /// Initiator side: a fresh key pair (DH) or encapsulation key (KEM).
    ///
    /// # Errors
    /// On RNG or library failure.
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, KeError>;
    /// Responder side: our KE data and the shared secret.
    ///
    /// # Errors
    /// [`KeError::InvalidLength`] or [`KeError::InvalidPublic`] for bad peer data (the engine
    /// answers INVALID_SYNTAX).
    fn respond(&self, peer: &[u8]) -> Result<(Vec<u8>, SecretBytes), KeError>;
}

/// The initiator's half of a key exchange in progress. Dropping it zeroizes the private key.
pub trait ActiveKeyExchange: Send {
    /// Which method this is.
    fn group(&self) -> KeGroup;
    /// Our KE data: the DH public value or the KEM encapsulation key.
    fn public(&self) -> &[u8];
    /// Combines with the responder's data into the shared secret.
    ///
    /// # Errors
    /// [`KeError::InvalidLength`] or [`KeError::InvalidPublic`] for bad peer data.
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SecretBytes, KeError>;
}

/// Why a key exchange failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeError {
    /// The peer's data has the wrong length for the method.
    InvalidLength,
    /// The peer's data is the right length but not a valid value (FIPS 203 §7.2 modulus check,
    /// a point not on the curve, an all-zero X25519 result, a DH value out of range).
    InvalidPublic,
    /// RNG or library failure.
    Internal,
}

/// Failures of the symmetric primitives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// An ICV did not verify.
    Authentication,
    /// A key, IV or buffer has the wrong length.
    InvalidLength,
    /// RNG or library failure.
    Internal,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Authentication => "integrity check failed",
            Self::InvalidLength => "invalid length",
            Self::Internal => "crypto library failure",
        })
    }
}

impl std::error::Error for CryptoError {}

impl std::fmt::Display for KeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::InvalidLength => "key exchange data has the wrong length",
            Self::InvalidPublic => "key exchange data is not a valid value",
            Self::Internal => "key exchange failed internally",
        })
    }
}

impl std::error::Error for KeError {}
