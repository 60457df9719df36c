//! Certificate authentication of a peer: X.509 trust anchors as configured, the peer's CERT
//! chain (RFC 5280 path validation), its RFC 7427 / RFC 7296 signature AUTH data and the
//! SIGNATURE_HASH_ALGORITHMS notify. Nothing panics; a chain is only accepted when it leads to
//! the anchor, and then yields the key the AUTH payload is checked with.
//!
//! Input: the AUTH method octet, then chunks each preceded by a 2-octet length: the trust
//! anchor (DER), the AUTH data, then the peer's certificates (end entity first).
#![no_main]

use ikev2::CertificateAuth;
use ikev2::cert_fuzzing::{parse_hash_algorithms, verify_auth, verify_peer};
use ikev2::wire::{AuthMethod, IdType, Identification};
use ikev2_fuzz::engine::length_prefixed;
use libfuzzer_sys::fuzz_target;

/// 2027-12-28: inside the validity of the seed certificates (issued 2026-11-23 for ten years).
const UNIX_TIME: i64 = 1_830_000_000;
/// What the AUTH signature is over (the real octets come from the IKE_SA_INIT messages).
const OCTETS: &[u8] = b"signed octets of the IKE_SA_INIT exchange";
/// The anchor, the AUTH data and up to six certificates.
const MAX_PARTS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let Some((&method, rest)) = data.split_first() else {
        return;
    };
    let parts = length_prefixed(rest, MAX_PARTS);
    let (Some(&anchor), Some(&auth)) = (parts.first(), parts.get(1)) else {
        return;
    };
    let certs = &parts[2..];
    let _ = parse_hash_algorithms(auth);
    let Ok(trust) = CertificateAuth::verify_only(&[anchor.to_vec()]) else {
        return;
    };
    let provider = ipsec_crypto::default_provider();
    let id = Identification {
        id_type: IdType::FQDN,
        data: b"peer.example".to_vec(),
    };
    let spki = match verify_peer(provider, &trust, certs, UNIX_TIME, &id) {
        Ok(spki) => spki,
        Err(_) => match certs.first() {
            // A key that no chain vouches for still must not crash the verifier.
            Some(raw) => raw.to_vec(),
            None => return,
        },
    };
    let _ = verify_auth(provider, &spki, AuthMethod(method), auth, OCTETS);
});
