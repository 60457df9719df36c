//! IKE_AUTH (RFC 7296 §2.15): PSK, X.509 certificates with RFC 7427 signatures (and method 1
//! for RSA), PPK (RFC 8784: USE_PPK, PPK_IDENTITY, NO_PPK_AUTH), and the entry into EAP
//! (RFC 7296 §2.16, in `eap.rs`).

use std::time::Instant;

use ipsec_crypto::{Prf, SecretBytes, ct_eq};

use super::child::ChildRequest;
use super::eap::EapClient;
use super::ppk::PpkLookup;
use super::{Ctx, IkeSa, State, dup, find_notify, first_error_notify, notify};
use crate::cert::{
    CertificateAuth, hash_algorithms_notify_data, parse_hash_algorithms, sign_auth, verify_auth,
    verify_peer,
};
use crate::config::{AuthConfig, ConnectionConfig};
use crate::error::Error;
use crate::event::{Event, IkeSaInfo, PpkExchange};
use crate::keys::{maced_id, psk_auth};
use crate::wire::{
    AuthMethod, AuthPayload, CertEncoding, CertPayload, ExchangeType, HashAlgorithm,
    Identification, IkeSpi, Message, NotifyType, Payload, PpkIdType,
};

/// Initiator state while IKE_AUTH is in flight (and, with EAP, between its exchanges).
pub(crate) struct AuthSent {
    pub(super) child: Option<ChildRequest>,
    /// Keys from before the PPK was mixed in, kept for a responder that does not use it.
    pre_ppk: Option<PrePpkKeys>,
    /// EAP progress when we authenticate with EAP.
    pub(super) eap: Option<EapClient>,
}

/// Whether the responder could decide on an IKE_AUTH request.
pub(super) enum Verified {
    Done,
    /// Waiting for an external PPK.
    Parked,
    /// The initiator authenticates with EAP; the driver has been asked for the first request.
    Eap,
}

/// SK_d, SK_pi, SK_pr as they were before RFC 8784 mixing.
struct PrePpkKeys {
    sk_d: SecretBytes,
    sk_pi: SecretBytes,
    sk_pr: SecretBytes,
}

