//! Test PKIs made with rcgen: a root and an intermediate CA, end-entity leaves, the credentials
//! an endpoint is configured with, and a [`Scenario`] where both sides use them.

use ikev2::{AuthConfig, CertificateAuth};
use ipsec_crypto::CryptoProvider;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType, SignatureAlgorithm,
};

use super::{Scenario, conn, default_provider};

/// A CA with one intermediate, both valid 2020–2040, issuing leaves of `alg`.
pub struct Pki {
    pub alg: &'static SignatureAlgorithm,
    pub root: CertifiedIssuer<'static, KeyPair>,
    pub intermediate: CertifiedIssuer<'static, KeyPair>,
}

/// An end-entity certificate (DER) and its private key (PKCS#8 DER).
pub struct Leaf {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

impl Pki {
    pub fn new(alg: &'static SignatureAlgorithm, name: &str) -> Self {
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
        Self {
            alg,
            root,
            intermediate,
        }
    }

    pub fn root_der(&self) -> Vec<u8> {
        self.root.der().to_vec()
    }

    pub fn intermediate_der(&self) -> Vec<u8> {
        self.intermediate.der().to_vec()
    }

    /// A leaf signed by the intermediate, for `sans`, valid `from` to `until` (years).
    pub fn leaf(&self, sans: Vec<SanType>, from: i32, until: i32) -> Leaf {
        let key = KeyPair::generate_for(self.alg).expect("key");
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

    /// A leaf for the DNS name `name`, valid 2020–2040.
    pub fn fqdn_leaf(&self, name: &str) -> Leaf {
        self.leaf(vec![dns(name)], 2020, 2040)
    }

    /// Credentials for `leaf` sent with the intermediate, trusting the root (default provider).
    pub fn auth(&self, leaf: &Leaf) -> AuthConfig {
        self.auth_with(default_provider(), leaf)
    }

    /// As [`Pki::auth`], with the key loaded by `p`.
    pub fn auth_with(&self, p: &dyn CryptoProvider, leaf: &Leaf) -> AuthConfig {
        cert_auth(p, leaf, &[self.intermediate_der()], &[self.root_der()])
    }
}

/// A DNS subjectAltName.
pub fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().expect("dns name"))
}

/// The parameters of a CA certificate valid 2020–2040, `path_len` intermediates below it.
pub fn ca_params(cn: &str, path_len: Option<u8>) -> CertificateParams {
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

/// A self-signed CA (DER) with rcgen's default validity, and a leaf for `name` it issued.
pub fn ca_and_leaf(alg: &'static SignatureAlgorithm, name: &str) -> (Vec<u8>, Leaf) {
    let ca_key = KeyPair::generate_for(alg).expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let issuer = CertifiedIssuer::self_signed(ca, ca_key).expect("ca");
    let key = KeyPair::generate_for(alg).expect("key");
    let leaf = CertificateParams::new(vec![name.to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("leaf");
    let leaf = Leaf {
        cert: leaf.der().to_vec(),
        key: key.serialize_der(),
    };
    (issuer.der().to_vec(), leaf)
}

/// The unix time certificate tests tell both endpoints: mid-2026.
pub fn test_time() -> u64 {
    u64::try_from(rcgen::date_time_ymd(2026, 6, 1).unix_timestamp()).expect("after 1970")
}

/// Certificate credentials: `leaf` plus `intermediates`, trusting `cas`.
pub fn cert_auth(
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

impl Scenario {
    /// Both sides authenticate with `pki` leaves for `initiator.example` and
    /// `responder.example` (see [`Pki::auth`]), both clocks at [`test_time`].
    pub fn certificates(pki: &Pki, ike: &str) -> Self {
        let p = default_provider();
        Self::certificates_between(pki, ike, p, p)
    }

    /// As [`Scenario::certificates`], A on provider `pa` and B on `pb`.
    pub fn certificates_between(
        pki: &Pki,
        ike: &str,
        pa: &'static dyn CryptoProvider,
        pb: &'static dyn CryptoProvider,
    ) -> Self {
        let side = |name: &str, p: &'static dyn CryptoProvider| {
            let mut c = conn(name, b"unused psk", ike, "aes256gcm16");
            c.auth = pki.auth_with(p, &pki.fqdn_leaf(&format!("{name}.example")));
            c
        };
        Self::new(side("initiator", pa), side("responder", pb))
            .providers(pa, pb)
            .unix_time(test_time())
    }
}
