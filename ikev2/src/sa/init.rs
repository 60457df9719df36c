//! IKE_SA_INIT (RFC 7296 §1.2) for both roles, with COOKIE (§2.6), INVALID_KE_PAYLOAD (§1.2),
//! NAT detection (§2.23) and the capability notifies of RFC 7383, RFC 9242 and RFC 8784.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ipsec_crypto::{ActiveKeyExchange, KeError, SecretBytes};

use super::nat::nat_hash;
use super::{
    Ctx, IkeSa, NONCE_LEN, PeerCaps, State, find_notify, first_error_notify, notify, random_bytes,
    unsupported_critical,
};
use crate::config::ConnectionConfig;
use crate::endpoint::Transmit;
use crate::error::Error;
use crate::keys::{IkeKeys, KeyLengths};
use crate::proposal::{Negotiated, ke_group};
use crate::wire::{
    ExchangeType, Flags, Header, IKE_VERSION, IkeSpi, KeId, KeyExchangePayload, Message, MessageId,
    NotifyType, Payload, PayloadType, ProtocolId,
};

/// Most INVALID_KE_PAYLOAD round trips an initiator follows.
const MAX_KE_RETRIES: u8 = 2;

/// Why the responder did not create an SA for an IKE_SA_INIT request.
pub(crate) enum InitReject {
    /// Answer with this unprotected notify and keep no state.
    Notify(NotifyType, Vec<u8>),
    /// Drop silently (malformed, or not for us).
    Drop,
}

/// A parsed IKE_SA_INIT request with what the responder needs to answer it.
#[derive(Clone, Copy)]
pub(crate) struct RespondInit<'a> {
    pub(crate) msg: &'a Message,
    pub(crate) datagram: &'a [u8],
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) spi_r: u64,
}

impl IkeSa {
    /// Creates an initiator SA and queues its IKE_SA_INIT request.
    pub(crate) fn initiate(
        now: Instant,
        conn: Arc<ConnectionConfig>,
        spi_i: u64,
        local: SocketAddr,
        remote: SocketAddr,
        ctx: &mut Ctx<'_>,
    ) -> Result<Self, Error> {
        let mut sa = Self::blank(conn, true, spi_i, 0, local, remote);
        let group = sa
            .conn
            .ike_proposals
            .first()
            .and_then(|p| p.first_ke())
            .ok_or(Error::Internal("no key exchange configured"))?;
        sa.ni = random_bytes(ctx.provider, NONCE_LEN).ok_or(Error::Internal("rng"))?;
        sa.start_init(now, group, None, 0, ctx)?;
        sa.request_initiator_ppk(now, ctx);
        Ok(sa)
    }

    fn start_init(
        &mut self,
        now: Instant,
        group: KeId,
        cookie: Option<Vec<u8>>,
        ke_retries: u8,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let kex = ke_group(group)
            .and_then(|g| ctx.provider.key_exchange(g))
            .ok_or(Error::Internal("key exchange not in provider"))?;
        let ke = kex
            .start()
            .map_err(|_| Error::Internal("key generation failed"))?;
        let mut payloads = Vec::new();
        if let Some(c) = &cookie {
            payloads.push(notify(NotifyType::COOKIE, c.clone()));
        }
        let proposals = self
            .conn
            .ike_proposals
            .iter()
            .enumerate()
            .map(|(i, p)| p.to_wire(i as u8 + 1, ProtocolId::IKE, Vec::new()))
            .collect();
        payloads.push(Payload::Sa(proposals));
        payloads.push(Payload::Ke(KeyExchangePayload {
            group,
            data: ke.public().to_vec(),
        }));
        payloads.push(Payload::Nonce(self.ni.clone()));
        payloads.push(notify(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            source_hash(self.conn.force_encap, self.spi_i, 0, self.local, ctx),
        ));
        payloads.push(notify(
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            nat_hash(self.spi_i, 0, self.remote),
        ));
        if self.conn.fragment_size.is_some() {
            payloads.push(notify(
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                Vec::new(),
            ));
        }
        if self.conn.wants_intermediate() {
            payloads.push(notify(
                NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED,
                Vec::new(),
            ));
        }
        if self.conn.wants_ppk_int() {
            payloads.push(notify(NotifyType::USE_PPK_INT, Vec::new()));
        }
        if self.conn.ppk.is_some() {
            // Also for RFC 9867: peers without it fall back to RFC 8784.
            payloads.push(notify(NotifyType::USE_PPK, Vec::new()));
        }
        payloads.extend(super::auth::init_auth_payloads(&self.conn, false));
        let header = self.header(ExchangeType::IKE_SA_INIT, false, 0);
        let msg = Message { header, payloads };
        self.msg1 = msg.emit();
        self.next_message_id = 0;
        self.queue_request(now, ExchangeType::IKE_SA_INIT, vec![self.msg1.clone()], ctx);
        self.state = State::InitSent {
            ke,
            cookie,
            ke_retries,
        };
        Ok(())
    }

