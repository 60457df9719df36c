//! IKE_AUTH with PSK (RFC 7296 §2.15) and PPK (RFC 8784: USE_PPK, PPK_IDENTITY, NO_PPK_AUTH).

use std::time::Instant;

use ipsec_crypto::{Prf, SecretBytes, ct_eq};

use super::child::ChildRequest;
use super::ppk::PpkLookup;
use super::{Ctx, IkeSa, State, dup, find_notify, first_error_notify, notify};
use crate::config::AuthConfig;
use crate::error::Error;
use crate::event::{Event, IkeSaInfo};
use crate::keys::{maced_id, psk_auth};
use crate::wire::{
    AuthMethod, AuthPayload, ExchangeType, IkeSpi, Identification, NotifyType, Payload,
    PpkIdType,
};

/// Initiator state while IKE_AUTH is in flight.
pub(crate) struct AuthSent {
    child: Option<ChildRequest>,
    /// Keys from before the PPK was mixed in, kept for a responder that does not use it.
    pre_ppk: Option<PrePpkKeys>,
}

/// Whether the responder could decide on an IKE_AUTH request.
enum Verified {
    Done,
    /// Waiting for an external PPK.
    Parked,
}

/// SK_d, SK_pi, SK_pr as they were before RFC 8784 mixing.
struct PrePpkKeys {
    sk_d: SecretBytes,
    sk_pi: SecretBytes,
    sk_pr: SecretBytes,
}

impl IkeSa {
    /// Initiator: sends IKE_AUTH with IDi, AUTH, PPK notifies and the first Child SA.
    pub(super) fn send_auth(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let conn = self.conn.clone();
        let Some(prf) = self.prf(ctx) else { return self.fail(Error::Internal("prf"), ctx) };
        let required = conn.ppk.as_ref().is_some_and(|p| p.required);
        let ppk = if self.peer.use_ppk {
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
            return self.fail(Error::AuthenticationFailed("PPK required but the peer did not send USE_PPK"), ctx);
        } else {
            None
        };
        let int_auth = self.int_auth.finish(self.next_message_id);
        let id_body = conn.local_id.body();
        let mut payloads = vec![Payload::IdI(conn.local_id.0.clone())];
        if let Some(r) = &conn.remote_id {
            payloads.push(Payload::IdR(r.0.clone()));
        }
        let mut pre_ppk = None;
        let mut no_ppk_auth = None;
        if let (Some((_, key)), Some(keys)) = (ppk.as_ref(), self.keys.as_mut()) {
            if !required {
                no_ppk_auth = Some(auth_value(prf, &conn.auth, &[&self.msg1, &self.nr, &maced_id(prf, &keys.sk_pi, &id_body), &int_auth]));
            }
            pre_ppk = Some(PrePpkKeys { sk_d: dup(&keys.sk_d), sk_pi: dup(&keys.sk_pi), sk_pr: dup(&keys.sk_pr) });
            if keys.mix_ppk_rfc8784(prf, key).is_none() {
                return self.fail(Error::Internal("PPK mixing"), ctx);
            }
        }
        let Some(keys) = self.keys.as_ref() else { return self.fail(Error::Internal("keys"), ctx) };
        let auth = auth_value(prf, &conn.auth, &[&self.msg1, &self.nr, &maced_id(prf, &keys.sk_pi, &id_body), &int_auth]);
        payloads.push(Payload::Auth(AuthPayload { method: AuthMethod::SHARED_KEY_MIC, data: auth.expose().to_vec() }));
        if let Some((id, _)) = &ppk {
            let mut data = vec![PpkIdType::PPK_ID_FIXED.0];
            data.extend_from_slice(id);
            payloads.push(notify(NotifyType::PPK_IDENTITY, data));
            if let Some(n) = no_ppk_auth {
                payloads.push(notify(NotifyType::NO_PPK_AUTH, n.expose().to_vec()));
            }
        }
        let child = match self.child_request(ctx) {
            Some((req, mut child_payloads)) => {
                payloads.append(&mut child_payloads);
                Some(req)
            }
            None => None,
        };
        if self.send_request(now, ExchangeType::IKE_AUTH, &payloads, ctx).is_none() {
            return;
        }
        self.state = State::AuthSent(AuthSent { child, pre_ppk });
    }

