//! Certificate authentication between two in-memory endpoints: X.509 chains with an
//! intermediate CA, RFC 7427 signatures (Ed25519, ECDSA P-256/P-384, RSA-PSS), CERTREQ,
//! identity matching, and each way validation fails (RFC 7296 §2.15, §3.6, §3.7; RFC 7427).

mod sim;

use std::net::IpAddr;
use std::sync::Arc;

use ikev2::wire::{CertEncoding, HashAlgorithm, Message, NotifyType, Payload};
use ikev2::{
    AuthConfig, CertificateAuth, CertificateError, ConnectionConfig, EndpointConfig, Error,
    Identity, PpkConfig,
};
use ipsec_crypto::{CryptoProvider, SecretBytes};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType, SignatureAlgorithm,
};
use sim::{Pair, conn, default_provider, responder};

const IKE: &str = "aes256gcm16-prfsha256-x25519";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

/// A CA with one intermediate, both valid 2020–2040.
struct Pki {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

/// An end-entity certificate (DER) and its private key (PKCS#8 DER).
struct Leaf {
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl Pki {
    fn new(alg: &'static SignatureAlgorithm, name: &str) -> Self {
        let root = CertifiedIssuer::self_signed(
            ca_params(&format!("{name} Root CA"), None),
            KeyPair::generate_for(alg).expect("key"),
        )
        .expect("root");
        let intermediate = CertifiedIssuer::signed_by(
            ca_params(&format!("{name} Intermediate CA"), Some(0)),
            KeyPair::generate_for(alg).expect("key"),
            &root,
        )
        .expect("intermediate");
        Self { root, intermediate }
    }

    fn root_der(&self) -> Vec<u8> {
        self.root.der().to_vec()
    }

    fn intermediate_der(&self) -> Vec<u8> {
        self.intermediate.der().to_vec()
    }

    /// A leaf signed by the intermediate, for `sans`, valid `from` to `until` (years).
    fn leaf(
        &self,
        alg: &'static SignatureAlgorithm,
        sans: Vec<SanType>,
        from: i32,
        until: i32,
    ) -> Leaf {
        let key = KeyPair::generate_for(alg).expect("key");
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, "end entity");
        p.distinguished_name
            .push(DnType::OrganizationName, "Example");
        p.subject_alt_names = sans;
        p.not_before = rcgen::date_time_ymd(from, 1, 1);
        p.not_after = rcgen::date_time_ymd(until, 1, 1);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = p.signed_by(&key, &self.intermediate).expect("leaf");
        Leaf {
            cert: cert.der().to_vec(),
            key: key.serialize_der(),
        }
    }

    fn fqdn_leaf(&self, alg: &'static SignatureAlgorithm, name: &str) -> Leaf {
        self.leaf(
            alg,
            vec![SanType::DnsName(name.try_into().expect("dns name"))],
            2020,
            2040,
        )
    }
}

fn ca_params(cn: &str, path_len: Option<u8>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(path_len.map_or(
        BasicConstraints::Unconstrained,
        BasicConstraints::Constrained,
    ));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2040, 1, 1);
    p
}

/// The unix time both endpoints are told: mid-2026.
fn test_time() -> u64 {
    u64::try_from(rcgen::date_time_ymd(2026, 6, 1).unix_timestamp()).expect("after 1970")
}

/// Certificate credentials: `leaf` plus `intermediates`, trusting `cas`.
fn cert_auth(
    p: &dyn CryptoProvider,
    leaf: &Leaf,
    intermediates: &[Vec<u8>],
    cas: &[Vec<u8>],
) -> AuthConfig {
    let key = p.signing_key(&leaf.key).expect("key loads");
    let mut chain = vec![leaf.cert.clone()];
    chain.extend_from_slice(intermediates);
    AuthConfig::Certificate(CertificateAuth::new(chain, key, cas).expect("certificate config"))
}

fn with_auth(side: &str, ike: &str, auth: AuthConfig) -> ConnectionConfig {
    let mut c = conn(side, b"unused psk", ike, "aes256gcm16");
    c.auth = auth;
    c
}

