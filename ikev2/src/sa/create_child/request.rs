//! Initiator: the CREATE_CHILD_SA request for each kind, and the response that agrees on it.
//!
//! ```text
//! HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr], [N(PPK_IDENTITY_KEY)]}  -->
//!                            <--  HDR, SK {SA, Nr, [KEr], [TSi, TSr], [N(PPK_IDENTITY)],
//!                                          [N(ADDITIONAL_KEY_EXCHANGE)]}
//! ```

use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, SecretBytes};

use super::{Agreed, Agreement, CcKind, KeProgress, Nonces, Side};
use crate::error::Error;
use crate::proposal::{Negotiated, ke_group};
use crate::sa::child::{ChildPayloads, Selectors, child_offer, new_spi, wire_selectors};
use crate::sa::init::{ke_error, ke_payload, nonce};
use crate::sa::new_child::RequestId;
use crate::sa::ppk_child::{PpkForRequest, ppk_accepted};
use crate::sa::tasks::Active;
use crate::sa::{Ctx, IkeSa, NONCE_LEN, find_notify, first_error_notify, notify, random_bytes};
use crate::wire::{
    EspSpi, ExchangeType, IkeSpi, KeId, KeyExchangePayload, Notify, NotifyType, Payload, ProtocolId,
};

/// Initiator: our CREATE_CHILD_SA request is out.
pub(crate) struct RequestSent {
    offer: Offer,
    ni: Vec<u8>,
    /// The key exchange of the KE payload, if the proposal has one.
    ke: Option<Box<dyn ActiveKeyExchange>>,
    /// The RFC 9867 PPK offered: its ID and key.
    ppk: Option<(Vec<u8>, SecretBytes)>,
    /// A Child SA rekey: the lowest nonce of the peer's rekey of the same SA, noted when we
    /// answered it (RFC 7296 §2.8.1).
    pub(super) peer_collision: Option<Vec<u8>>,
}

/// What we offered, with our SPI for the new SA.
enum Offer {
    Child {
        config: usize,
        replaces: Option<EspSpi>,
        inbound_spi: EspSpi,
        /// The new Child SA request this serves.
        request: Option<RequestId>,
        /// Our TSi and TSr: the answer must lie within them.
        offered: Selectors,
    },
    Ike {
        spi_i: IkeSpi,
    },
}

impl RequestSent {
    pub(crate) fn kind(&self) -> CcKind {
        match self.offer {
            Offer::Child {
                config,
                replaces: Some(old_inbound),
                ..
            } => CcKind::RekeyChild {
                config,
                old_inbound,
            },
            Offer::Child { request, .. } => CcKind::NewChild { request },
            Offer::Ike { .. } => CcKind::RekeyIke,
        }
    }
}

impl IkeSa {
    /// Initiator: sends the CREATE_CHILD_SA request for `kind`, once its PPK is there.
    pub(crate) fn start_create_child(
        &mut self,
        now: Instant,
        kind: CcKind,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        self.create_child_with_ppk(now, kind, false, ctx)
    }

    /// Initiator: the driver answered (or timed out) for the PPK this exchange waits for.
    pub(crate) fn resume_create_child(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(Active::AwaitPpk(kind)) = self.active else {
            return;
        };
        self.active = None;
        if let Err(e) = self.create_child_with_ppk(now, kind, true, ctx) {
            tracing::warn!(sa = %self.id, ?kind, error = %e, "could not start exchange");
            self.abandon_kind(now, kind, e, ctx);
        }
    }

