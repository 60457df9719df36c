//! IKE_AUTH as responder (RFC 7296 §2.15): the initiator's identity, PPK policy (RFC 8784) and
//! AUTH; our answer with the first Child SA; or EAP (`eap.rs`).
//!
//! An IKE_AUTH request can wait for the driver (a PPK from its source; the EAP method) in
//! [`AuthWait`]; the final response is put together in one place, [`IkeSa::finish_responder`].

use std::net::Ipv4Addr;
use std::time::Instant;

use ipsec_crypto::{Prf, SecretBytes};

use super::config_payload::host_selector;
use super::credentials::{find_auth, find_id, id_body, own_certs, ppk_id};
use super::eap::EapServer;
use super::ppk::PpkLookup;
use super::state::{AuthWait, Handshake, State, Step};
use super::{Ctx, IkeSa, find_notify, notify};
use crate::config::AuthConfig;
use crate::error::Error;
use crate::event::{Event, PpkExchange};
use crate::keys::maced_id;
use crate::wire::{AuthPayload, ExchangeType, NotifyType, Payload};

/// Whether the responder could decide on an IKE_AUTH request.
pub(super) enum Verified {
    Done,
    /// Waiting for an external PPK.
    Parked,
    /// The initiator authenticates with EAP; the driver has been asked for the first request.
    Eap(Box<EapServer>),
}

/// The initiator's offer of an RFC 8784 PPK, as far as we can take it.
enum OfferedPpk {
    /// Not offered (or not negotiated).
    None,
    /// Offered, and this is its key (`None`: we do not have it).
    Offered(Option<SecretBytes>),
    /// Its external source has not answered yet.
    Wait,
}

