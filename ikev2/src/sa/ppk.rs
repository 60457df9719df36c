//! Where an IKE SA gets its PPK: the static one of the connection, or one the driver fetches
//! (QKD) after [`Event::PpkNeeded`], with a deadline.

use std::time::Instant;

use ipsec_crypto::SecretBytes;

use super::state::{AuthWait, Handshake, State, Step};
use super::{Ctx, IkeSa, dup, notify};
use crate::config::PpkSource;
use crate::error::Error;
use crate::event::{Event, PpkExchange};
use crate::wire::{NotifyType, Payload, PpkIdType};

/// The PPK of one IKE SA from an external source.
pub(crate) enum PpkState {
    Idle,
    Waiting { deadline: Instant },
    Ready { id: Vec<u8>, key: SecretBytes },
    Unavailable,
}

/// The answer to "which PPK do we use?".
pub(super) enum PpkLookup {
    Use(Vec<u8>, SecretBytes),
    Without,
    Wait,
}

impl IkeSa {
    /// Initiator: with an external source, ask for a fresh PPK right away so that the key
    /// fetch overlaps IKE_SA_INIT and IKE_INTERMEDIATE.
    pub(super) fn request_initiator_ppk(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        self.ask_fresh_ppk(now, PpkExchange::Initial, ctx);
    }

    /// With an external source, asks the driver for a fresh PPK for `exchange`; `false` with a
    /// static one (nothing to wait for).
    pub(super) fn ask_fresh_ppk(
        &mut self,
        now: Instant,
        exchange: PpkExchange,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let Some(PpkSource::External { timeout }) = self.conn.ppk.as_ref().map(|p| &p.source)
        else {
            return false;
        };
        self.ppk_state = PpkState::Waiting {
            deadline: now + *timeout,
        };
        ctx.events.push_back(Event::PpkNeeded {
            sa: self.id,
            ppk_id: None,
            exchange,
        });
        true
    }

    /// Initiator: the PPK to use in IKE_AUTH.
    pub(super) fn initiator_ppk(&self) -> PpkLookup {
        let Some(cfg) = self.conn.ppk.as_ref() else {
            return PpkLookup::Without;
        };
        match (&cfg.source, &self.ppk_state) {
            (PpkSource::Static { id, key }, _) => PpkLookup::Use(id.clone(), dup(key)),
            (PpkSource::External { .. }, PpkState::Ready { id, key }) => {
                PpkLookup::Use(id.clone(), dup(key))
            }
            (PpkSource::External { .. }, PpkState::Waiting { .. }) => PpkLookup::Wait,
            (PpkSource::External { .. }, _) => PpkLookup::Without,
        }
    }

    /// Responder: the PPK for the PPK_ID the initiator sent; asks the driver once.
    pub(super) fn responder_ppk(
        &mut self,
        now: Instant,
        ppk_id: &[u8],
        exchange: PpkExchange,
        ctx: &mut Ctx<'_>,
    ) -> PpkLookup {
        let Some(cfg) = self.conn.ppk.as_ref() else {
            return PpkLookup::Without;
        };
        match (&cfg.source, &self.ppk_state) {
            (PpkSource::Static { id, key }, _) if id == ppk_id => {
                PpkLookup::Use(id.clone(), dup(key))
            }
            (PpkSource::Static { .. }, _) => PpkLookup::Without,
            (PpkSource::External { .. }, PpkState::Ready { id, key }) if id == ppk_id => {
                PpkLookup::Use(id.clone(), dup(key))
            }
            (PpkSource::External { timeout }, PpkState::Idle) => {
                self.ppk_state = PpkState::Waiting {
                    deadline: now + *timeout,
                };
                ctx.events.push_back(Event::PpkNeeded {
                    sa: self.id,
                    ppk_id: Some(ppk_id.to_vec()),
                    exchange,
                });
                PpkLookup::Wait
            }
            (PpkSource::External { .. }, PpkState::Waiting { .. }) => PpkLookup::Wait,
            (PpkSource::External { .. }, _) => PpkLookup::Without,
        }
    }

    /// The driver's answer: the PPK and its ID, or `None` when the source could not supply it.
    pub(crate) fn provide_ppk(
        &mut self,
        now: Instant,
        ppk: Option<(Vec<u8>, SecretBytes)>,
        ctx: &mut Ctx<'_>,
    ) {
        if !matches!(self.ppk_state, PpkState::Waiting { .. }) {
            return;
        }
        self.ppk_state = match ppk {
            Some((id, key)) => PpkState::Ready { id, key },
            None => PpkState::Unavailable,
        };
        self.resume_after_ppk(now, ctx);
    }

