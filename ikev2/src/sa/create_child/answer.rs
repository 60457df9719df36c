//! Responder: the answer to a CREATE_CHILD_SA request for a new Child SA, a Child SA rekey or
//! an IKE SA rekey, with the RFC 9867 PPK of the exchange when both use one.

use std::time::Instant;

use ipsec_crypto::SecretBytes;

use super::{Agreed, Agreement, CcKind, KeProgress, Nonces, Side};
use crate::proposal::{Negotiated, ke_group};
use crate::sa::child::{ChildPayloads, ChildWanted, Selectors};
use crate::sa::config_payload::read_status_notifies;
use crate::sa::init::{ke_payload, nonce, sa_payload};
use crate::sa::ppk::ppk_identity;
use crate::sa::ppk_child::PpkForAnswer;
use crate::sa::{Ctx, IkeSa, NONCE_LEN, find_notify, notify, random_bytes};
use crate::wire::{
    EspSpi, ExchangeType, IkeSpi, KeyExchangePayload, NotifyType, Payload, ProtocolId,
};

/// Why a request gets no SA: the error notify of the response and its data.
struct Refusal {
    notify: NotifyType,
    data: Vec<u8>,
}

impl From<NotifyType> for Refusal {
    fn from(notify: NotifyType) -> Self {
        Self {
            notify,
            data: Vec::new(),
        }
    }
}

/// What a request agrees on, with the SA payload of the answer and what follows its nonce and
/// KE (TSi and TSr for a Child SA).
struct Answered {
    agreed: Agreed,
    sa: Payload,
    rest: Vec<Payload>,
}

