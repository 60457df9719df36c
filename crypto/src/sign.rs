//! Digital signatures for IKEv2 authentication (RFC 7296 §2.15, RFC 7427) and for the links of
//! X.509 certificate chains.
//!
//! A verifier ([`SignatureAlgorithm`]) takes the signer's public key as a DER
//! SubjectPublicKeyInfo, exactly as a certificate carries it; the key type decides the curve or
//! modulus, the [`SignatureScheme`] the padding and hash. A [`SigningKey`] is loaded from an
//! unencrypted PKCS#8 DER document with [`CryptoProvider::signing_key`](crate::CryptoProvider::signing_key).

use std::fmt;

/// How a signature is computed. The key type comes from the public key it is checked with, so
/// ECDSA names only the hash (the curve is the key's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// Ed25519 (RFC 8032) over the whole message, no pre-hash (RFC 8420).
    Ed25519,
    /// ECDSA with SHA-256; the signature is a DER `Ecdsa-Sig-Value` (RFC 7427 §3).
    EcdsaSha256,
    /// ECDSA with SHA-384, DER signature.
    EcdsaSha384,
    /// ECDSA with SHA-512, DER signature.
    EcdsaSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-1: verification only, for RFC 7296 method 1 and old peers.
    RsaPkcs1Sha1,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-octet salt (RFC 7427 Appendix A.4.3).
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-octet salt.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512 and a 64-octet salt.
    RsaPssSha512,
}

impl SignatureScheme {
    /// Every scheme, for tests and capability listings.
    pub const ALL: [Self; 11] = [
        Self::Ed25519,
        Self::EcdsaSha256,
        Self::EcdsaSha384,
        Self::EcdsaSha512,
        Self::RsaPkcs1Sha1,
        Self::RsaPkcs1Sha256,
        Self::RsaPkcs1Sha384,
        Self::RsaPkcs1Sha512,
        Self::RsaPssSha256,
        Self::RsaPssSha384,
        Self::RsaPssSha512,
    ];

    /// Whether a key of type `key` can make or check signatures of this scheme.
    pub fn fits(self, key: KeyType) -> bool {
        match self {
            Self::Ed25519 => key == KeyType::Ed25519,
            Self::EcdsaSha256 | Self::EcdsaSha384 | Self::EcdsaSha512 => {
                matches!(key, KeyType::EcdsaP256 | KeyType::EcdsaP384)
            }
            _ => key == KeyType::Rsa,
        }
    }
}

/// The type of a public or private key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// Ed25519 (id-Ed25519, RFC 8410).
    Ed25519,
    /// ECDSA on NIST P-256 (id-ecPublicKey with prime256v1).
    EcdsaP256,
    /// ECDSA on NIST P-384 (id-ecPublicKey with secp384r1).
    EcdsaP384,
    /// RSA (rsaEncryption, or id-RSASSA-PSS used as a key type).
    Rsa,
}

/// Why a signature operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify.
    BadSignature,
    /// The public or private key could not be parsed, or is of a type or size not supported.
    InvalidKey,
    /// The scheme does not fit the key (for example ECDSA with an RSA key).
    WrongKeyType,
    /// The provider does not implement this scheme for this key.
    Unsupported,
    /// RNG or library failure.
    Internal,
}

/// A signature scheme, as a verifier.
pub trait SignatureAlgorithm: Send + Sync {
    /// Which scheme this is.
    fn scheme(&self) -> SignatureScheme;
    /// Checks `signature` over `message` with the public key in `spki` (DER
    /// SubjectPublicKeyInfo).
    ///
    /// # Errors
    /// [`SignatureError::BadSignature`] when it does not verify; [`SignatureError::InvalidKey`]
    /// or [`SignatureError::WrongKeyType`] when the key cannot be used with this scheme.
    fn verify(&self, spki: &[u8], message: &[u8], signature: &[u8]) -> Result<(), SignatureError>;
}

