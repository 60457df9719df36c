//! Signatures in pure Rust: `ed25519-dalek`, `p256`/`p384` ECDSA and `rsa`.
//!
//! RSA keys must be 2048 to 4096 bits (the `rsa` crate's limit). As in the default provider, an
//! RSA key does not sign with SHA-1 (verification only). RSA signing uses blinding
//! (`sign_with_rng`); the `rsa` crate is not constant-time (RUSTSEC-2023-0071), so the default
//! provider is the one to use where an attacker can time many signatures.

use ed25519_dalek::Verifier as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::sign::{
    KeyType, SignatureAlgorithm, SignatureError, SignatureScheme, SigningKey, parse_spki,
    pkcs8_key_type, signing_schemes,
};

/// The verifier for `scheme`.
/// Loads an unencrypted PKCS#8 private key.
pub(super) fn signing_key(pkcs8: &[u8]) -> Result<Box<dyn SigningKey>, SignatureError> {
    let key_type = pkcs8_key_type(pkcs8)?;
    let (key, public) = match key_type {
        KeyType::Ed25519 => {
            let k = ed25519_dalek::SigningKey::from_pkcs8_der(pkcs8).map_err(invalid_key)?;
            let public = k.verifying_key().to_bytes().to_vec();
            (Key::Ed25519(k), public)
        }
        KeyType::EcdsaP256 => {
            let k = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8).map_err(invalid_key)?;
            let public = k
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec();
            (Key::P256(k), public)
        }
        KeyType::EcdsaP384 => {
            let k = p384::ecdsa::SigningKey::from_pkcs8_der(pkcs8).map_err(invalid_key)?;
            let public = k
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec();
            (Key::P384(k), public)
        }
        KeyType::Rsa => {
            let k = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(invalid_key)?;
            if k.size() < RSA_MIN_BYTES {
                return Err(SignatureError::InvalidKey);
            }
            let public = k
                .to_public_key()
                .to_pkcs1_der()
                .map_err(|_| SignatureError::Internal)?
                .as_bytes()
                .to_vec();
            (Key::Rsa(Box::new(k)), public)
        }
    };
    Ok(Box::new(RustCryptoSigningKey {
        key_type,
        key,
        public,
    }))
}

struct Verifier(SignatureScheme);

crate::sign::verifier_table!(Verifier);

impl SignatureAlgorithm for Verifier {
    fn scheme(&self) -> SignatureScheme {
        self.0
    }

    fn verify(&self, spki: &[u8], message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let (key_type, key) = parse_spki(spki)?;
        if !self.0.fits(key_type) {
            return Err(SignatureError::WrongKeyType);
        }
        match key_type {
            KeyType::Ed25519 => {
                let bytes: &[u8; 32] = key.try_into().map_err(|_| SignatureError::InvalidKey)?;
                let vk = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(invalid_key)?;
                let s = ed25519_dalek::Signature::from_slice(signature).map_err(invalid_key)?;
                vk.verify(message, &s).map_err(bad_signature)
            }
            KeyType::EcdsaP256 => {
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(invalid_key)?;
                let s = p256::ecdsa::Signature::from_der(signature).map_err(invalid_key)?;
                vk.verify_prehash(&digest(self.0, message), &s)
                    .map_err(bad_signature)
            }
            KeyType::EcdsaP384 => {
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(invalid_key)?;
                let s = p384::ecdsa::Signature::from_der(signature).map_err(invalid_key)?;
                vk.verify_prehash(&digest(self.0, message), &s)
                    .map_err(bad_signature)
            }
            KeyType::Rsa => {
                let pk = RsaPublicKey::from_pkcs1_der(key).map_err(invalid_key)?;
                if pk.size() < RSA_MIN_BYTES {
                    return Err(SignatureError::InvalidKey);
                }
                let hashed = digest(self.0, message);
                let result = match rsa_padding(self.0) {
                    Some(Padding::Pkcs1(p)) => pk.verify(p, &hashed, signature),
                    Some(Padding::Pss(p)) => pk.verify(p, &hashed, signature),
                    None => return Err(SignatureError::WrongKeyType),
                };
                result.map_err(bad_signature)
            }
        }
    }
}

