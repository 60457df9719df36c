//! EAP inside IKE_AUTH (RFC 7296 §2.16), for both roles, with the EAP method run by the
//! driver: the engine never blocks on it.
//!
//! ```text
//! I: IDi, [CERTREQ], [IDr], SAi2, TSi, TSr          (no AUTH: "I want EAP")
//!                                   R: -> Event::EapStarted, waits for Endpoint::eap_respond
//! R: IDr, [CERT], AUTH, EAP(Request)
//! I: -> Event::EapMessage(Request), waits for Endpoint::eap_respond
//! I: EAP(Response)                  R: -> Event::EapMessage(Response) ...
//! R: EAP(Success)                   (after EapStep::Success { msk } from the server's driver)
//! I: -> Event::EapMessage(Success), EapStep::Success { msk } from the peer's driver
//! I: AUTH                           (prf(prf(MSK, "Key Pad for IKEv2"), InitiatorSignedOctets))
//! R: AUTH, SAr2, TSi, TSr
//! ```
//!
//! The AUTH payloads of the last exchange use the MSK as shared key, or SK_pi and SK_pr when
//! the method derives no key; their IntAuth is that of the first IKE_AUTH request (RFC 9242
//! §3.3.2). While the driver works, a retransmitted request is dropped; the responder's
//! half-open timeout bounds the whole exchange.

use std::fmt;
use std::time::Instant;

use ipsec_crypto::{SecretBytes, ct_eq};

use super::auth::{AuthSent, Verified, find_auth, find_id, id_body, is_ike_fatal};
use super::{Ctx, IkeSa, State, first_error_notify};
use crate::config::Identity;
use crate::error::Error;
use crate::event::Event;
use crate::keys::{maced_id, psk_auth};
use crate::wire::{AuthMethod, AuthPayload, ExchangeType, Identification, Payload};

/// The driver's answer to [`Event::EapStarted`] or [`Event::EapMessage`], given with
/// [`Endpoint::eap_respond`](crate::Endpoint::eap_respond).
#[non_exhaustive]
pub enum EapStep {
    /// The next EAP packet to send: a Request (responder, EAP server) or a Response (initiator,
    /// EAP peer).
    Message(Vec<u8>),
    /// The method succeeded, with its MSK (RFC 3748 §7.10), or `None` for a method without
    /// one (AUTH then uses SK_pi/SK_pr). The responder then sends EAP-Success; the initiator
    /// answers the responder's EAP-Success with it.
    Success { msk: Option<SecretBytes> },
    /// The method failed: the responder sends EAP-Failure; either side fails the IKE SA with
    /// AUTHENTICATION_FAILED.
    Failure,
}

/// Responder: the EAP exchange with the initiator.
pub(crate) struct EapServer {
    /// The first IKE_AUTH request (SAi2, TSi, TSr), answered in the last exchange.
    first_request: Vec<Payload>,
    idi: Identification,
    ike_auth_mid: u32,
    phase: ServerPhase,
    /// Identifier of the initiator's last EAP Response, echoed in EAP-Success or EAP-Failure
    /// (RFC 3748 §4.2).
    last_identifier: u8,
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
    ike_auth_mid: u32,
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
    pub(super) fn new(ike_auth_mid: u32) -> Self {
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
        self.eap = Some(Box::new(EapServer {
            first_request: payloads.to_vec(),
            idi: idi.clone(),
            ike_auth_mid: self.expected_request_id,
            phase: ServerPhase::Starting,
            last_identifier: 0,
        }));
        Ok(Verified::Eap)
    }