    pub(super) fn ppk_deadline(&self) -> Option<Instant> {
        match self.ppk_state {
            PpkState::Waiting { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// The source did not answer in time: the PPK is unavailable.
    pub(super) fn ppk_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if self.ppk_deadline().is_some_and(|d| d <= now) {
            tracing::warn!(sa = %self.id, "PPK source did not answer in time");
            self.ppk_state = PpkState::Unavailable;
            self.resume_after_ppk(now, ctx);
        }
    }

    fn resume_after_ppk(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        match std::mem::replace(&mut self.state, State::Dead) {
            // Whatever waited (the last IKE_INTERMEDIATE or IKE_AUTH) is the next step.
            State::Handshake(hs, Step::AwaitPpk) => self.next_step_after_keys(now, hs, ctx),
            State::Handshake(hs, Step::AwaitAuth(AuthWait::Parked(payloads))) => {
                self.handle_auth_request(now, &payloads, hs, AuthWait::Request, ctx);
            }
            State::Handshake(
                hs,
                Step::AwaitIntermediate {
                    index,
                    parked: Some(p),
                },
            ) => {
                let parked = None;
                self.state = State::Handshake(hs, Step::AwaitIntermediate { index, parked });
                self.dispatch_request(now, &p.header, p.first, p.plain, ctx);
            }
            state => {
                self.state = state;
                self.resume_established(now, ctx);
            }
        }
    }

    /// A CREATE_CHILD_SA of the peer's or ours that waited for its PPK.
    fn resume_established(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if let Some(payloads) = self.parked_cc.take() {
            self.answer_create_child(now, &payloads, ctx);
            self.kick(now, ctx);
        } else if matches!(self.active, Some(super::tasks::Active::AwaitPpk(_))) {
            self.resume_create_child(now, ctx);
            self.kick(now, ctx);
        }
    }

    /// The RFC 9867 §3.1 PPK Confirmation: the first 8 octets of `prf(PPK, Ni | Nr | SPIi | SPIr)`.
    pub(super) fn ppk_confirmation(
        &self,
        hs: &Handshake,
        ppk: &SecretBytes,
        ctx: &Ctx<'_>,
    ) -> Option<[u8; 8]> {
        self.ppk_confirmation_over(ppk, &[&hs.ni, &hs.nr], ctx)
    }

    /// The first 8 octets of `prf(PPK, nonces | SPIi | SPIr)` with this IKE SA's PRF and SPIs.
    pub(super) fn ppk_confirmation_over(
        &self,
        ppk: &SecretBytes,
        nonces: &[&[u8]],
        ctx: &Ctx<'_>,
    ) -> Option<[u8; 8]> {
        let prf = self.prf(ctx)?;
        let (spi_i, spi_r) = (self.spi_i.to_be_bytes(), self.spi_r.to_be_bytes());
        let mut input = nonces.to_vec();
        input.extend([spi_i.as_slice(), spi_r.as_slice()]);
        Some(crate::keys::ppk_confirmation(prf, ppk, &input))
    }

    /// Whether the connection requires a PPK (fail closed without one).
    pub(super) fn ppk_required(&self) -> bool {
        self.conn.ppk.as_ref().is_some_and(|p| p.required)
    }

    /// Initiator with a required PPK that will not come.
    pub(super) fn ppk_missing(&mut self, ctx: &mut Ctx<'_>) {
        self.fail(
            Error::AuthenticationFailed("required PPK not available from its source"),
            ctx,
        );
    }
}

/// `N(PPK_IDENTITY_KEY)`: the PPK ID (fixed type) then its 8-octet confirmation.
pub(super) fn ppk_identity_key(id: &[u8], confirmation: &[u8; 8]) -> Payload {
    let mut data = Vec::with_capacity(1 + id.len() + confirmation.len());
    data.push(PpkIdType::PPK_ID_FIXED.0);
    data.extend_from_slice(id);
    data.extend_from_slice(confirmation);
    notify(NotifyType::PPK_IDENTITY_KEY, data)
}

/// `N(PPK_IDENTITY)` naming the PPK the responder used.
pub(super) fn ppk_identity(id: &[u8]) -> Payload {
    let mut data = Vec::with_capacity(1 + id.len());
    data.push(PpkIdType::PPK_ID_FIXED.0);
    data.extend_from_slice(id);
    notify(NotifyType::PPK_IDENTITY, data)
}

/// Every `N(PPK_IDENTITY_KEY)` long enough for a type octet, a PPK ID and a confirmation, as
/// `(type, PPK ID, confirmation)`.
pub(super) fn ppk_identity_keys(payloads: &[Payload]) -> impl Iterator<Item = (u8, &[u8], &[u8])> {
    payloads.iter().filter_map(|p| match p {
        Payload::Notify(n)
            if n.notify_type == NotifyType::PPK_IDENTITY_KEY && n.data.len() >= 1 + 1 + 8 =>
        {
            let (id, confirmation) = n.data[1..].split_at(n.data.len() - 9);
            Some((n.data[0], id, confirmation))
        }
        _ => None,
    })
}