/// A well-configured responder: its own `responder.example` leaf from `pki`, with the
/// intermediate, trusting `pki`'s root.
fn good_responder(
    p: &dyn CryptoProvider,
    pki: &Pki,
    alg: &'static SignatureAlgorithm,
) -> ConnectionConfig {
    let leaf = pki.fqdn_leaf(alg, "responder.example");
    let auth = cert_auth(p, &leaf, &[pki.intermediate_der()], &[pki.root_der()]);
    with_auth("responder", IKE, auth)
}

/// Runs A (initiator) against B (responder) with both clocks set.
fn run_pair(
    a: ConnectionConfig,
    pa: &'static dyn CryptoProvider,
    b: ConnectionConfig,
    pb: &'static dyn CryptoProvider,
) -> Pair {
    let mut pair = Pair::new(EndpointConfig::default(), pa, responder(b), pb);
    pair.a.set_unix_time(pair.now, test_time());
    pair.b.set_unix_time(pair.now, test_time());
    pair.connect(Arc::new(a));
    pair.drive(1000);
    pair
}

/// Both sides with chains of `alg` from one PKI, each trusting its root.
fn run_alg(
    alg: &'static SignatureAlgorithm,
    pa: &'static dyn CryptoProvider,
    pb: &'static dyn CryptoProvider,
    ike: &str,
) -> Pair {
    let pki = Pki::new(alg, "Test");
    let (li, lr) = (
        pki.fqdn_leaf(alg, "initiator.example"),
        pki.fqdn_leaf(alg, "responder.example"),
    );
    let ints = [pki.intermediate_der()];
    let cas = [pki.root_der()];
    let a = with_auth("initiator", ike, cert_auth(pa, &li, &ints, &cas));
    let b = with_auth("responder", ike, cert_auth(pb, &lr, &ints, &cas));
    run_pair(a, pa, b, pb)
}

fn assert_up(pair: &Pair) {
    assert!(
        pair.a_error().is_none(),
        "initiator failed: {:?}",
        pair.a_error()
    );
    assert!(
        pair.b_error().is_none(),
        "responder failed: {:?}",
        pair.b_error()
    );
    assert!(pair.a_established().is_some() && pair.b_established().is_some());
    pair.assert_child_keys_match();
}

/// The failure on each side, expecting the `side_b` responder to reject the initiator.
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
    assert_up(&pair);
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
    assert_up(&run_alg(&rcgen::PKCS_ECDSA_P256_SHA256, p, p, IKE));
}

#[test]
fn ecdsa_p384_chain_establishes_with_intermediate_exchange() {
    let p = default_provider();
    let pair = run_alg(&rcgen::PKCS_ECDSA_P384_SHA384, p, p, HYBRID);
    assert_up(&pair);
    assert_eq!(pair.a_established().expect("up").intermediate_exchanges, 1);
}

#[test]
fn rsa_chain_signs_auth_with_pss() {
    let p = default_provider();
    assert_up(&run_alg(&rcgen::PKCS_RSA_SHA256, p, p, IKE));
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
        assert_up(&run_alg(alg, d, r, IKE));
        assert_up(&run_alg(alg, r, d, IKE));
    }
}

#[test]
fn expired_end_entity_certificate_fails() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let pki = Pki::new(alg, "Test");
    let expired = pki.leaf(
        alg,
        vec![SanType::DnsName(
            "initiator.example".try_into().expect("dns"),
        )],
        2020,
        2025,
    );
    let ints = [pki.intermediate_der()];
    let cas = [pki.root_der()];
    let a = with_auth("initiator", IKE, cert_auth(p, &expired, &ints, &cas));
    let b = good_responder(p, &pki, alg);
    assert_responder_rejects(&run_pair(a, p, b, p), "peer certificate has expired");
}

#[test]
fn not_yet_valid_end_entity_certificate_fails() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    let future = pki.leaf(
        alg,
        vec![SanType::DnsName(
            "initiator.example".try_into().expect("dns"),
        )],
        2030,
        2035,
    );
    let ints = [pki.intermediate_der()];
    let cas = [pki.root_der()];
    let a = with_auth("initiator", IKE, cert_auth(p, &future, &ints, &cas));
    let b = good_responder(p, &pki, alg);
    assert_responder_rejects(&run_pair(a, p, b, p), "peer certificate is not yet valid");
}

