//! Signature AUTH data (RFC 7296 §2.15 method 1, RFC 7427 method 14), the
//! SIGNATURE_HASH_ALGORITHMS notify, and the mapping from X.509 AlgorithmIdentifiers to the
//! provider's [`SignatureScheme`]s.

use ipsec_crypto::{CryptoProvider, SignatureScheme, SigningKey};
use x509_parser::prelude::{AlgorithmIdentifier, FromDer};
use x509_parser::signature_algorithm::RsaSsaPssParams;

use crate::wire::{AuthMethod, AuthPayload, HashAlgorithm};

/// The hash algorithms we verify, as sent in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): SHA-1 is
/// left out (RFC 8247 §3.2).
pub(crate) const OUR_HASHES: [HashAlgorithm; 4] = [
    HashAlgorithm::SHA2_256,
    HashAlgorithm::SHA2_384,
    HashAlgorithm::SHA2_512,
    HashAlgorithm::IDENTITY,
];

/// The data of our SIGNATURE_HASH_ALGORITHMS notify.
pub(crate) fn hash_algorithms_notify_data() -> Vec<u8> {
    OUR_HASHES.iter().flat_map(|h| h.0.to_be_bytes()).collect()
}

/// The peer's SIGNATURE_HASH_ALGORITHMS list (an odd trailing octet is ignored).
pub(crate) fn parse_hash_algorithms(data: &[u8]) -> Vec<HashAlgorithm> {
    data.chunks_exact(2)
        .map(|c| HashAlgorithm(u16::from_be_bytes([c[0], c[1]])))
        .collect()
}

/// Signs `octets` for an AUTH payload. With the peer's hash list (RFC 7427) the first of our
/// key's schemes whose hash the peer accepts is used, as method 14. Without it, an RSA key uses
/// method 1 (PKCS#1 v1.5, with SHA-256 since neither provider signs with SHA-1) and other keys
/// still use method 14, their only option.
///
/// # Errors
/// A static reason when no scheme fits or the provider fails.
pub(crate) fn sign_auth(
    key: &dyn SigningKey,
    peer_hashes: Option<&[HashAlgorithm]>,
    octets: &[u8],
) -> Result<AuthPayload, &'static str> {
    let Some(peer) = peer_hashes else {
        if key.schemes().contains(&SignatureScheme::RsaPkcs1Sha256) {
            let data = key
                .sign(SignatureScheme::RsaPkcs1Sha256, octets)
                .map_err(|_| "signing failed")?;
            return Ok(AuthPayload {
                method: AuthMethod::RSA_SIG,
                data,
            });
        }
        let scheme = *key
            .schemes()
            .first()
            .ok_or("private key has no signature scheme")?;
        return digital_signature(key, scheme, octets);
    };
    let scheme = key
        .schemes()
        .iter()
        .copied()
        .find(|s| hash_of(*s).is_some_and(|h| peer.contains(&h)))
        .ok_or("no signature hash algorithm in common with the peer")?;
    digital_signature(key, scheme, octets)
}

