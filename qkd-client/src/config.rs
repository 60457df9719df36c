//! Configuration of a [`KmeClient`](crate::KmeClient).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::flavor::ApiFlavor;

/// PEM text, from a file or in memory.
pub enum PemSource {
    /// A PEM file, read when the client is built.
    Path(PathBuf),
    /// PEM text in memory.
    Bytes(Vec<u8>),
}

impl PemSource {
    pub(crate) fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Path(p) => std::fs::read(p),
            Self::Bytes(b) => Ok(b.clone()),
        }
    }
}

impl From<PathBuf> for PemSource {
    fn from(path: PathBuf) -> Self {
        Self::Path(path)
    }
}

impl From<String> for PemSource {
    fn from(pem: String) -> Self {
        Self::Bytes(pem.into_bytes())
    }
}

impl fmt::Debug for PemSource {
    /// Shows the path, or only the length of in-memory PEM (it may be a private key).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
        }
    }
}

/// Everything a [`KmeClient`](crate::KmeClient) needs: where the KME is, the SAE's
/// certificate and key for mutual TLS, the CA that signs the KME's certificate, and the
/// timeout and retry policy.
#[derive(Debug)]
pub struct ClientConfig {
    /// `https://host[:port][/prefix]`; the port defaults to 443.
    pub kme_url: String,
    /// The SAE's certificate chain (leaf first). The KME derives the SAE ID from it.
    pub client_cert_chain: PemSource,
    /// The SAE's private key (PKCS#8, SEC1 or PKCS#1).
    pub client_key: PemSource,
    /// The CA certificate(s) the KME's certificate must chain to.
    pub ca: PemSource,
    /// Limit for one attempt: connect, TLS handshake, request and whole answer.
    pub timeout: Duration,
    /// Further attempts after a failure that left the KME unchanged (connection refused, 503),
    /// and after a timeout of a method that cannot lose keys (`status`, `enc_keys`).
    pub retries: u32,
    /// Wait before the first retry; doubled on each further retry, at most 5 s.
    pub retry_backoff: Duration,
    /// API edition (path and role naming).
    pub api: ApiFlavor,
    /// Connections to the KME open at once, busy or kept alive for reuse; a request beyond
    /// them waits for one (within its timeout).
    pub max_connections: usize,
}

impl ClientConfig {
    /// A configuration with the default policy: 5 s timeout, 2 retries, 200 ms backoff,
    /// at most 4 connections, ETSI GS QKD 014 V1.1.1.
    pub fn new(
        kme_url: impl Into<String>,
        client_cert_chain: impl Into<PemSource>,
        client_key: impl Into<PemSource>,
        ca: impl Into<PemSource>,
    ) -> Self {
        Self {
            kme_url: kme_url.into(),
            client_cert_chain: client_cert_chain.into(),
            client_key: client_key.into(),
            ca: ca.into(),
            timeout: Duration::from_secs(5),
            retries: 2,
            retry_backoff: Duration::from_millis(200),
            api: ApiFlavor::default(),
            max_connections: 4,
        }
    }
}
