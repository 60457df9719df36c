//! Certificate authentication between two in-memory endpoints: X.509 chains with an
//! intermediate CA, RFC 7427 signatures (Ed25519, ECDSA P-256/P-384, RSA-PSS), CERTREQ,
//! identity matching, and each way validation fails (RFC 7296 §2.15, §3.6, §3.7; RFC 7427).

mod sim;

use std::net::IpAddr;

use ikev2::wire::{CertEncoding, HashAlgorithm, Message, NotifyType, Payload};
use ikev2::{AuthConfig, CertificateAuth, CertificateError, Error, Identity, PpkConfig};
use ipsec_crypto::{CryptoProvider, SecretBytes};
use rcgen::{CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType, SignatureAlgorithm};
use sim::certs::{Leaf, Pki, ca_params, cert_auth, dns, test_time};
use sim::{Pair, Scenario, default_provider};

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

/// Both sides with chains of `alg` from one PKI, each trusting its root.
fn run_alg(
    alg: &'static SignatureAlgorithm,
    pa: &'static dyn CryptoProvider,
    pb: &'static dyn CryptoProvider,
    ike: &str,
) -> Pair {
    Scenario::certificates_between(&Pki::new(alg, "Test"), ike, pa, pb).run(1000)
}

/// The failure on each side, expecting the responder to reject the initiator.
fn assert_responder_rejects(pair: &Pair, reason: &'static str) {
    assert_eq!(pair.b_error(), Some(&Error::AuthenticationFailed(reason)));
    assert_eq!(
        pair.a_error(),
        Some(&Error::PeerError(NotifyType::AUTHENTICATION_FAILED))
    );
    assert!(pair.a_established().is_none() && pair.b_established().is_none());
}

#[test]
fn ed25519_chain_with_intermediate_establishes() {
    let p = default_provider();
    let pair = run_alg(&rcgen::PKCS_ED25519, p, p, IKE);
    pair.assert_up();
    // RFC 7427 §4 in both IKE_SA_INIT messages; the responder's CERTREQ names the root's key.
    let init_req = Message::parse(&pair.wire[0].data).expect("IKE_SA_INIT request");
    let init_resp = Message::parse(&pair.wire[1].data).expect("IKE_SA_INIT response");
    for m in [&init_req, &init_resp] {
        let hashes = m.payloads.iter().find_map(|p| match p {
            Payload::Notify(n) if n.notify_type == NotifyType::SIGNATURE_HASH_ALGORITHMS => {
                Some(n.data.clone())
            }
            _ => None,
        });
        let hashes = hashes.expect("SIGNATURE_HASH_ALGORITHMS");
        assert!(
            hashes
                .chunks(2)
                .any(|c| c == HashAlgorithm::IDENTITY.0.to_be_bytes())
        );
    }
    let certreq = init_resp.payloads.iter().find_map(|p| match p {
        Payload::CertReq(c) => Some(c.clone()),
        _ => None,
    });
    let certreq = certreq.expect("CERTREQ in IKE_SA_INIT response");
    assert_eq!(certreq.encoding, CertEncoding::X509_SIGNATURE);
    assert_eq!(certreq.data.len(), 20);
}

#[test]
fn ecdsa_p256_chain_establishes() {
    let p = default_provider();
    run_alg(&rcgen::PKCS_ECDSA_P256_SHA256, p, p, IKE).assert_up();
}

#[test]
fn ecdsa_p384_chain_establishes_with_intermediate_exchange() {
    let p = default_provider();
    let pair = run_alg(&rcgen::PKCS_ECDSA_P384_SHA384, p, p, HYBRID);
    pair.assert_up();
    assert_eq!(pair.a_established().expect("up").intermediate_exchanges, 1);
}

#[test]
fn rsa_chain_signs_auth_with_pss() {
    let p = default_provider();
    run_alg(&rcgen::PKCS_RSA_SHA256, p, p, IKE).assert_up();
}

#[cfg(all(feature = "default-provider", feature = "rustcrypto"))]
#[test]
fn certificates_across_providers() {
    let (d, r) = (
        ipsec_crypto::default_provider(),
        ipsec_crypto::rustcrypto_provider(),
    );
    for alg in [
        &rcgen::PKCS_ED25519,
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_RSA_SHA256,
    ] {
        run_alg(alg, d, r, IKE).assert_up();
        run_alg(alg, r, d, IKE).assert_up();
    }
}

#[test]
fn expired_end_entity_certificate_fails() {
    let pki = Pki::new(&rcgen::PKCS_ECDSA_P256_SHA256, "Test");
    let expired = pki.leaf(vec![dns("initiator.example")], 2020, 2025);
    let pair = Scenario::certificates(&pki, IKE)
        .initiator_auth(pki.auth(&expired))
        .run(1000);
    assert_responder_rejects(&pair, "peer certificate has expired");
}