/// Checks a signature AUTH payload (`data` may come from NO_PPK_AUTH) against the peer's
/// end-entity public key.
///
/// # Errors
/// A static reason for the AUTHENTICATION_FAILED error.
pub(crate) fn verify_auth(
    provider: &dyn CryptoProvider,
    spki: &[u8],
    method: AuthMethod,
    data: &[u8],
    octets: &[u8],
) -> Result<(), &'static str> {
    let verify = |scheme: SignatureScheme, sig: &[u8]| {
        provider
            .signature(scheme)
            .is_some_and(|v| v.verify(spki, octets, sig).is_ok())
    };
    match method {
        AuthMethod::DIGITAL_SIGNATURE => {
            let (&len, rest) = data.split_first().ok_or("empty AUTH data")?;
            let len = usize::from(len);
            if rest.len() < len {
                return Err("AUTH AlgorithmIdentifier truncated");
            }
            let (alg, sig) = rest.split_at(len);
            let Ok(([], alg)) = AlgorithmIdentifier::from_der(alg) else {
                return Err("AUTH AlgorithmIdentifier malformed");
            };
            let scheme = scheme_of(&alg)
                .filter(|s| *s != SignatureScheme::RsaPkcs1Sha1)
                .ok_or("AUTH signature algorithm not supported")?;
            if verify(scheme, sig) {
                Ok(())
            } else {
                Err("AUTH signature does not verify")
            }
        }
        // RFC 7296 method 1 names no hash; SHA-1 is what old peers use, SHA-256 some newer ones.
        AuthMethod::RSA_SIG => {
            if verify(SignatureScheme::RsaPkcs1Sha1, data)
                || verify(SignatureScheme::RsaPkcs1Sha256, data)
            {
                Ok(())
            } else {
                Err("AUTH RSA signature does not verify")
            }
        }
        _ => Err("unsupported authentication method for certificates"),
    }
}

/// The provider scheme an AlgorithmIdentifier (of a certificate or an RFC 7427 AUTH) names.
pub(crate) fn scheme_of(alg: &AlgorithmIdentifier<'_>) -> Option<SignatureScheme> {
    use SignatureScheme as S;
    Some(match alg.algorithm.as_bytes() {
        OID_ED25519 => S::Ed25519,
        OID_ECDSA_SHA256 => S::EcdsaSha256,
        OID_ECDSA_SHA384 => S::EcdsaSha384,
        OID_ECDSA_SHA512 => S::EcdsaSha512,
        OID_SHA1_RSA => S::RsaPkcs1Sha1,
        OID_SHA256_RSA => S::RsaPkcs1Sha256,
        OID_SHA384_RSA => S::RsaPkcs1Sha384,
        OID_SHA512_RSA => S::RsaPkcs1Sha512,
        OID_RSASSA_PSS => {
            let params = RsaSsaPssParams::try_from(alg.parameters.as_ref()?).ok()?;
            let hash = params.hash_algorithm_oid().as_bytes();
            let mgf = params.mask_gen_algorithm().ok()?;
            // Only MGF1 with the message hash and a salt as long as the hash (RFC 7427 A.4.3).
            if mgf.mgf.as_bytes() != OID_MGF1
                || mgf.hash.as_bytes() != hash
                || params.trailer_field() != 1
            {
                return None;
            }
            match (hash, params.salt_length()) {
                (OID_SHA256, 32) => S::RsaPssSha256,
                (OID_SHA384, 48) => S::RsaPssSha384,
                (OID_SHA512, 64) => S::RsaPssSha512,
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The SIGNATURE_HASH_ALGORITHMS value a scheme depends on.
fn hash_of(scheme: SignatureScheme) -> Option<HashAlgorithm> {
    use SignatureScheme as S;
    Some(match scheme {
        S::Ed25519 => HashAlgorithm::IDENTITY,
        S::EcdsaSha256 | S::RsaPkcs1Sha256 | S::RsaPssSha256 => HashAlgorithm::SHA2_256,
        S::EcdsaSha384 | S::RsaPkcs1Sha384 | S::RsaPssSha384 => HashAlgorithm::SHA2_384,
        S::EcdsaSha512 | S::RsaPkcs1Sha512 | S::RsaPssSha512 => HashAlgorithm::SHA2_512,
        S::RsaPkcs1Sha1 => HashAlgorithm::SHA1,
        _ => return None,
    })
}

/// Method 14: `len(AlgorithmIdentifier) | AlgorithmIdentifier | signature` (RFC 7427 §3).
fn digital_signature(
    key: &dyn SigningKey,
    scheme: SignatureScheme,
    octets: &[u8],
) -> Result<AuthPayload, &'static str> {
    let alg = algorithm_identifier(scheme).ok_or("signature scheme has no RFC 7427 encoding")?;
    let sig = key.sign(scheme, octets).map_err(|_| "signing failed")?;
    let mut data = Vec::with_capacity(1 + alg.len() + sig.len());
    data.push(alg.len() as u8);
    data.extend_from_slice(alg);
    data.extend_from_slice(&sig);
    Ok(AuthPayload {
        method: AuthMethod::DIGITAL_SIGNATURE,
        data,
    })
}

/// The DER AlgorithmIdentifier we send for a scheme (RFC 7427 Appendix A; all shorter than 256).
fn algorithm_identifier(scheme: SignatureScheme) -> Option<&'static [u8]> {
    use SignatureScheme as S;
    Some(match scheme {
        S::Ed25519 => &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70],
        S::EcdsaSha256 => &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
        ],
        S::EcdsaSha384 => &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
        ],
        S::EcdsaSha512 => &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04,
        ],
        S::RsaPkcs1Sha256 => &RSA_PKCS1_SHA256_ALG,
        S::RsaPkcs1Sha384 => &RSA_PKCS1_SHA384_ALG,
        S::RsaPkcs1Sha512 => &RSA_PKCS1_SHA512_ALG,
        S::RsaPssSha256 => &RSA_PSS_SHA256_ALG,
        S::RsaPssSha384 => &RSA_PSS_SHA384_ALG,
        S::RsaPssSha512 => &RSA_PSS_SHA512_ALG,
        _ => return None,
    })
}

