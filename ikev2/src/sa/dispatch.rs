//! Protected messages to their handler, by exchange type and state: the handshake steps take
//! the state by value and leave the next one; an established SA runs its exchanges.

use std::time::Instant;

use super::state::{Handshake, State, Step};
use super::tasks::Active;
use super::{Ctx, IkeSa, find_notify, notify, unsupported_critical};
use crate::error::Error;
use crate::wire::{ExchangeType, Header, NotifyType, Payload, PayloadType, parse_payloads};

/// A decrypted message as IntAuth needs it (RFC 9242 §3.3.2): its header, the type of its
/// first inner payload and the plaintext.
#[derive(Clone, Copy)]
pub(crate) struct Inner<'a> {
    pub(crate) header: &'a Header,
    pub(crate) first: PayloadType,
    pub(crate) plain: &'a [u8],
}

impl IkeSa {
    pub(super) fn dispatch_response(
        &mut self,
        now: Instant,
        header: &Header,
        first: PayloadType,
        plain: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        let Ok(payloads) = parse_payloads(first, &plain) else {
            ctx.stats.dropped_malformed += 1;
            self.fail(Error::InvalidSyntax("malformed protected response"), ctx);
            return;
        };
        if header.exchange == ExchangeType::IKE_AUTH {
            self.note_auth_payloads(&payloads);
        }
        let inner = Inner {
            header,
            first,
            plain: &plain,
        };
        match std::mem::replace(&mut self.state, State::Dead) {
            State::Handshake(hs, step) => {
                self.handshake_response(now, inner, &payloads, hs, step, ctx)
            }
            State::Established => {
                self.state = State::Established;
                self.established_response(now, header.exchange, &payloads, ctx);
            }
            State::Dead => ctx.stats.dropped_unexpected += 1,
        }
    }

    fn handshake_response(
        &mut self,
        now: Instant,
        inner: Inner<'_>,
        payloads: &[Payload],
        hs: Box<Handshake>,
        step: Step,
        ctx: &mut Ctx<'_>,
    ) {
        match (inner.header.exchange, step) {
            (ExchangeType::IKE_INTERMEDIATE, Step::IntermediateSent(sent)) => {
                self.handle_intermediate_response(now, inner, payloads, hs, sent, ctx);
            }
            (ExchangeType::IKE_AUTH, Step::AuthSent(sent)) => {
                self.handle_auth_response(now, payloads, hs, sent, ctx);
            }
            (_, step) => {
                self.state = State::Handshake(hs, step);
                ctx.stats.dropped_unexpected += 1;
            }
        }
    }

    fn established_response(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        match (exchange, self.active.take()) {
            (ExchangeType::CREATE_CHILD_SA, Some(Active::CreateChild(sent))) => {
                self.handle_create_child_response(now, payloads, *sent, ctx);
            }
            (ExchangeType::IKE_FOLLOWUP_KE, Some(Active::Followup(sent))) => {
                self.handle_followup_response(now, payloads, *sent, ctx);
            }
            (ExchangeType::INFORMATIONAL, Some(Active::Informational(kind))) => {
                self.handle_informational_response(kind, ctx);
            }
            (_, active) => {
                self.active = active;
                ctx.stats.dropped_unexpected += 1;
            }
        }
    }

    pub(super) fn dispatch_request(
        &mut self,
        now: Instant,
        header: &Header,
        first: PayloadType,
        plain: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(payloads) = self.parse_request(now, header.exchange, first, &plain, ctx) else {
            return;
        };
        if header.exchange == ExchangeType::IKE_AUTH {
            self.note_auth_payloads(&payloads);
        }
        let inner = Inner {
            header,
            first,
            plain: &plain,
        };
        match std::mem::replace(&mut self.state, State::Dead) {
            State::Handshake(hs, step) => {
                self.handshake_request(now, inner, &payloads, hs, step, ctx)
            }
            State::Established => {
                self.state = State::Established;
                self.established_request(now, header.exchange, &payloads, ctx);
            }
            State::Dead => self.dropped_before_auth(header.exchange, ctx),
        }
    }

    /// The payloads of a request, or `None` after answering a malformed one (RFC 7296
    /// §2.21.2: INVALID_SYNTAX, and the SA fails) or one with an unsupported critical payload
    /// (§2.5).
    fn parse_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        first: PayloadType,
        plain: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Option<Vec<Payload>> {
        let Ok(payloads) = parse_payloads(first, plain) else {
            ctx.stats.dropped_malformed += 1;
            let out = vec![notify(NotifyType::INVALID_SYNTAX, vec![])];
            self.respond(now, exchange, out, ctx);
            self.fail(Error::InvalidSyntax("malformed protected request"), ctx);
            return None;
        };
        if let Some(t) = unsupported_critical(&payloads) {
            let out = vec![notify(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![t.0])];
            self.respond(now, exchange, out, ctx);
            return None;
        }
        Some(payloads)
    }

    fn handshake_request(
        &mut self,
        now: Instant,
        inner: Inner<'_>,
        payloads: &[Payload],
        hs: Box<Handshake>,
        step: Step,
        ctx: &mut Ctx<'_>,
    ) {
        match (inner.header.exchange, step) {
            (
                ExchangeType::IKE_INTERMEDIATE,
                Step::AwaitIntermediate {
                    index,
                    parked: None,
                },
            ) => {
                self.handle_intermediate_request(now, inner, payloads, hs, index, ctx);
            }
            (ExchangeType::IKE_AUTH, Step::AwaitAuth(wait)) => {
                self.handle_auth_request(now, payloads, hs, wait, ctx);
            }
            (exchange, step) => {
                self.state = State::Handshake(hs, step);
                self.dropped_before_auth(exchange, ctx);
            }
        }
    }

    fn established_request(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        match exchange {
            ExchangeType::INFORMATIONAL => self.handle_informational_request(now, payloads, ctx),
            ExchangeType::CREATE_CHILD_SA => self.handle_create_child_request(now, payloads, ctx),
            ExchangeType::IKE_FOLLOWUP_KE => self.handle_followup_request(now, payloads, ctx),
            _ => ctx.stats.dropped_unexpected += 1,
        }
    }

    /// A request that the SA's state does not take.
    fn dropped_before_auth(&mut self, exchange: ExchangeType, ctx: &mut Ctx<'_>) {
        if matches!(
            exchange,
            ExchangeType::CREATE_CHILD_SA
                | ExchangeType::INFORMATIONAL
                | ExchangeType::IKE_FOLLOWUP_KE
        ) {
            // CVE-2026-78135's class: nothing is created or deleted before IKE_AUTH.
            tracing::debug!(sa = %self.id, ?exchange, "request before IKE_AUTH completed dropped");
            ctx.stats.dropped_before_auth += 1;
        } else {
            ctx.stats.dropped_unexpected += 1;
        }
    }

    /// Keeps the peer's identity and INITIAL_CONTACT from an IKE_AUTH message (they count only
    /// once the SA is established, that is, authenticated).
    fn note_auth_payloads(&mut self, payloads: &[Payload]) {
        let id = payloads.iter().find_map(|p| match (p, self.initiator) {
            (Payload::IdI(id), false) | (Payload::IdR(id), true) => Some(id),
            _ => None,
        });
        if let Some(id) = id.filter(|_| !self.is_established()) {
            self.peer_id = Some(id.clone());
        }
        if find_notify(payloads, NotifyType::INITIAL_CONTACT).is_some() && !self.is_established() {
            self.peer_initial_contact = true;
        }
    }
}