    /// Initiator: verifies the responder's AUTH and completes the handshake.
    pub(super) fn handle_auth_response(&mut self, now: Instant, payloads: &[Payload], sent: AuthSent, ctx: &mut Ctx<'_>) {
        if let Some(e) = first_error_notify(payloads).filter(|e| is_ike_fatal(*e)) {
            return self.fail(Error::PeerError(e), ctx);
        }
        let Some(prf) = self.prf(ctx) else { return self.fail(Error::Internal("prf"), ctx) };
        let (Some(idr), Some(auth)) = (find_id(payloads, false), find_auth(payloads)) else {
            return self.fail(Error::InvalidSyntax("IKE_AUTH response without IDr or AUTH"), ctx);
        };
        if self.conn.remote_id.as_ref().is_some_and(|r| r.0 != *idr) {
            return self.fail(Error::AuthenticationFailed("responder identity does not match remote_id"), ctx);
        }
        let ppk_used = sent.pre_ppk.is_some() && find_notify(payloads, NotifyType::PPK_IDENTITY).is_some();
        if let Some(pre) = sent.pre_ppk.filter(|_| !ppk_used) {
            if self.conn.ppk.as_ref().is_some_and(|p| p.required) {
                return self.fail(Error::AuthenticationFailed("responder did not use the required PPK"), ctx);
            }
            if let Some(keys) = self.keys.as_mut() {
                keys.sk_d = pre.sk_d;
                keys.sk_pi = pre.sk_pi;
                keys.sk_pr = pre.sk_pr;
            }
        }
        let int_auth = self.int_auth.finish(self.next_message_id.wrapping_sub(1));
        let Some(keys) = self.keys.as_ref() else { return self.fail(Error::Internal("keys"), ctx) };
        let expected = auth_value(prf, &self.conn.auth, &[&self.msg2, &self.ni, &maced_id(prf, &keys.sk_pr, &id_body(idr)), &int_auth]);
        if auth.method != AuthMethod::SHARED_KEY_MIC || !ct_eq(expected.expose(), &auth.data) {
            return self.fail(Error::AuthenticationFailed("responder AUTH does not verify"), ctx);
        }
        // RFC 9867 mixed the PPK in IKE_INTERMEDIATE already; RFC 8784 does it here.
        self.ppk_used |= ppk_used;
        self.established(now, ctx);
        match sent.child.map(|req| self.child_from_response(now, req, payloads, ctx)) {
            Some(Ok(child)) => {
                ctx.stats.child_sas_established += 1;
                ctx.events.push_back(Event::ChildSaEstablished { sa: self.id, child });
            }
            Some(Err(e)) => tracing::info!(sa = ?self.id, error = %e, "first Child SA not created"),
            None => {}
        }
    }

    /// Responder: verifies IKE_AUTH, applies the PPK policy and answers.
    pub(super) fn handle_auth_request(&mut self, now: Instant, payloads: &[Payload], ctx: &mut Ctx<'_>) {
        match self.verify_initiator(now, payloads, ctx) {
            Ok(Verified::Done) => {}
            Ok(Verified::Parked) => {
                // Waiting for the PPK from its source; retransmissions are dropped meanwhile.
                self.parked = Some(payloads.to_vec());
                self.state = State::AwaitAuth;
                return;
            }
            Err(e) => {
                let n = e.notify().unwrap_or(NotifyType::AUTHENTICATION_FAILED);
                self.respond(now, ExchangeType::IKE_AUTH, vec![notify(n, Vec::new())], ctx);
                return self.fail(e, ctx);
            }
        }
        let conn = self.conn.clone();
        let Some(prf) = self.prf(ctx) else { return self.fail(Error::Internal("prf"), ctx) };
        let int_auth = self.int_auth.finish(self.expected_request_id);
        let Some(keys) = self.keys.as_ref() else { return self.fail(Error::Internal("keys"), ctx) };
        let auth = auth_value(prf, &conn.auth, &[&self.msg2, &self.ni, &maced_id(prf, &keys.sk_pr, &conn.local_id.body()), &int_auth]);
        let mut out = vec![
            Payload::IdR(conn.local_id.0.clone()),
            Payload::Auth(AuthPayload { method: AuthMethod::SHARED_KEY_MIC, data: auth.expose().to_vec() }),
        ];
        if self.ppk_used {
            out.push(notify(NotifyType::PPK_IDENTITY, Vec::new()));
        }
        let child = match self.child_respond(now, payloads, ctx) {
            Ok((child, mut p)) => {
                out.append(&mut p);
                Some(child)
            }
            Err(n) => {
                out.push(notify(n, Vec::new()));
                None
            }
        };
        if self.respond(now, ExchangeType::IKE_AUTH, out, ctx).is_none() {
            return self.fail(Error::Internal("could not protect a response"), ctx);
        }
        self.established(now, ctx);
        if let Some(child) = child {
            ctx.stats.child_sas_established += 1;
            ctx.events.push_back(Event::ChildSaEstablished { sa: self.id, child });
        }
    }