    /// Initiator: the IKE_SA_INIT response.
    pub(super) fn handle_init_response(
        &mut self,
        now: Instant,
        datagram: &[u8],
        ctx: &mut Ctx<'_>,
    ) {
        let Ok(msg) = Message::parse(datagram) else {
            ctx.stats.dropped_malformed += 1;
            return;
        };
        // Unauthenticated: only the state that sent IKE_SA_INIT may act on it; any other
        // state stays exactly as it was.
        let state = std::mem::replace(&mut self.state, State::Dead);
        let State::InitSent {
            ke,
            cookie,
            ke_retries,
        } = state
        else {
            self.state = state;
            ctx.stats.dropped_unexpected += 1;
            return;
        };
        let p = &msg.payloads;
        if let Some(c) = find_notify(p, NotifyType::COOKIE) {
            // RFC 7296 §2.6: repeat the request with the cookie first. Only once per request.
            if cookie.is_some() {
                self.fail(Error::PeerError(NotifyType::COOKIE), ctx);
                return;
            }
            let group = ke.group();
            let Some(id) = self.first_id_for(group) else {
                return self.fail(Error::Internal("group"), ctx);
            };
            if let Err(e) = self.start_init(now, id, Some(c.data.clone()), ke_retries, ctx) {
                self.fail(e, ctx);
            }
            return;
        }
        if let Some(n) = find_notify(p, NotifyType::INVALID_KE_PAYLOAD) {
            let wanted = n
                .data
                .get(..2)
                .map(|b| KeId(u16::from_be_bytes([b[0], b[1]])));
            let acceptable =
                wanted.filter(|w| self.conn.ike_proposals.iter().any(|s| s.accepts_ke(*w)));
            match acceptable {
                Some(w) if ke_retries < MAX_KE_RETRIES => {
                    if let Err(e) = self.start_init(now, w, cookie, ke_retries + 1, ctx) {
                        self.fail(e, ctx);
                    }
                }
                _ => self.fail(Error::PeerError(NotifyType::INVALID_KE_PAYLOAD), ctx),
            }
            return;
        }
        if let Some(e) = first_error_notify(p) {
            return self.fail(Error::PeerError(e), ctx);
        }
        if let Err(e) = self.accept_init_response(&msg, datagram, ke, ctx) {
            return self.fail(e, ctx);
        }
        self.pending = None;
        self.float_to_nat_t();
        self.next_step_after_keys(now, ctx);
    }

    fn first_id_for(&self, group: ipsec_crypto::KeGroup) -> Option<KeId> {
        self.conn
            .ike_proposals
            .iter()
            .flat_map(|p| p.ke[0].iter())
            .copied()
            .find(|k| ke_group(*k) == Some(group))
    }

