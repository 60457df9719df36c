//! CREATE_CHILD_SA (RFC 7296 §1.3): a new Child SA, a Child SA rekey and an IKE SA rekey, each
//! with PFS and the RFC 9370 additional key exchanges run in IKE_FOLLOWUP_KE (§2.2.4).

use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, KeError, SecretBytes};

use super::child::{ChildParams, ChildSeed, child_offer, new_spi};
use super::children::{lowest, ours_redundant};
use super::init::{ke_error, ke_payload, key_lengths, nonce};
use super::ppk::ppk_identity;
use super::ppk_child::{PpkForAnswer, PpkForRequest, ppk_accepted};
use super::{Ctx, IkeSa, NONCE_LEN, find_notify, first_error_notify, notify, random_bytes};
use crate::error::Error;
use crate::event::Event;
use crate::proposal::{Negotiated, ke_group};
use crate::wire::{
    ExchangeType, KeId, KeyExchangePayload, Notify, NotifyType, Payload, ProtocolId,
};

/// What a CREATE_CHILD_SA exchange creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CcKind {
    NewChild { config: usize },
    RekeyChild { config: usize, old_inbound: u32 },
    RekeyIke,
}

/// One side's view of a CREATE_CHILD_SA exchange and its IKE_FOLLOWUP_KE continuations.
pub(crate) struct CcExchange {
    pub(crate) kind: CcKind,
    /// Whether we sent the CREATE_CHILD_SA request.
    we_initiated: bool,
    /// Our new SPI: 4 octets (ESP) or 8 (IKE).
    our_spi: Vec<u8>,
    peer_spi: Vec<u8>,
    ni: Vec<u8>,
    nr: Vec<u8>,
    /// Initiator: the key exchange awaiting the responder's KE data.
    ke: Option<Box<dyn ActiveKeyExchange>>,
    suite: Option<Negotiated>,
    child: Option<ChildParams>,
    /// SK(0) (the type-4 KE, if any) then SK(1)…: in exchange order.
    first_secret: Option<SecretBytes>,
    additional: Vec<SecretBytes>,
    /// Additional exchanges still to run, in ADDKE order.
    remaining: Vec<KeId>,
    /// The ADDITIONAL_KEY_EXCHANGE link of the next IKE_FOLLOWUP_KE.
    link: Vec<u8>,
    /// The RFC 9867 PPK of this exchange (`ppk_child.rs`): offered, then agreed.
    ppk: Option<(Vec<u8>, SecretBytes)>,
    /// Initiator: we required the PPK and the responder did not take it.
    ppk_refused: bool,
    /// Initiator of a Child SA rekey: the lowest nonce of the peer's simultaneous rekey of the
    /// same SA, noted when we answered it (RFC 7296 §2.8.1).
    peer_collision: Option<Vec<u8>>,
}

impl CcExchange {
    /// The lowest nonce of this exchange, which settles a rekey collision.
    fn lowest_nonce(&self) -> Vec<u8> {
        lowest(&self.ni, &self.nr).to_vec()
    }
}

impl IkeSa {
    /// Initiator: sends the CREATE_CHILD_SA request for `kind`, once its PPK is there.
    pub(super) fn start_create_child(
        &mut self,
        now: Instant,
        kind: CcKind,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        self.create_child_with_ppk(now, kind, false, ctx)
    }

    /// Initiator: the driver answered (or timed out) for the PPK this exchange waits for.
    pub(super) fn resume_create_child(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(super::tasks::Active::AwaitPpk(kind)) = self.active else {
            return;
        };
        self.active = None;
        if let Err(e) = self.create_child_with_ppk(now, kind, true, ctx) {
            tracing::warn!(sa = ?self.id, ?kind, error = %e, "could not start exchange");
        }
    }

    fn create_child_with_ppk(
        &mut self,
        now: Instant,
        kind: CcKind,
        resumed: bool,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let due = match kind {
            CcKind::RekeyChild { old_inbound, .. } => {
                self.child_rekey_still_due(now, old_inbound, ctx)
            }
            CcKind::RekeyIke => self.ike_rekey_still_due(now, ctx),
            CcKind::NewChild { .. } => true,
        };
        if !due {
            if resumed {
                // The PPK fetched for it is not kept for another exchange.
                self.ppk_state = super::ppk::PpkState::Idle;
            }
            return Ok(());
        }
        let ppk = match self.ppk_for_request(now, kind, resumed, ctx) {
            PpkForRequest::Wait => {
                self.active = Some(super::tasks::Active::AwaitPpk(kind));
                return Ok(());
            }
            PpkForRequest::Missing => {
                ctx.stats.child_ppk_failures += 1;
                let e = Error::AuthenticationFailed("required PPK not available from its source");
                self.abandon_kind(now, kind, e, ctx);
                return Ok(());
            }
            PpkForRequest::Use(id, key) => Some((id, key)),
            PpkForRequest::Without => None,
        };
        self.send_create_child(now, kind, ppk, ctx)
    }

