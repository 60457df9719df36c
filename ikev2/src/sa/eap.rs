//! EAP inside IKE_AUTH (RFC 7296 §2.16), for both roles, with the EAP method run by the
//! driver: the engine never blocks on it.
//!
//! ```text
//! I: IDi, [CERTREQ], [IDr], [CP(CFG_REQUEST)], SAi2, TSi, TSr   (no AUTH: "I want EAP")
//!                                   R: -> Event::EapStarted, waits for Endpoint::eap_respond
//! R: IDr, [CERT], AUTH, EAP(Request)
//! I: -> Event::EapMessage(Request), waits for Endpoint::eap_respond
//! I: EAP(Response)                  R: -> Event::EapMessage(Response) ...
//! R: EAP(Success)                   (after EapStep::Success { msk, reply } from the server's driver)
//! I: -> Event::EapMessage(Success), EapStep::Success { msk } from the peer's driver
//! I: AUTH, [CP(CFG_REQUEST)]        (prf(prf(MSK, "Key Pad for IKEv2"), InitiatorSignedOctets))
//! R: AUTH, [CP(CFG_REPLY)], [N(private status)...], SAr2, TSi, TSr
//! I: -> Event::AuthReply (CP and notifies, if any), Event::IkeSaEstablished
//! ```
//!
//! `reply` ([`FinalAuthReply`]) is the server driver's: the CFG_REPLY goes out only if the
//! initiator sent a CFG_REQUEST in its first or last request; the first Child SA's TSi is
//! narrowed to its address whether or not (TS_UNACCEPTABLE for that Child SA, not the IKE SA,
//! when the initiator's TSi does not include it).
//!
//! ```text
//! ```
//!
//! The AUTH payloads of the last exchange use the MSK as shared key, or SK_pi and SK_pr when
//! the method derives no key; their IntAuth is that of the first IKE_AUTH request (RFC 9242
//! §3.3.2). While the driver works, a retransmitted request is dropped; the responder's
//! half-open timeout bounds the whole exchange.

use std::fmt;
use std::time::Instant;

use ipsec_crypto::{SecretBytes, ct_eq};

use super::auth::AuthSent;
use super::auth_answer::Verified;
use super::config_payload::{final_reply_payloads, has_cfg_request};
use super::credentials::{find_auth, find_id, id_body, is_ike_fatal};
use super::state::{AuthWait, Handshake, State, Step};
use super::{Ctx, IkeSa, first_error_notify};
use crate::auth_reply::FinalAuthReply;
use crate::config::Identity;
use crate::error::Error;
use crate::event::Event;
use crate::keys::{maced_id, psk_auth};
use crate::wire::{AuthMethod, AuthPayload, ExchangeType, Identification, MessageId, Payload};

/// The driver's answer to [`Event::EapStarted`] or [`Event::EapMessage`], given with
/// [`Endpoint::eap_respond`](crate::Endpoint::eap_respond).
#[non_exhaustive]
pub enum EapStep {
    /// The next EAP packet to send: a Request (responder, EAP server) or a Response (initiator,
    /// EAP peer).
    Message(Vec<u8>),
    /// The method succeeded, with its MSK (RFC 3748 §7.10), or `None` for a method without
    /// one (AUTH then uses SK_pi/SK_pr). The responder then sends EAP-Success, and `reply` goes
    /// into its final IKE_AUTH response; the initiator answers the responder's EAP-Success with
    /// it (its `reply` is not used).
    Success {
        msk: Option<SecretBytes>,
        reply: FinalAuthReply,
    },
    /// The method failed: the responder sends EAP-Failure; either side fails the IKE SA with
    /// AUTHENTICATION_FAILED.
    Failure,
}

/// Responder: the EAP exchange with the initiator.
pub(crate) struct EapServer {
    /// The first IKE_AUTH request (SAi2, TSi, TSr), answered in the last exchange.
    first_request: Vec<Payload>,
    idi: Identification,
    ike_auth_mid: MessageId,
    phase: ServerPhase,
    /// Identifier of the initiator's last EAP Response, echoed in EAP-Success or EAP-Failure
    /// (RFC 3748 §4.2).
    last_identifier: u8,
    /// Whether the initiator sent a CP(CFG_REQUEST), in its first or its last IKE_AUTH request.
    cfg_requested: bool,
    /// What the driver's EAP-Success adds to the final response.
    reply: FinalAuthReply,
}

