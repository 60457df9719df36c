//! Certificate authentication (`auth = "pubkey"`): our chain and PKCS#8 key in `[local]`, the
//! CAs we trust for the peer in `[remote]`, each file relative to the configuration's
//! directory and checked here (readable, PEM, X.509, key matching the certificate), so that a
//! bad file is refused with its line and field instead of failing the first IKE_AUTH.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ikev2::{AuthConfig, CertificateAuth, CertificateError, Identity};
use ipsec_crypto::SecretBytes;
use toml::Spanned;
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;
use zeroize::Zeroize;

use super::load::Validator;
use super::raw::RawAuth;
use super::values::identity;

/// Certificate credentials as loaded: DER certificates and the PKCS#8 key (zeroized on drop).
pub(crate) struct CertCredentials {
    /// Our end-entity certificate first, then the intermediates we send.
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) key: SecretBytes,
    /// The CAs the peer's chain must lead to.
    pub(crate) cacerts: Vec<Vec<u8>>,
}

impl CertCredentials {
    /// The engine's credentials; the key was checked at load, so a failure here means the
    /// crypto provider changed its mind, and the connection can only verify, not sign.
    pub(crate) fn to_engine(&self) -> AuthConfig {
        let provider = ipsec_crypto::default_provider();
        let auth = provider
            .signing_key(self.key.expose())
            .map_err(|e| e.to_string())
            .and_then(|k| {
                CertificateAuth::new(self.chain.clone(), k, &self.cacerts)
                    .map_err(|e| e.to_string())
            });
        match auth {
            Ok(a) => AuthConfig::Certificate(a),
            Err(e) => {
                tracing::error!(error = %e, "certificate credentials no longer load; this connection cannot authenticate");
                AuthConfig::Certificate(
                    CertificateAuth::verify_only(&self.cacerts)
                        .unwrap_or_else(|_| unreachable_anchors()),
                )
            }
        }
    }
}

/// Trust anchors that were checked at load always parse again; this is never reached.
fn unreachable_anchors() -> CertificateAuth {
    #[allow(clippy::unwrap_used)]
    CertificateAuth::verify_only(&[]).unwrap()
}

