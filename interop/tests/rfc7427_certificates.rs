//! Certificate authentication against strongSwan 6 (RFC 7296 §3.6/§3.8 CERT and AUTH payloads,
//! RFC 7427 digital signatures, RFC 8420 Ed25519), each direction, with X25519 + ML-KEM-768.
//!
//! A test CA and both end-entity certificates are generated at test time (rcgen; nothing is
//! committed): one run with Ed25519 keys, one with ECDSA P-256 and one with ECDSA P-384 keys. Each side trusts only the
//! CA, and authenticates with its certificate's dNSName (`iked.example`,
//! `strongswan.example`). strongSwan must show the established IKE SA with both identities,
//! traffic must cross, and strongSwan's log must show the signature scheme it verified
//! (`ED25519`, or RFC 7427's `ECDSA_WITH_SHA256_DER` / `ECDSA_WITH_SHA384_DER`).
//!
//! Needs root and the lab.

use interop::{Auth, Certs, OUR_ID, PEER_ID, Pair, Spec};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SignatureAlgorithm,
};

/// A CA and two leaves signed by it, all with keys of `alg`.
fn certs(alg: &'static SignatureAlgorithm) -> Certs {
    let ca_key = KeyPair::generate_for(alg).expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "pqike interop test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let leaf = |name: &str| {
        let key = KeyPair::generate_for(alg).expect("leaf key");
        let mut p = CertificateParams::new(vec![name.to_owned()]).expect("leaf params");
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = p.signed_by(&key, &issuer).expect("leaf certificate");
        (cert.pem(), key.serialize_pem())
    };
    Certs {
        ca: ca_cert.pem(),
        ours: leaf(OUR_ID),
        peer: leaf(PEER_ID),
    }
}

fn case(tag: &str, alg: &'static SignatureAlgorithm, scheme: &str) {
    let mut spec = Spec::new(
        tag,
        "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16",
    );
    spec.auth = Auth::Pubkey(certs(alg));
    let Some(pair) = Pair::start(&format!("rfc7427_certificates::{tag}"), spec) else {
        return;
    };
    let mark = std::cell::Cell::new(pair.charon.log_mark());
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768",
        "AES_GCM_16-256",
        |p, role, _, peer| {
            assert_eq!(
                (peer.local_id.as_str(), peer.remote_id.as_str()),
                (PEER_ID, OUR_ID),
                "{}: identities",
                role.label()
            );
            let line = p
                .charon
                .wait_log(
                    mark.get(),
                    &format!("authentication of '{OUR_ID}' with {scheme} successful"),
                    interop::WAIT,
                )
                .unwrap_or_else(|e| panic!("{}: {e}", role.label()));
            interop::report(&format!("{}: strongSwan: {}", role.label(), line.trim()));
            mark.set(p.charon.log_mark());
        },
    );
}

#[test]
fn ed25519_certificates() {
    case("certed", &rcgen::PKCS_ED25519, "ED25519");
}

#[test]
fn ecdsa_p256_certificates() {
    case(
        "certp256",
        &rcgen::PKCS_ECDSA_P256_SHA256,
        "ECDSA_WITH_SHA256_DER",
    );
}

#[test]
fn ecdsa_p384_certificates() {
    case(
        "certp384",
        &rcgen::PKCS_ECDSA_P384_SHA384,
        "ECDSA_WITH_SHA384_DER",
    );
}