/// Responder: how EAP ends early.
enum ServerEnd {
    /// Answer IKE_AUTH with the error's notify and fail.
    Reject(Error),
    /// The method failed: EAP-Failure, and fail.
    Failure,
}

enum ServerPhase {
    /// The first IKE_AUTH request waits for the driver's first EAP Request.
    Starting,
    /// An IKE_AUTH request with an EAP Response waits for the driver's answer.
    AwaitDriver,
    /// Our EAP Request is out; waiting for the initiator's next IKE_AUTH request.
    AwaitPeer,
    /// EAP-Success is out; waiting for the initiator's AUTH, made with this MSK.
    AwaitAuth(Option<SecretBytes>),
}

/// Initiator: the EAP exchange with the responder.
pub(crate) struct EapClient {
    ike_auth_mid: MessageId,
    phase: ClientPhase,
    /// The responder's identity, from the first IKE_AUTH response.
    idr: Option<Identification>,
}

enum ClientPhase {
    /// The first IKE_AUTH request (without AUTH) is out.
    FirstSent,
    /// The driver has the responder's EAP Request (or EAP-Success when `success`).
    AwaitDriver { success: bool },
    /// Our EAP Response is out.
    Sent,
    /// Our AUTH is out, made with this MSK.
    AuthSent(Option<SecretBytes>),
}

impl EapClient {
    pub(super) fn new(ike_auth_mid: MessageId) -> Self {
        Self {
            ike_auth_mid,
            phase: ClientPhase::FirstSent,
            idr: None,
        }
    }
}

impl IkeSa {
    /// The driver's EAP step, in either role.
    pub(crate) fn eap_respond(&mut self, now: Instant, step: EapStep, ctx: &mut Ctx<'_>) {
        if self.initiator {
            self.eap_peer_step(now, step, ctx);
        } else {
            self.eap_server_step(now, step, ctx);
        }
    }

    /// Responder: an IKE_AUTH request without AUTH starts EAP.
    pub(super) fn start_eap(
        &mut self,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Result<Verified, Error> {
        let idi =
            find_id(payloads, true).ok_or(Error::InvalidSyntax("IKE_AUTH request without IDi"))?;
        if self.conn.remote_id.as_ref().is_some_and(|r| r.0 != *idi) {
            return Err(Error::AuthenticationFailed(
                "initiator identity does not match remote_id",
            ));
        }
        ctx.events.push_back(Event::EapStarted {
            sa: self.id,
            peer_id: Identity(idi.clone()),
        });
        Ok(Verified::Eap(Box::new(EapServer {
            first_request: payloads.to_vec(),
            idi: idi.clone(),
            ike_auth_mid: self.window.expected_id,
            phase: ServerPhase::Starting,
            last_identifier: 0,
            cfg_requested: has_cfg_request(payloads),
            reply: FinalAuthReply::default(),
        })))
    }

    /// Responder: an IKE_AUTH request during EAP.
    pub(super) fn handle_eap_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        hs: Box<Handshake>,
        mut server: Box<EapServer>,
        ctx: &mut Ctx<'_>,
    ) {
        match std::mem::replace(&mut server.phase, ServerPhase::AwaitDriver) {
            ServerPhase::AwaitPeer => {
                let Some(message) = find_eap(payloads)
                    .filter(|m| m.len() >= EAP_HEADER_LEN && m[0] == EAP_RESPONSE)
                else {
                    let e =
                        Error::InvalidSyntax("IKE_AUTH request during EAP without an EAP Response");
                    return self.reject_auth(now, e, ctx);
                };
                server.last_identifier = message[1];
                ctx.events.push_back(Event::EapMessage {
                    sa: self.id,
                    message: message.to_vec(),
                });
            }
            ServerPhase::AwaitAuth(msk) => {
                server.cfg_requested |= has_cfg_request(payloads);
                return self.finish_eap_server(now, payloads, hs, &server, msk.as_ref(), ctx);
            }
            phase => {
                // A retransmission while the driver works on the request: it is answered then.
                server.phase = phase;
                ctx.stats.dropped_unexpected += 1;
            }
        }
        self.state = State::Handshake(hs, Step::AwaitAuth(AuthWait::Eap(server)));
    }

