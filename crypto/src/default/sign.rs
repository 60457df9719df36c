//! Signatures with aws-lc-rs: Ed25519, ECDSA on P-256 and P-384, RSA PKCS#1 v1.5 and PSS.
//!
//! RSA keys must be 2048 to 8192 bits. aws-lc-rs does not sign with SHA-1, so an RSA key here
//! never offers [`SignatureScheme::RsaPkcs1Sha1`]; verification of it is kept for old peers.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaEncoding, RsaKeyPair, UnparsedPublicKey,
    VerificationAlgorithm,
};

use crate::sign::{
    KeyType, SignatureAlgorithm, SignatureError, SignatureScheme, SigningKey, parse_spki,
    pkcs8_key_type, signing_schemes,
};

/// The verifier for `scheme`.
/// Loads an unencrypted PKCS#8 private key.
pub(super) fn signing_key(pkcs8: &[u8]) -> Result<Box<dyn SigningKey>, SignatureError> {
    let bad = |_| SignatureError::InvalidKey;
    let key_type = pkcs8_key_type(pkcs8)?;
    let key = match key_type {
        KeyType::Ed25519 => {
            Key::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(bad)?)
        }
        KeyType::EcdsaP256 => Key::Ecdsa(
            EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8).map_err(bad)?,
        ),
        KeyType::EcdsaP384 => Key::Ecdsa(
            EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, pkcs8).map_err(bad)?,
        ),
        KeyType::Rsa => Key::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?),
    };
    Ok(Box::new(AwsLcSigningKey { key_type, key }))
}

struct Verifier(SignatureScheme);

crate::sign::verifier_table!(Verifier);

impl SignatureAlgorithm for Verifier {
    fn scheme(&self) -> SignatureScheme {
        self.0
    }

    fn verify(&self, spki: &[u8], message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        use SignatureScheme as S;
        let (key_type, key) = parse_spki(spki)?;
        let alg: &'static dyn VerificationAlgorithm = match (self.0, key_type) {
            (S::Ed25519, KeyType::Ed25519) => &sig::ED25519,
            (S::EcdsaSha256, KeyType::EcdsaP256) => &sig::ECDSA_P256_SHA256_ASN1,
            (S::EcdsaSha384, KeyType::EcdsaP256) => &sig::ECDSA_P256_SHA384_ASN1,
            (S::EcdsaSha512, KeyType::EcdsaP256) => &sig::ECDSA_P256_SHA512_ASN1,
            (S::EcdsaSha256, KeyType::EcdsaP384) => &sig::ECDSA_P384_SHA256_ASN1,
            (S::EcdsaSha384, KeyType::EcdsaP384) => &sig::ECDSA_P384_SHA384_ASN1,
            (S::EcdsaSha512, KeyType::EcdsaP384) => &sig::ECDSA_P384_SHA512_ASN1,
            (S::RsaPkcs1Sha1, KeyType::Rsa) => &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            (S::RsaPkcs1Sha256, KeyType::Rsa) => &sig::RSA_PKCS1_2048_8192_SHA256,
            (S::RsaPkcs1Sha384, KeyType::Rsa) => &sig::RSA_PKCS1_2048_8192_SHA384,
            (S::RsaPkcs1Sha512, KeyType::Rsa) => &sig::RSA_PKCS1_2048_8192_SHA512,
            (S::RsaPssSha256, KeyType::Rsa) => &sig::RSA_PSS_2048_8192_SHA256,
            (S::RsaPssSha384, KeyType::Rsa) => &sig::RSA_PSS_2048_8192_SHA384,
            (S::RsaPssSha512, KeyType::Rsa) => &sig::RSA_PSS_2048_8192_SHA512,
            _ => return Err(SignatureError::WrongKeyType),
        };
        UnparsedPublicKey::new(alg, key)
            .verify(message, signature)
            .map_err(|_| SignatureError::BadSignature)
    }
}

enum Key {
    Ed25519(Ed25519KeyPair),
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

struct AwsLcSigningKey {
    key_type: KeyType,
    key: Key,
}

impl SigningKey for AwsLcSigningKey {
    fn key_type(&self) -> KeyType {
        self.key_type
    }

    fn schemes(&self) -> &'static [SignatureScheme] {
        signing_schemes(self.key_type)
    }

    fn public_key(&self) -> &[u8] {
        match &self.key {
            Key::Ed25519(k) => k.public_key().as_ref(),
            Key::Ecdsa(k) => k.public_key().as_ref(),
            Key::Rsa(k) => k.public_key().as_ref(),
        }
    }

    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        if !scheme.fits(self.key_type) {
            return Err(SignatureError::WrongKeyType);
        }
        if !self.schemes().contains(&scheme) {
            return Err(SignatureError::Unsupported);
        }
        let rng = SystemRandom::new();
        match &self.key {
            Key::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            Key::Ecdsa(k) => k
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignatureError::Internal),
            Key::Rsa(k) => {
                let padding = rsa_padding(scheme).ok_or(SignatureError::Unsupported)?;
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(padding, &rng, message, &mut out)
                    .map_err(|_| SignatureError::Internal)?;
                Ok(out)
            }
        }
    }
}

fn rsa_padding(scheme: SignatureScheme) -> Option<&'static dyn RsaEncoding> {
    Some(match scheme {
        SignatureScheme::RsaPkcs1Sha256 => &sig::RSA_PKCS1_SHA256,
        SignatureScheme::RsaPkcs1Sha384 => &sig::RSA_PKCS1_SHA384,
        SignatureScheme::RsaPkcs1Sha512 => &sig::RSA_PKCS1_SHA512,
        SignatureScheme::RsaPssSha256 => &sig::RSA_PSS_SHA256,
        SignatureScheme::RsaPssSha384 => &sig::RSA_PSS_SHA384,
        SignatureScheme::RsaPssSha512 => &sig::RSA_PSS_SHA512,
        _ => return None,
    })
}