    /// Responder: identity, PPK policy and AUTH checks on an IKE_AUTH request.
    fn verify_initiator(&mut self, now: Instant, payloads: &[Payload], ctx: &mut Ctx<'_>) -> Result<Verified, Error> {
        let prf = self.prf(ctx).ok_or(Error::Internal("prf"))?;
        let (Some(idi), Some(auth)) = (find_id(payloads, true), find_auth(payloads)) else {
            return Err(Error::InvalidSyntax("IKE_AUTH request without IDi or AUTH"));
        };
        let conn = self.conn.clone();
        if conn.remote_id.as_ref().is_some_and(|r| r.0 != *idi) {
            return Err(Error::AuthenticationFailed("initiator identity does not match remote_id"));
        }
        if auth.method != AuthMethod::SHARED_KEY_MIC {
            return Err(Error::AuthenticationFailed("unsupported authentication method"));
        }
        let required = conn.ppk.as_ref().is_some_and(|p| p.required);
        let offered = find_notify(payloads, NotifyType::PPK_IDENTITY).filter(|_| self.peer.use_ppk).map(|n| ppk_id(&n.data));
        let ppk = match offered {
            Some(Some(id)) => match self.responder_ppk(now, id, ctx) {
                PpkLookup::Wait => return Ok(Verified::Parked),
                PpkLookup::Use(_, key) => Some(key),
                PpkLookup::Without => None,
            },
            Some(None) => return Err(Error::InvalidSyntax("malformed PPK_IDENTITY")),
            None => None,
        };
        let int_auth = self.int_auth.finish(self.expected_request_id);
        let idb = id_body(idi);
        let keys = self.keys.as_mut().ok_or(Error::Internal("keys"))?;
        let checked = if let Some(key) = ppk {
            keys.mix_ppk_rfc8784(prf, &key).ok_or(Error::Internal("PPK mixing"))?;
            self.ppk_used = true;
            auth.data.clone()
        } else if required && !self.peer.use_ppk_int {
            return Err(Error::AuthenticationFailed(if offered.is_some() { "PPK required but not available for the offered PPK_ID" } else { "PPK required but none offered" }));
        } else if offered.is_some() {
            // RFC 8784 §3: without the PPK, fall back to NO_PPK_AUTH if the peer allows it.
            let n = find_notify(payloads, NotifyType::NO_PPK_AUTH).ok_or(Error::AuthenticationFailed("PPK not available and no NO_PPK_AUTH"))?;
            n.data.clone()
        } else {
            auth.data.clone()
        };
        let keys = self.keys.as_ref().ok_or(Error::Internal("keys"))?;
        let expected = auth_value(prf, &conn.auth, &[&self.msg1, &self.nr, &maced_id(prf, &keys.sk_pi, &idb), &int_auth]);
        if !ct_eq(expected.expose(), &checked) {
            self.ppk_used = false;
            return Err(Error::AuthenticationFailed("initiator AUTH does not verify"));
        }
        Ok(Verified::Done)
    }

    fn established(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
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
            local_spi: IkeSpi(if self.initiator { self.spi_i } else { self.spi_r }),
            remote_spi: IkeSpi(if self.initiator { self.spi_r } else { self.spi_i }),
            local: self.local,
            remote: self.remote,
            proposal: self.suite.as_ref().map(ToString::to_string).unwrap_or_default(),
            ppk_used: self.ppk_used,
            nat_detected: self.nat_detected(),
            intermediate_exchanges: self.intermediate_count,
        };
        tracing::info!(sa = ?self.id, proposal = %info.proposal, ppk = info.ppk_used, "IKE SA established");
        ctx.events.push_back(Event::IkeSaEstablished { sa: self.id, info });
        self.export_keys(ctx);
    }
}

/// The AUTH value for our credentials.
fn auth_value(prf: &dyn Prf, auth: &AuthConfig, octets: &[&[u8]]) -> SecretBytes {
    match auth {
        AuthConfig::Psk(psk) => psk_auth(prf, psk.expose(), octets),
    }
}

/// Errors in an IKE_AUTH response that fail the IKE SA (the others only concern the Child SA).
fn is_ike_fatal(n: NotifyType) -> bool {
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
        Some((&t, rest)) if (t == PpkIdType::PPK_ID_FIXED.0 || t == PpkIdType::PPK_ID_OPAQUE.0) && !rest.is_empty() => Some(rest),
        _ => None,
    }
}

fn find_id(p: &[Payload], initiator: bool) -> Option<&Identification> {
    p.iter().find_map(|x| match (x, initiator) {
        (Payload::IdI(id), true) | (Payload::IdR(id), false) => Some(id),
        _ => None,
    })
}

fn find_auth(p: &[Payload]) -> Option<&AuthPayload> {
    p.iter().find_map(|x| match x {
        Payload::Auth(a) => Some(a),
        _ => None,
    })
}

/// RestOfIDPayload: type, three reserved octets, data.
fn id_body(id: &Identification) -> Vec<u8> {
    let mut out = vec![id.id_type.0, 0, 0, 0];
    out.extend_from_slice(&id.data);
    out
}