    /// Responder: the driver's EAP Request, Success or Failure.
    fn eap_server_step(&mut self, now: Instant, step: EapStep, ctx: &mut Ctx<'_>) {
        let state = std::mem::replace(&mut self.state, State::Dead);
        let State::Handshake(hs, Step::AwaitAuth(AuthWait::Eap(mut server))) = state else {
            self.state = state;
            return;
        };
        let answer = self.eap_server_answer(&hs, &mut server, step, ctx);
        let identifier = server.last_identifier;
        self.state = State::Handshake(hs, Step::AwaitAuth(AuthWait::Eap(server)));
        match answer {
            Ok(Some(out)) => {
                if self
                    .respond(now, ExchangeType::IKE_AUTH, out, ctx)
                    .is_none()
                {
                    self.fail(Error::Internal("could not protect a response"), ctx);
                }
            }
            Ok(None) => {}
            Err(ServerEnd::Reject(e)) => self.reject_auth(now, e, ctx),
            Err(ServerEnd::Failure) => self.eap_server_failed(now, identifier, ctx),
        }
    }

    /// Responder: our IKE_AUTH response for the driver's step (`None`: no EAP message waits
    /// for one), or how EAP ends.
    fn eap_server_answer(
        &self,
        hs: &Handshake,
        server: &mut EapServer,
        step: EapStep,
        ctx: &Ctx<'_>,
    ) -> Result<Option<Vec<Payload>>, ServerEnd> {
        let phase = std::mem::replace(&mut server.phase, ServerPhase::AwaitPeer);
        match (phase, step) {
            (ServerPhase::Starting, EapStep::Message(request)) => {
                let int_auth = hs.int_auth.finish(server.ike_auth_mid);
                let mut out = self
                    .responder_auth_payloads(hs, &int_auth, ctx)
                    .map_err(ServerEnd::Reject)?;
                out.push(Payload::Eap(request));
                Ok(Some(out))
            }
            (ServerPhase::AwaitDriver, EapStep::Message(request)) => {
                Ok(Some(vec![Payload::Eap(request)]))
            }
            (ServerPhase::AwaitDriver, EapStep::Success { msk, reply }) => {
                server.phase = ServerPhase::AwaitAuth(msk);
                server.reply = reply;
                Ok(Some(vec![eap_result(EAP_SUCCESS, server.last_identifier)]))
            }
            (ServerPhase::AwaitDriver, EapStep::Failure) => Err(ServerEnd::Failure),
            (ServerPhase::Starting, _) => Err(ServerEnd::Reject(Error::AuthenticationFailed(
                "EAP ended before any EAP round trip",
            ))),
            (phase, _) => {
                tracing::debug!(sa = %self.id, "EAP step ignored: no EAP message is waiting for one");
                server.phase = phase;
                Ok(None)
            }
        }
    }

    /// Responder: the EAP method failed; EAP-Failure, and the SA fails.
    fn eap_server_failed(&mut self, now: Instant, identifier: u8, ctx: &mut Ctx<'_>) {
        let failure = vec![eap_result(EAP_FAILURE, identifier)];
        self.respond(now, ExchangeType::IKE_AUTH, failure, ctx);
        let e = Error::AuthenticationFailed("EAP authentication of the initiator failed");
        self.fail(e, ctx);
    }

    /// Responder: the initiator's AUTH from the MSK; ours, the driver's CFG_REPLY (if asked
    /// for) and status notifies, and the first Child SA narrowed as the driver said.
    fn finish_eap_server(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        hs: Box<Handshake>,
        server: &EapServer,
        msk: Option<&SecretBytes>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(auth) = find_auth(payloads) else {
            let e = Error::InvalidSyntax("last IKE_AUTH request of EAP without AUTH");
            return self.reject_auth(now, e, ctx);
        };
        let int_auth = hs.int_auth.finish(server.ike_auth_mid);
        let ids = (id_body(&server.idi), self.conn.local_id.body());
        let Some((expected, ours)) = self.msk_auth(&hs, msk, (&ids.0, &ids.1), &int_auth, ctx)
        else {
            return self.fail(Error::Internal("keys"), ctx);
        };
        if auth.method != AuthMethod::SHARED_KEY_MIC || !ct_eq(expected.expose(), &auth.data) {
            let e = Error::AuthenticationFailed("initiator AUTH from the EAP MSK does not verify");
            return self.reject_auth(now, e, ctx);
        }
        let mut out = vec![Payload::Auth(AuthPayload {
            method: AuthMethod::SHARED_KEY_MIC,
            data: ours.expose().to_vec(),
        })];
        out.extend(final_reply_payloads(&server.reply, server.cfg_requested));
        let narrow = server.reply.narrow_remote_ts;
        self.finish_responder(now, hs, out, &server.first_request, narrow, ctx);
    }

