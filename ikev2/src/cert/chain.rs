//! Path validation of the peer's certificates (RFC 5280 §6, the parts IKE needs): from the
//! end-entity certificate through the intermediates the peer sent to a configured trust anchor,
//! checking each link's signature, validity period, CA flag, path length and key usage.
//!
//! Not done: revocation (CRL, OCSP), name constraints (a critical one fails the chain),
//! certificate policies, and extended key usage.

use ipsec_crypto::{CryptoProvider, SignatureScheme};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use super::TrustAnchor;
use super::identity::matches_identity;
use super::signature::scheme_of;
use crate::wire::Identification;

/// Most intermediates we follow between the end entity and a trust anchor.
const MAX_INTERMEDIATES: usize = 6;

/// Most certificates of the peer we consider: the end entity and enough intermediates for
/// [`MAX_INTERMEDIATES`] with a few alternatives. A peer may send up to 63 CERT payloads.
const MAX_PEER_CERTS: usize = 16;

/// The signature checks one chain may spend (checked before each one).
#[derive(Debug)]
pub(crate) struct CheckBudget {
    left: u32,
    /// Checks done.
    pub(crate) used: u32,
    /// Whether a check was refused for want of budget.
    pub(crate) exhausted: bool,
}

impl CheckBudget {
    pub(crate) fn new(max: u32) -> Self {
        Self {
            left: max,
            used: 0,
            exhausted: false,
        }
    }

    fn spend(&mut self) -> Result<(), &'static str> {
        if self.left == 0 {
            self.exhausted = true;
            return Err("certificate chain needs too many signature checks");
        }
        self.left -= 1;
        self.used += 1;
        Ok(())
    }
}

/// Validates the peer's chain (`certs[0]` is the end entity) at `unix_time` for identity `id`
/// and returns the end entity's SubjectPublicKeyInfo (DER). Signature checks stop when
/// `budget` is spent: a peer's CERT payloads must not buy it unbounded work.
///
/// # Errors
/// A static reason, reported as AUTHENTICATION_FAILED.
pub(crate) fn verify_peer(
    provider: &dyn CryptoProvider,
    anchors: &[TrustAnchor],
    certs: &[&[u8]],
    unix_time: i64,
    id: &Identification,
    budget: &mut CheckBudget,
) -> Result<Vec<u8>, &'static str> {
    let (&ee_der, rest) = certs.split_first().ok_or("peer sent no certificate")?;
    let ee = parse(ee_der).ok_or("peer certificate is malformed")?;
    check_end_entity(&ee, unix_time)?;
    if anchors.is_empty() {
        return Err("no trusted CA configured for certificate authentication");
    }
    let pool: Vec<X509Certificate<'_>> = rest
        .iter()
        .take(MAX_PEER_CERTS - 1)
        .filter_map(|d| parse(d))
        .collect();
    let mut walk = ChainWalk {
        provider,
        budget,
        used: vec![false; pool.len()],
        reason: "peer certificate is not issued by a trusted CA",
    };
    let mut current = &ee;
    for intermediates in 0..=MAX_INTERMEDIATES {
        if walk.signed_by_anchor(current, anchors)? {
            matches_identity(&ee, id)?;
            return Ok(ee.public_key().raw.to_vec());
        }
        if intermediates == MAX_INTERMEDIATES {
            break;
        }
        let i = walk.issuer_in(current, &pool)?.ok_or(walk.reason)?;
        check_ca(&pool[i], intermediates, unix_time)?;
        current = &pool[i];
    }
    Err("certificate chain too long")
}

/// The end entity's validity period and extensions.
fn check_end_entity(ee: &X509Certificate<'_>, unix_time: i64) -> Result<(), &'static str> {
    let validity = ee.validity();
    if unix_time > validity.not_after.timestamp() {
        return Err("peer certificate has expired");
    }
    if unix_time < validity.not_before.timestamp() {
        return Err("peer certificate is not yet valid");
    }
    check_extensions(ee, false)
}

/// A walk from the end entity up to a trust anchor, one signature check at a time.
struct ChainWalk<'b> {
    provider: &'b dyn CryptoProvider,
    budget: &'b mut CheckBudget,
    /// Intermediates of the peer's pool already in the chain.
    used: Vec<bool>,
    /// Why the last link failed, for the error if no other succeeds.
    reason: &'static str,
}

