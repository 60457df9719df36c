//! Test PKI for the simulator: a CA, two KME server certificates, one client certificate per
//! SAE, and a client certificate from a foreign CA that the KMEs must refuse.
//!
//! Directory layout written by [`SimPki::write_to_dir`]:
//!
//! - `ca.pem`: the CA both KMEs and all SAEs trust;
//! - `kme-a.pem`, `kme-a.key`, `kme-b.pem`, `kme-b.key`: KME server certificates (SAN
//!   `localhost`, `127.0.0.1`, `::1`; CN = KME ID);
//! - `sae-<ID>.pem`, `sae-<ID>.key`, `sae-<ID>.serial`: an SAE's client certificate (CN = ID),
//!   its key, and its serial in decimal;
//! - `foreign-ca.pem`, `foreign-client.pem`, `foreign-client.key`: a client certificate with
//!   the first SAE's CN, signed by another CA.
//!
//! Keys are PKCS#8 PEM, written with mode 0600.

use std::fs;
use std::io;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};

/// A PEM certificate and its PEM private key.
pub struct CertAndKey {
    /// The certificate.
    pub cert_pem: String,
    /// The PKCS#8 private key.
    pub key_pem: String,
}

/// One SAE's client credentials.
pub struct SaeCredentials {
    /// The SAE ID (the certificate's CN).
    pub sae_id: String,
    /// The certificate's serial number (the SAE ID under `--sae-id-from serial`).
    pub serial: u64,
    /// Certificate and key.
    pub cert: CertAndKey,
}

/// The server side's TLS material: what [`spawn`](crate::spawn) needs.
pub struct KmeTls {
    /// CA that client certificates must chain to.
    pub client_ca_pem: Vec<u8>,
    /// KME A's certificate chain and key.
    pub kme_a: (Vec<u8>, Vec<u8>),
    /// KME B's certificate chain and key.
    pub kme_b: (Vec<u8>, Vec<u8>),
}

impl KmeTls {
    /// Reads `ca.pem`, `kme-a.*` and `kme-b.*` from a directory written by
    /// [`SimPki::write_to_dir`].
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn from_dir(dir: &Path) -> io::Result<Self> {
        let read = |name: &str| fs::read(dir.join(name));
        Ok(Self {
            client_ca_pem: read("ca.pem")?,
            kme_a: (read("kme-a.pem")?, read("kme-a.key")?),
            kme_b: (read("kme-b.pem")?, read("kme-b.key")?),
        })
    }
}

/// Everything the simulator and its clients need, generated fresh.
pub struct SimPki {
    /// The common CA.
    pub ca_pem: String,
    /// KME A's server certificate.
    pub kme_a: CertAndKey,
    /// KME B's server certificate.
    pub kme_b: CertAndKey,
    /// One client certificate per SAE.
    pub saes: Vec<SaeCredentials>,
    /// A CA the KMEs do not trust.
    pub foreign_ca_pem: String,
    /// A client certificate with the first SAE's CN, signed by the foreign CA.
    pub foreign_client: CertAndKey,
}

impl SimPki {
    /// Generates the CA, the KME certificates (CN `kme_a_id` / `kme_b_id`) and one client
    /// certificate per SAE ID (ECDSA P-256).
    ///
    /// # Errors
    /// An SAE ID unusable as a CN and file name (allowed: `A-Z a-z 0-9 . _ -`, not starting
    /// with `.`), or a certificate generation failure.
    pub fn generate(sae_ids: &[&str], kme_a_id: &str, kme_b_id: &str) -> Result<Self, String> {
        let err = |e: rcgen::Error| e.to_string();
        if let Some(bad) = sae_ids.iter().find(|id| !is_safe_sae_id(id)) {
            return Err(format!("SAE ID {bad:?}: use A-Z a-z 0-9 . _ - only"));
        }
        let ca = new_ca("qkd-kme-sim CA").map_err(err)?;
        let foreign_ca = new_ca("qkd-kme-sim foreign CA").map_err(err)?;
        let mut saes = Vec::with_capacity(sae_ids.len());
        for id in sae_ids {
            let serial = random_serial();
            saes.push(SaeCredentials {
                sae_id: (*id).to_owned(),
                serial,
                cert: leaf(&ca, id, Some(serial), Role::Client).map_err(err)?,
            });
        }
        let foreign_cn = sae_ids.first().copied().unwrap_or("sae");
        Ok(Self {
            ca_pem: ca.pem(),
            kme_a: leaf(&ca, kme_a_id, None, Role::Server).map_err(err)?,
            kme_b: leaf(&ca, kme_b_id, None, Role::Server).map_err(err)?,
            saes,
            foreign_ca_pem: foreign_ca.pem(),
            foreign_client: leaf(&foreign_ca, foreign_cn, None, Role::Client).map_err(err)?,
        })
    }