impl IkeSa {
    /// Responder: a CREATE_CHILD_SA request.
    pub(crate) fn handle_create_child_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        self.answer_with_ppk(now, payloads, false, ctx);
    }

    /// Responder: the request that waited for its PPK.
    pub(crate) fn answer_create_child(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        self.answer_with_ppk(now, payloads, true, ctx);
    }

    fn answer_with_ppk(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        resumed: bool,
        ctx: &mut Ctx<'_>,
    ) {
        let ppk = match self.ppk_for_answer(now, payloads, resumed, ctx) {
            PpkForAnswer::Wait => {
                self.parked_cc = Some(payloads.to_vec());
                return;
            }
            PpkForAnswer::Refuse(n) => {
                ctx.stats.child_ppk_failures += 1;
                tracing::warn!(sa = %self.id, notify = ?n, "CREATE_CHILD_SA refused: no matching PPK");
                self.refuse_cc(now, n.into(), ctx);
                return;
            }
            PpkForAnswer::Use(id, key) => Some((id, key)),
            PpkForAnswer::Without => None,
        };
        match self.answer_cc_request(payloads, ctx) {
            Ok((cc, out)) => self.send_cc_answer(now, cc, out, ppk, ctx),
            Err(refusal) => self.refuse_cc(now, refusal, ctx),
        }
    }

    fn refuse_cc(&mut self, now: Instant, refusal: Refusal, ctx: &mut Ctx<'_>) {
        let out = vec![notify(refusal.notify, refusal.data)];
        self.respond(now, ExchangeType::CREATE_CHILD_SA, out, ctx);
    }

    /// Sends the answer; the SA is complete now, or after the peer's IKE_FOLLOWUP_KE.
    fn send_cc_answer(
        &mut self,
        now: Instant,
        mut cc: Agreement,
        mut out: Vec<Payload>,
        ppk: Option<(Vec<u8>, SecretBytes)>,
        ctx: &mut Ctx<'_>,
    ) {
        if let Some((id, key)) = ppk {
            out.push(ppk_identity(&id));
            cc.ppk = Some(key);
        }
        if !cc.kes.is_done() {
            out.push(notify(
                NotifyType::ADDITIONAL_KEY_EXCHANGE,
                cc.kes.link.clone(),
            ));
        }
        if self
            .respond(now, ExchangeType::CREATE_CHILD_SA, out, ctx)
            .is_none()
        {
            return;
        }
        self.note_crossing_rekey(&cc);
        if cc.kes.is_done() {
            self.complete_cc(now, cc, ctx);
        } else {
            self.followup = Some(Box::new(cc));
        }
    }

    /// The peer's rekey crossed ours of the same SA: both are answered and the nonces decide
    /// (RFC 7296 §2.8.1, §2.8.2). Noted with our exchange, so that the collision is still
    /// resolved if ours completes first or the old SA is deleted before.
    fn note_crossing_rekey(&mut self, theirs: &Agreement) {
        match theirs.kind() {
            CcKind::RekeyIke => {
                if let Some(ours) = self.our_ike_rekey_nonce() {
                    self.ike_collision_started(theirs.lowest_nonce(), ours);
                }
            }
            CcKind::RekeyChild { old_inbound, .. } => {
                if let Some(slot) = self.our_child_rekey_collision(old_inbound) {
                    *slot = Some(theirs.lowest_nonce());
                }
            }
            CcKind::NewChild { .. } => {}
        }
    }

    /// The agreed SA and our response's payloads, or the refusal.
    fn answer_cc_request(
        &mut self,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Result<(Agreement, Vec<Payload>), Refusal> {
        let ni = nonce(payloads).ok_or(NotifyType::INVALID_SYNTAX)?.to_vec();
        let nr = random_bytes(ctx.provider, NONCE_LEN).ok_or(NotifyType::TEMPORARY_FAILURE)?;
        let Answered { agreed, sa, rest } = if is_ike_rekey(payloads) {
            self.answer_ike_rekey(payloads, ctx)?
        } else {
            self.answer_child(payloads, ctx)?
        };
        let mut out = vec![sa, Payload::Nonce(nr.clone())];
        let first = match respond_ke(agreed.suite(), payloads, ctx)? {
            Some((ke, secret)) => {
                out.push(ke);
                Some(secret)
            }
            None => None,
        };
        out.extend(rest);
        let link = if agreed.suite().additional_kes().is_empty() {
            Vec::new()
        } else {
            random_bytes(ctx.provider, 8).ok_or(NotifyType::TEMPORARY_FAILURE)?
        };
        let kes = KeProgress::new(first, agreed.suite(), link);
        let cc = Agreement {
            side: Side::Responder,
            nonces: Nonces { ni, nr },
            agreed,
            kes,
            ppk: None,
        };
        Ok((cc, out))
    }

    /// The peer rekeys the IKE SA: our choice of its proposals and our new SPI.
    fn answer_ike_rekey(
        &mut self,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Result<Answered, Refusal> {
        let crossing = self.ike_rekey_in_flight();
        if self.rekeyed || self.ike_collision.is_some() || (self.active.is_some() && !crossing) {
            // RFC 7296 §2.25.2: replaced already (the peer did not notice our rekey, §2.8.2)
            // or busy with another exchange of ours; the peer retries after a random delay.
            return Err(NotifyType::TEMPORARY_FAILURE.into());
        }
        let offered = sa_payload(payloads).ok_or(NotifyType::INVALID_SYNTAX)?;
        let (number, suite, spi_i) = offered
            .iter()
            .find_map(|o| {
                let spi = IkeSpi::from_slice(&o.spi)?;
                let chosen = self
                    .conn
                    .ike_proposals
                    .iter()
                    .find_map(|s| s.select(o, true))?;
                Some((o.number, chosen, spi))
            })
            .ok_or(NotifyType::NO_PROPOSAL_CHOSEN)?;
        let spi = random_bytes(ctx.provider, 8).ok_or(NotifyType::TEMPORARY_FAILURE)?;
        let sa = Payload::Sa(vec![suite.to_wire(number, ProtocolId::IKE, spi.clone())]);
        let spi_r = IkeSpi::from_slice(&spi).ok_or(NotifyType::TEMPORARY_FAILURE)?;
        let agreed = Agreed::Ike {
            suite,
            spi_i,
            spi_r,
        };
        Ok(Answered {
            agreed,
            sa,
            rest: Vec::new(),
        })
    }

    /// A new Child SA, or a rekey of the one named by `N(REKEY_SA)`.
    fn answer_child(
        &mut self,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Result<Answered, Refusal> {
        if self.ike_rekey_busy() {
            // RFC 7296 §2.25.2: no Child SA work while the IKE SA is being rekeyed; the peer
            // retries on the new IKE SA.
            return Err(NotifyType::TEMPORARY_FAILURE.into());
        }
        let old = self.rekey_target(payloads)?;
        let keep = old.and_then(|(_, inbound)| {
            let c = self.children.iter().find(|c| c.inbound_spi == inbound)?;
            Some(Selectors {
                local: c.local_ts.clone(),
                remote: c.remote_ts.clone(),
            })
        });
        let wanted = ChildWanted {
            only: old.map(|(config, _)| config),
            with_ke: true,
            remote_limit: None,
            keep: keep.as_ref(),
        };
        let (mut params, ChildPayloads { sa, tsi, tsr }) = self
            .select_child(payloads, wanted, ctx)
            .map_err(Refusal::from)?;
        params.replaces = old.map(|(_, inbound)| inbound);
        if old.is_none() {
            // RFC 7296 §3.10.1: status notifies the peer adds to a new Child SA are for the
            // application (3GPP's 5G_QOS_INFO, UP_IP4_ADDRESS); bounded, the rest counted.
            let dropped = &mut ctx.stats.child_notifies_dropped;
            params.peer_notifies = read_status_notifies(payloads, dropped);
        }
        Ok(Answered {
            agreed: Agreed::Child(params),
            sa,
            rest: vec![tsi, tsr],
        })
    }

    /// The Child SA a request rekeys, as (template, our inbound SPI); `None` for a new one.
    fn rekey_target(&self, payloads: &[Payload]) -> Result<Option<(usize, EspSpi)>, Refusal> {
        let Some(n) =
            find_notify(payloads, NotifyType::REKEY_SA).filter(|n| n.protocol == ProtocolId::ESP)
        else {
            return Ok(None);
        };
        // The SPI in REKEY_SA is the sender's inbound SPI: our outbound one.
        let out_spi = EspSpi::from_slice(&n.spi).ok_or(NotifyType::INVALID_SYNTAX)?;
        let c = self
            .children
            .iter()
            .find(|c| c.outbound_spi == out_spi)
            .ok_or(NotifyType::CHILD_SA_NOT_FOUND)?;
        if self.is_deleting_child(c.inbound_spi) {
            // RFC 7296 §2.25.1: a Child SA we are closing (our rekey of it won, or it expired)
            // is not rekeyed; our DELETE reaches the peer next.
            return Err(NotifyType::TEMPORARY_FAILURE.into());
        }
        Ok(Some((c.config, c.inbound_spi)))
    }
}

/// Whether the request rekeys the IKE SA (an SA payload proposes IKE).
fn is_ike_rekey(payloads: &[Payload]) -> bool {
    payloads.iter().any(
        |p| matches!(p, Payload::Sa(v) if v.first().is_some_and(|x| x.protocol == ProtocolId::IKE)),
    )
}

/// Our KE payload and the shared secret, when the chosen proposal has a key exchange.
fn respond_ke(
    suite: &Negotiated,
    payloads: &[Payload],
    ctx: &Ctx<'_>,
) -> Result<Option<(Payload, SecretBytes)>, Refusal> {
    match (suite.ke[0], ke_payload(payloads)) {
        (Some(g), Some(kep)) if kep.group == g => {
            let kex = ke_group(g)
                .and_then(|x| ctx.provider.key_exchange(x))
                .ok_or(NotifyType::NO_PROPOSAL_CHOSEN)?;
            let (data, shared) = kex
                .respond(&kep.data)
                .map_err(|_| NotifyType::INVALID_SYNTAX)?;
            Ok(Some((
                Payload::Ke(KeyExchangePayload { group: g, data }),
                shared,
            )))
        }
        (Some(g), _) => Err(Refusal {
            notify: NotifyType::INVALID_KE_PAYLOAD,
            data: g.0.to_be_bytes().to_vec(),
        }),
        (None, _) => Ok(None),
    }
}
