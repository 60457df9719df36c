//! IKE_SA_INIT as responder (RFC 7296 §1.2): the connection, proposal and key exchange for a
//! request, and the half-open SA that answers it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ipsec_crypto::{KeError, SecretBytes};

use super::init::{caps, ke_payload, nat_detected, nonce, sa_payload, source_hash};
use super::nat::nat_hash;
use super::state::{AuthWait, Handshake, State, Step};
use super::{Ctx, IkeSa, NONCE_LEN, PeerCaps, notify, random_bytes, unsupported_critical};
use crate::config::ConnectionConfig;
use crate::proposal::{Negotiated, ke_group};
use crate::wire::{
    ExchangeType, IkeSpi, KeyExchangePayload, Message, MessageId, NotifyType, Payload, Proposal,
    ProtocolId,
};

/// Why the responder did not create an SA for an IKE_SA_INIT request.
pub(crate) enum InitReject {
    /// Answer with this unprotected notify and keep no state.
    Notify(NotifyType, Vec<u8>),
    /// Drop silently (malformed, or not for us).
    Drop,
}

impl From<NotifyType> for InitReject {
    fn from(t: NotifyType) -> Self {
        Self::Notify(t, Vec::new())
    }
}

/// A parsed IKE_SA_INIT request with what the responder needs to answer it.
#[derive(Clone, Copy)]
pub(crate) struct RespondInit<'a> {
    pub(crate) msg: &'a Message,
    pub(crate) datagram: &'a [u8],
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) spi_r: IkeSpi,
}

/// The connection and proposal chosen for a request.
struct Chosen<'c> {
    conn: &'c Arc<ConnectionConfig>,
    /// The number of the initiator's proposal we took.
    number: u8,
    suite: Negotiated,
}