    /// RFC 7296 §2.8: a Child SA the peer rekeyed (or is rekeying: we answered its
    /// CREATE_CHILD_SA and wait for its IKE_FOLLOWUP_KE) is replaced; rekeying it again would
    /// create a second successor that neither side deletes, since the peer saw no collision. A
    /// rekey pending behind the peer's is retried later, in case the peer's fails.
    fn child_rekey_still_due(&mut self, now: Instant, old_inbound: u32, ctx: &mut Ctx<'_>) -> bool {
        let in_progress = self.followup.as_ref().is_some_and(
            |f| matches!(f.kind, CcKind::RekeyChild { old_inbound: o, .. } if o == old_inbound),
        );
        let Some(c) = self
            .children
            .iter_mut()
            .find(|c| c.inbound_spi == old_inbound)
        else {
            return false;
        };
        if c.rekeyed_by_peer.is_none() && !in_progress {
            return true;
        }
        tracing::debug!(sa = ?self.id, old = format_args!("{old_inbound:08x}"), in_progress, "Child SA rekeyed by the peer: not rekeying it again");
        c.rekeying = false;
        if in_progress {
            c.rekey_at = Some(retry_at(now, ctx));
        }
        false
    }

    /// The same for the IKE SA (RFC 7296 §2.8.2): while the peer's rekey of it waits for its
    /// IKE_FOLLOWUP_KE, ours would be a second successor the peer never sees as a collision.
    fn ike_rekey_still_due(&mut self, now: Instant, ctx: &mut Ctx<'_>) -> bool {
        let in_progress = self
            .followup
            .as_ref()
            .is_some_and(|f| f.kind == CcKind::RekeyIke);
        if in_progress {
            tracing::debug!(sa = ?self.id, "the peer is rekeying the IKE SA: ours waits");
            self.ike_rekey_at = Some(retry_at(now, ctx));
        }
        !in_progress
    }

    fn send_create_child(
        &mut self,
        now: Instant,
        kind: CcKind,
        ppk: Option<(Vec<u8>, SecretBytes)>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let ni = random_bytes(ctx.provider, NONCE_LEN).ok_or(Error::Internal("rng"))?;
        let (mut payloads, our_spi, group) = match kind {
            CcKind::RekeyIke => {
                let spi = random_bytes(ctx.provider, 8).ok_or(Error::Internal("rng"))?;
                let proposals = self
                    .conn
                    .ike_proposals
                    .iter()
                    .enumerate()
                    .map(|(i, p)| p.to_wire(i as u8 + 1, ProtocolId::IKE, spi.clone()))
                    .collect();
                let group = self.conn.ike_proposals.first().and_then(|p| p.first_ke());
                (vec![Payload::Sa(proposals)], spi, group)
            }
            CcKind::NewChild { config } | CcKind::RekeyChild { config, .. } => {
                let child = self
                    .conn
                    .children
                    .get(config)
                    .ok_or(Error::Internal("child config"))?;
                let spi = new_spi(ctx).ok_or(Error::Internal("rng"))?;
                let offer = child_offer(child, spi, true);
                let group = child.esp_proposals.first().and_then(|p| p.first_ke());
                (offer, spi.to_be_bytes().to_vec(), group)
            }
        };
        let mut front = Vec::new();
        if let CcKind::RekeyChild { old_inbound, .. } = kind {
            front.push(Payload::Notify(Notify {
                protocol: ProtocolId::ESP,
                spi: old_inbound.to_be_bytes().to_vec(),
                notify_type: NotifyType::REKEY_SA,
                data: Vec::new(),
            }));
        }
        front.push(payloads.remove(0));
        front.push(Payload::Nonce(ni.clone()));
        let ke = match group {
            Some(g) => {
                let kex = ke_group(g)
                    .and_then(|x| ctx.provider.key_exchange(x))
                    .ok_or(Error::Internal("key exchange not in provider"))?;
                let ke = kex.start().map_err(|_| Error::Internal("key generation"))?;
                front.push(Payload::Ke(KeyExchangePayload {
                    group: g,
                    data: ke.public().to_vec(),
                }));
                Some(ke)
            }
            None => None,
        };
        front.append(&mut payloads);
        if let Some((id, key)) = &ppk {
            front.push(
                self.child_ppk_identity_key(id, key, &ni, ctx)
                    .ok_or(Error::Internal("prf"))?,
            );
        }
        self.send_request(now, ExchangeType::CREATE_CHILD_SA, &front, ctx)
            .ok_or(Error::Internal("send"))?;
        self.active = Some(super::tasks::Active::CreateChild(Box::new(CcExchange {
            kind,
            we_initiated: true,
            our_spi,
            peer_spi: Vec::new(),
            ni,
            nr: Vec::new(),
            ke,
            suite: None,
            child: None,
            first_secret: None,
            additional: Vec::new(),
            remaining: Vec::new(),
            link: Vec::new(),
            ppk,
            ppk_refused: false,
            peer_collision: None,
        })));
        Ok(())
    }

