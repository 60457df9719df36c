//! RFC 9867 in CREATE_CHILD_SA: a fresh PPK for every new Child SA, Child SA rekey and IKE SA
//! rekey, so that QKD keys rotate without reauthentication.
//!
//! It runs when both peers sent USE_PPK_INT in IKE_SA_INIT (our connection in
//! [`PpkMode::Rfc9867`](crate::PpkMode::Rfc9867)); the IKE SAs that rekeys create inherit that.
//! With a peer that did not, CREATE_CHILD_SA is plain RFC 7296: its keys descend from an SK_d
//! that already carries the PPK of the initial exchange (RFC 8784 or RFC 9867), but no fresh one.
//!
//! ```text
//! Initiator                                     Responder
//! HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi,] [TSi, TSr,]
//!          N(PPK_IDENTITY_KEY)}           -->
//!                                         <--   HDR, SK {SA, Nr, [KEr,] [TSi, TSr,]
//!                                                        N(PPK_IDENTITY)}
//! PPK_IDENTITY_KEY data = PPK_ID_FIXED (2) | PPK_ID | first 8 octets of
//!                         prf(PPK, Ni | SPIi | SPIr)
//! SK_d' = prf+(PPK, SK_d)            (PRF key size; PRF and SK_d of the current IKE SA)
//! Child SA:  KEYMAT   = prf+(SK_d', [g^ir (new) |] Ni | Nr [| SK(1) | ... | SK(n)])
//! IKE SA:    SKEYSEED = prf(SK_d', g^ir (new) | Ni | Nr [| SK(1) | ... | SK(n)])
//! ```
//!
//! Ni and Nr are the nonces of this CREATE_CHILD_SA; SPIi and SPIr those of the IKE SA it runs
//! on. SK_d itself is not changed: each exchange mixes its own PPK into its own copy.
//!
//! What is checked against text and what is inferred: the notify numbers, the USE_PPK_INT
//! negotiation, the PPK_IDENTITY_KEY layout (PPK ID then an 8-octet confirmation) and the
//! `prf+(PPK, SK_d)` construction come from RFC 9867 §3 (IKE_INTERMEDIATE) as implemented and
//! checked against libreswan in `intermediate.rs`. The RFC's own text for CREATE_CHILD_SA was
//! not available to us; the rest is our reading of it, consistent with §3: that the same
//! notifies are used in CREATE_CHILD_SA, that the confirmation covers `Ni | SPIi | SPIr` (the
//! §3 input without Nr, which the initiator does not know when it sends the request), and that
//! SK_d' stands in for SK_d in the RFC 7296 §2.17 KEYMAT and §2.18 SKEYSEED. No other
//! implementation speaks this part, so none of it is interoperability-tested.
//!
//! Policy ([`PpkConfig::required`](crate::PpkConfig::required)): as initiator without a PPK
//! (source failed or timed out) a required PPK means the exchange is not started; a rekey is
//! retried later and the old SA keeps working until its hard lifetime. As responder with a
//! required PPK: a source that cannot deliver gets TEMPORARY_FAILURE (the initiator retries); a
//! PPK that does not match, or none offered, gets AUTHENTICATION_FAILED. Either way no SA is
//! created and the IKE SA stays. If the responder answers without N(PPK_IDENTITY) while we
//! require the PPK, the SA it created is deleted at once (a Child SA; a rekeyed IKE SA, whose
//! Child SAs the peer already moved, is closed: fail closed). Without `required`, both sides
//! continue without the fresh PPK.

use std::time::Instant;

use ipsec_crypto::{SecretBytes, ct_eq};

use super::create_child::CcKind;
use super::init::nonce;
use super::ppk::{PpkLookup, PpkState, ppk_identity_key, ppk_identity_keys};
use super::{Ctx, IkeSa, find_notify};
use crate::event::PpkExchange;
use crate::wire::{EspSpi, NotifyType, Payload, PpkIdType, ProtocolId};

/// The initiator's PPK for its CREATE_CHILD_SA request.
pub(super) enum PpkForRequest {
    Use(Vec<u8>, SecretBytes),
    Without,
    /// Asked the driver; the exchange waits.
    Wait,
    /// A required PPK did not come: do not start the exchange.
    Missing,
}

/// The responder's PPK for a CREATE_CHILD_SA request.
pub(super) enum PpkForAnswer {
    Use(Vec<u8>, SecretBytes),
    Without,
    Wait,
    /// Answer with this error notify; no SA.
    Refuse(NotifyType),
}

impl IkeSa {
    /// Whether CREATE_CHILD_SA exchanges on this IKE SA carry a fresh PPK.
    pub(super) fn child_ppk_negotiated(&self) -> bool {
        self.peer.use_ppk_int && self.conn.wants_ppk_int()
    }

