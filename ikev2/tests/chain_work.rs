//! The work a peer's certificate chain can buy: as many CERT payloads as an IKE_AUTH request can
//! hold (57 of its 64 payloads; RFC 7296 allows up to 63 in principle), whose CAs all carry the
//! end entity's issuer name but none signed it, make chain building try every one. The signature
//! checks per IKE_AUTH are bounded (`max_chain_signature_checks`), the peer gets
//! AUTHENTICATION_FAILED, and a legitimate chain still works under the same bound.

mod sim;

use std::sync::Arc;

use ikev2::wire::NotifyType;
use ikev2::{AuthConfig, CertificateAuth, ConnectionConfig, EndpointConfig, Error};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};
use sim::{Pair, conn, default_provider, responder};

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const ALG: &rcgen::SignatureAlgorithm = &rcgen::PKCS_ECDSA_P256_SHA256;

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2040, 1, 1);
    p
}

fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    CertifiedIssuer::self_signed(ca_params(cn), KeyPair::generate_for(ALG).expect("key"))
        .expect("ca")
}

/// A leaf for `name` signed by `issuer`: (certificate, PKCS#8 key).
fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>, name: &str) -> (Vec<u8>, Vec<u8>) {
    let key = KeyPair::generate_for(ALG).expect("key");
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    p.subject_alt_names = vec![SanType::DnsName(name.try_into().expect("dns"))];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2040, 1, 1);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = p.signed_by(&key, issuer).expect("leaf");
    (cert.der().to_vec(), key.serialize_der())
}

fn with_chain(side: &str, chain: Vec<Vec<u8>>, key: &[u8], cas: &[Vec<u8>]) -> ConnectionConfig {
    let p = default_provider();
    let key = p.signing_key(key).expect("key loads");
    let mut c = conn(side, b"unused psk", IKE, "aes256gcm16");
    c.auth = AuthConfig::Certificate(CertificateAuth::new(chain, key, cas).expect("config"));
    c
}

fn test_time() -> u64 {
    u64::try_from(rcgen::date_time_ymd(2026, 6, 1).unix_timestamp()).expect("after 1970")
}

/// The responder trusts `root`; the initiator sends `chain`.
fn run(
    root: &CertifiedIssuer<'static, KeyPair>,
    chain: Vec<Vec<u8>>,
    key: &[u8],
    max_checks: u32,
) -> Pair {
    let cas = [root.der().to_vec()];
    let (rcert, rkey) = leaf(root, "responder.example");
    let b = with_chain("responder", vec![rcert], &rkey, &cas);
    let a = with_chain("initiator", chain, key, &cas);
    let mut rc = responder(b);
    rc.max_chain_signature_checks = max_checks;
    let p = default_provider();
    let mut pair = Pair::new(EndpointConfig::default(), p, rc, p);
    pair.a.set_unix_time(pair.now, test_time());
    pair.b.set_unix_time(pair.now, test_time());
    pair.connect(Arc::new(a));
    pair.drive(1000);
    pair
}

/// An end entity signed by a CA named "Decoy CA" that is not sent, and 56 CAs of that name
/// with other keys: 57 CERT payloads, with IDi, IDr, AUTH, SA, TSi, TSr and a notify the most
/// the payload limit of a message (64) leaves.
fn decoy_chain() -> (Vec<Vec<u8>>, Vec<u8>) {
    let signer = ca("Decoy CA");
    let (ee, key) = leaf(&signer, "initiator.example");
    let mut chain = vec![ee];
    chain.extend((0..56).map(|_| ca("Decoy CA").der().to_vec()));
    (chain, key)
}

#[test]
fn a_full_message_of_cert_payloads_costs_at_most_the_configured_signature_checks() {
    let root = ca("Trusted Root");
    let (chain, key) = decoy_chain();
    assert_eq!(chain.len(), 57);
    let pair = run(&root, chain, &key, 8);
    assert_eq!(
        pair.b_error(),
        Some(&Error::AuthenticationFailed(
            "certificate chain needs too many signature checks"
        ))
    );
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
    let stats = pair.b.stats();
    assert_eq!(stats.cert_signature_checks, 8);
    assert_eq!(stats.cert_check_limit_reached, 1);
}

#[test]
fn without_the_bound_the_same_chain_costs_a_check_per_candidate() {
    // Without a check budget only the cap on the certificates considered (15 besides the end
    // entity) bounds the work; with intermediates that do verify it multiplies per level.
    let root = ca("Trusted Root");
    let (chain, key) = decoy_chain();
    let pair = run(&root, chain, &key, u32::MAX);
    assert_eq!(
        pair.b_error(),
        Some(&Error::AuthenticationFailed(
            "certificate signature does not verify"
        ))
    );
    let stats = pair.b.stats();
    assert_eq!(stats.cert_signature_checks, 15);
    assert_eq!(stats.cert_check_limit_reached, 0);
}

#[test]
fn a_legitimate_chain_works_under_the_bound() {
    let root = ca("Trusted Root");
    let intermediate = CertifiedIssuer::signed_by(
        ca_params("Intermediate"),
        KeyPair::generate_for(ALG).expect("key"),
        &root,
    )
    .expect("intermediate");
    let (ee, key) = leaf(&intermediate, "initiator.example");
    let pair = run(&root, vec![ee, intermediate.der().to_vec()], &key, 16);
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
    assert!(pair.b_established().is_some());
    // End entity to intermediate, intermediate to root.
    assert_eq!(pair.b.stats().cert_signature_checks, 2);
}
