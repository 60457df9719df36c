//! IKE_AUTH as initiator (RFC 7296 §2.15): our identity and AUTH with PSK or certificates, the
//! RFC 8784 PPK (USE_PPK, PPK_IDENTITY, NO_PPK_AUTH), the first Child SA, and the entry into
//! EAP (RFC 7296 §2.16, `eap.rs`).

use std::time::Instant;

use ipsec_crypto::{Prf, SecretBytes};

use super::child::FirstChildOffer;
use super::config_payload::cfg_request_ip4;
use super::credentials::{certreq, find_auth, find_id, id_body, is_ike_fatal, own_certs};
use super::eap::EapClient;
use super::ppk::PpkLookup;
use super::state::{Handshake, State, Step};
use super::{Ctx, IkeSa, dup, find_notify, first_error_notify, notify};
use crate::config::AuthConfig;
use crate::error::Error;
use crate::event::Event;
use crate::keys::maced_id;
use crate::wire::{AuthPayload, ExchangeType, Identification, NotifyType, Payload, PpkIdType};

/// Initiator state while IKE_AUTH is in flight (and, with EAP, between its exchanges).
pub(crate) struct AuthSent {
    pub(super) child: Option<FirstChildOffer>,
    /// Keys from before the PPK was mixed in, kept for a responder that does not use it.
    pre_ppk: Option<PrePpkKeys>,
    /// EAP progress when we authenticate with EAP.
    pub(super) eap: Option<EapClient>,
}

/// SK_d, SK_pi, SK_pr as they were before RFC 8784 mixing.
struct PrePpkKeys {
    sk_d: SecretBytes,
    sk_pi: SecretBytes,
    sk_pr: SecretBytes,
}

/// The RFC 8784 PPK for our IKE_AUTH request.
enum AuthPpk {
    Use(Option<(Vec<u8>, SecretBytes)>),
    /// Its external source has not answered yet.
    Wait,
    Fail(Error),
}

impl IkeSa {
    /// Initiator: sends IKE_AUTH with IDi, CERT, CERTREQ, AUTH (none with EAP), PPK notifies and
    /// the first Child SA.
    pub(super) fn send_auth(&mut self, now: Instant, hs: Box<Handshake>, ctx: &mut Ctx<'_>) {
        let eap = matches!(self.conn.auth, AuthConfig::Eap(_));
        let ppk = match self.auth_ppk(eap) {
            AuthPpk::Use(ppk) => ppk,
            AuthPpk::Wait => {
                self.state = State::Handshake(hs, Step::AwaitPpk);
                return;
            }
            AuthPpk::Fail(e) => return self.fail(e, ctx),
        };
        let ike_auth_mid = self.window.next_id;
        let mut payloads = self.auth_request_head(eap);
        if self.conn.request_internal_ip4 {
            payloads.push(cfg_request_ip4());
        }
        let mut pre_ppk = None;
        if !eap {
            let int_auth = hs.int_auth.finish(ike_auth_mid);
            match self.auth_proof(&hs, &int_auth, ppk, ctx) {
                Ok((proof, pre)) => {
                    payloads.extend(proof);
                    pre_ppk = pre;
                }
                Err(e) => return self.fail(e, ctx),
            }
        }
        let child = self.child_request(ctx).map(|(req, offer)| {
            payloads.extend(offer);
            req
        });
        if self
            .send_request(now, ExchangeType::IKE_AUTH, &payloads, ctx)
            .is_none()
        {
            return;
        }
        let eap = eap.then(|| EapClient::new(ike_auth_mid));
        let sent = AuthSent {
            child,
            pre_ppk,
            eap,
        };
        self.state = State::Handshake(hs, Step::AuthSent(sent));
    }

    /// Whether IKE_AUTH carries an RFC 8784 PPK, as the connection's policy and the peer's
    /// USE_PPK decide.
    fn auth_ppk(&self, eap: bool) -> AuthPpk {
        let required = self.ppk_required();
        if eap {
            // RFC 8784 mixing with EAP is not implemented: the PPK is not used.
            return if required && self.peer.use_ppk {
                AuthPpk::Fail(Error::AuthenticationFailed(
                    "PPK in IKE_AUTH is not supported with EAP",
                ))
            } else {
                AuthPpk::Use(None)
            };
        }
        if self.peer.use_ppk {
            return match self.initiator_ppk() {
                PpkLookup::Wait => AuthPpk::Wait,
                PpkLookup::Use(id, key) => AuthPpk::Use(Some((id, key))),
                PpkLookup::Without if required => AuthPpk::Fail(Error::AuthenticationFailed(
                    "required PPK not available from its source",
                )),
                PpkLookup::Without => AuthPpk::Use(None),
            };
        }
        if required && !self.peer.use_ppk_int {
            return AuthPpk::Fail(Error::AuthenticationFailed(
                "PPK required but the peer did not send USE_PPK",
            ));
        }
        AuthPpk::Use(None)
    }

    /// IDi, our certificates, CERTREQ, IDr and INITIAL_CONTACT.
    fn auth_request_head(&self, eap: bool) -> Vec<Payload> {
        let conn = &self.conn;
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
        payloads
    }