impl IkeSa {
    /// Responder: verifies IKE_AUTH, applies the PPK policy and answers; or starts EAP.
    pub(super) fn handle_auth_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        hs: Box<Handshake>,
        wait: AuthWait,
        ctx: &mut Ctx<'_>,
    ) {
        if let AuthWait::Eap(server) = wait {
            return self.handle_eap_request(now, payloads, hs, server, ctx);
        }
        let eap = find_auth(payloads).is_none() && matches!(self.conn.auth, AuthConfig::Eap(_));
        let verified = if eap {
            self.start_eap(payloads, ctx)
        } else {
            self.verify_initiator(now, &hs, payloads, ctx)
        };
        let wait = match verified {
            Ok(Verified::Done) => return self.answer_auth(now, hs, payloads, ctx),
            Err(e) => return self.reject_auth(now, e, ctx),
            // Waiting for the PPK from its source; retransmissions are dropped meanwhile.
            Ok(Verified::Parked) => AuthWait::Parked(payloads.to_vec()),
            Ok(Verified::Eap(server)) => AuthWait::Eap(server),
        };
        self.state = State::Handshake(hs, Step::AwaitAuth(wait));
    }

    /// Responder: the initiator is authenticated; IDr, CERT, AUTH and the first Child SA.
    fn answer_auth(
        &mut self,
        now: Instant,
        hs: Box<Handshake>,
        request: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        let int_auth = hs.int_auth.finish(self.window.expected_id);
        let mut out = match self.responder_auth_payloads(&hs, &int_auth, ctx) {
            Ok(out) => out,
            Err(e) => return self.reject_auth(now, e, ctx),
        };
        if self.ppk_used {
            out.push(notify(NotifyType::PPK_IDENTITY, Vec::new()));
        }
        self.finish_responder(now, hs, out, request, None, ctx);
    }

    /// Responder: IDr, our CERTs and our AUTH over `msg2 | Ni | MACedIDForR | IntAuth`.
    pub(super) fn responder_auth_payloads(
        &self,
        hs: &Handshake,
        int_auth: &[u8],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Payload>, Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let maced = maced_id(prf, &keys.sk_pr, &self.conn.local_id.body());
        let auth = self.own_auth(prf, hs, &[&hs.msg2, &hs.ni, &maced, int_auth])?;
        let mut out = vec![Payload::IdR(self.conn.local_id.0.clone())];
        out.extend(own_certs(&self.conn.auth));
        out.push(Payload::Auth(auth));
        Ok(out)
    }

    /// Responder: the final IKE_AUTH response, `out` (our identity, AUTH and whatever else the
    /// response carries) then the first Child SA of `request`, its remote selectors narrowed to
    /// `narrow_remote`/32 when given; the SA is up.
    pub(super) fn finish_responder(
        &mut self,
        now: Instant,
        hs: Box<Handshake>,
        mut out: Vec<Payload>,
        request: &[Payload],
        narrow_remote: Option<Ipv4Addr>,
        ctx: &mut Ctx<'_>,
    ) {
        let limit = narrow_remote.map(host_selector);
        let child = match self.child_respond(now, &hs, request, limit.as_ref(), ctx) {
            Ok((child, offer)) => {
                out.extend(offer);
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
        self.established(now, &hs, ctx);
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
        hs: &Handshake,
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
        if self.conn.remote_id.as_ref().is_some_and(|r| r.0 != *idi) {
            return Err(Error::AuthenticationFailed(
                "initiator identity does not match remote_id",
            ));
        }
        let offered = match self.offered_ppk(now, payloads, ctx)? {
            OfferedPpk::Wait => return Ok(Verified::Parked),
            OfferedPpk::None => None,
            OfferedPpk::Offered(key) => Some(key),
        };
        let peer_key = self.peer_key(now, payloads, idi, ctx)?;
        let int_auth = hs.int_auth.finish(self.window.expected_id);
        let checked = self.auth_data_to_check(prf, payloads, auth, offered)?;
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let maced = maced_id(prf, &keys.sk_pi, &id_body(idi));
        let octets: [&[u8]; 4] = [&hs.msg1, &hs.nr, &maced, &int_auth];
        let mismatch = "initiator AUTH does not verify";
        let key = peer_key.as_deref();
        if let Err(e) = self.check_auth(prf, key, auth.method, checked, &octets, mismatch, ctx) {
            self.ppk_used = false;
            return Err(e);
        }
        Ok(Verified::Done)
    }

    /// The initiator's PPK_IDENTITY, when we negotiated RFC 8784, and its key.
    fn offered_ppk(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Result<OfferedPpk, Error> {
        let Some(n) = find_notify(payloads, NotifyType::PPK_IDENTITY).filter(|_| self.peer.use_ppk)
        else {
            return Ok(OfferedPpk::None);
        };
        let id = ppk_id(&n.data).ok_or(Error::InvalidSyntax("malformed PPK_IDENTITY"))?;
        Ok(
            match self.responder_ppk(now, id, PpkExchange::Initial, ctx) {
                PpkLookup::Wait => OfferedPpk::Wait,
                PpkLookup::Use(_, key) => OfferedPpk::Offered(Some(key)),
                PpkLookup::Without => OfferedPpk::Offered(None),
            },
        )
    }

    /// The Authentication Data to check under the PPK policy: AUTH with the PPK mixed in;
    /// without the PPK, NO_PPK_AUTH if the initiator offered one (RFC 8784 §3), else AUTH.
    fn auth_data_to_check<'p>(
        &mut self,
        prf: &dyn Prf,
        payloads: &'p [Payload],
        auth: &'p AuthPayload,
        offered: Option<Option<SecretBytes>>,
    ) -> Result<&'p [u8], Error> {
        let required = self.ppk_required();
        match offered {
            Some(Some(key)) => {
                let keys = self.keys.as_mut().ok_or(Error::Internal("keys"))?;
                keys.mix_ppk_rfc8784(prf, &key)
                    .ok_or(Error::Internal("PPK mixing"))?;
                self.ppk_used = true;
                Ok(&auth.data)
            }
            _ if required && !self.peer.use_ppk_int => {
                Err(Error::AuthenticationFailed(if offered.is_some() {
                    "PPK required but not available for the offered PPK_ID"
                } else {
                    "PPK required but none offered"
                }))
            }
            Some(None) => find_notify(payloads, NotifyType::NO_PPK_AUTH)
                .map(|n| n.data.as_slice())
                .ok_or(Error::AuthenticationFailed(
                    "PPK not available and no NO_PPK_AUTH",
                )),
            None => Ok(&auth.data),
        }
    }
}