impl IkeSa {
    /// Responder: answers an IKE_SA_INIT request, creating the SA; or says how to reject it
    /// (counted and reported, `reject.rs`).
    pub(crate) fn respond_init(
        now: Instant,
        conns: &[Arc<ConnectionConfig>],
        req: RespondInit<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Self, InitReject> {
        let answer = Self::answer_init(now, conns, req, ctx);
        if let Err(InitReject::Notify(t, _)) = &answer {
            super::reject::init_rejected(*t, conns, &req, ctx);
        }
        answer
    }

    fn answer_init(
        now: Instant,
        conns: &[Arc<ConnectionConfig>],
        req: RespondInit<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Self, InitReject> {
        let p = &req.msg.payloads;
        if let Some(t) = unsupported_critical(p) {
            let data = vec![t.0];
            return Err(InitReject::Notify(
                NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD,
                data,
            ));
        }
        let (Some(offered), Some(kep), Some(ni)) = (sa_payload(p), ke_payload(p), nonce(p)) else {
            return Err(NotifyType::INVALID_SYNTAX.into());
        };
        let chosen = choose(conns, offered, req.remote).ok_or(NotifyType::NO_PROPOSAL_CHOSEN)?;
        let (ke, shared) = respond_ke(&chosen.suite, kep, ctx)?;
        let conn = chosen.conn.clone();
        let spi_i = req.msg.header.spi_i;
        let mut sa = Self::blank(conn, false, spi_i, req.spi_r, req.local, req.remote);
        sa.peer = responder_caps(p, chosen.conn);
        let mut hs = Box::new(Handshake::new(ni.to_vec()));
        hs.nr = random_bytes(ctx.provider, NONCE_LEN).ok_or(InitReject::Drop)?;
        (sa.nat_local, sa.nat_peer) = nat_detected(p, spi_i, IkeSpi(0), req.local, req.remote);
        sa.nat_local |= chosen.conn.force_encap;
        hs.msg1 = req.datagram.to_vec();
        let out = sa.init_response_payloads(&chosen, ke, &hs.nr, ctx)?;
        let header = sa.header(ExchangeType::IKE_SA_INIT, true, MessageId(0));
        hs.msg2 = Message {
            header,
            payloads: out,
        }
        .emit();
        if sa.derive_initial(chosen.suite, &shared, &hs, ctx).is_err() {
            return Err(InitReject::Drop);
        }
        sa.answering(req.datagram);
        sa.cache_and_send_response(vec![hs.msg2.clone()], ctx);
        sa.await_after_init(now, hs, ctx);
        Ok(sa)
    }

    /// Responder: half-open until IKE_AUTH completes; the next request is IKE_INTERMEDIATE or
    /// IKE_AUTH.
    fn await_after_init(&mut self, now: Instant, mut hs: Box<Handshake>, ctx: &Ctx<'_>) {
        hs.half_open_deadline = Some(now + ctx.config.half_open_timeout);
        self.counted_half_open = true;
        let step = if self.intermediate_total() > 0 {
            Step::AwaitIntermediate {
                index: 0,
                parked: None,
            }
        } else {
            Step::AwaitAuth(AuthWait::Request)
        };
        self.state = State::Handshake(hs, step);
    }

    /// SA, KE, Nr, the NAT detection hashes and the capabilities we share with the initiator.
    fn init_response_payloads(
        &self,
        chosen: &Chosen<'_>,
        ke: KeyExchangePayload,
        nr: &[u8],
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Payload>, InitReject> {
        let (spi_i, spi_r) = (self.spi_i, self.spi_r);
        let source = source_hash(chosen.conn.force_encap, spi_i, spi_r, self.local, ctx);
        let sa = chosen
            .suite
            .to_wire(chosen.number, ProtocolId::IKE, Vec::new());
        let mut out = vec![
            Payload::Sa(vec![sa]),
            Payload::Ke(ke),
            Payload::Nonce(nr.to_vec()),
            notify(NotifyType::NAT_DETECTION_SOURCE_IP, source),
            notify(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                nat_hash(spi_i, spi_r, self.remote),
            ),
        ];
        let flag = |t| notify(t, Vec::new());
        if self.peer.fragmentation {
            out.push(flag(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED));
        }
        let adds = !chosen.suite.additional_kes().is_empty();
        if self.peer.intermediate && (adds || self.peer.use_ppk_int) {
            out.push(flag(NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED));
        } else if adds {
            return Err(NotifyType::NO_PROPOSAL_CHOSEN.into());
        }
        if self.peer.use_ppk_int {
            out.push(flag(NotifyType::USE_PPK_INT));
        } else if self.peer.use_ppk {
            out.push(flag(NotifyType::USE_PPK));
        }
        out.extend(super::credentials::init_auth_payloads(&self.conn, true));
        Ok(out)
    }
}

/// The first connection with a proposal matching the offer answers; IKE_AUTH checks identities.
fn choose<'c>(
    conns: &'c [Arc<ConnectionConfig>],
    offered: &[Proposal],
    remote: SocketAddr,
) -> Option<Chosen<'c>> {
    conns
        .iter()
        .filter(|c| c.remote_addrs.is_empty() || c.remote_addrs.contains(&remote.ip()))
        .find_map(|conn| {
            offered.iter().find_map(|o| {
                let suite = conn.ike_proposals.iter().find_map(|s| s.select(o, true))?;
                Some(Chosen {
                    conn,
                    number: o.number,
                    suite,
                })
            })
        })
}

/// Our KE payload for the initiator's and the shared secret.
fn respond_ke(
    suite: &Negotiated,
    kep: &KeyExchangePayload,
    ctx: &Ctx<'_>,
) -> Result<(KeyExchangePayload, SecretBytes), InitReject> {
    let Some(group) = suite.ke[0] else {
        return Err(InitReject::Drop);
    };
    if kep.group != group {
        let data = group.0.to_be_bytes().to_vec();
        return Err(InitReject::Notify(NotifyType::INVALID_KE_PAYLOAD, data));
    }
    let Some(kex) = ke_group(group).and_then(|g| ctx.provider.key_exchange(g)) else {
        return Err(InitReject::Drop);
    };
    match kex.respond(&kep.data) {
        Ok((data, shared)) => Ok((KeyExchangePayload { group, data }, shared)),
        Err(KeError::Internal) => Err(InitReject::Drop),
        Err(_) => Err(NotifyType::INVALID_SYNTAX.into()),
    }
}

/// What we use of the initiator's capabilities, as far as the connection allows.
fn responder_caps(p: &[Payload], conn: &ConnectionConfig) -> PeerCaps {
    let peer = caps(p);
    let use_ppk_int = peer.use_ppk_int && peer.intermediate && conn.wants_ppk_int();
    PeerCaps {
        fragmentation: peer.fragmentation && conn.fragment_size.is_some(),
        intermediate: peer.intermediate,
        use_ppk: peer.use_ppk && conn.ppk.is_some() && !use_ppk_int,
        use_ppk_int,
    }
}