/// sha{256,384,512}WithRSAEncryption with NULL parameters.
const RSA_PKCS1_SHA256_ALG: [u8; 15] = rsa_pkcs1_alg(0x0b);
const RSA_PKCS1_SHA384_ALG: [u8; 15] = rsa_pkcs1_alg(0x0c);
const RSA_PKCS1_SHA512_ALG: [u8; 15] = rsa_pkcs1_alg(0x0d);
/// id-RSASSA-PSS with explicit hash, MGF1 with the same hash, and the salt length (RFC 4055).
const RSA_PSS_SHA256_ALG: [u8; 67] = rsa_pss_alg(0x01, 0x20);
const RSA_PSS_SHA384_ALG: [u8; 67] = rsa_pss_alg(0x02, 0x30);
const RSA_PSS_SHA512_ALG: [u8; 67] = rsa_pss_alg(0x03, 0x40);

const fn rsa_pkcs1_alg(last: u8) -> [u8; 15] {
    [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last, 0x05, 0x00,
    ]
}

/// `hash` is the last arc of the NIST hash OID (2.16.840.1.101.3.4.2.x).
const fn rsa_pss_alg(hash: u8, salt: u8) -> [u8; 67] {
    [
        0x30, 0x41, // AlgorithmIdentifier
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, // id-RSASSA-PSS
        0x30, 0x34, // RSASSA-PSS-params
        0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, hash,
        0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
        0x01, 0x08, // MGF1
        0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, hash, 0x05, 0x00,
        0xa2, 0x03, 0x02, 0x01, salt,
    ]
}