enum Key {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<RsaPrivateKey>),
}

struct RustCryptoSigningKey {
    key_type: KeyType,
    key: Key,
    public: Vec<u8>,
}

impl SigningKey for RustCryptoSigningKey {
    fn key_type(&self) -> KeyType {
        self.key_type
    }

    fn schemes(&self) -> &'static [SignatureScheme] {
        signing_schemes(self.key_type)
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        if !scheme.fits(self.key_type) {
            return Err(SignatureError::WrongKeyType);
        }
        if !self.schemes().contains(&scheme) {
            return Err(SignatureError::Unsupported);
        }
        match &self.key {
            Key::Ed25519(k) => Ok(k.sign(message).to_bytes().to_vec()),
            Key::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                Ok(s.to_der().as_bytes().to_vec())
            }
            Key::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(message);
                Ok(s.to_der().as_bytes().to_vec())
            }
            Key::Rsa(k) => {
                let hashed = digest(scheme, message);
                let signed = match rsa_padding(scheme).ok_or(SignatureError::Unsupported)? {
                    Padding::Pkcs1(p) => k.sign_with_rng(&mut OsRng, p, &hashed),
                    Padding::Pss(p) => k.sign_with_rng(&mut OsRng, p, &hashed),
                };
                signed.map_err(|_| SignatureError::Internal)
            }
        }
    }
}

enum Padding {
    Pkcs1(Pkcs1v15Sign),
    Pss(Pss),
}

fn rsa_padding(scheme: SignatureScheme) -> Option<Padding> {
    Some(match scheme {
        SignatureScheme::RsaPkcs1Sha1 => Padding::Pkcs1(Pkcs1v15Sign::new::<sha1::Sha1>()),
        SignatureScheme::RsaPkcs1Sha256 => Padding::Pkcs1(Pkcs1v15Sign::new::<Sha256>()),
        SignatureScheme::RsaPkcs1Sha384 => Padding::Pkcs1(Pkcs1v15Sign::new::<Sha384>()),
        SignatureScheme::RsaPkcs1Sha512 => Padding::Pkcs1(Pkcs1v15Sign::new::<Sha512>()),
        SignatureScheme::RsaPssSha256 => Padding::Pss(Pss::new::<Sha256>()),
        SignatureScheme::RsaPssSha384 => Padding::Pss(Pss::new::<Sha384>()),
        SignatureScheme::RsaPssSha512 => Padding::Pss(Pss::new::<Sha512>()),
        _ => return None,
    })
}

/// The message digest a scheme signs (empty for Ed25519, which does not pre-hash).
fn digest(scheme: SignatureScheme, message: &[u8]) -> Vec<u8> {
    use SignatureScheme as S;
    match scheme {
        S::RsaPkcs1Sha1 => sha1::Sha1::digest(message).to_vec(),
        S::EcdsaSha256 | S::RsaPkcs1Sha256 | S::RsaPssSha256 => Sha256::digest(message).to_vec(),
        S::EcdsaSha384 | S::RsaPkcs1Sha384 | S::RsaPssSha384 => Sha384::digest(message).to_vec(),
        S::EcdsaSha512 | S::RsaPkcs1Sha512 | S::RsaPssSha512 => Sha512::digest(message).to_vec(),
        S::Ed25519 => Vec::new(),
    }
}

fn invalid_key<E>(_: E) -> SignatureError {
    SignatureError::InvalidKey
}

fn bad_signature<E>(_: E) -> SignatureError {
    SignatureError::BadSignature
}

/// RSA keys below 2048 bits are refused, as in the default provider.
const RSA_MIN_BYTES: usize = 256;