    /// The credentials of `sae_id`.
    pub fn sae(&self, sae_id: &str) -> Option<&SaeCredentials> {
        self.saes.iter().find(|s| s.sae_id == sae_id)
    }

    /// The server side's TLS material.
    pub fn kme_tls(&self) -> KmeTls {
        let pair = |c: &CertAndKey| {
            (
                c.cert_pem.clone().into_bytes(),
                c.key_pem.clone().into_bytes(),
            )
        };
        KmeTls {
            client_ca_pem: self.ca_pem.clone().into_bytes(),
            kme_a: pair(&self.kme_a),
            kme_b: pair(&self.kme_b),
        }
    }

    /// Writes the files of the module table into `dir` (created if missing).
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write_to_dir(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        write_pair(dir, "kme-a", &self.kme_a)?;
        write_pair(dir, "kme-b", &self.kme_b)?;
        for sae in &self.saes {
            let stem = format!("sae-{}", sae.sae_id);
            write_pair(dir, &stem, &sae.cert)?;
            fs::write(
                dir.join(format!("{stem}.serial")),
                format!("{}\n", sae.serial),
            )?;
        }
        fs::write(dir.join("foreign-ca.pem"), &self.foreign_ca_pem)?;
        write_pair(dir, "foreign-client", &self.foreign_client)
    }
}

#[derive(Clone, Copy)]
enum Role {
    Client,
    Server,
}

fn new_ca(cn: &str) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

fn leaf(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    cn: &str,
    serial: Option<u64>,
    role: Role,
) -> Result<CertAndKey, rcgen::Error> {
    let names = match role {
        Role::Server => vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ],
        Role::Client => Vec::new(),
    };
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.serial_number = serial.map(|s| SerialNumber::from_slice(&s.to_be_bytes()));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![match role {
        Role::Server => ExtendedKeyUsagePurpose::ServerAuth,
        Role::Client => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok(CertAndKey {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A positive, non-zero 63-bit serial.
fn random_serial() -> u64 {
    let mut bytes = [0u8; 8];
    // The system RNG failing would also stop key generation just before; a fixed serial
    // still yields a valid certificate.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    (u64::from_be_bytes(bytes) >> 1).max(1)
}

fn is_safe_sae_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn write_pair(dir: &Path, stem: &str, pair: &CertAndKey) -> io::Result<()> {
    fs::write(dir.join(format!("{stem}.pem")), &pair.cert_pem)?;
    write_private(&dir.join(format!("{stem}.key")), pair.key_pem.as_bytes())
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SaeIdSource;

    #[test]
    fn generated_client_certs_carry_cn_and_serial() {
        let pki = SimPki::generate(&["alice", "bob"], "KME_A", "KME_B").unwrap();
        let bob = pki.sae("bob").unwrap();
        let der = qkd_client::tls::parse_certs(bob.cert.cert_pem.as_bytes(), "bob").unwrap();
        assert_eq!(
            SaeIdSource::CommonName.sae_id(&der[0]).as_deref(),
            Some("bob")
        );
        assert_eq!(
            SaeIdSource::Serial.sae_id(&der[0]),
            Some(bob.serial.to_string())
        );
        let foreign =
            qkd_client::tls::parse_certs(pki.foreign_client.cert_pem.as_bytes(), "f").unwrap();
        assert_eq!(
            SaeIdSource::CommonName.sae_id(&foreign[0]).as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn unsafe_sae_ids_are_refused() {
        for bad in ["", ".x", "a/b", "a b", "ü"] {
            assert!(SimPki::generate(&[bad], "A", "B").is_err(), "{bad:?}");
        }
    }
}