const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const OID_ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const OID_SHA1_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
const OID_SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_SHA384_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const OID_SHA512_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
const OID_RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const OID_MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_algorithm_identifiers_parse_back_to_their_scheme() {
        for scheme in SignatureScheme::ALL {
            let Some(der) = algorithm_identifier(scheme) else {
                assert_eq!(scheme, SignatureScheme::RsaPkcs1Sha1);
                continue;
            };
            let (tail, alg) = AlgorithmIdentifier::from_der(der).expect("DER");
            assert!(tail.is_empty());
            assert_eq!(scheme_of(&alg), Some(scheme));
            assert!(der.len() < 256);
        }
    }

    #[test]
    fn hash_algorithms_round_trip() {
        assert_eq!(
            parse_hash_algorithms(&hash_algorithms_notify_data()),
            OUR_HASHES.to_vec()
        );
        assert_eq!(
            parse_hash_algorithms(&[0, 2, 0]),
            vec![HashAlgorithm::SHA2_256]
        );
    }

    #[test]
    fn malformed_auth_data_is_rejected_without_panic() {
        let p = crate::test_provider();
        for data in [
            &[][..],
            &[5],
            &[200, 0x30],
            &[2, 0x30, 0x00, 1, 2, 3],
            &[3, 0x05, 0x00, 0x00],
        ] {
            assert!(verify_auth(p, &[], AuthMethod::DIGITAL_SIGNATURE, data, b"x").is_err());
        }
        assert!(verify_auth(p, &[], AuthMethod::RSA_SIG, &[1, 2], b"x").is_err());
        assert!(verify_auth(p, &[], AuthMethod::SHARED_KEY_MIC, &[1, 2], b"x").is_err());
    }

    fn key(alg: &'static rcgen::SignatureAlgorithm) -> (Box<dyn SigningKey>, Vec<u8>) {
        let kp = rcgen::KeyPair::generate_for(alg).expect("key");
        let key = crate::test_provider()
            .signing_key(&kp.serialize_der())
            .expect("loads");
        (key, rcgen::PublicKeyData::subject_public_key_info(&kp))
    }

    #[test]
    fn rsa_uses_pss_with_rfc7427_and_method_1_without() {
        let p = crate::test_provider();
        let (key, spki) = key(&rcgen::PKCS_RSA_SHA256);
        let auth = sign_auth(key.as_ref(), Some(&OUR_HASHES), b"octets").expect("signs");
        assert_eq!(auth.method, AuthMethod::DIGITAL_SIGNATURE);
        assert_eq!(
            &auth.data[1..=RSA_PSS_SHA256_ALG.len()],
            &RSA_PSS_SHA256_ALG
        );
        assert_eq!(
            verify_auth(p, &spki, auth.method, &auth.data, b"octets"),
            Ok(())
        );
        assert!(verify_auth(p, &spki, auth.method, &auth.data, b"other").is_err());
        // A peer that only announced SHA-384 gets PSS with SHA-384.
        let auth =
            sign_auth(key.as_ref(), Some(&[HashAlgorithm::SHA2_384]), b"octets").expect("signs");
        assert_eq!(
            &auth.data[1..=RSA_PSS_SHA384_ALG.len()],
            &RSA_PSS_SHA384_ALG
        );
        // Without SIGNATURE_HASH_ALGORITHMS: RFC 7296 method 1.
        let legacy = sign_auth(key.as_ref(), None, b"octets").expect("signs");
        assert_eq!(legacy.method, AuthMethod::RSA_SIG);
        assert_eq!(
            verify_auth(p, &spki, legacy.method, &legacy.data, b"octets"),
            Ok(())
        );
        assert!(verify_auth(p, &spki, legacy.method, &legacy.data, b"other").is_err());
    }

    #[test]
    fn scheme_follows_the_peer_hash_list() {
        let p = crate::test_provider();
        let (ed, ed_spki) = key(&rcgen::PKCS_ED25519);
        assert_eq!(
            sign_auth(ed.as_ref(), Some(&[HashAlgorithm::SHA2_256]), b"x").err(),
            Some("no signature hash algorithm in common with the peer")
        );
        let auth = sign_auth(ed.as_ref(), None, b"x").expect("Ed25519 still uses method 14");
        assert_eq!(auth.method, AuthMethod::DIGITAL_SIGNATURE);
        assert_eq!(
            verify_auth(p, &ed_spki, auth.method, &auth.data, b"x"),
            Ok(())
        );
        let (ec, ec_spki) = key(&rcgen::PKCS_ECDSA_P384_SHA384);
        let auth = sign_auth(ec.as_ref(), Some(&OUR_HASHES), b"x").expect("signs");
        assert_eq!(
            verify_auth(p, &ec_spki, auth.method, &auth.data, b"x"),
            Ok(())
        );
        // The signature of one key does not verify with another.
        assert!(verify_auth(p, &ed_spki, auth.method, &auth.data, b"x").is_err());
    }
}