#[test]
fn certificate_from_an_unknown_ca_fails() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ED25519;
    let (ours, theirs) = (Pki::new(alg, "Ours"), Pki::new(alg, "Theirs"));
    let a = with_auth(
        "initiator",
        IKE,
        cert_auth(
            p,
            &theirs.fqdn_leaf(alg, "initiator.example"),
            &[theirs.intermediate_der()],
            &[ours.root_der()],
        ),
    );
    let b = good_responder(p, &ours, alg);
    assert_responder_rejects(
        &run_pair(a, p, b, p),
        "peer certificate is not issued by a trusted CA",
    );
}

#[test]
fn missing_intermediate_fails() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    let cas = [pki.root_der()];
    let a = with_auth(
        "initiator",
        IKE,
        cert_auth(p, &pki.fqdn_leaf(alg, "initiator.example"), &[], &cas),
    );
    let b = good_responder(p, &pki, alg);
    assert_responder_rejects(
        &run_pair(a, p, b, p),
        "peer certificate is not issued by a trusted CA",
    );
}

#[test]
fn intermediate_without_ca_flag_fails() {
    let p = default_provider();
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
    let cas = [pki.root_der()];
    let a = with_auth(
        "initiator",
        IKE,
        cert_auth(
            p,
            &leaf,
            &[rogue.der().to_vec(), pki.intermediate_der()],
            &cas,
        ),
    );
    let b = good_responder(p, &pki, alg);
    assert_responder_rejects(
        &run_pair(a, p, b, p),
        "intermediate certificate is not a CA",
    );
}

#[test]
fn identity_not_in_certificate_fails() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let pki = Pki::new(alg, "Test");
    let (ints, cas) = ([pki.intermediate_der()], [pki.root_der()]);
    let a = with_auth(
        "initiator",
        IKE,
        cert_auth(p, &pki.fqdn_leaf(alg, "someone-else.example"), &ints, &cas),
    );
    let b = good_responder(p, &pki, alg);
    assert_responder_rejects(
        &run_pair(a, p, b, p),
        "peer identity does not match its certificate",
    );
}

#[test]
fn initiator_rejects_responder_with_wrong_identity() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    let (ints, cas) = ([pki.intermediate_der()], [pki.root_der()]);
    let a = with_auth(
        "initiator",
        IKE,
        cert_auth(p, &pki.fqdn_leaf(alg, "initiator.example"), &ints, &cas),
    );
    let b = with_auth(
        "responder",
        IKE,
        cert_auth(p, &pki.fqdn_leaf(alg, "impostor.example"), &ints, &cas),
    );
    let pair = run_pair(a, p, b, p);
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
    let p = default_provider();
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    let (ints, cas) = ([pki.intermediate_der()], [pki.root_der()]);
    let responder_leaf = pki.fqdn_leaf(alg, "responder.example");
    let addr: IpAddr = "192.0.2.1".parse().expect("ip");
    let v6: IpAddr = "2001:db8::1".parse().expect("ip");
    let email = pki.leaf(
        alg,
        vec![SanType::Rfc822Name(
            "alice@example.org".try_into().expect("email"),
        )],
        2020,
        2040,
    );
    let ipv4 = pki.leaf(alg, vec![SanType::IpAddress(addr)], 2020, 2040);
    let ipv6 = pki.leaf(alg, vec![SanType::IpAddress(v6)], 2020, 2040);
    let dn_leaf = pki.leaf(alg, Vec::new(), 2020, 2040);
    let (_, parsed) = x509_parser::parse_x509_certificate(&dn_leaf.cert).expect("parses");
    let dn = Identity::dn(parsed.subject().as_raw());
    for (leaf, id) in [
        (&email, Identity::email("alice@example.org")),
        (&ipv4, Identity::ip(addr)),
        (&ipv6, Identity::ip(v6)),
        (&dn_leaf, dn),
    ] {
        let mut a = with_auth("initiator", IKE, cert_auth(p, leaf, &ints, &cas));
        a.local_id = id.clone();
        let mut b = with_auth("responder", IKE, cert_auth(p, &responder_leaf, &ints, &cas));
        b.remote_id = Some(id.clone());
        assert_up(&run_pair(a, p, b, p));
    }
    // The same certificates do not vouch for other identities.
    let mut a = with_auth("initiator", IKE, cert_auth(p, &ipv4, &ints, &cas));
    a.local_id = Identity::ip("192.0.2.99".parse().expect("ip"));
    let b = with_auth("responder", IKE, cert_auth(p, &responder_leaf, &ints, &cas));
    assert_responder_rejects(
        &run_pair(a, p, b, p),
        "peer identity does not match its certificate",
    );
}

