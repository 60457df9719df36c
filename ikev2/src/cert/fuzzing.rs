//! Entry points for the fuzz targets, compiled only with `--cfg fuzzing`: path validation and
//! AUTH verification are otherwise reached only after a complete, authenticated IKE_AUTH
//! exchange, which a fuzzer cannot forge.

use ipsec_crypto::CryptoProvider;

use super::CertificateAuth;
use crate::wire::{AuthMethod, HashAlgorithm, Identification};

/// Validates the peer chain `certs` against the trust anchors of `auth`, with the default
/// signature-check budget.
///
/// # Errors
/// The reason the chain is refused.
pub fn verify_peer(
    provider: &dyn CryptoProvider,
    auth: &CertificateAuth,
    certs: &[&[u8]],
    unix_time: i64,
    id: &Identification,
) -> Result<Vec<u8>, &'static str> {
    let max = crate::EndpointConfig::default().max_chain_signature_checks;
    let mut budget = super::CheckBudget::new(max);
    super::verify_peer(provider, auth.anchors(), certs, unix_time, id, &mut budget)
}

/// Checks signature AUTH `data` of `method` over `octets` with the key `spki`.
///
/// # Errors
/// The reason the AUTH payload is refused.
pub fn verify_auth(
    provider: &dyn CryptoProvider,
    spki: &[u8],
    method: AuthMethod,
    data: &[u8],
    octets: &[u8],
) -> Result<(), &'static str> {
    super::verify_auth(provider, spki, method, data, octets)
}

/// The peer's SIGNATURE_HASH_ALGORITHMS list.
pub fn parse_hash_algorithms(data: &[u8]) -> Vec<HashAlgorithm> {
    super::parse_hash_algorithms(data)
}