/// A private key loaded into a provider. Dropping it zeroizes the key; it is neither `Clone` nor
/// `Debug`.
pub trait SigningKey: Send + Sync {
    /// The key's type.
    fn key_type(&self) -> KeyType;
    /// The schemes this key can sign with, most preferred first.
    fn schemes(&self) -> &'static [SignatureScheme];
    /// The public key as it appears in the subjectPublicKey BIT STRING of a certificate: the raw
    /// Ed25519 key, the uncompressed EC point, or the DER RSAPublicKey.
    fn public_key(&self) -> &[u8];
    /// Signs `message` with `scheme`.
    ///
    /// # Errors
    /// [`SignatureError::WrongKeyType`] or [`SignatureError::Unsupported`] when the key cannot
    /// sign with `scheme`; [`SignatureError::Internal`] on a library failure.
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, SignatureError>;
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadSignature => "signature does not verify",
            Self::InvalidKey => "key is malformed or not supported",
            Self::WrongKeyType => "signature scheme does not fit the key",
            Self::Unsupported => "signature scheme not supported by the provider",
            Self::Internal => "signature operation failed internally",
        })
    }
}

impl std::error::Error for SignatureError {}

/// The key type and the subjectPublicKey bits of a DER SubjectPublicKeyInfo.
///
/// # Errors
/// [`SignatureError::InvalidKey`] for malformed DER, trailing octets, or an unknown algorithm
/// or curve.
pub(crate) fn parse_spki(spki: &[u8]) -> Result<(KeyType, &[u8]), SignatureError> {
    let bad = SignatureError::InvalidKey;
    let mut outer = Der::new(spki);
    let mut seq = outer.sequence().ok_or(bad)?;
    outer.finish().ok_or(bad)?;
    let key_type = algorithm_key_type(seq.sequence().ok_or(bad)?).ok_or(bad)?;
    let bits = seq.element(TAG_BIT_STRING).ok_or(bad)?;
    seq.finish().ok_or(bad)?;
    match bits.split_first() {
        Some((0, key)) if !key.is_empty() => Ok((key_type, key)),
        _ => Err(bad),
    }
}

/// The key type of an unencrypted PKCS#8 (RFC 5208 / RFC 5958) private key document.
///
/// # Errors
/// [`SignatureError::InvalidKey`] for malformed DER or an unknown algorithm or curve.
pub(crate) fn pkcs8_key_type(pkcs8: &[u8]) -> Result<KeyType, SignatureError> {
    let bad = SignatureError::InvalidKey;
    let mut outer = Der::new(pkcs8);
    let mut seq = outer.sequence().ok_or(bad)?;
    outer.finish().ok_or(bad)?;
    seq.element(TAG_INTEGER).ok_or(bad)?;
    algorithm_key_type(seq.sequence().ok_or(bad)?).ok_or(bad)
}

/// The key type named by a public-key AlgorithmIdentifier.
fn algorithm_key_type(mut alg: Der<'_>) -> Option<KeyType> {
    let oid = alg.element(TAG_OID)?;
    let key_type = match oid {
        OID_ED25519 => KeyType::Ed25519,
        OID_RSA_ENCRYPTION | OID_RSASSA_PSS => KeyType::Rsa,
        OID_EC_PUBLIC_KEY => match alg.element(TAG_OID)? {
            OID_P256 => KeyType::EcdsaP256,
            OID_P384 => KeyType::EcdsaP384,
            _ => return None,
        },
        _ => return None,
    };
    // Parameters of RSA (NULL, or PSS parameters) are not needed to use the key.
    Some(key_type)
}

/// A minimal reader of definite-length DER, enough for the outer layers of SPKI and PKCS#8.
/// Every length is checked against what is left; nothing here can panic.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    /// The contents of the next element, which must have tag `tag`.
    fn element(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (&t, after_tag) = self.rest.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, mut after_len) = after_tag.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || after_len.len() < n {
                return None;
            }
            let (len_octets, tail) = after_len.split_at(n);
            after_len = tail;
            len_octets
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        if after_len.len() < len {
            return None;
        }
        let (contents, tail) = after_len.split_at(len);
        self.rest = tail;
        Some(contents)
    }

    fn sequence(&mut self) -> Option<Self> {
        self.element(TAG_SEQUENCE).map(Self::new)
    }

    /// `Some` when nothing is left.
    fn finish(&self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// 1.3.101.112 (RFC 8410).
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// 1.2.840.113549.1.1.1.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// 1.2.840.113549.1.1.10 (RFC 4055).
const OID_RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
/// 1.2.840.10045.2.1 (RFC 5480).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.2.840.10045.3.1.7 (prime256v1).
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// 1.3.132.0.34 (secp384r1).
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// The schemes a key of `key_type` signs with, most preferred first.
pub(crate) fn signing_schemes(key_type: KeyType) -> &'static [SignatureScheme] {
    match key_type {
        KeyType::Ed25519 => &[SignatureScheme::Ed25519],
        KeyType::EcdsaP256 => &[SignatureScheme::EcdsaSha256],
        KeyType::EcdsaP384 => &[SignatureScheme::EcdsaSha384],
        KeyType::Rsa => RSA_SCHEMES,
    }
}