    /// Initiator: a response during EAP.
    pub(super) fn handle_eap_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        hs: Box<Handshake>,
        mut sent: AuthSent,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(mut client) = sent.eap.take() else {
            return;
        };
        if let Some(e) = first_error_notify(payloads).filter(|e| is_ike_fatal(*e)) {
            return self.fail(Error::PeerError(e), ctx);
        }
        match std::mem::replace(&mut client.phase, ClientPhase::Sent) {
            ClientPhase::FirstSent => {
                let int_auth = hs.int_auth.finish(client.ike_auth_mid);
                match self.verify_responder(now, &hs, payloads, &int_auth, ctx) {
                    Ok(idr) => client.idr = Some(idr),
                    Err(e) => return self.fail(e, ctx),
                }
            }
            ClientPhase::Sent => {}
            ClientPhase::AuthSent(msk) => {
                return self.finish_eap_peer(now, payloads, hs, sent, &client, msk.as_ref(), ctx);
            }
            ClientPhase::AwaitDriver { .. } => {
                return self.fail(Error::Internal("EAP response without a request"), ctx);
            }
        }
        match eap_from_responder(payloads) {
            Ok((message, success)) => {
                client.phase = ClientPhase::AwaitDriver { success };
                ctx.events.push_back(Event::EapMessage {
                    sa: self.id,
                    message: message.to_vec(),
                });
                sent.eap = Some(client);
                self.state = State::Handshake(hs, Step::AuthSent(sent));
            }
            Err(e) => self.fail(e, ctx),
        }
    }

    /// Initiator: the driver's EAP Response, or the MSK after EAP-Success.
    fn eap_peer_step(&mut self, now: Instant, step: EapStep, ctx: &mut Ctx<'_>) {
        let state = std::mem::replace(&mut self.state, State::Dead);
        let State::Handshake(hs, Step::AuthSent(mut sent)) = state else {
            self.state = state;
            return;
        };
        let payload = match sent.eap.as_mut() {
            Some(client) => self.eap_peer_answer(&hs, client, step, ctx),
            None => Ok(None),
        };
        match payload {
            Ok(Some(payload)) => {
                self.state = State::Handshake(hs, Step::AuthSent(sent));
                self.send_request(now, ExchangeType::IKE_AUTH, &[payload], ctx);
            }
            Ok(None) => self.state = State::Handshake(hs, Step::AuthSent(sent)),
            Err(e) => self.fail(e, ctx),
        }
    }

    /// Initiator: what the driver's step makes us send (`None`: it does not fit the
    /// responder's last EAP packet), or why EAP failed.
    fn eap_peer_answer(
        &self,
        hs: &Handshake,
        client: &mut EapClient,
        step: EapStep,
        ctx: &Ctx<'_>,
    ) -> Result<Option<Payload>, Error> {
        let ClientPhase::AwaitDriver { success } = client.phase else {
            return Ok(None);
        };
        match (success, step) {
            (false, EapStep::Message(response)) => {
                client.phase = ClientPhase::Sent;
                Ok(Some(Payload::Eap(response)))
            }
            (true, EapStep::Success { msk, .. }) => {
                let int_auth = hs.int_auth.finish(client.ike_auth_mid);
                let idr = client.idr.as_ref().map(id_body).unwrap_or_default();
                let ids = (self.conn.local_id.body(), idr);
                let (ours, _) = self
                    .msk_auth(hs, msk.as_ref(), (&ids.0, &ids.1), &int_auth, ctx)
                    .ok_or(Error::Internal("keys"))?;
                client.phase = ClientPhase::AuthSent(msk);
                Ok(Some(Payload::Auth(AuthPayload {
                    method: AuthMethod::SHARED_KEY_MIC,
                    data: ours.expose().to_vec(),
                })))
            }
            (_, EapStep::Failure) => Err(Error::AuthenticationFailed(
                "EAP method failed on the initiator",
            )),
            (_, _) => {
                tracing::debug!(sa = %self.id, "EAP step does not fit the responder's last EAP packet");
                Ok(None)
            }
        }
    }

    /// Initiator: the responder's AUTH from the MSK completes the IKE SA.
    #[allow(clippy::too_many_arguments)]
    fn finish_eap_peer(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        hs: Box<Handshake>,
        sent: AuthSent,
        client: &EapClient,
        msk: Option<&SecretBytes>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(auth) = find_auth(payloads) else {
            let e = Error::InvalidSyntax("last IKE_AUTH response of EAP without AUTH");
            return self.fail(e, ctx);
        };
        let int_auth = hs.int_auth.finish(client.ike_auth_mid);
        let idr = client.idr.as_ref().map(id_body).unwrap_or_default();
        let ids = (self.conn.local_id.body(), idr);
        let Some((_, expected)) = self.msk_auth(&hs, msk, (&ids.0, &ids.1), &int_auth, ctx) else {
            return self.fail(Error::Internal("keys"), ctx);
        };
        if auth.method != AuthMethod::SHARED_KEY_MIC || !ct_eq(expected.expose(), &auth.data) {
            let e = Error::AuthenticationFailed("responder AUTH from the EAP MSK does not verify");
            return self.fail(e, ctx);
        }
        self.finish_initiator(now, hs, payloads, sent.child, ctx);
    }

    /// The AUTH values of the last EAP exchange (RFC 7296 §2.16): `(initiator's, responder's)`
    /// over their signed octets, keyed with the MSK, or with SK_pi and SK_pr without one.
    /// `ids` are the bodies of IDi and IDr.
    fn msk_auth(
        &self,
        hs: &Handshake,
        msk: Option<&SecretBytes>,
        (idi_body, idr_body): (&[u8], &[u8]),
        int_auth: &[u8],
        ctx: &Ctx<'_>,
    ) -> Option<(SecretBytes, SecretBytes)> {
        let prf = self.prf(ctx)?;
        let keys = self.keys.as_ref()?;
        let maced_i = maced_id(prf, &keys.sk_pi, idi_body);
        let maced_r = maced_id(prf, &keys.sk_pr, idr_body);
        let key_i = msk.unwrap_or(&keys.sk_pi);
        let key_r = msk.unwrap_or(&keys.sk_pr);
        let i = psk_auth(prf, key_i.expose(), &[&hs.msg1, &hs.nr, &maced_i, int_auth]);
        let r = psk_auth(prf, key_r.expose(), &[&hs.msg2, &hs.ni, &maced_r, int_auth]);
        Some((i, r))
    }
}