#[test]
fn psk_on_one_side_and_certificates_on_the_other_fail() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    let (ints, cas) = ([pki.intermediate_der()], [pki.root_der()]);
    let psk = || {
        AuthConfig::Psk(SecretBytes::from_slice(
            b"a pre-shared key of decent length",
        ))
    };
    // PSK initiator, certificate responder: no CERT to validate.
    let a = with_auth("initiator", IKE, psk());
    let b = good_responder(p, &pki, alg);
    assert_responder_rejects(&run_pair(a, p, b, p), "peer sent no certificate");
    // Certificate initiator, PSK responder: a signature where a MAC is expected.
    let a = with_auth(
        "initiator",
        IKE,
        cert_auth(p, &pki.fqdn_leaf(alg, "initiator.example"), &ints, &cas),
    );
    let b = with_auth("responder", IKE, psk());
    assert_responder_rejects(
        &run_pair(a, p, b, p),
        "peer used another authentication method than our PSK",
    );
}

#[test]
fn certificates_with_ppk_mix_the_ppk() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let pki = Pki::new(alg, "Test");
    let (ints, cas) = ([pki.intermediate_der()], [pki.root_der()]);
    let (li, lr) = (
        pki.fqdn_leaf(alg, "initiator.example"),
        pki.fqdn_leaf(alg, "responder.example"),
    );
    let ppk = || SecretBytes::from_slice(&[0x42; 32]);
    for required in [false, true] {
        let mut a = with_auth("initiator", IKE, cert_auth(p, &li, &ints, &cas));
        a.ppk = Some(PpkConfig::fixed(b"qkd-1", ppk(), required));
        let mut b = with_auth("responder", IKE, cert_auth(p, &lr, &ints, &cas));
        b.ppk = Some(PpkConfig::fixed(b"qkd-1", ppk(), required));
        let pair = run_pair(a, p, b, p);
        assert_up(&pair);
        assert!(
            pair.a_established().expect("up").ppk_used
                && pair.b_established().expect("up").ppk_used
        );
    }
    // The responder does not know the offered PPK_ID: NO_PPK_AUTH carries the signature.
    let mut a = with_auth("initiator", IKE, cert_auth(p, &li, &ints, &cas));
    a.ppk = Some(PpkConfig::fixed(b"qkd-1", ppk(), false));
    let mut b = with_auth("responder", IKE, cert_auth(p, &lr, &ints, &cas));
    b.ppk = Some(PpkConfig::fixed(b"qkd-2", ppk(), false));
    let pair = run_pair(a, p, b, p);
    assert_up(&pair);
    assert!(
        !pair.a_established().expect("up").ppk_used && !pair.b_established().expect("up").ppk_used
    );
}

#[test]
fn without_wall_clock_certificates_fail_closed() {
    let p = default_provider();
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    let (ints, cas) = ([pki.intermediate_der()], [pki.root_der()]);
    let a = with_auth(
        "initiator",
        IKE,
        cert_auth(p, &pki.fqdn_leaf(alg, "initiator.example"), &ints, &cas),
    );
    let b = good_responder(p, &pki, alg);
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(b), p);
    pair.a.set_unix_time(pair.now, test_time());
    pair.connect(Arc::new(a));
    pair.drive(1000);
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
    let alg = &rcgen::PKCS_ED25519;
    let pki = Pki::new(alg, "Test");
    let (l1, l2) = (
        pki.fqdn_leaf(alg, "a.example"),
        pki.fqdn_leaf(alg, "b.example"),
    );
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
