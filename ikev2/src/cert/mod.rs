//! X.509 certificate authentication: our chain and private key, the trust anchors that the
//! peer's chain must lead to, path validation, identity matching, and the RFC 7427 AUTH
//! encoding.
//!
//! The engine reads no clock: the driver tells it the wall-clock time with
//! [`Endpoint::set_unix_time`](crate::Endpoint::set_unix_time), and validity periods are checked
//! against that time advanced by the `now` of each call. Without it, certificate validation
//! fails closed.

mod chain;
#[cfg(fuzzing)]
pub mod fuzzing;
mod identity;
mod signature;

pub use identity::matches_identity;

use std::fmt;
use std::time::Instant;

use ipsec_crypto::SigningKey;
use sha1::{Digest, Sha1};

pub(crate) use chain::{CheckBudget, verify_peer};
pub(crate) use signature::{
    hash_algorithms_notify_data, parse_hash_algorithms, sign_auth, verify_auth,
};

/// Certificate credentials of a connection: our chain and private key (to sign our AUTH) and
/// the CAs we trust for the peer's chain.
pub struct CertificateAuth {
    chain: Vec<Vec<u8>>,
    key: Option<Box<dyn SigningKey>>,
    anchors: Vec<TrustAnchor>,
}

/// Why a [`CertificateAuth`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// Our chain has no certificate.
    EmptyChain,
    /// Certificate `index` of our chain (0 = end entity) is not one DER X.509 certificate.
    MalformedChain { index: usize },
    /// Trusted CA certificate `index` is not one DER X.509 certificate.
    MalformedTrustAnchor { index: usize },
    /// The private key is not the key of the end-entity certificate.
    KeyMismatch,
}

/// A trusted CA: its subject and public key, and the SHA-1 hash of that key for CERTREQ.
pub(crate) struct TrustAnchor {
    pub(crate) subject: Vec<u8>,
    pub(crate) spki: Vec<u8>,
    spki_sha1: [u8; 20],
}

/// Wall-clock time as the driver last told it: `unix_secs` at `at`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WallClock {
    at: Instant,
    unix_secs: u64,
}

impl CertificateAuth {
    /// Our `chain` (DER, end entity first, then the intermediates to send), its private `key`
    /// (from [`CryptoProvider::signing_key`](ipsec_crypto::CryptoProvider::signing_key)), and the
    /// CA certificates (DER) a peer's chain must lead to. `trusted_cas` may be empty when the
    /// peer authenticates otherwise (EAP).
    ///
    /// # Errors
    /// When a certificate does not parse or the key does not belong to the end entity.
    pub fn new(
        chain: Vec<Vec<u8>>,
        key: Box<dyn SigningKey>,
        trusted_cas: &[Vec<u8>],
    ) -> Result<Self, CertificateError> {
        let ee = chain.first().ok_or(CertificateError::EmptyChain)?;
        let parsed = chain::parse(ee).ok_or(CertificateError::MalformedChain { index: 0 })?;
        if *parsed.public_key().subject_public_key.data != *key.public_key() {
            return Err(CertificateError::KeyMismatch);
        }
        if let Some(index) = chain.iter().position(|c| chain::parse(c).is_none()) {
            return Err(CertificateError::MalformedChain { index });
        }
        Ok(Self {
            anchors: anchors(trusted_cas)?,
            chain,
            key: Some(key),
        })
    }

    /// Only the CAs to verify the peer with, for an end that does not sign: an EAP initiator
    /// (see [`AuthConfig::Eap`](crate::AuthConfig::Eap)).
    ///
    /// # Errors
    /// When a CA certificate does not parse.
    pub fn verify_only(trusted_cas: &[Vec<u8>]) -> Result<Self, CertificateError> {
        Ok(Self {
            chain: Vec::new(),
            key: None,
            anchors: anchors(trusted_cas)?,
        })
    }

    /// Our chain, end entity first.
    pub(crate) fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// Our private key, if we sign.
    pub(crate) fn key(&self) -> Option<&dyn SigningKey> {
        self.key.as_deref()
    }

    pub(crate) fn anchors(&self) -> &[TrustAnchor] {
        &self.anchors
    }

    /// CERTREQ data for X.509 signatures: the SHA-1 hash of each trusted CA's
    /// SubjectPublicKeyInfo, concatenated (RFC 7296 §3.7); `None` without trusted CAs.
    pub(crate) fn certreq_data(&self) -> Option<Vec<u8>> {
        if self.anchors.is_empty() {
            return None;
        }
        Some(self.anchors.iter().flat_map(|a| a.spki_sha1).collect())
    }
}

impl fmt::Debug for CertificateAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuth")
            .field("chain_len", &self.chain.len())
            .field("has_key", &self.key.is_some())
            .field("trusted_cas", &self.anchors.len())
            .finish()
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyChain => f.write_str("certificate chain is empty"),
            Self::MalformedChain { index } => {
                write!(f, "certificate {index} of the chain is malformed")
            }
            Self::MalformedTrustAnchor { index } => {
                write!(f, "trusted CA certificate {index} is malformed")
            }
            Self::KeyMismatch => {
                f.write_str("private key does not match the end-entity certificate")
            }
        }
    }
}

impl std::error::Error for CertificateError {}

impl WallClock {
    pub(crate) fn new(at: Instant, unix_secs: u64) -> Self {
        Self { at, unix_secs }
    }

    /// Seconds since the Unix epoch at `now`.
    pub(crate) fn unix_time(&self, now: Instant) -> i64 {
        let base = i64::try_from(self.unix_secs).unwrap_or(i64::MAX);
        let delta = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        match now.checked_duration_since(self.at) {
            Some(d) => base.saturating_add(delta(d)),
            None => base.saturating_sub(delta(self.at.duration_since(now))),
        }
    }
}

fn anchors(trusted_cas: &[Vec<u8>]) -> Result<Vec<TrustAnchor>, CertificateError> {
    trusted_cas
        .iter()
        .enumerate()
        .map(|(index, der)| {
            let ca = chain::parse(der).ok_or(CertificateError::MalformedTrustAnchor { index })?;
            let spki = ca.public_key().raw.to_vec();
            Ok(TrustAnchor {
                subject: ca.subject().as_raw().to_vec(),
                spki_sha1: Sha1::digest(&spki).into(),
                spki,
            })
        })
        .collect()
}