    /// AUTH over `msg1 | Nr | MACedIDForI | IntAuth`, with the PPK mixed in when there is one
    /// (then PPK_IDENTITY, and NO_PPK_AUTH without the PPK when it is optional). Returns the
    /// payloads and the keys from before the mixing.
    fn auth_proof(
        &mut self,
        hs: &Handshake,
        int_auth: &[u8],
        ppk: Option<(Vec<u8>, SecretBytes)>,
        ctx: &Ctx<'_>,
    ) -> Result<(Vec<Payload>, Option<PrePpkKeys>), Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let (pre_ppk, no_ppk_auth) = match &ppk {
            Some((_, key)) => {
                let fallback = if self.ppk_required() {
                    None
                } else {
                    Some(self.initiator_auth(prf, hs, int_auth)?.data)
                };
                (Some(self.mix_auth_ppk(prf, key)?), fallback)
            }
            None => (None, None),
        };
        let mut out = vec![Payload::Auth(self.initiator_auth(prf, hs, int_auth)?)];
        if let Some((id, _)) = &ppk {
            let mut data = vec![PpkIdType::PPK_ID_FIXED.0];
            data.extend_from_slice(id);
            out.push(notify(NotifyType::PPK_IDENTITY, data));
            out.extend(no_ppk_auth.map(|n| notify(NotifyType::NO_PPK_AUTH, n)));
        }
        Ok((out, pre_ppk))
    }

    /// Our AUTH with the current keys.
    fn initiator_auth(
        &self,
        prf: &dyn Prf,
        hs: &Handshake,
        int_auth: &[u8],
    ) -> Result<AuthPayload, Error> {
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let maced = maced_id(prf, &keys.sk_pi, &self.conn.local_id.body());
        self.own_auth(prf, hs, &[&hs.msg1, &hs.nr, &maced, int_auth])
    }

    /// RFC 8784 §3: mixes the PPK into SK_d, SK_pi and SK_pr; returns them as they were.
    fn mix_auth_ppk(&mut self, prf: &dyn Prf, ppk: &SecretBytes) -> Result<PrePpkKeys, Error> {
        let keys = self.keys.as_mut().ok_or(Error::Internal("keys"))?;
        let pre = PrePpkKeys {
            sk_d: dup(&keys.sk_d),
            sk_pi: dup(&keys.sk_pi),
            sk_pr: dup(&keys.sk_pr),
        };
        keys.mix_ppk_rfc8784(prf, ppk)
            .ok_or(Error::Internal("PPK mixing"))?;
        Ok(pre)
    }

    /// Initiator: verifies the responder's AUTH and completes the handshake.
    pub(super) fn handle_auth_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        hs: Box<Handshake>,
        sent: AuthSent,
        ctx: &mut Ctx<'_>,
    ) {
        if sent.eap.is_some() {
            return self.handle_eap_response(now, payloads, hs, sent, ctx);
        }
        if let Some(e) = first_error_notify(payloads).filter(|e| is_ike_fatal(*e)) {
            return self.fail(Error::PeerError(e), ctx);
        }
        let ppk_used =
            sent.pre_ppk.is_some() && find_notify(payloads, NotifyType::PPK_IDENTITY).is_some();
        if let Some(pre) = sent.pre_ppk.filter(|_| !ppk_used) {
            if self.ppk_required() {
                let e = Error::AuthenticationFailed("responder did not use the required PPK");
                return self.fail(e, ctx);
            }
            if let Some(keys) = self.keys.as_mut() {
                keys.sk_d = pre.sk_d;
                keys.sk_pi = pre.sk_pi;
                keys.sk_pr = pre.sk_pr;
            }
        }
        let int_auth = hs.int_auth.finish(self.window.next_id.prev());
        if let Err(e) = self.verify_responder(now, &hs, payloads, &int_auth, ctx) {
            return self.fail(e, ctx);
        }
        // RFC 9867 mixed the PPK in IKE_INTERMEDIATE already; RFC 8784 does it here.
        self.ppk_used |= ppk_used;
        self.finish_initiator(now, hs, payloads, sent.child, ctx);
    }

    /// Initiator: IDr, the responder's certificate chain if any, and its AUTH over
    /// `msg2 | Ni | MACedIDForR | IntAuth`. Returns IDr.
    pub(super) fn verify_responder(
        &self,
        now: Instant,
        hs: &Handshake,
        payloads: &[Payload],
        int_auth: &[u8],
        ctx: &mut Ctx<'_>,
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
        let octets: [&[u8]; 4] = [&hs.msg2, &hs.ni, &maced, int_auth];
        let mismatch = "responder AUTH does not verify";
        let key = peer_key.as_deref();
        self.check_auth(prf, key, auth.method, &auth.data, &octets, mismatch, ctx)?;
        Ok(idr.clone())
    }

    /// Initiator: the IKE SA is up; reports the response's CFG_REPLY and status notifies, and
    /// installs the first Child SA from it.
    pub(super) fn finish_initiator(
        &mut self,
        now: Instant,
        hs: Box<Handshake>,
        payloads: &[Payload],
        child: Option<FirstChildOffer>,
        ctx: &mut Ctx<'_>,
    ) {
        self.report_auth_reply(payloads, ctx);
        self.established(now, &hs, ctx);
        match child.map(|req| self.child_from_response(now, req, &hs, payloads, ctx)) {
            Some(Ok(child)) => {
                ctx.stats.child_sas_established += 1;
                ctx.events
                    .push_back(Event::ChildSaEstablished { sa: self.id, child });
            }
            Some(Err(e)) => tracing::info!(sa = %self.id, error = %e, "first Child SA not created"),
            None => {}
        }
        self.forget_handshake_state();
    }
}