/// Schemes an RSA key signs with, most preferred first.
const RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RsaPssSha256,
    SignatureScheme::RsaPssSha384,
    SignatureScheme::RsaPssSha512,
    SignatureScheme::RsaPkcs1Sha256,
    SignatureScheme::RsaPkcs1Sha384,
    SignatureScheme::RsaPkcs1Sha512,
];

/// Declares a provider's verifiers, one `$verifier(scheme)` per verifiable scheme, and the
/// `algorithm` lookup over them.
#[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
macro_rules! verifier_table {
    ($verifier:ident) => {
        static VERIFIERS: [$verifier; 11] = [
            $verifier(SignatureScheme::Ed25519),
            $verifier(SignatureScheme::EcdsaSha256),
            $verifier(SignatureScheme::EcdsaSha384),
            $verifier(SignatureScheme::EcdsaSha512),
            $verifier(SignatureScheme::RsaPkcs1Sha1),
            $verifier(SignatureScheme::RsaPkcs1Sha256),
            $verifier(SignatureScheme::RsaPkcs1Sha384),
            $verifier(SignatureScheme::RsaPkcs1Sha512),
            $verifier(SignatureScheme::RsaPssSha256),
            $verifier(SignatureScheme::RsaPssSha384),
            $verifier(SignatureScheme::RsaPssSha512),
        ];

        pub(super) fn algorithm(
            scheme: SignatureScheme,
        ) -> Option<&'static dyn SignatureAlgorithm> {
            VERIFIERS
                .iter()
                .find(|v| v.0 == scheme)
                .map(|v| v as &'static dyn SignatureAlgorithm)
        }
    };
}
#[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
pub(crate) use verifier_table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_reader_rejects_truncation_and_long_lengths() {
        assert!(parse_spki(&[]).is_err());
        assert!(parse_spki(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse_spki(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_err());
        assert!(parse_spki(&[0x30, 0x03, 0x30, 0x01]).is_err());
        assert!(pkcs8_key_type(&[0x30, 0x00]).is_err());
    }

    #[test]
    fn spki_of_each_key_type() {
        // Ed25519 SPKI from RFC 8410 §10.1.
        let ed = hex::decode("302a300506032b657003210019bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1").expect("hex");
        let (t, key) = parse_spki(&ed).expect("valid SPKI");
        assert_eq!(t, KeyType::Ed25519);
        assert_eq!(key.len(), 32);
        let mut trailing = ed.clone();
        trailing.push(0);
        assert!(parse_spki(&trailing).is_err());
    }

    #[test]
    fn scheme_fits_key_type() {
        assert!(SignatureScheme::EcdsaSha384.fits(KeyType::EcdsaP256));
        assert!(!SignatureScheme::Ed25519.fits(KeyType::Rsa));
        assert!(SignatureScheme::RsaPssSha256.fits(KeyType::Rsa));
        assert!(!SignatureScheme::RsaPkcs1Sha1.fits(KeyType::EcdsaP384));
    }

    /// Round trips and failures for every key type through one provider.
    #[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
    fn sign_and_verify_each_key(
        signer: &dyn crate::CryptoProvider,
        verifier: &dyn crate::CryptoProvider,
    ) {
        let keys = [
            (ED25519_PKCS8, ED25519_SPKI, KeyType::Ed25519),
            (P256_PKCS8, P256_SPKI, KeyType::EcdsaP256),
            (P384_PKCS8, P384_SPKI, KeyType::EcdsaP384),
            (RSA_PKCS8, RSA_SPKI, KeyType::Rsa),
        ];
        let message = b"InitiatorSignedOctets";
        for (pkcs8, spki, key_type) in keys {
            let (pkcs8, spki) = (
                hex::decode(pkcs8).expect("hex"),
                hex::decode(spki).expect("hex"),
            );
            let key = signer
                .signing_key(&pkcs8)
                .unwrap_or_else(|e| panic!("{key_type:?} key loads: {e}"));
            assert_eq!(key.key_type(), key_type);
            assert_eq!(
                parse_spki(&spki).expect("spki").1,
                key.public_key(),
                "{key_type:?} public key"
            );
            assert!(!key.schemes().is_empty());
            for &scheme in key.schemes() {
                let sig = key.sign(scheme, message).expect("signs");
                let v = verifier.signature(scheme).expect("verifier");
                assert_eq!(v.scheme(), scheme);
                assert_eq!(v.verify(&spki, message, &sig), Ok(()), "{scheme:?}");
                assert_eq!(
                    v.verify(&spki, b"other octets", &sig),
                    Err(SignatureError::BadSignature),
                    "{scheme:?}"
                );
                let mut bent = sig.clone();
                if let Some(last) = bent.last_mut() {
                    *last ^= 1;
                }
                assert!(v.verify(&spki, message, &bent).is_err(), "{scheme:?}");
                assert!(v.verify(&spki, message, &[]).is_err(), "{scheme:?}");
                assert!(
                    v.verify(&spki[..spki.len() - 1], message, &sig).is_err(),
                    "{scheme:?}"
                );
            }
            let wrong = SignatureScheme::ALL
                .into_iter()
                .find(|s| !s.fits(key_type))
                .expect("a scheme that does not fit");
            assert_eq!(key.sign(wrong, message), Err(SignatureError::WrongKeyType));
            let v = verifier.signature(wrong).expect("verifier");
            assert_eq!(
                v.verify(&spki, message, &[0; 64]),
                Err(SignatureError::WrongKeyType)
            );
        }
        assert!(signer.signing_key(b"not a key").is_err());
        assert!(signer.signing_key(&[]).is_err());
    }

    /// RFC 7296 method 1 in practice: PKCS#1 v1.5 with SHA-1, verification only.
    #[cfg(any(feature = "default-provider", feature = "rustcrypto"))]
    fn verify_legacy_sha1(p: &dyn crate::CryptoProvider) {
        let spki = hex::decode(RSA_SPKI).expect("hex");
        let sig = hex::decode(RSA_SHA1_SIG).expect("hex");
        let v = p
            .signature(SignatureScheme::RsaPkcs1Sha1)
            .expect("verifier");
        assert_eq!(v.verify(&spki, b"RFC 7296 method 1", &sig), Ok(()));
        assert_eq!(
            v.verify(&spki, b"RFC 7296 method 2", &sig),
            Err(SignatureError::BadSignature)
        );
        let key = p
            .signing_key(&hex::decode(RSA_PKCS8).expect("hex"))
            .expect("key");
        assert!(key.sign(SignatureScheme::RsaPkcs1Sha1, b"x").is_err());
    }

    #[cfg(feature = "default-provider")]
    #[test]
    fn default_provider_signs_and_verifies() {
        sign_and_verify_each_key(crate::default_provider(), crate::default_provider());
        verify_legacy_sha1(crate::default_provider());
    }

    #[cfg(feature = "rustcrypto")]
    #[test]
    fn rustcrypto_provider_signs_and_verifies() {
        sign_and_verify_each_key(crate::rustcrypto_provider(), crate::rustcrypto_provider());
        verify_legacy_sha1(crate::rustcrypto_provider());
    }

    #[cfg(all(feature = "default-provider", feature = "rustcrypto"))]
    #[test]
    fn providers_verify_each_others_signatures() {
        sign_and_verify_each_key(crate::default_provider(), crate::rustcrypto_provider());
        sign_and_verify_each_key(crate::rustcrypto_provider(), crate::default_provider());
    }

    // Test keys made with `openssl genpkey` for these tests only; the SHA-1 signature with
    // `openssl dgst -sha1 -sign` over "RFC 7296 method 1".
    const ED25519_PKCS8: &str = concat!(
        "302e020100300506032b65700422042072e03700dff66a494a147cd7a9af9c73ec8afbdfda1ad870210a7d4791cc",
        "aed2",
    );
    const ED25519_SPKI: &str =
        "302a300506032b6570032100ecdeb71dedf5adfd6437c0730942709a5cf053da564b58316fe01b26ae2b4221";
    const P256_PKCS8: &str = concat!(
        "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420c2deea3a08036c2e2816",
        "1092add895b91d81dc8558ce9a1c920c96e02c81ccf5a1440342000470a354ac198a45efc2f043d6387880997652",
        "4a8a47de4acb5c58c2bc7025561cddb1e67d480d5c36b48071a046d2ad8fa7f1265d89d82819d928709c928802fd",
    );
    const P256_SPKI: &str = concat!(
        "3059301306072a8648ce3d020106082a8648ce3d0301070342000470a354ac198a45efc2f043d63878809976524a",
        "8a47de4acb5c58c2bc7025561cddb1e67d480d5c36b48071a046d2ad8fa7f1265d89d82819d928709c928802fd",
    );
    const P384_PKCS8: &str = concat!(
        "3081b6020100301006072a8648ce3d020106052b8104002204819e30819b0201010430f2fb6c9ad66160729c7e03",
        "90b2287fb209f38a3ad5f15482a68e7453751ce655efd7da36c1c0c069dda609c235539bf3a16403620004dfefb0",
        "ae302a8e9382330a6919ae15938ace65e9ac92d62c6f1209c13e4eea81fcba3265f7e760d8f1d3fe178681ed04cb",
        "c2716e473922e90a5f48b76ec86d92cf1245ec5702c7ec5c7dd682da70904a4366a36c2379db5f74a3f5ad5aa26f",
        "64",
    );
    const P384_SPKI: &str = concat!(
        "3076301006072a8648ce3d020106052b8104002203620004dfefb0ae302a8e9382330a6919ae15938ace65e9ac92",
        "d62c6f1209c13e4eea81fcba3265f7e760d8f1d3fe178681ed04cbc2716e473922e90a5f48b76ec86d92cf1245ec",
        "5702c7ec5c7dd682da70904a4366a36c2379db5f74a3f5ad5aa26f64",
    );
    const RSA_PKCS8: &str = concat!(
        "308204be020100300d06092a864886f70d0101010500048204a8308204a40201000282010100dec65b99937613f4",
        "292e5ea1fd02bb81da70482941d539474e1c20b74b9250fdfcc60ba367d083ec49bba9df4a9dce8acebe857fb67b",
        "9fc7ea99991af6e01ba5a81fe1812f7bd9279a18903da8fa15880532f0b279778437520453b383f76b9cbf97b31e",
        "acbb31546237f992dbd185750ffa3e06736b1120dba870e2b93e4c60a6d71f201301d6df5278f6fd9279276185fa",
        "56453a11e6f58711c8981036498dcf574ed98d28306fa1139a262f1213e071d24802e0f0bbdb5f97f27b16661416",
        "db2d3d38c6efad60151be6f14bb413f5f99eea700ec9f76c47f8d5ac6efa5c60f66833231146c0ae5b170fe0fbfd",
        "b6dcdc830695cc865ac540222dd1f3efd0730203010001028201000a63558223ce2dc004eb949e191e3780269f75",
        "bdf6c3ea97d89c9729f4ec2dbaaa3ed1ec1cbb2c6ba84487f751936a3e2ec5d393d0fe92c4cfbbb9d7f80b1b3eee",
        "480e4be7daee955a2a2b0fb501745f935e7cbad5cf2ceb2777ec2f42c816cc88629a87a3a656f6885df3d5554abf",
        "de659055b4174db6cec16f6954292f2e807d016c992c06a3b04105e27606d09253d19d59f29eb06cc61e1b9f8f40",
        "937871157a760b165072d51c63aef74e4f676158e4ef6adfb8eb7ac93c3d1fc6a36a8ebe39ded1e9419f7a110630",
        "afb768241e359ed4987bb5d587a95c9c6841ba3d584ac9f7bba8fe06c7b03d511154a3b41e82b97a81a0b1322881",
        "7a541e9ce7880102818100f089740f9ac088204342a6ded2f46e1b9a0fef10fb94973a81ca31cb0df0dab1a48aef",
        "e5dfb1caefd1f1c14f7928caa22d57d724f6131914761bc5d4cda0a0e4c7ff33e875743088a813f84e42b565e9cb",
        "ce26c3d5e88119341ecdb88afd05bbd761152a6edb3d06331ab14d101c6205dc22ece0af968665216df555e5a177",
        "3302818100ed1897698c6028a3dbc4182b5fcdacd7af80e3db0f52cd2c09279dee815f7be1b3e230ea99bb539c05",
        "593060fdb9e5ff3fee5a18f69c5cc52d40aaf9118d0e7dbcad9d1a077813515a3ebde408562cd86e6606136697a4",
        "1ae08fd49ced29a582ee9651c5a44a0687668fb1ca656d54a78465b192aac60a8400fac9d46e4b41c10281810098",
        "5a177f02bfcbf8d361561c70758d804216b18f8a29d597a339944c4eaa2d7ab303a56b6e42488d99e68c5070275c",
        "2158a2f88c5aa8420c69bab1955620d587d2fd5bbd731782de2bc76a50f783b9e759c55b5c53128f228d96ad2aa4",
        "2e1b019d2bcaa233d0fd57fdea7c3e9963c0da815245c312b43eafb37ad817edf8556d0281810083043ecf4591f1",
        "8332b2f6c42929a7a47c4816217c233e5b6227b13f15e0a4bd4140f1d501e4a13c2b3c70de77f6dd20a2bc5caf44",
        "bf7d083c8c6aae3dc39bc96194f2a66a9030e498a0e91ff477624aab1ed7a6aadf8b008b2d0fc933c8fabc1289a0",
        "603dfbe605b6681b5003a259d043fa4a1909236cb62b306a8d67f1504102818016bdb639f82ebbd9d9b17d45f947",
        "da1ac0f58a4d35e7026b60d4bbba1dbe17167cb94feee88d6e44b6d71a83e59f8867242a62f1badfdea65aff3e0d",
        "216869033a682340aae6c2686cc96759227d8419dce5d634180bedba34cae8739f1a0ec21c8fa7da8da41637fdb1",
        "8ba057c0f4a903ca0456a23d542d3ddcc64ce82ad01c",
    );
    const RSA_SPKI: &str = concat!(
        "30820122300d06092a864886f70d01010105000382010f003082010a0282010100dec65b99937613f4292e5ea1fd",
        "02bb81da70482941d539474e1c20b74b9250fdfcc60ba367d083ec49bba9df4a9dce8acebe857fb67b9fc7ea9999",
        "1af6e01ba5a81fe1812f7bd9279a18903da8fa15880532f0b279778437520453b383f76b9cbf97b31eacbb315462",
        "37f992dbd185750ffa3e06736b1120dba870e2b93e4c60a6d71f201301d6df5278f6fd9279276185fa56453a11e6",
        "f58711c8981036498dcf574ed98d28306fa1139a262f1213e071d24802e0f0bbdb5f97f27b16661416db2d3d38c6",
        "efad60151be6f14bb413f5f99eea700ec9f76c47f8d5ac6efa5c60f66833231146c0ae5b170fe0fbfdb6dcdc8306",
        "95cc865ac540222dd1f3efd0730203010001",
    );
    const RSA_SHA1_SIG: &str = concat!(
        "5f02f374dcd41ec21dbd913800c2a60ac840e5b1a0b7437e6ac3a41376ebf0978d7792e0cda781b1aa9db328ab10",
        "9643db47da9ce20e05b30855e03e33a208c29c6861dbb8b45812d37c0280f90ca9dbb821c22b8d38af375ccea182",
        "31eb51296efc258692b7cef7629c370b1e93f14395224d10304348064a17bd689d5abecde5a3554b0e691cd06e47",
        "bb406db2d96b934b761090e02ec6a92b9365bb8de39f9fdbcbeea87b7004c1db70e2971922ff5c352fef5b8e3589",
        "c86da02ef77ac79293ca14f767c47822152754aa42547bae8094ff4117a8d2bdaebfef47868ae99c62f9011ee95b",
        "59ceb1d47dbd2a4d578df56b68c0aaa779f90c7ef4306bc23d8a",
    );
}
