//! A test CA and two gateway certificates, generated per test and written as PEM files.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType, SignatureAlgorithm,
};

/// Writes `ca.pem`, and for each name `NAME.pem` (SAN dNSName `NAME.example`, CN `NAME`) and
/// `NAME.key` (PKCS#8) into `dir`; `moon` gets ECDSA P-256, every other name Ed25519.
pub fn write_pki(dir: &Path, names: &[&str]) {
    let ca = ca("Test Root CA");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca");
    for name in names {
        let alg: &'static SignatureAlgorithm = if *name == "moon" {
            &rcgen::PKCS_ECDSA_P256_SHA256
        } else {
            &rcgen::PKCS_ED25519
        };
        let key = KeyPair::generate_for(alg).expect("key");
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, *name);
        p.distinguished_name.push(DnType::OrganizationName, "Test");
        p.subject_alt_names = vec![SanType::DnsName(
            format!("{name}.example").try_into().expect("dns name"),
        )];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = p.signed_by(&key, &ca).expect("leaf");
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write cert");
        write_key(&dir.join(format!("{name}.key")), &key.serialize_pem());
    }
}

/// Writes a second, untrusted CA as `other-ca.pem`.
pub fn write_other_ca(dir: &Path) {
    std::fs::write(dir.join("other-ca.pem"), ca("Other CA").pem()).expect("write");
}

fn write_key(path: &Path, pem: &str) {
    std::fs::write(path, pem).expect("write key");
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
}

fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(p, KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key"))
        .expect("ca")
}