    fn accept_init_response(
        &mut self,
        msg: &Message,
        datagram: &[u8],
        ke: Box<dyn ActiveKeyExchange>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let p = &msg.payloads;
        let syntax = Error::InvalidSyntax;
        let [answer] = sa_payload(p).ok_or_else(|| syntax("IKE_SA_INIT response without SA"))?
        else {
            return Err(syntax("responder must choose exactly one proposal"));
        };
        let suite = Negotiated::from_response(&self.conn.ike_proposals, answer, true)
            .ok_or_else(|| syntax("responder chose a proposal we did not offer"))?;
        let kep = ke_payload(p).ok_or_else(|| syntax("IKE_SA_INIT response without KE"))?;
        if Some(kep.group) != suite.ke[0] || ke_group(kep.group) != Some(ke.group()) {
            return Err(syntax("KE group does not match the chosen proposal"));
        }
        self.nr = nonce(p)
            .ok_or_else(|| syntax("bad or missing nonce"))?
            .to_vec();
        self.spi_r = msg.header.spi_r.0;
        if self.spi_r == 0 {
            return Err(syntax("responder SPI is zero"));
        }
        self.peer = caps(p);
        self.peer.use_ppk_int &= self.conn.wants_ppk_int() && self.peer.intermediate;
        self.peer.use_ppk &= !self.peer.use_ppk_int;
        if !suite.additional_kes().is_empty() && !self.peer.intermediate {
            return Err(syntax(
                "additional key exchanges without INTERMEDIATE_EXCHANGE_SUPPORTED",
            ));
        }
        (self.nat_local, self.nat_peer) =
            nat_detected(p, self.spi_i, self.spi_r, self.local, self.remote);
        self.nat_local |= self.conn.force_encap;
        let shared = ke
            .complete(&kep.data)
            .map_err(|e| ke_error(e, "responder KE"))?;
        self.msg2 = datagram.to_vec();
        self.derive_initial(suite, &shared, ctx)
    }

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
            return Err(InitReject::Notify(
                NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD,
                vec![t.0],
            ));
        }
        let (Some(offered), Some(kep), Some(ni)) = (sa_payload(p), ke_payload(p), nonce(p)) else {
            return Err(InitReject::Notify(NotifyType::INVALID_SYNTAX, Vec::new()));
        };
        // The first connection with a matching proposal answers; IKE_AUTH checks identities.
        let chosen = conns
            .iter()
            .filter(|c| c.remote_addrs.is_empty() || c.remote_addrs.contains(&req.remote.ip()))
            .find_map(|c| {
                offered.iter().find_map(|o| {
                    c.ike_proposals
                        .iter()
                        .find_map(|s| s.select(o, true))
                        .map(|n| (c, o.number, n))
                })
            });
        let Some((conn, number, suite)) = chosen else {
            return Err(InitReject::Notify(
                NotifyType::NO_PROPOSAL_CHOSEN,
                Vec::new(),
            ));
        };
        let Some(group) = suite.ke[0] else {
            return Err(InitReject::Drop);
        };
        if kep.group != group {
            return Err(InitReject::Notify(
                NotifyType::INVALID_KE_PAYLOAD,
                group.0.to_be_bytes().to_vec(),
            ));
        }
        let Some(kex) = ke_group(group).and_then(|g| ctx.provider.key_exchange(g)) else {
            return Err(InitReject::Drop);
        };
        let (ker, shared) = match kex.respond(&kep.data) {
            Ok(v) => v,
            Err(KeError::Internal) => return Err(InitReject::Drop),
            Err(_) => return Err(InitReject::Notify(NotifyType::INVALID_SYNTAX, Vec::new())),
        };
        let spi_i = req.msg.header.spi_i.0;
        let mut sa = Self::blank(conn.clone(), false, spi_i, req.spi_r, req.local, req.remote);
        let peer = caps(p);
        let use_ppk_int = peer.use_ppk_int && peer.intermediate && conn.wants_ppk_int();
        sa.peer = PeerCaps {
            fragmentation: peer.fragmentation && conn.fragment_size.is_some(),
            intermediate: peer.intermediate,
            use_ppk: peer.use_ppk && conn.ppk.is_some() && !use_ppk_int,
            use_ppk_int,
        };
        sa.ni = ni.to_vec();
        sa.nr = random_bytes(ctx.provider, NONCE_LEN).ok_or(InitReject::Drop)?;
        (sa.nat_local, sa.nat_peer) = nat_detected(p, spi_i, 0, req.local, req.remote);
        sa.nat_local |= conn.force_encap;
        sa.msg1 = req.datagram.to_vec();
        let mut out = vec![
            Payload::Sa(vec![suite.to_wire(number, ProtocolId::IKE, Vec::new())]),
            Payload::Ke(KeyExchangePayload { group, data: ker }),
            Payload::Nonce(sa.nr.clone()),
            notify(
                NotifyType::NAT_DETECTION_SOURCE_IP,
                source_hash(conn.force_encap, spi_i, req.spi_r, req.local, ctx),
            ),
            notify(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                nat_hash(spi_i, req.spi_r, req.remote),
            ),
        ];
        if sa.peer.fragmentation {
            out.push(notify(
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                Vec::new(),
            ));
        }
        if peer.intermediate && (!suite.additional_kes().is_empty() || use_ppk_int) {
            out.push(notify(
                NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED,
                Vec::new(),
            ));
        } else if !suite.additional_kes().is_empty() {
            return Err(InitReject::Notify(
                NotifyType::NO_PROPOSAL_CHOSEN,
                Vec::new(),
            ));
        }
        if use_ppk_int {
            out.push(notify(NotifyType::USE_PPK_INT, Vec::new()));
        } else if sa.peer.use_ppk {
            out.push(notify(NotifyType::USE_PPK, Vec::new()));
        }
        out.extend(super::auth::init_auth_payloads(conn, true));
        let header = sa.header(ExchangeType::IKE_SA_INIT, true, 0);
        sa.msg2 = Message {
            header,
            payloads: out,
        }
        .emit();
        if sa.derive_initial(suite, &shared, ctx).is_err() {
            return Err(InitReject::Drop);
        }
        sa.current_request = req.datagram.to_vec();
        sa.cache_and_send_response(vec![sa.msg2.clone()], ctx);
        sa.half_open_deadline = Some(now + ctx.config.half_open_timeout);
        sa.counted_half_open = true;
        sa.state = if sa.intermediate_total() > 0 {
            State::AwaitIntermediate { index: 0 }
        } else {
            State::AwaitAuth
        };
        Ok(sa)
    }

    /// SKEYSEED and the first key generation (RFC 7296 §2.14).
    fn derive_initial(
        &mut self,
        suite: Negotiated,
        shared: &SecretBytes,
        ctx: &Ctx<'_>,
    ) -> Result<(), Error> {
        let internal = Error::Internal;
        let prf = ctx
            .provider
            .prf(suite.prf_algorithm().ok_or_else(|| internal("prf"))?)
            .ok_or_else(|| internal("prf not in provider"))?;
        let lengths = key_lengths(&suite, prf.output_len(), ctx)
            .ok_or_else(|| internal("cipher not in provider"))?;
        let keys = IkeKeys::initial(
            prf, lengths, shared, &self.ni, &self.nr, self.spi_i, self.spi_r,
        )
        .ok_or_else(|| internal("key derivation"))?;
        self.suite = Some(suite);
        self.install_keys(keys, ctx)
            .ok_or_else(|| internal("cipher setup"))
    }

    /// After IKE_SA_INIT or an IKE_INTERMEDIATE: the next IKE_INTERMEDIATE, or IKE_AUTH.
    pub(super) fn next_step_after_keys(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let adds = self
            .suite
            .as_ref()
            .map(|s| s.additional_kes())
            .unwrap_or_default();
        let done = usize::from(self.intermediate_count);
        if done < self.intermediate_total() {
            self.send_intermediate(now, done, adds.get(done).copied(), ctx);
        } else {
            self.send_auth(now, ctx);
        }
    }

    /// IKE_INTERMEDIATE exchanges of the initial handshake: one per additional key exchange,
    /// and at least one when the RFC 9867 PPK is mixed in.
    pub(super) fn intermediate_total(&self) -> usize {
        let adds = self.suite.as_ref().map_or(0, |s| s.additional_kes().len());
        adds.max(usize::from(self.peer.use_ppk_int))
    }
}