    /// Responder: an IKE_AUTH request during EAP.
    pub(super) fn handle_eap_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        self.state = State::AwaitAuth;
        let Some(mut server) = self.eap.take() else {
            return;
        };
        match std::mem::replace(&mut server.phase, ServerPhase::AwaitDriver) {
            ServerPhase::AwaitPeer => {
                let Some(message) = find_eap(payloads)
                    .filter(|m| m.len() >= EAP_HEADER_LEN && m[0] == EAP_RESPONSE)
                else {
                    return self.reject_auth(
                        now,
                        Error::InvalidSyntax("IKE_AUTH request during EAP without an EAP Response"),
                        ctx,
                    );
                };
                server.last_identifier = message[1];
                ctx.events.push_back(Event::EapMessage {
                    sa: self.id,
                    message: message.to_vec(),
                });
                self.eap = Some(server);
            }
            ServerPhase::AwaitAuth(msk) => {
                self.finish_eap_server(now, payloads, &server, msk.as_ref(), ctx)
            }
            phase => {
                // A retransmission while the driver works on the request: it is answered then.
                server.phase = phase;
                self.eap = Some(server);
                ctx.stats.dropped_unexpected += 1;
            }
        }
    }

    /// Responder: the driver's EAP Request, Success or Failure.
    fn eap_server_step(&mut self, now: Instant, step: EapStep, ctx: &mut Ctx<'_>) {
        let Some(mut server) = self.eap.take() else {
            return;
        };
        let phase = std::mem::replace(&mut server.phase, ServerPhase::AwaitPeer);
        let out = match (phase, step) {
            (ServerPhase::Starting, EapStep::Message(request)) => {
                let int_auth = self.int_auth.finish(server.ike_auth_mid);
                match self.responder_auth_payloads(&int_auth, ctx) {
                    Ok(mut out) => {
                        out.push(Payload::Eap(request));
                        out
                    }
                    Err(e) => return self.reject_auth(now, e, ctx),
                }
            }
            (ServerPhase::AwaitDriver, EapStep::Message(request)) => vec![Payload::Eap(request)],
            (ServerPhase::AwaitDriver, EapStep::Success { msk }) => {
                server.phase = ServerPhase::AwaitAuth(msk);
                vec![Payload::Eap(vec![
                    EAP_SUCCESS,
                    server.last_identifier,
                    0,
                    4,
                ])]
            }
            (ServerPhase::AwaitDriver, EapStep::Failure) => {
                let failure = vec![Payload::Eap(vec![
                    EAP_FAILURE,
                    server.last_identifier,
                    0,
                    4,
                ])];
                self.respond(now, ExchangeType::IKE_AUTH, failure, ctx);
                return self.fail(
                    Error::AuthenticationFailed("EAP authentication of the initiator failed"),
                    ctx,
                );
            }
            (ServerPhase::Starting, _) => {
                return self.reject_auth(
                    now,
                    Error::AuthenticationFailed("EAP ended before any EAP round trip"),
                    ctx,
                );
            }
            (phase, _) => {
                tracing::debug!(sa = ?self.id, "EAP step ignored: no EAP message is waiting for one");
                server.phase = phase;
                self.eap = Some(server);
                return;
            }
        };
        self.eap = Some(server);
        if self
            .respond(now, ExchangeType::IKE_AUTH, out, ctx)
            .is_none()
        {
            self.fail(Error::Internal("could not protect a response"), ctx);
        }
    }

    /// Responder: the initiator's AUTH from the MSK; ours, and the first Child SA.
    fn finish_eap_server(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        server: &EapServer,
        msk: Option<&SecretBytes>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(auth) = find_auth(payloads) else {
            return self.reject_auth(
                now,
                Error::InvalidSyntax("last IKE_AUTH request of EAP without AUTH"),
                ctx,
            );
        };
        let int_auth = self.int_auth.finish(server.ike_auth_mid);
        let Some((expected, ours)) = self.msk_auth(
            msk,
            &id_body(&server.idi),
            &self.conn.local_id.body(),
            &int_auth,
            ctx,
        ) else {
            return self.fail(Error::Internal("keys"), ctx);
        };
        if auth.method != AuthMethod::SHARED_KEY_MIC || !ct_eq(expected.expose(), &auth.data) {
            return self.reject_auth(
                now,
                Error::AuthenticationFailed("initiator AUTH from the EAP MSK does not verify"),
                ctx,
            );
        }
        let out = vec![Payload::Auth(AuthPayload {
            method: AuthMethod::SHARED_KEY_MIC,
            data: ours.expose().to_vec(),
        })];
        self.eap = None;
        self.finish_responder(now, out, &server.first_request, ctx);
    }

    /// Initiator: a response during EAP.
    pub(super) fn handle_eap_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
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
                let int_auth = self.int_auth.finish(client.ike_auth_mid);
                match self.verify_responder(now, payloads, &int_auth, ctx) {
                    Ok(idr) => client.idr = Some(idr),
                    Err(e) => return self.fail(e, ctx),
                }
            }
            ClientPhase::Sent => {}
            ClientPhase::AuthSent(msk) => {
                return self.finish_eap_peer(now, payloads, sent, &client, msk.as_ref(), ctx);
            }
            ClientPhase::AwaitDriver { .. } => {
                return self.fail(Error::Internal("EAP response without a request"), ctx);
            }
        }
        let Some(message) = find_eap(payloads).filter(|m| m.len() >= EAP_HEADER_LEN) else {
            return self.fail(
                Error::InvalidSyntax("IKE_AUTH response during EAP without an EAP packet"),
                ctx,
            );
        };
        client.phase = match message[0] {
            EAP_REQUEST => ClientPhase::AwaitDriver { success: false },
            EAP_SUCCESS => ClientPhase::AwaitDriver { success: true },
            EAP_FAILURE => {
                return self.fail(
                    Error::AuthenticationFailed("responder sent EAP-Failure"),
                    ctx,
                );
            }
            _ => {
                return self.fail(
                    Error::InvalidSyntax(
                        "EAP packet from the responder is not a Request, Success or Failure",
                    ),
                    ctx,
                );
            }
        };
        ctx.events.push_back(Event::EapMessage {
            sa: self.id,
            message: message.to_vec(),
        });
        sent.eap = Some(client);
        self.state = State::AuthSent(sent);
    }

    /// Initiator: the driver's EAP Response, or the MSK after EAP-Success.
    fn eap_peer_step(&mut self, now: Instant, step: EapStep, ctx: &mut Ctx<'_>) {
        let state = std::mem::replace(&mut self.state, State::Dead);
        let State::AuthSent(mut sent) = state else {
            self.state = state;
            return;
        };
        let Some(client) = sent.eap.as_mut() else {
            self.state = State::AuthSent(sent);
            return;
        };
        let ClientPhase::AwaitDriver { success } = client.phase else {
            self.state = State::AuthSent(sent);
            return;
        };
        let payloads = match (success, step) {
            (false, EapStep::Message(response)) => {
                client.phase = ClientPhase::Sent;
                vec![Payload::Eap(response)]
            }
            (true, EapStep::Success { msk }) => {
                let int_auth = self.int_auth.finish(client.ike_auth_mid);
                let idr = client.idr.as_ref().map(id_body).unwrap_or_default();
                let Some((ours, _)) = self.msk_auth(
                    msk.as_ref(),
                    &self.conn.local_id.body(),
                    &idr,
                    &int_auth,
                    ctx,
                ) else {
                    return self.fail(Error::Internal("keys"), ctx);
                };
                client.phase = ClientPhase::AuthSent(msk);
                vec![Payload::Auth(AuthPayload {
                    method: AuthMethod::SHARED_KEY_MIC,
                    data: ours.expose().to_vec(),
                })]
            }
            (_, EapStep::Failure) => {
                return self.fail(
                    Error::AuthenticationFailed("EAP method failed on the initiator"),
                    ctx,
                );
            }
            (_, _) => {
                tracing::debug!(sa = ?self.id, "EAP step does not fit the responder's last EAP packet");
                self.state = State::AuthSent(sent);
                return;
            }
        };
        self.state = State::AuthSent(sent);
        self.send_request(now, ExchangeType::IKE_AUTH, &payloads, ctx);
    }

    /// Initiator: the responder's AUTH from the MSK completes the IKE SA.
    fn finish_eap_peer(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        sent: AuthSent,
        client: &EapClient,
        msk: Option<&SecretBytes>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(auth) = find_auth(payloads) else {
            return self.fail(
                Error::InvalidSyntax("last IKE_AUTH response of EAP without AUTH"),
                ctx,
            );
        };
        let int_auth = self.int_auth.finish(client.ike_auth_mid);
        let idr = client.idr.as_ref().map(id_body).unwrap_or_default();
        let Some((_, expected)) =
            self.msk_auth(msk, &self.conn.local_id.body(), &idr, &int_auth, ctx)
        else {
            return self.fail(Error::Internal("keys"), ctx);
        };
        if auth.method != AuthMethod::SHARED_KEY_MIC || !ct_eq(expected.expose(), &auth.data) {
            return self.fail(
                Error::AuthenticationFailed("responder AUTH from the EAP MSK does not verify"),
                ctx,
            );
        }
        self.finish_initiator(now, payloads, sent.child, ctx);
    }

    /// The AUTH values of the last EAP exchange (RFC 7296 §2.16): `(initiator's, responder's)`
    /// over their signed octets, keyed with the MSK, or with SK_pi and SK_pr without one.
    fn msk_auth(
        &self,
        msk: Option<&SecretBytes>,
        idi_body: &[u8],
        idr_body: &[u8],
        int_auth: &[u8],
        ctx: &Ctx<'_>,
    ) -> Option<(SecretBytes, SecretBytes)> {
        let prf = self.prf(ctx)?;
        let keys = self.keys.as_ref()?;
        let maced_i = maced_id(prf, &keys.sk_pi, idi_body);
        let maced_r = maced_id(prf, &keys.sk_pr, idr_body);
        let key_i = msk.unwrap_or(&keys.sk_pi);
        let key_r = msk.unwrap_or(&keys.sk_pr);
        let i = psk_auth(
            prf,
            key_i.expose(),
            &[&self.msg1, &self.nr, &maced_i, int_auth],
        );
        let r = psk_auth(
            prf,
            key_r.expose(),
            &[&self.msg2, &self.ni, &maced_r, int_auth],
        );
        Some((i, r))
    }
}

impl fmt::Debug for EapStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(m) => f
                .debug_tuple("Message")
                .field(&format_args!("{} octets", m.len()))
                .finish(),
            Self::Success { msk } => f
                .debug_struct("Success")
                .field("msk_len", &msk.as_ref().map(SecretBytes::len))
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