#[test]
fn not_yet_valid_end_entity_certificate_fails() {
    let pki = Pki::new(&rcgen::PKCS_ED25519, "Test");
    let future = pki.leaf(vec![dns("initiator.example")], 2030, 2035);
    let pair = Scenario::certificates(&pki, IKE)
        .initiator_auth(pki.auth(&future))
        .run(1000);
    assert_responder_rejects(&pair, "peer certificate is not yet valid");
}

#[test]
fn certificate_from_an_unknown_ca_fails() {
    let alg = &rcgen::PKCS_ED25519;
    let (ours, theirs) = (Pki::new(alg, "Ours"), Pki::new(alg, "Theirs"));
    let foreign = cert_auth(
        default_provider(),
        &theirs.fqdn_leaf("initiator.example"),
        &[theirs.intermediate_der()],
        &[ours.root_der()],
    );
    let pair = Scenario::certificates(&ours, IKE)
        .initiator_auth(foreign)
        .run(1000);
    assert_responder_rejects(&pair, "peer certificate is not issued by a trusted CA");
}

#[test]
fn missing_intermediate_fails() {
    let pki = Pki::new(&rcgen::PKCS_ED25519, "Test");
    let leaf_only = cert_auth(
        default_provider(),
        &pki.fqdn_leaf("initiator.example"),
        &[],
        &[pki.root_der()],
    );
    let pair = Scenario::certificates(&pki, IKE)
        .initiator_auth(leaf_only)
        .run(1000);
    assert_responder_rejects(&pair, "peer certificate is not issued by a trusted CA");
}

#[test]
fn intermediate_without_ca_flag_fails() {
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    // A leaf that issues another leaf: no basicConstraints CA.
    let mut not_ca = ca_params("Not a CA", None);
    not_ca.is_ca = IsCa::ExplicitNoCa;
    let rogue = CertifiedIssuer::signed_by(
        not_ca,
        KeyPair::generate_for(alg).expect("key"),
        &pki.intermediate,
    )
    .expect("rogue");
    let key = KeyPair::generate_for(alg).expect("key");
    let mut lp = CertificateParams::new(vec!["initiator.example".to_string()]).expect("params");
    lp.not_before = rcgen::date_time_ymd(2020, 1, 1);
    let leaf = Leaf {
        cert: lp.signed_by(&key, &rogue).expect("leaf").der().to_vec(),
        key: key.serialize_der(),
    };
    let chain = [rogue.der().to_vec(), pki.intermediate_der()];
    let auth = cert_auth(default_provider(), &leaf, &chain, &[pki.root_der()]);
    let pair = Scenario::certificates(&pki, IKE)
        .initiator_auth(auth)
        .run(1000);
    assert_responder_rejects(&pair, "intermediate certificate is not a CA");
}

#[test]
fn identity_not_in_certificate_fails() {
    let pki = Pki::new(&rcgen::PKCS_ECDSA_P256_SHA256, "Test");
    let pair = Scenario::certificates(&pki, IKE)
        .initiator_auth(pki.auth(&pki.fqdn_leaf("someone-else.example")))
        .run(1000);
    assert_responder_rejects(&pair, "peer identity does not match its certificate");
}

#[test]
fn initiator_rejects_responder_with_wrong_identity() {
    let pki = Pki::new(&rcgen::PKCS_ED25519, "Test");
    let pair = Scenario::certificates(&pki, IKE)
        .responder_auth(pki.auth(&pki.fqdn_leaf("impostor.example")))
        .run(1000);
    assert_eq!(
        pair.a_error(),
        Some(&Error::AuthenticationFailed(
            "peer identity does not match its certificate"
        ))
    );
    assert!(pair.a_established().is_none());
}