/// Sends an unprotected notify response to an IKE_SA_INIT request (no state kept).
pub(crate) fn reject_init(
    req: &Header,
    local: SocketAddr,
    remote: SocketAddr,
    t: NotifyType,
    data: Vec<u8>,
    ctx: &mut Ctx<'_>,
) {
    let header = Header {
        spi_i: req.spi_i,
        spi_r: IkeSpi(0),
        next_payload: PayloadType::NONE,
        version: IKE_VERSION,
        exchange: ExchangeType::IKE_SA_INIT,
        flags: Flags::new(false, true),
        message_id: MessageId(0),
        length: 0,
    };
    let data = Message {
        header,
        payloads: vec![notify(t, data)],
    }
    .emit();
    ctx.transmits.push_back(Transmit {
        local,
        remote,
        data,
    });
}

pub(crate) fn key_lengths(suite: &Negotiated, prf_len: usize, ctx: &Ctx<'_>) -> Option<KeyLengths> {
    if let Some(a) = suite.aead() {
        return Some(KeyLengths {
            prf: prf_len,
            integ: 0,
            encr: ctx.provider.aead(a)?.keymat_len(),
        });
    }
    let (c, i) = suite.cbc()?;
    Some(KeyLengths {
        prf: prf_len,
        integ: ctx.provider.integ(i)?.key_len(),
        encr: ctx.provider.cbc(c)?.key_len(),
    })
}