    fn create_child_with_ppk(
        &mut self,
        now: Instant,
        kind: CcKind,
        resumed: bool,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        if !self.still_due(now, kind, ctx) {
            if resumed {
                // The PPK fetched for it is not kept for another exchange.
                self.ppk_state = crate::sa::ppk::PpkState::Idle;
            }
            return Ok(());
        }
        let ppk = match self.ppk_for_request(now, kind, resumed, ctx) {
            PpkForRequest::Wait => {
                self.active = Some(Active::AwaitPpk(kind));
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

    fn send_create_child(
        &mut self,
        now: Instant,
        kind: CcKind,
        ppk: Option<(Vec<u8>, SecretBytes)>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let ni = random_bytes(ctx.provider, NONCE_LEN).ok_or(Error::Internal("rng"))?;
        let (offer, sa, ts, group) = self.offer(kind, ctx)?;
        let mut payloads = Vec::new();
        if let CcKind::RekeyChild { old_inbound, .. } = kind {
            payloads.push(rekey_sa(old_inbound));
        }
        payloads.extend([sa, Payload::Nonce(ni.clone())]);
        let ke = match group {
            Some(g) => {
                let (ke, payload) = start_ke(g, ctx)?;
                payloads.push(payload);
                Some(ke)
            }
            None => None,
        };
        payloads.extend(ts);
        payloads.extend(self.request_notifies(kind));
        if let Some((id, key)) = &ppk {
            let n = self.child_ppk_identity_key(id, key, &ni, ctx);
            payloads.push(n.ok_or(Error::Internal("prf"))?);
        }
        self.send_request(now, ExchangeType::CREATE_CHILD_SA, &payloads, ctx)
            .ok_or(Error::Internal("send"))?;
        let sent = RequestSent {
            offer,
            ni,
            ke,
            ppk,
            peer_collision: None,
        };
        self.active = Some(Active::CreateChild(Box::new(sent)));
        Ok(())
    }

    /// What we offer for `kind`: the SA payload, the TSi and TSr (Child SAs) and the key
    /// exchange method of the KE payload, if any.
    #[allow(clippy::type_complexity)]
    fn offer(
        &self,
        kind: CcKind,
        ctx: &mut Ctx<'_>,
    ) -> Result<(Offer, Payload, Vec<Payload>, Option<KeId>), Error> {
        if kind == CcKind::RekeyIke {
            return self.ike_offer(ctx);
        }
        let (config, replaces, request, offered) = self.child_to_offer(kind)?;
        let child = self
            .conn
            .children
            .get(config)
            .ok_or(Error::Internal("child config"))?;
        let inbound_spi = new_spi(ctx).ok_or(Error::Internal("rng"))?;
        let ChildPayloads { sa, .. } = child_offer(child, inbound_spi, true);
        let ts = vec![
            Payload::TsI(wire_selectors(&offered.local)),
            Payload::TsR(wire_selectors(&offered.remote)),
        ];
        let group = child.esp_proposals.first().and_then(|p| p.first_ke());
        let offer = Offer::Child {
            config,
            replaces,
            inbound_spi,
            request,
            offered,
        };
        Ok((offer, sa, ts, group))
    }

    /// The SA payload of an IKE SA rekey, with our new SPI.
    #[allow(clippy::type_complexity)]
    fn ike_offer(
        &self,
        ctx: &mut Ctx<'_>,
    ) -> Result<(Offer, Payload, Vec<Payload>, Option<KeId>), Error> {
        let spi = random_bytes(ctx.provider, 8).ok_or(Error::Internal("rng"))?;
        let proposals = (self.conn.ike_proposals.iter().enumerate())
            .map(|(i, p)| p.to_wire(i as u8 + 1, ProtocolId::IKE, spi.clone()))
            .collect();
        let group = self.conn.ike_proposals.first().and_then(|p| p.first_ke());
        let spi_i = IkeSpi::from_slice(&spi).ok_or(Error::Internal("rng"))?;
        Ok((
            Offer::Ike { spi_i },
            Payload::Sa(proposals),
            Vec::new(),
            group,
        ))
    }

    /// The template, rekeyed SA, request and selectors of a Child SA exchange: a new Child SA
    /// offers its request's selectors; a rekey those of the SA it replaces (RFC 7296 §2.9.2:
    /// the new SA should not differ from the old one).
    fn child_to_offer(
        &self,
        kind: CcKind,
    ) -> Result<(usize, Option<EspSpi>, Option<RequestId>, Selectors), Error> {
        let missing = Error::Internal("child gone");
        match kind {
            CcKind::NewChild { request: Some(id) } => {
                let p = self.pending_child(id).ok_or(missing)?;
                let ts = Selectors {
                    local: p.local_ts.clone(),
                    remote: p.remote_ts.clone(),
                };
                Ok((p.config, None, Some(id), ts))
            }
            CcKind::RekeyChild {
                config,
                old_inbound,
            } => {
                let c = (self.children.iter())
                    .find(|c| c.inbound_spi == old_inbound)
                    .ok_or(missing)?;
                let ts = Selectors {
                    local: c.local_ts.clone(),
                    remote: c.remote_ts.clone(),
                };
                Ok((config, Some(old_inbound), None, ts))
            }
            CcKind::NewChild { request: None } | CcKind::RekeyIke => Err(missing),
        }
    }

    /// The private-use status notifies of a new Child SA request.
    fn request_notifies(&self, kind: CcKind) -> Vec<Payload> {
        let CcKind::NewChild { request: Some(id) } = kind else {
            return Vec::new();
        };
        let Some(p) = self.pending_child(id) else {
            return Vec::new();
        };
        (p.notifies.iter())
            .map(|n| notify(NotifyType(n.notify_type), n.data.clone()))
            .collect()
    }

    /// Initiator: the CREATE_CHILD_SA response.
    pub(crate) fn handle_create_child_response(
        &mut self,
        now: Instant,
        payloads: &[Payload],
        sent: RequestSent,
        ctx: &mut Ctx<'_>,
    ) {
        let kind = sent.kind();
        let cc = match self.accept_cc_response(payloads, sent) {
            Ok(cc) => cc,
            Err(e) => return self.abandon_kind(now, kind, e, ctx),
        };
        if kind == CcKind::RekeyIke
            && !self.collision_our_nonces(now, cc.lowest_nonce(), !cc.kes.is_done(), ctx)
        {
            return;
        }
        self.continue_cc_initiator(now, cc, ctx);
    }

    /// Checks the response against our request: the agreed SA, its nonce and key exchange.
    fn accept_cc_response(
        &self,
        payloads: &[Payload],
        sent: RequestSent,
    ) -> Result<Agreement, Error> {
        if let Some(n) = first_error_notify(payloads) {
            if sent.ppk.is_some() && n != NotifyType::TEMPORARY_FAILURE {
                tracing::warn!(sa = %self.id, notify = ?n, "peer refused CREATE_CHILD_SA with our PPK");
            }
            return Err(Error::PeerError(n));
        }
        let (ppk, ppk_refused) = self.ppk_taken(payloads, sent.kind(), sent.ppk);
        let nr = nonce(payloads)
            .ok_or(Error::InvalidSyntax(
                "CREATE_CHILD_SA response without nonce",
            ))?
            .to_vec();
        let agreed = match sent.offer {
            Offer::Ike { spi_i } => self.accept_ike_answer(payloads, spi_i)?,
            Offer::Child {
                config,
                replaces,
                inbound_spi,
                request,
                offered,
            } => {
                let mut params =
                    self.accept_child_answer(config, inbound_spi, &offered, true, payloads)?;
                params.replaces = replaces;
                params.request = request;
                params.tag = request.and_then(|id| self.pending_child(id)?.tag);
                Agreed::Child(params)
            }
        };
        let first = complete_first_ke(sent.ke, agreed.suite(), payloads)?;
        let kes = responder_kes(first, agreed.suite(), payloads)?;
        let side = Side::Initiator {
            ppk_refused,
            peer_collision: sent.peer_collision,
        };
        let nonces = Nonces { ni: sent.ni, nr };
        Ok(Agreement {
            side,
            nonces,
            agreed,
            kes,
            ppk,
        })
    }

    /// The PPK of the exchange if the responder took ours, and whether it refused one we
    /// require.
    fn ppk_taken(
        &self,
        payloads: &[Payload],
        kind: CcKind,
        offered: Option<(Vec<u8>, SecretBytes)>,
    ) -> (Option<SecretBytes>, bool) {
        match offered {
            Some((id, key)) if ppk_accepted(payloads, &id) => (Some(key), false),
            Some(_) => {
                tracing::warn!(sa = %self.id, ?kind, "responder did not use the PPK");
                (None, self.ppk_required())
            }
            None => (None, false),
        }
    }

    /// The responder's choice for our IKE SA rekey and its SPI.
    fn accept_ike_answer(&self, payloads: &[Payload], spi_i: IkeSpi) -> Result<Agreed, Error> {
        let answer = payloads
            .iter()
            .find_map(|p| match p {
                Payload::Sa(v) => v.first(),
                _ => None,
            })
            .ok_or(Error::InvalidSyntax("no SA"))?;
        let spi_r = IkeSpi::from_slice(&answer.spi)
            .ok_or(Error::InvalidSyntax("IKE rekey SPI must be 8 octets"))?;
        let suite = Negotiated::from_response(&self.conn.ike_proposals, answer, true)
            .ok_or(Error::InvalidSyntax("unexpected IKE proposal"))?;
        Ok(Agreed::Ike {
            suite,
            spi_i,
            spi_r,
        })
    }
}

/// The key exchanges the response agrees on, with the link to the first IKE_FOLLOWUP_KE.
fn responder_kes(
    first: Option<SecretBytes>,
    suite: &Negotiated,
    payloads: &[Payload],
) -> Result<KeProgress, Error> {
    let mut kes = KeProgress::new(first, suite, Vec::new());
    if !kes.is_done() {
        kes.link = find_notify(payloads, NotifyType::ADDITIONAL_KEY_EXCHANGE)
            .map(|n| n.data.clone())
            .ok_or(Error::InvalidSyntax("ADDITIONAL_KEY_EXCHANGE missing"))?;
    }
    Ok(kes)
}

/// `N(REKEY_SA)` naming the Child SA by our inbound SPI (RFC 7296 §1.3.3).
fn rekey_sa(old_inbound: EspSpi) -> Payload {
    Payload::Notify(Notify {
        protocol: ProtocolId::ESP,
        spi: old_inbound.to_be_bytes().to_vec(),
        notify_type: NotifyType::REKEY_SA,
        data: Vec::new(),
    })
}

/// A key exchange of method `group` and its KE payload.
pub(super) fn start_ke(
    group: KeId,
    ctx: &Ctx<'_>,
) -> Result<(Box<dyn ActiveKeyExchange>, Payload), Error> {
    let kex = ke_group(group)
        .and_then(|x| ctx.provider.key_exchange(x))
        .ok_or(Error::Internal("key exchange not in provider"))?;
    let ke = kex.start().map_err(|_| Error::Internal("key generation"))?;
    let payload = Payload::Ke(KeyExchangePayload {
        group,
        data: ke.public().to_vec(),
    });
    Ok((ke, payload))
}

/// The shared secret of the response's KE payload, which must match the chosen proposal.
fn complete_first_ke(
    ke: Option<Box<dyn ActiveKeyExchange>>,
    suite: &Negotiated,
    payloads: &[Payload],
) -> Result<Option<SecretBytes>, Error> {
    match (ke, suite.ke[0], ke_payload(payloads)) {
        (Some(ke), Some(g), Some(kep)) if kep.group == g && ke_group(g) == Some(ke.group()) => ke
            .complete(&kep.data)
            .map(Some)
            .map_err(|e| ke_error(e, "CREATE_CHILD_SA KE")),
        (_, None, None) => Ok(None),
        _ => Err(Error::InvalidSyntax(
            "KE payload does not match the chosen proposal",
        )),
    }
}