impl Validator<'_> {
    /// Loads `certs`, `key` and `cacerts` for a `pubkey` connection and returns them with our
    /// identity: `local.id` if given (which the certificate must name), else its subject DN.
    pub(super) fn certificates(
        &mut self,
        base: &str,
        local: &Spanned<RawAuth>,
        remote: &Spanned<RawAuth>,
    ) -> Option<(CertCredentials, String, Identity)> {
        let errors_before = self.errors.len();
        let (l, r) = (local.get_ref(), remote.get_ref());
        self.misplaced(
            &format!("{base}.remote"),
            "certs",
            r.certs.first(),
            "[local]",
        );
        self.misplaced(&format!("{base}.remote"), "key", r.key.as_ref(), "[local]");
        self.misplaced(
            &format!("{base}.local"),
            "cacerts",
            l.cacerts.first(),
            "[remote]",
        );
        let cacerts = self.cert_files(
            &format!("{base}.remote.cacerts"),
            &r.cacerts,
            &remote.span(),
        );
        if self.errors.len() > errors_before {
            // Still check our own files, so that every problem is reported at once.
            let _ = self.own_certificate(&format!("{base}.local"), l, &local.span(), None);
            return None;
        }
        self.own_certificate(&format!("{base}.local"), l, &local.span(), cacerts)
    }

    /// Our chain (`certs`) and PKCS#8 key (`key`) of `table`, checked against each other and
    /// against the CAs we trust for the peer, with our identity: `id` if given (which the
    /// certificate must name), else its subject DN. `None` after an error, or when `cacerts`
    /// is `None` (their error was reported).
    pub(super) fn own_certificate(
        &mut self,
        table: &str,
        l: &RawAuth,
        span: &Range<usize>,
        cacerts: Option<Vec<(PathBuf, Vec<u8>)>>,
    ) -> Option<(CertCredentials, String, Identity)> {
        let errors_before = self.errors.len();
        let chain = self.cert_files(&format!("{table}.certs"), &l.certs, span);
        let key = match &l.key {
            Some(k) => self.private_key(&format!("{table}.key"), k),
            None => {
                self.error(
                    span,
                    &format!("{table}.key"),
                    "required with auth = \"pubkey\": the PKCS#8 PEM private key of certs[0]",
                );
                None
            }
        };
        let (chain, key, cacerts) = (chain?, key?, cacerts?);
        if self.errors.len() > errors_before {
            return None;
        }
        self.check_key(table, l, &chain, &key, &cacerts)?;
        let (id_text, id) = self.cert_identity(table, l, &chain[0].1)?;
        self.expiry_warning(&format!("{table}.certs"), &l.certs[0], &chain[0]);
        Some((
            CertCredentials {
                chain: chain.into_iter().map(|(_, der)| der).collect(),
                key,
                cacerts: cacerts.into_iter().map(|(_, der)| der).collect(),
            },
            id_text,
            id,
        ))
    }

    fn misplaced<T>(&mut self, table: &str, name: &str, raw: Option<&Spanned<T>>, goes: &str) {
        if let Some(v) = raw {
            self.error(
                &v.span(),
                &format!("{table}.{name}"),
                format!("belongs in {goes}"),
            );
        }
    }

    /// Every certificate of every file in order, as (file, DER); `None` after an error.
    fn cert_files(
        &mut self,
        field: &str,
        files: &[Spanned<String>],
        table: &Range<usize>,
    ) -> Option<Vec<(PathBuf, Vec<u8>)>> {
        if files.is_empty() {
            self.error(
                table,
                field,
                "required with auth = \"pubkey\" (a list of PEM files)",
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for f in files {
            match self.read_certs(f.get_ref()) {
                Ok(certs) => out.extend(certs),
                Err(e) => {
                    self.error(&f.span(), field, e);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn read_certs(&self, name: &str) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
        let path = self.relative(name);
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut out = Vec::new();
        for pem in Pem::iter_from_buffer(&bytes) {
            let pem = pem.map_err(|e| format!("{}: not a PEM file: {e}", path.display()))?;
            if pem.label != "CERTIFICATE" {
                return Err(format!(
                    "{}: holds a '{}' block where a CERTIFICATE was expected",
                    path.display(),
                    pem.label
                ));
            }
            if let Err(e) = X509Certificate::from_der(&pem.contents) {
                return Err(format!(
                    "{}: certificate {} is not valid X.509: {e}",
                    path.display(),
                    out.len()
                ));
            }
            out.push((path.clone(), pem.contents));
        }
        if out.is_empty() {
            return Err(format!(
                "{}: no PEM certificate (-----BEGIN CERTIFICATE-----) found",
                path.display()
            ));
        }
        Ok(out)
    }

    /// The PKCS#8 key, checked by the crypto provider (Ed25519, ECDSA P-256/P-384, RSA).
    fn private_key(&mut self, field: &str, raw: &Spanned<String>) -> Option<SecretBytes> {
        let result = self.read_key(raw.get_ref());
        result.map_err(|e| self.error(&raw.span(), field, e)).ok()
    }

    fn read_key(&self, name: &str) -> Result<SecretBytes, String> {
        let path = self.relative(name);
        let mut bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let found = Pem::iter_from_buffer(&bytes).next();
        bytes.zeroize();
        let mut pem = match found {
            Some(Ok(p)) => p,
            Some(Err(e)) => return Err(format!("{}: not a PEM file: {e}", path.display())),
            None => return Err(format!("{}: no PEM private key found", path.display())),
        };
        let label = std::mem::take(&mut pem.label);
        let der = SecretBytes::new(std::mem::take(&mut pem.contents));
        match label.as_str() {
            "PRIVATE KEY" => {}
            "ENCRYPTED PRIVATE KEY" => {
                return Err(format!(
                    "{}: encrypted keys are not supported; decrypt it with `openssl pkcs8 -in KEY -out PLAIN`",
                    path.display()
                ));
            }
            "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
                return Err(format!(
                    "{}: a '{label}' is not PKCS#8; convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY8`",
                    path.display()
                ));
            }
            other => {
                return Err(format!(
                    "{}: holds a '{other}' block where a PRIVATE KEY (PKCS#8) was expected",
                    path.display()
                ));
            }
        }
        ipsec_crypto::default_provider()
            .signing_key(der.expose())
            .map_err(|e| {
                format!(
                    "{}: unusable private key ({e}); use Ed25519, ECDSA P-256/P-384 or RSA",
                    path.display()
                )
            })?;
        Ok(der)
    }

    /// The key must belong to `certs[0]`, and every certificate must be one the engine takes.
    fn check_key(
        &mut self,
        table: &str,
        l: &RawAuth,
        chain: &[(PathBuf, Vec<u8>)],
        key: &SecretBytes,
        cacerts: &[(PathBuf, Vec<u8>)],
    ) -> Option<()> {
        let signing = ipsec_crypto::default_provider()
            .signing_key(key.expose())
            .ok()?;
        let ders: Vec<Vec<u8>> = chain.iter().map(|(_, d)| d.clone()).collect();
        let cas: Vec<Vec<u8>> = cacerts.iter().map(|(_, d)| d.clone()).collect();
        let span = |s: Option<&Spanned<String>>| s.map(Spanned::span).unwrap_or_default();
        match CertificateAuth::new(ders, signing, &cas) {
            Ok(_) => Some(()),
            Err(CertificateError::KeyMismatch) => {
                self.error(
                    &span(l.key.as_ref()),
                    &format!("{table}.key"),
                    format!(
                        "{} does not match the certificate in {}",
                        self.relative(l.key.as_ref().map_or("", |k| k.get_ref()))
                            .display(),
                        chain[0].0.display()
                    ),
                );
                None
            }
            Err(e) => {
                self.error(
                    &span(l.certs.first()),
                    &format!("{table}.certs"),
                    e.to_string(),
                );
                None
            }
        }
    }

    /// `id` as written (which the certificate must name, or the peer refuses it), else the
    /// subject DN.
    fn cert_identity(
        &mut self,
        table: &str,
        l: &RawAuth,
        leaf: &[u8],
    ) -> Option<(String, Identity)> {
        let (_, cert) = X509Certificate::from_der(leaf).ok()?;
        let subject = cert.subject().to_string();
        let Some(raw) = &l.id else {
            return Some((subject, Identity::dn(cert.subject().as_raw())));
        };
        let text = raw.get_ref();
        if text.contains('=') {
            if normalize_dn(text) == normalize_dn(&subject) {
                return Some((text.clone(), Identity::dn(cert.subject().as_raw())));
            }
            self.error(
                &raw.span(),
                &format!("{table}.id"),
                format!("'{text}' is not the certificate's subject '{subject}'"),
            );
            return None;
        }
        let id = identity(text)
            .map_err(|e| self.error(&raw.span(), &format!("{table}.id"), e))
            .ok()?;
        if ikev2::matches_identity(&cert, &id.0).is_err() {
            self.error(
                &raw.span(),
                &format!("{table}.id"),
                format!("'{text}' is not a subjectAltName of the certificate (the peer would refuse it); omit id to use the subject '{subject}'"),
            );
            return None;
        }
        Some((text.clone(), id))
    }

    fn expiry_warning(&mut self, field: &str, file: &Spanned<String>, leaf: &(PathBuf, Vec<u8>)) {
        let Ok((_, cert)) = X509Certificate::from_der(&leaf.1) else {
            return;
        };
        if !cert.validity().is_valid() {
            let msg = format!(
                "{} is not valid now (valid {} to {}); peers will refuse it",
                leaf.0.display(),
                cert.validity().not_before,
                cert.validity().not_after
            );
            self.warn(&file.span(), field, &msg);
        }
    }

    fn relative(&self, name: &str) -> PathBuf {
        self.file
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(name)
    }
}

/// A DN compared loosely: without blanks around separators.
fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| rdn.split('=').map(str::trim).collect::<Vec<_>>().join("="))
        .collect::<Vec<_>>()
        .join(",")
}