    /// Initiator: the PPK for a request of `kind`. The first call asks an external source and
    /// returns `Wait`; the call after the answer (`resumed`) takes it.
    pub(super) fn ppk_for_request(
        &mut self,
        now: Instant,
        kind: CcKind,
        resumed: bool,
        ctx: &mut Ctx<'_>,
    ) -> PpkForRequest {
        if !self.child_ppk_negotiated() {
            return PpkForRequest::Without;
        }
        if !resumed && self.ask_fresh_ppk(now, exchange_of(kind), ctx) {
            return PpkForRequest::Wait;
        }
        let found = self.initiator_ppk();
        // The key moves into the exchange; the SA keeps no PPK between exchanges.
        self.ppk_state = PpkState::Idle;
        match found {
            PpkLookup::Use(id, key) => PpkForRequest::Use(id, key),
            PpkLookup::Wait => PpkForRequest::Wait,
            PpkLookup::Without if self.ppk_required() => PpkForRequest::Missing,
            PpkLookup::Without => PpkForRequest::Without,
        }
    }

    /// Initiator: `N(PPK_IDENTITY_KEY)` for the request with nonce `ni`.
    pub(super) fn child_ppk_identity_key(
        &self,
        id: &[u8],
        ppk: &SecretBytes,
        ni: &[u8],
        ctx: &Ctx<'_>,
    ) -> Option<Payload> {
        let confirmation = self.child_ppk_confirmation(ppk, ni, ctx)?;
        Some(ppk_identity_key(id, &confirmation))
    }

    /// The confirmation in CREATE_CHILD_SA: `prf(PPK, Ni | SPIi | SPIr)`, first 8 octets.
    fn child_ppk_confirmation(
        &self,
        ppk: &SecretBytes,
        ni: &[u8],
        ctx: &Ctx<'_>,
    ) -> Option<[u8; 8]> {
        self.ppk_confirmation_over(ppk, &[ni], ctx)
    }

    /// Responder: the PPK named by the request's PPK_IDENTITY_KEY whose confirmation matches.
    pub(super) fn ppk_for_answer(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        resumed: bool,
        ctx: &mut Ctx<'_>,
    ) -> PpkForAnswer {
        if !self.child_ppk_negotiated() {
            return PpkForAnswer::Without;
        }
        if !resumed {
            if matches!(self.ppk_state, PpkState::Waiting { .. }) {
                // One PPK request per IKE SA at a time: ours is outstanding (RFC 7296 §2.25).
                return PpkForAnswer::Refuse(NotifyType::TEMPORARY_FAILURE);
            }
            self.ppk_state = PpkState::Idle;
        }
        let exchange = self.requested_exchange(payloads);
        let ni = nonce(payloads).unwrap_or_default().to_vec();
        let mut mismatch = false;
        let offered = ppk_identity_keys(payloads).filter(|(t, ..)| *t == PpkIdType::PPK_ID_FIXED.0);
        for (_, ppk_id, confirmation) in offered {
            match self.responder_ppk(now, ppk_id, exchange, ctx) {
                PpkLookup::Wait => return PpkForAnswer::Wait,
                PpkLookup::Use(id, key) => {
                    let ok = self
                        .child_ppk_confirmation(&key, &ni, ctx)
                        .is_some_and(|c| ct_eq(&c, confirmation));
                    if ok {
                        self.ppk_state = PpkState::Idle;
                        return PpkForAnswer::Use(id, key);
                    }
                    mismatch = true;
                }
                PpkLookup::Without => {}
            }
        }
        let unavailable = matches!(self.ppk_state, PpkState::Unavailable);
        self.ppk_state = PpkState::Idle;
        match (self.ppk_required(), unavailable && !mismatch) {
            (false, _) => PpkForAnswer::Without,
            (true, true) => PpkForAnswer::Refuse(NotifyType::TEMPORARY_FAILURE),
            (true, false) => PpkForAnswer::Refuse(NotifyType::AUTHENTICATION_FAILED),
        }
    }

    /// What a CREATE_CHILD_SA request creates, as the driver is told.
    fn requested_exchange(&self, payloads: &[Payload]) -> PpkExchange {
        let is_ike = payloads.iter().any(|p| {
            matches!(p, Payload::Sa(v) if v.first().is_some_and(|x| x.protocol == ProtocolId::IKE))
        });
        if is_ike {
            return PpkExchange::RekeyIke;
        }
        let rekeyed = find_notify(payloads, NotifyType::REKEY_SA)
            .and_then(|n| EspSpi::from_slice(&n.spi))
            .and_then(|out| self.children.iter().find(|c| c.outbound_spi == out));
        match rekeyed {
            Some(c) => PpkExchange::RekeyChild {
                inbound_spi: c.inbound_spi,
            },
            None => PpkExchange::NewChild,
        }
    }
}

/// Initiator: whether the response names the PPK we offered.
pub(super) fn ppk_accepted(payloads: &[Payload], id: &[u8]) -> bool {
    find_notify(payloads, NotifyType::PPK_IDENTITY)
        .is_some_and(|n| n.data.len() == 1 + id.len() && n.data[1..] == *id)
}

fn exchange_of(kind: CcKind) -> PpkExchange {
    match kind {
        CcKind::NewChild { .. } => PpkExchange::NewChild,
        CcKind::RekeyChild { old_inbound, .. } => PpkExchange::RekeyChild {
            inbound_spi: old_inbound,
        },
        CcKind::RekeyIke => PpkExchange::RekeyIke,
    }
}