/// The responder's EAP packet in an IKE_AUTH response and whether it is EAP-Success; an error
/// for EAP-Failure or anything else.
fn eap_from_responder(payloads: &[Payload]) -> Result<(&[u8], bool), Error> {
    let Some(message) = find_eap(payloads).filter(|m| m.len() >= EAP_HEADER_LEN) else {
        return Err(Error::InvalidSyntax(
            "IKE_AUTH response during EAP without an EAP packet",
        ));
    };
    match message[0] {
        EAP_REQUEST => Ok((message, false)),
        EAP_SUCCESS => Ok((message, true)),
        EAP_FAILURE => Err(Error::AuthenticationFailed("responder sent EAP-Failure")),
        _ => Err(Error::InvalidSyntax(
            "EAP packet from the responder is not a Request, Success or Failure",
        )),
    }
}

/// EAP-Success or EAP-Failure (RFC 3748 §4.2) echoing the last Response's identifier.
fn eap_result(code: u8, identifier: u8) -> Payload {
    Payload::Eap(vec![code, identifier, 0, 4])
}

impl fmt::Debug for EapStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(m) => f
                .debug_tuple("Message")
                .field(&format_args!("{} octets", m.len()))
                .finish(),
            Self::Success { msk, reply } => f
                .debug_struct("Success")
                .field("msk_len", &msk.as_ref().map(SecretBytes::len))
                .field("reply", reply)
                .finish(),
            Self::Failure => f.write_str("Failure"),
        }
    }
}

fn find_eap(p: &[Payload]) -> Option<&[u8]> {
    p.iter().find_map(|x| match x {
        Payload::Eap(m) => Some(m.as_slice()),
        _ => None,
    })
}

/// EAP codes (RFC 3748 §4).
const EAP_REQUEST: u8 = 1;
const EAP_RESPONSE: u8 = 2;
const EAP_SUCCESS: u8 = 3;
const EAP_FAILURE: u8 = 4;
/// Code, Identifier and Length.
const EAP_HEADER_LEN: usize = 4;
