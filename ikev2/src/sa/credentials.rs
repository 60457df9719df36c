//! AUTH payloads in both roles (RFC 7296 §2.15): ours from our credentials (PSK, or a
//! certificate with an RFC 7427 signature, method 1 for RSA), the peer's checked against its
//! certificate chain or the PSK; certificates and CERTREQ; the payload lookups IKE_AUTH uses.

use std::time::Instant;

use ipsec_crypto::{Prf, ct_eq};

use super::state::Handshake;
use super::{Ctx, IkeSa, find_notify, notify};
use crate::cert::{
    CertificateAuth, CheckBudget, hash_algorithms_notify_data, parse_hash_algorithms, sign_auth,
    verify_auth, verify_peer,
};
use crate::config::{AuthConfig, ConnectionConfig};
use crate::error::Error;
use crate::keys::psk_auth;
use crate::wire::{
    AuthMethod, AuthPayload, CertEncoding, CertPayload, HashAlgorithm, Identification, Message,
    NotifyType, Payload, PpkIdType,
};

impl IkeSa {
    /// Our AUTH payload over `octets` with our credentials (the inner ones with EAP).
    pub(super) fn own_auth(
        &self,
        prf: &dyn Prf,
        hs: &Handshake,
        octets: &[&[u8]],
    ) -> Result<AuthPayload, Error> {
        match credentials(&self.conn.auth) {
            AuthConfig::Psk(psk) => Ok(AuthPayload {
                method: AuthMethod::SHARED_KEY_MIC,
                data: psk_auth(prf, psk.expose(), octets).expose().to_vec(),
            }),
            AuthConfig::Certificate(c) => {
                let key = c.key().ok_or(Error::Internal(
                    "no private key configured for certificate authentication",
                ))?;
                let hashes = self.peer_hash_algorithms(hs);
                sign_auth(key, hashes.as_deref(), &octets.concat())
                    .map_err(Error::AuthenticationFailed)
            }
            AuthConfig::Eap(_) => Err(Error::Internal(
                "EAP inside EAP is not a valid configuration",
            )),
        }
    }

    /// With certificates: validates the peer's chain and identity and returns its public key.
    /// `None` with a PSK.
    pub(super) fn peer_key(
        &self,
        now: Instant,
        payloads: &[Payload],
        id: &Identification,
        ctx: &mut Ctx<'_>,
    ) -> Result<Option<Vec<u8>>, Error> {
        let Some(cert) = certificate(&self.conn.auth) else {
            return Ok(None);
        };
        let clock = ctx.wall_clock.ok_or(Error::Internal(
            "no wall-clock time for certificate validation (Endpoint::set_unix_time)",
        ))?;
        let certs: Vec<&[u8]> = payloads
            .iter()
            .filter_map(|p| match p {
                Payload::Cert(c) if c.encoding == CertEncoding::X509_SIGNATURE => {
                    Some(c.data.as_slice())
                }
                _ => None,
            })
            .collect();
        let mut budget = CheckBudget::new(ctx.config.max_chain_signature_checks);
        let spki = verify_peer(
            ctx.provider,
            cert.anchors(),
            &certs,
            clock.unix_time(now),
            id,
            &mut budget,
        );
        ctx.stats.cert_signature_checks += u64::from(budget.used);
        if budget.exhausted {
            ctx.stats.cert_check_limit_reached += 1;
            tracing::info!(sa = %self.id, checks = budget.used, "peer certificate chain needs too many signature checks");
        }
        Ok(Some(spki.map_err(Error::AuthenticationFailed)?))
    }

    /// Checks the peer's AUTH `method`/`data` over `octets` with our credentials for it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_auth(
        &self,
        prf: &dyn Prf,
        peer_key: Option<&[u8]>,
        method: AuthMethod,
        data: &[u8],
        octets: &[&[u8]],
        mismatch: &'static str,
        ctx: &Ctx<'_>,
    ) -> Result<(), Error> {
        match (credentials(&self.conn.auth), peer_key) {
            (AuthConfig::Psk(psk), _) => {
                if method != AuthMethod::SHARED_KEY_MIC {
                    return Err(Error::AuthenticationFailed(
                        "peer used another authentication method than our PSK",
                    ));
                }
                let expected = psk_auth(prf, psk.expose(), octets);
                if ct_eq(expected.expose(), data) {
                    Ok(())
                } else {
                    Err(Error::AuthenticationFailed(mismatch))
                }
            }
            (AuthConfig::Certificate(_), Some(spki)) => {
                verify_auth(ctx.provider, spki, method, data, &octets.concat())
                    .map_err(Error::AuthenticationFailed)
            }
            _ => Err(Error::Internal("no credentials to check the peer with")),
        }
    }

    /// The hash algorithms the peer announced in its IKE_SA_INIT message (RFC 7427 §4).
    fn peer_hash_algorithms(&self, hs: &Handshake) -> Option<Vec<HashAlgorithm>> {
        let raw = if self.initiator { &hs.msg2 } else { &hs.msg1 };
        let msg = Message::parse(raw).ok()?;
        find_notify(&msg.payloads, NotifyType::SIGNATURE_HASH_ALGORITHMS)
            .map(|n| parse_hash_algorithms(&n.data))
    }
}

/// SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4) for IKE_SA_INIT when certificates are configured,
/// and for the responder a CERTREQ naming its trusted CAs (RFC 7296 §3.7).
pub(super) fn init_auth_payloads(conn: &ConnectionConfig, responder: bool) -> Vec<Payload> {
    if certificate(&conn.auth).is_none() {
        return Vec::new();
    }
    let mut out = vec![notify(
        NotifyType::SIGNATURE_HASH_ALGORITHMS,
        hash_algorithms_notify_data(),
    )];
    if responder {
        out.extend(certreq(&conn.auth));
    }
    out
}

/// The credentials that sign our AUTH and check the peer's: with EAP, the responder's.
pub(super) fn credentials(auth: &AuthConfig) -> &AuthConfig {
    match auth {
        AuthConfig::Eap(inner) => inner,
        other => other,
    }
}

fn certificate(auth: &AuthConfig) -> Option<&CertificateAuth> {
    match credentials(auth) {
        AuthConfig::Certificate(c) => Some(c),
        _ => None,
    }
}

/// Our chain as CERT payloads, end entity first (RFC 7296 §3.6). Sent whether or not the peer
/// asked with CERTREQ: we hold one chain, and peers rarely have it locally.
pub(super) fn own_certs(auth: &AuthConfig) -> Vec<Payload> {
    let Some(cert) = certificate(auth).filter(|c| c.key().is_some()) else {
        return Vec::new();
    };
    cert.chain()
        .iter()
        .map(|der| {
            Payload::Cert(CertPayload {
                encoding: CertEncoding::X509_SIGNATURE,
                data: der.clone(),
            })
        })
        .collect()
}

/// A CERTREQ with the SHA-1 hashes of our trusted CAs' public keys, if we verify certificates.
pub(super) fn certreq(auth: &AuthConfig) -> Option<Payload> {
    let data = certificate(auth)?.certreq_data()?;
    Some(Payload::CertReq(CertPayload {
        encoding: CertEncoding::X509_SIGNATURE,
        data,
    }))
}

/// Errors in an IKE_AUTH response that fail the IKE SA (the others only concern the Child SA).
pub(super) fn is_ike_fatal(n: NotifyType) -> bool {
    !matches!(
        n,
        NotifyType::NO_PROPOSAL_CHOSEN
            | NotifyType::TS_UNACCEPTABLE
            | NotifyType::SINGLE_PAIR_REQUIRED
            | NotifyType::INTERNAL_ADDRESS_FAILURE
            | NotifyType::FAILED_CP_REQUIRED
    )
}

/// The ID in PPK_IDENTITY data: one type octet (OPAQUE or FIXED) and the ID.
pub(super) fn ppk_id(data: &[u8]) -> Option<&[u8]> {
    match data.split_first() {
        Some((&t, rest))
            if (t == PpkIdType::PPK_ID_FIXED.0 || t == PpkIdType::PPK_ID_OPAQUE.0)
                && !rest.is_empty() =>
        {
            Some(rest)
        }
        _ => None,
    }
}

pub(super) fn find_id(p: &[Payload], initiator: bool) -> Option<&Identification> {
    p.iter().find_map(|x| match (x, initiator) {
        (Payload::IdI(id), true) | (Payload::IdR(id), false) => Some(id),
        _ => None,
    })
}

pub(super) fn find_auth(p: &[Payload]) -> Option<&AuthPayload> {
    p.iter().find_map(|x| match x {
        Payload::Auth(a) => Some(a),
        _ => None,
    })
}

/// RestOfIDPayload: type, three reserved octets, data.
pub(super) fn id_body(id: &Identification) -> Vec<u8> {
    let mut out = vec![id.id_type.0, 0, 0, 0];
    out.extend_from_slice(&id.data);
    out
}