impl ChainWalk<'_> {
    /// Whether a trust anchor signed `cert`.
    fn signed_by_anchor(
        &mut self,
        cert: &X509Certificate<'_>,
        anchors: &[TrustAnchor],
    ) -> Result<bool, &'static str> {
        let issuer = cert.issuer().as_raw();
        for anchor in anchors.iter().filter(|a| a.subject == issuer) {
            self.budget.spend()?;
            match verify_link(self.provider, cert, &anchor.spki) {
                Ok(()) => return Ok(true),
                Err(why) => self.reason = why,
            }
        }
        Ok(false)
    }

    /// The unused certificate of `pool` that signed `cert`, now used.
    fn issuer_in(
        &mut self,
        cert: &X509Certificate<'_>,
        pool: &[X509Certificate<'_>],
    ) -> Result<Option<usize>, &'static str> {
        let issuer = cert.issuer().as_raw();
        for (i, cand) in pool.iter().enumerate() {
            if self.used[i] || cand.subject().as_raw() != issuer {
                continue;
            }
            self.budget.spend()?;
            match verify_link(self.provider, cert, cand.public_key().raw) {
                Ok(()) => {
                    self.used[i] = true;
                    return Ok(Some(i));
                }
                Err(why) => self.reason = why,
            }
        }
        Ok(None)
    }
}

/// A whole DER certificate with nothing after it.
pub(super) fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Some(cert),
        _ => None,
    }
}

/// `cert`'s signature with the issuer key `issuer_spki`. SHA-1 signatures are refused.
fn verify_link(
    provider: &dyn CryptoProvider,
    cert: &X509Certificate<'_>,
    issuer_spki: &[u8],
) -> Result<(), &'static str> {
    let scheme = scheme_of(&cert.signature_algorithm)
        .filter(|s| *s != SignatureScheme::RsaPkcs1Sha1)
        .ok_or("certificate signature algorithm not supported")?;
    let verifier = provider
        .signature(scheme)
        .ok_or("certificate signature algorithm not in the crypto provider")?;
    verifier
        .verify(
            issuer_spki,
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        )
        .map_err(|_| "certificate signature does not verify")
}

/// An intermediate CA `below` intermediates above the end entity.
fn check_ca(ca: &X509Certificate<'_>, below: usize, unix_time: i64) -> Result<(), &'static str> {
    let validity = ca.validity();
    if unix_time > validity.not_after.timestamp() || unix_time < validity.not_before.timestamp() {
        return Err("intermediate CA certificate has expired or is not yet valid");
    }
    let constraints = ca
        .basic_constraints()
        .map_err(|_| "intermediate CA certificate is malformed")?;
    let Some(bc) = constraints.filter(|b| b.value.ca) else {
        return Err("intermediate certificate is not a CA");
    };
    if bc
        .value
        .path_len_constraint
        .is_some_and(|n| usize::try_from(n).is_ok_and(|n| below > n))
    {
        return Err("intermediate CA path length constraint exceeded");
    }
    check_extensions(ca, true)
}

/// Key usage (if present) and critical extensions we do not implement.
fn check_extensions(cert: &X509Certificate<'_>, ca: bool) -> Result<(), &'static str> {
    let ku = cert
        .key_usage()
        .map_err(|_| "certificate has duplicate extensions")?;
    if let Some(ku) = ku {
        let ok = if ca {
            ku.value.key_cert_sign()
        } else {
            ku.value.digital_signature() || ku.value.non_repudiation()
        };
        if !ok {
            return Err(if ca {
                "CA certificate key usage does not allow certificate signing"
            } else {
                "peer certificate key usage does not allow signatures"
            });
        }
    }
    let unsupported = cert.extensions().iter().any(|e| {
        e.critical
            && matches!(
                e.parsed_extension(),
                ParsedExtension::UnsupportedExtension { .. }
                    | ParsedExtension::ParseError { .. }
                    | ParsedExtension::NameConstraints(_)
            )
    });
    if unsupported {
        return Err("certificate has an unsupported critical extension");
    }
    Ok(())
}