#[test]
fn email_ip_and_dn_identities_match_their_certificate() {
    let pki = Pki::new(&rcgen::PKCS_ED25519, "Test");
    let addr: IpAddr = "192.0.2.1".parse().expect("ip");
    let v6: IpAddr = "2001:db8::1".parse().expect("ip");
    let email = pki.leaf(
        vec![SanType::Rfc822Name(
            "alice@example.org".try_into().expect("email"),
        )],
        2020,
        2040,
    );
    let ipv4 = pki.leaf(vec![SanType::IpAddress(addr)], 2020, 2040);
    let ipv6 = pki.leaf(vec![SanType::IpAddress(v6)], 2020, 2040);
    let dn_leaf = pki.leaf(Vec::new(), 2020, 2040);
    let (_, parsed) = x509_parser::parse_x509_certificate(&dn_leaf.cert).expect("parses");
    let dn = Identity::dn(parsed.subject().as_raw());
    let with_identity = |leaf: &Leaf, id: Identity| {
        Scenario::certificates(&pki, IKE)
            .initiator(|c| {
                c.auth = pki.auth(leaf);
                c.local_id = id.clone();
            })
            .responder(|c| c.remote_id = Some(id))
    };
    for (leaf, id) in [
        (&email, Identity::email("alice@example.org")),
        (&ipv4, Identity::ip(addr)),
        (&ipv6, Identity::ip(v6)),
        (&dn_leaf, dn),
    ] {
        with_identity(leaf, id).run(1000).assert_up();
    }
    // The same certificates do not vouch for other identities.
    let pair = Scenario::certificates(&pki, IKE)
        .initiator(|c| {
            c.auth = pki.auth(&ipv4);
            c.local_id = Identity::ip("192.0.2.99".parse().expect("ip"));
        })
        .run(1000);
    assert_responder_rejects(&pair, "peer identity does not match its certificate");
}

#[test]
fn psk_on_one_side_and_certificates_on_the_other_fail() {
    let pki = Pki::new(&rcgen::PKCS_ED25519, "Test");
    let psk = || {
        AuthConfig::Psk(SecretBytes::from_slice(
            b"a pre-shared key of decent length",
        ))
    };
    // PSK initiator, certificate responder: no CERT to validate.
    let pair = Scenario::certificates(&pki, IKE)
        .initiator_auth(psk())
        .run(1000);
    assert_responder_rejects(&pair, "peer sent no certificate");
    // Certificate initiator, PSK responder: a signature where a MAC is expected.
    let pair = Scenario::certificates(&pki, IKE)
        .responder_auth(psk())
        .run(1000);
    assert_responder_rejects(
        &pair,
        "peer used another authentication method than our PSK",
    );
}

#[test]
fn certificates_with_ppk_mix_the_ppk() {
    let pki = Pki::new(&rcgen::PKCS_ECDSA_P256_SHA256, "Test");
    let ppk = |id: &[u8], required| {
        Some(PpkConfig::fixed(
            id,
            SecretBytes::from_slice(&[0x42; 32]),
            required,
        ))
    };
    for required in [false, true] {
        let pair = Scenario::certificates(&pki, IKE)
            .both(|c| c.ppk = ppk(b"qkd-1", required))
            .run(1000);
        pair.assert_up();
        assert!(
            pair.a_established().expect("up").ppk_used
                && pair.b_established().expect("up").ppk_used
        );
    }
    // The responder does not know the offered PPK_ID: NO_PPK_AUTH carries the signature.
    let pair = Scenario::certificates(&pki, IKE)
        .initiator(|c| c.ppk = ppk(b"qkd-1", false))
        .responder(|c| c.ppk = ppk(b"qkd-2", false))
        .run(1000);
    pair.assert_up();
    assert!(
        !pair.a_established().expect("up").ppk_used && !pair.b_established().expect("up").ppk_used
    );
}

#[test]
fn without_wall_clock_certificates_fail_closed() {
    let pki = Pki::new(&rcgen::PKCS_ED25519, "Test");
    let pair = Scenario::certificates(&pki, IKE)
        .unix_times(Some(test_time()), None)
        .run(1000);
    assert!(
        matches!(pair.b_error(), Some(Error::Internal(_))),
        "{:?}",
        pair.b_error()
    );
    assert!(pair.a_established().is_none());
}

#[test]
fn certificate_config_rejects_mismatched_key_and_garbage() {
    let p = default_provider();
    let pki = Pki::new(&rcgen::PKCS_ED25519, "Test");
    let (l1, l2) = (pki.fqdn_leaf("a.example"), pki.fqdn_leaf("b.example"));
    let key = |l: &Leaf| p.signing_key(&l.key).expect("key");
    assert_eq!(
        CertificateAuth::new(vec![l1.cert.clone()], key(&l2), &[]).err(),
        Some(CertificateError::KeyMismatch)
    );
    assert_eq!(
        CertificateAuth::new(Vec::new(), key(&l1), &[]).err(),
        Some(CertificateError::EmptyChain)
    );
    assert_eq!(
        CertificateAuth::new(vec![l1.cert.clone(), vec![0x30, 0x00]], key(&l1), &[]).err(),
        Some(CertificateError::MalformedChain { index: 1 })
    );
    assert_eq!(
        CertificateAuth::verify_only(&[b"junk".to_vec()]).err(),
        Some(CertificateError::MalformedTrustAnchor { index: 0 })
    );
    assert!(CertificateAuth::new(vec![l1.cert.clone()], key(&l1), &[pki.root_der()]).is_ok());
}