pub(crate) fn ke_error(e: KeError, what: &'static str) -> Error {
    match e {
        KeError::Internal => Error::Internal(what),
        _ => Error::InvalidSyntax(what),
    }
}

pub(super) fn sa_payload(p: &[Payload]) -> Option<&[crate::wire::Proposal]> {
    p.iter().find_map(|x| match x {
        Payload::Sa(v) => Some(v.as_slice()),
        _ => None,
    })
}

pub(crate) fn ke_payload(p: &[Payload]) -> Option<&KeyExchangePayload> {
    p.iter().find_map(|x| match x {
        Payload::Ke(k) => Some(k),
        _ => None,
    })
}

/// RFC 7296 §3.9: nonces are 16 to 256 octets.
pub(crate) fn nonce(p: &[Payload]) -> Option<&[u8]> {
    p.iter().find_map(|x| match x {
        Payload::Nonce(n) if (16..=256).contains(&n.len()) => Some(n.as_slice()),
        _ => None,
    })
}

fn caps(p: &[Payload]) -> PeerCaps {
    PeerCaps {
        fragmentation: find_notify(p, NotifyType::IKEV2_FRAGMENTATION_SUPPORTED).is_some(),
        intermediate: find_notify(p, NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED).is_some(),
        use_ppk: find_notify(p, NotifyType::USE_PPK).is_some(),
        use_ppk_int: find_notify(p, NotifyType::USE_PPK_INT).is_some(),
    }
}

/// RFC 7296 §2.23: `(we are behind a NAT, the peer is behind a NAT)` from the peer's hashes:
/// its DESTINATION hash is of our address as it saw it, its SOURCE hash of its own address.
fn nat_detected(
    p: &[Payload],
    spi_i: u64,
    spi_r: u64,
    local: SocketAddr,
    remote: SocketAddr,
) -> (bool, bool) {
    let dst = find_notify(p, NotifyType::NAT_DETECTION_DESTINATION_IP);
    let sources: Vec<_> = p
        .iter()
        .filter_map(|x| match x {
            Payload::Notify(n) if n.notify_type == NotifyType::NAT_DETECTION_SOURCE_IP => {
                Some(&n.data)
            }
            _ => None,
        })
        .collect();
    match dst {
        Some(d) if !sources.is_empty() => {
            let ours = nat_hash(spi_i, spi_r, local);
            let theirs = nat_hash(spi_i, spi_r, remote);
            (d.data != ours, !sources.iter().any(|s| **s == theirs))
        }
        _ => (false, false),
    }
}

/// Our NAT_DETECTION_SOURCE_IP: the real hash, or a random one to force UDP encapsulation.
fn source_hash(force: bool, spi_i: u64, spi_r: u64, local: SocketAddr, ctx: &Ctx<'_>) -> Vec<u8> {
    if force && let Some(r) = random_bytes(ctx.provider, 20) {
        return r;
    }
    nat_hash(spi_i, spi_r, local)
}