    /// Initiator: the CREATE_CHILD_SA response.
    pub(super) fn handle_create_child_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        mut cc: Box<CcExchange>,
        ctx: &mut Ctx<'_>,
    ) {
        if let Err(e) = self.accept_cc_response(payloads, &mut cc) {
            return self.abandon_cc(now, &cc, e, ctx);
        }
        if cc.kind == CcKind::RekeyIke
            && !self.collision_our_nonces(now, cc.lowest_nonce(), !cc.remaining.is_empty(), ctx)
        {
            return;
        }
        self.continue_cc_initiator(now, cc, ctx);
    }

    fn accept_cc_response(
        &mut self,
        payloads: &[Payload],
        cc: &mut CcExchange,
    ) -> Result<(), Error> {
        if let Some(n) = first_error_notify(payloads) {
            if cc.ppk.is_some() && n != NotifyType::TEMPORARY_FAILURE {
                tracing::warn!(sa = ?self.id, notify = ?n, "peer refused CREATE_CHILD_SA with our PPK");
            }
            return Err(Error::PeerError(n));
        }
        if let Some((id, _)) = &cc.ppk
            && !ppk_accepted(payloads, id)
        {
            tracing::warn!(sa = ?self.id, kind = ?cc.kind, "responder did not use the PPK");
            cc.ppk = None;
            cc.ppk_refused = self.ppk_required();
        }
        cc.nr = nonce(payloads)
            .ok_or(Error::InvalidSyntax(
                "CREATE_CHILD_SA response without nonce",
            ))?
            .to_vec();
        let suite = match cc.kind {
            CcKind::RekeyIke => {
                let answer = payloads
                    .iter()
                    .find_map(|p| {
                        if let Payload::Sa(v) = p {
                            v.first()
                        } else {
                            None
                        }
                    })
                    .ok_or(Error::InvalidSyntax("no SA"))?;
                cc.peer_spi = answer.spi.clone();
                if cc.peer_spi.len() != 8 {
                    return Err(Error::InvalidSyntax("IKE rekey SPI must be 8 octets"));
                }
                Negotiated::from_response(&self.conn.ike_proposals, answer, true)
                    .ok_or(Error::InvalidSyntax("unexpected IKE proposal"))?
            }
            CcKind::NewChild { config } | CcKind::RekeyChild { config, .. } => {
                let inbound = u32::from_be_bytes(
                    cc.our_spi
                        .as_slice()
                        .try_into()
                        .map_err(|_| Error::Internal("spi"))?,
                );
                let replaces = match cc.kind {
                    CcKind::RekeyChild { old_inbound, .. } => Some(old_inbound),
                    _ => None,
                };
                let params = self.accept_child_answer(config, inbound, replaces, true, payloads)?;
                let suite = params.suite.clone();
                cc.child = Some(params);
                suite
            }
        };
        match (cc.ke.take(), suite.ke[0], ke_payload(payloads)) {
            (Some(ke), Some(g), Some(kep)) if kep.group == g && ke_group(g) == Some(ke.group()) => {
                cc.first_secret = Some(
                    ke.complete(&kep.data)
                        .map_err(|e| ke_error(e, "CREATE_CHILD_SA KE"))?,
                );
            }
            (_, None, None) => {}
            _ => {
                return Err(Error::InvalidSyntax(
                    "KE payload does not match the chosen proposal",
                ));
            }
        }
        cc.remaining = suite.additional_kes();
        if !cc.remaining.is_empty() {
            cc.link = find_notify(payloads, NotifyType::ADDITIONAL_KEY_EXCHANGE)
                .map(|n| n.data.clone())
                .ok_or(Error::InvalidSyntax("ADDITIONAL_KEY_EXCHANGE missing"))?;
        }
        cc.suite = Some(suite);
        Ok(())
    }

    /// Initiator: the next IKE_FOLLOWUP_KE, or completion.
    fn continue_cc_initiator(&mut self, now: Instant, mut cc: Box<CcExchange>, ctx: &mut Ctx<'_>) {
        let Some(group) = cc.remaining.first().copied() else {
            return self.complete_cc(now, *cc, ctx);
        };
        let started = ke_group(group)
            .and_then(|g| ctx.provider.key_exchange(g))
            .ok_or(KeError::Internal)
            .and_then(|k| k.start());
        let Ok(ke) = started else {
            return self.abandon_cc(now, &cc, Error::Internal("additional key exchange"), ctx);
        };
        let payloads = [
            Payload::Ke(KeyExchangePayload {
                group,
                data: ke.public().to_vec(),
            }),
            notify(NotifyType::ADDITIONAL_KEY_EXCHANGE, cc.link.clone()),
        ];
        cc.ke = Some(ke);
        if self
            .send_request(now, ExchangeType::IKE_FOLLOWUP_KE, &payloads, ctx)
            .is_some()
        {
            self.active = Some(super::tasks::Active::CreateChild(cc));
        }
    }

    /// Initiator: an IKE_FOLLOWUP_KE response.
    pub(super) fn handle_followup_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        mut cc: Box<CcExchange>,
        ctx: &mut Ctx<'_>,
    ) {
        let mut step =
            || -> Result<(), Error> {
                if let Some(n) = first_error_notify(payloads) {
                    return Err(Error::PeerError(n));
                }
                let group = cc
                    .remaining
                    .first()
                    .copied()
                    .ok_or(Error::Internal("no pending KE"))?;
                let kep = ke_payload(payloads).filter(|k| k.group == group).ok_or(
                    Error::InvalidSyntax("IKE_FOLLOWUP_KE without the expected KE"),
                )?;
                let ke = cc.ke.take().ok_or(Error::Internal("no key exchange"))?;
                cc.additional.push(
                    ke.complete(&kep.data)
                        .map_err(|e| ke_error(e, "IKE_FOLLOWUP_KE data"))?,
                );
                cc.remaining.remove(0);
                if let Some(n) = find_notify(payloads, NotifyType::ADDITIONAL_KEY_EXCHANGE) {
                    cc.link = n.data.clone();
                } else if !cc.remaining.is_empty() {
                    return Err(Error::InvalidSyntax("ADDITIONAL_KEY_EXCHANGE missing"));
                }
                Ok(())
            };
        match step() {
            Ok(()) => self.continue_cc_initiator(now, cc, ctx),
            Err(e) => self.abandon_cc(now, &cc, e, ctx),
        }
    }

    /// Responder: a CREATE_CHILD_SA request.
    pub(super) fn handle_create_child_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        self.answer_with_ppk(now, payloads, false, ctx);
    }

    /// Responder: the request that waited for its PPK.
    pub(super) fn answer_create_child(
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
                tracing::warn!(sa = ?self.id, notify = ?n, "CREATE_CHILD_SA refused: no matching PPK");
                self.respond(
                    now,
                    ExchangeType::CREATE_CHILD_SA,
                    vec![notify(n, Vec::new())],
                    ctx,
                );
                return;
            }
            PpkForAnswer::Use(id, key) => Some((id, key)),
            PpkForAnswer::Without => None,
        };
        match self.answer_cc_request(payloads, ctx) {
            Ok((mut cc, mut out)) => {
                if let Some((id, key)) = ppk {
                    out.push(ppk_identity(&id));
                    cc.ppk = Some((id, key));
                }
                if !cc.remaining.is_empty() {
                    out.push(notify(NotifyType::ADDITIONAL_KEY_EXCHANGE, cc.link.clone()));
                }
                if self
                    .respond(now, ExchangeType::CREATE_CHILD_SA, out, ctx)
                    .is_none()
                {
                    return;
                }
                if cc.kind == CcKind::RekeyIke
                    && let Some(super::tasks::Active::CreateChild(ours)) = &self.active
                    && ours.kind == CcKind::RekeyIke
                {
                    // RFC 7296 §2.8.2: a simultaneous rekey, answered; resolved by the nonces
                    // (`ike_collision.rs`).
                    let theirs = cc.lowest_nonce();
                    let ours = (!ours.nr.is_empty()).then(|| ours.lowest_nonce());
                    self.ike_collision_started(theirs, ours);
                }
                // RFC 7296 §2.8.1: our own rekey of this SA may complete before the peer's
                // (its IKE_FOLLOWUP_KE still to come), or after the peer deleted the old SA;
                // note its nonces now, so that the collision is still resolved by the lowest.
                if let Some(old) = cc.child.as_ref().and_then(|c| c.replaces)
                    && let Some(super::tasks::Active::CreateChild(ours)) = self.active.as_mut()
                    && matches!(ours.kind, CcKind::RekeyChild { old_inbound, .. } if old_inbound == old)
                {
                    ours.peer_collision = Some(cc.lowest_nonce());
                }
                if cc.remaining.is_empty() {
                    self.complete_cc(now, cc, ctx);
                } else {
                    self.followup = Some(Box::new(cc));
                }
            }
            Err((n, data)) => {
                self.respond(
                    now,
                    ExchangeType::CREATE_CHILD_SA,
                    vec![notify(n, data)],
                    ctx,
                );
            }
        }
    }

    fn answer_cc_request(
        &mut self,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) -> Result<(CcExchange, Vec<Payload>), (NotifyType, Vec<u8>)> {
        let fail = |n: NotifyType| (n, Vec::new());
        let ni = nonce(payloads)
            .ok_or_else(|| fail(NotifyType::INVALID_SYNTAX))?
            .to_vec();
        let nr = random_bytes(ctx.provider, NONCE_LEN)
            .ok_or_else(|| fail(NotifyType::TEMPORARY_FAILURE))?;
        let is_ike = payloads.iter().any(|p| matches!(p, Payload::Sa(v) if v.first().is_some_and(|x| x.protocol == ProtocolId::IKE)));
        let (kind, suite, our_spi, peer_spi, child, mut out) = if is_ike {
            let crossing = self.ike_rekey_in_flight();
            if self.rekeyed || self.ike_collision.is_some() || (self.active.is_some() && !crossing)
            {
                // RFC 7296 §2.25.2: replaced already (the peer did not notice our rekey, §2.8.2)
                // or busy with another exchange of ours; the peer retries after a random delay.
                return Err(fail(NotifyType::TEMPORARY_FAILURE));
            }
            let offered = payloads
                .iter()
                .find_map(|p| {
                    if let Payload::Sa(v) = p {
                        Some(v)
                    } else {
                        None
                    }
                })
                .ok_or_else(|| fail(NotifyType::INVALID_SYNTAX))?;
            let (number, suite, peer_spi) = offered
                .iter()
                .filter(|o| o.spi.len() == 8)
                .find_map(|o| {
                    self.conn
                        .ike_proposals
                        .iter()
                        .find_map(|s| s.select(o, true))
                        .map(|n| (o.number, n, o.spi.clone()))
                })
                .ok_or_else(|| fail(NotifyType::NO_PROPOSAL_CHOSEN))?;
            let spi =
                random_bytes(ctx.provider, 8).ok_or_else(|| fail(NotifyType::TEMPORARY_FAILURE))?;
            let out = vec![Payload::Sa(vec![suite.to_wire(
                number,
                ProtocolId::IKE,
                spi.clone(),
            )])];
            (CcKind::RekeyIke, suite, spi, peer_spi, None, out)
        } else {
            if self.ike_rekey_busy() {
                // RFC 7296 §2.25.2: no Child SA work while the IKE SA is being rekeyed; the
                // peer retries on the new IKE SA.
                return Err(fail(NotifyType::TEMPORARY_FAILURE));
            }
            let rekey = find_notify(payloads, NotifyType::REKEY_SA)
                .filter(|n| n.protocol == ProtocolId::ESP);
            let old = match rekey {
                Some(n) => {
                    let spi: [u8; 4] = n
                        .spi
                        .as_slice()
                        .try_into()
                        .map_err(|_| fail(NotifyType::INVALID_SYNTAX))?;
                    // The SPI in REKEY_SA is the sender's inbound SPI: our outbound one.
                    let out_spi = u32::from_be_bytes(spi);
                    let c = self
                        .children
                        .iter()
                        .find(|c| c.outbound_spi == out_spi)
                        .ok_or((NotifyType::CHILD_SA_NOT_FOUND, Vec::new()))?;
                    if self.is_deleting_child(c.inbound_spi) {
                        // RFC 7296 §2.25.1: a Child SA we are closing (our rekey of it won, or
                        // it expired) is not rekeyed; our DELETE reaches the peer next.
                        return Err(fail(NotifyType::TEMPORARY_FAILURE));
                    }
                    Some((c.config, c.inbound_spi))
                }
                None => None,
            };
            let (mut params, out) = self
                .select_child(payloads, old.map(|o| o.0), true, ctx)
                .map_err(fail)?;
            params.replaces = old.map(|o| o.1);
            let kind = match old {
                Some((config, old_inbound)) => CcKind::RekeyChild {
                    config,
                    old_inbound,
                },
                None => CcKind::NewChild {
                    config: params.config,
                },
            };
            let suite = params.suite.clone();
            let our = params.inbound_spi.to_be_bytes().to_vec();
            let peer = params.outbound_spi.to_be_bytes().to_vec();
            (kind, suite, our, peer, Some(params), out)
        };
        let mut front = vec![out.remove(0), Payload::Nonce(nr.clone())];
        let first_secret = match (suite.ke[0], ke_payload(payloads)) {
            (Some(g), Some(kep)) if kep.group == g => {
                let kex = ke_group(g)
                    .and_then(|x| ctx.provider.key_exchange(x))
                    .ok_or_else(|| fail(NotifyType::NO_PROPOSAL_CHOSEN))?;
                let (data, shared) = kex
                    .respond(&kep.data)
                    .map_err(|_| fail(NotifyType::INVALID_SYNTAX))?;
                front.push(Payload::Ke(KeyExchangePayload { group: g, data }));
                Some(shared)
            }
            (Some(g), _) => {
                return Err((NotifyType::INVALID_KE_PAYLOAD, g.0.to_be_bytes().to_vec()));
            }
            (None, _) => None,
        };
        front.append(&mut out);
        let remaining = suite.additional_kes();
        let link = if remaining.is_empty() {
            Vec::new()
        } else {
            random_bytes(ctx.provider, 8).ok_or_else(|| fail(NotifyType::TEMPORARY_FAILURE))?
        };
        let cc = CcExchange {
            kind,
            we_initiated: false,
            our_spi,
            peer_spi,
            ni,
            nr,
            ke: None,
            suite: Some(suite),
            child,
            first_secret,
            additional: Vec::new(),
            remaining,
            link,
            ppk: None,
            ppk_refused: false,
            peer_collision: None,
        };
        Ok((cc, front))
    }

    /// Responder: an IKE_FOLLOWUP_KE request.
    pub(super) fn handle_followup_request(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        ctx: &mut Ctx<'_>,
    ) {
        let link =
            find_notify(payloads, NotifyType::ADDITIONAL_KEY_EXCHANGE).map(|n| n.data.clone());
        let Some(mut cc) = self
            .followup
            .take()
            .filter(|cc| Some(&cc.link) == link.as_ref())
        else {
            // RFC 9370 §2.2.4: no exchange with that link (lost or never started).
            self.peer_rekey_failed(now, ctx);
            self.respond(
                now,
                ExchangeType::IKE_FOLLOWUP_KE,
                vec![notify(NotifyType::STATE_NOT_FOUND, Vec::new())],
                ctx,
            );
            return;
        };
        let group = cc.remaining.first().copied();
        let answered = ke_payload(payloads)
            .filter(|k| Some(k.group) == group)
            .ok_or(KeError::InvalidLength)
            .and_then(|k| {
                let kex = ke_group(k.group)
                    .and_then(|g| ctx.provider.key_exchange(g))
                    .ok_or(KeError::Internal)?;
                kex.respond(&k.data).map(|(d, s)| (k.group, d, s))
            });
        let Ok((group, data, shared)) = answered else {
            self.peer_rekey_failed(now, ctx);
            self.respond(
                now,
                ExchangeType::IKE_FOLLOWUP_KE,
                vec![notify(NotifyType::INVALID_SYNTAX, Vec::new())],
                ctx,
            );
            return;
        };
        cc.additional.push(shared);
        cc.remaining.remove(0);
        let mut out = vec![Payload::Ke(KeyExchangePayload { group, data })];
        if !cc.remaining.is_empty() {
            let Some(link) = random_bytes(ctx.provider, 8) else {
                return;
            };
            cc.link = link;
            out.push(notify(NotifyType::ADDITIONAL_KEY_EXCHANGE, cc.link.clone()));
        }
        if self
            .respond(now, ExchangeType::IKE_FOLLOWUP_KE, out, ctx)
            .is_none()
        {
            return;
        }
        if cc.remaining.is_empty() {
            self.complete_cc(now, *cc, ctx);
        } else {
            self.followup = Some(cc);
        }
    }

    /// Both roles: all key exchanges are done; derive and hand out the new SA.
    fn complete_cc(&mut self, now: Instant, cc: CcExchange, ctx: &mut Ctx<'_>) {
        let additional: Vec<&[u8]> = cc.additional.iter().map(SecretBytes::expose).collect();
        let (ni, nr) = (&cc.ni, &cc.nr);
        let sk_d = match &cc.ppk {
            Some((_, key)) => {
                let derived = self
                    .prf(ctx)
                    .zip(self.keys.as_ref())
                    .and_then(|(prf, keys)| keys.sk_d_with_ppk(prf, key));
                let Some(d) = derived else {
                    tracing::warn!(sa = ?self.id, "SK_d' derivation failed");
                    return;
                };
                Some(d)
            }
            None => None,
        };
        if cc.ppk_refused {
            ctx.stats.child_ppk_failures += 1;
        }
        match cc.kind {
            CcKind::RekeyIke => self.complete_ike_rekey(now, &cc, sk_d.as_ref(), &additional, ctx),
            CcKind::NewChild { .. } | CcKind::RekeyChild { .. } => {
                let Some(params) = cc.child else { return };
                let seed = ChildSeed {
                    we_initiated: cc.we_initiated,
                    ni,
                    nr,
                    ke: cc.first_secret.as_ref().map(SecretBytes::expose),
                    additional: &additional,
                    sk_d: sk_d.as_ref(),
                };
                let replaces = params.replaces;
                let new_inbound = params.inbound_spi;
                match self.install_child(now, params, seed, ctx) {
                    Ok(child) if cc.ppk_refused => {
                        // The peer created it without the PPK we require: delete it again and
                        // retry a rekey later; the old SA stays.
                        drop(child);
                        self.tasks.push_front(super::tasks::Task::DeleteChild {
                            inbound_spi: new_inbound,
                        });
                        let e = Error::AuthenticationFailed("responder did not use the PPK");
                        self.abandon_kind(now, cc.kind, e, ctx);
                    }
                    Ok(child) => {
                        ctx.stats.child_sas_established += 1;
                        ctx.events
                            .push_back(Event::ChildSaEstablished { sa: self.id, child });
                        if let Some(old) = replaces {
                            self.after_child_rekey(
                                old,
                                new_inbound,
                                cc.we_initiated,
                                lowest(ni, nr).to_vec(),
                                cc.peer_collision.clone(),
                            );
                        }
                    }
                    Err(e) => {
                        tracing::warn!(sa = ?self.id, error = %e, "Child SA derivation failed")
                    }
                }
            }
        }
    }

    /// RFC 7296 §2.8 and §2.8.1: after a rekey, the initiator of the surviving rekey deletes
    /// the old SA; when both rekeyed at once, the SA created with the lowest nonce is redundant.
    fn after_child_rekey(
        &mut self,
        old: u32,
        new_inbound: u32,
        we_initiated: bool,
        our_lowest: Vec<u8>,
        collision: Option<Vec<u8>>,
    ) {
        let Some(entry) = self.children.iter_mut().find(|c| c.inbound_spi == old) else {
            // The peer won a simultaneous rekey and already deleted the old SA: ours is the
            // redundant one.
            if we_initiated
                && collision.is_some_and(|peer_lowest| ours_redundant(&our_lowest, &peer_lowest))
            {
                self.tasks.push_front(super::tasks::Task::DeleteChild {
                    inbound_spi: new_inbound,
                });
            }
            return;
        };
        if !we_initiated {
            entry.rekeyed_by_peer = Some((our_lowest, new_inbound));
            return;
        }
        entry.rekeying = false;
        match entry.rekeyed_by_peer.take().map(|(n, _)| n).or(collision) {
            Some(peer_lowest) if ours_redundant(&our_lowest, &peer_lowest) => {
                // Ours is redundant: close it; the peer closes the old one.
                self.tasks.push_front(super::tasks::Task::DeleteChild {
                    inbound_spi: new_inbound,
                });
            }
            _ => self
                .tasks
                .push_front(super::tasks::Task::DeleteChild { inbound_spi: old }),
        }
    }

    /// The new IKE SA of a rekey: keys from the old SK_d, Child SAs moved over.
    fn complete_ike_rekey(
        &mut self,
        now: Instant,
        cc: &CcExchange,
        sk_d: Option<&SecretBytes>,
        additional: &[&[u8]],
        ctx: &mut Ctx<'_>,
    ) {
        let build = || -> Option<Self> {
            let suite = cc.suite.clone()?;
            let old_prf = self.prf(ctx)?;
            let new_prf = ctx.provider.prf(suite.prf_algorithm()?)?;
            let lengths = key_lengths(&suite, new_prf.output_len(), ctx)?;
            let (spi_i, spi_r) = if cc.we_initiated {
                (&cc.our_spi, &cc.peer_spi)
            } else {
                (&cc.peer_spi, &cc.our_spi)
            };
            let spi_i = u64::from_be_bytes(spi_i.as_slice().try_into().ok()?);
            let spi_r = u64::from_be_bytes(spi_r.as_slice().try_into().ok()?);
            let ke = cc.first_secret.as_ref()?;
            let keys = self.keys.as_ref()?.rekeyed(
                old_prf,
                new_prf,
                lengths,
                sk_d,
                ke.expose(),
                additional,
                &cc.ni,
                &cc.nr,
                spi_i,
                spi_r,
            )?;
            let mut sa = Self::blank(
                self.conn.clone(),
                cc.we_initiated,
                spi_i,
                spi_r,
                self.local,
                self.remote,
            );
            sa.suite = Some(suite);
            sa.install_keys(keys, ctx)?;
            sa.peer = self.peer;
            sa.nat_local = self.nat_local;
            sa.nat_peer = self.nat_peer;
            sa.keepalive_at = self.keepalive_at;
            sa.origin = self.origin;
            sa.ppk_used = self.ppk_used || sk_d.is_some();
            sa.state = super::State::Established;
            sa.arm_timers(now, ctx);
            Some(sa)
        };
        let Some(mut new) = build() else {
            tracing::warn!(sa = ?self.id, "IKE SA rekey derivation failed");
            return;
        };
        new.export_keys(ctx);
        new.forget_handshake_state();
        if cc.ppk_refused {
            // The peer rekeyed without the PPK we require and already moved its Child SAs to
            // the new IKE SA: close it (fail closed).
            tracing::warn!(sa = ?new.id, "IKE SA rekeyed without the required PPK: closing it");
            new.queue(now, super::tasks::Task::DeleteIke, ctx);
        }
        if self.ike_collision.is_some() {
            return self.collided_rekey_done(now, cc.we_initiated, new, ctx);
        }
        // RFC 7296 §2.18: the initiator of the rekey deletes the old IKE SA.
        self.adopt_rekeyed(new, cc.we_initiated, ctx);
    }

    /// Initiator: give up this exchange (the IKE SA stays); retry a rekey later, after a random
    /// delay so that two peers refusing each other's simultaneous rekeys do not collide again.
    fn abandon_cc(&mut self, now: Instant, cc: &CcExchange, e: Error, ctx: &mut Ctx<'_>) {
        self.abandon_kind(now, cc.kind, e, ctx);
    }

    fn abandon_kind(&mut self, now: Instant, kind: CcKind, e: Error, ctx: &mut Ctx<'_>) {
        tracing::warn!(sa = ?self.id, ?kind, error = %e, "CREATE_CHILD_SA failed");
        let retry = retry_at(now, ctx);
        match kind {
            CcKind::RekeyChild { old_inbound, .. } => {
                if let Some(c) = self
                    .children
                    .iter_mut()
                    .find(|c| c.inbound_spi == old_inbound)
                {
                    c.rekeying = false;
                    c.rekey_at = Some(retry);
                }
            }
            CcKind::RekeyIke if self.ike_collision.is_some() => self.give_way(now, ctx),
            CcKind::RekeyIke => self.ike_rekey_at = Some(retry),
            CcKind::NewChild { .. } => {}
        }
    }
}

/// When a failed, refused or deferred rekey is tried again.
fn retry_at(now: Instant, ctx: &Ctx<'_>) -> Instant {
    let delay = RETRY_MIN + super::children::random_below(ctx.provider, RETRY_JITTER);
    now.checked_add(delay).unwrap_or(now)
}

/// A failed or refused rekey is retried after `RETRY_MIN` plus up to `RETRY_JITTER`.
const RETRY_MIN: std::time::Duration = std::time::Duration::from_secs(2);
const RETRY_JITTER: std::time::Duration = std::time::Duration::from_secs(10);