impl IkeSa {
    /// Initiator: sends IKE_AUTH with IDi, CERT, CERTREQ, AUTH (none with EAP), PPK notifies and
    /// the first Child SA.
    pub(super) fn send_auth(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let conn = self.conn.clone();
        let Some(prf) = self.prf(ctx) else {
            return self.fail(Error::Internal("prf"), ctx);
        };
        let eap = matches!(conn.auth, AuthConfig::Eap(_));
        let required = conn.ppk.as_ref().is_some_and(|p| p.required);
        let ppk = if eap {
            // RFC 8784 mixing with EAP is not implemented: the PPK is not used.
            if required && self.peer.use_ppk {
                return self.fail(
                    Error::AuthenticationFailed("PPK in IKE_AUTH is not supported with EAP"),
                    ctx,
                );
            }
            None
        } else if self.peer.use_ppk {
            match self.initiator_ppk() {
                PpkLookup::Wait => {
                    self.auth_paused = true;
                    self.state = State::AwaitPpk;
                    return;
                }
                PpkLookup::Use(id, key) => Some((id, key)),
                PpkLookup::Without if required => return self.ppk_missing(ctx),
                PpkLookup::Without => None,
            }
        } else if required && !self.peer.use_ppk_int {
            return self.fail(
                Error::AuthenticationFailed("PPK required but the peer did not send USE_PPK"),
                ctx,
            );
        } else {
            None
        };
        let ike_auth_mid = self.next_message_id;
        let int_auth = self.int_auth.finish(ike_auth_mid);
        let id_body = conn.local_id.body();
        let mut payloads = vec![Payload::IdI(conn.local_id.0.clone())];
        if !eap {
            payloads.extend(own_certs(&conn.auth));
        }
        payloads.extend(certreq(&conn.auth));
        if let Some(r) = &conn.remote_id {
            payloads.push(Payload::IdR(r.0.clone()));
        }
        if self.initial_contact {
            // RFC 7296 §2.4: this is our only IKE SA with the peer; it may drop older ones.
            payloads.push(notify(NotifyType::INITIAL_CONTACT, Vec::new()));
        }
        let mut pre_ppk = None;
        if !eap {
            let mut no_ppk_auth = None;
            if let (Some(_), Some(keys)) = (ppk.as_ref(), self.keys.as_ref()) {
                if !required {
                    let maced = maced_id(prf, &keys.sk_pi, &id_body);
                    match self.own_auth(prf, &[&self.msg1, &self.nr, &maced, &int_auth]) {
                        Ok(a) => no_ppk_auth = Some(a.data),
                        Err(e) => return self.fail(e, ctx),
                    }
                }
                pre_ppk = Some(PrePpkKeys {
                    sk_d: dup(&keys.sk_d),
                    sk_pi: dup(&keys.sk_pi),
                    sk_pr: dup(&keys.sk_pr),
                });
            }
            if let (Some((_, key)), Some(keys)) = (ppk.as_ref(), self.keys.as_mut())
                && keys.mix_ppk_rfc8784(prf, key).is_none()
            {
                return self.fail(Error::Internal("PPK mixing"), ctx);
            }
            let Some(keys) = self.keys.as_ref() else {
                return self.fail(Error::Internal("keys"), ctx);
            };
            let maced = maced_id(prf, &keys.sk_pi, &id_body);
            match self.own_auth(prf, &[&self.msg1, &self.nr, &maced, &int_auth]) {
                Ok(auth) => payloads.push(Payload::Auth(auth)),
                Err(e) => return self.fail(e, ctx),
            }
            if let Some((id, _)) = &ppk {
                let mut data = vec![PpkIdType::PPK_ID_FIXED.0];
                data.extend_from_slice(id);
                payloads.push(notify(NotifyType::PPK_IDENTITY, data));
                if let Some(n) = no_ppk_auth {
                    payloads.push(notify(NotifyType::NO_PPK_AUTH, n));
                }
            }
        }
        let child = match self.child_request(ctx) {
            Some((req, mut child_payloads)) => {
                payloads.append(&mut child_payloads);
                Some(req)
            }
            None => None,
        };
        if self
            .send_request(now, ExchangeType::IKE_AUTH, &payloads, ctx)
            .is_none()
        {
            return;
        }
        let eap = eap.then(|| EapClient::new(ike_auth_mid));
        self.state = State::AuthSent(AuthSent {
            child,
            pre_ppk,
            eap,
        });
    }

