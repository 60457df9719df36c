//! IKE_AUTH with PSK (RFC 7296 §2.15) and PPK (RFC 8784: USE_PPK, PPK_IDENTITY, NO_PPK_AUTH).

use std::time::Instant;

use ipsec_crypto::{Prf, SecretBytes, ct_eq};

use super::child::ChildRequest;
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
        let int_auth = self.int_auth.finish(self.next_message_id);
        let use_ppk = self.peer.use_ppk && conn.ppk.is_some();
        if let Some(ppk) = conn.ppk.as_ref().filter(|p| p.required && !use_ppk) {
            let _ = ppk;
            return self.fail(Error::AuthenticationFailed("PPK required but the peer did not send USE_PPK"), ctx);
        }
        let id_body = conn.local_id.body();
        let mut payloads = vec![Payload::IdI(conn.local_id.0.clone())];
        if let Some(r) = &conn.remote_id {
            payloads.push(Payload::IdR(r.0.clone()));
        }
        let mut pre_ppk = None;
        let mut no_ppk_auth = None;
        if let (true, Some(ppk), Some(keys)) = (use_ppk, conn.ppk.as_ref(), self.keys.as_mut()) {
            if !ppk.required {
                no_ppk_auth = Some(auth_value(prf, &conn.auth, &[&self.msg1, &self.nr, &maced_id(prf, &keys.sk_pi, &id_body), &int_auth]));
            }
            pre_ppk = Some(PrePpkKeys { sk_d: dup(&keys.sk_d), sk_pi: dup(&keys.sk_pi), sk_pr: dup(&keys.sk_pr) });
            if keys.mix_ppk_rfc8784(prf, &ppk.key).is_none() {
                return self.fail(Error::Internal("PPK mixing"), ctx);
            }
        }
        let Some(keys) = self.keys.as_ref() else { return self.fail(Error::Internal("keys"), ctx) };
        let auth = auth_value(prf, &conn.auth, &[&self.msg1, &self.nr, &maced_id(prf, &keys.sk_pi, &id_body), &int_auth]);
        payloads.push(Payload::Auth(AuthPayload { method: AuthMethod::SHARED_KEY_MIC, data: auth.expose().to_vec() }));
        if let (true, Some(ppk)) = (use_ppk, conn.ppk.as_ref()) {
            let mut data = vec![PpkIdType::PPK_ID_FIXED.0];
            data.extend_from_slice(&ppk.id);
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
        self.ppk_used = ppk_used;
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
        match self.verify_initiator(payloads, ctx) {
            Ok(()) => {}
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
    fn verify_initiator(&mut self, payloads: &[Payload], ctx: &Ctx<'_>) -> Result<(), Error> {
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
        let int_auth = self.int_auth.finish(self.expected_request_id);
        let ppk_id = find_notify(payloads, NotifyType::PPK_IDENTITY).filter(|_| self.peer.use_ppk);
        let our_ppk = conn.ppk.as_ref();
        let matching = our_ppk.filter(|p| ppk_id.is_some_and(|n| ppk_id_matches(&n.data, &p.id)));
        let idb = id_body(idi);
        let keys = self.keys.as_mut().ok_or(Error::Internal("keys"))?;
        let (checked, ppk_used) = if let Some(ppk) = matching {
            keys.mix_ppk_rfc8784(prf, &ppk.key).ok_or(Error::Internal("PPK mixing"))?;
            (auth.data.clone(), true)
        } else if our_ppk.is_some_and(|p| p.required) {
            return Err(Error::AuthenticationFailed(if ppk_id.is_some() { "unknown PPK_ID and PPK is required" } else { "PPK required but none offered" }));
        } else if ppk_id.is_some() {
            // RFC 8784 §3: without the PPK, fall back to NO_PPK_AUTH if the peer allows it.
            let n = find_notify(payloads, NotifyType::NO_PPK_AUTH).ok_or(Error::AuthenticationFailed("unknown PPK_ID and no NO_PPK_AUTH"))?;
            (n.data.clone(), false)
        } else {
            (auth.data.clone(), false)
        };
        let expected = auth_value(prf, &conn.auth, &[&self.msg1, &self.nr, &maced_id(prf, &keys.sk_pi, &idb), &int_auth]);
        if !ct_eq(expected.expose(), &checked) {
            return Err(Error::AuthenticationFailed("initiator AUTH does not verify"));
        }
        self.ppk_used = ppk_used;
        Ok(())
    }

    fn established(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        self.state = State::Established;
        self.half_open_deadline = None;
        self.arm_timers(now, ctx);
        ctx.stats.ike_sas_established += 1;
        let info = IkeSaInfo {
            connection: self.conn.name.clone(),
            initiator: self.initiator,
            local_spi: IkeSpi(if self.initiator { self.spi_i } else { self.spi_r }),
            remote_spi: IkeSpi(if self.initiator { self.spi_r } else { self.spi_i }),
            remote: self.remote,
            proposal: self.suite.as_ref().map(ToString::to_string).unwrap_or_default(),
            ppk_used: self.ppk_used,
            nat_detected: self.nat_detected,
            intermediate_exchanges: self.intermediate_count,
        };
        tracing::info!(sa = ?self.id, proposal = %info.proposal, ppk = info.ppk_used, "IKE SA established");
        ctx.events.push_back(Event::IkeSaEstablished { sa: self.id, info });
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

/// PPK_IDENTITY data: one type octet (OPAQUE or FIXED) and the ID.
fn ppk_id_matches(data: &[u8], id: &[u8]) -> bool {
    match data.split_first() {
        Some((&t, rest)) if t == PpkIdType::PPK_ID_FIXED.0 || t == PpkIdType::PPK_ID_OPAQUE.0 => rest == id,
        _ => false,
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
