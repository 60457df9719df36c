//! rustls configurations for both ends of ETSI GS QKD 014 §4's mutually authenticated HTTPS
//! (TLS 1.2 or 1.3, aws-lc-rs provider, hybrid ML-KEM key exchange preferred). The client uses
//! one end; the KME simulator (`qkd-kme-sim`) serves with [`server_config`], so both ends
//! follow one policy.

use std::error::Error as StdError;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// The crypto provider for every KME connection, chosen explicitly so that another process-wide
/// default cannot change it.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// All certificates of a PEM text, in order.
///
/// # Errors
/// A PEM syntax error, or no CERTIFICATE block; the message starts with `what`.
pub fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no CERTIFICATE in PEM"));
    }
    Ok(certs)
}

/// The first private key of a PEM text.
pub(crate) fn parse_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("{what}: {e}"))
}

/// A root store holding every certificate of `ca_pem`.
pub(crate) fn root_store(ca_pem: &[u8]) -> Result<Arc<RootCertStore>, String> {
    let mut roots = RootCertStore::empty();
    for cert in parse_certs(ca_pem, "CA")? {
        roots.add(cert).map_err(|e| format!("CA: {e}"))?;
    }
    Ok(Arc::new(roots))
}

/// The SAE side: verify the KME against `ca_pem`, present `chain_pem`/`key_pem`.
pub(crate) fn client_config(
    chain_pem: &[u8],
    key_pem: &[u8],
    ca_pem: &[u8],
) -> Result<rustls::ClientConfig, String> {
    let chain = parse_certs(chain_pem, "client certificate")?;
    let key = parse_key(key_pem, "client key")?;
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(root_store(ca_pem)?)
        .with_client_auth_cert(chain, key)
        .map_err(|e| format!("client certificate/key: {e}"))
}

/// The KME side: present `chain_pem`/`key_pem`, require a client certificate chaining to
/// `client_ca_pem`. A client certificate from another CA fails the handshake.
///
/// # Errors
/// Unusable PEM, a key that does not match the certificate, or an empty CA.
pub fn server_config(
    chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: &[u8],
) -> Result<rustls::ServerConfig, String> {
    let chain = parse_certs(chain_pem, "KME certificate")?;
    let key = parse_key(key_pem, "KME key")?;
    let verifier =
        WebPkiClientVerifier::builder_with_provider(root_store(client_ca_pem)?, provider())
            .build()
            .map_err(|e| format!("client verifier: {e}"))?;
    rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| format!("KME certificate/key: {e}"))
}

/// The rustls error somewhere in `err`'s source chain, looking inside `io::Error`s (whose
/// `source()` skips the wrapped error itself).
pub(crate) fn find_tls_error(err: &(dyn StdError + 'static)) -> Option<rustls::Error> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    let mut depth = 0;
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.clone());
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(tls.clone());
        }
        depth += 1;
        if depth > MAX_SOURCE_DEPTH {
            return None;
        }
        next = e.source();
    }
    None
}

/// Error chains are short; this only bounds the walk.
const MAX_SOURCE_DEPTH: usize = 16;