    /// Initiator: verifies the responder's AUTH and completes the handshake.
    pub(super) fn handle_auth_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        sent: AuthSent,
        ctx: &mut Ctx<'_>,
    ) {
        if sent.eap.is_some() {
            return self.handle_eap_response(now, payloads, sent, ctx);
        }
        if let Some(e) = first_error_notify(payloads).filter(|e| is_ike_fatal(*e)) {
            return self.fail(Error::PeerError(e), ctx);
        }
        let ppk_used =
            sent.pre_ppk.is_some() && find_notify(payloads, NotifyType::PPK_IDENTITY).is_some();
        if let Some(pre) = sent.pre_ppk.filter(|_| !ppk_used) {
            if self.conn.ppk.as_ref().is_some_and(|p| p.required) {
                return self.fail(
                    Error::AuthenticationFailed("responder did not use the required PPK"),
                    ctx,
                );
            }
            if let Some(keys) = self.keys.as_mut() {
                keys.sk_d = pre.sk_d;
                keys.sk_pi = pre.sk_pi;
                keys.sk_pr = pre.sk_pr;
            }
        }
        let int_auth = self.int_auth.finish(self.next_message_id.wrapping_sub(1));
        if let Err(e) = self.verify_responder(now, payloads, &int_auth, ctx) {
            return self.fail(e, ctx);
        }
        // RFC 9867 mixed the PPK in IKE_INTERMEDIATE already; RFC 8784 does it here.
        self.ppk_used |= ppk_used;
        self.finish_initiator(now, payloads, sent.child, ctx);
    }

    /// Initiator: IDr, the responder's certificate chain if any, and its AUTH over
    /// `msg2 | Ni | MACedIDForR | IntAuth`. Returns IDr.
    pub(super) fn verify_responder(
        &self,
        now: Instant,
        payloads: &[Payload],
        int_auth: &[u8],
        ctx: &Ctx<'_>,
    ) -> Result<Identification, Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let (Some(idr), Some(auth)) = (find_id(payloads, false), find_auth(payloads)) else {
            return Err(Error::InvalidSyntax(
                "IKE_AUTH response without IDr or AUTH",
            ));
        };
        if self.conn.remote_id.as_ref().is_some_and(|r| r.0 != *idr) {
            return Err(Error::AuthenticationFailed(
                "responder identity does not match remote_id",
            ));
        }
        let peer_key = self.peer_key(now, payloads, idr, ctx)?;
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let maced = maced_id(prf, &keys.sk_pr, &id_body(idr));
        let octets: [&[u8]; 4] = [&self.msg2, &self.ni, &maced, int_auth];
        self.check_auth(
            prf,
            peer_key.as_deref(),
            auth.method,
            &auth.data,
            &octets,
            "responder AUTH does not verify",
            ctx,
        )?;
        Ok(idr.clone())
    }

    /// Initiator: the IKE SA is up; installs the first Child SA from the response.
    pub(super) fn finish_initiator(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        child: Option<ChildRequest>,
        ctx: &mut Ctx<'_>,
    ) {
        self.established(now, ctx);
        match child.map(|req| self.child_from_response(now, req, payloads, ctx)) {
            Some(Ok(child)) => {
                ctx.stats.child_sas_established += 1;
                ctx.events
                    .push_back(Event::ChildSaEstablished { sa: self.id, child });
            }
            Some(Err(e)) => tracing::info!(sa = ?self.id, error = %e, "first Child SA not created"),
            None => {}
        }
        self.forget_handshake_state();
    }

    /// Responder: verifies IKE_AUTH, applies the PPK policy and answers; or starts EAP.
    pub(super) fn handle_auth_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        if self.eap.is_some() {
            return self.handle_eap_request(now, payloads, ctx);
        }
        let eap = find_auth(payloads).is_none() && matches!(self.conn.auth, AuthConfig::Eap(_));
        let verified = if eap {
            self.start_eap(payloads, ctx)
        } else {
            self.verify_initiator(now, payloads, ctx)
        };
        match verified {
            Ok(Verified::Done) => {}
            Ok(Verified::Parked) => {
                // Waiting for the PPK from its source; retransmissions are dropped meanwhile.
                self.parked = Some(payloads.to_vec());
                self.state = State::AwaitAuth;
                return;
            }
            Ok(Verified::Eap) => {
                self.state = State::AwaitAuth;
                return;
            }
            Err(e) => return self.reject_auth(now, e, ctx),
        }
        let int_auth = self.int_auth.finish(self.expected_request_id);
        let mut out = match self.responder_auth_payloads(&int_auth, ctx) {
            Ok(out) => out,
            Err(e) => return self.reject_auth(now, e, ctx),
        };
        if self.ppk_used {
            out.push(notify(NotifyType::PPK_IDENTITY, Vec::new()));
        }
        self.finish_responder(now, out, payloads, ctx);
    }

    /// Responder: IDr, our CERTs and our AUTH over `msg2 | Ni | MACedIDForR | IntAuth`.
    pub(super) fn responder_auth_payloads(
        &self,
        int_auth: &[u8],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Payload>, Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let maced = maced_id(prf, &keys.sk_pr, &self.conn.local_id.body());
        let auth = self.own_auth(prf, &[&self.msg2, &self.ni, &maced, int_auth])?;
        let mut out = vec![Payload::IdR(self.conn.local_id.0.clone())];
        out.extend(own_certs(&self.conn.auth));
        out.push(Payload::Auth(auth));
        Ok(out)
    }

    /// Responder: answers with `out` plus the first Child SA of `request`, and is up.
    pub(super) fn finish_responder(
        &mut self,
        now: Instant,
        mut out: Vec<Payload>,
        request: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        let child = match self.child_respond(now, request, ctx) {
            Ok((child, mut p)) => {
                out.append(&mut p);
                Some(child)
            }
            Err(n) => {
                out.push(notify(n, Vec::new()));
                None
            }
        };
        if self
            .respond(now, ExchangeType::IKE_AUTH, out, ctx)
            .is_none()
        {
            return self.fail(Error::Internal("could not protect a response"), ctx);
        }
        self.established(now, ctx);
        if let Some(child) = child {
            ctx.stats.child_sas_established += 1;
            ctx.events
                .push_back(Event::ChildSaEstablished { sa: self.id, child });
        }
        self.forget_handshake_state();
    }

    /// Responder: answers an IKE_AUTH request with the error's notify and fails.
    pub(super) fn reject_auth(&mut self, now: Instant, e: Error, ctx: &mut Ctx<'_>) {
        let n = e.notify().unwrap_or(NotifyType::AUTHENTICATION_FAILED);
        self.respond(
            now,
            ExchangeType::IKE_AUTH,
            vec![notify(n, Vec::new())],
            ctx,
        );
        self.fail(e, ctx);
    }

    /// Responder: identity, PPK policy and AUTH checks on an IKE_AUTH request.
    fn verify_initiator(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Result<Verified, Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let Some(idi) = find_id(payloads, true) else {
            return Err(Error::InvalidSyntax("IKE_AUTH request without IDi"));
        };
        let Some(auth) = find_auth(payloads) else {
            return Err(Error::AuthenticationFailed(
                "initiator sent no AUTH (EAP), which this connection does not allow",
            ));
        };
        let conn = self.conn.clone();
        if conn.remote_id.as_ref().is_some_and(|r| r.0 != *idi) {
            return Err(Error::AuthenticationFailed(
                "initiator identity does not match remote_id",
            ));
        }
        let required = conn.ppk.as_ref().is_some_and(|p| p.required);
        let offered = find_notify(payloads, NotifyType::PPK_IDENTITY)
            .filter(|_| self.peer.use_ppk)
            .map(|n| ppk_id(&n.data));
        let ppk = match offered {
            Some(Some(id)) => match self.responder_ppk(now, id, PpkExchange::Initial, ctx) {
                PpkLookup::Wait => return Ok(Verified::Parked),
                PpkLookup::Use(_, key) => Some(key),
                PpkLookup::Without => None,
            },
            Some(None) => return Err(Error::InvalidSyntax("malformed PPK_IDENTITY")),
            None => None,
        };
        let peer_key = self.peer_key(now, payloads, idi, ctx)?;
        let int_auth = self.int_auth.finish(self.expected_request_id);
        let idb = id_body(idi);
        let keys = self.keys.as_mut().ok_or(Error::Internal("keys"))?;
        let checked = if let Some(key) = ppk {
            keys.mix_ppk_rfc8784(prf, &key)
                .ok_or(Error::Internal("PPK mixing"))?;
            self.ppk_used = true;
            &auth.data
        } else if required && !self.peer.use_ppk_int {
            return Err(Error::AuthenticationFailed(if offered.is_some() {
                "PPK required but not available for the offered PPK_ID"
            } else {
                "PPK required but none offered"
            }));
        } else if offered.is_some() {
            // RFC 8784 §3: without the PPK, fall back to NO_PPK_AUTH if the peer allows it; it
            // carries the Authentication Data computed without the PPK (method as in AUTH).
            let n = find_notify(payloads, NotifyType::NO_PPK_AUTH).ok_or(
                Error::AuthenticationFailed("PPK not available and no NO_PPK_AUTH"),
            )?;
            &n.data
        } else {
            &auth.data
        };
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let maced = maced_id(prf, &keys.sk_pi, &idb);
        let octets: [&[u8]; 4] = [&self.msg1, &self.nr, &maced, &int_auth];
        if let Err(e) = self.check_auth(
            prf,
            peer_key.as_deref(),
            auth.method,
            checked,
            &octets,
            "initiator AUTH does not verify",
            ctx,
        ) {
            self.ppk_used = false;
            return Err(e);
        }
        Ok(Verified::Done)
    }

    /// Our AUTH payload over `octets` with our credentials (the inner ones with EAP).
    fn own_auth(&self, prf: &dyn Prf, octets: &[&[u8]]) -> Result<AuthPayload, Error> {
        match credentials(&self.conn.auth) {
            AuthConfig::Psk(psk) => Ok(AuthPayload {
                method: AuthMethod::SHARED_KEY_MIC,
                data: psk_auth(prf, psk.expose(), octets).expose().to_vec(),
            }),
            AuthConfig::Certificate(c) => {
                let key = c.key().ok_or(Error::Internal(
                    "no private key configured for certificate authentication",
                ))?;
                let hashes = self.peer_hash_algorithms();
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
    fn peer_key(
        &self,
        now: Instant,
        payloads: &[Payload],
        id: &Identification,
        ctx: &Ctx<'_>,
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
        let spki = verify_peer(
            ctx.provider,
            cert.anchors(),
            &certs,
            clock.unix_time(now),
            id,
        )
        .map_err(Error::AuthenticationFailed)?;
        Ok(Some(spki))
    }

    /// Checks the peer's AUTH `method`/`data` over `octets` with our credentials for it.
    #[allow(clippy::too_many_arguments)]
    fn check_auth(
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
    fn peer_hash_algorithms(&self) -> Option<Vec<HashAlgorithm>> {
        let raw = if self.initiator {
            &self.msg2
        } else {
            &self.msg1
        };
        let msg = Message::parse(raw).ok()?;
        find_notify(&msg.payloads, NotifyType::SIGNATURE_HASH_ALGORITHMS)
            .map(|n| parse_hash_algorithms(&n.data))
    }

    pub(super) fn established(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        self.state = State::Established;
        self.half_open_deadline = None;
        self.arm_timers(now, ctx);
        if self.nat_local {
            self.keepalive_at = Some(now + self.conn.nat_keepalive);
        }
        ctx.stats.ike_sas_established += 1;
        let info = IkeSaInfo {
            connection: self.conn.name.clone(),
            initiator: self.initiator,
            local_spi: IkeSpi(if self.initiator {
                self.spi_i
            } else {
                self.spi_r
            }),
            remote_spi: IkeSpi(if self.initiator {
                self.spi_r
            } else {
                self.spi_i
            }),
            local: self.local,
            remote: self.remote,
            proposal: self
                .suite
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            ppk_used: self.ppk_used,
            nat_detected: self.nat_detected(),
            intermediate_exchanges: self.intermediate_count,
            peer_id: self.peer_id.clone().map(crate::config::Identity),
        };
        tracing::info!(sa = ?self.id, proposal = %info.proposal, ppk = info.ppk_used, "IKE SA established");
        ctx.events
            .push_back(Event::IkeSaEstablished { sa: self.id, info });
        self.export_keys(ctx);
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
fn credentials(auth: &AuthConfig) -> &AuthConfig {
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
fn own_certs(auth: &AuthConfig) -> Vec<Payload> {
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
fn certreq(auth: &AuthConfig) -> Option<Payload> {
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
fn ppk_id(data: &[u8]) -> Option<&[u8]> {
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
